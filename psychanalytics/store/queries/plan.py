"""Everything the plan's indicators, the supervision scorecard and the annual report read, in one call.

:func:`plan_inputs` is the **one** function through which the annual report (and the staffing and
plan notebooks) reach the data. Today it reads the row-level store through a read-only connection;
once the published mart for leaders exists (issue #15) it is this function that switches to it, and
nothing downstream changes: every frame it returns is already an aggregate (counts per school and
year, never a student's or a teacher's row).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa

from psychanalytics.store.queries import activities, facilities, staffing
from psychanalytics.store.queries._common import frame_of
from psychanalytics.store.schema import school, school_year_stats

__all__ = ["PlanInputs", "plan_inputs"]


@dataclass(frozen=True)
class PlanInputs:
    """The small frames the plan's indicators are computed from (see each query for its columns).

    ``schools``: ``school_id, school_name, stage, location``; ``school_years``: the years reported,
    in order; ``staff``: :func:`~psychanalytics.store.queries.staffing.staff_counts`; ``rooms``:
    :func:`~psychanalytics.store.queries.facilities.room_records`; ``lessons``, ``activities``,
    ``school_rows``, ``funding``, ``counselling``: :mod:`psychanalytics.store.queries.activities`;
    ``synthetic``: the store holds the demo district; ``read_at``: when it was read.
    """

    schools: pd.DataFrame
    school_years: tuple[str, ...]
    staff: pd.DataFrame
    rooms: pd.DataFrame
    lessons: pd.DataFrame
    activities: pd.DataFrame
    school_rows: pd.DataFrame
    funding: pd.DataFrame
    counselling: pd.DataFrame
    synthetic: bool
    read_at: dt.datetime


def plan_inputs(engine: sa.Engine) -> PlanInputs:
    """Read every input of the plan's indicators from the store (aggregates only).

    Examples
    --------
    >>> from psychanalytics import store
    >>> engine = store.connect("sqlite://")
    >>> store.create_all(engine)
    >>> inputs = plan_inputs(engine)
    >>> inputs.school_years, inputs.synthetic
    ((), False)
    """
    schools = frame_of(
        engine,
        sa.select(
            school.c.school_id, school.c.name.label("school_name"), school.c.stage, school.c.location
        ).order_by(school.c.school_id),
    )
    years = frame_of(
        engine,
        sa.select(school_year_stats.c.school_year).distinct().order_by(school_year_stats.c.school_year),
    )
    synthetic = frame_of(
        engine, sa.select(sa.exists().where(school.c.is_synthetic.is_(True)).label("synthetic"))
    )
    return PlanInputs(
        schools=schools,
        school_years=tuple(years["school_year"]),
        staff=staffing.staff_counts(engine),
        rooms=facilities.room_records(engine),
        lessons=activities.lesson_rows(engine),
        activities=activities.activity_rows(engine),
        school_rows=activities.school_year_rows(engine),
        funding=activities.funding_rows(engine),
        counselling=activities.counselling_months(engine),
        synthetic=bool(synthetic["synthetic"].iloc[0]),
        read_at=dt.datetime.now().replace(microsecond=0),
    )
