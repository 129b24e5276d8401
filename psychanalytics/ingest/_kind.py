"""The frame every import kind is made of: fields, kinds, context, shared checks and fields.

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
    has_erasures: bool = False
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
        has_erasures = (
            conn.execute(sa.select(sa.literal(1)).select_from(schema.erasure).limit(1)).first() is not None
        )
        return cls(
            batch_id=batch_id,
            schools=schools,
            waves=waves,
            has_students=has_students,
            has_erasures=has_erasures,
            **options,
        )


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
def check_school(columns: Columns, rows: list[int], context: Context) -> list[tuple[int, str, str]]:
    """Replace ``school`` text by its ``school_id``; unknown schools are refused."""
    schools, refused = columns["school"], []
    for i in rows:
        if schools[i] is not None:
            school_id = context.schools.get(schools[i].lower())
            if school_id is None:
                refused.append((i, "school", "unknown_school"))
            else:
                schools[i] = school_id
    return refused


@needs("age", "grade")
def check_age_grade(columns: Columns, rows: list[int], context: Context) -> list[tuple[int, str, str]]:
    """An age must fit the grade: grade + 4 ≤ age ≤ grade + 10."""
    ages, grades = columns["age"], columns["grade"]
    return [
        (i, "age", "age_grade_mismatch")
        for i in rows
        if ages[i] is not None and grades[i] is not None and not grades[i] + 4 <= ages[i] <= grades[i] + 10
    ]


def check_school_year(columns: Columns, rows: list[int], context: Context) -> list[tuple[int, str, str]]:
    """Fill ``school_year`` from the ``--school-year`` option where the file has none."""
    years = columns.setdefault("school_year", [None] * row_count(columns))
    for i in rows:
        if years[i] is None:
            years[i] = context.school_year
    return []


def consistent(id_field: str, fields: tuple[str, ...]) -> Check:
    """Rows sharing ``id_field`` must agree on ``fields`` (the first line wins)."""

    def check(columns: Columns, rows: list[int], context: Context) -> list[tuple[int, str, str]]:
        ids, refused = columns[id_field], []
        for i in rows:
            values = tuple(columns[f][i] if f in columns else None for f in fields)
            first = context.seen_ids.setdefault((id_field, ids[i]), values)
            refused += [
                (i, f, "inconsistent") for f, a, b in zip(fields, values, first, strict=True) if a != b
            ]
        return refused

    return check


@needs("wave")
def check_wave(columns: Columns, rows: list[int], context: Context) -> list[tuple[int, str, str]]:
    """A referenced screening wave must exist."""
    waves = columns["wave"]
    return [
        (i, "wave", "unknown_wave") for i in rows if waves[i] is not None and waves[i] not in context.waves
    ]


def row_count(columns: Columns) -> int:
    return len(next(iter(columns.values())))


def new_students(columns: Columns, context: Context) -> Write:
    """Student rows (pid only) for pids the database does not hold yet."""
    return schema.student, {"pid": columns["pid"], "batch_id": context.batch_id}, "keep"


def first_row_of_each(columns: Columns, id_field: str) -> Columns:
    """The first row of each distinct ``id_field`` value, in order of appearance."""
    first: dict = {}
    for i, value in enumerate(columns[id_field]):
        first.setdefault(value, i)
    return take(columns, first.values())


# --- fields shared by several kinds -----------------------------------------------------


def fits(column: sa.Column) -> Callable[[str], str]:
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

YES_NO = p.boolean


def bool_field(name: str, doc: str, required: bool = True) -> Field:
    return Field(name, YES_NO, required=required, doc=f"{doc}: 是/否")


# --- kinds of one row per school and school year ------------------------------------------


def _build_ledger(table: sa.Table, columns: Columns, context: Context) -> list[Write]:
    """``table``'s row of each line: every column from the field of its name (``school_id`` from ``school``)."""
    rows = {c.name: columns.get("school" if c.name == "school_id" else c.name) for c in table.c}
    if "batch_id" in table.c:
        rows["batch_id"] = context.batch_id
    return [(table, rows, "fill")]


def school_year_ledger(
    name: str,
    title: str,
    table: sa.Table,
    fields: tuple[Field, ...],
    *,
    key: tuple[str, ...] = ("school", "school_year"),
    checks: tuple[Check, ...] = (),
) -> Kind:
    """A kind filling ``table`` with one row per line of a school's yearly ledger (台账).

    The line names its school (required) and its 学年 (or ``--school-year``); ``fields`` are named as
    ``table``'s columns, which are written as read (a blank cell never erases a stored value).
    """
    return Kind(
        name=name,
        title=title,
        fields=(Field("school", clean_text, required=True, doc=SCHOOL.doc), SCHOOL_YEAR, *fields),
        key=key,
        build=partial(_build_ledger, table),
        checks=(check_school_year, check_school, *checks),
        needs_school_year=True,
        records=(table.name,),
        compared=(table.name,),
    )
