"""The ``psychanalytics`` command as a user runs it: a real subprocess on a real SQLite file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from psychanalytics import store
from psychanalytics.privacy import audit

CLI = Path(sys.executable).parent / "psychanalytics"


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=300, cwd=cwd)


def test_demo_fills_every_table_and_refuses_to_overwrite(tmp_path):
    db = tmp_path / "demo.sqlite"
    built = _run("demo", "--db", str(db), "--students", "600", "--seed", "3")
    assert built.returncode == 0, built.stderr
    assert "演示数据（合成）已生成" in built.stdout and "9 行隔离 quarantined" in built.stdout
    engine = store.connect(db)
    counts = store.table_counts(engine)
    assert [name for name, n in counts.items() if n == 0] == []
    with engine.connect() as conn:
        assert audit.verify(conn) == []

    again = _run("demo", "--db", str(db), "--students", "600", "--seed", "3")
    assert again.returncode == 2 and "--replace" in again.stderr and "Traceback" not in again.stderr
    assert store.table_counts(engine) == counts


def test_unknown_subcommand_is_a_usage_error():
    result = _run("frobnicate")
    assert result.returncode == 2 and "invalid choice" in result.stderr


SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"
PHQ9 = SAMPLES / "phq9_2025-autumn_errors.csv"


def _import(db: Path, key: Path, *extra: str, file: Path = PHQ9) -> subprocess.CompletedProcess:
    """Import with the working directory next to the database (the quarantine report lands there)."""
    return _run(
        "import",
        "screening",
        str(file),
        "--db",
        str(db),
        "--key-file",
        str(key),
        "--wave",
        "2025-autumn",
        "--instrument",
        "phq9",
        "--json",
        *extra,
        cwd=db.parent if db.parent.exists() else None,
    )


def test_import_refuses_a_database_that_does_not_exist(tmp_path):
    missing = tmp_path / "typo" / "x.sqlite"
    result = _import(missing, SAMPLES / "demo.key")
    assert result.returncode == 2 and "database not found" in result.stdout
    assert not missing.exists() and not missing.parent.exists()


def test_init_then_import_records_the_key_and_refuses_another(tmp_path):
    db, key = tmp_path / "district.sqlite", tmp_path / "keys" / "district.key"
    assert _run("init", "--db", str(db)).returncode == 0
    first = _import(db, key)  # first use creates the key outside the database
    assert first.returncode == 0 and key.exists(), first.stdout
    counts = store.table_counts(store.connect(db))

    typo = _import(db, tmp_path / "keys" / "typo.key")
    assert typo.returncode == 2 and "key file not found" in typo.stdout
    assert not (tmp_path / "keys" / "typo.key").exists()

    other = tmp_path / "other.key"
    other.write_bytes(b"another key of at least sixteen bytes")
    changed = tmp_path / "phq9_changed.csv"
    changed.write_bytes(PHQ9.read_bytes() + b"\n")  # other bytes: not the batch already imported
    mismatched = _import(db, other, file=changed)
    assert mismatched.returncode == 2 and "pseudonym key differs" in mismatched.stdout
    assert store.table_counts(store.connect(db)) == counts


def test_same_file_with_another_wave_is_refused_not_ignored(tmp_path):
    db, key = tmp_path / "district.sqlite", tmp_path / "district.key"
    _run("init", "--db", str(db))
    assert _import(db, key).returncode == 0
    again = _run(
        "import",
        "screening",
        str(PHQ9),
        "--db",
        str(db),
        "--key-file",
        str(key),
        "--wave",
        "2024-autumn",
        "--instrument",
        "phq9",
        "--json",
    )
    assert again.returncode == 2 and "wave=2025-autumn" in again.stdout


def test_header_only_file_is_refused(tmp_path):
    db, key = tmp_path / "district.sqlite", tmp_path / "district.key"
    _run("init", "--db", str(db))
    header_only = tmp_path / "empty.csv"
    header_only.write_text("学籍号,Q1,Q2,Q3,Q4,Q5,Q6,Q7,Q8,Q9\n", encoding="utf-8")
    result = _import(db, key, file=header_only)
    assert result.returncode == 2 and "no data rows" in result.stdout
    assert store.table_counts(store.connect(db))["import_batch"] == 0
