"""Benchmark: building the synthetic demo district into SQLite, against generating it in memory only.

``synth.build_demo`` = generate every table (the baseline) + write them, with their foreign keys and
indexes, to a new SQLite file + planner statistics. The ratio is what storing costs on top of
generating. Each build writes a new file.

Usage::

    .venv/bin/python benchmarks/bench_demo.py --students 45000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from psychanalytics import store, synth
from psychanalytics.synth._build import generate

try:
    from benchmarks import _measure
except ImportError:  # run as a script: benchmarks/ is on sys.path
    import _measure

SEED = 20240901


def row(students: int = 45_000, repeat: int = 3) -> dict:
    """Table row ``demo_build``: ``synth.build_demo`` into a new SQLite file against ``generate`` alone."""
    with tempfile.TemporaryDirectory() as tmp:
        runs = iter(range(repeat))

        def build() -> None:
            engine = store.connect(Path(tmp) / f"demo{next(runs)}.sqlite")
            synth.build_demo(engine, seed=SEED, students=students)
            engine.dispose()

        base, base_mb = _measure.timed(lambda: generate(seed=SEED, students=students), repeat)
        ours, ours_mb = _measure.timed(build, repeat)
    return _measure.row(
        "demo_build", "synth.build_demo into a new SQLite file (psychanalytics demo without the sample import)",
        "synth generate() only, no database", ours, base, ours_mb=ours_mb, base_mb=base_mb,
        size=f"{students:,} students a year, 5 school years",
    )  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=45_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    print(json.dumps(row(args.students, args.repeat), indent=2))


if __name__ == "__main__":
    main()
