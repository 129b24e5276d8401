"""The one benchmark command: every benchmark the issues ask for, in one table (Markdown and JSON).

Every figure is a ratio against a baseline measured in the same run (ours best / baseline best; below
1 means ours is faster), with best and median seconds of both and each side's peak resident memory.
Each group of rows runs in its own interpreter, one after the other (never two at once), so that one
group's memory does not count in another's.

Usage::

    .venv/bin/python benchmarks/run.py                        # the issues' sizes (make benchmark)
    .venv/bin/python benchmarks/run.py --quick --out /tmp/b   # small sizes, one repetition
    .venv/bin/python benchmarks/run.py --only scoring --repeat 5

Writes ``results.md`` and ``results.json`` into ``--out`` (default ``benchmarks/out``, not committed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

SIZES = {
    "default": {
        "demo": {"students": 45_000},
        "scoring": {"rows": 1_000_000},
        "alpha": {"rows": 1_000_000, "items": 100},
        "import": {"rows": 1_000_000},
        "prevalence": {"students": 500_000, "schools": 1_000},
        "outcomes": {"pairs": 1_000_000, "students": 100_000, "schools": 40, "classes": 1_000},
        "dashboard": {"students": 45_000},
    },
    "quick": {
        "demo": {"students": 600},
        "scoring": {"rows": 20_000},
        "alpha": {"rows": 5_000, "items": 100, "nan_rows": 2_000},
        "import": {"rows": 5_000},
        "prevalence": {"students": 2_000, "schools": 20},
        "outcomes": {"pairs": 10_000, "students": 2_000, "schools": 10, "classes": 40},
        "dashboard": None,  # skipped in quick mode: two Voila servers and kernels take most of a minute
    },
}
"""Sizes per group of rows; the default ones are the issues' (1M rows, 500,000 students …)."""

ROWS = {
    "demo": ("demo_build",),
    "scoring": ("scoring_naive", "scoring_int16"),
    "alpha": ("alpha", "alpha_pairwise"),
    "import": ("import_wall", "import_cpu"),
    "prevalence": ("prevalence",),
    "outcomes": ("reliable_change", "mixedlm"),
    "dashboard": ("dashboard", "dashboard_live"),
}
"""The rows each group writes, in table order."""


def run_group(group: str, sizes: dict, repeat: int) -> list[dict]:
    """Run one group's benchmark functions in this process; its rows."""
    sys.path.insert(0, str(HERE))
    if group == "demo":
        import bench_demo

        return [bench_demo.row(repeat=repeat, **sizes)]
    if group == "scoring":
        import bench_scoring

        return bench_scoring.rows(repeat=repeat, **sizes)
    if group == "alpha":
        import bench_alpha

        return bench_alpha.rows(repeat=repeat, **sizes)
    if group == "import":
        import bench_import

        return bench_import.rows(repeat=repeat, **sizes)
    if group == "prevalence":
        import bench_screening

        return [bench_screening.row(repeat=repeat, **sizes)]
    if group == "outcomes":
        import bench_outcomes

        return bench_outcomes.rows(repeat=repeat, **sizes)
    if group == "dashboard":
        import bench_dashboard

        from psychanalytics import store, synth

        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "demo.sqlite"
            engine = store.connect(db)
            synth.build_demo(engine, students=sizes["students"])
            engine.dispose()
            return bench_dashboard.dashboard_rows(
                db, repeat=repeat, size=f"demo district, {sizes['students']:,} students a year"
            )
    raise KeyError(group)


def _skipped(group: str, why: str) -> list[dict]:
    return [{"name": name, "status": why} for name in ROWS[group]]


def _child(group: str, sizes: dict, repeat: int) -> list[dict]:
    """Run a group in a fresh interpreter; its rows, or rows saying it failed."""
    code = (
        f"import json, sys; sys.path.insert(0, {str(HERE)!r}); import run; "
        f"print('\\n' + json.dumps(run.run_group({group!r}, {sizes!r}, {repeat!r})))"
    )
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    print(f"  {group:<11} {time.perf_counter() - started:7.1f} s", file=sys.stderr, flush=True)
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
        return _skipped(group, f"failed: {tail[:200]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _number(value, digits: int = 3) -> str:
    if value is None:
        return "–"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}" if value < 1 else f"{value:.{digits}f}".rstrip("0").rstrip(".")


def markdown(rows: list[dict], meta: dict) -> str:
    """The table as Markdown: one line per row, ratio first."""
    lines = [
        f"Benchmarks ({meta['mode']} sizes, {meta['repeat']} repetition(s)), {meta['when']}, "
        f"{meta['cpus']} CPUs, load average {meta['load_average']:.2f} at the start, Python {meta['python']}.",
        "Ratio = ours best / baseline best (below 1: ours faster). Peak = peak resident memory (MB) of each "
        "side, measured as the column `rss` says.",
        "",
        "| row | what | size | baseline | ratio | ours best s | ours median s | baseline best s "
        "| baseline median s | ours peak MB | baseline peak MB | rss |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        if r["status"] != "ok":
            lines.append(f"| {r['name']} | {r['status']} | | | | | | | | | | |")
            continue
        lines.append(
            f"| {r['name']} | {r['what']}{' (' + r['note'] + ')' if r['note'] else ''} | {r['size']} "
            f"| {r['baseline']} | **{r['ratio']:.2f}** | {_number(r['ours_best_s'])} | {_number(r['ours_median_s'])} "
            f"| {_number(r['baseline_best_s'])} | {_number(r['baseline_median_s'])} | {_number(r['ours_peak_mb'])} "
            f"| {_number(r['baseline_peak_mb'])} | {r['rss_method']} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one repetition (for a test)")
    parser.add_argument("--only", action="append", metavar="NAME", help="a group or row name (repeatable)")
    parser.add_argument("--repeat", type=int, help="repetitions of each side (default 3; 1 with --quick)")
    parser.add_argument(
        "--out", type=Path, default=HERE / "out", help="folder for results.md/.json (default benchmarks/out)"
    )
    args = parser.parse_args(argv)
    mode = "quick" if args.quick else "default"
    repeat = args.repeat or (1 if args.quick else 3)
    wanted = set(args.only or ROWS)
    unknown = wanted - set(ROWS) - {r for rows in ROWS.values() for r in rows}
    if unknown:
        parser.error(f"unknown --only {sorted(unknown)}; groups and rows: {ROWS}")
    meta = {
        "mode": mode,
        "repeat": repeat,
        "when": dt.datetime.now().isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg()[0],
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    rows: list[dict] = []
    for group, names in ROWS.items():
        if group not in wanted and not wanted & set(names):
            continue
        sizes = SIZES[mode][group]
        found = _skipped(group, f"skipped ({mode})") if sizes is None else _child(group, sizes, repeat)
        rows += [r for r in found if group in wanted or r["name"] in wanted]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
    (args.out / "results.md").write_text(markdown(rows, meta))
    print(markdown(rows, meta))
    return 0 if all(r["status"] == "ok" or r["status"].startswith("skipped") for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
