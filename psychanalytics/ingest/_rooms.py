"""The rooms import kind — 心理辅导室: counselling rooms against the 2015 guide's requirements."""

from __future__ import annotations

from functools import partial

from psychanalytics.ingest import _parse as p
from psychanalytics.ingest._headers import clean_text
from psychanalytics.ingest._kind import (
    SCHOOL,
    SCHOOL_YEAR,
    Columns,
    Context,
    Field,
    Kind,
    Write,
    bool_field,
    check_school,
    check_school_year,
)
from psychanalytics.store import schema

_ROOM_FLAGS = tuple((name, schema.room.c[name].comment) for name in schema.ROOM_REQUIREMENTS)


def _build_rooms(columns: Columns, context: Context) -> list[Write]:
    names = [n for n, _ in _ROOM_FLAGS] + ["area_m2", "open_hours_week", "inspected_on", "inspection_passed"]
    rooms = {
        "school_id": columns["school"],
        "school_year": columns["school_year"],
        **{n: columns.get(n) for n in names},
        "batch_id": context.batch_id,
    }
    return [(schema.room, rooms, "fill")]


ROOMS = Kind(
    name="rooms",
    title="心理辅导室 / counselling rooms",
    fields=(
        Field("school", clean_text, required=True, doc=SCHOOL.doc),
        SCHOOL_YEAR,
        *(bool_field(n, doc) for n, doc in _ROOM_FLAGS),
        Field("area_m2", partial(p.number, lo=0, hi=2000), doc="面积 m²"),
        Field("open_hours_week", partial(p.number, lo=0, hi=168), doc="每周开放时长 hours"),
        Field("inspected_on", p.day, doc="年检日期"),
        bool_field("inspection_passed", "年检合格", required=False),
    ),
    key=("school", "school_year"),
    build=_build_rooms,
    checks=(check_school_year, check_school),
    needs_school_year=True,
    records=("room",),
    compared=("room",),
)
