"""Scoring and screen-positive rates across Parquet partitions on a real local Dask cluster (issue #17).

A small demo district is exported with ``psychanalytics export parquet`` (one file per wave ×
instrument × school), then a two-process ``LocalCluster`` on 127.0.0.1 scores and counts every
partition and reduces the counts; suppression runs after the reduction. The answer must equal, exactly,
the single-machine one: the store's own SQL counts (which never re-score) through the same statistics.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from psychanalytics import store, synth
from psychanalytics.distributed import (
    partition_counts,
    partition_files,
    prevalence_partitions,
    reduce_counts,
    suppressed_prevalence,
)
from psychanalytics.store.queries import screening as sq

distributed = pytest.importorskip("distributed")

WAVE = "2025-autumn"
BY = ["school", "grade", "gender"]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A 2,000-student demo and its Parquet export through the command line."""
    folder = tmp_path_factory.mktemp("province")
    db, out, key = folder / "demo.sqlite", folder / "parquet", folder / "demo.key"
    engine = store.connect(db)
    synth.build_demo(engine, seed=3, students=2_000)
    engine.dispose()
    key.write_bytes(synth.DEMO_KEY)
    done = subprocess.run(
        [sys.executable, "-m", "psychanalytics.cli", "export", "parquet", "--db", str(db), "--out", str(out),
         "--key-file", str(key), "--anchor-file", str(folder / "anchors.jsonl")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return db, out


def _single_machine(db, instrument: str, min_cell: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    engine = store.connect_existing(db, read_only=True)
    counts = sq.screen_positive_counts(engine, instrument=instrument, by=("wave", *BY))
    engine.dispose()
    counts = counts[counts["wave"] == WAVE].drop(columns="wave").reset_index(drop=True)
    return counts, suppressed_prevalence(counts, by=BY, min_cell=min_cell)


def test_export_is_partitioned_pseudonymous_and_audited(exported):
    db, out = exported
    manifest = json.loads((out / "manifest.json").read_text())
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.parquet"))
    assert files == sorted(f["path"] for f in manifest["files"])
    assert all(f.count("=") == 3 and f.endswith("/part.parquet") for f in files)
    assert {f.split("/")[0] for f in files} == {f"wave={w}" for w in manifest["waves"]}
    assert manifest["instruments"]["phq9"]["spec_version"]
    assert manifest["key_fingerprint"] and manifest["snapshot"]["audit_seq"] >= 1
    columns = pd.read_parquet(out / files[0]).columns
    assert not {"student_number", "学籍号", "name", "姓名"} & set(columns)
    assert list(columns[:4]) == ["pid", "grade", "gender", "platform_flag"]
    engine = store.connect_existing(db, read_only=True)
    with engine.connect() as conn:
        row = conn.exec_driver_sql(
            "SELECT action, resource, detail FROM audit_log ORDER BY seq DESC LIMIT 1"
        ).one()
    engine.dispose()
    assert row.action == "export" and row.resource == "parquet:parquet"
    assert json.loads(row.detail)["rows"] == manifest["rows"] == sum(f["rows"] for f in manifest["files"])


@pytest.mark.slow
@pytest.mark.parametrize("instrument", ["phq9", "gad7"])
def test_local_cluster_gives_the_single_machine_answer(exported, instrument):
    db, out = exported
    files = partition_files(out, wave=WAVE, instrument=instrument)
    assert len(files) > 2  # really several partitions
    want_counts, want = _single_machine(db, instrument, min_cell=10)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        assert len(client.scheduler_info()["workers"]) == 2
        got = prevalence_partitions(client, out, wave=WAVE, instrument=instrument, min_cell=10)
        mapped = client.gather(client.map(partition_counts, [str(f) for f in files], instrument=instrument))
    got_counts = reduce_counts(mapped).astype({"grade": "int64"})
    pd.testing.assert_frame_equal(got_counts, want_counts)
    pd.testing.assert_frame_equal(got, want)
    assert got["suppressed"].any() and not got["suppressed"].all()  # suppression really ran


def test_partitions_in_this_process_give_the_same_answer(exported):
    db, out = exported
    _, want = _single_machine(db, "phq9", min_cell=10)
    pd.testing.assert_frame_equal(
        prevalence_partitions(None, out, wave=WAVE, instrument="phq9", min_cell=10), want
    )


def test_export_refuses_another_key_and_a_folder_with_files(exported, tmp_path):
    db, out = exported
    wrong = tmp_path / "wrong.key"
    wrong.write_bytes(b"another key, thirty-two bytes long!")
    base = [sys.executable, "-m", "psychanalytics.cli", "export", "parquet", "--db", str(db)]
    anchors = ["--anchor-file", str(tmp_path / "anchors.jsonl")]
    refused = subprocess.run(
        [*base, "--out", str(tmp_path / "new"), "--key-file", str(wrong), *anchors],
        capture_output=True,
        text=True,
    )
    assert refused.returncode == 2 and "not this store's key" in refused.stderr
    assert not (tmp_path / "new").exists()
    key = tmp_path / "demo.key"
    key.write_bytes(synth.DEMO_KEY)
    again = subprocess.run(
        [*base, "--out", str(out), "--key-file", str(key), *anchors], capture_output=True, text=True
    )
    assert again.returncode == 2 and "not empty" in again.stderr
