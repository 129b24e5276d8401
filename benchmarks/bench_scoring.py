"""Benchmark: score MHT responses against plain numpy baselines measured in the same run.

Two baselines on the same int8 matrix: the naive one sums each MHT scale's item
columns (and the lie items) with ``matrix[:, items].sum(axis=1)``; the fastest
numpy form found keeps the items × respondents copy pandas holds and adds each
scale's item rows into an int16 accumulator (no fancy-index copy, no int64
widening). ``score`` does everything else too (validation, lie, validity,
bands, flags, output frame). The target is a ratio of at most 2 (naive).

Usage: ``python benchmarks/bench_scoring.py [--rows 1000000] [--seed 0] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import sys

try:
    from benchmarks import _measure
except ImportError:  # run as a script: benchmarks/ is on sys.path
    import _measure

import numpy as np
import pandas as pd

from psychanalytics import instruments
from psychanalytics.scoring import score


def _groups(spec: instruments.InstrumentSpec) -> list[np.ndarray]:
    return [np.asarray(items) - 1 for items in [s.items for s in spec.scales] + [spec.lie.items]]


def _baseline(matrix: np.ndarray, spec: instruments.InstrumentSpec) -> list[np.ndarray]:
    """Naive: one fancy-indexed ``sum`` per scale (int64 accumulation)."""
    return [matrix[:, items].sum(axis=1) for items in _groups(spec)]


def _int16(by_item: np.ndarray, spec: instruments.InstrumentSpec) -> list[np.ndarray]:
    """Fastest numpy form: items × respondents rows added into one int16 accumulator per scale."""
    out = []
    for items in _groups(spec):
        acc = np.zeros(by_item.shape[1], dtype=np.int16)
        for i in items:
            np.add(acc, by_item[i], out=acc, casting="unsafe")
        out.append(acc)
    return out


def data(rows: int, seed: int = 0) -> tuple[np.ndarray, pd.DataFrame]:
    """An int8 respondents × items MHT matrix of 0/1 answers and the frame ``score`` reads."""
    spec = instruments.get("mht")
    matrix = np.random.default_rng(seed).integers(0, 2, size=(rows, spec.n_items), dtype=np.int8)
    return matrix, pd.DataFrame(matrix, columns=list(spec.item_columns))


def rows(rows: int = 1_000_000, repeat: int = 3, seed: int = 0) -> list[dict]:
    """Table rows ``scoring_naive`` and ``scoring_int16``: ``score`` against both numpy baselines.

    Every baseline's sums are checked equal to ``score``'s scale scores first.
    """
    spec = instruments.get("mht")
    matrix, frame = data(rows, seed)
    by_item = np.ascontiguousarray(matrix.T)
    scored = score(frame, spec)
    for baseline in (_baseline(matrix, spec), _int16(by_item, spec)):
        for s, want in zip(spec.scales, baseline, strict=False):
            if not np.array_equal(scored[s.code].to_numpy(), want):
                raise AssertionError(f"baseline and score() differ on {s.code}")
    del scored
    ours, ours_mb = _measure.timed(lambda: score(frame, spec), repeat)
    naive, naive_mb = _measure.timed(lambda: _baseline(matrix, spec), repeat)
    fast, fast_mb = _measure.timed(lambda: _int16(by_item, spec), repeat)
    size = f"{rows:,} x {spec.n_items} items (int8)"
    what = "scoring.score of MHT (all scales, lie, validity, bands, flags)"
    return [
        _measure.row("scoring_naive", what, "numpy per-scale sum", ours, naive,
                     ours_mb=ours_mb, base_mb=naive_mb, size=size),
        _measure.row("scoring_int16", what, "numpy int16 accumulation", ours, fast,
                     ours_mb=ours_mb, base_mb=fast_mb, size=size),
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    try:
        naive, fast = rows(args.rows, args.repeat, args.seed)
    except AssertionError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"MHT scoring, {naive['size']} (best of {args.repeat})")
    print(f"{'baseline (numpy sums) s':<26}{naive['baseline_best_s']:>10.3f}")
    print(f"{'baseline (int16) s':<26}{fast['baseline_best_s']:>10.3f}")
    print(f"{'score() s':<26}{naive['ours_best_s']:>10.3f}")
    print(f"{'ratio (naive)':<26}{naive['ratio']:>10.2f}   target <= 2")
    print(f"{'ratio (int16)':<26}{fast['ratio']:>10.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
