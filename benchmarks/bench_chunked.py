"""Benchmark (not in CI): score and aggregate a 1,000,000-student × 100-item MHT wave in chunks; peak RSS.

The wave is written as Parquet partitions in the layout of ``psychanalytics export parquet`` (one file
per school), block by block, never whole in memory. A fresh interpreter then reads one partition at a
time, scores it with :func:`psychanalytics.scoring.score` and keeps only counts by school × grade ×
gender (valid sheets, and those with a raw MHT total of 56 or more: a line for the count, not a cut-off) —
:func:`psychanalytics.distributed.reduce_counts` sums them. Its peak resident memory (``ru_maxrss``) is
the figure (target ≤ 1.5 GB); the import of the same size is ``benchmarks/run.py``'s ``import_wall``.

Usage::

    .venv/bin/python benchmarks/bench_chunked.py --students 1000000 --schools 1000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ITEMS = 100

_SCORE = """
import json, resource, time
import pandas as pd
from psychanalytics.distributed import partition_files, read_partition, reduce_counts
from psychanalytics.scoring import score
t = time.perf_counter()
parts = []
for path in partition_files({root!r}, wave="bench", instrument="mht"):
    frame = read_partition(path)
    scored = score(frame, "mht")
    keep = scored["valid"].to_numpy(dtype=bool)
    cells = frame.loc[keep, ["school", "grade", "gender"]].assign(
        n=1, count=(scored.loc[keep, "total"] >= 56).astype("int64"))
    parts.append(cells.groupby(["school", "grade", "gender"]).sum().reset_index())
counts = reduce_counts(parts)
print(json.dumps({{"seconds": time.perf_counter() - t, "groups": len(counts), "sheets": int(counts["n"].sum()),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def write_wave(root: Path, students: int, schools: int, seed: int = 1) -> int:
    """MHT answers (0/1, a few missing) of ``students`` in ``schools`` school partitions; bytes written."""
    rng = np.random.default_rng(seed)
    per_school = np.full(schools, students // schools)
    per_school[: students % schools] += 1
    first = 0
    for k, n in enumerate(per_school):
        items = rng.integers(0, 2, size=(n, ITEMS), dtype=np.int8)
        columns = {
            "pid": pa.array(np.char.mod("%032x", np.arange(first, first + n)).astype(object), pa.string()),
            "grade": pa.array(rng.integers(4, 13, n), pa.int16()),
            "gender": pa.array(rng.choice(np.array(["F", "M"], dtype=object), n), pa.string()),
            "platform_flag": pa.nulls(n, pa.int16()),
        }
        missing = rng.random((n, ITEMS)) < 0.001
        for j in range(ITEMS):
            columns[f"q{j + 1}"] = pa.array(items[:, j], pa.int8(), mask=missing[:, j])
        folder = root / "wave=bench" / "instrument=mht" / f"school=S{k:05d}"
        folder.mkdir(parents=True)
        pq.write_table(pa.table(columns), folder / "part.parquet", compression="zstd")
        first += n
    return sum(p.stat().st_size for p in root.rglob("*.parquet"))


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=1_000_000)
    parser.add_argument("--schools", type=int, default=1_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        size = write_wave(Path(tmp), args.students, args.schools)
        written = time.perf_counter() - started
        out = subprocess.run(
            [sys.executable, "-c", _SCORE.format(root=tmp)], capture_output=True, text=True, check=True
        )
    result = {
        "students": args.students,
        "items": ITEMS,
        "partitions": args.schools,
        "parquet_mb": round(size / 1e6, 1),
        "write_s": round(written, 1),
        **json.loads(out.stdout.strip().splitlines()[-1]),
        "target_peak_mb": 1536,
    }
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
