"""Benchmark: reliable change on a million pre/post pairs; a multilevel model of 100,000 students.

1. ``outcomes.reliable_change`` (with a cutoff: five categories and the summary
   table) on 1,000,000 pairs against the same arithmetic in bare NumPy (RCI and
   the three-way classification, no checks, no frames), best of three, in this
   process. Target (issue #12): ≤ 1 s.
2. ``outcomes.mixed_model`` with random intercepts for 40 schools and 1,000
   classes nested in them, 100,000 students, against the same model written with
   statsmodels' formula interface (``MixedLM.from_formula`` with ``vc_formula``), as
   written and with BLAS held to one thread as ``mixed_model`` holds it (DESIGN.md, decision 28).
   Each fit runs once in its own subprocess so that its peak resident memory
   (``ru_maxrss``) is its own; a third subprocess that only loads the data gives
   the memory floor. Both fits must agree on the estimates.

Usage::

    .venv/bin/python benchmarks/bench_outcomes.py
    .venv/bin/python benchmarks/bench_outcomes.py --pairs 100000 --students 20000 --skip-formula
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import timeit
from pathlib import Path

import numpy as np
import pandas as pd

from psychanalytics.outcomes import reliable_change

try:
    from benchmarks import _measure
except ImportError:  # run as a script: benchmarks/ is on sys.path
    import _measure


def _pairs(n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    pre = np.clip(np.rint(rng.normal(12, 5, n)), 0, 27)
    post = np.clip(np.rint(pre - 1.5 + rng.normal(0, 3, n)), 0, 27)
    return pre, post


def _numpy_rci(pre: np.ndarray, post: np.ndarray, reliability: float) -> np.ndarray:
    s_diff = np.sqrt(2) * pre.std(ddof=1) * np.sqrt(1 - reliability)
    rci = (post - pre) / s_diff
    return np.where(rci < -1.96, 0, np.where(rci > 1.96, 2, 1))


def district(students: int, schools: int, classes: int, seed: int = 1) -> pd.DataFrame:
    """Students in classes in schools with a pre score, an arm and a post score."""
    rng = np.random.default_rng(seed)
    klass = rng.integers(0, classes, students)
    school = klass % schools
    frame = pd.DataFrame({"school": school, "class": klass // schools, "pre": rng.normal(12, 4, students)})
    frame["arm"] = np.where(klass % 2 == 0, "treatment", "comparison")
    frame["post"] = (
        3
        + 0.6 * frame["pre"]
        - 0.8 * (frame["arm"] == "treatment")
        + rng.normal(0, 1, schools)[school]
        + rng.normal(0, 0.7, classes)[klass]
        + rng.normal(0, 2, students)
    )
    return frame


_LOAD = """
import json, resource, time
import pandas as pd
frame = pd.read_parquet({path!r})
"""
_OURS = """
from psychanalytics.outcomes import mixed_model
t = time.perf_counter()
res = mixed_model(frame, outcome="post", fixed=("pre", "arm"), levels=("school", "class"))
seconds = time.perf_counter() - t
estimates = res.fixed["estimate"].tolist() + res.variance["variance"].tolist()
"""
_FORMULA = """
from statsmodels.regression.mixed_linear_model import MixedLM
t = time.perf_counter()
fit = MixedLM.from_formula("post ~ pre + C(arm)", groups="school", re_formula="1",
                           vc_formula={"klass": "0 + C(Q('class'))"}, data=frame).fit(reml=True)
seconds = time.perf_counter() - t
estimates = list(fit.fe_params[["Intercept", "pre", "C(arm)[T.treatment]"]]) + [float(fit.cov_re.iloc[0, 0]), *map(float, fit.vcomp), float(fit.scale)]
"""
_ONE_THREAD = """
from threadpoolctl import threadpool_limits
threadpool_limits(limits=1, user_api="blas")
"""
_REPORT = """
print(json.dumps({{"seconds": {seconds}, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                   "estimates": {estimates}}}))
"""


def _subprocess(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def rows(
    pairs: int = 1_000_000, students: int = 100_000, schools: int = 40, classes: int = 1_000, repeat: int = 3
) -> list[dict]:
    """Table rows ``reliable_change`` (against bare NumPy) and ``mixedlm`` (against statsmodels' formula
    interface, one fit per run, each in its own interpreter); the fits' estimates must agree to 1e-4."""
    pre, post = _pairs(pairs)
    ours, ours_mb = _measure.timed(lambda: reliable_change(pre, post, reliability=0.85, cutoff=10.0), repeat)
    base, base_mb = _measure.timed(lambda: _numpy_rci(pre, post, 0.85), repeat)
    out = [
        _measure.row("reliable_change", "outcomes.reliable_change (RCI, 5 categories, summary table)",
                     "bare NumPy RCI + 3 categories", ours, base, ours_mb=ours_mb, base_mb=base_mb,
                     size=f"{pairs:,} pre/post pairs"),
    ]  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "district.parquet")
        district(students, schools, classes).to_parquet(path)
        load = _LOAD.format(path=path)
        report = _REPORT.format(seconds="seconds", estimates="estimates")
        fits = [_subprocess(load + _OURS + report) for _ in range(repeat)]
        formula = [_subprocess(load + _FORMULA + report) for _ in range(repeat)]
    gap = np.max(np.abs(np.array(fits[0]["estimates"]) - np.array(formula[0]["estimates"])))
    if not gap < 1e-4:
        raise AssertionError(f"mixed_model and statsmodels' formula fit differ by {gap}")
    out.append(
        _measure.row("mixedlm", "outcomes.mixed_model, random intercepts for schools and classes",
                     "statsmodels MixedLM.from_formula (vc_formula)", [f["seconds"] for f in fits],
                     [f["seconds"] for f in formula], ours_mb=max(f["peak_mb"] for f in fits),
                     base_mb=max(f["peak_mb"] for f in formula),
                     size=f"{students:,} students, {schools} schools, {classes:,} classes",
                     rss="ru_maxrss of each fit's own interpreter (worst run)",
                     note=f"max abs estimate difference {gap:.1e}")
    )  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=1_000_000)
    parser.add_argument("--students", type=int, default=100_000)
    parser.add_argument("--schools", type=int, default=40)
    parser.add_argument("--classes", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--skip-formula", action="store_true", help="do not fit the statsmodels formula baseline"
    )
    args = parser.parse_args(argv)
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")

    pre, post = _pairs(args.pairs)
    cutoff = 10.0
    t_numpy = min(timeit.repeat(lambda: _numpy_rci(pre, post, 0.85), number=1, repeat=args.repeat))
    t_ours = min(
        timeit.repeat(
            lambda: reliable_change(pre, post, reliability=0.85, cutoff=cutoff), number=1, repeat=args.repeat
        )
    )
    print(f"\nreliable change, {args.pairs:,} pairs (best of {args.repeat})")
    print(f"  bare NumPy RCI + 3 categories  {t_numpy:8.3f} s")
    print(f"  outcomes.reliable_change       {t_ours:8.3f} s   ratio {t_ours / t_numpy:.1f}   target ≤ 1 s")

    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "district.parquet")
        district(args.students, args.schools, args.classes).to_parquet(path)
        load = _LOAD.format(path=path)
        floor = _subprocess(load + _REPORT.format(seconds=0, estimates=[]))
        ours = _subprocess(load + _OURS + _REPORT.format(seconds="seconds", estimates="estimates"))
        print(
            f"\nmixed model, {args.students:,} students, {args.schools} schools, {args.classes:,} classes (one fit)"
        )
        print(f"  {'data loaded only':<40}peak {floor['peak_mb']:7.0f} MB")
        print(f"  {'outcomes.mixed_model':<30}{ours['seconds']:8.1f} s   peak {ours['peak_mb']:7.0f} MB")
        if args.skip_formula:
            return
        for name, setup in (
            ("statsmodels from_formula", ""),
            ("  the same, BLAS on one thread", _ONE_THREAD),
        ):
            formula = _subprocess(
                load + setup + _FORMULA + _REPORT.format(seconds="seconds", estimates="estimates")
            )
            gap = np.max(np.abs(np.array(ours["estimates"]) - np.array(formula["estimates"])))
            print(
                f"  {name:<30}{formula['seconds']:8.1f} s   peak {formula['peak_mb']:7.0f} MB"
                f"   ours / this {ours['seconds'] / formula['seconds']:.2f}   max |estimate diff| {gap:.1e}"
            )


if __name__ == "__main__":
    main()
