"""Loaders read real SQLite files and the real PostgreSQL server."""

from __future__ import annotations

import numpy as np
import pytest
from store_support import AUTUMN_2024

from psychanalytics import store
from psychanalytics.store import schema

PIDS = [f"{i:032x}" for i in range(1, 5)]


def _seed(conn) -> None:
    store.upsert(
        conn,
        schema.school,
        [dict(school_id="S1", name="示例中学", stage="junior", location="urban", is_synthetic=True)],
    )
    store.upsert(conn, schema.screening_wave, [AUTUMN_2024])
    store.upsert(conn, schema.student, [dict(pid=p, gender=g) for p, g in zip(PIDS, "FMFM", strict=True)])
    store.upsert(
        conn,
        schema.enrolment,
        [
            dict(pid=p, school_year="2024-2025", school_id="S1", grade=grade, class_no=1)
            for p, grade in zip(PIDS[:3], [7, 8, 9], strict=True)
        ]
        + [dict(pid=PIDS[0], school_year="2023-2024", school_id="S1", grade=6, class_no=1)],
    )


ITEMS = np.array([[0, 1, 2], [3, np.nan, 1], [1, 1, 1], [2, 0, np.nan]])


def test_load_items_round_trips_matrix_with_grade_and_gender(engine):
    with engine.begin() as conn:
        _seed(conn)
        store.write_responses(
            conn, ITEMS, pids=PIDS, wave_id="2024-autumn", instrument="gad7", instrument_version="1"
        )
    frame = store.load_items(engine, wave_id="2024-autumn", instrument="gad7")
    assert frame.index.tolist() == PIDS
    np.testing.assert_array_equal(frame[["q1", "q2", "q3"]].to_numpy(), ITEMS)
    assert frame["gender"].tolist() == list("FMFM")
    assert frame["grade"].tolist()[:3] == [7, 8, 9]
    assert frame["grade"].isna().tolist() == [False, False, False, True]
    assert store.load_items(engine, wave_id="2024-autumn", instrument="phq9").shape == (0, 2)


def test_load_items_refuses_mixed_item_counts(engine):
    with engine.begin() as conn:
        _seed(conn)
        store.write_responses(
            conn, ITEMS[:2], pids=PIDS[:2], wave_id="2024-autumn", instrument="gad7", instrument_version="1"
        )
        store.write_responses(
            conn,
            ITEMS[2:, :2],
            pids=PIDS[2:],
            wave_id="2024-autumn",
            instrument="gad7",
            instrument_version="1",
        )
    with pytest.raises(ValueError, match="item counts differ"):
        store.load_items(engine, wave_id="2024-autumn", instrument="gad7")


def test_load_scores_joins_validity_grade_and_gender(engine):
    with engine.begin() as conn:
        _seed(conn)
        store.upsert(
            conn,
            schema.score,
            [
                dict(
                    wave_id="2024-autumn", pid=p, instrument="phq9", scale="total", raw=raw, spec_version="1"
                )
                for p, raw in zip(PIDS, [3.0, 11.0, None, 5.0], strict=True)
            ],
        )
        store.upsert(
            conn,
            schema.validity,
            [
                dict(wave_id="2024-autumn", pid=p, instrument="phq9", valid=v)
                for p, v in zip(PIDS[:3], [True, True, False], strict=True)
            ],
        )
    frame = store.load_scores(engine, wave_id="2024-autumn", instrument="phq9")
    assert frame.index.tolist() == PIDS
    assert frame["total"].tolist()[:2] == [3.0, 11.0]
    assert np.isnan(frame["total"].iloc[2])
    assert frame["valid"].tolist()[:3] == [True, True, False]
    assert frame["valid"].isna().iloc[3]
    assert frame["grade"].tolist()[:3] == [7, 8, 9]
    assert (frame["wave_id"] == "2024-autumn").all()


def test_load_items_can_leave_out_invalid_sheets(engine):
    """valid_only drops sheets scored invalid (e.g. MHT lie >= 7) and keeps unscored ones."""
    with engine.begin() as conn:
        _seed(conn)
        store.write_responses(
            conn, ITEMS, pids=PIDS, wave_id="2024-autumn", instrument="gad7", instrument_version="1"
        )
        store.upsert(
            conn,
            schema.validity,
            [
                dict(wave_id="2024-autumn", pid=PIDS[0], instrument="gad7", valid=True),
                dict(wave_id="2024-autumn", pid=PIDS[1], instrument="gad7", valid=False),
            ],
        )
    every = store.load_items(engine, wave_id="2024-autumn", instrument="gad7")
    valid = store.load_items(engine, wave_id="2024-autumn", instrument="gad7", valid_only=True)
    assert len(every) == 4
    assert sorted(valid.index) == sorted([PIDS[0], PIDS[2], PIDS[3]])
