"""Counselling-room records of every reporting school and year (issue #13)."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from psychanalytics.store.queries._common import frame_of, reporting_schools
from psychanalytics.store.schema import ROOM_REQUIREMENTS, room, school_year_stats

__all__ = ["room_records"]


def room_records(engine: sa.Engine) -> pd.DataFrame:
    """The room of every school that reports a school year, or ``has_room = False`` without one.

    Returns
    -------
    pandas.DataFrame
        One row per ``school_year_stats`` row, ordered by year and school: ``school_year, school_id,
        school_name, stage, location, has_room``, the yes/no requirements
        (:data:`~psychanalytics.store.schema.ROOM_REQUIREMENTS`, false without a room),
        ``area_m2, open_hours_week, inspected_on, inspection_passed``.

    Examples
    --------
    >>> from psychanalytics import store
    >>> engine = store.connect("sqlite://")
    >>> store.create_all(engine)
    >>> room_records(engine).columns.tolist()[:6]
    ['school_year', 'school_id', 'school_name', 'stage', 'location', 'has_room']
    """
    stats = school_year_stats.c
    stmt = reporting_schools(
        room.c.school_id.is_not(None).label("has_room"),
        *[sa.func.coalesce(room.c[c], sa.false()).label(c) for c in ROOM_REQUIREMENTS],
        room.c.area_m2,
        room.c.open_hours_week,
        room.c.inspected_on,
        room.c.inspection_passed,
        joined=room,
        on=sa.and_(room.c.school_id == stats.school_id, room.c.school_year == stats.school_year),
    )
    out = frame_of(engine, stmt)
    return out.astype({c: bool for c in ["has_room", *ROOM_REQUIREMENTS]})
