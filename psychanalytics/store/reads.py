"""Reading frames back: one wave × instrument as an item matrix or a score table, with grade and gender.

These are the inputs of :mod:`psychanalytics.psychometrics` and the research notebooks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa

from psychanalytics.store.packing import unpack_items
from psychanalytics.store.schema import (
    enrolment,
    intervention,
    participant,
    response,
    school,
    score,
    screening_wave,
    student,
    validity,
)


def read_frame(engine: sa.Engine, stmt: sa.Select) -> pd.DataFrame:
    """The rows of a SQLAlchemy Core ``select`` as a DataFrame, one column per selected column.

    Values are as the driver and SQLAlchemy's column types give them (``datetime.date``
    for a ``Date`` column, ``bytes`` for a BLOB), on SQLite and PostgreSQL alike.

    Examples
    --------
    >>> import sqlalchemy as sa
    >>> from psychanalytics import store
    >>> from psychanalytics.store import schema
    >>> engine = store.connect("sqlite://")
    >>> store.create_all(engine)
    >>> store.read_frame(engine, sa.select(schema.school.c.school_id, schema.school.c.name)).columns.tolist()
    ['school_id', 'name']
    """
    with engine.connect() as conn:
        result = conn.execute(stmt)
        # plain tuples: pandas probes each Row for namedtuple fields, which costs more than the query
        return pd.DataFrame.from_records([tuple(row) for row in result], columns=list(result.keys()))


def _demographics(wave_id: str):
    """Columns and join conditions for gender (student) and grade (enrolment in the wave's school year)."""
    return (
        [student.c.gender, enrolment.c.grade],
        lambda frm, pid: (
            frm.outerjoin(student, student.c.pid == pid)
            .outerjoin(screening_wave, screening_wave.c.wave_id == wave_id)
            .outerjoin(
                enrolment,
                sa.and_(enrolment.c.pid == pid, enrolment.c.school_year == screening_wave.c.school_year),
            )
        ),
    )


def _with_validity(table: sa.Table):
    """``table`` left-joined to the validity row of the same wave, pid and instrument."""
    return table.outerjoin(
        validity,
        sa.and_(
            validity.c.wave_id == table.c.wave_id,
            validity.c.pid == table.c.pid,
            validity.c.instrument == table.c.instrument,
        ),
    )


def load_items(engine: sa.Engine, *, wave_id: str, instrument: str, valid_only: bool = False) -> pd.DataFrame:
    """Item responses of one wave and instrument, one row per student, with grade and gender.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        A psychanalytics store (SQLite or PostgreSQL).
    wave_id, instrument : str
        Which responses to read (``response.wave_id``, ``response.instrument``).
    valid_only : bool
        Leave out sheets scored invalid (``validity.valid`` false: e.g. an MHT lie
        score >= 7, or a scale that could not be scored); sheets never scored are kept.

    Returns
    -------
    pandas.DataFrame
        Index ``pid``; columns ``q1 … qK`` (float, NaN = missing, unpacked with
        :func:`psychanalytics.store.unpack_items`), ``gender`` and ``grade`` (the
        enrolment of the wave's school year; missing if not enrolled).

    Examples
    --------
    >>> from psychanalytics import store
    >>> from psychanalytics.store import load_items
    >>> engine = store.connect("sqlite://")
    >>> store.create_all(engine)
    >>> load_items(engine, wave_id="2024-autumn", instrument="phq9").shape
    (0, 2)
    """
    columns, join = _demographics(wave_id)
    sheets = _with_validity(response)
    stmt = (
        sa.select(response.c.pid, response.c["items"], *columns)
        .select_from(join(sheets, response.c.pid))
        .where(response.c.wave_id == wave_id, response.c.instrument == instrument)
        .order_by(response.c.pid)
    )
    if valid_only:
        stmt = stmt.where(sa.or_(validity.c.valid.is_(None), validity.c.valid.is_(True)))
    with engine.connect() as conn:
        rows = conn.execute(stmt).fetchall()
    pids = [r.pid for r in rows]
    blobs = [bytes(r.items) for r in rows]
    lengths = {len(b) for b in blobs}
    if len(lengths) > 1:
        first = min(lengths)
        odd = next(pid for pid, b in zip(pids, blobs, strict=True) if len(b) != first)
        raise ValueError(
            f"response of pid {odd!r}: item counts differ within {wave_id}/{instrument}: {sorted(lengths)}"
        )
    n_items = lengths.pop() if lengths else 0
    matrix = unpack_items(blobs, n_items) if n_items else np.empty((0, 0))
    frame = pd.DataFrame(
        matrix, columns=[f"q{i + 1}" for i in range(n_items)], index=pd.Index(pids, name="pid")
    )
    frame["gender"] = [r.gender for r in rows]
    frame["grade"] = pd.array([r.grade for r in rows], dtype="Int64")
    return frame


def load_scores(engine: sa.Engine, *, wave_id: str, instrument: str, scale: str = "total") -> pd.DataFrame:
    """Stored raw scores of one scale in one wave, with validity, grade and gender.

    Returns a frame indexed by ``pid`` with ``wave_id``, the score column named
    ``scale`` (float), ``valid`` (bool; missing if no validity row), ``gender``
    and ``grade`` — the input :func:`psychanalytics.psychometrics.norms` expects.

    Examples
    --------
    >>> from psychanalytics import store
    >>> from psychanalytics.store import load_scores
    >>> engine = store.connect("sqlite://")
    >>> store.create_all(engine)
    >>> load_scores(engine, wave_id="2024-autumn", instrument="phq9").columns.tolist()
    ['wave_id', 'total', 'valid', 'gender', 'grade']
    """
    columns, join = _demographics(wave_id)
    base = _with_validity(score)
    stmt = (
        sa.select(score.c.pid, score.c.wave_id, score.c.raw.label(scale), validity.c.valid, *columns)
        .select_from(join(base, score.c.pid))
        .where(score.c.wave_id == wave_id, score.c.instrument == instrument, score.c.scale == scale)
        .order_by(score.c.pid)
    )
    frame = read_frame(engine, stmt).set_index("pid")
    return frame.astype({scale: float, "valid": "boolean", "grade": "Int64"})


def list_waves(engine: sa.Engine) -> pd.DataFrame:
    """Screening waves in date order: ``wave_id, school_year, season, window_start, window_end, label``.

    Examples
    --------
    >>> from psychanalytics import store
    >>> engine = store.connect("sqlite://")
    >>> store.create_all(engine)
    >>> store.list_waves(engine).columns.tolist()
    ['wave_id', 'school_year', 'season', 'window_start', 'window_end', 'label']
    """
    return read_frame(
        engine, sa.select(screening_wave).order_by(screening_wave.c.window_start, screening_wave.c.wave_id)
    )


def load_participants(engine: sa.Engine, *, kinds: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Every intervention participant with the programme, the student's class that year and the pre-test wave.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        A psychanalytics store (SQLite or PostgreSQL).
    kinds : tuple of str, optional
        Only interventions of these kinds (``group_counselling``, ``curriculum`` …).

    Returns
    -------
    pandas.DataFrame
        One row per participant, ordered by intervention and pid:
        ``intervention_id, title, kind, school`` (the intervention's school id),
        ``school_name, school_year, instrument, scale, sessions_planned, start_on,
        end_on, pid, arm, sessions_attended, pre, post`` (float, NaN when
        missing), ``pre_on, post_on, gender``, ``grade`` and ``class`` (the
        enrolment of the intervention's school year: ``"4-2"`` is class 2 of
        grade 4, unique within a school; missing when not enrolled) and
        ``pre_wave``: the latest screening wave of that school year that began
        on or before the start, whose answer sheets give the instrument's
        reliability (None when there is none).

    Examples
    --------
    >>> from psychanalytics import store
    >>> engine = store.connect("sqlite://")
    >>> store.create_all(engine)
    >>> store.load_participants(engine).columns.tolist()[:6]
    ['intervention_id', 'title', 'kind', 'school', 'school_name', 'school_year']
    """
    iv, p, e = intervention, participant, enrolment
    pre_wave = (
        sa.select(screening_wave.c.wave_id)
        .where(
            screening_wave.c.school_year == iv.c.school_year, screening_wave.c.window_start <= iv.c.start_on
        )
        .order_by(screening_wave.c.window_start.desc(), screening_wave.c.wave_id.desc())
        .limit(1)
        .scalar_subquery()
    )
    stmt = (
        sa.select(
            iv.c.intervention_id,
            iv.c.title,
            iv.c.kind,
            iv.c.school_id.label("school"),
            school.c.name.label("school_name"),
            iv.c.school_year,
            iv.c.instrument,
            iv.c.scale,
            iv.c.sessions_planned,
            iv.c.start_on,
            iv.c.end_on,
            p.c.pid,
            p.c.arm,
            p.c.sessions_attended,
            p.c.pre_score.label("pre"),
            p.c.post_score.label("post"),
            p.c.pre_on,
            p.c.post_on,
            student.c.gender,
            e.c.grade,
            e.c.class_no,
            pre_wave.label("pre_wave"),
        )
        .select_from(
            p.join(iv, iv.c.intervention_id == p.c.intervention_id)
            .join(school, school.c.school_id == iv.c.school_id)
            .outerjoin(student, student.c.pid == p.c.pid)
            .outerjoin(e, sa.and_(e.c.pid == p.c.pid, e.c.school_year == iv.c.school_year))
        )
        .order_by(iv.c.intervention_id, p.c.pid)
    )
    if kinds is not None:
        stmt = stmt.where(iv.c.kind.in_(list(kinds)))
    frame = read_frame(engine, stmt)
    grade = frame["grade"].astype("Int64")
    class_no = frame.pop("class_no").astype("Int64")
    frame["class"] = (grade.astype(str) + "-" + class_no.astype(str)).where(grade.notna() & class_no.notna())
    return frame.astype({"pre": float, "post": float, "sessions_attended": "Int64", "grade": "Int64"})
