"""The activities import kind — 心理健康活动: lectures, parent classes, carnivals and other activities."""

from __future__ import annotations

from functools import partial

from psychanalytics.ingest import _parse as p
from psychanalytics.ingest._headers import clean_text
from psychanalytics.ingest._kind import (
    Columns,
    Context,
    Field,
    Kind,
    Write,
    check_school,
    fits,
)
from psychanalytics.store import schema

_ACTIVITY_KINDS = {
    "讲座": "lecture",
    "专题讲座": "lecture",
    "家长课堂": "parent_class",
    "嘉年华": "carnival",
    "心理嘉年华": "carnival",
    "主题班会": "themed_meeting",
    "社团": "club",
    "培训": "training",
    **{k: k for k in schema.ACTIVITY_KINDS},
}


def _build_activities(columns: Columns, context: Context) -> list[Write]:
    activities = {
        "activity_id": columns["activity_id"],
        "held_on": columns["held_on"],
        "school_id": columns.get("school"),
        "kind": columns["activity_kind"],
        "title": columns["title"],
        "attendance": columns.get("attendance"),
        "batch_id": context.batch_id,
    }
    return [(schema.activity, activities, "fill")]


ACTIVITIES = Kind(
    name="activities",
    title="心理健康活动 / activities (lectures, parent classes, carnivals …)",
    fields=(
        Field("activity_id", fits(schema.activity.c.activity_id), required=True, doc="活动编号"),
        Field("held_on", p.day, required=True, doc="日期"),
        Field("school", clean_text, doc="学校; empty for a district-level activity"),
        Field(
            "activity_kind",
            partial(p.choice, options=_ACTIVITY_KINDS),
            required=True,
            doc="讲座/家长课堂/嘉年华/主题班会/社团/培训",
        ),
        Field("title", clean_text, required=True, doc="活动名称"),
        Field("attendance", partial(p.integer, lo=0, hi=100_000), doc="参与人数"),
    ),
    key=("activity_id",),
    build=_build_activities,
    checks=(check_school,),
    records=("activity",),
    compared=("activity",),
)
