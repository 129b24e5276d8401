"""Staffing counts per school and school year, counted in the database (issue #13).

One row per school and school year that reports (``school_year_stats``), with its psychology teachers
counted from ``staff``: the input of :func:`psychanalytics.staffing.profile`. Teacher ids never leave
the query.
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from psychanalytics.store.queries._common import frame_of, reporting_schools
from psychanalytics.store.schema import school_year_stats, staff

__all__ = ["staff_counts"]

_COUNTS = [
    "full_time",
    "part_time",
    "part_time_hours",
    "full_time_qualified",
    "part_time_certified",
    "full_time_in_role",
    "full_time_role_unknown",
]


def staff_counts(engine: sa.Engine) -> pd.DataFrame:
    """Psychology teachers of every reporting school and year, counted in SQL.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The store (SQLite or PostgreSQL).

    Returns
    -------
    pandas.DataFrame
        One row per ``school_year_stats`` row, ordered by school year and school: ``school_year,
        school_id, school_name, stage, location, enrolment, boarders`` and the teachers of that school
        year: ``full_time``, ``part_time`` (head counts), ``part_time_hours`` (their weekly hours of
        psychology work, summed; a part-timer without hours adds none), ``full_time_qualified``
        (full-timers with a psychology degree or a 心理健康教育 certificate), ``part_time_certified``,
        ``full_time_in_role`` (full-timers recorded as doing psychology work) and
        ``full_time_role_unknown`` (full-timers for whom that is not recorded). A school without any
        teacher has zeros.

    Examples
    --------
    >>> from psychanalytics import store
    >>> engine = store.connect("sqlite://")
    >>> store.create_all(engine)
    >>> staff_counts(engine).columns.tolist()[:7]
    ['school_year', 'school_id', 'school_name', 'stage', 'location', 'enrolment', 'boarders']
    """
    full = staff.c.employment == "full_time"
    part = staff.c.employment == "part_time"

    def _count(condition) -> sa.ColumnElement:
        return sa.func.sum(sa.case((condition, 1), else_=0))

    per_school = (
        sa.select(
            staff.c.school_id,
            staff.c.school_year,
            _count(full).label("full_time"),
            _count(part).label("part_time"),
            sa.func.sum(sa.case((part, sa.func.coalesce(staff.c.weekly_hours, 0.0)), else_=0.0)).label(
                "part_time_hours"
            ),
            _count(full & (staff.c.psychology_degree.is_(True) | staff.c.certificate.is_not(None))).label(
                "full_time_qualified"
            ),
            _count(part & staff.c.certificate.is_not(None)).label("part_time_certified"),
            _count(full & staff.c.does_psychology_work.is_(True)).label("full_time_in_role"),
            _count(full & staff.c.does_psychology_work.is_(None)).label("full_time_role_unknown"),
        )
        .group_by(staff.c.school_id, staff.c.school_year)
        .subquery()
    )
    stats = school_year_stats.c
    stmt = reporting_schools(
        stats.enrolment,
        stats.boarders,
        *[sa.func.coalesce(per_school.c[c], 0).label(c) for c in _COUNTS],
        joined=per_school,
        on=sa.and_(per_school.c.school_id == stats.school_id, per_school.c.school_year == stats.school_year),
    )
    out = frame_of(engine, stmt)
    ints = ["enrolment", "boarders", *[c for c in _COUNTS if c != "part_time_hours"]]
    return out.astype({**{c: "int64" for c in ints}, "part_time_hours": "float64"})
