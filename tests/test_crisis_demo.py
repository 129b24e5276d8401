"""The crisis pathway end to end on the demo district: store → histories → leader views → figures.

The demo plants what the estimators must find (psychanalytics.synth._crisis): record errors in a few
cases (synth.planted_crisis_problems, never stored), days between stages drawn uniformly from
synth.DELAYS with synth.LOST of the cases never reaching the next stage, and archive transfers of
which 5 % never arrive, 5 % arrive before the school year, 12 % late and the rest within 0-24 days.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from psychanalytics import crisis, store, synth, viz
from psychanalytics.privacy import leader_view
from psychanalytics.store.queries import crisis as queries

MIN_CELL = 10
MEDIANS = ("median", "median_low", "median_high")


@pytest.fixture(scope="module")
def engine(demo_db):
    engine = store.connect_existing(demo_db, read_only=True)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def histories(engine) -> crisis.CaseHistories:
    return crisis.case_histories(
        queries.crisis_events(engine), as_of=synth.SNAPSHOT, sessions=queries.crisis_sessions(engine)
    )


def _true_median(stage: str, never: float) -> float:
    """Median of a uniform delay when a share ``never`` of the cases never reaches the stage (a cure fraction):
    S(t) = never + (1 - never)(1 - F(t)) = 1/2."""
    low, high = synth.DELAYS[stage]
    return low + (high - low) * (1 - (0.5 - never) / (1 - never))


def test_the_demo_raises_warnings_from_each_source_the_issue_names(histories):
    """Head teachers, teachers and 心理委员 each have their own code; none is merged into another."""
    counts = histories.cases["source"].value_counts()
    named = ("screening", "head_teacher", "teacher", "class_committee", "parent", "self_referral", "peer")
    assert set(counts.index) == set(named)  # nothing written as the old merged ``observation``
    assert counts["head_teacher"] > counts["teacher"] > counts["class_committee"] > 0
    # the handling level is the latest event's: a referred case still open is at 社会, a new one at 班级
    cases = histories.cases
    referred_open = cases["reached_referred"] & ~cases["closed"]
    assert (cases.loc[referred_open, "level"] == "society").all() and referred_open.any()
    only_raised = ~cases[[f"reached_{s}" for s in crisis.PATHWAY[1:]]].any(axis=1)
    assert set(cases.loc[only_raised, "level"]) <= {"class", "school"}
    assert set(crisis.funnel(cases, by="level")["level"]) == {"class", "school", "society"}


def test_the_planted_record_errors_are_found_and_nothing_else(histories, planted_crisis_problems):
    found = histories.problems[["case_id", "crisis_stage", "problem"]]
    assert set(found.itertuples(index=False, name=None)) == set(
        planted_crisis_problems.itertuples(index=False, name=None)
    )
    assert set(planted_crisis_problems["problem"]) == set(crisis.PROBLEMS) - {
        "missing_time"
    }  # NOT NULL in the store


def test_medians_between_stages_cover_the_planted_delays(histories):
    summary = crisis.stage_times(histories.cases, as_of=synth.SNAPSHOT).summary.set_index(
        ["from_stage", "to_stage"]
    )
    never_confirmed = synth.LOST["confirmed"]
    never_handled = synth.LOST["intervention"] / (1 - never_confirmed)
    for interval, truth in {
        ("raised", "confirmed"): _true_median("confirmed", never_confirmed),  # 2.70 days
        ("confirmed", "intervention"): _true_median("intervention", never_handled),  # 1.60 days
    }.items():
        low, high = summary.loc[interval, ["median_low", "median_high"]]
        assert low <= truth <= high, (interval, truth, low, high)


def test_transfer_times_cover_the_planted_median(engine):
    result = crisis.archive_transfers(queries.school_moves(engine), as_of=synth.SNAPSHOT, by=()).summary.iloc[
        0
    ]
    # P(day <= 13) = 0.05 + 0.78 * 14/25 = 0.487, P(day <= 14) = 0.518: the true median is day 14
    assert result["median_low"] <= 14 <= result["median_high"]
    assert 0.92 < result["count"] / result["n"] < 0.98  # 5 % never arrive
    assert 0.03 < result["before_start"] / result["count"] < 0.08


def _shown_counts_are_never_small(view) -> None:
    cells = view.cells
    shown = cells["count"].dropna()
    assert ((shown == 0) | (shown >= MIN_CELL)).all() or not len(shown)
    assert (shown[shown > 0] >= MIN_CELL).all()
    assert cells.loc[cells["suppressed"], "count"].isna().all()


def test_leader_views_and_figures_of_the_pathway(histories):
    cases, as_of = histories.cases, histories.as_of
    funnel = leader_view(crisis.funnel(cases), labels=["crisis_stage", "from_stage"], min_cell=MIN_CELL)
    waiting = crisis.open_cases(cases, as_of=as_of, limit_days=30)
    stalled = leader_view(
        waiting.assign(district="全区"), by=["district"], labels=["position", "waited", "past_limit"],
        headline=waiting["past_limit"], min_cell=MIN_CELL,
    )  # fmt: skip
    times = crisis.stage_times(cases, as_of=as_of, by="severity")
    summary = leader_view(
        times.summary, labels=["from_stage", "to_stage", "severity"], estimates=MEDIANS, min_cell=MIN_CELL
    )
    for view in (funnel, stalled, summary):
        _shown_counts_are_never_small(view)
    blanked = summary.cells[summary.cells["suppressed"]]
    assert len(blanked) and blanked[list(MEDIANS)].isna().all(axis=None)  # a median goes with its count

    figures = [
        viz.stage_funnel(
            funnel.cells, stalled=stalled.cells[stalled.cells["past_limit"]].drop(columns="district")
        ),
        viz.stage_time_curves(times.curves, summary.cells, group="severity"),
        viz.open_case_ageing(stalled.cells),
    ]
    assert all(isinstance(f, go.Figure) for f in figures)
    curves = [t for t in figures[1].data if t.hoverinfo != "skip"]  # the intervals are bands without hover
    drawn = {t.name for t in curves}
    assert drawn <= {crisis.warning_scale().label(s) for s in (1, 2, 3)}
    shown_pairs = summary.cells[~summary.cells["suppressed"]]
    assert len(curves) == len(shown_pairs)  # one curve per shown row, none for a blanked one
    bar_heights = [v for v in figures[0].data[0].x if not np.isnan(v)]
    assert bar_heights == funnel.cells["count"].dropna().astype(float).tolist()


def test_archive_coverage_view_and_figure(engine):
    coverage = crisis.archive_coverage(queries.archive_categories(engine))
    view = leader_view(coverage, min_cell=MIN_CELL)
    _shown_counts_are_never_small(view)
    figure = viz.archive_coverage_bars(view.cells)
    assert [round(v, 1) for v in figure.data[0].y] == [round(100 * p, 1) for p in coverage["proportion"]]
    assert coverage["proportion"].is_monotonic_increasing


def test_a_school_sees_its_own_cases_only(histories):
    for school in sorted(histories.cases["school"].unique()):
        view = crisis.school_cases(histories.cases, school, as_of=histories.as_of)
        own = histories.cases.loc[histories.cases["school"] == school, "case_id"]
        assert sorted(view["case_id"]) == sorted(own)
        assert set(view.columns) == set(crisis.SCHOOL_CASE_COLUMNS)  # no name, no 学籍号: pids only


def test_a_median_passed_as_an_estimate_is_blanked_with_its_count():
    table = pd.DataFrame({"from_stage": ["raised"] * 2, "to_stage": ["confirmed", "closed"], "count": [40, 4],
                          "n": [50, 50], "median": [2.5, 90.0], "median_low": [2.0, 60.0], "median_high": [3.0, np.nan]})  # fmt: skip
    with pytest.raises(ValueError, match="estimates="):
        leader_view(table, labels=["from_stage", "to_stage"], min_cell=MIN_CELL)
    cells = leader_view(table, labels=["from_stage", "to_stage"], estimates=MEDIANS, min_cell=MIN_CELL).cells
    assert cells["median"].tolist()[0] == 2.5 and cells.loc[1, list(MEDIANS)].isna().all()
    assert cells["marker"].tolist() == ["", "<10"]
