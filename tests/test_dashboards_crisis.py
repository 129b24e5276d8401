"""The 「危机预警」 page and its mart tables: policy, numbers drawn from the views, the filter, an empty store."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from test_dashboards import _figures, _html

from psychanalytics import crisis, mart, store, synth
from psychanalytics.dashboards import build_crisis
from psychanalytics.mart import crisis as crisis_mart
from psychanalytics.store.queries import crisis as crisis_queries

MIN_CELL = 10


def published(source: Path, folder: Path, *, min_cell: int = MIN_CELL) -> Path:
    """A copy of the store ``source`` published to a mart in ``folder`` (the store itself is not written)."""
    copy = folder / "store.sqlite"
    shutil.copy(source, copy)
    engine = store.connect_existing(copy)
    try:
        mart.publish(engine, folder / "mart.sqlite", min_cell=min_cell)
    finally:
        engine.dispose()
    return folder / "mart.sqlite"


def assert_policy(frame: pd.DataFrame, *, min_cell: int = MIN_CELL, estimates=()) -> None:
    """No shown count or denominator under ``min_cell``; no estimate shown beside a hidden one; markers."""
    assert (frame["count"].dropna() >= min_cell).all()
    assert (frame["n"].dropna() >= min_cell).all()
    hidden = frame["count"].isna() | frame["n"].isna()
    for column in ("proportion", *estimates):
        if column in frame:
            assert frame.loc[hidden, column].isna().all(), column
    assert frame.loc[hidden, "marker"].isin([f"<{min_cell}", "*"]).all()


def plotted(figure: dict, axis: str) -> list[float]:
    """Every number a figure draws along ``axis`` (text-only traces left out)."""
    return [
        float(v)
        for trace in figure["data"]
        if trace.get("mode") != "text"
        for v in trace.get(axis, ())
        if isinstance(v, int | float) and not math.isnan(v)
    ]


@pytest.fixture(scope="module")
def demo_mart(demo_db, tmp_path_factory) -> Path:
    return published(demo_db, tmp_path_factory.mktemp("crisis_mart"))


@pytest.fixture(scope="module")
def small_mart(tmp_path_factory) -> Path:
    """The smallest synthetic district (500 students a year): a handful of crisis cases a year."""
    folder = tmp_path_factory.mktemp("crisis_small")
    engine = store.connect(folder / "small.sqlite")
    synth.build_demo(engine, seed=3, students=synth.MIN_STUDENTS)
    engine.dispose()
    return published(folder / "small.sqlite", folder)


@pytest.fixture
def page(demo_mart):
    return build_crisis(demo_mart)


def test_title_cards_and_views(page):
    text = _html(page)
    assert "危机预警" in text and "演示数据" in text
    for label in ("本学年预警个案", "其中已结案", "全区目前未结案", "怎么看"):
        assert label in text
    assert set(page.views) == {"funnel", "stage_times", "levels", "open", "open_headline"}
    assert all(len(view) for view in page.views.values())
    year = page.filters[0].value
    levels = page.views["levels"][page.views["levels"]["school_year"] == year]
    assert "班级上报" in text and "学校上报" in text  # who raised the year's warnings, 班级—学校—社会
    funnel = page.views["funnel"]
    raised = funnel[(funnel["school_year"] == year) & (funnel["crisis_stage"] == "raised")]
    assert levels["n"].iloc[0] == raised["count"].iloc[0]  # the same margin as the funnel's, not a new one


def test_views_show_nothing_under_min_cell(page):
    for name, view in page.views.items():
        assert_policy(view, estimates=crisis_mart.MEDIANS if name == "stage_times" else ())


def test_charts_draw_only_numbers_of_the_views(page):
    year = page.filters[0].value
    funnel, open_, times = _figures(page)
    shown = page.views["funnel"]
    assert plotted(funnel, "x") == shown.loc[shown["school_year"] == year, "count"].astype(float).tolist()
    waiting = page.views["open"]
    waiting = waiting[waiting["position"] != "closed"]
    assert plotted(open_, "y") == waiting["count"].dropna().astype(float).tolist()
    texts = [t for trace in open_["data"] for t in trace.get("text", ())]
    assert all(m in texts for m in waiting.loc[waiting["count"].isna(), "marker"])  # hidden bars say why
    medians = page.views["stage_times"]
    medians = medians.loc[medians["school_year"] == year, "median"].dropna().tolist()
    assert plotted(times, "x") == pytest.approx(medians)
    assert plotted(funnel, "x") and medians


def test_school_year_filter_redraws(page):
    before = _figures(page)
    (year,) = page.filters
    assert year.value == max(page.views["funnel"]["school_year"])  # the latest year first
    year.value = year.options[-1][1]
    after = _figures(page)
    assert plotted(after[0], "x") != plotted(before[0], "x")
    assert f"（{year.value} 学年）" in after[0]["layout"]["title"]["text"]
    assert plotted(after[1], "y") == plotted(before[1], "y")  # open cases: the district today, every year


def test_empty_store_says_no_data(sqlite_engine, tmp_path, capsys):
    mart.publish(sqlite_engine, tmp_path / "empty.sqlite")
    for table in (
        crisis_mart.FUNNEL,
        crisis_mart.STAGE_TIMES,
        crisis_mart.RAISED_BY_LEVEL,
        crisis_mart.OPEN_BY_STAGE,
    ):
        assert mart.Mart(tmp_path / "empty.sqlite").table(table.name).empty
    page = build_crisis(tmp_path / "empty.sqlite")
    assert "暂无数据" in _html(page) and not _figures(page)
    assert "Traceback" not in capsys.readouterr().err


def test_small_district_hides_small_cells(small_mart):
    published_ = mart.Mart(small_mart)
    funnel = published_.table(crisis_mart.FUNNEL.name)
    times = published_.table(crisis_mart.STAGE_TIMES.name)
    assert_policy(funnel)
    assert_policy(times, estimates=crisis_mart.MEDIANS)
    assert_policy(published_.table(crisis_mart.OPEN_BY_STAGE.name))
    assert_policy(published_.table(crisis_mart.RAISED_BY_LEVEL.name))
    assert funnel["count"].isna().any() and times["median"].isna().any()  # small groups were hidden
    build_crisis(small_mart)  # and the page still builds


def test_raw_tables_small_rows_are_the_hidden_ones(small_mart, tmp_path_factory):
    engine = store.connect_existing(Path(small_mart).with_name("store.sqlite"), read_only=True)
    try:
        raw = crisis_mart.stage_times_per_year(engine)
    finally:
        engine.dispose()
    shown = mart.Mart(small_mart).table(crisis_mart.STAGE_TIMES.name)
    small = (raw["count"] < MIN_CELL) | (raw["n"] < MIN_CELL)
    assert small.any()
    assert shown.loc[small.to_numpy(), "median"].isna().all()
    big = ~small & raw["median"].notna()
    assert shown.loc[big.to_numpy(), "median"].tolist() == pytest.approx(raw.loc[big, "median"].tolist())


def test_open_cases_match_the_store(demo_db, demo_mart):
    """The published number of open cases against SQL on the store: cases without a 'closed' event."""
    engine = store.connect_existing(demo_db, read_only=True)
    try:
        with engine.connect() as conn:
            expected = conn.execute(
                sa.text(
                    "SELECT COUNT(*) FROM crisis_case WHERE case_id NOT IN "
                    "(SELECT case_id FROM crisis_event WHERE stage = 'closed')"
                )
            ).scalar_one()
            cases = conn.execute(sa.text("SELECT COUNT(*) FROM crisis_case")).scalar_one()
        raw = crisis_mart.open_by_stage(engine)
    finally:
        engine.dispose()
    assert raw.loc[raw["position"] != "closed", "count"].sum() == expected > 0
    shown = mart.Mart(demo_mart).table(crisis_mart.OPEN_BY_STAGE.name)
    assert (shown["n"] == cases).all()
    assert shown["count"].dropna().tolist() == raw.loc[shown["count"].notna().to_numpy(), "count"].tolist()
    headline = mart.Mart(demo_mart).table(crisis_mart.OPEN_BY_STAGE.name + "__headline").iloc[0]
    assert headline["n"] == cases
    assert pd.isna(headline["count"]) or headline["count"] == expected


def test_a_median_matches_the_library(demo_db, demo_mart):
    """One published median against Kaplan-Meier of that year's cases, computed here with the library."""
    engine = store.connect_existing(demo_db, read_only=True)
    try:
        as_of = pd.Timestamp(crisis_queries.crisis_as_of(engine))
        histories = crisis.case_histories(
            crisis_queries.crisis_events(engine), as_of=as_of, sessions=crisis_queries.crisis_sessions(engine)
        )
    finally:
        engine.dispose()
    year = sorted(histories.cases["school_year"].unique())[0]
    cases = histories.cases[histories.cases["school_year"] == year]
    durations = crisis.stage_durations(cases, as_of=as_of, start="raised", end="confirmed")
    usable = durations[durations["excluded"] == ""]
    expected = crisis.survival(usable["duration_days"].to_numpy(), usable["ended"].to_numpy(dtype=bool))
    times = mart.Mart(demo_mart).table(crisis_mart.STAGE_TIMES.name)
    row = times[(times["school_year"] == year) & (times["from_stage"] == "raised")].iloc[0]
    assert row["median"] == pytest.approx(expected.median)
    assert (row["count"], row["n"]) == (expected.count, expected.n)
