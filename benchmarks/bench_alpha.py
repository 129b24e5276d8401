"""Benchmark: psychometrics.cronbach_alpha against pingouin.cronbach_alpha.

Prints, for a NaN-free and a NaN (pairwise) variant, pingouin's seconds, ours,
the ratio and the absolute difference of alpha. Both run in the same process on
the same data, so the ratio is the figure to read (machine speed cancels out).
The data are float64 with NaN for missing, as ``store.load_items`` returns them
(a pandas DataFrame built from one 2-D array: one column-major block). The load
average is printed first: other processes on the machine slow both sides, not
necessarily equally.

    .venv/bin/python benchmarks/bench_alpha.py --rows 20000
    .venv/bin/python benchmarks/bench_alpha.py            # 1,000,000 x 100
"""

from __future__ import annotations

import argparse
import os
import time

try:
    from benchmarks import _measure
except ImportError:  # run as a script: benchmarks/ is on sys.path
    import _measure

import numpy as np
import pandas as pd
import pingouin as pg

from psychanalytics.psychometrics import cronbach_alpha


def _data(rows: int, items: int, nan_share: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(rows, 1))
    values = np.clip(np.rint(latent + rng.normal(size=(rows, items)) + 2), 0, 4)
    if nan_share:
        values[rng.random(values.shape) < nan_share] = np.nan
    return pd.DataFrame(values, columns=[f"q{i + 1}" for i in range(items)])


def _best(fn, repeat: int) -> tuple[float, float]:
    times, value = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return min(times), value


def rows(rows: int = 1_000_000, items: int = 100, repeat: int = 3, nan_rows: int | None = None) -> list[dict]:
    """Table rows ``alpha`` (no NaN, the fast path) and ``alpha_pairwise`` (5 % NaN): ours against pingouin.

    Both alphas must agree to 1e-9 first.
    """
    out = []
    for name, n, nan_share in (
        ("alpha", rows, 0.0),
        ("alpha_pairwise", nan_rows or max(rows // 10, 1_000), 0.05),
    ):
        frame = _data(n, items, nan_share, seed=1)
        gap = abs(cronbach_alpha(frame).alpha - pg.cronbach_alpha(frame)[0])
        if not gap < 1e-9:
            raise AssertionError(f"{name}: alpha differs from pingouin's by {gap}")
        ours, ours_mb = _measure.timed(lambda d=frame: cronbach_alpha(d), repeat)
        base, base_mb = _measure.timed(lambda d=frame: pg.cronbach_alpha(d), repeat)
        kind = "no NaN" if not nan_share else "5 % NaN, pairwise"
        out.append(
            _measure.row(name, f"psychometrics.cronbach_alpha ({kind})", "pingouin.cronbach_alpha", ours, base,
                         ours_mb=ours_mb, base_mb=base_mb, size=f"{n:,} x {items} float64")
        )  # fmt: skip
        del frame
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--items", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--nan-rows", type=int, default=None, help="rows of the NaN variant (default: rows / 10)"
    )
    args = parser.parse_args(argv)
    nan_rows = args.nan_rows or max(args.rows // 10, 1_000)
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; best of {args.repeat}")
    print(
        f"{'variant':<22}{'rows':>10}{'items':>6}{'pingouin s':>12}{'ours s':>10}{'ratio':>8}{'|diff|':>11}"
    )
    for variant, rows, nan_share in (
        ("no NaN (fast path)", args.rows, 0.0),
        ("5% NaN (pairwise)", nan_rows, 0.05),
    ):
        data = _data(rows, args.items, nan_share, seed=1)
        t_pg, (alpha_pg, _) = _best(lambda d=data: pg.cronbach_alpha(d), args.repeat)
        t_ours, res = _best(lambda d=data: cronbach_alpha(d), args.repeat)
        print(
            f"{variant:<22}{rows:>10,}{args.items:>6}{t_pg:>12.3f}{t_ours:>10.3f}{t_pg / t_ours:>8.1f}"
            f"{abs(res.alpha - alpha_pg):>11.2e}"
        )
        del data


if __name__ == "__main__":
    main()
