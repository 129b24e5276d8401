"""The rooms import kind — 心理辅导室: counselling rooms against the 2015 guide's requirements."""

from __future__ import annotations

from functools import partial

from psychanalytics.ingest import _parse as p
from psychanalytics.ingest._kind import Field, bool_field, school_year_ledger
from psychanalytics.store import schema

_ROOM_FLAGS = tuple((name, schema.room.c[name].comment) for name in schema.ROOM_REQUIREMENTS)

ROOMS = school_year_ledger(
    "rooms",
    "心理辅导室 / counselling rooms",
    schema.room,
    (
        *(bool_field(n, doc) for n, doc in _ROOM_FLAGS),
        Field("area_m2", partial(p.number, lo=0, hi=2000), doc="面积 m²"),
        Field("open_hours_week", partial(p.number, lo=0, hi=168), doc="每周开放时长 hours"),
        Field("inspected_on", p.day, doc="年检日期"),
        bool_field("inspection_passed", "年检合格", required=False),
    ),
)
