"""Random small districts for the screening queries, and the same counts done in pandas on their rows.

:func:`random_district` draws a district whose rows exercise every rule of
``store.queries.screening``: students without an enrolment, unscored and
invalid sheets, the platform's 无效, undetermined item-9 flags, students who
move school or leave, crisis cases inside and outside the follow-up window.
The ``expected_*`` functions count the same things with pandas from the rows
as written, independently of the SQL.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import sqlalchemy as sa

from psychanalytics import instruments, store
from psychanalytics.store import schema

WAVES = pd.DataFrame(
    {
        "wave_id": ["W1", "W2"],
        "school_year": ["2023-2024", "2024-2025"],
        "season": ["autumn", "autumn"],
        "window_start": [dt.date(2023, 10, 9), dt.date(2024, 10, 8)],
        "window_end": [dt.date(2023, 10, 27), dt.date(2024, 10, 25)],
        "label": ["2023年秋季普测", "2024年秋季普测"],
    }
)
SCHOOLS = pd.DataFrame(
    {
        "school_id": ["S1", "S2", "S3"],
        "name": ["示例第一初级中学", "示例高级中学", "示例青枫九年一贯制学校"],
        "stage": ["junior", "senior", "nine_year"],
        "location": ["urban", "urban", "township_central"],
        "is_synthetic": [True, True, True],
    }
)
PHQ9 = instruments.get("phq9")


def _band(raw: float) -> tuple[str | None, int | None]:
    if np.isnan(raw):
        return None, None
    bands = PHQ9.scale("total").bands[0].bands
    rank = max(i for i, b in enumerate(bands) if raw >= b.lower)
    return bands[rank].code, rank


def random_district(seed: int, n_students: int) -> dict[str, pd.DataFrame]:
    """Every table's rows of a small random district (PHQ-9 in two waves)."""
    rng = np.random.default_rng(seed)
    pids = [f"{i:032x}" for i in range(1, n_students + 1)]
    students = pd.DataFrame(
        {
            "pid": pids,
            "gender": rng.choice(np.array(["F", "M", None], dtype=object), n_students, p=[0.48, 0.48, 0.04]),
        }
    )
    enrol_rows = []
    for pid in pids:
        grade = int(rng.integers(6, 13))
        school = rng.choice(SCHOOLS["school_id"])
        for year in WAVES["school_year"]:
            if rng.random() < 0.85 and grade <= 12:
                if rng.random() < 0.2:
                    school = rng.choice(SCHOOLS["school_id"])  # moved (or a stage transition)
                enrol_rows.append(dict(pid=pid, school_year=year, school_id=school, grade=grade, class_no=1))
            grade += 1
    enrolment = pd.DataFrame(enrol_rows, columns=["pid", "school_year", "school_id", "grade", "class_no"])
    responses, scores, validity, flags = [], [], [], []
    for wave in WAVES["wave_id"]:
        for pid in pids:
            if rng.random() > 0.8:
                continue
            codes = rng.integers(0, 4, 9)
            raw = float(rng.integers(0, 28)) if rng.random() > 0.08 else np.nan
            band, rank = _band(raw)
            valid = bool(not np.isnan(raw) and rng.random() > 0.1)
            responses.append(
                dict(
                    wave_id=wave,
                    pid=pid,
                    instrument="phq9",
                    instrument_version="1.0",
                    items=store.pack_items(codes),
                )
            )
            scores.append(
                dict(
                    wave_id=wave, pid=pid, instrument="phq9", scale="total", raw=None if np.isnan(raw) else raw,
                    band=band, band_rank=rank, spec_version="1.0",
                )
            )  # fmt: skip
            platform = rng.choice(np.array([None, 1, 99], dtype=object), p=[0.7, 0.25, 0.05])
            validity.append(
                dict(wave_id=wave, pid=pid, instrument="phq9", valid=valid, platform_flag=platform)
            )
            item9 = rng.choice(np.array([True, False, None], dtype=object), p=[0.15, 0.75, 0.1])
            flags.append(dict(wave_id=wave, pid=pid, instrument="phq9", flag="item9", value=item9))
    cases, events = [], []
    for i, sheet in enumerate(scores):
        if rng.random() > 0.3:
            continue
        start = WAVES.set_index("wave_id").loc[sheet["wave_id"], "window_start"]
        raised = dt.datetime(start.year, start.month, start.day) + dt.timedelta(
            days=int(rng.integers(-10, 50))
        )
        case_id = f"C{i:05d}"
        cases.append(dict(case_id=case_id, pid=sheet["pid"], school_id="S1", source="screening", severity=2))
        events.append(dict(case_id=case_id, seq=1, stage="raised", level="school", occurred_at=raised))
        seq, at = 1, raised
        for stage in ("confirmed", "referred"):
            if rng.random() < 0.6:
                seq, at = seq + 1, at + dt.timedelta(days=int(rng.integers(0, 30)))
                events.append(dict(case_id=case_id, seq=seq, stage=stage, level="school", occurred_at=at))
    return {
        "school": SCHOOLS,
        "student": students,
        "enrolment": enrolment,
        "screening_wave": WAVES,
        "response": pd.DataFrame(
            responses, columns=["wave_id", "pid", "instrument", "instrument_version", "items"]
        ),
        "score": pd.DataFrame(
            scores,
            columns=["wave_id", "pid", "instrument", "scale", "raw", "band", "band_rank", "spec_version"],
        ),
        "validity": pd.DataFrame(
            validity, columns=["wave_id", "pid", "instrument", "valid", "platform_flag"]
        ),
        "score_flag": pd.DataFrame(flags, columns=["wave_id", "pid", "instrument", "flag", "value"]),
        "crisis_case": pd.DataFrame(cases, columns=["case_id", "pid", "school_id", "source", "severity"]),
        "crisis_event": pd.DataFrame(events, columns=["case_id", "seq", "stage", "level", "occurred_at"]),
    }


def write_district(engine: sa.Engine, tables: dict[str, pd.DataFrame]) -> None:
    """Empty the store and write ``tables``."""
    with engine.begin() as conn:
        for table in reversed(schema.metadata.sorted_tables):
            conn.execute(table.delete())
        for table in schema.metadata.sorted_tables:
            frame = tables.get(table.name)
            if frame is not None and len(frame):
                store.bulk_insert(conn, table, frame.astype(object).where(frame.notna(), None))


# --- the same counts in pandas ---------------------------------------------------------------


def sheets(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per response: validity, score, item-9 flag and the group keys of the wave's school year."""
    out = tables["response"][["wave_id", "pid"]].merge(tables["screening_wave"][["wave_id", "school_year"]])
    out = out.merge(tables["validity"][["wave_id", "pid", "valid", "platform_flag"]], how="left")
    out = out.merge(tables["score"][["wave_id", "pid", "raw", "band", "band_rank"]], how="left")
    flag = tables["score_flag"].rename(columns={"value": "item9"})[["wave_id", "pid", "item9"]]
    out = out.merge(flag, how="left").merge(tables["student"][["pid", "gender"]], how="left")
    out = out.merge(
        tables["enrolment"][["pid", "school_year", "school_id", "grade"]],
        on=["pid", "school_year"],
        how="left",
    )
    out = out.merge(tables["school"][["school_id", "stage", "location"]], how="left")
    out = out.rename(columns={"wave_id": "wave", "school_id": "school"})
    platform_invalid = out["platform_flag"].eq(99).fillna(False).astype(bool)
    out["is_valid"] = out["valid"].eq(True).fillna(False).astype(bool) & ~platform_invalid
    out["is_invalid"] = out["valid"].eq(False).fillna(False).astype(bool) | platform_invalid
    band_positive = out["band"].isin(PHQ9.positive_bands())
    item9_true = out["item9"].eq(True).fillna(False).astype(bool)
    out["positive"] = band_positive | item9_true
    out["determined"] = out["positive"] | (out["band"].notna() & out["item9"].notna())
    out["reason"] = np.where(band_positive, "cutoff", "flag")
    return out


def grouped(frame: pd.DataFrame, by, **aggregations) -> pd.DataFrame:
    """``frame`` grouped by ``by`` (missing keys kept), aggregated, in key order with missing keys last."""
    if not by:
        if frame.empty:
            return pd.DataFrame(columns=list(aggregations))
        out = pd.DataFrame({name: [frame[col].agg(func)] for name, (col, func) in aggregations.items()})
    else:
        out = frame.groupby(list(by), dropna=False).agg(**aggregations).reset_index()
    return out


def comparable(frame: pd.DataFrame, keys) -> pd.DataFrame:
    """Rows sorted on ``keys`` (missing last), values as plain objects: two frames compare cell by cell."""
    out = frame.copy()
    for key in keys:
        out[key] = pd.Series([_plain(v) for v in out[key]], index=out.index, dtype=object)
    if keys:
        order = sorted(range(len(out)), key=lambda i: [(v is None, str(v)) for v in out.iloc[i][list(keys)]])
        out = out.iloc[order]
    return out.reset_index(drop=True)


def _plain(value):
    """A key as a plain Python value: ``None`` for any missing value, ``9`` for ``9.0``."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
