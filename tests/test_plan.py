"""Plan targets, attainment statuses and trends, the supervision scorecard, on hand-made data."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from plan_support import Y1, Y2, write_district

from psychanalytics import plan
from psychanalytics.store import queries

YEARS = ["2021-2022", "2022-2023", "2023-2024", "2024-2025"]


def _values(indicator, values, *, school_id=None, years=YEARS):
    return pd.DataFrame(
        {"school_year": years[: len(values)], "school_id": school_id, "indicator": indicator, "value": values,
         "count": np.nan, "n": np.nan, "text": [str(v) for v in values]}
    )  # fmt: skip


def _target(**fields):
    base = dict(code="t", plan="p", item="1", name_zh="目标", name_en="t", indicator="full_time_teacher",
                level="district", target=1.0, deadline="2025-2026")  # fmt: skip
    return plan.TargetSet(
        plan="p", name_zh="计划", name_en="plan", targets=(plan.Target(**{**base, **fields}),)
    )


@pytest.mark.parametrize(
    ("values", "target", "year", "status", "trend"),
    [
        ([0.5, 0.7, 0.9, 1.0], {}, "2024-2025", "met", "↑"),
        ([0.4, 0.6, 0.8, 0.9], {}, "2024-2025", "on_track", "↑"),  # +0.13 a year reaches 1.0 by 2025-2026
        ([0.8, 0.82, 0.84, 0.85], {}, "2024-2025", "at_risk", "↑"),  # too slow
        ([0.8, 0.82, 0.84, 0.85], {"deadline": "2024-2025"}, "2024-2025", "missed", "↑"),  # deadline reached
        ([0.9, 0.9], {}, "2022-2023", "at_risk", "→"),
        ([0.9], {}, "2021-2022", "at_risk", ""),  # one year: cannot tell the pace
        ([1.0, 0.9], {"deadline": None}, "2022-2023", "missed", "↓"),  # a yearly target
        (
            [0.0, 0.0, 0.0, 0.05],
            {"target": 0.0, "comparison": ">", "deadline": None},
            "2024-2025",
            "met",
            "↑",
        ),
        (
            [0.0, 0.0, 0.0, 0.0],
            {"target": 0.0, "comparison": ">", "deadline": None},
            "2024-2025",
            "missed",
            "→",
        ),
    ],
)
def test_status_and_trend(values, target, year, status, trend):
    judged = plan.attainment(_values("full_time_teacher", values), _target(**target), school_year=year).iloc[
        0
    ]
    assert (judged["status"], judged["trend"]) == (status, trend)
    assert judged["status_zh"] == plan.STATUS_LABELS[status][0]


def test_no_data_for_a_year_or_an_indicator_the_store_lacks():
    missing_year = plan.attainment(
        _values("full_time_teacher", [0.5, 0.6]), _target(), school_year="2024-2025"
    )
    assert missing_year["status"].tolist() == ["no_data"] and missing_year["note"].iloc[0].startswith(
        "本年无数据"
    )
    none = plan.attainment(
        _values("full_time_teacher", [0.5]), _target(indicator="daily_communication"), school_year=YEARS[0]
    )
    assert none["status"].tolist() == ["no_data"] and none["text"].tolist() == ["无数据"]
    with pytest.raises(KeyError, match="not in INDICATORS"):
        plan.attainment(_values("x", [1.0]), _target(indicator="x"), school_year=YEARS[0])


def test_school_targets_list_schools_by_id_never_by_value():
    values = pd.concat(
        [
            _values("full_time_teacher", [v], school_id=s, years=[Y2])
            for s, v in (("S3", 2.0), ("S1", 0.0), ("S2", 1.0))
        ]
    )
    judged = plan.attainment(values, _target(level="school", target=1, deadline=None), school_year=Y2)
    assert judged["school_id"].tolist() == ["S1", "S2", "S3"]
    assert judged["status"].tolist() == ["missed", "met", "met"]


def test_shipped_targets_are_data_with_known_indicators():
    assert plan.plans() == ("national_2023", "zhonglou")
    for name in plan.plans():
        target_set = plan.targets(name)
        assert target_set.targets and all(t.indicator in plan.INDICATORS for t in target_set.targets)
    zhonglou = {t.code: t for t in plan.targets("zhonglou").targets}
    assert (zhonglou["full_time_teacher"].deadline, zhonglou["room_standard"].deadline) == (
        "2024-2025",
        "2023-2024",
    )
    national = {t.code: t for t in plan.targets("national_2023").targets}
    assert national["staffed_schools"].target == 0.95
    with pytest.raises(ValueError, match="level must be"):
        dataclasses.replace(zhonglou["mentors"], level="province")
    with pytest.raises(KeyError, match="unknown plan"):
        plan.targets("shanghai")


@pytest.fixture
def results(engine):
    write_district(engine)
    return plan.evaluate(queries.plan_inputs(engine), school_year=Y2)


def _school(results, target):
    rows = results.attainment[results.attainment["target"] == target]
    return dict(zip(rows["school_id"], rows["status"], strict=True))


def test_evaluate_on_the_hand_made_district(results):
    district = results.attainment[results.attainment["level"] == "district"].set_index("target")
    assert district.loc["full_time_teacher", ["value", "status", "text"]].tolist() == [
        0.5,
        "missed",
        "50%（2/4 校）",
    ]
    assert district.loc["room_standard", ["value", "status"]].tolist() == [pytest.approx(1 / 3), "missed"]
    assert district.loc["room_inspection", "text"] == "67%（2/3 校）"  # B was inspected the year before
    assert district.loc["monthly_lecture", "text"] == "3/9 个月（缺12月、1月、3月、4月、5月、6月）"
    assert district.loc["district_events", "text"] == "1/3 天"
    assert _school(results, "full_time_teacher_school") == {
        "A": "met",
        "B": "met",
        "C": "missed",
        "D": "missed",
    }
    assert _school(results, "room_standard_school") == {
        "A": "met",
        "B": "missed",
        "C": "missed",
    }  # D not covered
    assert _school(results, "funding_growth") == {"A": "met", "B": "missed", "C": "no_data"}
    assert _school(results, "three_year_plan")["C"] == "missed"
    assert _school(results, "daily_communication") == {None: "no_data"}


def test_national_staffing_trend_comes_from_the_earlier_year(results):
    row = results.attainment[results.attainment["target"] == "staffed_schools"].iloc[0]
    assert row["change"] == pytest.approx(0.75 - 0.5)  # 2023-2024: A and B staffed of four
    assert row["trend"] == "↑" and row["projected"] == pytest.approx(1.0)
    # the line reaches 1.0 by 2025-2026, but a two-point line gives no band: the status reads the line itself
    assert row["status"] == "on_track"


def test_scorecard_checks_evidence_and_missing(results, engine):
    card = results.scorecard.set_index(["school_id", "check"])
    assert list(plan.CHECKS) == list(dict.fromkeys(results.scorecard["check"]))
    assert card.loc[("A", "structure"), "status"] == "pass"
    assert card.loc[("B", "psychology_work"), ["status", "missing"]].tolist() == [
        "fail",
        "1 名专职教师未从事心理健康教育工作",
    ]
    assert card.loc[("A", "courses"), "evidence"] == "应开 36 课时，实开 35 课时；3/4 个年级学期开足"
    assert card.loc[("A", "courses"), "missing_short"] == "1 个年级学期未开足"
    assert card.loc[("C", "structure"), "missing"] == "本年未召开专题会；无三年规划"
    assert card.loc[("C", "counselling"), "missing"].startswith("辅导室开放时间不足每周 10 小时")
    assert card.loc[("C", "development"), "missing"] == "兼职教师持证不足 50%"
    assert card.loc[("D", "courses"), ["status", "missing"]].tolist() == ["no_data", "未报送课时"]
    assert card.loc[("B", "development"), "status"] == "pass"  # certified full-timer, 1 of 2 part-timers
    stricter = plan.scorecard(
        school_year=Y2, schools=pd.Series(["B"]), profile=results.profile, rooms=queries.plan_inputs(engine).rooms,
        lessons=results.lessons, counselling=results.counselling, governance=results.governance,
        min_open_hours_week=10, part_time_certified_share=0.75,
    )  # fmt: skip
    assert stricter.set_index("check").loc["development", "missing"] == "兼职教师持证不足 75%"


def test_evaluate_refuses_a_year_no_school_reports(results, engine):
    with pytest.raises(ValueError, match="no school reports '2030-2031'"):
        plan.evaluate(queries.plan_inputs(engine), school_year="2030-2031")
    assert Y1 in results.district_gaps["school_year"].tolist()
