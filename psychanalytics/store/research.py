"""What a research extract reads: one wave's screened students whose consent covers the project.

Consent is per purpose (PIPL Art. 29: separate consent for sensitive data; docs/privacy.md §1, §3): a
student enters an extract of project ``P`` only with a ``consent`` row of purpose ``research:P`` that was
granted (``guardian_consent``) on or before the day of the extract and not withdrawn by then. Erased
students have no rows left to read. Everything here is student-level and stays inside the exporter
(:mod:`psychanalytics.export`), which pseudonymises and coarsens it before anything leaves.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa

from psychanalytics.store.reads import read_frame
from psychanalytics.store.schema import (
    consent,
    enrolment,
    response,
    school,
    score,
    screening_wave,
    student,
    validity,
)

PURPOSE_PREFIX = "research:"
"""``consent.purpose`` of a research project ``P`` is ``research:P``."""


def research_purpose(project: str) -> str:
    """The ``consent.purpose`` that covers ``project``.

    >>> research_purpose("cohort")
    'research:cohort'
    """
    return f"{PURPOSE_PREFIX}{project}"


def active_consent(purpose: str, on: dt.date) -> sa.Select:
    """``SELECT pid`` of the students whose consent for ``purpose`` holds on the day ``on``."""
    c = consent.c
    return sa.select(c.pid).where(
        c.purpose == purpose,
        c.guardian_consent.is_(True),
        c.granted_on <= on,
        sa.or_(c.withdrawn_on.is_(None), c.withdrawn_on > on),
    )


@dataclass(frozen=True)
class ResearchRows:
    """One wave's rows for an extract.

    ``students``: ``pid, school_id, grade, gender, birth_year`` of the students screened in the wave whose
    consent holds; ``scores``: their ``pid, instrument, scale, raw, band, band_rank``; ``validity``: their
    ``pid, instrument, valid``; ``schools``: every school's ``school_id, name, stage, location`` (public);
    ``screened``: students screened in the wave (the denominator of the consent share);
    ``wave_year``: the calendar year the wave's window opens (ages are counted to it).
    """

    students: pd.DataFrame
    scores: pd.DataFrame
    validity: pd.DataFrame
    schools: pd.DataFrame
    screened: int
    wave_year: int


def research_rows(engine: sa.Engine, *, wave_id: str, purpose: str, on: dt.date) -> ResearchRows:
    """The rows an extract of ``wave_id`` for ``purpose`` may use, as consent stands on ``on``.

    Raises
    ------
    KeyError
        If the store has no wave ``wave_id`` (the message lists the waves it has).

    Examples
    --------
    >>> import datetime as dt
    >>> from psychanalytics import store
    >>> engine = store.connect("sqlite://")
    >>> store.create_all(engine)
    >>> research_rows(engine, wave_id="2025-autumn", purpose="research:x", on=dt.date(2025, 12, 1))
    Traceback (most recent call last):
    ...
    KeyError: "no screening wave '2025-autumn' in the store; it has: none"
    """
    waves = read_frame(
        engine,
        sa.select(screening_wave.c.wave_id, screening_wave.c.school_year, screening_wave.c.window_start),
    )
    wave = waves[waves["wave_id"] == wave_id]
    if wave.empty:
        known = ", ".join(waves["wave_id"]) or "none"
        raise KeyError(f"no screening wave {wave_id!r} in the store; it has: {known}")
    school_year, start = wave.iloc[0]["school_year"], wave.iloc[0]["window_start"]
    allowed = active_consent(purpose, on).subquery()
    in_wave = sa.select(response.c.pid).where(response.c.wave_id == wave_id).distinct().subquery()
    chosen = sa.select(in_wave.c.pid).join(allowed, allowed.c.pid == in_wave.c.pid).subquery()
    students = read_frame(
        engine,
        sa.select(
            student.c.pid, enrolment.c.school_id, enrolment.c.grade, student.c.gender, student.c.birth_year
        )
        .select_from(chosen.join(student, student.c.pid == chosen.c.pid))
        .outerjoin(
            enrolment, sa.and_(enrolment.c.pid == student.c.pid, enrolment.c.school_year == school_year)
        )
        .order_by(student.c.pid),
    )
    scores = read_frame(
        engine,
        sa.select(
            score.c.pid, score.c.instrument, score.c.scale, score.c.raw, score.c.band, score.c.band_rank
        )
        .join(chosen, chosen.c.pid == score.c.pid)
        .where(score.c.wave_id == wave_id),
    )
    valid = read_frame(
        engine,
        sa.select(validity.c.pid, validity.c.instrument, validity.c.valid)
        .join(chosen, chosen.c.pid == validity.c.pid)
        .where(validity.c.wave_id == wave_id),
    )
    with engine.connect() as conn:
        screened = conn.execute(sa.select(sa.func.count()).select_from(in_wave)).scalar_one()
    schools = read_frame(
        engine, sa.select(school.c.school_id, school.c.name, school.c.stage, school.c.location)
    )
    return ResearchRows(students, scores, valid, schools, int(screened), pd.Timestamp(start).year)
