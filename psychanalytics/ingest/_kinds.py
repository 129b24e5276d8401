"""What each import kind reads (fields, aliases, parsers) and which table rows it writes.

A kind is a list of :class:`Field` (canonical name from :data:`ALIASES`, parser,
required or not), the fields that form its natural key (two lines with the same
key and different content are refused as ``duplicate_key``), cross-field checks
against the database, and a builder turning accepted rows into table rows.

Rows travel as :data:`Columns` — one list per field, all of one length — from
parsing through the checks to the builders, which hand whole columns to
:func:`~psychanalytics.ingest._write.write_rows`: a million-row wave never
becomes a million dicts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import sqlalchemy as sa

from psychanalytics.ingest import _parse as p
from psychanalytics.ingest._headers import ALIASES, clean_text
from psychanalytics.store import schema

Row = dict[str, Any]
Columns = dict[str, Any]
"""Rows as columns: field name → list (or, for item codes, a rows × items ``int8`` array), all of one length."""
Write = tuple[sa.Table, Columns | list[Row], str]
"""Rows for one table — columns (a scalar stands for every row) or dicts, as
:func:`~psychanalytics.ingest._write.write_rows` takes them — and the conflict policy of
:func:`psychanalytics.store.upsert`: ``"fill"`` for what a file describes (a blank cell never erases a
stored value), ``"update"`` for values derived from the file (scores), ``"keep"`` for rows only created
when missing."""
Check = Callable[[Columns, list[int], "Context"], list[tuple[int, str, str]]]
"""A cross-field check: given the columns and the rows still accepted, ``(row, field, reason)`` of each
refusal; it may also rewrite a column in place (a school's name becomes its ``school_id``)."""


def take(columns: Columns, rows) -> Columns:
    """The ``rows`` (positions, in that order) of every column.

    >>> take({"pid": ["a", "b", "c"], "items": np.array([[1], [2], [3]], np.int8)}, [2, 0])
    {'pid': ['c', 'a'], 'items': array([[3],
           [1]], dtype=int8)}
    """
    rows = list(rows)
    return {
        name: column[rows] if isinstance(column, np.ndarray) else list(map(column.__getitem__, rows))
        for name, column in columns.items()
    }


@dataclass(frozen=True)
class Field:
    """A column an import kind reads: canonical name, parser (None keeps text), required or not."""

    name: str
    parse: Callable[[str], Any] | None = None
    required: bool = False
    doc: str = ""
    kept_as_written: Callable[[Any], bool] | None = None
    """For a column of plain cells (see ``_load._is_plain``): True when ``parse`` would return every cell
    unchanged, decided on the whole Arrow column at once — a million 学籍号 skip the per-cell parse."""

    @property
    def aliases(self) -> tuple[str, ...]:
        """Accepted headers (Chinese first)."""
        return ALIASES[self.name]


@dataclass
class Context:
    """What the checks and builders need: database lookups, options and per-file state.

    It holds no connection: during an import the connection belongs to the writer
    thread, so lookups are read once, here, before the first chunk.
    """

    batch_id: int
    school_year: str | None = None
    wave: Any = None
    spec: Any = None
    score: bool = False
    informant: str | None = None
    norm: str | None = None
    zero_based: bool = False
    option_numbers: bool = False
    bare_id_card: str = "add_g"
    has_students: bool = False
    schools: dict[str, str] = field(default_factory=dict)
    waves: set[str] = field(default_factory=set)
    seen_ids: dict[tuple, tuple] = field(default_factory=dict)

    @classmethod
    def load(cls, conn: sa.Connection, batch_id: int, **options) -> Context:
        """Read the school and wave lookups once per file."""
        schools: dict[str, str] = {}
        for school_id, name in conn.execute(sa.select(schema.school.c.school_id, schema.school.c.name)):
            schools[clean_text(school_id).lower()] = school_id
            schools[clean_text(name).lower()] = school_id
        waves = set(conn.execute(sa.select(schema.screening_wave.c.wave_id)).scalars())
        has_students = conn.execute(sa.select(schema.student.c.pid).limit(1)).first() is not None
        return cls(batch_id=batch_id, schools=schools, waves=waves, has_students=has_students, **options)


@dataclass(frozen=True)
class Kind:
    """An import kind: fields, natural key, checks and the table rows it builds."""

    name: str
    title: str
    fields: tuple[Field, ...]
    key: tuple[str, ...]
    build: Callable[[Columns, Context], list[Write]]
    checks: tuple[Check, ...] = ()
    needs_school_year: bool = False
    records: tuple[str, ...] = ()
    """Tables holding one row per line of the file: a line whose row is stored already is not new."""
    compared: tuple[str, ...] = ()
    """Tables whose stored rows a line is compared with (its records, and what it says of students)."""


# --- shared checks ----------------------------------------------------------------------


def needs(*fields: str):
    """Mark a check as only meaningful when the file has ``fields`` (it is skipped otherwise)."""

    def mark(check):
        check.needs = fields
        return check

    return mark


@needs("school")
def check_school(columns: Columns, rows: list[int], ctx: Context) -> list[tuple[int, str, str]]:
    """Replace ``school`` text by its ``school_id``; unknown schools are refused."""
    schools, refused = columns["school"], []
    for i in rows:
        if schools[i] is not None:
            school_id = ctx.schools.get(schools[i].lower())
            if school_id is None:
                refused.append((i, "school", "unknown_school"))
            else:
                schools[i] = school_id
    return refused


@needs("age", "grade")
def check_age_grade(columns: Columns, rows: list[int], ctx: Context) -> list[tuple[int, str, str]]:
    """An age must fit the grade: grade + 4 ≤ age ≤ grade + 10."""
    ages, grades = columns["age"], columns["grade"]
    return [
        (i, "age", "age_grade_mismatch")
        for i in rows
        if ages[i] is not None and grades[i] is not None and not grades[i] + 4 <= ages[i] <= grades[i] + 10
    ]


def check_school_year(columns: Columns, rows: list[int], ctx: Context) -> list[tuple[int, str, str]]:
    """Fill ``school_year`` from the ``--school-year`` option where the file has none."""
    years = columns.setdefault("school_year", [None] * _length(columns))
    for i in rows:
        if years[i] is None:
            years[i] = ctx.school_year
    return []


def _consistent(id_field: str, fields: tuple[str, ...]) -> Check:
    """Rows sharing ``id_field`` must agree on ``fields`` (the first line wins)."""

    def check(columns: Columns, rows: list[int], ctx: Context) -> list[tuple[int, str, str]]:
        ids, refused = columns[id_field], []
        for i in rows:
            values = tuple(columns[f][i] if f in columns else None for f in fields)
            first = ctx.seen_ids.setdefault((id_field, ids[i]), values)
            refused += [
                (i, f, "inconsistent") for f, a, b in zip(fields, values, first, strict=True) if a != b
            ]
        return refused

    return check


@needs("wave")
def check_wave(columns: Columns, rows: list[int], ctx: Context) -> list[tuple[int, str, str]]:
    """A referenced screening wave must exist."""
    waves = columns["wave"]
    return [(i, "wave", "unknown_wave") for i in rows if waves[i] is not None and waves[i] not in ctx.waves]


def _length(columns: Columns) -> int:
    return len(next(iter(columns.values())))


def _new_students(columns: Columns, ctx: Context) -> Write:
    """Student rows (pid only) for pids the database does not hold yet."""
    return schema.student, {"pid": columns["pid"], "batch_id": ctx.batch_id}, "keep"


def _first_row_of_each(columns: Columns, id_field: str) -> Columns:
    """The first row of each distinct ``id_field`` value, in order of appearance."""
    first: dict = {}
    for i, value in enumerate(columns[id_field]):
        first.setdefault(value, i)
    return take(columns, first.values())


# --- fields shared by several kinds -----------------------------------------------------


def _fits(column: sa.Column) -> Callable[[str], str]:
    """Parser of free text bound for ``column``: refused (``too_long``) beyond its declared length."""
    return partial(p.text, max_length=column.type.length)


STUDENT_NUMBER = Field(
    "student_number",
    parse=p.student_number,
    required=True,
    doc="学籍号; becomes the pseudonym pid, never stored",
    kept_as_written=p.student_numbers_as_written,
)
NAME = Field("name", doc="姓名: read for the quarantine report only, never stored")
SCHOOL = Field("school", clean_text, doc="school_id or Chinese school name from the school table")
SCHOOL_YEAR = Field("school_year", p.school_year, doc="学年 2024-2025 (or --school-year)")
GENDER = Field("gender", p.gender, doc="男/女, M/F")
GRADE = Field("grade", p.grade, doc="1-12, 七年级, 初一, 高三")
CLASS = Field("class", p.class_no, doc="3, 3班, (3)班, 初一(3)班")
AGE = Field("age", p.age, doc="5-20, checked against grade")
COHORT = Field(
    "cohort", p.year, doc="届: 2023, 2023届 (format checked; the stored cohort comes from 年级 and 学年)"
)

_YES_NO = p.boolean


def _bool_field(name: str, doc: str, required: bool = True) -> Field:
    return Field(name, _YES_NO, required=required, doc=f"{doc}: 是/否")


# --- roster -------------------------------------------------------------------------------


def _build_roster(columns: Columns, ctx: Context) -> list[Write]:
    pids, get, batch = columns["pid"], columns.get, ctx.batch_id
    students = {
        "pid": pids,
        "gender": get("gender"),
        "birth_year": get("birth"),
        "cohort": list(map(p.entry_cohort, columns["school_year"], columns["grade"])),
        "batch_id": batch,
    }
    enrolments = {
        "pid": pids,
        "school_year": columns["school_year"],
        "school_id": columns["school"],
        "grade": columns["grade"],
        "class_no": columns["class"],
        "boarder": get("boarder"),
        "batch_id": batch,
    }
    return [(schema.student, students, "fill"), (schema.enrolment, enrolments, "fill")]


ROSTER = Kind(
    name="roster",
    title="学生名册 / student roster (students and enrolments)",
    fields=(
        STUDENT_NUMBER,
        NAME,
        GENDER,
        Field("birth", p.birth_year, doc="出生日期 or 出生年份 (only the year is kept)"),
        COHORT,
        Field("school", clean_text, required=True, doc=SCHOOL.doc),
        SCHOOL_YEAR,
        Field("grade", p.grade, required=True, doc=GRADE.doc),
        Field("class", p.class_no, required=True, doc=CLASS.doc),
        AGE,
        _bool_field("boarder", "住校", required=False),
    ),
    key=("pid", "school_year"),
    build=_build_roster,
    checks=(check_school_year, check_school, check_age_grade),
    needs_school_year=True,
    records=("enrolment",),
    compared=("enrolment", "student"),
)

# --- staff ----------------------------------------------------------------------------------

_EMPLOYMENT = {
    "专职": "full_time",
    "full_time": "full_time",
    "full-time": "full_time",
    "兼职": "part_time",
    "part_time": "part_time",
    "part-time": "part_time",
}


def _build_staff(columns: Columns, ctx: Context) -> list[Write]:
    staff = {
        "staff_id": columns["staff_id"],
        "school_year": columns["school_year"],
        "school_id": columns["school"],
        "employment": columns["employment"],
        **{
            n: columns.get(n)
            for n in ("psychology_degree", "certificate", "does_psychology_work", "weekly_hours")
        },
        "batch_id": ctx.batch_id,
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
        _bool_field("psychology_degree", "心理学专业", required=False),
        Field("certificate", _fits(schema.staff.c.certificate), doc="e.g. 心理健康教育C证"),
        _bool_field("does_psychology_work", "实际从事心理工作", required=False),
        Field("weekly_hours", partial(p.number, lo=0, hi=60), doc="周课时 0-60"),
    ),
    key=("staff_id", "school_year"),
    build=_build_staff,
    checks=(check_school_year, check_school),
    needs_school_year=True,
    records=("staff",),
    compared=("staff",),
)

# --- rooms ------------------------------------------------------------------------------------

_ROOM_FLAGS = tuple((name, schema.room.c[name].comment) for name in schema.ROOM_REQUIREMENTS)


def _build_rooms(columns: Columns, ctx: Context) -> list[Write]:
    names = [n for n, _ in _ROOM_FLAGS] + ["area_m2", "open_hours_week", "inspected_on", "inspection_passed"]
    rooms = {
        "school_id": columns["school"],
        "school_year": columns["school_year"],
        **{n: columns.get(n) for n in names},
        "batch_id": ctx.batch_id,
    }
    return [(schema.room, rooms, "fill")]


ROOMS = Kind(
    name="rooms",
    title="心理辅导室 / counselling rooms",
    fields=(
        Field("school", clean_text, required=True, doc=SCHOOL.doc),
        SCHOOL_YEAR,
        *(_bool_field(n, doc) for n, doc in _ROOM_FLAGS),
        Field("area_m2", partial(p.number, lo=0, hi=2000), doc="面积 m²"),
        Field("open_hours_week", partial(p.number, lo=0, hi=168), doc="每周开放时长 hours"),
        Field("inspected_on", p.day, doc="年检日期"),
        _bool_field("inspection_passed", "年检合格", required=False),
    ),
    key=("school", "school_year"),
    build=_build_rooms,
    checks=(check_school_year, check_school),
    needs_school_year=True,
    records=("room",),
    compared=("room",),
)

# --- activities -------------------------------------------------------------------------------

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


def _build_activities(columns: Columns, ctx: Context) -> list[Write]:
    activities = {
        "activity_id": columns["activity_id"],
        "held_on": columns["held_on"],
        "school_id": columns.get("school"),
        "kind": columns["activity_kind"],
        "title": columns["title"],
        "attendance": columns.get("attendance"),
        "batch_id": ctx.batch_id,
    }
    return [(schema.activity, activities, "fill")]


ACTIVITIES = Kind(
    name="activities",
    title="心理健康活动 / activities (lectures, parent classes, carnivals …)",
    fields=(
        Field("activity_id", _fits(schema.activity.c.activity_id), required=True, doc="活动编号"),
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

# --- interventions ------------------------------------------------------------------------------

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


def _build_interventions(columns: Columns, ctx: Context) -> list[Write]:
    heads, get = _first_row_of_each(columns, "intervention_id"), columns.get
    interventions = {
        "intervention_id": heads["intervention_id"],
        "school_id": heads["school"],
        "school_year": heads["school_year"],
        "kind": heads["intervention_kind"],
        "title": heads["title"],
        "instrument": heads["instrument"],
        "scale": [s or "total" for s in heads["scale"]] if "scale" in heads else "total",
        **{n: heads[n] for n in ("sessions_planned", "start_on", "end_on")},
        "batch_id": ctx.batch_id,
    }
    participants = {
        "intervention_id": columns["intervention_id"],
        "pid": columns["pid"],
        "arm": columns["arm"],
        **{n: get(n) for n in ("sessions_attended", "pre_score", "post_score", "pre_on", "post_on")},
        "batch_id": ctx.batch_id,
    }
    return [
        _new_students(columns, ctx),
        (schema.intervention, interventions, "fill"),
        (schema.participant, participants, "fill"),
    ]


INTERVENTIONS = Kind(
    name="interventions",
    title="干预项目 / interventions (one line per participant, pre/post scores)",
    fields=(
        Field("intervention_id", _fits(schema.intervention.c.intervention_id), required=True, doc="项目编号"),
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
        Field("scale", _fits(schema.intervention.c.scale), doc="维度 (default total)"),
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
    checks=(check_school_year, check_school, _consistent("intervention_id", _INTERVENTION_FIELDS)),
    needs_school_year=True,
    records=("participant",),
    compared=("participant",),
)

# --- crisis ---------------------------------------------------------------------------------------

_SOURCES = {
    "普测": "screening",
    "筛查": "screening",
    "观察": "observation",
    "教师观察": "observation",
    "主动求助": "self_referral",
    "自主求助": "self_referral",
    "家长": "parent",
    "同伴": "peer",
    **{k: k for k in ("screening", "observation", "self_referral", "parent", "peer")},
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


def _build_crisis(columns: Columns, ctx: Context) -> list[Write]:
    heads = _first_row_of_each(columns, "case_id")
    cases = {
        "case_id": heads["case_id"],
        "pid": heads["pid"],
        "school_id": heads["school"],
        "source": heads["crisis_source"],
        "severity": heads["severity"],
        "local_label": heads.get("local_label"),
        "wave_id": heads.get("wave"),
        "batch_id": ctx.batch_id,
    }
    events = {
        **{n: columns[n] for n in ("case_id", "seq", "stage", "level", "occurred_at")},
        "batch_id": ctx.batch_id,
    }
    return [
        _new_students(columns, ctx),
        (schema.crisis_case, cases, "fill"),
        (schema.crisis_event, events, "fill"),
    ]


CRISIS = Kind(
    name="crisis",
    title="危机个案 / crisis cases and stage events (one line per event)",
    fields=(
        Field("case_id", _fits(schema.crisis_case.c.case_id), required=True, doc="个案编号"),
        STUDENT_NUMBER,
        NAME,
        Field("school", clean_text, required=True, doc=SCHOOL.doc),
        Field(
            "crisis_source",
            partial(p.choice, options=_SOURCES),
            required=True,
            doc="来源 普测/观察/主动求助/家长/同伴",
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
    checks=(check_school, check_wave, _consistent("case_id", _CASE_FIELDS)),
    records=("crisis_event",),
    compared=("crisis_event",),
)
