"""The crisis pathway on hand-made case histories whose answers are worked out by hand (crisis_support)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from crisis_support import AS_OF, EXPECTED_PROBLEMS, events, sessions

from psychanalytics import crisis
from psychanalytics.store import schema


@pytest.fixture(scope="module")
def histories() -> crisis.CaseHistories:
    return crisis.case_histories(events(), as_of=AS_OF, sessions=sessions())


def _by_case(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.set_index("case_id")


# --- conventions -------------------------------------------------------------------------------------


def test_the_conventions_name_exactly_the_stored_codes():
    assert crisis.codes("stages") == crisis.PATHWAY == schema.CRISIS_STAGES
    assert crisis.codes("levels") == schema.CRISIS_LEVELS
    assert crisis.codes("archive_categories") == schema.ARCHIVE_CATEGORIES
    (check,) = [c for c in schema.crisis_case.c.source.constraints if "source" in str(c.sqltext)]
    stored = {code.strip(" '") for code in str(check.sqltext).split("(")[1].rstrip(")").split(",")}
    assert set(crisis.codes("sources")) == stored


def test_warning_scales_label_the_same_severity_in_both_directions():
    first_worst, first_mildest = (
        crisis.warning_scale("first_most_severe"),
        crisis.warning_scale("first_least_severe"),
    )
    assert first_worst.label(3).startswith("一级") and first_mildest.label(3).startswith("三级")
    assert first_worst.label(1).startswith("三级") and first_mildest.label(1).startswith("一级")
    for scale in map(crisis.warning_scale, crisis.warning_scales()):
        assert [scale.level(s).colour_zh for s in (3, 2, 1)] == ["红色", "橙色", "黄色"]
        assert scale.colour(3) == "#f03b20"


def test_the_district_scale_is_a_setting(monkeypatch):
    assert crisis.warning_scale().code == "colours"
    monkeypatch.setenv("PSYCHANALYTICS_WARNING_SCALE", "first_least_severe")
    assert crisis.warning_scale().label(3) == "三级预警（红色）"
    monkeypatch.setenv("PSYCHANALYTICS_WARNING_SCALE", "purple")
    with pytest.raises(KeyError, match="unknown warning scale 'purple'"):
        crisis.warning_scale()


# --- histories and data problems ----------------------------------------------------------------------


def test_every_problem_is_reported_with_its_case_and_stage(histories):
    found = set(histories.problems[["case_id", "crisis_stage", "problem"]].itertuples(index=False, name=None))
    assert found == EXPECTED_PROBLEMS
    assert set(histories.problems["problem"]) <= set(crisis.PROBLEMS)
    detail = _by_case(histories.problems)["detail"]
    assert detail["E"] == "「评估确认」2024-11-09 08:00 早于「发现上报」2024-11-10 08:00"
    assert detail["F"] == "「评估确认」记录了 2 次：2024-12-02 08:00、2024-12-03 08:00"
    assert detail["I"] == "「干预」已记录，但没有「评估确认」"
    assert _by_case(histories.problems)["school"]["J"] == "S2"


def test_nothing_is_dropped_reordered_or_guessed(histories):
    given = events()
    crisis.case_histories(given, as_of=AS_OF)
    pd.testing.assert_frame_equal(given, events())  # input untouched
    cases = _by_case(histories.cases)
    assert sorted(cases.index) == list("ABCDEFGHIJ")
    # times involved in a problem are undetermined, never picked
    assert cases.loc["E", ["raised_at", "confirmed_at"]].isna().all()
    assert cases.loc["E", "intervention_at"] == pd.Timestamp("2024-11-12 08:00")
    assert pd.isna(cases.loc["F", "confirmed_at"]) and cases.loc["F", "reached_confirmed"]
    assert pd.isna(cases.loc["G", "confirmed_at"]) and cases.loc["G", "reached_confirmed"]
    assert pd.isna(cases.loc["H", "raised_at"]) and cases.loc["H", "reached_raised"]
    assert pd.isna(cases.loc["J", "raised_at"])
    assert cases["problems"].to_dict() == {c: int(c in "EFGHIJ") for c in "ABCDEFGHIJ"}
    assert cases.loc["A", "closed_at"] == pd.Timestamp("2024-11-30 08:00")
    assert cases["furthest"].to_dict() == dict(
        zip("ABCDEFGHIJ", ["intervention", "referred", "raised", "confirmed", "intervention", "confirmed",
                           "confirmed", "intervention", "intervention", "raised"], strict=True)
    )  # fmt: skip


def test_follow_ups_are_the_students_sessions_at_the_case_school_while_open(histories):
    cases = _by_case(histories.cases)
    assert cases["sessions"].to_dict() == {c: int(c == "D") for c in "ABCDEFGHIJ"}
    assert cases.loc["D", "last_contact_at"] == pd.Timestamp("2025-01-20")
    assert cases.loc["C", "last_contact_at"] == pd.Timestamp("2024-10-10 08:00")
    assert pd.isna(cases.loc["J", "last_contact_at"])


def test_terms_come_from_the_warning(histories):
    cases = _by_case(histories.cases)
    assert set(cases.loc[list("ABCDEFGHI"), "term"]) == {"2024-2025/1"}
    assert pd.isna(cases.loc["J", "term"])
    terms = crisis.school_term(
        pd.Series(pd.to_datetime(["2025-01-31", "2025-02-01", "2025-08-31", "2025-09-01"]))
    )
    assert terms["term"].tolist() == ["2024-2025/1", "2024-2025/2", "2024-2025/2", "2025-2026/1"]


def test_a_case_with_two_pupils_or_an_unknown_stage_is_bad_input():
    two_pupils = events()
    two_pupils.loc[1, "pid"] = "px"
    with pytest.raises(ValueError, match="case 'A' has more than one value of \\['pid'\\]"):
        crisis.case_histories(two_pupils, as_of=AS_OF)
    unknown = events()
    unknown.loc[3, "crisis_stage"] = "resolved"
    with pytest.raises(ValueError, match="rows \\[3\\] hold \\['resolved'\\]"):
        crisis.case_histories(unknown, as_of=AS_OF)
    with pytest.raises(KeyError, match="occurred_at"):
        crisis.case_histories(events().drop(columns="occurred_at"), as_of=AS_OF)


# --- funnel, open cases, repeats -------------------------------------------------------------------------


def test_funnel_counts_each_stage_out_of_the_stage_before_it(histories):
    table = crisis.funnel(histories.cases).set_index("crisis_stage")
    assert table[["count", "n"]].to_dict("index") == {
        "raised": {"count": 10, "n": 10},
        "confirmed": {"count": 7, "n": 10},
        "intervention": {
            "count": 4,
            "n": 7,
        },  # I's intervention without an interview is not an interviewed case's
        "referred": {"count": 1, "n": 7},
        "closed": {"count": 2, "n": 10},
    }
    by_school = crisis.funnel(histories.cases, by="school").set_index(["school", "crisis_stage"])
    assert by_school.loc[("S1", "intervention"), ["count", "n"]].tolist() == [3, 4]
    assert by_school.loc[("S2", "referred"), ["count", "n", "proportion"]].tolist() == [0, 3, 0.0]


def test_open_cases_partition_each_group_by_where_and_how_long_they_wait(histories):
    table = crisis.open_cases(histories.cases, as_of=AS_OF, ages=(7, 30, 90), limit_days=30)
    shown = table[table["count"] > 0].set_index(["position", "waited"])["count"].to_dict()
    assert shown == {
        ("closed", ""): 2,
        ("raised", "91+"): 1,  # C, 112 days
        ("raised", "unknown"): 1,  # J: its only time is after the as-of time
        ("confirmed", "8-30"): 1,  # D: a session 11 days ago
        ("confirmed", "31-90"): 2,  # F 58, G 56
        ("intervention", "31-90"): 3,  # E 79, H 50, I 39
    }
    assert table["count"].sum() == 10 and set(table["n"]) == {10}
    assert table.loc[table["past_limit"], "count"].sum() == 6
    assert len(table) == 1 + 4 * 5  # every position and band, zeros included
    by_school = crisis.open_cases(histories.cases, as_of=AS_OF, by="school")
    assert by_school.groupby("school")["count"].sum().to_dict() == {"S1": 6, "S2": 4}
    with pytest.raises(ValueError, match="limit_days \\(45\\) must be one of ages"):
        crisis.open_cases(histories.cases, as_of=AS_OF, limit_days=45)


def test_repeat_warnings_count_students_not_cases(histories):
    assert crisis.repeat_warnings(histories.cases)[["count", "n"]].values.tolist() == [[1, 9]]
    by_school = crisis.repeat_warnings(histories.cases, by="school").set_index("school")
    assert by_school[["count", "n"]].to_dict("index") == {
        "S1": {"count": 1, "n": 5},
        "S2": {"count": 0, "n": 4},
    }


# --- time between stages ---------------------------------------------------------------------------------


def test_durations_censor_open_cases_and_leave_out_undetermined_times_with_a_reason(histories):
    d = _by_case(crisis.stage_durations(histories.cases, as_of=AS_OF, start="raised", end="confirmed"))
    assert sorted(d.index) == list("ABCDEFGHIJ")
    assert d.loc[list("ABCDI"), "duration_days"].round(4).tolist() == [2.0, 0.5, 112.6667, 4.0, 41.6667]
    assert d.loc[list("ABCDI"), "ended"].tolist() == [True, True, False, True, False]
    assert d["excluded"].to_dict() == {
        "A": "", "B": "", "C": "", "D": "", "I": "",
        "E": "raised time undetermined", "H": "raised time undetermined", "J": "raised time undetermined",
        "F": "confirmed time undetermined", "G": "confirmed time undetermined",
    }  # fmt: skip
    closing = _by_case(crisis.stage_durations(histories.cases, as_of=AS_OF, start="raised", end="closed"))
    assert closing.loc[list("ABDFG"), "duration_days"].round(4).tolist() == [
        60.0,
        74.0,
        90.6667,
        60.6667,
        56.6667,
    ]
    with pytest.raises(ValueError, match="pathway order"):
        crisis.stage_durations(histories.cases, as_of=AS_OF, start="closed", end="raised")


def test_stage_times_give_kaplan_meier_medians_worked_out_by_hand(histories):
    result = crisis.stage_times(histories.cases, as_of=AS_OF)
    summary = result.summary.set_index(["from_stage", "to_stage"])
    # raised→confirmed: 0.5, 2, 4 ended, 41.7 and 112.7 open: S = 0.8, 0.6, 0.4 → median 4
    assert summary.loc[("raised", "confirmed"), ["count", "n", "median"]].tolist() == [3, 5, 4.0]
    # confirmed→intervention: A 1, H 1, B 3 ended, D open: S(1) = 2/4 exactly → the flat's midpoint, 2
    assert summary.loc[("confirmed", "intervention"), ["count", "n", "median"]].tolist() == [3, 4, 2.0]
    # raised→closed: two of seven closed, S never reaches 0.5: not reached
    assert summary.loc[("raised", "closed"), ["count", "n"]].tolist() == [2, 7]
    assert np.isnan(summary.loc[("raised", "closed"), "median"])
    curve = result.curves[
        (result.curves["from_stage"] == "raised") & (result.curves["to_stage"] == "confirmed")
    ]
    assert curve["survival"].round(6).tolist() == [0.8, 0.6, 0.4]
    excluded = result.excluded[result.excluded["to_stage"] == "confirmed"]
    assert sorted(excluded.loc[excluded["from_stage"] == "raised", "case_id"]) == list("EFGHJ")


def test_stage_times_by_group_leave_out_groups_without_a_case_at_risk(histories):
    result = crisis.stage_times(
        histories.cases, as_of=AS_OF, by="school", intervals=[("intervention", "referred")]
    )
    # S1: A, B, H and I reached an intervention (I's without an interview: reported, not dropped); B was referred
    assert result.summary[["school", "count", "n"]].values.tolist() == [["S1", 1, 4], ["S2", 0, 1]]
    assert result.excluded.empty  # every intervention time is usable, E's included
    by_severity = crisis.stage_times(
        histories.cases, as_of=AS_OF, by="severity", intervals=[("intervention", "referred")]
    )
    assert by_severity.summary["severity"].tolist() == [2, 3]  # no severity-1 case reached an intervention


# --- the school's own view ----------------------------------------------------------------------------------


def test_a_school_sees_only_its_own_cases_stalled_first(histories):
    view = crisis.school_cases(histories.cases, "S1", as_of=AS_OF, limit_days=30)
    assert list(view.columns) == list(crisis.SCHOOL_CASE_COLUMNS)
    assert view["case_id"].tolist() == ["I", "H", "C", "G", "B", "A"]
    assert view["stalled"].tolist() == [True, True, True, True, False, False]
    assert view.loc[view["case_id"] == "I", ["warning", "local_label", "where"]].values.tolist() == [
        ["红色预警", "一级预警", "干预"]
    ]
    assert view["days_since_contact"].tolist()[:4] == [39, 50, 112, 56]
    assert not set(view["pid"]) & {"p4", "p5", "p6", "p10"}
    with pytest.raises(TypeError, match="one school id"):
        crisis.school_cases(histories.cases, ["S1", "S2"], as_of=AS_OF)


# --- archives -------------------------------------------------------------------------------------------------


def test_archive_coverage_counts_students_with_a_record():
    categories = pd.DataFrame(
        {
            "school_year": ["2023-2024"] * 4 + ["2024-2025"] * 4,
            "school": ["S1", "S1", "S2", "S2"] * 2,
            "category": ["general", "none", "key", "none"] * 2,
            "count": [70, 30, 20, 0, 95, 5, 19, 1],
        }
    )
    assert crisis.archive_coverage(categories)[["school_year", "count", "n"]].values.tolist() == [
        ["2023-2024", 90, 120],
        ["2024-2025", 114, 120],
    ]
    by_school = crisis.archive_coverage(categories, by=["school_year", "school"])
    assert by_school["proportion"].tolist() == [0.7, 1.0, 0.95, 0.95]


def test_archive_transfers_censor_moves_without_one_and_count_early_ones():
    moves = pd.DataFrame(
        {
            "school_year": "2024-2025",
            "from_school": "S1",
            "to_school": ["S2", "S2", "S2", "S3"],
            "transferred_on": pd.to_datetime(["2024-09-05", "2024-09-11", None, "2024-08-25"]),
            "complete": pd.array([True, False, None, True], dtype="boolean"),
            "transfers": [1, 2, 0, 1],
            "count": [3, 1, 1, 1],
        }
    )
    result = crisis.archive_transfers(moves, as_of="2025-07-01")
    row = result.summary.iloc[0]
    assert (row["count"], row["n"], row["complete"], row["before_start"], row["repeated"]) == (5, 6, 4, 1, 1)
    # days: 0 (early), 4, 4, 4, 10 transferred; 303 without: S = 5/6, 2/6 → median 4
    assert row["median"] == 4.0
    assert result.curves["time"].tolist() == [0.0, 4.0, 10.0]
    by_school = crisis.archive_transfers(moves, as_of="2025-07-01", by="to_school").summary.set_index(
        "to_school"
    )
    assert by_school.loc["S3", ["count", "n", "median"]].tolist() == [1, 1, 0.0]
    with pytest.raises(ValueError, match="starting after as_of"):
        crisis.archive_transfers(moves, as_of="2024-08-01")
