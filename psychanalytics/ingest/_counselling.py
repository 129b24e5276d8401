"""The counselling import kind — 心理辅导记录: individual and group counselling sessions and referrals.

A line names a student by 学籍号, which becomes the pseudonym ``pid`` at the door as in the
interventions and crisis kinds: never stored, masked in a refused line's quarantine row, and a
student erased at a request (``psychanalytics forget``) is refused rather than brought back.
"""

from __future__ import annotations

from functools import partial

from psychanalytics.ingest import _parse as p
from psychanalytics.ingest._headers import clean_text
from psychanalytics.ingest._kind import (
    NAME,
    SCHOOL,
    STUDENT_NUMBER,
    Columns,
    Context,
    Field,
    Kind,
    Write,
    check_school,
    fits,
    new_students,
)
from psychanalytics.store import schema

_KINDS = {
    **dict.fromkeys(("个别辅导", "个体辅导", "个别咨询", "individual"), "individual"),
    **dict.fromkeys(("团体辅导", "团体心理辅导", "团辅", "group"), "group"),
    **dict.fromkeys(("转介", "转介就医", "referral"), "referral"),
}


def _build_counselling(columns: Columns, context: Context) -> list[Write]:
    sessions = {
        "session_id": columns["session_id"],
        "pid": columns["pid"],
        "school_id": columns["school"],
        "held_on": columns["held_on"],
        "kind": columns["counselling_kind"],
        "minutes": columns.get("minutes"),
        "batch_id": context.batch_id,
    }
    return [new_students(columns, context), (schema.counselling_session, sessions, "fill")]


COUNSELLING = Kind(
    name="counselling",
    title="心理辅导记录 / counselling sessions (individual, group, referral), one line per student and session",
    fields=(
        Field("session_id", fits(schema.counselling_session.c.session_id), required=True, doc="记录编号"),
        STUDENT_NUMBER,
        NAME,
        Field("school", clean_text, required=True, doc=SCHOOL.doc),
        Field("held_on", p.day, required=True, doc="辅导日期"),
        Field(
            "counselling_kind",
            partial(p.choice, options=_KINDS),
            required=True,
            doc="辅导类型 个别辅导 individual, 团体辅导 group, 转介 referral",
        ),
        Field("minutes", partial(p.integer, lo=1, hi=480), doc="时长(分钟) 1-480"),
    ),
    key=("session_id",),
    build=_build_counselling,
    checks=(check_school,),
    records=("counselling_session",),
    compared=("counselling_session",),
)
