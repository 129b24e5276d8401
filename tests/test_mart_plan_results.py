"""The plan's results read back from the published mart are those :func:`plan.evaluate` computes from the store.

The annual report reads the mart only (issue #13 item 6, issue #15 item 1): every frame, projection and
rule of :class:`psychanalytics.plan.PlanResults` for every school year must come back from the mart as the
store gives it, on SQLite and on PostgreSQL (through the reader role).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import fields

import pandas as pd
import pytest

from psychanalytics import mart, plan, store, synth
from psychanalytics.mart.plan import RESULT_COLUMNS, RESULTS, plan_results
from psychanalytics.store import queries

PLAN_TABLES = [*RESULTS.values(), RESULT_COLUMNS]


def _assert_same(read: plan.PlanResults, computed: plan.PlanResults) -> None:
    for field in fields(computed):
        ours, theirs = getattr(read, field.name), getattr(computed, field.name)
        if isinstance(theirs, pd.DataFrame):
            pd.testing.assert_frame_equal(ours, theirs, obj=field.name)
        elif field.name == "projections":
            assert ours.keys() == theirs.keys()
            for code, projection in theirs.items():
                for part in fields(projection):
                    mine, expected = getattr(ours[code], part.name), getattr(projection, part.name)
                    if isinstance(expected, pd.DataFrame):
                        pd.testing.assert_frame_equal(mine, expected, obj=f"{code}.{part.name}")
                    elif isinstance(expected, float):
                        assert mine == pytest.approx(expected, nan_ok=True), (code, part.name)
                    else:
                        assert mine == expected, (code, part.name)
        else:
            assert ours == theirs, field.name


def _every_year(engine, published) -> None:
    inputs = queries.plan_inputs(engine)
    assert len(inputs.school_years) >= 3
    for year in inputs.school_years:
        _assert_same(plan_results(published, school_year=year), plan.evaluate(inputs, school_year=year))


def test_every_years_results_come_back_from_the_sqlite_mart(demo_db, demo_mart):
    engine = store.connect_existing(demo_db, read_only=True)
    try:
        _every_year(engine, demo_mart)
    finally:
        engine.dispose()


def test_a_year_the_mart_does_not_hold_is_named(demo_mart):
    with pytest.raises(ValueError, match=r"holds the plan's results of \['2021-2022'.*not '2030-2031'"):
        plan_results(demo_mart, school_year="2030-2031")


def test_a_mart_published_before_these_tables_says_so(demo_db, tmp_path):
    shutil.copy(demo_db, tmp_path / "store.sqlite")
    mart.publish(tmp_path / "store.sqlite", tmp_path / "old.sqlite", tables=[mart.TABLES["plan_targets"]])
    with pytest.raises(KeyError, match="has no table 'plan_results_columns'"):
        plan_results(tmp_path / "old.sqlite", school_year="2024-2025")


@pytest.mark.postgres
def test_every_years_results_come_back_through_the_postgresql_reader_role(pg_engine):
    synth.build_demo(pg_engine, seed=3, students=600)
    mart.publish(pg_engine, pg_engine.url.render_as_string(hide_password=False), tables=PLAN_TABLES)
    reader = pg_engine.url.set(
        username=mart.READER_ROLE, password=os.environ.get("PSYCHANALYTICS_READER_PASSWORD", mart.READER_ROLE)
    )
    published = mart.Mart(reader.render_as_string(hide_password=False))
    try:
        _every_year(pg_engine, published)
    finally:
        published.close()
