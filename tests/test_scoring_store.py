"""Scores from every instrument fit the store: written with write_scores and read back."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from scoring_support import options, random_responses
from store_support import AUTUMN_2024

from psychanalytics import instruments
from psychanalytics.scoring import UncertainRuleWarning, score
from psychanalytics.store import schema
from psychanalytics.store.writes import upsert, write_scores

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("code", instruments.available())
def test_scores_round_trip_through_the_store(engine, code):
    spec = instruments.get(code)
    rng = np.random.default_rng(11)
    responses = pd.concat([random_responses(spec, 4, rng), random_responses(spec, 4, rng, missing=0.0)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UncertainRuleWarning)
        scored = score(responses, code, **options(spec))
    pids = [f"{i:032x}" for i in range(len(scored))]
    with engine.begin() as conn:
        upsert(conn, schema.student, [{"pid": p} for p in pids])
        upsert(conn, schema.screening_wave, [AUTUMN_2024])
        written = write_scores(conn, scored, pids=pids, wave_id=AUTUMN_2024["wave_id"], instrument=code)
    assert written == len(scored) * len(spec.scales)
    with engine.connect() as conn:
        rows = pd.DataFrame(conn.execute(sa.select(schema.score)).mappings().all())
        valid = pd.DataFrame(conn.execute(sa.select(schema.validity)).mappings().all())
    assert set(rows["scale"]) == set(spec.scale_codes)
    assert (rows["spec_version"] == spec.version).all()
    first = rows[rows["pid"] == pids[-1]].set_index("scale")
    for s in spec.scales:
        assert first.loc[s.code, "raw"] == pytest.approx(scored[s.code].iloc[-1])
        if f"{s.code}_band" in scored:
            assert first.loc[s.code, "band"] == scored[f"{s.code}_band"].iloc[-1]
    assert valid.set_index("pid").loc[pids, "valid"].tolist() == scored["valid"].tolist()


def test_benchmark_script_runs_small():
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_scoring.py"), "--rows", "20000", "--repeat", "1"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert "ratio" in result.stdout and "baseline" in result.stdout
