"""Benchmark (not in CI): the screening pushdown on a city-scale PostgreSQL store, with its plans.

Loads the store of ``bench_screening.py`` (``--students`` students screened with PHQ-9 in two waves,
every sheet with its score, validity row and item-9 flag) into PostgreSQL, refreshes planner
statistics, times :func:`psychanalytics.store.queries.screening.screen_positive_counts` (school × grade ×
gender × wave) against reading the same sheet rows into pandas, and prints ``EXPLAIN (ANALYZE,
BUFFERS)`` of the statement the pushdown sends (captured from SQLAlchemy, parameters included), and of
``cohort_counts`` (each side restricted to one wave).

Usage::

    bash .ci/start-postgres     # or any server; then a database of your own:
    .venv/bin/python benchmarks/bench_pg_scale.py --url postgresql://…/psychanalytics_scale --students 500000
"""

from __future__ import annotations

import argparse
import json
import time
import timeit

import sqlalchemy as sa

from psychanalytics import store
from psychanalytics.store.queries import screening as sq

try:
    from benchmarks import bench_screening
except ImportError:  # run as a script: benchmarks/ is on sys.path
    import bench_screening


def _captured(engine: sa.Engine, call) -> list[tuple[str, object]]:
    """The SQL statements (with parameters) ``call`` sends."""
    seen: list[tuple[str, object]] = []

    def grab(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", grab)
    try:
        call()
    finally:
        sa.event.remove(engine, "before_cursor_execute", grab)
    return seen


def explain(engine: sa.Engine, statement: str, parameters) -> str:
    with engine.connect() as conn:
        cursor = conn.connection.driver_connection.cursor()
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
        return "\n".join(row[0] for row in cursor.fetchall())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="an empty PostgreSQL database (SQLAlchemy URL)")
    parser.add_argument("--students", type=int, default=500_000)
    parser.add_argument("--schools", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--reuse", action="store_true", help="the database already holds the store")
    args = parser.parse_args(argv)
    built = None
    if not args.reuse:
        started = time.perf_counter()
        bench_screening.build(args.url, args.students, args.schools)
        built = time.perf_counter() - started
    engine = store.connect_existing(args.url)
    bench_screening._same(engine)  # both paths agree
    times = {
        name: min(timeit.repeat(lambda f=f: f(engine), number=1, repeat=args.repeat))
        for name, f in (
            ("pushdown_postgresql", bench_screening.pushdown),
            ("pandas_groupby", bench_screening.in_pandas),
        )
    }
    whole = _captured(
        engine, lambda: sq.screen_positive_counts(engine, instrument="phq9", by=bench_screening.BY)
    )
    print(json.dumps({"students": args.students, "sheets": 2 * args.students, "store_build_s": built,
                      **{k: round(v, 3) for k, v in times.items()}}, indent=2))  # fmt: skip
    print(
        "\nEXPLAIN (ANALYZE, BUFFERS): screen_positive_counts by school x grade x gender x wave, whole store\n"
    )
    print(explain(engine, *whole[-1]))
    pair = _captured(
        engine,
        lambda: sq.cohort_counts(
            engine, instrument="phq9", by=("school",), waves=[bench_screening.WAVE_PAIR]
        ),
    )
    print("\nEXPLAIN (ANALYZE, BUFFERS): cohort_counts of the two waves by school (one wave per side)\n")
    print(explain(engine, *pair[-1]))
    engine.dispose()


if __name__ == "__main__":
    main()
