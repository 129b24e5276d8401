"""The per-intervention report: each cell is the outcome function it names, on that intervention's students.

The functions themselves are checked against R and published values (test_outcomes_change.py,
test_outcomes_designs.py); here the report is checked to apply them to the right students with the right
options (the pre-test wave's alpha and SD, errors clustered by the unit of assignment), to adjust the p values
of its rows as one family, to refuse what it cannot compute, and to write the workbook it shows.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pingouin as pg
import pytest
import sqlalchemy as sa
from statsmodels.stats.multitest import multipletests

from psychanalytics import outcomes, reports, store

ALPHA = outcomes.PretestReliability("phq9", "total", "2024-autumn", 0.87, 0.86, 0.88, 5000, 4.8, 5000)


@pytest.fixture(scope="module")
def demo(demo_read_only) -> sa.Engine:
    return demo_read_only


@pytest.fixture(scope="module")
def participants(demo) -> pd.DataFrame:
    return store.load_participants(demo)


@pytest.fixture(scope="module")
def report(demo_outcomes) -> outcomes.InterventionReport:
    return demo_outcomes


def _row(report, intervention_id: str) -> pd.Series:
    return report.table.set_index("intervention_id").loc[intervention_id]


def _pretest(demo, instrument: str, wave: str) -> outcomes.PretestReliability:
    (found,) = reports.pretest_reliabilities(
        demo, pd.DataFrame({"instrument": [instrument], "scale": ["total"], "pre_wave": [wave]})
    )
    return found


def test_participants_carry_their_class_and_pre_test_wave(participants, demo):
    assert participants["class"].notna().all() and participants["pre_wave"].notna().all()
    curriculum = participants[participants["kind"] == "curriculum"]
    assert curriculum["grade"].between(4, 6).all()
    assert (
        curriculum["class"]
        == curriculum["grade"].astype(str) + "-" + curriculum["class"].str.split("-").str[1]
    ).all()
    waves = store.list_waves(demo).set_index("wave_id")
    first = participants.drop_duplicates("intervention_id")
    assert (first["pre_wave"].map(waves["school_year"]) == first["school_year"]).all()
    assert (first["pre_wave"].map(waves["window_start"]) <= first["start_on"]).all()


def test_pretest_reliability_is_alpha_and_sd_of_the_whole_wave(demo):
    found = _pretest(demo, "phq9", "2023-autumn")
    items = store.load_items(demo, wave_id="2023-autumn", instrument="phq9", valid_only=True)
    alpha, ci = pg.cronbach_alpha(items[[f"q{i}" for i in range(1, 10)]], nan_policy="pairwise")
    assert found.reliability == pytest.approx(alpha, abs=1e-12)
    assert (found.low, found.high) == pytest.approx(tuple(ci), abs=1e-3)  # pingouin rounds its interval
    scores = store.load_scores(demo, wave_id="2023-autumn", instrument="phq9")
    assert found.sd == pytest.approx(scores.loc[scores["valid"].fillna(True).astype(bool), "total"].std())
    assert found.se_measurement == pytest.approx(found.sd * np.sqrt(1 - alpha))
    assert "2023-autumn" in found.basis and f"{found.n:,}" in found.basis and "PHQ-9" in found.basis


def test_a_group_counselling_row_is_the_outcome_functions_on_its_students(report, participants, demo):
    intervention_id = "GC202301"
    row = _row(report, intervention_id)
    group = participants[participants["intervention_id"] == intervention_id]
    done = group.dropna(subset=["pre", "post"])
    treated, compared = (done[done["arm"] == arm] for arm in ("treatment", "comparison"))
    assert (row["n_treatment"], row["n_comparison"], row["unit"]) == (len(treated), len(compared), "student")
    assert row["pre_mean_treatment"] == pytest.approx(treated["pre"].mean())
    assert row["post_mean_comparison"] == pytest.approx(compared["post"].mean())
    fit = outcomes.ancova(done, cluster=None)
    assert (row["difference"], row["difference_low"], row["difference_high"], row["p"]) == pytest.approx(
        (fit.value, fit.low, fit.high, fit.p)
    )
    assert row["errors"] == "OLS"
    sd_pre = np.sqrt(
        ((len(treated) - 1) * treated["pre"].var() + (len(compared) - 1) * compared["pre"].var())
        / (len(done) - 2)
    )
    assert (row["sd_pre"], row["d"], row["d_high"]) == pytest.approx(
        (sd_pre, fit.value / sd_pre, fit.high / sd_pre)
    )
    within = outcomes.effect_size(treated["post"], treated["pre"], paired=True)
    assert (row["d_change"], row["d_change_low"]) == pytest.approx((within.value, within.low))
    assert np.isnan(row["mixed"]) and np.isnan(row["classes_treatment"])
    pretest = _pretest(demo, group["instrument"].iat[0], group["pre_wave"].iat[0])
    change = outcomes.reliable_change(
        done["pre"], done["post"], reliability=pretest.reliability, sd_pre=pretest.sd
    )
    assert row["rci_points"] == pytest.approx(1.96 * change.s_diff)
    categories = change.subjects.assign(arm=done["arm"]).groupby(["arm", "category"], observed=False).size()
    for arm in ("treatment", "comparison"):
        for category in ("improved", "unchanged", "deteriorated"):
            assert row[f"{category}_{arm}"] == categories[(arm, category)]
    lost = outcomes.attrition(group).table.set_index("arm")
    assert row["dropped_treatment"] == lost.loc["treatment", "count"]
    assert row["attrition_comparison"] == pytest.approx(lost.loc["comparison", "proportion"])
    assert row["reliability_basis"] == pretest.basis


def test_a_curriculum_row_clusters_by_class_and_fits_the_mixed_model(report, participants):
    rows = report.table[
        (report.table["kind"] == "curriculum") & (report.table["errors"] != "too few classes")
    ]
    assert len(rows) >= 1
    row = rows.iloc[0]
    done = participants[participants["intervention_id"] == row["intervention_id"]].dropna(
        subset=["pre", "post"]
    )
    fit = outcomes.ancova(done.assign(cluster=done["school"] + ":" + done["class"]), cluster="cluster")
    assert (row["difference_low"], row["difference_high"]) == pytest.approx((fit.low, fit.high))
    assert row["errors"] == f"class ({fit.n_clusters})" and row["unit"] == "class"
    mixed = outcomes.mixed_model(done, outcome="post", fixed=("pre", "arm"), levels=("class",))
    estimate = mixed.fixed.set_index("term").loc["arm[treatment]"]
    assert (row["mixed"], row["mixed_low"], row["icc_class"]) == pytest.approx(
        (estimate["estimate"], estimate["low"], mixed.icc["class"])
    )


def test_one_class_against_one_gives_a_difference_without_interval_and_says_why(report):
    few = report.table[report.table["errors"] == "too few classes"]
    assert len(few) >= 1  # the small district's schools have one or two classes a grade
    assert (
        few["difference"].notna().all() and few[["difference_low", "p", "p_holm", "d_low"]].isna().all().all()
    )
    assert (few[["classes_treatment", "classes_comparison"]].min(axis=1) < 2).all()
    for intervention_id in few["intervention_id"]:
        assert any(note.startswith(f"{intervention_id}: 每组少于 2 个班") for note in report.notes)


def test_holm_and_bh_adjust_the_rows_with_a_p_value_as_one_family(report):
    tested = report.table.dropna(subset=["p"])
    for method, name in (("holm", "p_holm"), ("fdr_bh", "p_bh")):
        expected = multipletests(tested["p"], method=method)[1]
        assert tested[name].to_numpy() == pytest.approx(expected)
    assert f"本表 {len(tested)} 个" in report.notes[2]


def test_a_programme_in_several_schools_is_one_row(demo):
    pooled = reports.intervention_outcomes(demo, kinds=("curriculum",), by=("kind", "title", "school_year"))
    (row,) = pooled.table.to_dict("records")
    assert "intervention_id" not in pooled.table
    per_school = reports.intervention_outcomes(demo, kinds=("curriculum",)).table
    assert row["n_treatment"] == per_school["n_treatment"].sum() and row["n_schools"] == len(per_school)
    assert row["school_name"] == "" and row["unit"] == "class" and row["errors"].startswith("class (")
    assert set(pooled.students.columns) >= {"kind", "title", "school_year", "pid", "rci", "category"}


def test_the_workbook_holds_both_header_rows_the_table_and_the_notes(report, tmp_path):
    path = reports.write_xlsx(report, tmp_path / "outcomes.xlsx")
    book = openpyxl.load_workbook(path)
    sheet, notes = book.worksheets
    rows = list(sheet.values)
    assert rows[0] == tuple(report.labels[c][0] for c in report.table.columns)
    assert rows[1] == tuple(report.labels[c][1] for c in report.table.columns)
    assert len(rows) == 2 + len(report.table)
    for written, (_, expected) in zip(rows[2:], report.table.iterrows(), strict=True):
        for value, (column, want) in zip(written, expected.items(), strict=True):
            if pd.isna(want):
                assert value is None, column
            elif isinstance(want, str):
                assert value == want, column
            else:
                assert value == pytest.approx(float(want)), column
    assert [r[0] for r in notes.values] == list(report.notes)
    assert sheet.cell(3, report.table.columns.get_loc("p_holm") + 1).number_format == "0.000"


def test_labels_are_chinese_first_with_english(report):
    both = report.labelled()
    assert "干预组可靠改善人数 / reliably improved, treatment" in both.columns
    assert report.labelled("zh").columns[0] == "项目编号"
    assert report.labelled("en").columns[0] == "intervention"
    with pytest.raises(ValueError, match="language must be"):
        report.labelled("fr")


def _toy(arm=None, **changes) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    pre = rng.integers(5, 20, 24).astype(float)
    frame = pd.DataFrame(
        {
            "intervention_id": "GC01",
            "title": "情绪调适团体辅导",
            "kind": "group_counselling",
            "school": "S1",
            "school_name": "示例中学",
            "school_year": "2024-2025",
            "instrument": "phq9",
            "scale": "total",
            "pid": [f"p{i}" for i in range(24)],
            "arm": np.repeat(["treatment", "comparison"], 12) if arm is None else arm,
            "pre": pre,
            "post": pre - 2 + rng.normal(0, 3, 24).round(),
            "class": "8-1",
            "pre_wave": "2024-autumn",
        }
    )
    return frame.assign(**changes)


def test_clinical_cutoffs_add_recovered_and_harmed():
    report = outcomes.intervention_report(_toy(), reliability=[ALPHA], cutoffs={("phq9", "total"): 10})
    row = report.table.iloc[0]
    done = _toy()
    change = outcomes.reliable_change(done["pre"], done["post"], reliability=0.87, sd_pre=4.8, cutoff=10)
    treated = change.subjects["category"][done["arm"] == "treatment"].value_counts()
    for category in ("recovered", "improved", "unchanged", "deteriorated", "harmed"):
        assert row[f"{category}_treatment"] == treated[category]


def test_a_group_without_a_comparison_arm_gets_the_within_arm_change_only():
    report = outcomes.intervention_report(_toy(arm="treatment"), reliability=[ALPHA])
    row = report.table.iloc[0]
    assert row["n_comparison"] == 0 and np.isnan(row["difference"]) and not np.isnan(row["d_change"])
    assert any("no comparison arm" in note for note in report.notes)


def test_what_the_report_refuses():
    with pytest.raises(ValueError, match=r"no reliability for phq9/total in pre-test wave '2024-autumn'"):
        outcomes.intervention_report(_toy(), reliability=[])
    with pytest.raises(ValueError, match=r"arm values \['control'\]"):
        outcomes.intervention_report(_toy(arm=np.repeat(["treatment", "control"], 12)), reliability=[ALPHA])
    mixed = pd.concat([_toy(), _toy(intervention_id="GC02", instrument="gad7")])
    with pytest.raises(
        ValueError, match=r"group 'group_counselling' mixes instrument values \['gad7', 'phq9'\]"
    ):
        outcomes.intervention_report(mixed, reliability=[ALPHA], by=("kind",))
    with pytest.raises(ValueError, match=r"column 'school' has 1 missing"):
        outcomes.intervention_report(_toy().assign(school=[None] + ["S1"] * 23), reliability=[ALPHA])
    with pytest.raises(ValueError, match=r"column\(s\) \['pre_wave'\] not in the frame"):
        outcomes.intervention_report(_toy().drop(columns="pre_wave"), reliability=[ALPHA])


def test_a_class_kind_whose_classes_hold_both_arms_is_analysed_by_student():
    toy = _toy(kind="curriculum", **{"class": ["4-1", "4-2"] * 12})
    report = outcomes.intervention_report(toy, reliability=[ALPHA])
    assert report.table.iloc[0]["unit"] == "student"
    assert any("classes hold both arms" in note for note in report.notes)


POOL = json.loads((Path(__file__).parent / "reference" / "outcomes" / "pool_metafor.json").read_text("utf-8"))


@pytest.mark.parametrize("case", POOL["cases"], ids=lambda c: c["name"])
def test_pooled_effects_match_metafor(case):
    yi, vi = np.array(case["yi"]), np.array(case["vi"])
    table = pd.DataFrame({"kind": "group_counselling", "d": yi, "se": np.sqrt(vi) * 4.0, "sd_pre": 4.0})
    (row,) = outcomes.pool_effects(table).to_dict("records")
    assert row["k"] == case["fixed"]["k"] and row["left_out"] == 0
    for name in ("fixed", "random"):
        expected = case[name]
        ours = (row[name], row[f"{name}_se"], row[f"{name}_low"], row[f"{name}_high"])
        assert ours == pytest.approx(
            (expected["estimate"], expected["se"], expected["low"], expected["high"]), abs=1e-10
        )
    random = case["random"]
    assert (row["tau2"], row["i2"], row["q"], row["q_p"]) == pytest.approx(
        (random["tau2"], random["i2"], random["q"], random["q_p"]), abs=1e-10
    )


def test_pooling_leaves_out_rows_without_a_standard_error_and_counts_them(report):
    pooled = outcomes.pool_effects(report.table).set_index("kind")
    counselling = report.table[report.table["kind"] == "group_counselling"]
    assert pooled.loc["group_counselling", "k"] == counselling["se"].notna().sum() == len(counselling)
    curriculum = report.table[report.table["kind"] == "curriculum"]
    assert pooled.loc["curriculum", "left_out"] == curriculum["se"].isna().sum() > 0
    with pytest.raises(ValueError, match="estimate must be one of"):
        outcomes.pool_effects(report.table, estimate="g")
