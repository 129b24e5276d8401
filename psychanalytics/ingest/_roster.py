"""The roster import kind — 学生名册: students and their enrolment in a school year."""

from __future__ import annotations

from psychanalytics.ingest import _parse as p
from psychanalytics.ingest._headers import clean_text
from psychanalytics.ingest._kind import (
    AGE,
    CLASS,
    COHORT,
    GENDER,
    GRADE,
    NAME,
    SCHOOL,
    SCHOOL_YEAR,
    STUDENT_NUMBER,
    Columns,
    Context,
    Field,
    Kind,
    Write,
    bool_field,
    check_age_grade,
    check_school,
    check_school_year,
)
from psychanalytics.store import schema


def _build_roster(columns: Columns, context: Context) -> list[Write]:
    pids, get, batch = columns["pid"], columns.get, context.batch_id
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
        bool_field("boarder", "住校", required=False),
    ),
    key=("pid", "school_year"),
    build=_build_roster,
    checks=(check_school_year, check_school, check_age_grade),
    needs_school_year=True,
    records=("enrolment",),
    compared=("enrolment", "student"),
)
