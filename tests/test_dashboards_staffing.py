"""The 「师资与阵地」 page and its mart tables, on the demo district published to a real SQLite mart."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from staffing_plan_support import (
    allowed_numbers,
    assert_student_counts_protected,
    figures,
    page_html,
    plotted_numbers,
    publish_copy,
    publish_empty,
)

from psychanalytics import facilities, staffing
from psychanalytics.dashboards import build_staffing
from psychanalytics.mart import TABLES, Mart, build_tables
from psychanalytics.mart import staffing as tables
from psychanalytics.mart._evaluated import ALL
from psychanalytics.store import queries

NAMES = [t.name for t in (tables.GAPS, tables.TEACHERS, tables.STUDENTS_PER_TEACHER, tables.PROJECTION,
                          tables.ROOMS, tables.ROOM_REQUIREMENTS, tables.ACTIVITIES)]  # fmt: skip
DASHBOARDS = Path(__file__).resolve().parents[1] / "dashboards"


@pytest.fixture(scope="module")
def mart_path(demo_db, tmp_path_factory) -> Path:
    return publish_copy(demo_db, tmp_path_factory.mktemp("staffing"))


@pytest.fixture(scope="module")
def page(mart_path):
    return build_staffing(mart_path)


def _district(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[(frame["stage"] == ALL) & (frame["location"] == ALL)]


# --- mart tables -------------------------------------------------------------------------------


def test_tables_are_registered_with_their_policy():
    for name in NAMES:
        assert name in TABLES
    assert TABLES["students_per_teacher"].policy is not None  # students: the policy's student rule
    assert TABLES["students_per_teacher"].policy.get("unit", "student") == "student"
    for name in ("staffing_gaps", "room_compliance", "room_requirements"):
        assert TABLES[name].policy["unit"] == "school"
    for name in ("psychology_teachers", "hiring_projection", "courses_activities"):
        assert TABLES[name].policy is None and "no student" in TABLES[name].no_people


def test_counts_of_schools_are_shown_whole(mart_path):
    """Schools are institutional facts (unit="school"): a group of one school is shown, not hidden."""
    mart = Mart(mart_path)
    for name in ("staffing_gaps", "room_requirements"):
        frame = mart.table(name)
        small = frame[frame["n"] < 10]
        assert len(small) and small["count"].notna().all() and (small["marker"] == "").all()
    mart.close()


def test_students_per_teacher_hides_groups_under_min_cell(demo_read_only):
    """With a threshold above the smallest groups' enrolment, those groups are hidden with their ratio."""
    frames, _ = build_tables(demo_read_only, min_cell=10, names=["students_per_teacher"])
    shown = frames["students_per_teacher"]
    assert_student_counts_protected(shown, 10)
    assert shown["n"].notna().all()  # schools of hundreds: nothing to hide at 10
    threshold = int(shown["n"].median()) + 1
    frames, _ = build_tables(demo_read_only, min_cell=threshold, names=["students_per_teacher"])
    strict = frames["students_per_teacher"]
    assert_student_counts_protected(strict, threshold)
    small = strict["n"].isna()
    assert small.any() and strict.loc[small, "students_per_full_time"].isna().all()
    assert (strict.loc[small, "marker"] == f"<{threshold}").all()


def test_gaps_and_rooms_match_the_library_on_the_store(mart_path, demo_read_only):
    counts = queries.staffing.staff_counts(demo_read_only)
    year = counts["school_year"].max()
    expected = staffing.district_gaps(
        staffing.gaps(
            staffing.profile(counts), standards_used=staffing.standards("zhonglou_2024", "ratio_1000")
        )
    )
    expected = expected[expected["school_year"] == year].set_index("standard")
    mart = Mart(mart_path)
    gaps = _district(mart.table("staffing_gaps"))
    gaps = gaps[gaps["school_year"] == year].set_index("standard")
    for code in ("zhonglou_2024", "ratio_1000"):
        assert (gaps.at[code, "count"], gaps.at[code, "n"]) == (
            expected.at[code, "count"],
            expected.at[code, "n"],
        )
        assert gaps.at[code, "teachers_needed"] == pytest.approx(expected.at[code, "teachers_needed"])
    status = facilities.room_status(
        facilities.room_compliance(queries.facilities.room_records(demo_read_only))
    )
    share = facilities.compliance_share(status)
    rooms = mart.table("room_compliance")
    assert rooms["count"].tolist() == share["count"].tolist() and rooms["n"].tolist() == share["n"].tolist()
    students = _district(mart.table("students_per_teacher")).set_index("school_year")
    enrolled = counts.groupby("school_year")["enrolment"].sum()
    assert students["n"].astype(int).to_dict() == enrolled.astype(int).to_dict()
    mart.close()


def test_groups_partition_the_district(mart_path):
    """Each stage's rows add up to the district's: the filters choose rows of one cut, never a new total."""
    mart = Mart(mart_path)
    gaps = mart.table("staffing_gaps")
    by_stage = gaps[(gaps["stage"] != ALL) & (gaps["location"] == ALL)]
    summed = by_stage.groupby(["school_year", "standard"])[["n", "teachers_needed"]].sum()
    district = _district(gaps).set_index(["school_year", "standard"])[["n", "teachers_needed"]]
    pd.testing.assert_frame_equal(summed.sort_index().astype(float), district.sort_index().astype(float))
    mart.close()


# --- the page ------------------------------------------------------------------------------------


def test_page_shows_title_cards_and_charts_from_the_mart(page):
    text = page_html(page)
    assert "师资与阵地" in text and "演示数据" in page.children[0].value
    for label in (
        "专职心理教师",
        "配备专职心理教师的学校",
        "每名专职心理教师对应学生",
        "心理辅导室达标（全区）",
        "怎么看",
    ):
        assert label in text
    assert set(page.views) == {
        "gaps",
        "teachers",
        "students",
        "projection",
        "rooms",
        "requirements",
        "activities",
    }
    assert_student_counts_protected(page.views["students"], 10)
    drawn = figures(page)
    assert len(drawn) == 5
    allowed = allowed_numbers(page.views)
    for figure in drawn:
        numbers = plotted_numbers(figure)
        assert numbers, figure["layout"]["title"]["text"]
        assert set(numbers) <= allowed, figure["layout"]["title"]["text"]


def test_filters_redraw_the_charts(mart_path):
    page = build_staffing(mart_path)
    year, stage, location = page.filters
    before = figures(page)[0]["data"][0]["x"]
    stage.value = "primary"
    after = figures(page)[0]["data"][0]["x"]
    assert after != before and "小学" in figures(page)[0]["layout"]["title"]["text"]
    rows = page.views["gaps"]
    rows = rows[
        (rows["school_year"] == year.value) & (rows["stage"] == "primary") & (rows["location"] == ALL)
    ]
    assert list(after) == rows["teachers_needed"].iloc[::-1].tolist()
    location.value = location.options[-1][1]
    year.value = year.options[-1][1]
    assert figures(page)[0]["data"][0]["x"] != after
    assert set(plotted_numbers(figures(page)[0])) <= allowed_numbers(page.views)


def test_a_group_without_schools_says_no_data(mart_path):
    page = build_staffing(mart_path)
    _, stage, location = page.filters
    stage.value = "senior"
    location.value = "township_central"  # the demo's only senior school is urban
    assert "暂无数据" in page_html(page) and not figures(page)


def test_empty_mart_says_no_data(tmp_path):
    page = build_staffing(publish_empty(tmp_path))
    text = page_html(page)
    assert "师资与阵地" in text and "暂无数据" in text and "Traceback" not in text
    assert not figures(page) and all(frame.empty for frame in page.views.values())


def test_notebook_is_a_thin_pair():
    source = (DASHBOARDS / "staffing.py").read_text("utf-8")
    assert "build_staffing(mart)" in source and "def " not in source
    assert '"outputs": []' in (DASHBOARDS / "staffing.ipynb").read_text("utf-8")
