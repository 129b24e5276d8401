"""Assemble the synthetic district and write it to a database in one transaction."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import sqlalchemy as sa

from psychanalytics import instruments, psychometrics, scoring, store
from psychanalytics.privacy.pseudonym import key_fingerprint
from psychanalytics.store import audit, schema
from psychanalytics.synth import _crisis, _interventions, _plants, _screening, _services
from psychanalytics.synth._population import (
    DEMO_KEY,
    FIRST_YEAR,
    SCHOOL_YEARS,
    enrolments,
    rng_for,
    schools,
    students_frame,
)

MIN_STUDENTS = 500
_KEPT_EMPTY = ("import_batch", "quarantine", "audit_log")  # filled by imports and the audit trail


class DatabaseNotEmptyError(RuntimeError):
    """The target database already holds data and ``replace`` was not given."""


def wave_id(year: int) -> str:
    """Wave id of the autumn screening of school year index ``year`` (0 = 2021-2022)."""
    return f"{FIRST_YEAR + year}-autumn"


def _score(sheets: _screening.Sheets) -> pd.DataFrame:
    spec = instruments.get(sheets.instrument)
    if spec.n_items != sheets.items.shape[1]:
        raise ValueError(
            f"{sheets.instrument}: the generator makes {sheets.items.shape[1]} items, the spec has {spec.n_items}"
        )
    matrix = sheets.items.astype(float)
    matrix[sheets.items < 0] = np.nan
    return scoring.score(pd.DataFrame(matrix, columns=list(spec.item_columns)), sheets.instrument)


def _norms(scored: dict[str, pd.DataFrame], enrol: pd.DataFrame, gender: np.ndarray) -> pd.DataFrame:
    """Grade × gender norms of every scale in the first wave, from valid sheets.

    Computed by :func:`psychanalytics.psychometrics.norms` with its ``min_n``: a cell with
    fewer valid sheets has no norms (in a small district, none of a scale may have).
    """
    tables = []
    for instrument, frame in scored.items():
        valid = frame["valid"].to_numpy(dtype=bool)
        rows = frame["row"].to_numpy()[valid]
        sheets = frame[valid].assign(
            wave_id=wave_id(0), grade=enrol["grade"].to_numpy()[rows], gender=gender[rows]
        )
        for scale in instruments.get(instrument).scale_codes:
            result = psychometrics.norms(
                sheets.dropna(subset=[scale]), reference_wave=wave_id(0), instrument=instrument, score=scale
            )
            tables.append(result.table)
    return pd.concat(tables, ignore_index=True)


def _screen_frame(enrol: pd.DataFrame, waves, scored_by_wave) -> pd.DataFrame:
    """Per enrolment row: wave id, PHQ-9 and GAD-7 totals, PHQ-9 item 9, the valid MHT total and its rank."""
    screen = pd.DataFrame(
        {"wave_id": [wave_id(y) for y in enrol["year"]]},
        index=enrol.index,
    ).assign(phq9=np.nan, gad7=np.nan, item9=np.nan, mht=np.nan, mht_pct=np.nan)
    for (_, sheets), scored in zip(waves, scored_by_wave, strict=True):
        for s in sheets:
            total = scored[s.instrument]["total"].to_numpy(dtype=float)
            if s.instrument == "mht":
                total = np.where(scored["mht"]["valid"].to_numpy(dtype=bool), total, np.nan)
                screen.loc[s.rows, "mht"] = total
                screen.loc[s.rows, "mht_pct"] = pd.Series(total).rank(pct=True).to_numpy()
            else:
                screen.loc[s.rows, s.instrument] = total
            if s.instrument == "phq9":
                screen.loc[s.rows, "item9"] = np.where(s.items[:, 8] < 0, np.nan, s.items[:, 8])
    return screen


def generate(*, seed: int, students: int) -> dict[str, object]:
    """Every table's rows as DataFrames, plus the screening sheets and their scores."""
    school_frame = schools(seed=seed, students=students)
    student_frame = students_frame(seed=seed, students=students, school_frame=school_frame)
    enrol = enrolments(student_frame, school_frame)
    consent = _services.consent(student_frame, enrol, rng_for(seed, "consent"))
    wave_start = pd.to_datetime((FIRST_YEAR + enrol["year"]).astype(str) + "-09-21")
    student_consent = consent.iloc[enrol["student"].to_numpy()]
    screened = student_consent["guardian_consent"].to_numpy() & ~(
        student_consent["withdrawn_on"].to_numpy() <= wave_start.to_numpy()
    )
    planted = _screening.planted_schools(enrol, rng_for(seed, "planted"))
    theta = _screening.distress(enrol, student_frame, rng_for(seed, "distress"), planted=planted)
    waves = _screening.waves(enrol, theta, screened, rng_for(seed, "screening"))
    scored_by_wave = [{s.instrument: _score(s) for s in sheets} for _, sheets in waves]
    screen = _screen_frame(enrol, waves, scored_by_wave)
    gender = student_frame["gender"].to_numpy()[enrol["student"].to_numpy()]
    first = {s.instrument: scored_by_wave[0][s.instrument].assign(row=s.rows) for s in waves[0][1]}

    gaps = _plants.plants(
        school_frame, seed=seed
    )  # the plan's gaps: recomputed by planted_gaps, never stored
    stats_frame = _services.school_year_stats(school_frame, enrol, rng_for(seed, "stats"), gaps)
    groups = _interventions.programmes(enrol, screen, school_frame, rng_for(seed, "programmes"))
    pilot = _interventions.curriculum(enrol, screen, school_frame, rng_for(seed, "curriculum"))
    intervention, participant, planted_effect = (
        pd.concat([a, b], ignore_index=True) for a, b in zip(groups, pilot, strict=True)
    )
    case_frame, events = _crisis.cases(enrol, screen, theta, school_frame, rng_for(seed, "crisis"))
    # group sessions are counselling sessions; curriculum lessons are not
    sessions = _interventions.sessions(enrol, screen, groups[1], case_frame, rng_for(seed, "sessions"))
    events, damaged = _crisis.damage(events, rng_for(seed, "crisis_damage"))
    return {
        "school": school_frame.assign(is_synthetic=True),
        "school_year_stats": stats_frame,
        "student": student_frame,
        "enrolment": enrol,
        "consent": pd.concat(
            [consent, _services.research_consent(consent, enrol, rng_for(seed, "research consent"))],
            ignore_index=True,
        ),
        "screening_wave": pd.DataFrame(
            {
                "wave_id": [wave_id(y) for y in range(len(SCHOOL_YEARS))],
                "school_year": list(SCHOOL_YEARS),
                "season": "autumn",
                "window_start": [dt.date(FIRST_YEAR + y, 9, 21) for y in range(len(SCHOOL_YEARS))],
                "window_end": [dt.date(FIRST_YEAR + y, 10, 30) for y in range(len(SCHOOL_YEARS))],
                "label": [f"{FIRST_YEAR + y}年秋季普测" for y in range(len(SCHOOL_YEARS))],
            }
        ),
        "waves": waves,
        "scored": scored_by_wave,
        "norm": _norms(first, enrol, gender),
        "staff": _services.staff(school_frame, stats_frame, rng_for(seed, "staff"), gaps),
        "room": _services.rooms(school_frame, rng_for(seed, "rooms"), gaps),
        "course_delivery": _services.course_delivery(school_frame, rng_for(seed, "courses"), gaps),
        "activity": _services.activities(school_frame, stats_frame, rng_for(seed, "activities"), gaps),
        "funding": _services.funding(stats_frame, rng_for(seed, "funding"), gaps),
        "intervention": intervention,
        "participant": participant,
        "demo_planted_effect": planted_effect,
        "counselling_session": sessions,
        "crisis_case": case_frame,
        "crisis_event": events,
        "crisis_damage": damaged,  # truth: the record errors planted, never written (planted_crisis_problems)
        "archive_category": _crisis.archive_categories(enrol, screen, case_frame, rng_for(seed, "archive")),
        "archive_transfer": _crisis.archive_transfers(enrol, rng_for(seed, "transfers")),
        "demo_planted_school": planted,
    }


def planted_crisis_problems(*, seed: int = 20240901, students: int = 45_000) -> pd.DataFrame:
    """The record errors the demo built with ``seed`` and ``students`` plants in its crisis events.

    The truth a data-quality check is tested against: ``case_id, crisis_stage, problem`` (the
    vocabulary of :data:`psychanalytics.crisis.PROBLEMS`; see :func:`psychanalytics.synth._crisis.damage`).
    It is never written to the database: this regenerates the district (a few seconds per
    thousand students).
    """
    return generate(seed=seed, students=students)["crisis_damage"]


def _write_screening(conn: sa.Connection, enrol: pd.DataFrame, waves, scored_by_wave) -> None:
    pids = enrol["pid"].to_numpy()
    for (year, sheets), scored in zip(waves, scored_by_wave, strict=True):
        for s in sheets:
            spec = instruments.get(s.instrument)
            wave = wave_id(year)
            store.write_responses(
                conn,
                s.items,
                pids=pids[s.rows].tolist(),
                wave_id=wave,
                instrument=s.instrument,
                instrument_version=spec.version,
                seconds=s.seconds.tolist(),
            )
            frame = scored[s.instrument]
            store.write_scores(
                conn, frame, pids=pids[s.rows].tolist(), wave_id=wave, instrument=s.instrument, new=True
            )
            if s.instrument != "mht":
                continue
            # the platform's MHT content total, declared raw in its export (docs/instruments.md §3, pitfall 3)
            total = frame["total"].to_numpy(dtype=float)
            keep = frame["valid"].to_numpy(dtype=bool) & ~np.isnan(total)
            reported = pd.DataFrame({"pid": pids[s.rows][keep], "value": total[keep]}).assign(
                wave_id=wave, instrument=s.instrument, scale="total", metric="raw"
            )
            store.bulk_insert(conn, schema.reported_score, reported)


def _refuse_real_data(conn: sa.Connection) -> None:
    """``replace`` empties synthetic databases only: a school that is not synthetic stops it."""
    real = conn.execute(
        sa.select(sa.func.count()).select_from(schema.school).where(sa.not_(schema.school.c.is_synthetic))
    ).scalar_one()
    if real:
        raise DatabaseNotEmptyError(
            f"the database holds {real} school(s) that are not synthetic: replace empties demo databases only"
        )


def build_demo(
    engine: sa.Engine, *, seed: int = 20240901, students: int = 45_000, replace: bool = False
) -> dict[str, int]:
    """Build the synthetic demo district into ``engine``'s database (see :mod:`psychanalytics.synth`).

    Parameters
    ----------
    engine : sqlalchemy.Engine
        SQLite or PostgreSQL; missing tables are created.
    seed : int
        Random seed: the same seed and ``students`` give identical database content.
    students : int
        Students per school year (about); at least :data:`MIN_STUDENTS`.
    replace : bool
        Empty every table first if the database already holds data.

    Returns
    -------
    dict of str to int
        Row count of every table after the build.

    Raises
    ------
    DatabaseNotEmptyError
        If the database holds data and ``replace`` is False.
    ValueError
        If ``students`` is below :data:`MIN_STUDENTS`.

    Examples
    --------
    >>> from psychanalytics import store, synth
    >>> engine = store.connect("sqlite://")
    >>> counts = synth.build_demo(engine, seed=1, students=600)
    >>> counts["school"], counts["screening_wave"], counts["import_batch"]
    (8, 5, 0)
    >>> counts["student"] == len(synth.population(seed=1, students=600))
    True
    """
    if students < MIN_STUDENTS:
        raise ValueError(
            f"students must be at least {MIN_STUDENTS} for a district with every school stage, got {students}"
        )
    store.create_all(engine)
    filled = {name: n for name, n in store.table_counts(engine).items() if n}
    if filled and not replace:
        listed = ", ".join(f"{name} ({n:,} rows)" for name, n in sorted(filled.items())[:3])
        raise DatabaseNotEmptyError(
            f"the database already holds data in {len(filled)} tables, e.g. {listed}; "
            "pass replace=True (CLI: --replace) to empty it first"
        )
    data = generate(seed=seed, students=students)
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            # a 256 MiB page cache for this connection keeps the bulk load off the WAL spill path
            conn.exec_driver_sql("PRAGMA cache_size = -262144")
        if filled:
            _refuse_real_data(conn)
        for table in reversed(schema.metadata.sorted_tables):
            if filled and table.name != "audit_log":  # the audit trail is never deleted
                conn.execute(table.delete())
        for table in schema.metadata.sorted_tables:
            if table.name in _KEPT_EMPTY:
                continue
            if table.name == "response":
                _write_screening(conn, data["enrolment"], data["waves"], data["scored"])
            elif table.name in data:
                store.bulk_insert(conn, table, data[table.name])
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA cache_size = -2000")
        store.set_meta(conn, store.PSEUDONYM_KEY, key_fingerprint(DEMO_KEY))
        audit.append(
            conn,
            action="demo_build",
            resource="synthetic district",
            detail={"seed": seed, "students": students},
        )
    store.refresh_statistics(engine)
    return store.table_counts(engine)
