"""``benchmarks/run.py --quick`` writes one table with every row the issues ask for (issue #17).

Not a timing test: it checks the command runs every benchmark at small sizes, that each row has its
ratio, seconds and peak memory (positive numbers), and that both files are written. The dashboard rows
(static view and live page) are skipped in quick mode and say so.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXPECTED = (
    "demo_build",
    "scoring_naive",
    "scoring_int16",
    "alpha",
    "alpha_pairwise",
    "import_wall",
    "import_cpu",
    "prevalence",
    "reliable_change",
    "mixedlm",
    "dashboard",
    "dashboard_live",
)
NUMBERS = (
    "ours_best_s",
    "ours_median_s",
    "baseline_best_s",
    "baseline_median_s",
    "ratio",
    "ours_peak_mb",
    "baseline_peak_mb",
)


@pytest.mark.slow
def test_quick_run_writes_every_row(tmp_path):
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    table = json.loads((tmp_path / "results.json").read_text())
    rows = {r["name"]: r for r in table["rows"]}
    assert tuple(rows) == EXPECTED
    assert rows["dashboard"]["status"] == rows["dashboard_live"]["status"] == "skipped (quick)"
    for name in EXPECTED[:-2]:
        row = rows[name]
        assert row["status"] == "ok", row
        for field in NUMBERS:
            assert row[field] > 0, (name, field, row[field])
        assert row["ratio"] == pytest.approx(row["ours_best_s"] / row["baseline_best_s"])
    markdown = (tmp_path / "results.md").read_text()
    for name in EXPECTED:
        assert f"| {name} |" in markdown
    assert "| dashboard | skipped (quick) |" in markdown


def test_only_refuses_an_unknown_name(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "run.py"),
            "--quick",
            "--only",
            "nonsense",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "unknown --only" in done.stderr
    assert not (tmp_path / "results.json").exists()
