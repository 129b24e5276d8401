"""Rows shared by the store tests."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

AUTUMN_2024 = dict(
    wave_id="2024-autumn",
    school_year="2024-2025",
    season="autumn",
    window_start=dt.date(2024, 9, 21),
    window_end=dt.date(2024, 10, 30),
    label="2024年秋季普测",
)
"""The screening wave the store tests write into (its dates check the Date round trip)."""


def empty_database(engine: sa.Engine) -> None:
    """Drop every table of the database (PostgreSQL tests share one; migration tests add their own)."""
    with engine.begin() as conn:
        tables = sa.MetaData()
        tables.reflect(conn)
        tables.drop_all(conn)
