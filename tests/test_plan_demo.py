"""The demo district's planted gaps (synth.planted_gaps, never stored) are found by the plan's indicators."""

from __future__ import annotations

import pytest
from conftest import DEMO_SEED, DEMO_STUDENTS

from psychanalytics import plan, store, synth
from psychanalytics.store import queries

YEAR = synth.REPORT_YEAR


@pytest.fixture(scope="module")
def demo(demo_db):
    engine = store.connect_existing(demo_db, read_only=True)
    inputs = queries.plan_inputs(engine)
    engine.dispose()
    return {year: plan.evaluate(inputs, school_year=year) for year in inputs.school_years}


@pytest.fixture(scope="module")
def planted():
    return synth.planted_gaps(seed=DEMO_SEED, students=DEMO_STUDENTS).set_index("gap")


def _school(planted, gap):
    return planted.loc[[gap], "school_id"].iloc[0]


def _status(results, target, school_id=None):
    a = results.attainment
    row = a[(a["target"] == target) & ((a["school_id"] == school_id) if school_id else a["school_id"].isna())]
    return row["status"].iloc[0]


def test_the_plan_truth_is_not_in_the_database(demo_db):
    # Screening and outcomes keep their planted truth in the demo-only tables (decisions 38, 53);
    # the plan's gaps live in code keyed by the seed (decision 52), so no other table names a truth.
    engine = store.connect_existing(demo_db, read_only=True)
    names = set(store.table_counts(engine))
    engine.dispose()
    truth_tables = {n for n in names if "plant" in n or "truth" in n or "gap" in n}
    assert truth_tables == {"demo_planted_school", "demo_planted_effect"}


def test_the_school_without_a_full_time_teacher_is_found_every_year(demo, planted):
    school = _school(planted, "no_full_time")
    for year, results in demo.items():
        gaps = results.school_gaps
        short = gaps[(gaps["school_year"] == year) & (gaps["standard"] == "zhonglou_2024") & ~gaps["meets"]]
        assert school in set(short["school_id"])
    now = demo[YEAR].school_gaps
    short = now[(now["school_year"] == YEAR) & (now["standard"] == "zhonglou_2024") & ~now["meets"]]
    assert set(short["school_id"]) == {school}  # and no other school in the report year
    assert _status(demo[YEAR], "full_time_teacher_school", school) == "missed"
    assert _status(demo[YEAR], "full_time_teacher") == "missed"


def test_the_years_without_any_psychology_teacher_fail_the_national_rule(demo, planted):
    school = _school(planted, "no_teacher")
    for year in planted.loc[["no_teacher"], "school_year"]:
        gaps = demo[year].school_gaps
        row = gaps[
            (gaps["school_year"] == year)
            & (gaps["standard"] == "national_2023")
            & (gaps["school_id"] == school)
        ]
        assert row["gap"].iloc[0] == 1
    later = demo[YEAR].school_gaps
    assert later[(later["school_year"] == YEAR) & (later["standard"] == "national_2023")]["meets"].all()


def test_the_short_room_misses_exactly_what_was_planted(demo, planted):
    school = _school(planted, "room_short")
    for year, results in demo.items():
        c = results.room_compliance
        unmet = set(c[(c["school_year"] == year) & (c["school_id"] == school) & ~c["met"]]["requirement"])
        assert {"group_room", "rule_transfer", "open_hours"} <= unmet
        assert _status(results, "room_standard_school", school) in ("missed", "at_risk")


def test_short_lessons_not_inspected_not_working_no_plan_low_coverage_no_events_and_a_cut(demo, planted):
    results = demo[YEAR]
    for year, each in demo.items():
        lessons = each.lessons.set_index(["school_year", "school_id"])
        assert lessons.loc[(year, _school(planted, "lessons_short")), "proportion"] <= 0.25
    assert _status(results, "lessons_in_full", _school(planted, "lessons_short")) == "missed"
    inspected = results.room_status.set_index(["school_year", "school_id"])["inspected"]
    assert not inspected[(YEAR, _school(planted, "not_inspected"))]
    card = results.scorecard.set_index(["school_id", "check"])
    worker = card.loc[(_school(planted, "not_psychology_work"), "psychology_work")]
    assert worker["status"] == "fail" and "未从事心理健康教育工作" in worker["missing"]
    assert card.loc[(_school(planted, "no_plan"), "structure"), "missing"] == "本年未召开专题会；无三年规划"
    for target in ("three_year_plan", "leadership_meeting"):
        assert _status(results, target, _school(planted, "no_plan")) == "missed"
    values = results.indicators.set_index(["school_year", "school_id", "indicator"])["value"]
    low = _school(planted, "low_coverage")
    assert values[(YEAR, low, "mentor_coverage")] == pytest.approx(0.5, abs=0.02)
    classes = results.coverage.set_index(["school_year", "school_id"]).loc[(YEAR, low), "classes"]
    assert (
        values[(YEAR, low, "committee_coverage")] == round(classes * 0.4) / classes
    )  # 40 % of a few classes
    assert _status(results, "committee", low) == _status(results, "mentors", low) == "missed"
    assert values[(YEAR, _school(planted, "no_events"), "event_days")] == 0
    assert _status(results, "campus_events", _school(planted, "no_events")) == "missed"
    assert values[(YEAR, _school(planted, "funding_cut"), "funding_growth")] == pytest.approx(-0.15, abs=0.01)
    assert _status(results, "funding_growth", _school(planted, "funding_cut")) == "missed"


def test_the_district_lecture_and_event_day_that_were_not_held(demo, planted):
    results = demo[YEAR]
    lecture = results.lectures.set_index("school_year").loc[YEAR]
    assert "11月" in lecture["missing_zh"].split("、")
    days = results.events[(results.events["school_year"] == YEAR) & results.events["school_id"].isna()]
    assert not days.set_index("day").loc["03-20", "held"]
    assert _status(results, "monthly_lecture") == "missed" and _status(results, "district_events") == "missed"
