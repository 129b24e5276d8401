"""Benchmark: score MHT responses against a plain numpy baseline measured in the same run.

The baseline sums each MHT scale's item columns (and the lie items) with numpy
on the same int8 matrix; ``score`` does everything else too (validation, lie,
validity, output frame). The target is a ratio of at most 2.

Usage: ``python benchmarks/bench_scoring.py [--rows 1000000] [--seed 0] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import pandas as pd

from psychanalytics import instruments
from psychanalytics.scoring import score


def _baseline(matrix: np.ndarray, spec: instruments.InstrumentSpec) -> list[np.ndarray]:
    groups = [s.items for s in spec.scales] + [spec.lie.items]
    return [matrix[:, np.asarray(items) - 1].sum(axis=1) for items in groups]


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    spec = instruments.get("mht")
    rng = np.random.default_rng(args.seed)
    matrix = rng.integers(0, 2, size=(args.rows, spec.n_items), dtype=np.int8)
    frame = pd.DataFrame(matrix, columns=list(spec.item_columns))

    baseline = _best(lambda: _baseline(matrix, spec), args.repeat)
    ours = _best(lambda: score(frame, spec), args.repeat)

    scored = score(frame, spec)
    expected = _baseline(matrix, spec)
    for s, want in zip(spec.scales, expected, strict=False):
        if not np.array_equal(scored[s.code].to_numpy(), want):
            print(f"mismatch on {s.code}", file=sys.stderr)
            return 1
    ratio = ours / baseline
    print(f"MHT scoring, {args.rows:,} rows × {spec.n_items} items (best of {args.repeat})")
    print(f"{'baseline (numpy sums) s':<26}{baseline:>10.3f}")
    print(f"{'score() s':<26}{ours:>10.3f}")
    print(f"{'ratio':<26}{ratio:>10.2f}   target <= 2")
    return 0


if __name__ == "__main__":
    sys.exit(main())
