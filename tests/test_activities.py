"""Courses and activities: lessons, the monthly lecture, event days, parent classes, coverage, governance,
funding and counselling months, on the hand-made district (answers worked out in plan_support)."""

from __future__ import annotations

import pandas as pd
import pytest
from plan_support import Y1, Y2, write_district

from psychanalytics import activities
from psychanalytics.store.queries import activities as activity_queries


@pytest.fixture
def stored(engine):
    write_district(engine)
    return engine


def test_lessons_delivered_against_one_every_two_weeks(stored):
    lessons = activities.lesson_delivery(activity_queries.lesson_rows(stored)).set_index("school_id")
    assert lessons[["count", "n", "lessons_required", "lessons_delivered"]].values.tolist() == [
        [3, 4, 36, 35],
        [2, 2, 18, 19],
        [0, 1, 9, 5],
    ]
    assert lessons.loc["A", "short_zh"] == "2年级第2学期"
    stricter = activities.lesson_delivery(
        activity_queries.lesson_rows(stored), rules=activities.activity_rules(lessons_per_term=10)
    )
    assert stricter["count"].tolist() == [0, 1, 0]


def test_the_monthly_lecture_counts_each_teaching_month_once(stored):
    lectures = activities.lecture_months(activity_queries.activity_rows(stored), school_years=[Y1, Y2])
    assert lectures[["school_year", "count", "n"]].values.tolist() == [[Y1, 0, 9], [Y2, 3, 9]]
    assert lectures["missing_zh"].iloc[1] == "12月、1月、3月、4月、5月、6月"


def test_event_days_count_a_carnival_within_the_window(stored):
    days = activities.event_days(
        activity_queries.activity_rows(stored), school_years=[Y2], schools=["A", "B"]
    )
    held = {(s or "district", d): h for s, d, h in days[["school_id", "day", "held"]].itertuples(index=False)}
    assert held[("district", "03-20")]  # 27 March: 7 days after
    assert not held[("district", "05-25")]  # 2 June: 8 days after
    assert not held[("district", "10-10")]  # a lecture that day is not a carnival
    assert (
        held[("A", "05-25")]
        and not held[("A", "03-20")]
        and not any(held[("B", d)] for d in ("03-20", "05-25", "10-10"))
    )
    wider = activities.event_days(
        activity_queries.activity_rows(stored),
        school_years=[Y2],
        rules=activities.activity_rules(event_window_days=8),
    )
    assert wider.set_index("day").loc["05-25", "held"]


def test_parent_classes_in_their_school_year(stored):
    rows = activity_queries.school_year_rows(stored)
    classes = activities.parent_classes(activity_queries.activity_rows(stored), rows)
    now = classes[classes["school_year"] == Y2].set_index("school_id")
    assert now["classes"].tolist() == [0, 2, 0, 0] and now["meets"].tolist() == [False, True, False, False]
    assert classes.set_index(["school_year", "school_id"]).loc[(Y1, "A"), "classes"] == 1


def test_coverage_governance_and_funding(stored):
    rows = activity_queries.school_year_rows(stored)
    now = rows[rows["school_year"] == Y2]
    coverage = activities.coverage(now).set_index("school_id")
    assert coverage["mentor_share"].round(4).tolist() == [1.0, round(150 / 170, 4), 1.0, 0.8]
    assert coverage["committee_share"].round(4).tolist() == [1.0, 0.8, 1.0, 1.0]
    governance = activities.governance(now).set_index("school_id")
    assert governance.loc["C", ["meeting_held", "three_year_plan"]].tolist() == [False, False]
    funding = activities.funding_growth(activity_queries.funding_rows(stored), rows)
    now_funding = funding[funding["school_year"] == Y2].set_index("school_id")
    assert now_funding["growth"].round(6).tolist()[:2] == [0.1, -0.1]
    assert pd.isna(now_funding.loc["C", "growth"])  # no budget the year before
    assert now_funding.loc["A", "per_student"] == 55.0


def test_coverage_refuses_a_count_above_its_total():
    rows = pd.DataFrame({"school_year": [Y2], "school_id": ["X"], "n_classes": [10], "classes_with_committee": [12],
                         "n_teachers": [5], "n_mentors": [5]})  # fmt: skip
    with pytest.raises(ValueError, match=r"classes_with_committee \(12\) exceeds n_classes \(10\) for X"):
        activities.coverage(rows)


def test_counselling_months_are_counted_in_the_database(stored):
    months = activity_queries.counselling_months(stored)
    assert months.values.tolist() == [
        ["A", 2024, 9, 1],
        ["A", 2024, 10, 2],
        ["A", 2025, 3, 1],
        ["B", 2025, 8, 1],
    ]
    rows = activity_queries.school_year_rows(stored)
    regular = activities.counselling_regularity(months, rows[rows["school_year"] == Y2]).set_index(
        "school_id"
    )
    assert regular["count"].tolist() == [3, 0, 0, 0]  # August is no teaching month
    assert regular.loc["A", "missing_zh"] == "11月、12月、1月、4月、5月、6月"


def test_rules_cite_their_source_and_refuse_nonsense():
    rules = activities.activity_rules()
    assert rules.source.startswith("docs/policy.md") and rules.uncertain
    with pytest.raises(ValueError, match="months 1-12"):
        activities.activity_rules(lecture_months=[13])
