"""The ``psychanalytics`` command as a user runs it: a real subprocess on a real SQLite file.

``import`` has its own module, ``test_ingest_cli.py``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from psychanalytics import store
from psychanalytics.store import audit

CLI = Path(sys.executable).parent / "psychanalytics"


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=300)


def test_demo_fills_every_table_and_refuses_to_overwrite(tmp_path):
    db = tmp_path / "demo.sqlite"
    built = _run("demo", "--db", str(db), "--students", "600", "--seed", "3")
    assert built.returncode == 0, built.stderr
    assert "演示数据（合成）已生成" in built.stdout and "9 行隔离 quarantined" in built.stdout
    engine = store.connect(db)
    counts = store.table_counts(engine)
    assert [name for name, n in counts.items() if n == 0] == [
        "demo_planted_school",
        "erasure",
        "data_release",
    ]
    with engine.connect() as conn:
        assert audit.verify(conn) == []

    again = _run("demo", "--db", str(db), "--students", "600", "--seed", "3")
    assert again.returncode == 2 and "--replace" in again.stderr and "Traceback" not in again.stderr
    assert store.table_counts(engine) == counts


def test_unknown_subcommand_is_a_usage_error():
    result = _run("frobnicate")
    assert result.returncode == 2 and "invalid choice" in result.stderr
