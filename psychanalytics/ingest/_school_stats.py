"""The school_stats import kind — 学校年度情况: enrolment, classes, governance and coverage per school year."""

from __future__ import annotations

from functools import partial

from psychanalytics.ingest import _parse as p
from psychanalytics.ingest._kind import Check, Columns, Context, Field, bool_field, needs, school_year_ledger
from psychanalytics.store import schema

_COUNT = partial(p.integer, lo=0, hi=100_000)


def at_most(part: str, whole: str) -> Check:
    """A count that is part of another (住校生 of 在校生) may not exceed it: refused as ``out_of_range``."""

    @needs(part, whole)
    def check(columns: Columns, rows: list[int], context: Context) -> list[tuple[int, str, str]]:
        parts, wholes = columns[part], columns[whole]
        return [
            (i, part, "out_of_range")
            for i in rows
            if parts[i] is not None and wholes[i] is not None and parts[i] > wholes[i]
        ]

    return check


SCHOOL_STATS = school_year_ledger(
    "school_stats",
    "学校年度情况 / school yearly stats: enrolment, classes, governance, mentors, 心理委员",
    schema.school_year_stats,
    (
        Field("enrolment", _COUNT, required=True, doc="在校生数"),
        Field("n_classes", _COUNT, required=True, doc="班级数"),
        Field("boarders", _COUNT, required=True, doc="住校生数 (0 when none), at most 在校生数"),
        bool_field("has_leadership_group", "心理健康教育领导小组", required=False),
        Field("special_meetings", _COUNT, doc="专题会次数 this year"),
        bool_field("has_three_year_plan", "三年规划", required=False),
        bool_field("is_characteristic_school", "市特色校", required=False),
        Field("n_teachers", _COUNT, doc="全体教师数"),
        Field("n_mentors", _COUNT, doc="导师数 (全员导师制), at most 全体教师数"),
        Field("classes_with_committee", _COUNT, doc="设有心理委员的班级数, at most 班级数"),
    ),
    checks=(
        at_most("boarders", "enrolment"),
        at_most("n_mentors", "n_teachers"),
        at_most("classes_with_committee", "n_classes"),
    ),
)
