"""The interventions import kind — 干预项目: interventions, one line per participant, with pre/post scores."""

from __future__ import annotations

from functools import partial

from psychanalytics.ingest import _parse as p
from psychanalytics.ingest._headers import clean_text
from psychanalytics.ingest._kind import (
    NAME,
    SCHOOL,
    SCHOOL_YEAR,
    STUDENT_NUMBER,
    Columns,
    Context,
    Field,
    Kind,
    Write,
    check_school,
    check_school_year,
    consistent,
    first_row_of_each,
    fits,
    new_students,
)
from psychanalytics.store import schema

_ARMS = {
    "实验组": "treatment",
    "干预组": "treatment",
    "treatment": "treatment",
    "对照组": "comparison",
    "comparison": "comparison",
    "control": "comparison",
}
_INTERVENTION_FIELDS = (
    "title",
    "intervention_kind",
    "school",
    "school_year",
    "instrument",
    "scale",
    "sessions_planned",
    "start_on",
    "end_on",
)


_INTERVENTION_KINDS = {
    **dict.fromkeys(("团体辅导", "团体心理辅导", "团辅", "group_counselling"), "group_counselling"),
    **dict.fromkeys(("个别辅导", "个体辅导", "individual_counselling"), "individual_counselling"),
    **dict.fromkeys(("心理课程", "心理健康课", "积极品格课程", "curriculum"), "curriculum"),
    **dict.fromkeys(("家长课堂", "parent_class"), "parent_class"),
}


def _build_interventions(columns: Columns, context: Context) -> list[Write]:
    heads, get = first_row_of_each(columns, "intervention_id"), columns.get
    interventions = {
        "intervention_id": heads["intervention_id"],
        "school_id": heads["school"],
        "school_year": heads["school_year"],
        "kind": heads["intervention_kind"],
        "title": heads["title"],
        "instrument": heads["instrument"],
        "scale": [s or "total" for s in heads["scale"]] if "scale" in heads else "total",
        **{n: heads[n] for n in ("sessions_planned", "start_on", "end_on")},
        "batch_id": context.batch_id,
    }
    participants = {
        "intervention_id": columns["intervention_id"],
        "pid": columns["pid"],
        "arm": columns["arm"],
        **{n: get(n) for n in ("sessions_attended", "pre_score", "post_score", "pre_on", "post_on")},
        "batch_id": context.batch_id,
    }
    return [
        new_students(columns, context),
        (schema.intervention, interventions, "fill"),
        (schema.participant, participants, "fill"),
    ]


INTERVENTIONS = Kind(
    name="interventions",
    title="干预项目 / interventions (one line per participant, pre/post scores)",
    fields=(
        Field("intervention_id", fits(schema.intervention.c.intervention_id), required=True, doc="项目编号"),
        Field("title", clean_text, required=True, doc="项目名称"),
        Field(
            "intervention_kind",
            partial(p.choice, options=_INTERVENTION_KINDS),
            required=True,
            doc="干预类型: 团体辅导 group_counselling, 个别辅导 individual_counselling, 心理课程 curriculum, "
            "家长课堂 parent_class",
        ),
        Field("school", clean_text, required=True, doc=SCHOOL.doc),
        SCHOOL_YEAR,
        Field("instrument", p.instrument_code, required=True, doc="结局量表 code, e.g. phq9, PHQ-9"),
        Field("scale", fits(schema.intervention.c.scale), doc="维度 (default total)"),
        Field("sessions_planned", partial(p.integer, lo=1, hi=200), required=True, doc="计划次数"),
        Field("start_on", p.day, required=True, doc="开始日期"),
        Field("end_on", p.day, required=True, doc="结束日期"),
        STUDENT_NUMBER,
        NAME,
        Field("arm", partial(p.choice, options=_ARMS), required=True, doc="组别 实验组/对照组"),
        Field("sessions_attended", partial(p.integer, lo=0, hi=200), doc="出勤次数"),
        Field("pre_score", p.number, doc="前测"),
        Field("post_score", p.number, doc="后测"),
        Field("pre_on", p.day, doc="前测日期"),
        Field("post_on", p.day, doc="后测日期"),
    ),
    key=("intervention_id", "pid"),
    build=_build_interventions,
    checks=(check_school_year, check_school, consistent("intervention_id", _INTERVENTION_FIELDS)),
    needs_school_year=True,
    records=("participant",),
    compared=("participant",),
)
