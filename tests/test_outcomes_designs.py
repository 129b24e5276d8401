"""Comparison-group designs, matching, multilevel models and attrition against R.

References (tests/reference/outcomes/, each with its generating script): R lm + sandwich::vcovCL
+ lmtest; MatchIt 4.5.1 summary(); lme4 lmer + performance::icc; R prop.test / fisher.test / t.test.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from psychanalytics import outcomes

REF = Path(__file__).parent / "reference" / "outcomes"
COLUMNS = ("estimate", "se", "statistic", "p", "low", "high")


def _load(name: str) -> dict:
    return json.loads((REF / name).read_text(encoding="utf-8"))


COMPARISON = _load("comparison_r.json")
STUDENTS = pd.DataFrame(COMPARISON["students"])
SCORES = pd.DataFrame(COMPARISON["scores"])
WAVES = {"pre_wave": "2024-autumn", "post_wave": "2025-spring"}


def _assert_rows(table: pd.DataFrame, rows: list[dict], names: dict[str, str]) -> None:
    by_term = table.set_index("term")
    for row in rows:
        ours = by_term.loc[names.get(row["term"], row["term"])]
        for column in COLUMNS:
            assert ours[column] == pytest.approx(row[column], rel=1e-9, abs=1e-12), (row["term"], column)


# --- ANCOVA, difference-in-differences, dose ----------------------------------------------


def test_ancova_with_school_clusters_matches_r_sandwich():
    res = outcomes.ancova(STUDENTS, covariates=("gender",))
    _assert_rows(res.table, COMPARISON["ancova_cluster"], {"(Intercept)": "const", "genderm": "gender[m]"})
    assert (res.kind, res.n, res.n_clusters, res.cluster) == ("ancova", 192, 12, "school")
    assert res.value == res.table.set_index("term").loc["treated", "estimate"]
    assert res.counts["arm"].tolist() == ["comparison", "treatment"]


def test_ancova_without_clusters_matches_r_lm():
    res = outcomes.ancova(STUDENTS, cluster=None)
    _assert_rows(res.table, COMPARISON["ancova_ols"], {})
    assert res.n_clusters is None


def test_difference_in_differences_matches_r_sandwich():
    res = outcomes.difference_in_differences(SCORES, **WAVES)
    _assert_rows(res.table, COMPARISON["did_cluster"], {})
    assert (res.kind, res.n, res.n_clusters) == ("did", 379, 12)
    counts = res.counts.set_index(["arm", "wave"])["n"]
    assert counts.sum() == 379 and counts.loc[("treatment", "2024-autumn")] == 96


def test_difference_in_differences_is_the_difference_in_mean_change_on_a_balanced_panel():
    complete = SCORES[SCORES.groupby("pid")["wave"].transform("size") == 2]
    wide = complete.pivot(index="pid", columns="wave", values="score")
    change = (
        (wide["2025-spring"] - wide["2024-autumn"]).groupby(complete.groupby("pid")["arm"].first()).mean()
    )
    res = outcomes.difference_in_differences(complete, **WAVES)
    assert res.value == pytest.approx(change["treatment"] - change["comparison"], abs=1e-12)


@pytest.mark.parametrize(("cluster", "rows"), [(None, "dose_ols"), ("school", "dose_cluster")])
def test_dose_response_matches_r(cluster, rows):
    res = outcomes.dose_response(pd.DataFrame(COMPARISON["dose_students"]), cluster=cluster)
    _assert_rows(res.table, COMPARISON[rows], {})
    assert res.kind == "dose"
    assert res.counts["n"].sum() == res.n == 96


def test_difference_in_differences_refuses_what_it_cannot_use():
    with pytest.raises(ValueError, match=r"waves \['2025-autumn'\] are neither pre_wave"):
        outcomes.difference_in_differences(
            pd.concat([SCORES, SCORES.head(1).assign(wave="2025-autumn")]), **WAVES
        )
    with pytest.raises(ValueError, match=r"1 student-wave\(s\) repeat, first \(1, '2024-autumn'\)"):
        outcomes.difference_in_differences(pd.concat([SCORES, SCORES.head(1)]), **WAVES)
    moved = SCORES.copy()
    moved.loc[(moved["pid"] == 2) & (moved["wave"] == "2025-spring"), "school"] = "S12"
    with pytest.raises(ValueError, match=r"'school' differs between the waves of student\(s\) \[2\]"):
        outcomes.difference_in_differences(moved, **WAVES)
    with pytest.raises(ValueError, match=r"need rows of both"):
        outcomes.difference_in_differences(SCORES[SCORES["wave"] == "2024-autumn"], **WAVES)


def test_comparison_designs_refuse_missing_values_one_cluster_and_a_third_arm():
    gap = STUDENTS.copy()
    gap.loc[[4, 9], "post"] = np.nan
    with pytest.raises(ValueError, match=r"ancova: column 'post' has 2 missing value\(s\) \(rows 4, 9\)"):
        outcomes.ancova(gap)
    with pytest.raises(ValueError, match=r"at least 2 values of 'school', got 1; pass cluster=None"):
        outcomes.ancova(STUDENTS[STUDENTS["school"] == "S01"])
    with pytest.raises(ValueError, match=r"need exactly two arms"):
        outcomes.ancova(
            STUDENTS.assign(arm=np.resize(["treatment", "comparison", "waitlist"], len(STUDENTS)))
        )
    with pytest.raises(
        ValueError, match=r"no row has arm 'intervention' \(arms present: \['comparison', 'treatment'\]\)"
    ):
        outcomes.ancova(STUDENTS, treatment="intervention")
    with pytest.raises(ValueError, match=r"column\(s\) \['grade'\] not in the frame"):
        outcomes.ancova(STUDENTS, covariates=("grade",))
    with pytest.raises(ValueError, match=r"linearly dependent"):
        outcomes.ancova(STUDENTS.assign(copy=STUDENTS["pre"]), covariates=("copy",))


# --- matching and balance --------------------------------------------------------------------

MATCHING = _load("matching_r.json")
CANDIDATES = pd.DataFrame(MATCHING["students"])


def test_balance_matches_matchit_standardised_mean_differences():
    ours = outcomes.balance(CANDIDATES, continuous=("pre",), categorical=("school", "grade", "gender"))
    rows = {row["row"]: row for row in MATCHING["balance"]}
    for record in ours.itertuples():
        name = "pre" if record.level is None else f"`factor({record.covariate})`{record.level}"
        expected = rows[name]
        assert record.smd == pytest.approx(expected["smd"], rel=1e-12)
        assert record.mean_treatment == pytest.approx(expected["mean_treatment"], rel=1e-12)
        assert record.mean_comparison == pytest.approx(expected["mean_comparison"], rel=1e-12)
    assert len(ours) == len(rows) - 1  # MatchIt adds its "distance" row


def _pairs(result: outcomes.MatchResult) -> dict:
    matched = result.matched
    return {
        tuple(group.loc[group["arm"] == arm, "pid"].item() for arm in ("treatment", "comparison"))
        for _, group in matched.groupby("pair")
    }


@pytest.fixture
def candidates() -> pd.DataFrame:
    return CANDIDATES.assign(pid=[f"p{i:03d}" for i in range(len(CANDIDATES))])


def test_match_comparison_pairs_within_cells_and_caliper_without_replacement(candidates):
    res = outcomes.match_comparison(candidates, caliper=0.5)
    matched = res.matched
    assert res.caliper == pytest.approx(0.5 * np.sqrt((candidates.groupby("arm")["pre"].var()).mean()))
    for _, pair in matched.groupby("pair"):
        assert pair["arm"].tolist() == ["treatment", "comparison"]
        assert pair[["school", "grade", "gender"]].nunique().max() == 1
        assert abs(pair["pre"].diff().iloc[-1]) <= res.caliper
    assert matched["pid"].is_unique
    treated = set(candidates.loc[candidates["arm"] == "treatment", "pid"])
    assert set(matched.loc[matched["arm"] == "treatment", "pid"]) | set(res.unmatched["pid"]) == treated
    exact_rows = res.balance[res.balance["covariate"] != "pre"]
    assert (exact_rows["smd_after"] == 0).all()
    assert res.balance["smd_before"].abs().max() > 0.2
    before = outcomes.balance(candidates)
    np.testing.assert_allclose(res.balance["smd_before"], before["smd"], rtol=1e-12)


def test_match_comparison_is_optimal_within_a_cell_and_independent_of_row_order():
    cell = pd.DataFrame(
        {
            "pid": ["t1", "t2", "t3", "c1", "c2", "c3", "c4"],
            "arm": ["treatment"] * 3 + ["comparison"] * 4,
            "pre": [10.0, 11.0, 14.0, 10.5, 12.0, 9.0, 14.5],
            "school": "A",
            "grade": 8,
            "gender": "f",
        }
    )
    res = outcomes.match_comparison(cell, caliper=None)
    total = sum(
        abs(cell.set_index("pid").loc[t, "pre"] - cell.set_index("pid").loc[c, "pre"]) for t, c in _pairs(res)
    )
    scores = cell.set_index("pid")["pre"]
    best = min(
        sum(abs(scores[t] - scores[c]) for t, c in zip(["t1", "t2", "t3"], chosen, strict=True))
        for chosen in itertools.permutations(["c1", "c2", "c3", "c4"], 3)
    )
    assert total == pytest.approx(best)
    shuffled = outcomes.match_comparison(cell.sample(frac=1, random_state=5), caliper=None)
    assert _pairs(shuffled) == _pairs(res)


def test_match_comparison_says_why_a_participant_is_unmatched():
    cell = pd.DataFrame(
        {
            "pid": ["t1", "t2", "t3", "t4", "c1", "c2"],
            "arm": ["treatment"] * 4 + ["comparison"] * 2,
            "pre": [10.0, 10.2, 25.0, 12.0, 10.1, 12.0],
            "school": ["A", "A", "A", "B", "A", "A"],
            "grade": 8,
            "gender": "f",
        }
    )
    res = outcomes.match_comparison(cell, caliper=0.1)  # 0.1 pooled SD: about half a point here
    reasons = dict(zip(res.unmatched["pid"], res.unmatched["reason"], strict=True))
    assert _pairs(res) == {("t1", "c1")} or _pairs(res) == {("t2", "c1")}
    assert reasons["t4"].startswith("no comparison student in the same exact-matching cell")
    assert reasons["t3"] == "no comparison student within the caliper"
    assert "matched to other participants" in reasons[({"t1", "t2"} - {p for p, _ in _pairs(res)}).pop()]
    with pytest.raises(ValueError, match=r"none of the 1 participants has a comparison student"):
        outcomes.match_comparison(cell[cell["pid"].isin(["t4", "c1"])])
    with pytest.raises(ValueError, match=r"caliper must be positive or None"):
        outcomes.match_comparison(cell, caliper=0)


# --- multilevel ----------------------------------------------------------------------------------

MIXED = _load("mixed_lme4.json")
CLASSES = pd.DataFrame(MIXED["students"])


@pytest.mark.parametrize("model", MIXED["models"], ids=lambda m: f"{m['formula']} reml={m['reml']}")
def test_mixed_model_matches_lme4(model):
    levels = ("school", "class") if "school:class" in model["formula"] else ("school",)
    res = outcomes.mixed_model(
        CLASSES, outcome="post", fixed=("pre", "arm"), levels=levels, reml=model["reml"]
    )
    names = {"(Intercept)": "const", "armtreatment": "arm[treatment]"}
    fixed = res.fixed.set_index("term")
    for row in model["fixed"]:
        ours = fixed.loc[names.get(row["term"], row["term"])]
        assert ours["estimate"] == pytest.approx(row["estimate"], rel=1e-5)
        # statsmodels' SEs come from the inverse Hessian of all parameters, lme4's from (X'V^-1 X)^-1:
        # 0.2% apart here for the intercept and pre, equal for the arm
        assert ours["se"] == pytest.approx(row["se"], rel=5e-3)
    lme4_names = {"school": "school", "school:class": "class", "Residual": "residual"}
    variance = res.variance.set_index("level")["variance"]
    for row in model["variance"]:
        assert variance[lme4_names[row["group"]]] == pytest.approx(row["variance"], rel=1e-4)
    for row in model["icc"]:
        assert res.icc[lme4_names[row["group"]]] == pytest.approx(row["icc"], abs=1e-5)
    assert res.loglike == pytest.approx(model["loglike"], abs=1e-6)
    assert res.groups == ({"school": 15, "class": 60} if len(levels) == 2 else {"school": 15})
    assert res.n == 600 and res.notes == ()


def test_mixed_model_nests_classes_in_schools_whatever_their_labels():
    numbered = outcomes.mixed_model(CLASSES, outcome="post", fixed=("pre",), levels=("school", "class"))
    unique = CLASSES.assign(**{"class": CLASSES["school"] + "-" + CLASSES["class"].astype(str)})
    relabelled = outcomes.mixed_model(unique, outcome="post", fixed=("pre",), levels=("school", "class"))
    np.testing.assert_allclose(numbered.variance["variance"], relabelled.variance["variance"], rtol=1e-8)


def test_mixed_model_refuses_missing_values_naming_them():
    gap = CLASSES.copy()
    gap.loc[[3, 7, 11], "pre"] = np.nan
    with pytest.raises(
        ValueError, match=r"mixed_model: column 'pre' has 3 missing value\(s\) \(rows 3, 7, 11\)"
    ):
        outcomes.mixed_model(gap, outcome="post", fixed=("pre",))


def test_mixed_model_non_convergence_is_one_error_not_a_warning_flood():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(outcomes.ConvergenceError, match=r"did not converge: 600 rows in \{'school': 15"):
            outcomes.mixed_model(
                CLASSES, outcome="post", fixed=("pre", "arm"), levels=("school", "class"), maxiter=1
            )
    assert caught == []


# --- attrition ----------------------------------------------------------------------------------------

ATTRITION = _load("attrition_r.json")


def test_attrition_matches_r_wilson_fisher_and_welch():
    participants = pd.DataFrame(ATTRITION["participants"])
    res = outcomes.attrition(participants)
    table = res.table.set_index("arm")
    baseline = res.baseline.set_index("arm")
    for arm in ATTRITION["arms"]:
        row = table.loc[arm["arm"]]
        assert (row["n"], row["count"], row["without_pre"]) == (arm["n"], arm["count"], arm["without_pre"])
        assert (row["low"], row["high"]) == (
            pytest.approx(arm["low"], rel=1e-9),
            pytest.approx(arm["high"], rel=1e-9),
        )
        assert baseline.loc[arm["arm"], "mean_dropped"] == pytest.approx(arm["mean_dropped"], rel=1e-12)
        assert baseline.loc[arm["arm"], "mean_completed"] == pytest.approx(arm["mean_completed"], rel=1e-12)
        assert baseline.loc[arm["arm"], "p"] == pytest.approx(arm["p_welch"], rel=1e-9)
        assert baseline.loc[arm["arm"], "smd"] > 0  # those who left started with higher (worse) scores
    assert res.p_arms == pytest.approx(ATTRITION["p_fisher"], rel=1e-9)
    assert len(res.dropped) == table["count"].sum() and res.dropped["post"].isna().all()


def test_attrition_keeps_an_arm_whose_students_have_no_pre_score():
    participants = pd.DataFrame(
        {
            "arm": ["treatment"] * 3 + ["waitlist"] * 2,
            "pre": [10, 12, 9, np.nan, np.nan],
            "post": [8, np.nan, 7, 5, 6],
        }
    )
    table = outcomes.attrition(participants).table.set_index("arm")
    assert table.loc["waitlist", ["n", "count", "without_pre"]].tolist() == [0, 0, 2]
    assert np.isnan(table.loc["waitlist", "proportion"])
    assert table.loc["treatment", ["n", "count"]].tolist() == [3, 1]


def test_attrition_refuses_missing_arms():
    participants = pd.DataFrame(ATTRITION["participants"])
    participants.loc[0, "arm"] = None
    with pytest.raises(ValueError, match=r"attrition: column 'arm' has 1 missing value\(s\) \(rows 0\)"):
        outcomes.attrition(participants)


# --- purity ------------------------------------------------------------------------------------------------


def test_outcomes_imports_no_database_or_plotting_code():
    code = (
        "import sys, psychanalytics.outcomes\n"
        "print(sorted(m for m in ('sqlalchemy', 'psychanalytics.store', 'plotly') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
