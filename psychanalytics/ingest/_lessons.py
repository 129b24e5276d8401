"""The lessons import kind — 心理健康课课时台账: psychology lessons planned and delivered per term and grade."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

from psychanalytics.ingest import _parse as p
from psychanalytics.ingest._kind import GRADE, Field, bool_field, school_year_ledger
from psychanalytics.store import schema

_TERMS = {
    **dict.fromkeys(("1", "第一学期", "上学期", "秋季学期", "第1学期"), 1),
    **dict.fromkeys(("2", "第二学期", "下学期", "春季学期", "第2学期"), 2),
}
"""学期 as schools write it → ``course_delivery.term`` (1 autumn, 2 spring)."""

_LESSONS = partial(p.integer, lo=0, hi=200)

LESSONS = school_year_ledger(
    "lessons",
    "心理健康课课时台账 / psychology lessons planned and delivered (per term and grade)",
    schema.course_delivery,
    (
        Field(
            "term",
            partial(p.choice, options=_TERMS),
            required=True,
            doc="学期 第一学期/上学期 1, 第二学期/下学期 2",
        ),
        replace(GRADE, required=True),
        Field("lessons_planned", _LESSONS, required=True, doc="计划课时 0-200"),
        Field("lessons_delivered", _LESSONS, required=True, doc="实际课时 0-200"),
        bool_field("uses_district_materials", "使用区本七彩积极品格教材", required=False),
    ),
    key=("school", "school_year", "term", "grade"),
)
