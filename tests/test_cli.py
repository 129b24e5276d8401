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


def test_publish_writes_the_mart_its_manifest_and_an_audit_row(demo_db, tmp_path):
    import json
    import shutil

    from psychanalytics import mart, synth

    db, target, key = tmp_path / "demo.sqlite", tmp_path / "mart.sqlite", tmp_path / "store.key"
    shutil.copy(demo_db, db)
    key.write_bytes(synth.DEMO_KEY)
    env_args = ("--key-file", str(key), "--anchor-file", str(tmp_path / "anchors.jsonl"))
    done = _run("publish", "--db", str(db), "--mart", str(target), *env_args)
    assert done.returncode == 0, done.stderr
    assert "汇总数据已发布 / mart published" in done.stdout and "小于 10 人不显示" in done.stdout
    manifest = json.loads((tmp_path / "mart.sqlite.manifest.json").read_text("utf-8"))
    published = mart.Mart(target)
    assert published.manifest == manifest and manifest["audit_anchor"]["seq"] == manifest["audit_seq"]
    assert set(manifest["tables"]) >= set(mart.TABLES) and manifest["spec_versions"]["phq9"]
    engine = store.connect(db)
    releases = store.list_releases(engine)
    assert releases["kind"].tolist() == ["mart"] and releases["name"].tolist() == ["mart.sqlite"]
    with engine.connect() as conn:
        assert audit.head(conn)[0] == manifest["audit_seq"]
    verified = _run(
        "audit",
        "verify",
        "--db",
        str(db),
        "--manifest",
        str(tmp_path / "mart.sqlite.manifest.json"),
        *env_args,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
