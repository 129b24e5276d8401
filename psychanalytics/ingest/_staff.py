"""The staff import kind — 心理教师: psychology staff per school year (工号 becomes a pseudonymous staff_id)."""

from __future__ import annotations

from functools import partial

from psychanalytics.ingest import _parse as p
from psychanalytics.ingest._headers import clean_text
from psychanalytics.ingest._kind import (
    NAME,
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
    fits,
)
from psychanalytics.store import schema

_EMPLOYMENT = {
    "专职": "full_time",
    "full_time": "full_time",
    "full-time": "full_time",
    "兼职": "part_time",
    "part_time": "part_time",
    "part-time": "part_time",
}


def _build_staff(columns: Columns, context: Context) -> list[Write]:
    staff = {
        "staff_id": columns["staff_id"],
        "school_year": columns["school_year"],
        "school_id": columns["school"],
        "employment": columns["employment"],
        **{
            n: columns.get(n)
            for n in ("psychology_degree", "certificate", "does_psychology_work", "weekly_hours")
        },
        "batch_id": context.batch_id,
    }
    return [(schema.staff, staff, "fill")]


STAFF = Kind(
    name="staff",
    title="心理教师 / psychology staff",
    fields=(
        Field(
            "staff_number",
            parse=p.identifier,
            required=True,
            doc="工号; becomes a pseudonymous staff_id, never stored",
            kept_as_written=p.identifiers_as_written,
        ),
        NAME,
        Field("school", clean_text, required=True, doc=SCHOOL.doc),
        SCHOOL_YEAR,
        Field("employment", partial(p.choice, options=_EMPLOYMENT), required=True, doc="专职/兼职"),
        bool_field("psychology_degree", "心理学专业", required=False),
        Field("certificate", fits(schema.staff.c.certificate), doc="e.g. 心理健康教育C证"),
        bool_field("does_psychology_work", "实际从事心理工作", required=False),
        Field("weekly_hours", partial(p.number, lo=0, hi=60), doc="周课时 0-60"),
    ),
    key=("staff_id", "school_year"),
    build=_build_staff,
    checks=(check_school_year, check_school),
    needs_school_year=True,
    records=("staff",),
    compared=("staff",),
)
