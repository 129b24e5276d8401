"""Read-side aggregations on a hand-built district (SQLite and PostgreSQL) and on the demo district.

The hand-built district is small enough to count on paper; the expected
numbers below are those hand counts (see the comments beside the rows).
On the demo district, each SQL aggregation is checked against the same count
done independently with pandas on the raw table rows.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import sqlalchemy as sa

from psychanalytics import store
from psychanalytics.store import queries, schema

Y1, Y2 = "2023-2024", "2024-2025"


def _pid(i: int) -> str:
    return f"{i:032x}"


def _fill(engine: sa.Engine) -> None:
    """Two schools, six students, three waves (the last without responses)."""
    schools = [
        dict(school_id="S1", name="示例中学", stage="junior", location="urban", is_synthetic=False),
        dict(school_id="S2", name="示例小学", stage="primary", location="township", is_synthetic=False),
    ]
    # S2 does not report in Y2: it is outside that year's denominator, and so is its teacher T5.
    stats = [
        dict(school_id="S1", school_year=Y1, enrolment=900, n_classes=18),
        dict(school_id="S2", school_year=Y1, enrolment=300, n_classes=6),
        dict(school_id="S1", school_year=Y2, enrolment=950, n_classes=18),
    ]
    staff = [
        dict(staff_id="T1", school_year=Y1, school_id="S1", employment="full_time"),
        dict(staff_id="T2", school_year=Y1, school_id="S2", employment="part_time"),
        dict(staff_id="T3", school_year=Y2, school_id="S1", employment="part_time"),
        dict(staff_id="T4", school_year=Y2, school_id="S1", employment="full_time"),
        dict(staff_id="T5", school_year=Y2, school_id="S2", employment="full_time"),
    ]
    genders = ["F", "F", "M", "M", "F", "M"]
    students = [dict(pid=_pid(i), gender=g, birth_year=2011, cohort=2017) for i, g in enumerate(genders, 1)]
    # Y1: students 1-3 (grades 6, 6, 7); Y2: students 1-5 (grades 7, 7, 8, 8, 7); student 6 unenrolled in Y2.
    enrol = [(1, Y1, 6), (2, Y1, 6), (3, Y1, 7), (1, Y2, 7), (2, Y2, 7), (3, Y2, 8), (4, Y2, 8), (5, Y2, 7)]
    enrolment = [dict(pid=_pid(i), school_year=y, school_id="S1", grade=g, class_no=1) for i, y, g in enrol]
    waves = [
        dict(
            wave_id="W1",
            school_year=Y1,
            season="autumn",
            window_start=dt.date(2023, 10, 9),
            window_end=dt.date(2023, 10, 31),
            label="2023年秋季普测",
        ),
        dict(
            wave_id="W2",
            school_year=Y2,
            season="autumn",
            window_start=dt.date(2024, 10, 8),
            window_end=dt.date(2024, 10, 31),
            label="2024年秋季普测",
        ),
        dict(
            wave_id="W3",
            school_year=Y2,
            season="spring",
            window_start=dt.date(2025, 4, 7),
            window_end=dt.date(2025, 4, 30),
            label="2025年春季普测",
        ),
    ]
    answered = [("W1", 1, "phq9"), ("W1", 2, "phq9"), ("W1", 1, "gad7")] + [
        ("W2", i, "phq9") for i in range(1, 7)
    ]
    responses = [
        dict(wave_id=w, pid=_pid(i), instrument=k, instrument_version="1", items=bytes(9))
        for w, i, k in answered
    ]
    # (wave, student, band, rank); student 5's W2 sheet is invalid: no band.
    banded = [
        ("W1", 1, "minimal", 0),
        ("W1", 2, "moderate", 2),
        ("W2", 1, "minimal", 0),
        ("W2", 2, "mild", 1),
        ("W2", 3, "moderate", 2),
        ("W2", 4, "severe", 4),
        ("W2", 5, None, None),
        ("W2", 6, "moderate", 2),
    ]
    scores = [
        dict(
            wave_id=w,
            pid=_pid(i),
            instrument="phq9",
            scale="total",
            raw=None if b is None else 1.0,
            band=b,
            band_rank=r,
            spec_version="1",
        )
        for w, i, b, r in banded
    ]
    with engine.begin() as conn:
        for table, rows in [
            (schema.school, schools),
            (schema.school_year_stats, stats),
            (schema.staff, staff),
            (schema.student, students),
            (schema.enrolment, enrolment),
            (schema.screening_wave, waves),
            (schema.response, responses),
            (schema.score, scores),
        ]:
            store.upsert(conn, table, rows)


@pytest.fixture
def district(engine: sa.Engine) -> sa.Engine:
    _fill(engine)
    return engine


def test_screened_per_wave_counts_students_once_and_keeps_empty_waves(district):
    out = queries.screened_per_wave(district)
    assert out["wave_id"].tolist() == ["W1", "W2", "W3"]
    assert out["count"].tolist() == [2, 6, 0]  # student 1 answered two instruments in W1
    assert out["n"].tolist() == [3, 5, 5]
    assert out["wave_label"].tolist() == ["2023年秋季普测", "2024年秋季普测", "2025年春季普测"]


def test_band_distribution_fills_empty_bands_and_reports_unbanded(district):
    out = queries.band_distribution(district)
    w1 = out[out["wave_id"] == "W1"]
    w2 = out[out["wave_id"] == "W2"]
    assert w1["band"].tolist() == ["minimal", "mild", "moderate", "severe"]
    assert w1["count"].tolist() == [1, 0, 1, 0]
    assert w2["count"].tolist() == [1, 1, 2, 1]
    assert w1["n"].unique().tolist() == [2]
    assert w2["n"].unique().tolist() == [5]
    assert w2["unbanded"].unique().tolist() == [1]
    assert w2["proportion"].tolist() == pytest.approx([0.2, 0.2, 0.4, 0.2])
    assert set(out["instrument"]) == {"phq9"} and set(out["scale"]) == {"total"}
    assert "W3" not in set(out["wave_id"])


def test_band_distribution_by_grade_and_gender_keeps_unenrolled_students(district):
    out = queries.band_distribution(district, by=("grade", "gender"))
    w2 = out[out["wave_id"] == "W2"]
    totals = w2.groupby(["grade", "gender"], dropna=False)["count"].sum()
    assert totals[(7, "F")] == 2 and totals[(8, "M")] == 2
    unenrolled = w2[w2["grade"].isna()]
    assert unenrolled["gender"].unique().tolist() == ["M"]
    assert unenrolled.set_index("band")["count"]["moderate"] == 1
    assert w2[(w2["grade"] == 7) & (w2["gender"] == "F")]["unbanded"].unique().tolist() == [1]
    assert w2["count"].sum() == 5


def test_band_distribution_rejects_unknown_grouping(district):
    with pytest.raises(ValueError, match="'class_no'"):
        queries.band_distribution(district, by=("class_no",))


def test_staffing_coverage_uses_reporting_schools_as_denominator(district):
    out = queries.staffing_coverage(district)
    assert out["school_year"].tolist() == [Y1, Y2]
    assert out["count"].tolist() == [1, 1]
    assert out["n"].tolist() == [2, 1]
    assert out["proportion"].tolist() == pytest.approx([0.5, 1.0])


def test_data_as_of_ignores_waves_without_responses(district):
    assert queries.data_as_of(district) == dt.date(2024, 10, 31)


def test_is_synthetic_follows_the_school_flag(district):
    assert queries.is_synthetic(district) is False
    with district.begin() as conn:
        conn.execute(
            sa.update(schema.school).where(schema.school.c.school_id == "S2").values(is_synthetic=True)
        )
    assert queries.is_synthetic(district) is True


def test_empty_store(engine):
    assert queries.screened_per_wave(engine).empty
    assert queries.band_distribution(engine).empty
    assert queries.staffing_coverage(engine).empty
    assert queries.data_as_of(engine) is None
    assert queries.is_synthetic(engine) is False


# --- the demo district: SQL against pandas on raw rows ---------------------------------------


@pytest.fixture(scope="module")
def demo(demo_db):
    engine = store.connect(demo_db)
    raw = {
        name: pd.read_sql_table(name, engine)
        for name in (
            "response",
            "score",
            "screening_wave",
            "enrolment",
            "student",
            "staff",
            "school_year_stats",
        )
    }
    yield engine, raw
    engine.dispose()


def test_demo_screened_matches_pandas(demo):
    engine, raw = demo
    expected = raw["response"].groupby("wave_id")["pid"].nunique()
    out = queries.screened_per_wave(engine).set_index("wave_id")
    assert (out["count"] > 0).all()
    pd.testing.assert_series_equal(out["count"].loc[expected.index], expected, check_names=False)
    enrolled = raw["enrolment"].groupby("school_year")["pid"].nunique()
    assert out["n"].tolist() == enrolled.loc[out["school_year"]].tolist()


def test_demo_band_distribution_matches_pandas(demo):
    engine, raw = demo
    phq = raw["score"].query("instrument == 'phq9' and scale == 'total'")
    waves = raw["screening_wave"].set_index("wave_id")["school_year"]
    phq = phq.assign(school_year=phq["wave_id"].map(waves))
    merged = phq.merge(raw["enrolment"], on=["pid", "school_year"], how="left").merge(
        raw["student"], on="pid"
    )
    expected = merged.dropna(subset=["band"]).groupby(["wave_id", "grade", "gender", "band"]).size()
    out = queries.band_distribution(engine, by=("grade", "gender"))
    got = out[out["count"] > 0].set_index(["wave_id", "grade", "gender", "band"])["count"]
    assert got.sort_index().tolist() == expected.sort_index().tolist()
    unbanded = merged["band"].isna().groupby(merged["wave_id"]).sum()
    per_wave = out.drop_duplicates(["wave_id", "grade", "gender"]).groupby("wave_id")["unbanded"].sum()
    assert per_wave.tolist() == unbanded.loc[per_wave.index].tolist()


def test_demo_staffing_matches_pandas(demo):
    engine, raw = demo
    full = raw["staff"].query("employment == 'full_time'")[["school_id", "school_year"]].drop_duplicates()
    stats = raw["school_year_stats"].merge(full.assign(has=True), on=["school_id", "school_year"], how="left")
    expected = stats["has"].fillna(False).astype(bool).groupby(stats["school_year"]).agg(["sum", "size"])
    out = queries.staffing_coverage(engine).set_index("school_year")
    assert out["count"].tolist() == expected["sum"].tolist()
    assert out["n"].tolist() == expected["size"].tolist()
    assert queries.is_synthetic(engine) is True
