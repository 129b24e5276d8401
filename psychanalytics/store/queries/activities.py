"""Lessons, activities, governance, coverage, funding and counselling months per school and year (issue #13).

Small tables (a row per school × year × term × grade at most) except counselling, which is counted
here: sessions per school and calendar month, never a student's row.
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from psychanalytics.store.queries._common import frame_of
from psychanalytics.store.schema import (
    activity,
    counselling_session,
    course_delivery,
    funding,
    school_year_stats,
)

__all__ = ["activity_rows", "counselling_months", "funding_rows", "lesson_rows", "school_year_rows"]


def lesson_rows(engine: sa.Engine) -> pd.DataFrame:
    """Psychology lessons planned and delivered per school, year, term and grade (``course_delivery``).

    >>> from psychanalytics import store
    >>> engine = store.connect("sqlite://")
    >>> store.create_all(engine)
    >>> lesson_rows(engine).columns.tolist()
    ['school_year', 'school_id', 'term', 'grade', 'lessons_planned', 'lessons_delivered']
    """
    c = course_delivery.c
    stmt = sa.select(
        c.school_year, c.school_id, c.term, c.grade, c.lessons_planned, c.lessons_delivered
    ).order_by(c.school_year, c.school_id, c.term, c.grade)
    return frame_of(engine, stmt)


def activity_rows(engine: sa.Engine) -> pd.DataFrame:
    """Every activity: ``held_on, school_id`` (missing for a district activity), ``kind, title``."""
    c = activity.c
    stmt = sa.select(c.held_on, c.school_id, c.kind, c.title).order_by(c.held_on, c.kind, c.activity_id)
    out = frame_of(engine, stmt)
    out["held_on"] = pd.to_datetime(out["held_on"])
    return out


def school_year_rows(engine: sa.Engine) -> pd.DataFrame:
    """Governance and coverage reported per school and year (``school_year_stats``)."""
    c = school_year_stats.c
    stmt = sa.select(
        c.school_year,
        c.school_id,
        c.enrolment,
        c.n_classes,
        c.has_leadership_group,
        c.special_meetings,
        c.has_three_year_plan,
        c.n_teachers,
        c.n_mentors,
        c.classes_with_committee,
    ).order_by(c.school_year, c.school_id)
    return frame_of(engine, stmt)


def funding_rows(engine: sa.Engine) -> pd.DataFrame:
    """The budget line per school and year: ``school_year, school_id, budget_yuan, spent_yuan``."""
    c = funding.c
    return frame_of(
        engine,
        sa.select(c.school_year, c.school_id, c.budget_yuan, c.spent_yuan).order_by(
            c.school_year, c.school_id
        ),
    )


def counselling_months(engine: sa.Engine) -> pd.DataFrame:
    """Counselling sessions per school and calendar month, counted in SQL.

    Returns
    -------
    pandas.DataFrame
        ``school_id, year, month, count`` (sessions held that month), only months with a session.

    Examples
    --------
    >>> from psychanalytics import store
    >>> engine = store.connect("sqlite://")
    >>> store.create_all(engine)
    >>> counselling_months(engine).columns.tolist()
    ['school_id', 'year', 'month', 'count']
    """
    c = counselling_session.c
    year = sa.extract("year", c.held_on).label("year")
    month = sa.extract("month", c.held_on).label("month")
    stmt = (
        sa.select(c.school_id, year, month, sa.func.count().label("count"))
        .group_by(c.school_id, year, month)
        .order_by(c.school_id, year, month)
    )
    return frame_of(engine, stmt).astype({"year": "int64", "month": "int64", "count": "int64"})
