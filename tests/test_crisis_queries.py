"""store.queries.crisis on a hand-built district, on SQLite and PostgreSQL; the counts are worked out by hand."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from crisis_support import AS_OF, EXPECTED_PROBLEMS, events, sessions

from psychanalytics import crisis, store
from psychanalytics.store import schema
from psychanalytics.store.queries import crisis as queries

Y1, Y2 = "2023-2024", "2024-2025"
WAVE = "2024-autumn"


def pid(name: str) -> str:
    """``p4`` → a 32-character pseudonym."""
    return f"{int(name[1:]):032x}"


def _rows(frame: pd.DataFrame) -> list[dict]:
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def fill(engine: sa.Engine) -> None:
    schools = [
        dict(school_id=s, name=f"示例{s}", stage="junior", location="urban") for s in ("S1", "S2", "S3")
    ]
    students = [dict(pid=pid(f"p{i}"), gender="F") for i in range(1, 11)]
    # p1 and p2 move S1 → S2, p3 S1 → S3, p4 S2 → S3; p5 stays at S2; p6 is new at S2
    enrolment = [
        (1, Y1, "S1", 6, 1), (2, Y1, "S1", 6, 2), (3, Y1, "S1", 6, 1), (4, Y1, "S2", 9, 1), (5, Y1, "S2", 9, 1),
        (1, Y2, "S2", 7, 1), (2, Y2, "S2", 7, 2), (3, Y2, "S3", 7, 1), (4, Y2, "S3", 10, 1), (5, Y2, "S2", 10, 1),
        (6, Y2, "S2", 7, 3),
    ]  # fmt: skip
    archives = [
        (1, Y1, "general"), (2, Y1, "key"), (4, Y1, "attention"), (5, Y1, "general"),
        (1, Y2, "general"), (2, Y2, "key"), (3, Y2, "crisis"), (5, Y2, "general"), (6, Y2, "general"),
        (7, Y2, "general"),  # p7 is not enrolled that year: not counted
    ]  # fmt: skip
    transfers = [
        (1, "2024-09-05", "S1", "S2", True),
        (2, "2024-09-05", "S1", "S2", False),
        (2, "2024-09-20", "S1", "S2", True),  # a second transfer of the same move
        (4, "2024-08-25", "S2", "S3", True),  # before the school year began
        (5, "2024-10-01", "S2", "S1", True),  # no such move: not counted
    ]
    cases = events().drop_duplicates("case_id")
    event_rows = events().dropna(subset=["occurred_at"])  # the store holds no event without a time
    phq9 = {1: [2, 2, 1, 1, 2, 1, 1, 2, 0], 2: [1, 0, 1, 1, 0, 0, 0, 1, 2], 5: [0, 1, 0, 1, 0, 0, 1, 0, 0],
            6: [3, 3, 3, 3, 2, 3, 3, 2, 0], 3: [2, 2, 2, 2, 2, 2, 1, 1, 1]}  # fmt: skip
    bands = {0: "minimal", 1: "mild", 2: "moderate", 3: "moderately_severe", 4: "severe"}
    rank = {1: 2, 2: 1, 5: 0, 6: 4, 3: 3}
    with engine.begin() as conn:
        store.upsert(conn, schema.school, schools)
        store.upsert(conn, schema.student, students)
        store.upsert(
            conn,
            schema.enrolment,
            [
                dict(pid=pid(f"p{i}"), school_year=y, school_id=s, grade=g, class_no=c)
                for i, y, s, g, c in enrolment
            ],
        )
        store.upsert(
            conn,
            schema.archive_category,
            [
                dict(pid=pid(f"p{i}"), school_year=y, category=c, assigned_on=dt.date(2024, 11, 15))
                for i, y, c in archives
            ],
        )
        store.upsert(
            conn,
            schema.archive_transfer,
            [
                dict(pid=pid(f"p{i}"), transferred_on=dt.date.fromisoformat(on), from_school_id=a, to_school_id=b,
                     complete=c)
                for i, on, a, b, c in transfers
            ],
        )  # fmt: skip
        store.upsert(
            conn,
            schema.crisis_case,
            [
                dict(case_id=r.case_id, pid=pid(r.pid), school_id=r.school, source=r.source, severity=r.severity,
                     local_label=r.local_label)
                for r in cases.itertuples()
            ],
        )  # fmt: skip
        store.upsert(
            conn,
            schema.crisis_event,
            [
                dict(case_id=r.case_id, seq=r.seq, stage=r.crisis_stage, level="school",
                     occurred_at=r.occurred_at.to_pydatetime())
                for r in event_rows.itertuples()
            ],
        )  # fmt: skip
        held = sessions().assign(pid=lambda f: f["pid"].map(pid))
        held = pd.concat([held, pd.DataFrame({"pid": [pid("p3")], "school": ["S2"],  # p3 has no case
                                              "held_on": [pd.Timestamp("2025-01-05")], "kind": ["individual"]})])  # fmt: skip
        store.upsert(
            conn,
            schema.counselling_session,
            [
                dict(
                    session_id=f"CS{i}", pid=r.pid, school_id=r.school, held_on=r.held_on.date(), kind=r.kind
                )
                for i, r in enumerate(held.itertuples())
            ],
        )
        store.upsert(conn, schema.screening_wave, [dict(wave_id=WAVE, school_year=Y2, season="autumn",
                     window_start=dt.date(2024, 9, 21), window_end=dt.date(2024, 10, 30), label="2024年秋季普测")])  # fmt: skip
        store.upsert(
            conn,
            schema.response,
            [
                dict(wave_id=WAVE, pid=pid(f"p{i}"), instrument="phq9", instrument_version="1.0",
                     items=store.pack_items(np.array(items, dtype=float)))
                for i, items in phq9.items()
            ],
        )  # fmt: skip
        scores = [
            dict(wave_id=WAVE, pid=pid(f"p{i}"), instrument="phq9", scale="total", raw=float(sum(items)),
                 band=bands[rank[i]], band_rank=rank[i], spec_version="1.0")
            for i, items in phq9.items()
        ]  # fmt: skip
        scores.append(dict(wave_id=WAVE, pid=pid("p5"), instrument="gad7", scale="total", raw=11.0,
                           band="moderate", band_rank=2, spec_version="1.0"))  # fmt: skip
        store.upsert(conn, schema.score, scores)
        flags = [(2, True), (5, False), (6, False), (1, False), (3, False)]
        store.upsert(
            conn,
            schema.score_flag,
            [
                dict(wave_id=WAVE, pid=pid(f"p{i}"), instrument="phq9", flag="item9", value=v)
                for i, v in flags
            ],
        )


@pytest.fixture
def filled(engine) -> sa.Engine:
    fill(engine)
    return engine


def test_events_come_back_as_written_and_give_the_same_histories(filled):
    read = queries.crisis_events(filled)
    assert list(read.columns) == [
        "case_id", "pid", "school", "source", "severity", "local_label", "wave_id", "seq", "crisis_stage", "level",
        "occurred_at",
    ]  # fmt: skip
    assert len(read) == len(events()) - 1  # G's interview without a time cannot be stored
    histories = crisis.case_histories(read, as_of=AS_OF, sessions=queries.crisis_sessions(filled))
    found = set(histories.problems[["case_id", "crisis_stage", "problem"]].itertuples(index=False, name=None))
    assert found == EXPECTED_PROBLEMS - {("G", "confirmed", "missing_time")}
    cases = histories.cases.set_index("case_id")
    assert cases.loc["D", "sessions"] == 1 and cases.loc["D", "last_contact_at"] == pd.Timestamp("2025-01-20")
    assert queries.crisis_events(filled, school="S2")["case_id"].unique().tolist() == ["D", "E", "F", "J"]
    assert queries.crisis_as_of(filled) == dt.datetime(2025, 3, 1, 8, 0)
    assert queries.crisis_as_of(filled, now=AS_OF.to_pydatetime()) == dt.datetime(2024, 12, 22, 8, 0)


def test_sessions_are_those_of_students_with_a_case_at_that_school(filled):
    held = queries.crisis_sessions(filled)
    assert sorted(zip(held["pid"], held["school"], strict=True)) == sorted(
        [(pid("p4"), "S2"), (pid("p1"), "S1")]
    )


def test_archive_categories_partition_the_enrolled_students(filled):
    table = queries.archive_categories(filled)
    counts = table.set_index(["school_year", "school", "category"])["count"]
    assert counts[(Y1, "S1")].to_dict() == {"general": 1, "attention": 0, "key": 1, "crisis": 0, "none": 1}
    assert counts[(Y2, "S2")].to_dict() == {"general": 3, "attention": 0, "key": 1, "crisis": 0, "none": 0}
    assert counts[(Y2, "S3")].to_dict() == {"general": 0, "attention": 0, "key": 0, "crisis": 1, "none": 1}
    assert table.groupby(["school_year", "school"])["n"].first().to_dict() == {
        (Y1, "S1"): 3, (Y1, "S2"): 2, (Y2, "S2"): 4, (Y2, "S3"): 2,
    }  # fmt: skip
    coverage = crisis.archive_coverage(table)
    assert coverage[["school_year", "count", "n"]].values.tolist() == [[Y1, 4, 5], [Y2, 5, 6]]


def test_moves_carry_their_first_transfer(filled):
    moves = queries.school_moves(filled)
    got = [
        (r.from_school, r.to_school, None if pd.isna(r.transferred_on) else str(r.transferred_on.date()),
         None if pd.isna(r.complete) else bool(r.complete), r.transfers, r.count)
        for r in moves.itertuples()
    ]  # fmt: skip
    assert sorted(got, key=str) == sorted(
        [
            ("S1", "S2", "2024-09-05", True, 1, 1),
            ("S1", "S2", "2024-09-05", False, 2, 1),
            ("S1", "S3", None, None, 0, 1),
            ("S2", "S3", "2024-08-25", True, 1, 1),
        ],
        key=str,
    )
    assert set(moves["school_year"]) == {Y2}
    result = crisis.archive_transfers(moves, as_of="2025-07-01").summary.iloc[0]
    assert (result["count"], result["n"], result["complete"], result["before_start"], result["repeated"]) == (
        3, 4, 2, 1, 1,
    )  # fmt: skip


def test_flagged_students_by_band_or_item_flag_of_one_school(filled):
    flagged = queries.flagged_students(filled, wave=WAVE, school="S2", min_band_rank={"phq9": 2, "gad7": 2})
    got = sorted(zip(flagged["pid"], flagged["instrument"], flagged["finding"], flagged["code"], strict=True))
    assert got == sorted(
        [
            (pid("p1"), "phq9", "band", "moderate"),
            (pid("p2"), "phq9", "flag", "item9"),  # a mild total, item 9 answered 2
            (pid("p5"), "gad7", "band", "moderate"),
            (pid("p6"), "phq9", "band", "severe"),
        ]
    )
    assert flagged.set_index("pid").loc[pid("p2"), ["grade", "class_no", "raw"]].tolist() == [7, 2, 6.0]
    other = queries.flagged_students(filled, wave=WAVE, school="S3", min_band_rank={"phq9": 2})
    assert other["pid"].tolist() == [pid("p3")]
    answers = queries.item_answers(
        filled, wave=WAVE, instrument="phq9", items=[9], pids=flagged["pid"].tolist()
    )
    assert dict(zip(answers["pid"], answers["q9"], strict=True)) == {
        pid("p1"): 0.0, pid("p2"): 2.0, pid("p5"): 0.0, pid("p6"): 0.0,
    }  # fmt: skip
