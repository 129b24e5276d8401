"""Benchmark: screen-positive rates by school × grade × gender × wave, from the store, on 1,000,000 scored sheets.

A SQLite store holds 500,000 students screened with PHQ-9 in two waves (two
school years): 1,000,000 scored sheets, each with its score, validity row and
item-9 flag, in 1,000 schools of grades 7-12. Both paths start from the store
and end with the same table of screen-positive rates with Wilson intervals
(:func:`psychanalytics.screening.prevalence` by school × grade × gender × wave):

* **pushdown**: :func:`psychanalytics.store.queries.screening.screen_positive_counts`
  counts in SQL and returns the small frame of counts;
* **pandas**: the same sheet rows (keys, band, item-9 flag, validity) read into
  pandas, the spec's rule applied there, then ``groupby``.

Best of three of each, in one run; the two tables must be equal. Target (issue
#11): the faster ≤ 1 s on a 2-core machine. Not a test: ``make benchmark`` runs it.

Usage::

    .venv/bin/python benchmarks/bench_screening.py
    .venv/bin/python benchmarks/bench_screening.py --students 50000 --db /tmp/bench_screening.sqlite
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import tempfile
import time
import timeit
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from psychanalytics import instruments, screening, store
from psychanalytics.store import schema
from psychanalytics.store.queries import screening as sq

try:
    from benchmarks import _measure
except ImportError:  # run as a script: benchmarks/ is on sys.path
    import _measure

BY = ("school", "grade", "gender", "wave")
WAVES = (("2024-autumn", "2024-2025", 2024), ("2025-autumn", "2025-2026", 2025))
WAVE_PAIR = (WAVES[0][0], WAVES[1][0])


def build(path: Path | str, students: int, schools: int, seed: int = 1) -> None:
    """A store (SQLite path or URL) of ``students`` students in ``schools`` schools, every one screened with PHQ-9 in both waves."""
    rng = np.random.default_rng(seed)
    engine = store.connect(path)
    store.create_all(engine)
    pids = np.char.mod("%032x", np.arange(1, students + 1)).astype(object)
    school = rng.integers(0, schools, students)
    first_grade = rng.integers(7, 12, students)  # grade in the first year; +1 the next
    bands = instruments.get("phq9").scale("total").bands[0].bands
    lowers = np.array([b.lower for b in bands])
    codes = np.array([b.code for b in bands], dtype=object)
    school_ids = np.char.mod("B%04d", np.arange(schools)).astype(object)
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA cache_size = -262144")
        store.bulk_insert(
            conn, schema.school,
            pd.DataFrame({"school_id": school_ids, "name": school_ids, "stage": "senior", "location": "urban",
                          "is_synthetic": True}),
        )  # fmt: skip
        store.bulk_insert(
            conn, schema.student, pd.DataFrame({"pid": pids, "gender": rng.choice(["F", "M"], students)})
        )
        for k, (wave_id, school_year, year) in enumerate(WAVES):
            store.bulk_insert(
                conn, schema.screening_wave,
                pd.DataFrame({"wave_id": [wave_id], "school_year": [school_year], "season": ["autumn"],
                              "window_start": [dt.date(year, 9, 21)], "window_end": [dt.date(year, 10, 30)],
                              "label": [f"{year}年秋季普测"]}),
            )  # fmt: skip
            store.bulk_insert(
                conn, schema.enrolment,
                pd.DataFrame({"pid": pids, "school_year": school_year, "school_id": school_ids[school],
                              "grade": first_grade + k, "class_no": 1}),
            )  # fmt: skip
            raw = np.clip(np.rint(rng.gamma(1.3, 4.0, students)), 0, 27)
            rank = np.searchsorted(lowers, raw, side="right") - 1
            sheet = {"wave_id": wave_id, "pid": pids, "instrument": "phq9"}
            store.bulk_insert(
                conn, schema.score,
                pd.DataFrame({**sheet, "scale": "total", "raw": raw, "band": codes[rank], "band_rank": rank,
                              "spec_version": "1.0"}),
            )  # fmt: skip
            valid = rng.random(students) > 0.03
            store.bulk_insert(conn, schema.validity, pd.DataFrame({**sheet, "valid": valid}))
            item9 = rng.random(students) < 0.06 + 0.02 * (raw >= 10)
            store.bulk_insert(
                conn, schema.score_flag, pd.DataFrame({**sheet, "flag": "item9", "value": item9})
            )
    store.refresh_statistics(engine)
    engine.dispose()


def pushdown(engine: sa.Engine) -> pd.DataFrame:
    """Counts in SQL, intervals in pandas."""
    counts = sq.screen_positive_counts(engine, instrument="phq9", by=BY)
    return screening.prevalence(counts, by=BY, cluster=None)


def _sheet_rows() -> sa.Select:
    """The rows the pushdown counts: one per valid sheet, with its keys, band and item-9 flag."""
    v, s, f, w = schema.validity, schema.score, schema.score_flag, schema.screening_wave
    e, st = schema.enrolment, schema.student
    frm = (
        v.join(s, sa.and_(s.c.wave_id == v.c.wave_id, s.c.pid == v.c.pid, s.c.instrument == v.c.instrument,
                          s.c.scale == "total"))
        .outerjoin(f, sa.and_(f.c.wave_id == v.c.wave_id, f.c.pid == v.c.pid, f.c.instrument == v.c.instrument,
                              f.c.flag == "item9"))
        .join(w, w.c.wave_id == v.c.wave_id)
        .outerjoin(e, sa.and_(e.c.pid == v.c.pid, e.c.school_year == w.c.school_year))
        .outerjoin(st, st.c.pid == v.c.pid)
    )  # fmt: skip
    return sa.select(
        e.c.school_id.label("school"), e.c.grade, st.c.gender, v.c.wave_id.label("wave"), s.c.band,
        f.c.value.label("item9"), v.c.valid, v.c.platform_flag,
    ).select_from(frm).where(v.c.instrument == "phq9")  # fmt: skip


def in_pandas(engine: sa.Engine) -> pd.DataFrame:
    """The same sheet rows read into pandas; the spec's rule and the counting done there."""
    with engine.connect() as conn:
        rows = pd.read_sql(_sheet_rows(), conn)
    valid = rows[(rows["valid"] == 1) & (rows["platform_flag"].fillna(0) != sq.PLATFORM_INVALID)]
    positive = valid["band"].isin(instruments.get("phq9").positive_bands()) | (valid["item9"] == 1)
    determined = positive | (valid["band"].notna() & valid["item9"].notna())
    counts = (
        valid.assign(n=determined.astype("int64"), count=positive.astype("int64"))
        .groupby(list(BY), dropna=False)[["n", "count"]]
        .sum()
        .reset_index()
    )
    return screening.prevalence(counts, by=BY, cluster=None)


def _same(engine: sa.Engine) -> pd.DataFrame:
    """Both paths' tables, checked equal; the pushdown's is returned."""
    key = list(BY)
    a, b = (
        f.sort_values(key, na_position="last").reset_index(drop=True)
        for f in (pushdown(engine), in_pandas(engine))
    )
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
    return a


def row(students: int = 500_000, schools: int = 1_000, repeat: int = 3) -> dict:
    """Table row ``prevalence``: the SQL pushdown against the pandas ``groupby`` of the same sheet rows."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench_screening.sqlite"
        build(path, students, schools)
        engine = store.connect_existing(path, read_only=True)
        groups = len(_same(engine))
        ours, ours_mb = _measure.timed(lambda: pushdown(engine), repeat)
        base, base_mb = _measure.timed(lambda: in_pandas(engine), repeat)
        engine.dispose()
    return _measure.row(
        "prevalence",
        "screen-positive rates by school x grade x gender x wave, SQL pushdown (SQLite) + Wilson intervals",
        "pandas groupby of the same sheet rows",
        ours, base, ours_mb=ours_mb, base_mb=base_mb,
        size=f"{2 * students:,} scored PHQ-9 sheets, {schools:,} schools, {groups:,} groups",
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=500_000, help="students (each screened in 2 waves)")
    parser.add_argument("--schools", type=int, default=1_000)
    parser.add_argument(
        "--db", type=Path, help="reuse (or build) this SQLite file instead of a temporary one"
    )
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    folder = tempfile.TemporaryDirectory() if args.db is None else None
    path = args.db or Path(folder.name) / "bench_screening.sqlite"
    built = None
    if not path.exists():
        start = time.perf_counter()
        build(path, args.students, args.schools)
        built = time.perf_counter() - start
    engine = store.connect_existing(path, read_only=True)
    a = _same(engine)
    times = {}
    for name, function in (("pushdown_sqlite", pushdown), ("pandas_groupby", in_pandas)):
        times[name] = min(timeit.repeat(lambda f=function: f(engine), number=1, repeat=args.repeat))
    engine.dispose()
    sheets = 2 * args.students
    print(
        json.dumps(
            {
                "what": "screen-positive rates (PHQ-9 rule: total >= 10 or item 9 >= 1) with Wilson intervals by "
                "school x grade x gender x wave, from a SQLite store, reading included",
                "scored_sheets": sheets,
                "students": args.students,
                "schools": args.schools,
                "groups": len(a),
                "pushdown_sqlite_s": round(times["pushdown_sqlite"], 3),
                "pandas_groupby_s": round(times["pandas_groupby"], 3),
                "ratio_pandas_over_pushdown": round(times["pandas_groupby"] / times["pushdown_sqlite"], 2),
                "faster_meets_1s_target": min(times.values()) <= 1.0,
                "store_build_s": None if built is None else round(built, 1),
                "cpus": os.cpu_count(),
                "load_average": [round(x, 2) for x in os.getloadavg()],
                "best_of": args.repeat,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
