"""What every query module shares: run one statement, get a frame."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from psychanalytics.store.schema import school, school_year_stats


def frame_of(engine: sa.Engine, stmt: sa.Select) -> pd.DataFrame:
    """The rows of ``stmt`` as a frame with the statement's column names (also when there are none)."""
    with engine.connect() as conn:
        result = conn.execute(stmt)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def reporting_schools(*columns, joined=None, on=None) -> sa.Select:
    """Every ``school_year_stats`` row with its school's name, stage and location, then ``columns``.

    ``joined`` is outer-joined ``on`` the given condition (the school's rows of another table that year).
    Ordered by school year and school.
    """
    stats = school_year_stats.c
    stmt = (
        sa.select(
            stats.school_year,
            stats.school_id,
            school.c.name.label("school_name"),
            school.c.stage,
            school.c.location,
            *columns,
        )
        .select_from(school_year_stats)
        .join(school, school.c.school_id == stats.school_id)
    )
    if joined is not None:
        stmt = stmt.outerjoin(joined, on)
    return stmt.order_by(stats.school_year, stats.school_id)
