"""Screening counts pushed down into the database equal the same counts done in pandas (SQLite and PostgreSQL).

Random small districts (``screening_support.random_district``) are written to a real SQLite file and to the
PostgreSQL test server; every query of ``store.queries.screening`` is compared, cell by cell, with the
count pandas makes from the rows as written. Then a hand-made case for the rules a property test would
only hit by chance, and the refusals.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from screening_support import (
    PHQ9,
    WAVES,
    comparable,
    grouped,
    random_district,
    sheets,
    write_district,
)

from psychanalytics.store.queries import screening as sq

BY = [("wave", "school", "grade", "gender"), ("wave", "stage", "location"), ()]
PROPERTY = settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _same(actual: pd.DataFrame, expected: pd.DataFrame, keys) -> None:
    columns = list(expected.columns)
    assert list(actual.columns) == columns
    a, e = comparable(actual, keys), comparable(expected[columns], keys)
    assert len(a) == len(e), (a, e)
    for column in columns:
        if column in keys or e[column].dtype.kind not in "iufb":
            assert a[column].tolist() == e[column].tolist(), column
        else:
            assert np.allclose(a[column].astype(float), e[column].astype(float), equal_nan=True), column


def _sum(series: pd.Series) -> int:
    return int(series.sum())


@PROPERTY
@given(seed=st.integers(0, 2**32 - 1), students=st.integers(1, 30))
def test_counts_in_the_database_equal_counts_in_pandas(engine, seed, students):
    tables = random_district(seed, students)
    write_district(engine, tables)
    rows = sheets(tables)
    valid = rows[rows["is_valid"]]
    scored = valid[valid["raw"].notna()]
    students = sq.screen_positive_students(engine, instrument="phq9")
    determined = valid[valid["determined"]]
    got = students[["wave", "pid", "positive"]].itertuples(index=False, name=None)
    want = (
        determined[["wave", "pid", "positive"]].astype({"positive": int}).itertuples(index=False, name=None)
    )
    assert sorted(got) == sorted(want)
    for by in BY:
        keys = list(by)
        expected = grouped(valid, keys, n=("determined", _sum), count=("positive", _sum))
        _same(sq.screen_positive_counts(engine, instrument="phq9", by=by), expected, keys)

        summary = scored.assign(sq=scored["raw"] ** 2)
        expected = grouped(summary, keys, n=("raw", "size"), total=("raw", "sum"), total_sq=("sq", "sum"))
        _same(sq.score_summary(engine, instrument="phq9", by=by), expected, keys)

        hist = grouped(scored, [*keys, "raw"], count=("raw", "size"))
        hist["n"] = (
            hist.groupby(keys, dropna=False)["count"].transform("sum") if keys else hist["count"].sum()
        )
        _same(sq.score_histogram(engine, instrument="phq9", by=by), hist, [*keys, "raw"])

        cut = []
        for cutoff in (10.0, 15.0):
            part = scored.assign(hit=scored["raw"] >= cutoff)
            part = grouped(part, keys, n=("raw", "size"), count=("hit", _sum))
            cut.append(part.assign(instrument="phq9", scale="total", cutoff=cutoff))
        cut = pd.concat(cut)[[*keys, "instrument", "scale", "cutoff", "n", "count"]] if len(scored) else None
        actual = sq.cutoff_counts(engine, instrument="phq9", cutoffs=[10, 15], by=by)
        if cut is None:
            assert actual.empty
        else:
            _same(actual, cut, [*keys, "cutoff"])

        banded = scored[scored["band"].notna()]
        actual = sq.band_counts(engine, instrument="phq9", by=by)
        cells = grouped(banded, [*keys, "band", "band_rank"], count=("raw", "size"))
        if len(cells):
            bands = cells[["band", "band_rank"]].drop_duplicates()
            grid = (cells[keys].drop_duplicates() if keys else pd.DataFrame(index=[0])).merge(
                bands, how="cross"
            )
            cells = grid.merge(cells, how="left").fillna({"count": 0})
            cells["n"] = (
                cells.groupby(keys, dropna=False)["count"].transform("sum") if keys else cells["count"].sum()
            )
            _same(actual, cells, [*keys, "band_rank"])
        else:
            assert actual.empty

        _check_coverage(engine, tables, rows, keys)
        _check_action(engine, tables, valid, keys)


def _check_coverage(engine, tables, rows, keys) -> None:
    """Enrolled (in the grades anyone answered that wave), screened and invalid, per group."""
    roll = tables["enrolment"].merge(tables["screening_wave"][["wave_id", "school_year"]])
    answered = (
        rows[rows["grade"].notna()][["wave", "grade"]].drop_duplicates().rename(columns={"wave": "wave_id"})
    )
    roll = roll.merge(answered.astype({"grade": int}), on=["wave_id", "grade"])
    roll = roll.merge(tables["student"][["pid", "gender"]], how="left").merge(
        tables["school"][["school_id", "stage", "location"]], how="left"
    )
    roll = roll.rename(columns={"wave_id": "wave", "school_id": "school"})
    enrolled = grouped(roll, keys, enrolled=("pid", "size")) if len(roll) else None
    screened = grouped(rows, keys, screened=("pid", "size"), invalid=("is_invalid", _sum))
    if enrolled is None:
        expected = screened.assign(enrolled=0)
    elif keys:
        expected = enrolled.merge(screened, on=keys, how="outer")
    else:
        expected = pd.concat([enrolled, screened], axis=1)
    expected = expected.fillna({"enrolled": 0, "screened": 0, "invalid": 0})[
        [*keys, "enrolled", "screened", "invalid"]
    ]
    _same(sq.coverage_counts(engine, instrument="phq9", by=keys), expected, keys)


def _check_action(engine, tables, valid, keys) -> None:
    """Flagged students with a case raised in the window, confirmed and referred by its end."""
    flagged = valid[valid["positive"]]
    windows = tables["screening_wave"].set_index("wave_id")
    events = tables["crisis_event"].merge(tables["crisis_case"][["case_id", "pid"]])
    events = events.assign(occurred_at=pd.to_datetime(events["occurred_at"]).astype("datetime64[us]"))
    firsts = events[["case_id", "pid"]].drop_duplicates()
    for stage in ("raised", "confirmed", "referred"):
        first = events[events["stage"] == stage].groupby("case_id")["occurred_at"].min().rename(stage)
        firsts = firsts.merge(first, left_on="case_id", right_index=True, how="left")
    marks = []
    for _, sheet in flagged.iterrows():
        start = pd.Timestamp(windows.loc[sheet["wave"], "window_start"])
        end = pd.Timestamp(windows.loc[sheet["wave"], "window_end"]) + pd.Timedelta(days=15)
        mine = firsts[firsts["pid"] == sheet["pid"]]
        mine = mine[(mine["raised"] >= start) & (mine["raised"] < end)]
        marks.append(
            dict(
                raised=int(len(mine) > 0),
                confirmed=int((mine["confirmed"] < end).any()),
                referred=int((mine["referred"] < end).any()),
            )
        )
    flagged = pd.concat(
        [flagged.reset_index(drop=True), pd.DataFrame(marks, columns=["raised", "confirmed", "referred"])],
        axis=1,
    )
    expected = grouped(
        flagged, [*keys, "reason"], n=("pid", "size"), raised=("raised", _sum), confirmed=("confirmed", _sum),
        referred=("referred", _sum),
    ) if len(flagged) else pd.DataFrame(columns=[*keys, "reason", "n", "raised", "confirmed", "referred"])  # fmt: skip
    actual = sq.screening_action_counts(engine, instrument="phq9", within_days=14, by=keys)
    _same(actual, expected, [*keys, "reason"])


@PROPERTY
@given(seed=st.integers(0, 2**32 - 1), students=st.integers(1, 30))
def test_cohort_counts_follow_each_student_as_pandas_does(engine, seed, students):
    tables = random_district(seed, students)
    write_district(engine, tables)
    rows = sheets(tables)
    state = rows[rows["is_valid"] & rows["determined"]][["wave", "pid", "band", "band_rank", "positive"]]
    enrolment = tables["enrolment"].merge(tables["school"][["school_id", "stage"]])
    year = dict(zip(WAVES["wave_id"], WAVES["school_year"], strict=True))
    people = pd.Series(sorted(set(state["pid"])), name="pid").to_frame()
    for end, wave in (("_from", "W1"), ("_to", "W2")):
        mine = (
            state[state["wave"] == wave]
            .drop(columns="wave")
            .rename(columns={c: c + end for c in ("band", "band_rank", "positive")})
        )
        roll = enrolment[enrolment["school_year"] == year[wave]][["pid", "school_id", "stage", "grade"]]
        roll = roll.rename(
            columns={"school_id": "school" + end, "stage": "stage" + end, "grade": "grade" + end}
        )
        people = people.merge(mine, how="left").merge(roll, how="left")
        people["state" + end] = np.where(
            people["band" + end].notna() | people["positive" + end].notna(),
            "screened",
            np.where(people["school" + end].notna(), "not_screened", "not_enrolled"),
        )
    graduated = (people["state_to"] == "not_enrolled") & (people["grade_from"] == 12)
    people.loc[graduated, "state_to"] = "graduated"
    both = people["school_from"].notna() & people["school_to"].notna()
    people["moved"] = np.where(both, (people["school_from"] != people["school_to"]).astype(float), np.nan)
    keys = [
        "stage_from",
        "stage_to",
        "state_from",
        "band_from",
        "band_rank_from",
        "positive_from",
        "state_to",
    ]
    keys += ["band_to", "band_rank_to", "positive_to", "moved"]
    expected = grouped(people, keys, count=("pid", "size")).assign(wave_from="W1", wave_to="W2")
    actual = sq.cohort_counts(engine, instrument="phq9", by=("stage",))
    expected = expected[list(actual.columns)] if len(people) else actual.iloc[0:0]
    _same(actual, expected, ["wave_from", "wave_to", *keys])


# --- rules on a hand-made district ---------------------------------------------------------------


def test_item9_alone_flags_a_student_and_an_undetermined_sheet_is_left_out(sqlite_engine):
    tables = random_district(3, 0)
    sheet = dict(wave_id="W1", instrument="phq9")
    pids = [f"{i:032x}" for i in range(1, 5)]
    tables["student"] = pd.DataFrame({"pid": pids, "gender": ["F", "M", "F", "M"]})
    tables["enrolment"] = pd.DataFrame(
        {"pid": pids, "school_year": "2023-2024", "school_id": "S1", "grade": 8, "class_no": 1}
    )
    # total 4 with item 9 = 1 (flagged by the item alone); 12 (cut-off); 3 with item 9 missing (undetermined)
    # total 2 with item 9 = 0 (negative)
    raws, item9 = [4.0, 12.0, 3.0, 2.0], [True, False, None, False]
    tables["response"] = pd.DataFrame(
        [{**sheet, "pid": p, "instrument_version": "1.0", "items": b"\x00" * 9} for p in pids]
    )
    tables["score"] = pd.DataFrame(
        [
            {**sheet, "pid": p, "scale": "total", "raw": r, "band": "moderate" if r >= 10 else "minimal",
             "band_rank": 2 if r >= 10 else 0, "spec_version": "1.0"}
            for p, r in zip(pids, raws, strict=True)
        ]
    )  # fmt: skip
    tables["validity"] = pd.DataFrame(
        [{**sheet, "pid": p, "valid": True, "platform_flag": None} for p in pids]
    )
    tables["score_flag"] = pd.DataFrame(
        [{**sheet, "pid": p, "flag": "item9", "value": v} for p, v in zip(pids, item9, strict=True)]
    )
    write_district(sqlite_engine, tables)
    counts = sq.screen_positive_counts(sqlite_engine, instrument="phq9", by=())
    assert counts.to_dict("records") == [{"n": 3, "count": 2}]
    action = sq.screening_action_counts(sqlite_engine, by=())
    assert action[["reason", "n"]].to_dict("records") == [
        {"reason": "cutoff", "n": 1},
        {"reason": "flag", "n": 1},
    ]


def test_follow_up_window_runs_from_the_first_day_to_days_after_the_last(sqlite_engine):
    tables = random_district(5, 0)
    pid = f"{1:032x}"
    tables["student"] = pd.DataFrame({"pid": [pid], "gender": ["F"]})
    sheet = dict(wave_id="W1", pid=pid, instrument="phq9")
    tables["response"] = pd.DataFrame([{**sheet, "instrument_version": "1.0", "items": b"\x00" * 9}])
    tables["score"] = pd.DataFrame(
        [
            {
                **sheet,
                "scale": "total",
                "raw": 16.0,
                "band": "moderately_severe",
                "band_rank": 3,
                "spec_version": "1.0",
            }
        ]
    )
    tables["validity"] = pd.DataFrame([{**sheet, "valid": True}])
    tables["score_flag"] = pd.DataFrame([{**sheet, "flag": "item9", "value": False}])
    end = WAVES.loc[0, "window_end"]
    last_day = dt.datetime(end.year, end.month, end.day, 23, 59) + dt.timedelta(days=7)
    tables["crisis_case"] = pd.DataFrame(
        [dict(case_id="C1", pid=pid, school_id="S1", source="screening", severity=2)]
    )
    tables["crisis_event"] = pd.DataFrame(
        [
            dict(
                case_id="C1",
                seq=1,
                stage="raised",
                level="school",
                occurred_at=last_day - dt.timedelta(days=3),
            ),
            dict(case_id="C1", seq=2, stage="confirmed", level="school", occurred_at=last_day),
        ]
    )
    write_district(sqlite_engine, tables)
    on_time = sq.screening_action_counts(sqlite_engine, within_days=7, by=())
    late = sq.screening_action_counts(sqlite_engine, within_days=6, by=())
    assert on_time[["n", "raised", "confirmed"]].to_dict("records") == [{"n": 1, "raised": 1, "confirmed": 1}]
    assert late[["n", "raised", "confirmed"]].to_dict("records") == [{"n": 1, "raised": 1, "confirmed": 0}]


def test_queries_refuse_what_they_cannot_count(sqlite_engine):
    write_district(sqlite_engine, random_district(1, 0))
    with pytest.raises(ValueError, match="mht: screen-positive is defined on standard scores"):
        sq.screen_positive_counts(sqlite_engine, instrument="mht")
    with pytest.raises(ValueError, match=r"unknown grouping column\(s\) \['class'\]"):
        sq.band_counts(sqlite_engine, instrument="phq9", by=("wave", "class"))
    with pytest.raises(ValueError, match="cohorts need a banded scale"):
        sq.cohort_counts(sqlite_engine, instrument="scl90")
    with pytest.raises(ValueError, match=r"unknown wave id\(s\) \['W9'\]"):
        sq.cohort_counts(sqlite_engine, instrument="phq9", waves=[("W1", "W9")])
    with pytest.raises(ValueError, match="within_days must be a whole number"):
        sq.screening_action_counts(sqlite_engine, within_days=-1)
    with pytest.raises(KeyError, match="phq9 has no scale 'depression'"):
        sq.score_summary(sqlite_engine, instrument="phq9", scale="depression")
    with pytest.raises(ValueError, match="distinct"):
        sq.cutoff_counts(sqlite_engine, instrument="phq9", cutoffs=[10, 10])


def test_positive_bands_come_from_the_spec():
    assert PHQ9.positive_bands() == ("moderate", "moderately_severe", "severe")
