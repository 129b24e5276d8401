"""Read-side aggregations: SQL that returns small frames for dashboards and notebooks.

Every function takes an engine, runs one aggregate query that works on SQLite
and PostgreSQL alike (SQLAlchemy Core, no dialect-specific SQL) and returns a
tidy frame of counts with their denominators, in the project's role names:
``count`` is a numerator, ``n`` its denominator, ``proportion = count / n``.
No row-level data leaves these functions; what a leader may see is decided by
the caller through :func:`psychanalytics.privacy.leader_view`, because a
researcher may need the raw counts that a leader must not see.

Examples
--------
>>> import datetime as dt
>>> from psychanalytics import store
>>> from psychanalytics.store import queries, schema
>>> engine = store.connect("sqlite://")
>>> store.create_all(engine)
>>> with engine.begin() as conn:
...     _ = store.upsert(conn, schema.school, [dict(school_id="S1", name="示例中学", stage="junior",
...                                                 location="urban", is_synthetic=True)])
...     _ = store.upsert(conn, schema.school_year_stats, [dict(school_id="S1", school_year="2024-2025",
...                                                            enrolment=900, n_classes=18)])
...     _ = store.upsert(conn, schema.staff, [dict(staff_id="T1", school_year="2024-2025",
...                                                school_id="S1", employment="full_time")])
>>> queries.staffing_coverage(engine)
  school_year  count  n  proportion
0   2024-2025      1  1         1.0
>>> queries.is_synthetic(engine)
True
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd
import sqlalchemy as sa

from psychanalytics.store.queries import crisis, screening
from psychanalytics.store.queries._common import frame_of as _frame
from psychanalytics.store.queries.privacy import (
    consent_coverage,
    erasure_count,
    outbound_events,
    personal_data_inventory,
    stale_releases,
    students_by_age,
)
from psychanalytics.store.schema import (
    enrolment,
    response,
    school,
    school_year_stats,
    score,
    screening_wave,
    staff,
    student,
)

__all__ = [
    "BY_COLUMNS",
    "band_distribution",
    "crisis",
    "consent_coverage",
    "data_as_of",
    "erasure_count",
    "is_synthetic",
    "outbound_events",
    "personal_data_inventory",
    "screened_per_wave",
    "screening",
    "stale_releases",
    "staffing_coverage",
    "students_by_age",
]

BY_COLUMNS = {
    "grade": enrolment.c.grade,
    "gender": student.c.gender,
    "school_id": enrolment.c.school_id,
}
"""Grouping columns :func:`band_distribution` accepts (taken from the enrolment of the wave's school year)."""

_WAVE_COLUMNS = ["wave_id", "wave_label", "school_year", "season", "window_start", "window_end"]


def _wave_columns() -> list:
    w = screening_wave.c
    return [w.wave_id, w.label.label("wave_label"), w.school_year, w.season, w.window_start, w.window_end]


def _as_int(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    return frame.astype({c: "int64" for c in columns})


def screened_per_wave(engine: sa.Engine) -> pd.DataFrame:
    """Students screened in each wave, with the district's enrolment that school year.

    A student counts once per wave however many instruments they answered
    (distinct ``pid`` in ``response``). Waves without any response are listed
    with ``count = 0``.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The store (SQLite or PostgreSQL).

    Returns
    -------
    pandas.DataFrame
        One row per wave in date order: ``wave_id, wave_label, school_year,
        season, window_start, window_end, count`` (students screened) and
        ``n`` (distinct students in ``enrolment`` for the wave's school year,
        all grades: the denominator a reader needs beside ``count``). A
        screened student without an enrolment row that year is in ``count``
        but not in ``n``.

    Examples
    --------
    >>> from psychanalytics import store
    >>> engine = store.connect("sqlite://")
    >>> store.create_all(engine)
    >>> screened_per_wave(engine).columns.tolist()
    ['wave_id', 'wave_label', 'school_year', 'season', 'window_start', 'window_end', 'count', 'n']
    """
    screened = (
        sa.select(response.c.wave_id, sa.func.count(sa.distinct(response.c.pid)).label("count"))
        .group_by(response.c.wave_id)
        .subquery()
    )
    enrolled = (
        sa.select(enrolment.c.school_year, sa.func.count(sa.distinct(enrolment.c.pid)).label("n"))
        .group_by(enrolment.c.school_year)
        .subquery()
    )
    stmt = (
        sa.select(
            *_wave_columns(),
            sa.func.coalesce(screened.c.count, 0).label("count"),
            sa.func.coalesce(enrolled.c.n, 0).label("n"),
        )
        .select_from(screening_wave)
        .outerjoin(screened, screened.c.wave_id == screening_wave.c.wave_id)
        .outerjoin(enrolled, enrolled.c.school_year == screening_wave.c.school_year)
        .order_by(screening_wave.c.window_start, screening_wave.c.wave_id)
    )
    return _as_int(_frame(engine, stmt), ["count", "n"])


def _check_by(by: Sequence[str]) -> tuple[str, ...]:
    by = (by,) if isinstance(by, str) else tuple(by)
    for name in by:
        if name not in BY_COLUMNS:
            raise ValueError(f"by: unknown grouping column {name!r}; choose from {sorted(BY_COLUMNS)}")
    if len(set(by)) != len(by):
        raise ValueError(f"by: repeated grouping column in {by!r}")
    return by


def _scored(instrument: str, scale: str, extra: Sequence) -> sa.Select:
    """Scores of one instrument scale joined to their wave, enrolment and student."""
    return (
        sa.select(*_wave_columns()[:2], *extra)
        .select_from(score)
        .join(screening_wave, screening_wave.c.wave_id == score.c.wave_id)
        .outerjoin(
            enrolment,
            sa.and_(enrolment.c.pid == score.c.pid, enrolment.c.school_year == screening_wave.c.school_year),
        )
        .join(student, student.c.pid == score.c.pid)
        .where(score.c.instrument == instrument, score.c.scale == scale)
    )


def band_distribution(
    engine: sa.Engine, *, instrument: str = "phq9", scale: str = "total", by: Sequence[str] = ()
) -> pd.DataFrame:
    """Counts and shares of score bands per wave (and optional groups).

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The store (SQLite or PostgreSQL).
    instrument, scale : str
        Which scores: ``score.instrument`` and ``score.scale``.
    by : sequence of str
        Extra grouping within each wave, any of :data:`BY_COLUMNS`
        (``grade``, ``gender``, ``school_id``), taken from the student's
        enrolment in the wave's school year; a student with no enrolment that
        year is grouped under a missing value, not dropped.

    Returns
    -------
    pandas.DataFrame
        One row per wave x group x band, ordered by wave date, group and
        ``band_rank``: ``wave_id, wave_label, *by, instrument, scale, band,
        band_rank, count, n, proportion, unbanded``. Every band seen for this
        scale appears in every group (``count = 0`` where nobody fell in it).
        ``count`` is the band's scores, ``n`` the number of banded scores in the
        group (the denominator of ``proportion = count / n``; the counts of a
        group add up to it); ``unbanded`` counts the group's scores without a
        band (invalid or unscoreable sheets), which are outside the proportions.

    Examples
    --------
    >>> from psychanalytics import store
    >>> engine = store.connect("sqlite://")
    >>> store.create_all(engine)
    >>> band_distribution(engine, by=("grade",)).columns.tolist()
    ['wave_id', 'wave_label', 'grade', 'instrument', 'scale', 'band', 'band_rank', 'count', 'n', 'proportion', 'unbanded']
    """
    by = _check_by(by)
    groups = [BY_COLUMNS[name].label(name) for name in by]
    banded = _scored(
        instrument, scale, [*groups, score.c.band, score.c.band_rank, sa.func.count().label("count")]
    )
    banded = banded.where(score.c.band.is_not(None)).group_by(
        screening_wave.c.wave_id, screening_wave.c.label, *groups, score.c.band, score.c.band_rank
    )
    unbanded = _scored(instrument, scale, [*groups, sa.func.count().label("unbanded")])
    unbanded = unbanded.where(score.c.band.is_(None)).group_by(
        screening_wave.c.wave_id, screening_wave.c.label, *groups
    )
    order = _frame(engine, sa.select(screening_wave.c.wave_id).order_by(screening_wave.c.window_start))
    counts = _frame(engine, banded)
    missing = _frame(engine, unbanded)
    keys = ["wave_id", "wave_label", *by]
    columns = [*keys, "instrument", "scale", "band", "band_rank", "count", "n", "proportion", "unbanded"]
    if counts.empty and missing.empty:
        return pd.DataFrame(columns=columns)

    bands = counts[["band", "band_rank"]].drop_duplicates().sort_values("band_rank")
    cells = pd.concat([counts[keys], missing[keys]]).drop_duplicates().merge(bands, how="cross")
    out = cells.merge(counts, on=[*keys, "band", "band_rank"], how="left")
    out["count"] = out["count"].fillna(0).astype("int64")
    out["n"] = out.groupby(keys, dropna=False)["count"].transform("sum").astype("int64")
    out["proportion"] = out["count"] / out["n"].where(out["n"] > 0)
    out = out.assign(instrument=instrument, scale=scale)
    out = out.merge(missing, on=keys, how="left")
    out["unbanded"] = out["unbanded"].fillna(0).astype("int64")
    out["band_rank"] = out["band_rank"].astype("int64")
    wave_order = {wave: i for i, wave in enumerate(order["wave_id"])}
    out = out.sort_values([*keys, "band_rank"], key=lambda s: s.map(wave_order) if s.name == "wave_id" else s)
    return out[columns].reset_index(drop=True)


def staffing_coverage(engine: sa.Engine) -> pd.DataFrame:
    """Share of schools with at least one full-time psychology teacher, per school year.

    The denominator is the schools reporting that year (rows of
    ``school_year_stats``); the numerator those of them with a ``staff`` row of
    ``employment = 'full_time'`` in the same school year.

    Returns
    -------
    pandas.DataFrame
        One row per school year in order: ``school_year, count`` (schools with a
        full-time psychology teacher), ``n`` (schools reporting) and
        ``proportion = count / n``.
    """
    full_time = sa.exists().where(
        staff.c.school_id == school_year_stats.c.school_id,
        staff.c.school_year == school_year_stats.c.school_year,
        staff.c.employment == "full_time",
    )
    stmt = (
        sa.select(
            school_year_stats.c.school_year,
            sa.func.sum(sa.case((full_time, 1), else_=0)).label("count"),
            sa.func.count().label("n"),
        )
        .group_by(school_year_stats.c.school_year)
        .order_by(school_year_stats.c.school_year)
    )
    out = _as_int(_frame(engine, stmt), ["count", "n"])
    out["proportion"] = out["count"] / out["n"]
    return out


def data_as_of(engine: sa.Engine) -> dt.date | None:
    """Last day of the latest screening wave that holds responses (``None`` if there is none).

    Examples
    --------
    >>> from psychanalytics import store
    >>> engine = store.connect("sqlite://")
    >>> store.create_all(engine)
    >>> data_as_of(engine) is None
    True
    """
    answered = sa.exists().where(response.c.wave_id == screening_wave.c.wave_id)
    stmt = sa.select(sa.func.max(screening_wave.c.window_end)).where(answered)
    with engine.connect() as conn:
        return conn.execute(stmt).scalar_one()


def is_synthetic(engine: sa.Engine) -> bool:
    """Whether any school in the store is synthetic (``school.is_synthetic``): the 「演示数据」 case."""
    stmt = sa.select(sa.exists().where(school.c.is_synthetic.is_(True)))
    with engine.connect() as conn:
        return bool(conn.execute(stmt).scalar_one())


from psychanalytics.store.queries import activities, facilities, plan, staffing  # noqa: E402  (issue #13)
from psychanalytics.store.queries.plan import PlanInputs, plan_inputs  # noqa: E402

__all__ += ["PlanInputs", "activities", "facilities", "plan", "plan_inputs", "staffing"]
