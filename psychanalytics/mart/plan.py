"""Mart tables of the 「三年计划」 page: the plans' targets, their attainment per school year, schools per
status of each school-level target, and the year-end supervision scorecard summed over schools.

Attainment is :func:`psychanalytics.plan.attainment` as :func:`psychanalytics.plan.evaluate` judges it in
each school year (the status a target had that year). Its values count schools, teachers, classes,
grade-terms, months and days, never students (:func:`psychanalytics.plan.indicators`), so the targets and
the district's attainment are published without the policy (``no_people``); the counts of schools per
status go through it with ``unit="school"``, cut by 学段 × 城乡 like the 「师资与阵地」 tables.
"""

from __future__ import annotations

import pandas as pd

from psychanalytics import plan
from psychanalytics.mart._evaluated import by_group, evaluated
from psychanalytics.mart._registry import MartTable, register
from psychanalytics.mart.staffing import GROUP

PLANS = ("zhonglou", "national_2023")
"""The target sets judged (as :func:`psychanalytics.plan.evaluate` judges them by default)."""

_TARGET_COLUMNS = [
    "plan", "plan_name_zh", "target", "item", "name_zh", "name_en", "indicator", "level", "target_value",
    "comparison", "deadline", "uncertain",
]  # fmt: skip


def _targets(engine) -> pd.DataFrame:
    rows = []
    for code in PLANS:
        chosen = plan.targets(code)
        rows += [
            [t.plan, chosen.name_zh, t.code, t.item, t.name_zh, t.name_en, t.indicator, t.level, t.target,
             t.comparison, t.deadline, t.uncertain]
            for t in chosen.targets
        ]  # fmt: skip
    return pd.DataFrame(rows, columns=_TARGET_COLUMNS)


_ATTAINMENT_COLUMNS = [
    "school_year", "plan", "target", "item", "name_zh", "name_en", "value", "text", "target_value",
    "comparison", "deadline", "status", "status_zh", "symbol", "change", "trend", "projected", "count", "n",
    "note",
]  # fmt: skip


def _attainment(engine) -> pd.DataFrame:
    _, results = evaluated(engine)
    parts = [judged.attainment[judged.attainment["level"] == "district"] for judged in results.values()]
    if not parts:
        return pd.DataFrame(columns=_ATTAINMENT_COLUMNS)
    return pd.concat(parts, ignore_index=True)[_ATTAINMENT_COLUMNS]


_STATUS_COLUMNS = [*GROUP, "target", "name_zh", "status", "count", "n"]


def _per_status(frame: pd.DataFrame, key: str, name: str, statuses) -> pd.DataFrame:
    """Schools per status of each ``key`` (a target, a check) and year; every status listed, zero included."""
    keys = frame[["school_year", key, name]].drop_duplicates()
    full = keys.merge(pd.DataFrame({"status": list(statuses)}), how="cross")
    counts = frame.groupby(["school_year", key, "status"], sort=False).size().rename("count").reset_index()
    out = full.merge(counts, on=["school_year", key, "status"], how="left").fillna({"count": 0})
    out["count"] = out["count"].astype("int64")
    out["n"] = out.groupby(["school_year", key])["count"].transform("sum")
    return out


def _school_status(engine) -> pd.DataFrame:
    _, results = evaluated(engine)
    if not results:
        return pd.DataFrame(columns=_STATUS_COLUMNS)
    judged = [
        r.attainment[(r.attainment["level"] == "school") & r.attainment["school_id"].notna()]
        for r in results.values()
    ]
    rows = pd.concat(judged, ignore_index=True)
    schools = next(iter(results.values())).schools
    return by_group(
        rows, schools, lambda part: _per_status(part, "target", "name_zh", plan.STATUSES), _STATUS_COLUMNS
    )[_STATUS_COLUMNS]  # fmt: skip


_CHECK_COLUMNS = [*GROUP, "check", "name_zh", "status", "status_zh", "count", "n"]


def _scorecard(engine) -> pd.DataFrame:
    _, results = evaluated(engine)
    if not results:
        return pd.DataFrame(columns=_CHECK_COLUMNS)
    cards = pd.concat([r.scorecard for r in results.values()], ignore_index=True)
    schools = next(iter(results.values())).schools
    out = by_group(
        cards, schools, lambda part: _per_status(part, "check", "name_zh", plan.CHECK_STATUS), _CHECK_COLUMNS
    )  # fmt: skip
    out["status_zh"] = out["status"].map(plan.CHECK_STATUS)
    return out[_CHECK_COLUMNS]


TARGETS = register(
    MartTable(
        "plan_targets",
        "三年行动计划与国家专项行动的目标",
        "the plans' targets",
        _targets,
        None,
        no_people="targets of the plans: values to reach and deadlines, no count",
    )
)
ATTAINMENT = register(
    MartTable(
        "plan_attainment",
        "全区目标的达成情况（各学年）",
        "attainment of the district's targets, per school year",
        _attainment,
        None,
        no_people=(
            "the district's plan indicators count schools, teachers, classes, grade-terms, months and days "
            "(psychanalytics.plan.indicators): no student counted"
        ),
    )
)
SCHOOL_STATUS = register(
    MartTable(
        "plan_school_status",
        "分校目标：各状态的学校数（各学年、学段、城乡）",
        "schools per status of each school-level target",
        _school_status,
        {"unit": "school", "by": ("school_year", "stage", "location", "target"),
         "labels": ("target", "name_zh", "status")},
    )
)  # fmt: skip
SCORECARD = register(
    MartTable(
        "scorecard_summary",
        "年终督导五项检查：达标、未达标、缺数据的学校数（各学年、学段、城乡）",
        "year-end supervision checks: schools passing, failing, without data",
        _scorecard,
        {"unit": "school", "by": ("school_year", "stage", "location", "check"),
         "labels": ("check", "name_zh", "status", "status_zh")},
    )
)  # fmt: skip

__all__ = ["ATTAINMENT", "PLANS", "SCHOOL_STATUS", "SCORECARD", "TARGETS"]
