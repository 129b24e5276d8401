"""Sample export files in the shapes schools and platforms really send, written from the demo district.

The files are built from :func:`psychanalytics.synth.build_demo` (same ``seed``
and ``students``) joined with :func:`psychanalytics.synth.population`, so that
importing them with :data:`psychanalytics.synth.DEMO_KEY` (written as
``demo.key`` next to them) lands on the demo district's pids. Every name and
学籍号 is synthetic. The demo database is read through :mod:`psychanalytics.store`;
the files go through the real importer (:func:`psychanalytics.ingest.import_file`).

======================================  =============================================================
file                                    shape
======================================  =============================================================
``mht_2025-autumn_gbk.csv``             GBK, CRLF, Chinese headers, ``1.题干`` item columns, 用时 as
                                        ``5分25秒``, classes as ``初一(3)班``
``roster_2025-2026.xlsx``               XLSX roster: 学籍号 as text, 学生姓名, 出生年份, 届, 班级名称
``mht_summary_2024-autumn.csv``         UTF-8 with BOM, summary only: 总分 and dimension columns
``phq9_2025-autumn_errors.csv``         UTF-8, ``Q1`` headers, one deliberate error per marked line
                                        (listed in ``phq9_2025-autumn_errors.expected.json``)
``staff.csv`` ``rooms.csv``             UTF-8 with Chinese headers, one file per kind
``activities.csv``
``interventions.csv`` ``crisis.csv``
``lessons_2025-2026.xlsx``              XLSX ledgers (台账) with Chinese headers, as schools send them:
``funding_2025-2026.xlsx``              心理健康课课时 (学期 as 第一学期, 年级 as 初一), 经费（元）,
``school_stats_2025-2026.xlsx``         学校年度情况 and 心理辅导记录 (学籍号, 姓名, 辅导日期 as date
``counselling_2025-2026.xlsx``          cells); :func:`write_ledgers` writes them for any school years
======================================  =============================================================

Run ``python -m psychanalytics.synth.exports data/samples`` to rewrite them.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from psychanalytics import ingest, store
from psychanalytics.store import schema
from psychanalytics.synth import _export_files, population
from psychanalytics.synth._build import build_demo
from psychanalytics.synth._population import DEMO_KEY

__all__ = [
    "SEED",
    "STUDENTS",
    "import_error_sample",
    "write_error_sample",
    "write_ledgers",
    "write_samples",
]

SEED = 7
STUDENTS = 3_000
"""The demo district the samples come from (the test suite's ``demo_db``: ``psychanalytics demo --seed 7
--students 3000``)."""


def _people(seed: int, students: int) -> pd.DataFrame:
    """学籍号, name, gender and birth year of every demo student, by pid (never in the database)."""
    return population(seed=seed, students=students).set_index("pid")


def _screening_frames(engine: sa.Engine, *, enrolments=(), responses=()) -> dict[str, pd.DataFrame]:
    """Schools, enrolments and responses of the demo database (those matching the conditions given)."""
    r = schema.response
    return {
        "schools": store.read_frame(
            engine,
            sa.select(schema.school.c.school_id, schema.school.c.name).order_by(schema.school.c.school_id),
        ),
        "enrol": store.read_frame(engine, sa.select(schema.enrolment).where(*enrolments)),
        "responses": store.read_frame(
            engine,
            sa.select(r.c.wave_id, r.c.pid, r.c.instrument, r.c["items"], r.c.seconds).where(*responses),
        ),
    }


def _frames(engine: sa.Engine) -> dict[str, pd.DataFrame]:
    """Every table the sample files are written from."""
    s, iv, p, case, event = (
        schema.score,
        schema.intervention,
        schema.participant,
        schema.crisis_case,
        schema.crisis_event,
    )
    cd, fu, stats, cs = (
        schema.course_delivery,
        schema.funding,
        schema.school_year_stats,
        schema.counselling_session,
    )
    return {
        **_screening_frames(engine),
        "scores": store.read_frame(
            engine,
            sa.select(s.c.wave_id, s.c.pid, s.c.instrument, s.c.scale, s.c.raw).where(
                s.c.instrument == "mht"
            ),
        ),
        "staff": store.read_frame(
            engine, sa.select(schema.staff).order_by(schema.staff.c.school_year, schema.staff.c.staff_id)
        ),
        "rooms": store.read_frame(
            engine, sa.select(schema.room).order_by(schema.room.c.school_year, schema.room.c.school_id)
        ),
        "activities": store.read_frame(
            engine, sa.select(schema.activity).order_by(schema.activity.c.activity_id)
        ),
        "interventions": store.read_frame(
            engine,
            sa.select(iv, *(c for c in p.c if c.name not in ("intervention_id", "batch_id")))
            .join_from(iv, p, iv.c.intervention_id == p.c.intervention_id)
            .order_by(iv.c.intervention_id, p.c.pid),
        ),
        "lessons": store.read_frame(
            engine, sa.select(schema.course_delivery).order_by(*cd.primary_key.columns)
        ),
        "funding": store.read_frame(engine, sa.select(schema.funding).order_by(*fu.primary_key.columns)),
        "school_stats": store.read_frame(engine, sa.select(stats).order_by(*stats.primary_key.columns)),
        "counselling": store.read_frame(engine, sa.select(cs).order_by(cs.c.held_on, cs.c.session_id)),
        "crisis": store.read_frame(
            engine,
            sa.select(case, event.c.seq, event.c.stage, event.c.level, event.c.occurred_at)
            .join_from(case, event, case.c.case_id == event.c.case_id)
            .order_by(case.c.case_id, event.c.seq),
        ),
    }


def write_samples(
    directory: str | Path, *, seed: int = SEED, students: int = STUDENTS, db: str | Path | None = None
) -> list[Path]:
    """Write every sample file into ``directory`` from the demo district; return the paths written.

    ``db`` is an existing demo database built with the same ``seed`` and
    ``students`` (read only); without it the demo is built in a temporary
    directory. The CSV files are deterministic for a given ``seed`` and ``students``
    (the XLSX roster also carries the time it was saved).
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        engine = store.connect(db if db is not None else Path(tmp) / "demo.sqlite", read_only=db is not None)
        if db is None:
            build_demo(engine, seed=seed, students=students)
        frames = {**_frames(engine), "people": _people(seed, students)}
        engine.dispose()
    key = out / "demo.key"
    key.write_bytes(DEMO_KEY)
    written = [key, _export_files.mht_gbk(frames, out), _export_files.roster_xlsx(frames, out)]
    written += [_export_files.mht_summary(frames, out), *_export_files.phq9_errors(frames, out)]
    written += _export_files.other_kinds(frames, out)
    written += _export_files.ledgers(frames, out, ("2025-2026",))
    return written


def write_ledgers(
    directory: str | Path,
    *,
    db: str | Path,
    school_years: tuple[str, ...],
    seed: int = SEED,
    students: int = STUDENTS,
) -> list[Path]:
    """Write the demo district's XLSX ledgers (台账) of ``school_years`` into ``directory``; return their paths.

    One file per ledger kind — ``lessons``, ``funding``, ``school_stats``, ``counselling`` — as schools
    send them, read from ``db``, an existing demo database built with ``seed`` and ``students`` (read
    only). ``write_samples`` writes those of 2025-2026; a test writes every year to rebuild the plan's
    inputs through ``psychanalytics import``.
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    engine = store.connect(db, read_only=True)
    frames = {**_frames(engine), "people": _people(seed, students)}
    engine.dispose()
    return _export_files.ledgers(frames, out, school_years)


def write_error_sample(engine: sa.Engine, directory: str | Path, *, seed: int, students: int) -> Path:
    """Write the PHQ-9 export with deliberate errors for any demo district; return its path.

    ``engine`` holds a demo district built with ``seed`` and ``students``; the
    file comes from the first school (by id) with at least 40 PHQ-9 sheets in
    the 2025 autumn wave. ``psychanalytics demo`` imports it, so the demo shows
    an import batch, its quarantined lines and their audit record.
    """
    r = schema.response
    frames = _screening_frames(
        engine,
        enrolments=(schema.enrolment.c.school_year == "2025-2026",),
        responses=(r.c.wave_id == "2025-autumn", r.c.instrument == "phq9"),
    )
    frames["people"] = _people(seed, students)
    rows = frames["responses"].merge(frames["enrol"], on="pid")
    counts = rows.groupby("school_id").size()
    path, _manifest = _export_files.phq9_errors(
        frames, Path(directory), school_id=str(counts[counts >= 40].index.min())
    )
    return path.rename(path.with_name("demo_import_phq9_2025-autumn.csv"))


def import_error_sample(engine: sa.Engine, *, seed: int, students: int) -> ingest.ImportResult:
    """Write :func:`write_error_sample` to a temporary folder and import it with the demo key.

    Returns the :class:`~psychanalytics.ingest.ImportResult`: the demo district then
    has an import batch, quarantined lines with their reasons, and audit records
    (DESIGN.md, decision 11).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from psychanalytics import store, synth
    >>> from psychanalytics.synth import exports
    >>> engine = store.connect(pathlib.Path(tempfile.mkdtemp()) / "demo.sqlite")
    >>> _ = synth.build_demo(engine, seed=1, students=600)
    >>> result = exports.import_error_sample(engine, seed=1, students=600)
    >>> result.rows_read, result.stored, result.quarantined, result.duplicates
    (43, 33, 9, 1)
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = write_error_sample(engine, tmp, seed=seed, students=students)
        return ingest.import_file(
            engine, "screening", path, key=DEMO_KEY, wave="2025-autumn", instrument="phq9"
        )


if __name__ == "__main__":
    for written in write_samples(sys.argv[1] if len(sys.argv) > 1 else "data/samples"):
        print(f"{written}  {written.stat().st_size / 1024:,.0f} KB")
