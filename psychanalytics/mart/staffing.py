"""Mart tables of the 「师资与阵地」 page: staffing gaps per standard, teachers, students per teacher, the hiring
projection, counselling rooms, courses and activities.

Every table is cut by school year and by group of schools (学段 ``stage`` × 城乡 ``location``, ``all`` for
the margins: :func:`psychanalytics.mart._evaluated.groups`), so that a page's filters choose among published
rows and never add rows up. The numbers come from :func:`psychanalytics.plan.evaluate` (staffing,
facilities and activities results of the library), judged in each school year.

Counts of schools, teachers, lessons, grade-terms and months are institutional facts: schools go through
the policy with ``unit="school"`` (shown whole), the rest are published without it (``no_people``).
Students appear in one table only, :data:`STUDENTS_PER_TEACHER` (enrolment of a group of schools), which
the policy protects as counts of students.
"""

from __future__ import annotations

import pandas as pd

from psychanalytics.mart._evaluated import ALL, by_group, evaluated, latest
from psychanalytics.mart._registry import MartTable, register

GROUP = ("school_year", "stage", "location")

_GAP_COLUMNS = [*GROUP, "standard", "name_zh", "name_en", "count", "n", "proportion", "teachers_needed"]


def _gaps(engine) -> pd.DataFrame:
    from psychanalytics import staffing  # imported on use: a page reading this table's name does not load it

    results = latest(engine)
    columns = [*_GAP_COLUMNS, "target_share", "deadline"]
    if results is None:
        return pd.DataFrame(columns=columns)

    def summary(rows):
        if rows.empty:
            return rows
        return staffing.district_gaps(rows, standards_used=results.standards)

    gaps = by_group(results.school_gaps, results.schools, summary, columns)
    return gaps[columns]


_TEACHER_COLUMNS = [*GROUP, "schools", "full_time", "part_time", "fte"]


def _teachers(engine) -> pd.DataFrame:
    results = latest(engine)
    if results is None:
        return pd.DataFrame(columns=_TEACHER_COLUMNS)

    def summary(rows):
        return (
            rows.groupby("school_year", sort=True)
            .agg(schools=("school_id", "size"), full_time=("full_time", "sum"), part_time=("part_time", "sum"),
                 fte=("fte", "sum"))
            .reset_index()
        )  # fmt: skip

    return by_group(results.profile, results.schools, summary, _TEACHER_COLUMNS)[_TEACHER_COLUMNS]


_STUDENT_COLUMNS = [*GROUP, "count", "n", "proportion", "students_per_full_time"]


def _students_per_teacher(engine) -> pd.DataFrame:
    results = latest(engine)
    if results is None:
        return pd.DataFrame(columns=_STUDENT_COLUMNS)

    def summary(rows):
        rows = rows.assign(served=rows["enrolment"].where(rows["full_time"] > 0, 0))
        out = (
            rows.groupby("school_year", sort=True)
            .agg(count=("served", "sum"), n=("enrolment", "sum"), full_time=("full_time", "sum"))
            .reset_index()
        )
        out["proportion"] = out["count"] / out["n"].where(out["n"] > 0)
        out["students_per_full_time"] = out["n"] / out["full_time"].where(out["full_time"] > 0)
        return out.drop(columns="full_time")

    out = by_group(results.profile, results.schools, summary, _STUDENT_COLUMNS)[_STUDENT_COLUMNS]
    return out.astype({"count": "int64", "n": "int64"})


_PROJECTION_COLUMNS = [
    "as_of", "standard", "name_zh", "deadline", "school_year", "kind", "value", "low", "high", "current",
    "pace", "projected", "probability", "needed_per_year", "years_left", "ci",
]  # fmt: skip


def _projections(engine) -> pd.DataFrame:
    _, results = evaluated(engine)
    parts = []
    for as_of, judged in results.items():
        names = {s.code: s for s in judged.standards}
        for code, ahead in judged.projections.items():
            parts.append(
                ahead.table.assign(
                    as_of=as_of, standard=code, name_zh=names[code].name_zh, deadline=names[code].deadline,
                    current=ahead.current, pace=ahead.pace, projected=ahead.projected,
                    probability=ahead.probability, needed_per_year=ahead.needed_per_year,
                    years_left=ahead.years_left, ci=ahead.ci,
                )
            )  # fmt: skip
    if not parts:
        return pd.DataFrame(columns=_PROJECTION_COLUMNS)
    return pd.concat(parts, ignore_index=True)[_PROJECTION_COLUMNS]


_ROOM_COLUMNS = ["school_year", "count", "n", "proportion", "target_share", "deadline"]


def _room_compliance(engine) -> pd.DataFrame:
    results = latest(engine)
    if results is None:
        return pd.DataFrame(columns=_ROOM_COLUMNS)
    return results.room_share[_ROOM_COLUMNS]


_REQUIREMENT_COLUMNS = [*GROUP, "requirement", "name_zh", "name_en", "count", "n", "proportion"]


def _room_requirements(engine) -> pd.DataFrame:
    results = latest(engine)
    if results is None:
        return pd.DataFrame(columns=_REQUIREMENT_COLUMNS)

    def summary(rows):
        out = (
            rows.groupby(["school_year", "requirement", "name_zh", "name_en"], sort=False)["met"]
            .agg(count="sum", n="size")
            .reset_index()
        )
        out["proportion"] = out["count"] / out["n"]
        return out.astype({"count": "int64", "n": "int64"})

    return by_group(results.room_compliance, results.schools, summary, _REQUIREMENT_COLUMNS)[
        _REQUIREMENT_COLUMNS
    ]


ACTIVITY_MEASURES = {
    "lessons_in_full": ("心理健康课开足的年级学期", "grade-terms given their psychology lessons in full", "个年级学期"),
    "lessons_delivered": ("心理健康课实开课时 / 应开课时", "psychology lessons delivered of those required", "课时"),
    "parent_classes": ("开办家长课堂的学校", "schools holding a parent class", "校"),
    "event_days": ("宣传日开展校园活动（学校·宣传日）", "event days marked by schools", "校·天"),
    "counselling_months": ("有个体辅导记录的教学月（学校·月）", "teaching months with counselling recorded", "校·月"),
    "lecture_months": ("「让爱更有智慧」讲座：举办月份（全区）", "months with the district lecture", "个月"),
}  # fmt: skip
"""Courses and activities measures: Chinese name, English name, unit of ``count`` and ``n`` (none is a person)."""

_ACTIVITY_COLUMNS = [*GROUP, "measure", "name_zh", "name_en", "unit_zh", "count", "n", "proportion"]


def _measure(frame: pd.DataFrame, measure: str, count: str, n: str) -> pd.DataFrame:
    out = frame.groupby("school_year", sort=True)[[count, n]].sum().reset_index()
    name_zh, name_en, unit = ACTIVITY_MEASURES[measure]
    return pd.DataFrame(
        {"school_year": out["school_year"], "measure": measure, "name_zh": name_zh, "name_en": name_en,
         "unit_zh": unit, "count": out[count].astype("int64"), "n": out[n].astype("int64")}
    )  # fmt: skip


def _activities(engine) -> pd.DataFrame:
    results = latest(engine)
    if results is None:
        return pd.DataFrame(columns=_ACTIVITY_COLUMNS)
    held = results.events[results.events["school_id"].notna()]
    sources = [
        (results.lessons, "lessons_in_full", "count", "n"),
        (results.lessons, "lessons_delivered", "lessons_delivered", "lessons_required"),
        (results.parents.assign(met=results.parents["meets"].astype("int64"), due=1), "parent_classes", "met", "due"),
        (held.assign(held=held["held"].astype("int64"), due=1), "event_days", "held", "due"),
        (results.counselling, "counselling_months", "count", "n"),
    ]  # fmt: skip
    parts = [
        by_group(
            frame, results.schools, lambda rows, m=m, c=c, n=n: _measure(rows, m, c, n), _ACTIVITY_COLUMNS
        )
        for frame, m, c, n in sources
    ]
    lectures = _measure(results.lectures, "lecture_months", "count", "n").assign(stage=ALL, location=ALL)
    out = pd.concat([*parts, lectures], ignore_index=True)
    out["proportion"] = out["count"] / out["n"].where(out["n"] > 0)
    out["_order"] = out["measure"].map({code: i for i, code in enumerate(ACTIVITY_MEASURES)})
    out = out.sort_values(["school_year", "_order"], kind="stable")
    return out[_ACTIVITY_COLUMNS].reset_index(drop=True)


INSTITUTIONAL = (
    "counts of schools, psychology teachers (full-time equivalents), lessons, grade-terms and months: "
    "institutional facts, no student counted"
)

GAPS = register(
    MartTable(
        "staffing_gaps",
        "各标准下专职心理教师缺口（各学年、学段、城乡）",
        "psychology teachers still needed and schools meeting each staffing standard",
        _gaps,
        {"unit": "school", "labels": ("location", "standard", "name_zh", "name_en", "teachers_needed",
                                      "target_share", "deadline")},
    )
)  # fmt: skip
TEACHERS = register(
    MartTable(
        "psychology_teachers",
        "心理教师人数：专职、兼职、折合全职（各学年、学段、城乡）",
        "psychology teachers: full-time, part-time, full-time equivalents",
        _teachers,
        None,
        no_people=INSTITUTIONAL,
    )
)
STUDENTS_PER_TEACHER = register(
    MartTable(
        "students_per_teacher",
        "在有专职心理教师的学校就读的学生与每名专职教师对应学生数",
        "students in schools with a full-time psychology teacher, and students per full-time teacher",
        _students_per_teacher,
        {"labels": ("location",), "estimates": ("students_per_full_time",)},
    )
)
PROJECTION = register(
    MartTable(
        "hiring_projection",
        "尚缺心理教师人数：实际与按近年进度的预测（全区）",
        "teachers still needed: observed and projected at the current pace",
        _projections,
        None,
        no_people="teachers still needed in the district, and the line fitted to them: no student counted",
    )
)
ROOMS = register(
    MartTable(
        "room_compliance",
        "心理辅导室达标的学校占比（各学年，全区）",
        "schools with a standard counselling room, per school year",
        _room_compliance,
        {"unit": "school", "labels": ("target_share", "deadline")},
    )
)
ROOM_REQUIREMENTS = register(
    MartTable(
        "room_requirements",
        "心理辅导室各项要求的达标学校数（各学年、学段、城乡）",
        "schools meeting each counselling-room requirement",
        _room_requirements,
        {"unit": "school", "labels": ("location", "requirement", "name_zh", "name_en")},
    )
)
ACTIVITIES = register(
    MartTable(
        "courses_activities",
        "心理健康课与活动开展情况（各学年、学段、城乡）",
        "psychology lessons, parent classes, event days, counselling and lectures",
        _activities,
        None,
        no_people=INSTITUTIONAL,
    )
)

__all__ = [
    "ACTIVITIES",
    "ACTIVITY_MEASURES",
    "ALL",
    "GAPS",
    "PROJECTION",
    "ROOMS",
    "ROOM_REQUIREMENTS",
    "STUDENTS_PER_TEACHER",
    "TEACHERS",
]
