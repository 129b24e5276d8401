"""Erasure at a request: a student leaves every table and the SQLite file's bytes; a tombstone stays.

Every table is scanned cell by cell (text and bytes), not only the tables the eraser knows; the file
and its write-ahead log are read as bytes.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import DEMO_SEED, DEMO_STUDENTS, PG_URL
from store_support import empty_database

from psychanalytics import cli, store, synth
from psychanalytics.privacy.pseudonym import pseudonymise
from psychanalytics.store import audit, schema
from psychanalytics.synth import exports as samples


@pytest.fixture
def district(demo_db: Path, tmp_path: Path) -> sa.Engine:
    target = tmp_path / "demo.sqlite"
    shutil.copy(demo_db, target)
    engine = store.connect(target)
    yield engine
    engine.dispose()


@pytest.fixture
def key_file(tmp_path: Path, monkeypatch) -> Path:
    path = tmp_path / "demo.key"
    path.write_bytes(synth.DEMO_KEY)
    monkeypatch.setenv("PSYCHANALYTICS_KEY_FILE", str(path))
    return path


def _busiest_student(engine: sa.Engine) -> str:
    """A student with a crisis case, counselling sessions and screening sheets: rows in many tables."""
    return store.read_frame(
        engine,
        sa.text(
            "SELECT c.pid FROM crisis_case c JOIN counselling_session s ON s.pid = c.pid "
            "JOIN response r ON r.pid = c.pid GROUP BY c.pid ORDER BY count(*) DESC, c.pid LIMIT 1"
        ),
    )["pid"][0]


def _cells_holding(engine: sa.Engine, needle: str) -> dict[str, int]:
    """Per table, the rows with a cell (text or bytes) that contains ``needle``: every table, every column."""
    found = {}
    with engine.connect() as conn:
        for table in schema.metadata.sorted_tables:
            hits = sum(
                any(needle in (v.decode("latin-1") if isinstance(v, bytes) else str(v)) for v in row)
                for row in conn.execute(sa.select(table))
            )
            if hits:
                found[table.name] = hits
    return found


def _file_bytes(engine: sa.Engine) -> bytes:
    path = Path(engine.url.database)
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def _checkpoint(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def _number_of(pid: str) -> str:
    people = synth.population(seed=DEMO_SEED, students=DEMO_STUDENTS)
    return people.set_index("pid").loc[pid, "student_number"]


def test_an_erased_student_is_gone_from_every_table_and_from_the_files_bytes(district):
    pid = _busiest_student(district)
    before = _cells_holding(district, pid)
    assert {
        "student",
        "enrolment",
        "consent",
        "response",
        "score",
        "crisis_case",
        "counselling_session",
    } <= set(before)
    items = store.read_frame(
        district, sa.select(schema.response.c["items"]).where(schema.response.c.pid == pid)
    )
    blob = max(items["items"], key=len)  # an MHT sheet: 100 answers, the student's own pattern
    # values only this student's rows hold. ``old`` was in a row deleted earlier without secure_delete (a
    # SQLite built without it, e.g. Python's own on Windows; Debian's has it on by default): its bytes stay in
    # the page's free space, where deleting the student's remaining rows would not reach them
    old, scope, label = "ERASURE-TEST-OLD-CONSENT-DELETED-EARLIER", "ERASURE-TEST-SCOPE", "ERASURE-TEST-LABEL"
    with district.begin() as conn:
        conn.execute(
            schema.consent.insert().values(
                pid=pid,
                purpose="research:old-study",
                guardian_consent=True,
                granted_on=dt.date(2022, 9, 1),
                scope=old,
            )
        )
    _checkpoint(district)
    with district.begin() as conn:
        conn.exec_driver_sql("PRAGMA secure_delete = OFF")
        conn.execute(schema.consent.delete().where(schema.consent.c.purpose == "research:old-study"))
        conn.exec_driver_sql("PRAGMA secure_delete = ON")
    with district.begin() as conn:
        conn.execute(schema.consent.update().where(schema.consent.c.pid == pid).values(scope=scope))
        conn.execute(
            schema.crisis_case.update().where(schema.crisis_case.c.pid == pid).values(local_label=label)
        )
    _checkpoint(district)
    raw = _file_bytes(district)
    assert (
        all(marker.encode() in raw for marker in (old, scope, label)) and bytes(blob) in raw
    )  # the test can fail

    with district.begin() as conn:
        store.register_release(conn, kind="extract", name="earlier.sav", audit_seq=1, project="p")
    done = store.forget(district, [pid], actor="tester")

    assert done.found == (pid,) and done.scrub.complete
    assert sum(done.rows.values()) >= sum(before.values())
    after = _cells_holding(district, pid)
    assert set(after) == {"erasure", "audit_log"}  # the tombstone and the audit record name the pseudonym
    assert after == {"erasure": 1, "audit_log": 1}
    raw = _file_bytes(district)
    for marker in (old, scope, label):
        assert marker.encode() not in raw, marker
    assert bytes(blob) not in raw
    assert raw.count(pid.encode()) == 2  # the tombstone and the audit row, nothing left in free space
    assert _number_of(pid).encode() not in raw
    with district.connect() as conn:
        assert store.forgotten_pids(conn, [pid, "0" * 32]) == {pid}
        row = conn.execute(sa.select(schema.audit_log).where(schema.audit_log.c.seq == done.audit_seq)).one()
        assert audit.verify(conn) == []
    detail = json.loads(row.detail)
    assert (row.action, row.actor, detail["pids"], detail["rows"]["student"]) == (
        "erasure",
        "tester",
        [pid],
        1,
    )
    stale = store.list_releases(district)
    assert stale["stale_since"].notna().all() and f"audit row {done.audit_seq}" in stale["stale_reason"][0]


def test_forget_takes_student_numbers_and_a_file_and_refuses_another_key(
    district, key_file, tmp_path, capsys
):
    pids = store.read_frame(
        district, sa.select(schema.student.c.pid).order_by(schema.student.c.pid).limit(3)
    )["pid"]
    numbers = [_number_of(pid) for pid in pids]
    listed = tmp_path / "erase.csv"
    listed.write_text(f"学籍号,姓名\n# withdrawn in writing\n{numbers[1]},甲\n\n{numbers[2]},乙\n", "utf-8")
    db = str(district.url.database)
    wrong = tmp_path / "other.key"
    wrong.write_bytes(b"not the demo key, 32 bytes long!")
    assert cli.main(["forget", "--db", db, "--student-number", numbers[0], "--key-file", str(wrong)]) == 2
    assert "is not this store's key" in capsys.readouterr().err
    with district.connect() as conn:
        assert store.forgotten_pids(conn, pids) == set()

    code = cli.main(
        [
            "forget",
            "--db",
            db,
            "--student-number",
            numbers[0],
            "--file",
            str(listed),
            "--reason",
            "withdrawal",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and "已删除 / erased: 3 名学生" in out and "deleted bytes scrubbed" in out
    assert not any(number in out for number in numbers)
    with district.connect() as conn:
        assert store.forgotten_pids(conn, pids) == set(pids)
        assert (
            conn.execute(
                sa.select(sa.func.count())
                .select_from(schema.student)
                .where(schema.student.c.pid.in_(list(pids)))
            ).scalar_one()
            == 0
        )
    anchors = audit.AnchorFile(Path(os.environ["PSYCHANALYTICS_ANCHOR_FILE"]), synth.DEMO_KEY).read()
    assert set(anchors[-1].pids) == set(pids)  # the anchor file keeps them, for a restore of an older backup


def test_a_student_not_yet_in_the_store_is_tombstoned(district):
    stranger = pseudonymise(["G000000000000000001"], synth.DEMO_KEY)[0]
    done = store.forget(district, [stranger])
    assert done.found == () and sum(done.rows.values()) == 0
    with district.connect() as conn:
        assert store.forgotten_pids(conn, [stranger]) == {stranger}


def test_the_same_file_imported_again_does_not_bring_an_erased_student_back(tmp_path):
    engine = store.connect(tmp_path / "district.sqlite")
    synth.build_demo(engine, seed=5, students=600)
    sample = samples.import_error_sample(engine, seed=5, students=600)
    pid = store.read_frame(
        engine, sa.select(schema.response.c.pid).where(schema.response.c.batch_id == sample.batch_id).limit(1)
    )["pid"][0]
    store.forget(engine, [pid])
    again = samples.import_error_sample(engine, seed=5, students=600)
    assert again.already_imported
    assert _cells_holding(engine, pid) == {"erasure": 1, "audit_log": 1}
    engine.dispose()


@pytest.mark.postgres
def test_erasure_reaches_every_table_on_postgresql():
    if not PG_URL:
        pytest.skip("PostgreSQL not configured: set PSYCHANALYTICS_TEST_PG (.ci/run does)")
    engine = store.connect(PG_URL)
    empty_database(engine)
    synth.build_demo(engine, seed=5, students=600)
    pid = _busiest_student(engine)
    assert len(_cells_holding(engine, pid)) >= 7
    done = store.forget(engine, [pid])
    assert _cells_holding(engine, pid) == {"erasure": 1, "audit_log": 1}
    assert any(step.startswith("VACUUM FULL") for step in done.scrub.steps)
    with engine.connect() as conn:
        assert audit.verify(conn) == []
    empty_database(engine)
    engine.dispose()
