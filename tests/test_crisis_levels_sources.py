"""Issue #14's three gaps on hand-made case histories: the level handling a case, each source kept apart,
and the crisis-case status on a school's follow-up list (answers worked out by hand).

As of 2024-12-31. Levels are those of the events (班级 class, 学校 school, 社会 society):

====  ============  =====================================================================  ========
case  source        events (seq: stage level time)                                         handled
====  ============  =====================================================================  ========
K     head_teacher  1 raised class 09-01, 2 confirmed school 09-03, 3 intervention school   school
                    09-04, 4 referred society 09-10, 5 closed school 10-20 (back at school)
L     teacher       1 raised class 09-02, 2 confirmed school 09-05, 3 intervention school   society
                    09-06, 4 referred society 09-20 (open, at the hospital)
M     class_comm.   1 raised class 09-05                                                    class
N     parent        1 raised class 09-06, 2 confirmed school (no time: still the latest)    school
O     screening     2 confirmed school 09-07 10:00, 1 raised class 09-07 10:00 (same time;  school
                    rows given in reverse: seq decides)
P     peer          1 raised class 09-10, 2 confirmed school 09-08 (out of order: the       class
                    latest time is the raised event's)
====  ============  =====================================================================  ========
"""

from __future__ import annotations

import pandas as pd
import pytest

from psychanalytics import crisis
from psychanalytics.ingest import _crisis as importer
from psychanalytics.store import schema

AS_OF = pd.Timestamp("2024-12-31")

_EVENTS = [
    ("K", "head_teacher", 1, "raised", "class", "2024-09-01 08:00"),
    ("K", "head_teacher", 2, "confirmed", "school", "2024-09-03 08:00"),
    ("K", "head_teacher", 3, "intervention", "school", "2024-09-04 08:00"),
    ("K", "head_teacher", 4, "referred", "society", "2024-09-10 08:00"),
    ("K", "head_teacher", 5, "closed", "school", "2024-10-20 08:00"),
    ("L", "teacher", 1, "raised", "class", "2024-09-02 08:00"),
    ("L", "teacher", 2, "confirmed", "school", "2024-09-05 08:00"),
    ("L", "teacher", 3, "intervention", "school", "2024-09-06 08:00"),
    ("L", "teacher", 4, "referred", "society", "2024-09-20 08:00"),
    ("M", "class_committee", 1, "raised", "class", "2024-09-05 08:00"),
    ("N", "parent", 1, "raised", "class", "2024-09-06 08:00"),
    ("N", "parent", 2, "confirmed", "school", None),
    ("O", "screening", 2, "confirmed", "school", "2024-09-07 10:00"),
    ("O", "screening", 1, "raised", "class", "2024-09-07 10:00"),
    ("P", "peer", 1, "raised", "class", "2024-09-10 08:00"),
    ("P", "peer", 2, "confirmed", "school", "2024-09-08 08:00"),
]


def events() -> pd.DataFrame:
    frame = pd.DataFrame(
        _EVENTS, columns=["case_id", "source", "seq", "crisis_stage", "level", "occurred_at"]
    )
    return frame.assign(
        pid=frame["case_id"].str.lower(),
        school="S1",
        severity=2,
        occurred_at=pd.to_datetime(frame["occurred_at"]),
    )


@pytest.fixture(scope="module")
def cases() -> pd.DataFrame:
    return crisis.case_histories(events(), as_of=AS_OF).cases


# --- gap 1: the level handling a case ------------------------------------------------------------------


def test_each_case_keeps_the_level_of_its_latest_event(cases):
    assert cases.set_index("case_id")["level"].to_dict() == {
        "K": "school",
        "L": "society",
        "M": "class",
        "N": "school",
        "O": "school",
        "P": "class",
    }


def test_the_schools_own_view_names_who_handles_each_case(cases):
    view = crisis.school_cases(cases, "S1", as_of=AS_OF).set_index("case_id")
    assert view["level"].to_dict() == {
        "K": "学校",
        "L": "社会",
        "M": "班级",
        "N": "学校",
        "O": "学校",
        "P": "班级",
    }
    without = crisis.case_histories(events().drop(columns="level"), as_of=AS_OF).cases
    assert crisis.school_cases(without, "S1", as_of=AS_OF)["level"].isna().all()


def test_the_funnel_is_cut_by_the_level_handling_the_case(cases):
    table = crisis.funnel(cases, by="level").set_index(["level", "crisis_stage"])[["count", "n"]]
    assert table.apply(tuple, axis=1).to_dict() == {
        ("class", "raised"): (2, 2),  # M, P
        ("class", "confirmed"): (1, 2),  # P's interview is recorded, its time doubtful
        ("class", "intervention"): (0, 1),
        ("class", "referred"): (0, 1),
        ("class", "closed"): (0, 2),
        ("school", "raised"): (3, 3),  # K, N, O
        ("school", "confirmed"): (3, 3),
        ("school", "intervention"): (1, 3),
        ("school", "referred"): (1, 3),
        ("school", "closed"): (1, 3),
        ("society", "raised"): (1, 1),  # L
        ("society", "confirmed"): (1, 1),
        ("society", "intervention"): (1, 1),
        ("society", "referred"): (1, 1),
        ("society", "closed"): (0, 1),
    }


def test_stage_times_are_cut_by_level(cases):
    result = crisis.stage_times(cases, as_of=AS_OF, by="level", intervals=[("raised", "confirmed")])
    summary = result.summary.set_index("level")
    # class: M waits (censored), P's times contradict each other (left out); school: K 2 days, O 0, N untimed
    assert summary["count"].to_dict() == {"class": 0, "school": 2, "society": 1}
    assert sorted(result.excluded["case_id"]) == ["N", "P"]
    assert result.excluded.set_index("case_id")["level"].to_dict() == {"N": "school", "P": "class"}


def test_an_unknown_level_is_bad_input_and_no_level_column_leaves_it_unknown():
    bad = events()
    bad.loc[0, "level"] = "district"
    with pytest.raises(ValueError, match="level"):
        crisis.case_histories(bad, as_of=AS_OF)
    without = crisis.case_histories(events().drop(columns="level"), as_of=AS_OF).cases
    assert without["level"].isna().all() and len(without) == 6


def test_handling_level_orders_by_time_then_seq_with_untimed_events_last():
    frame = pd.DataFrame(
        {
            "case_id": ["X", "X", "X", "Y", "Y"],
            "seq": [3, 1, 2, 2, 1],
            "level": ["class", "society", "school", "school", "society"],
            "occurred_at": pd.to_datetime([None, "2024-10-02", "2024-10-01", "2024-10-05", "2024-10-05"]),
        }
    )
    # X: the untimed event (seq 3) comes after the timed ones; Y: same time, seq 2 after seq 1
    assert crisis.handling_level(frame).to_dict() == {"X": "class", "Y": "school"}


# --- gap 2: every source the issue names, kept apart ----------------------------------------------------


def test_the_issues_sources_each_have_a_code_and_a_chinese_label():
    named = {code: crisis.name("sources", code) for code in crisis.codes("sources")}
    assert {k: named[k] for k in ("head_teacher", "teacher", "class_committee")} == {
        "head_teacher": "班主任",
        "teacher": "任课教师",
        "class_committee": "心理委员",
    }
    assert {"screening", "parent", "self_referral"} <= set(named)
    assert len(set(named.values())) == len(named)  # no two sources share a label
    assert crisis.codes("sources") == schema.CRISIS_SOURCES


def test_the_funnel_tells_head_teachers_from_teachers_and_committees_from_classmates(cases):
    table = crisis.funnel(cases, by="source").set_index(["source", "crisis_stage"])
    assert table.loc[("head_teacher", "closed"), ["count", "n"]].tolist() == [1, 1]
    assert table.loc[("teacher", "closed"), ["count", "n"]].tolist() == [0, 1]
    assert table.loc[("class_committee", "confirmed"), ["count", "n"]].tolist() == [0, 1]
    assert table.loc[("peer", "confirmed"), ["count", "n"]].tolist() == [1, 1]


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("班主任", "head_teacher"),
        ("任课教师", "teacher"),
        ("心理委员", "class_committee"),
        ("同学", "peer"),
        ("同伴", "peer"),
        ("家长", "parent"),
        ("主动求助", "self_referral"),
        ("普测", "screening"),
        ("观察", "observation"),  # files written before the split
        ("HEAD_TEACHER", "head_teacher"),
    ],
)
def test_the_importer_reads_each_source_as_its_own_code(written, code):
    parse = next(f for f in importer.CRISIS.fields if f.name == "crisis_source").parse
    assert parse(written) == code


def test_the_importer_knows_every_stored_source():
    parse = next(f for f in importer.CRISIS.fields if f.name == "crisis_source").parse
    assert {parse(code) for code in schema.CRISIS_SOURCES} == set(schema.CRISIS_SOURCES)
    assert {
        parse(crisis.name("sources", code)) for code in ("head_teacher", "teacher", "class_committee")
    } == {
        "head_teacher",
        "teacher",
        "class_committee",
    }


# --- gap 3: the crisis-case status on the follow-up list ------------------------------------------------


def test_case_status_shows_the_latest_case_open_or_closed(cases, monkeypatch):
    monkeypatch.delenv("PSYCHANALYTICS_WARNING_SCALE", raising=False)
    labels = [None, None, "二级预警", None, None, None]  # M's school wrote its own label
    status = crisis.case_status(cases.assign(pid=["a", "a", "b", "c", "d", "e"], local_label=labels))
    assert status.to_dict() == {
        # a: K (closed 10-20) and L (raised later, open, at the hospital); no label: the district scale's
        "a": "转介（社会） · 橙色预警，个案 L（另有 1 个既往个案）",
        "b": "发现上报（班级） · 二级预警，个案 M",
        "c": "评估确认（学校） · 橙色预警，个案 N",
        "d": "评估确认（学校） · 橙色预警，个案 O",
        "e": "评估确认（班级） · 橙色预警，个案 P",
    }
    closed = crisis.case_status(cases[cases["case_id"] == "K"].assign(local_label="一级预警"))
    assert closed.to_dict() == {"k": "已结案 2024-10-20，个案 K"}


def test_the_follow_up_list_carries_each_students_case_status(cases, monkeypatch):
    monkeypatch.delenv("PSYCHANALYTICS_WARNING_SCALE", raising=False)
    flagged = pd.DataFrame(
        {
            "pid": ["l", "m", "z"],
            "grade": 8,
            "class_no": [1, 2, 3],
            "instrument": "phq9",
            "finding": "band",
            "code": "moderate",
            "raw": 12.0,
        }
    )
    roster = pd.DataFrame(
        {
            "pid": ["l", "m", "z"],
            "student_number": ["G1", "G2", "G3"],
            "name": ["甲", "乙", "丙"],
            "grade": "初二",
            "class": ["1班", "2班", "3班"],
        }
    )
    listed, _ = crisis.followup_list(flagged, roster, pd.DataFrame({"pid": [], "q9": []}), cases)
    assert list(listed.columns) == list(crisis.FOLLOWUP_COLUMNS)
    assert dict(zip(listed["学籍号"], listed["危机个案状态"], strict=True)) == {
        "G1": "转介（社会） · 橙色预警，个案 L",
        "G2": "发现上报（班级） · 橙色预警，个案 M",
        "G3": crisis.NO_CASE,
    }
    without, _ = crisis.followup_list(flagged, roster, pd.DataFrame({"pid": [], "q9": []}))
    assert (without["危机个案状态"] == "无").all()
