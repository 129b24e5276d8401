"""The crisis import kind — 危机个案: crisis cases and their stage events, one line per event."""

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
    check_wave,
    consistent,
    first_row_of_each,
    fits,
    new_students,
)
from psychanalytics.store import schema

_SOURCES = {
    "普测": "screening",
    "筛查": "screening",
    "班主任": "head_teacher",
    "班主任观察": "head_teacher",
    "任课教师": "teacher",
    "任课老师": "teacher",
    "教师": "teacher",
    "心理委员": "class_committee",
    "班级心理委员": "class_committee",
    "主动求助": "self_referral",
    "自主求助": "self_referral",
    "家长": "parent",
    "家长反映": "parent",
    "普测筛查": "screening",
    "同学": "peer",
    "同学报告": "peer",
    "同伴": "peer",
    # files written before the split (DESIGN.md decision 93): a teacher's observation, head teacher or not
    "观察": "observation",
    "教师观察": "observation",
    **{k: k for k in schema.CRISIS_SOURCES},
}
_STAGES = {
    "发现": "raised",
    "上报": "raised",
    "确认": "confirmed",
    "干预": "intervention",
    "转介": "referred",
    "结案": "closed",
    **{k: k for k in schema.CRISIS_STAGES},
}
_LEVELS = {"班级": "class", "学校": "school", "社会": "society", **{k: k for k in schema.CRISIS_LEVELS}}
_CASE_FIELDS = ("pid", "school", "crisis_source", "severity", "local_label", "wave")


def _build_crisis(columns: Columns, context: Context) -> list[Write]:
    heads = first_row_of_each(columns, "case_id")
    cases = {
        "case_id": heads["case_id"],
        "pid": heads["pid"],
        "school_id": heads["school"],
        "source": heads["crisis_source"],
        "severity": heads["severity"],
        "local_label": heads.get("local_label"),
        "wave_id": heads.get("wave"),
        "batch_id": context.batch_id,
    }
    events = {
        **{n: columns[n] for n in ("case_id", "seq", "stage", "level", "occurred_at")},
        "batch_id": context.batch_id,
    }
    return [
        new_students(columns, context),
        (schema.crisis_case, cases, "fill"),
        (schema.crisis_event, events, "fill"),
    ]


CRISIS = Kind(
    name="crisis",
    title="危机个案 / crisis cases and stage events (one line per event)",
    fields=(
        Field("case_id", fits(schema.crisis_case.c.case_id), required=True, doc="个案编号"),
        STUDENT_NUMBER,
        NAME,
        Field("school", clean_text, required=True, doc=SCHOOL.doc),
        Field(
            "crisis_source",
            partial(p.choice, options=_SOURCES),
            required=True,
            doc="来源 普测/班主任/任课教师/心理委员/家长/主动求助/同学（旧文件的「观察」仍可读）",
        ),
        Field("severity", partial(p.integer, lo=1, hi=3), required=True, doc="严重程度 1-3 (3 most severe)"),
        Field("local_label", clean_text, doc="预警等级 as the school writes it"),
        Field("wave", clean_text, doc="普测批次 wave_id (must exist)"),
        Field("seq", partial(p.integer, lo=1, hi=100), required=True, doc="序号 of the event"),
        Field(
            "stage", partial(p.choice, options=_STAGES), required=True, doc="阶段 发现/确认/干预/转介/结案"
        ),
        Field("level", partial(p.choice, options=_LEVELS), required=True, doc="层级 班级/学校/社会"),
        Field("occurred_at", p.moment, required=True, doc="时间 2024-09-01 08:30"),
    ),
    key=("case_id", "seq"),
    build=_build_crisis,
    checks=(check_school, check_wave, consistent("case_id", _CASE_FIELDS)),
    records=("crisis_event",),
    compared=("crisis_event",),
)
