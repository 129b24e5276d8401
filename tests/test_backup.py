"""Backup and restore: the same data back, a verifying audit chain, erasures applied again, and a copy that
is consistent while imports run. SQLite through its online backup API; PostgreSQL through pg_dump."""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from conftest import PG_URL
from store_support import empty_database

from psychanalytics import cli, ingest, store, synth
from psychanalytics.store import audit, schema


@pytest.fixture
def district(demo_db: Path, tmp_path: Path) -> sa.Engine:
    target = tmp_path / "store" / "demo.sqlite"
    target.parent.mkdir()
    shutil.copy(demo_db, target)
    engine = store.connect(target)
    yield engine
    engine.dispose()


@pytest.fixture
def anchors(tmp_path: Path) -> audit.AnchorFile:
    return audit.AnchorFile(tmp_path / "anchors.jsonl", synth.DEMO_KEY)


def content(engine: sa.Engine, *, up_to: int | None = None) -> dict[str, list[tuple]]:
    """Every row of every table, sorted; the audit log only up to row ``up_to``."""
    with engine.connect() as conn:
        rows = {}
        for table in schema.metadata.sorted_tables:
            stmt = sa.select(table)
            if table is schema.audit_log and up_to is not None:
                stmt = stmt.where(schema.audit_log.c.seq <= up_to)
            rows[table.name] = sorted(map(tuple, conn.execute(stmt)), key=repr)
    return rows


def test_a_restore_gives_back_the_same_data_and_a_chain_that_verifies(district, anchors, tmp_path):
    done = store.backup(district, tmp_path / "backup.sqlite")
    anchors.record(district)
    assert oct(done.path.stat().st_mode & 0o777) == "0o600"
    at_backup = content(district)
    # the store goes on: an erasure, then it is lost and restored elsewhere from the backup
    pid = at_backup["student"][0][0]
    store.forget(district, [pid])
    target = tmp_path / "restored" / "demo.sqlite"
    restored = store.restore(done.path, target)
    assert restored.head == done.audit_seq and restored.erasures == ()
    engine = store.connect(target)
    assert content(engine, up_to=done.audit_seq) == at_backup
    with engine.connect() as conn:
        assert audit.verify(conn) == []
        assert (
            conn.execute(
                sa.select(schema.audit_log.c.action).order_by(schema.audit_log.c.seq.desc())
            ).first()[0]
            == "restore"
        )
    engine.dispose()


def test_a_restore_erases_again_whoever_was_erased_after_the_backup(district, anchors, tmp_path, capsys):
    key_file = tmp_path / "demo.key"
    key_file.write_bytes(synth.DEMO_KEY)
    common = ["--key-file", str(key_file), "--anchor-file", str(anchors.path)]
    db = str(district.url.database)
    assert cli.main(["backup", "--db", db, "--out", str(tmp_path / "backup.sqlite"), *common]) == 0
    pid = store.read_frame(district, sa.select(schema.student.c.pid).limit(1))["pid"][0]
    store.forget(district, [pid])
    anchors.record(district, pids=[pid])  # as `psychanalytics forget` does
    # the store is lost; the backup comes back in its place
    district.dispose()
    for path in Path(db).parent.glob("demo.sqlite*"):
        path.unlink()
    assert cli.main(["restore", "--from", str(tmp_path / "backup.sqlite"), "--db", db, *common]) == 0
    out = capsys.readouterr().out
    assert "已恢复 / restored" in out and "备份后删除的 1 名学生已再次删除" in out
    engine = store.connect(db)
    with engine.connect() as conn:
        assert store.forgotten_pids(conn, [pid]) == {pid}
        assert conn.execute(sa.select(schema.student).where(schema.student.c.pid == pid)).first() is None
    assert cli.main(["audit", "verify", "--db", db, *common]) == 0
    assert "个属于恢复前的历史 / from before a restore" in capsys.readouterr().out
    engine.dispose()


def test_backup_and_restore_never_overwrite_and_refuse_a_damaged_copy(district, tmp_path):
    out = tmp_path / "backup.sqlite"
    out.write_bytes(b"")
    with pytest.raises(store.BackupError, match="already exists"):
        store.backup(district, out)
    out.unlink()
    store.backup(district, out)
    with pytest.raises(store.BackupError, match="exists: restore over it only with replace"):
        store.restore(out, district.url.database)
    damaged = tmp_path / "damaged.sqlite"
    damaged.write_bytes(out.read_bytes()[: 4096 * 3])
    with pytest.raises(store.BackupError, match="damaged|not a SQLite backup|not a psychanalytics store"):
        store.restore(damaged, tmp_path / "x.sqlite")
    tampered = tmp_path / "tampered.sqlite"
    shutil.copy(out, tampered)
    with sqlite3.connect(tampered) as conn:
        conn.execute("UPDATE audit_log SET actor = 'someone else' WHERE seq = 1")
    with pytest.raises(store.BackupError, match="audit chain is broken at row 1"):
        store.restore(tampered, tmp_path / "y.sqlite")
    assert not (tmp_path / "x.sqlite").exists() and not (tmp_path / "y.sqlite").exists()


def _screening_file(path: Path, first: int, n: int, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    lines = ["学籍号,姓名," + ",".join(f"Q{i}" for i in range(1, 10))]
    for i in range(first, first + n):
        lines.append(f"G{i:018d},学生{i}," + ",".join(map(str, rng.integers(0, 4, 9))))
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def test_a_backup_taken_while_imports_run_is_one_consistent_moment(sqlite_engine, tmp_path):
    files = [_screening_file(tmp_path / f"wave{i}.csv", i * 3000, 3000, i) for i in range(6)]
    failures: list[BaseException] = []

    def import_all():
        try:
            for path in files:
                ingest.import_file(
                    sqlite_engine,
                    "screening",
                    path,
                    key=synth.DEMO_KEY,
                    wave="2025-autumn",
                    instrument="phq9",
                )
                # a breath between files: SQLite's busy handler polls, so a writer that takes the lock back at
                # once can starve the backup's audit row (seen under load: every copy after the last import)
                time.sleep(0.3)
        except BaseException as exc:  # surfaced below
            failures.append(exc)

    writer = threading.Thread(target=import_all)
    writer.start()
    copies = []
    while writer.is_alive() or not copies:
        copies.append(store.backup(sqlite_engine, tmp_path / f"copy{len(copies)}.sqlite").path)
    writer.join()
    assert failures == []
    seen = set()
    for path in copies:
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            batches = conn.execute("SELECT batch_id, stored FROM import_batch").fetchall()
            for batch_id, stored in batches:  # each import is there whole, or not at all
                assert (
                    conn.execute("SELECT count(*) FROM response WHERE batch_id = ?", (batch_id,)).fetchone()[
                        0
                    ]
                    == stored
                )
            assert conn.execute("SELECT count(*) FROM response").fetchone()[0] == sum(s for _, s in batches)
            seen.add(len(batches))
        engine = store.connect(path, read_only=True)
        with engine.connect() as conn:
            assert audit.verify(conn) == []
        engine.dispose()
    assert len(seen) >= 2, f"every copy saw the same moment ({seen}): the imports did not overlap the backups"


@pytest.mark.postgres
def test_postgresql_backs_up_with_pg_dump_and_restores_the_same_data(tmp_path):
    if not PG_URL:
        pytest.skip("PostgreSQL not configured: set PSYCHANALYTICS_TEST_PG (.ci/run does)")
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump / pg_restore not installed (Debian: postgresql-client)")
    engine = store.connect(PG_URL)
    empty_database(engine)
    synth.build_demo(engine, seed=5, students=600)
    done = store.backup(engine, tmp_path / "backup.dump")
    at_backup = content(engine)
    with pytest.raises(store.BackupError, match="holds a psychanalytics store"):
        store.restore(done.path, PG_URL)
    empty_database(engine)
    restored = store.restore(done.path, PG_URL)
    assert restored.head == done.audit_seq and "psychanalytics:***@" in restored.database
    assert content(engine, up_to=done.audit_seq) == at_backup
    with engine.connect() as conn:
        assert audit.verify(conn) == []
    empty_database(engine)
    store.create_all(engine)  # as the other tests' fixtures expect
    engine.dispose()
