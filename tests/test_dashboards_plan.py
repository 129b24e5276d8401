"""The 「三年计划」 page and its mart tables, on the demo district published to a real SQLite mart."""

from __future__ import annotations

from pathlib import Path

import pytest
from staffing_plan_support import (
    allowed_numbers,
    figures,
    page_html,
    plotted_numbers,
    publish_copy,
    publish_empty,
)

from psychanalytics import plan
from psychanalytics.dashboards import build_plan
from psychanalytics.mart import TABLES, Mart
from psychanalytics.mart._evaluated import ALL
from psychanalytics.store import queries

DASHBOARDS = Path(__file__).resolve().parents[1] / "dashboards"


@pytest.fixture(scope="module")
def mart_path(demo_db, tmp_path_factory) -> Path:
    return publish_copy(demo_db, tmp_path_factory.mktemp("plan"))


@pytest.fixture(scope="module")
def page(mart_path):
    return build_plan(mart_path)


def test_tables_are_registered_with_their_policy():
    for name in ("plan_targets", "plan_attainment"):
        assert TABLES[name].policy is None and TABLES[name].no_people
    for name in ("plan_school_status", "scorecard_summary"):
        assert TABLES[name].policy["unit"] == "school" and "school_year" in TABLES[name].policy["by"]


def test_attainment_and_scorecard_match_the_library_on_the_store(mart_path, demo_read_only):
    inputs = queries.plan_inputs(demo_read_only)
    year = inputs.school_years[-1]
    expected = plan.evaluate(inputs, school_year=year)
    district = expected.attainment[expected.attainment["level"] == "district"]
    mart = Mart(mart_path)
    published = mart.table("plan_attainment")
    published = published[published["school_year"] == year]
    assert published["target"].tolist() == district["target"].tolist()
    assert published["status"].tolist() == district["status"].tolist()
    assert published["text"].tolist() == district["text"].tolist()
    card = mart.table("scorecard_summary")
    card = card[(card["school_year"] == year) & (card["stage"] == ALL) & (card["location"] == ALL)]
    passed = card[card["status"] == "pass"].set_index("check")["count"]
    truth = expected.scorecard[expected.scorecard["status"] == "pass"].groupby("check").size()
    assert {c: int(passed[c]) for c in plan.CHECKS} == {c: int(truth.get(c, 0)) for c in plan.CHECKS}
    assert (card["n"] == len(inputs.schools)).all()
    mart.close()


def test_school_counts_add_up_within_each_group(mart_path):
    mart = Mart(mart_path)
    for name, key in (("plan_school_status", "target"), ("scorecard_summary", "check")):
        frame = mart.table(name)
        sums = frame.groupby(["school_year", "stage", "location", key])["count"].transform("sum")
        assert (sums == frame["n"]).all()
        assert set(frame["status"]) <= set(plan.STATUSES) | set(plan.CHECK_STATUS)
    mart.close()


def test_page_shows_statuses_in_words_and_symbols(page):
    text = page_html(page)
    assert "三年计划" in text and "演示数据" in page.children[0].value and "怎么看" in text
    attainment = page.views["attainment"]
    year = page.filters[0].value
    for row in attainment[attainment["school_year"] == year].itertuples():
        zh, _, symbol, _ = plan.STATUS_LABELS[row.status]
        assert f"{symbol} {zh}" in text  # never colour alone
        assert row.name_zh in text
    drawn = figures(page)
    assert len(drawn) == 3
    grid = drawn[0]["data"][0]["text"]
    shown = attainment[attainment["school_year"] <= year]
    assert sorted(grid) == sorted(
        f"{plan.STATUS_LABELS[s][2]} {plan.STATUS_LABELS[s][0]}" for s in shown["status"]
    )
    allowed = allowed_numbers(page.views)
    for figure in drawn[1:]:
        numbers = plotted_numbers(figure)
        assert numbers and set(numbers) <= allowed
        assert all(trace["name"].split(" ", 1)[0] in "✓↗!✗–" for trace in figure["data"])


def test_filters_redraw_the_charts(mart_path):
    page = build_plan(mart_path)
    year, stage, _ = page.filters
    before = [trace["x"] for trace in figures(page)[1]["data"]]
    stage.value = "junior"
    after = [trace["x"] for trace in figures(page)[1]["data"]]
    assert after != before
    rows = page.views["schools"]
    junior = rows[
        (rows["school_year"] == year.value) & (rows["stage"] == "junior") & (rows["location"] == ALL)
    ]
    assert sum(x[-1] for x in after) == junior["n"].iloc[0]  # the first target's segments: the junior schools
    grid_before = figures(page)[0]["data"][0]["text"]
    year.value = year.options[-1][1]  # the first school year: one column
    assert len(figures(page)[0]["data"][0]["text"]) < len(grid_before)


def test_empty_mart_says_no_data(tmp_path):
    page = build_plan(publish_empty(tmp_path))
    text = page_html(page)
    assert "三年计划" in text and "暂无数据" in text and "Traceback" not in text
    assert not figures(page)


def test_notebook_is_a_thin_pair():
    source = (DASHBOARDS / "plan.py").read_text("utf-8")
    assert "build_plan(mart)" in source and "def " not in source
    assert '"outputs": []' in (DASHBOARDS / "plan.ipynb").read_text("utf-8")
