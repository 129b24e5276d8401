"""``psychanalytics import`` end to end in subprocesses: JSON and text summaries, the report file,
exit codes, and a ``kill -9`` in the middle of an import leaving the database as it was."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import openpyxl
import pytest
import sqlalchemy as sa

from psychanalytics import store
from psychanalytics.store import schema

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
PHQ9 = SAMPLES / "phq9_2025-autumn_errors.csv"
SCHOOL = dict(school_id="S02", name="示例第一中学", stage="junior", location="urban")


def _cli(*args: str, cwd: Path, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "psychanalytics.cli", "import", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        **kw,
    )


def _screening(
    file: Path, db: Path, key: Path, *extra: str, wave: str = "2025-autumn", instrument: str = "phq9"
) -> list[str]:
    """Arguments of ``psychanalytics import screening`` for one file."""
    return [
        "screening", str(file), "--db", str(db), "--wave", wave, "--instrument", instrument,
        "--key-file", str(key), *extra,
    ]  # fmt: skip


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "cli.sqlite"
    engine = store.connect(path)
    store.create_all(engine)
    with engine.begin() as conn:
        store.upsert(conn, schema.school, [SCHOOL])
    engine.dispose()
    return path


def _csv(path: Path, n: int, *, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    items = rng.integers(0, 4, size=(n, 9))
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("学籍号,姓名,学校,年级,班级,用时," + ",".join(f"Q{i}" for i in range(1, 10)) + "\n")
        for i in range(n):
            fh.write(
                f"G{i:08d},学生{i},示例第一中学,7,{i % 9 + 1},{120 + i % 300},"
                + ",".join(map(str, items[i]))
                + "\n"
            )
    return path


def test_json_summary_and_report(db_path, tmp_path):
    key = tmp_path / "keys" / "pseudonym.key"
    run = _cli(
        *_screening(PHQ9, db_path, key),
        "--json",
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert {"rows_read", "stored", "quarantined", "duplicates", "batch_id"} <= set(summary)
    assert summary["rows_read"] == summary["stored"] + summary["quarantined"] + summary["duplicates"]
    assert summary["quarantined"] > 0 and key.exists() and oct(key.stat().st_mode & 0o777) == "0o600"
    report = Path(summary["report"])
    assert report.parent == tmp_path and report.exists()
    rows = list(openpyxl.load_workbook(report)["问题行"].iter_rows(values_only=True))
    assert rows[0][0] == "行号" and len(rows) > summary["quarantined"] - 1


def test_text_summary_is_bilingual_and_reimport_says_so(db_path, tmp_path):
    args = (
        "roster",
        str(SAMPLES / "roster_2025-2026.xlsx"),
        "--db",
        str(db_path),
        "--key-file",
        str(tmp_path / "k.key"),
        "--report",
        str(tmp_path / "r.xlsx"),
    )
    first = _cli(*args, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "读取行数 / rows read" in first.stdout and "已隔离   / quarantined" in first.stdout
    again = _cli(*args, cwd=tmp_path)
    assert "already imported" in again.stdout and "此文件已导入过" in again.stdout


def test_refused_file_exits_2_with_a_reason(db_path, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("学籍号,Q1,Q2\nG1,1,1\n", encoding="utf-8")
    run = _cli(
        *_screening(bad, db_path, tmp_path / "k.key"),
        cwd=tmp_path,
    )
    assert run.returncode == 2 and "wrong item count" in run.stderr and "未写入任何数据" in run.stderr
    run = _cli(
        *_screening(bad, db_path, tmp_path / "k.key", instrument="nope"),
        "--json",
        cwd=tmp_path,
    )
    assert run.returncode == 2 and "unknown instrument" in json.loads(run.stdout)["error"]


def test_an_import_that_stores_rows_refreshes_the_planner_statistics(db_path, tmp_path):
    run = _cli(
        *_screening(_csv(tmp_path / "wave.csv", 30), db_path, tmp_path / "k.key"), "--json", cwd=tmp_path
    )
    assert run.returncode == 0 and json.loads(run.stdout)["stored"] == 30, run.stderr
    with sa.create_engine(f"sqlite:///{db_path}").connect() as conn:
        analysed = set(conn.exec_driver_sql("SELECT tbl FROM sqlite_stat1").scalars())
    assert {"score", "response", "student"} <= analysed


def test_kill_9_mid_import_leaves_the_database_as_before(db_path, tmp_path):
    key = tmp_path / "k.key"
    small = _csv(tmp_path / "small.csv", 50, seed=1)
    assert (
        _cli(
            *_screening(small, db_path, key),
            "--json",
            cwd=tmp_path,
        ).returncode
        == 0
    )
    engine = store.connect(db_path)
    before = store.table_counts(engine)
    engine.dispose()
    big = _csv(tmp_path / "big.csv", 200_000, seed=2)
    assert big.stat().st_size > 5_000_000  # large enough for the progress bar, printed after each chunk
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "psychanalytics.cli",
            "import",
            *_screening(big, db_path, key),
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    seen = b""
    deadline = time.monotonic() + 60
    while b"storing" not in seen and time.monotonic() < deadline:
        seen += os.read(proc.stderr.fileno(), 256)
    # the file is read and the rows are being written, inside the open transaction
    assert b"reading" in seen and b"storing" in seen, seen
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL  # killed, not finished
    engine = store.connect(db_path)
    assert store.table_counts(engine) == before
    with engine.connect() as conn:
        assert conn.execute(sa.text("PRAGMA integrity_check")).scalar_one() == "ok"
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.import_batch)).scalar_one() == 1
    engine.dispose()


def test_import_refuses_a_database_that_does_not_exist(tmp_path):
    missing = tmp_path / "typo" / "x.sqlite"
    run = _cli(*_screening(PHQ9, missing, SAMPLES / "demo.key"), "--json", cwd=tmp_path)
    assert run.returncode == 2 and "database not found" in run.stdout
    assert not missing.exists() and not missing.parent.exists()


def test_init_then_import_records_the_key_and_refuses_another(tmp_path):
    db, key = tmp_path / "district.sqlite", tmp_path / "keys" / "district.key"
    init = subprocess.run(
        [sys.executable, "-m", "psychanalytics.cli", "init", "--db", str(db)],
        capture_output=True,
        check=False,
    )
    assert init.returncode == 0
    first = _cli(*_screening(PHQ9, db, key), "--json", cwd=tmp_path)  # first use creates the key
    assert first.returncode == 0 and key.exists(), first.stdout
    counts = store.table_counts(store.connect(db))

    typo = tmp_path / "keys" / "typo.key"
    refused = _cli(*_screening(PHQ9, db, typo), "--json", cwd=tmp_path)
    assert refused.returncode == 2 and "key file not found" in refused.stdout and not typo.exists()

    other = tmp_path / "other.key"
    other.write_bytes(b"another key of at least sixteen bytes")
    changed = tmp_path / "phq9_changed.csv"
    changed.write_bytes(PHQ9.read_bytes() + b"\n")  # other bytes: not the batch already imported
    mismatched = _cli(*_screening(changed, db, other), "--json", cwd=tmp_path)
    assert mismatched.returncode == 2 and "pseudonym key differs" in mismatched.stdout
    assert store.table_counts(store.connect(db)) == counts


def test_same_file_with_another_wave_is_refused_not_ignored(db_path, tmp_path):
    key = tmp_path / "k.key"
    assert _cli(*_screening(PHQ9, db_path, key), "--json", cwd=tmp_path).returncode == 0
    again = _cli(*_screening(PHQ9, db_path, key, wave="2024-autumn"), "--json", cwd=tmp_path)
    assert again.returncode == 2 and "wave=2025-autumn" in again.stdout


def test_header_only_file_is_refused(db_path, tmp_path):
    header_only = tmp_path / "empty.csv"
    header_only.write_text("学籍号,Q1,Q2,Q3,Q4,Q5,Q6,Q7,Q8,Q9\n", encoding="utf-8")
    run = _cli(*_screening(header_only, db_path, tmp_path / "k.key"), "--json", cwd=tmp_path)
    assert run.returncode == 2 and "no data rows" in run.stdout
    assert store.table_counts(store.connect(db_path))["import_batch"] == 0
