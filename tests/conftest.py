"""Shared fixtures: real SQLite files, a real PostgreSQL server, the demo district.

PostgreSQL tests use the server named by ``PSYCHANALYTICS_TEST_PG`` (a SQLAlchemy
URL; ``.ci/run`` starts Debian's server and sets it). Without it they are
skipped with that reason, and only they.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from store_support import empty_database

from psychanalytics import store

PG_URL = os.environ.get("PSYCHANALYTICS_TEST_PG")
collect_ignore_glob = [
    "reference/*"
]  # scripts that made the reference values run elsewhere (pyCANON's own venv)
DEMO_STUDENTS = 3_000
DEMO_SEED = 7


@pytest.fixture(autouse=True)
def _keys_outside_home(tmp_path_factory, monkeypatch):
    """Audit anchors and project keys of every test go to a temporary folder, never to ~/.config."""
    folder = tmp_path_factory.mktemp("keys")
    monkeypatch.setenv("PSYCHANALYTICS_ANCHOR_FILE", str(folder / "audit-anchors.jsonl"))
    monkeypatch.setenv("PSYCHANALYTICS_PROJECT_KEYS", str(folder / "projects"))


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> sa.Engine:
    """A fresh SQLite file with the whole schema."""
    engine = store.connect(tmp_path / "test.sqlite")
    store.create_all(engine)
    yield engine
    engine.dispose()


def _fresh_pg_engine() -> sa.Engine:
    engine = store.connect(PG_URL)
    empty_database(engine)
    store.create_all(engine)
    return engine


@pytest.fixture
def pg_engine() -> sa.Engine:
    """The test PostgreSQL database, emptied and with the whole schema."""
    if not PG_URL:
        pytest.skip("PostgreSQL not configured: set PSYCHANALYTICS_TEST_PG (.ci/run does)")
    engine = _fresh_pg_engine()
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request, tmp_path: Path) -> sa.Engine:
    """The schema on each supported database in turn: SQLite file, then PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_engine")
    return request.getfixturevalue("pg_engine")


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> Path:
    """A small synthetic district (3,000 students) in a SQLite file, built once per run.

    Tests must not write to it; copy it first (:func:`shutil.copy`) if they need to.
    """
    from psychanalytics import synth

    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    engine = store.connect(path)
    synth.build_demo(engine, seed=DEMO_SEED, students=DEMO_STUDENTS)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def demo_mart(demo_db, tmp_path_factory) -> Path:
    """The demo district's published mart (SQLite), built once per run from a copy of :func:`demo_db`."""
    import shutil

    from psychanalytics import mart

    folder = tmp_path_factory.mktemp("demo_mart")
    shutil.copy(demo_db, folder / "demo.sqlite")
    mart.publish(folder / "demo.sqlite", folder / "mart.sqlite")
    return folder / "mart.sqlite"


@pytest.fixture(scope="session")
def planted_crisis_problems():
    """The record errors the demo of :func:`demo_db` plants in its crisis events (the truth, never stored)."""
    from psychanalytics import synth

    return synth.planted_crisis_problems(seed=DEMO_SEED, students=DEMO_STUDENTS)


@pytest.fixture(scope="session")
def demo_read_only(demo_db) -> sa.Engine:
    """The demo district's SQLite file through a read-only connection, as notebooks read it."""
    engine = store.connect_existing(demo_db, read_only=True)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def demo_outcomes(demo_read_only):
    """``reports.intervention_outcomes`` of the demo district: one row per intervention."""
    from psychanalytics import reports

    return reports.intervention_outcomes(demo_read_only)
