"""The plan's indicators per school and for the district, from the domain modules' results."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from psychanalytics._rules import missing_as_none

INDICATORS: dict[str, tuple[str, str]] = {
    "full_time_teacher": ("专职心理教师", "full-time psychology teachers"),
    "any_teacher": ("专（兼）职心理教师", "full- or part-time psychology teachers"),
    "room_compliant": ("心理辅导室达标", "counselling room meets the guide"),
    "room_inspected": ("心理辅导室年度检查", "counselling room inspected this year"),
    "lessons_in_full": ("心理健康课开足", "psychology lessons in full"),
    "event_days": ("宣传日活动", "event days marked"),
    "parent_classes": ("家长课堂", "parent classes"),
    "lecture_months": ("「让爱更有智慧」讲座", "monthly lecture held"),
    "mentor_coverage": ("教师担任导师", "teachers who are mentors"),
    "committee_coverage": ("班级心理委员", "classes with a 心理委员"),
    "leadership_meeting": ("领导小组专题会", "leadership meetings"),
    "three_year_plan": ("学校三年规划", "three-year school plan"),
    "funding_growth": ("经费增长", "budget growth"),
    "daily_communication": ("每天15分钟沟通", "15 minutes of communication a day"),
    "district_researcher": ("区心理教研员", "district psychology 教研员"),
}
"""Every indicator a target may name: Chinese and English names. The last two have no data in the store."""

COLUMNS = ["school_year", "school_id", "indicator", "value", "count", "n", "text"]


@dataclass(frozen=True)
class Parts:
    """The domain results the indicators are read from (one frame each, all school years)."""

    school_gaps: pd.DataFrame  # staffing.gaps with zhonglou_2024 and national_2023
    room_status: pd.DataFrame  # facilities.room_status + inspected
    lessons: pd.DataFrame  # activities.lesson_delivery
    events: pd.DataFrame  # activities.event_days
    parents: pd.DataFrame  # activities.parent_classes
    lectures: pd.DataFrame  # activities.lecture_months
    coverage: pd.DataFrame  # activities.coverage
    governance: pd.DataFrame  # activities.governance
    funding: pd.DataFrame  # activities.funding_growth


def _pct(value: float) -> str:
    return f"{value:.0%}"


def _rows(frame: pd.DataFrame, indicator: str, value, count, n, text) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "school_year": frame["school_year"].to_numpy(),
            "school_id": frame["school_id"].to_numpy() if "school_id" in frame else None,
            "indicator": indicator,
            "value": np.asarray(value, dtype=float),
            "count": np.asarray(count, dtype=float),
            "n": np.asarray(n, dtype=float),
            "text": list(text),
        }
    )


def _share_of_schools(frame: pd.DataFrame, meets: str, indicator: str, noun: str = "校") -> pd.DataFrame:
    """District rows: schools meeting ``meets`` out of the schools with a known value, per year."""
    known = frame[frame[meets].notna()]
    out = known.groupby("school_year", sort=True)[meets].agg(count="sum", n="size").reset_index()
    share = out["count"] / out["n"]
    text = [
        f"{_pct(s)}（{c:.0f}/{n:.0f} {noun}）" for s, c, n in zip(share, out["count"], out["n"], strict=True)
    ]
    return _rows(out.assign(school_id=None), indicator, share, out["count"], out["n"], text)


def _pooled(frame: pd.DataFrame, count: str, total: str, indicator: str, noun: str) -> pd.DataFrame:
    """District rows: the sum of ``count`` over the sum of ``total`` of the schools reporting both."""
    known = frame[frame[count].notna() & frame[total].notna()]
    out = known.groupby("school_year", sort=True)[[count, total]].sum().reset_index()
    share = out[count] / out[total].where(out[total] > 0)
    text = [
        f"{_pct(s)}（{c:,.0f}/{n:,.0f} {noun}）"
        for s, c, n in zip(share, out[count], out[total], strict=True)
    ]
    return _rows(out.assign(school_id=None), indicator, share, out[count], out[total], text)


def indicators(parts: Parts) -> pd.DataFrame:
    """Every indicator's value per school (``school_id``) and for the district (``school_id`` missing).

    Returns
    -------
    pandas.DataFrame
        ``school_year, school_id, indicator, value, count, n, text``: ``value`` is what a target is
        compared with (a head count, a 0/1, a share, a growth rate); ``count`` and ``n`` what it rests on
        where it is a share (else missing); ``text`` the value as a leader reads it, in Chinese.
        Counts are of schools, classes, teachers, grade-terms, months and days: none is a count of
        students.
    """
    g = parts.school_gaps
    full = g[g["standard"] == "zhonglou_2024"]
    anyone = g[g["standard"] == "national_2023"]
    rooms = parts.room_status
    les, cov, gov, fund = parts.lessons, parts.coverage, parts.governance, parts.funding
    school_events = parts.events[parts.events["school_id"].notna()]
    days = (
        school_events.groupby(["school_year", "school_id"], sort=True)["held"]
        .agg(["sum", "size"])
        .reset_index()
    )
    district_days = (
        parts.events[parts.events["school_id"].isna()]
        .groupby("school_year", sort=True)["held"]
        .agg(["sum", "size"])
        .reset_index()
    )
    yes_no = {True: "有", False: "无"}
    frames = [
        _rows(full, "full_time_teacher", full["have"], full["have"], np.nan, [f"{v:.0f} 名" for v in full["have"]]),
        _share_of_schools(full.assign(m=full["meets"].astype(float)), "m", "full_time_teacher"),
        _rows(anyone, "any_teacher", anyone["have"], anyone["have"], np.nan, [f"{v:.0f} 名" for v in anyone["have"]]),
        _share_of_schools(anyone.assign(m=anyone["meets"].astype(float)), "m", "any_teacher"),
        _rows(
            rooms, "room_compliant", rooms["compliant"].astype(float), rooms["n_met"], rooms["n_required"],
            ["达标" if c else f"未达标（缺{m}）" for c, m in zip(rooms["compliant"], rooms["missing_zh"], strict=True)],
        ),
        _share_of_schools(rooms.assign(m=rooms["compliant"].astype(float)), "m", "room_compliant"),
        _rows(
            rooms, "room_inspected", rooms["inspected"].astype(float), np.nan, np.nan,
            ["已检查" if v else "未检查" for v in rooms["inspected"]],
        ),
        _share_of_schools(rooms.assign(m=rooms["inspected"].astype(float)), "m", "room_inspected"),
        _rows(
            les, "lessons_in_full", les["proportion"], les["count"], les["n"],
            [f"{_pct(p)}（{c}/{n} 个年级学期）" for p, c, n in zip(les["proportion"], les["count"], les["n"], strict=True)],
        ),
        _share_of_schools(les.assign(m=(les["count"] == les["n"]).astype(float)), "m", "lessons_in_full"),
        _rows(days, "event_days", days["sum"], days["sum"], days["size"], [f"{s}/{n} 天" for s, n in zip(days["sum"], days["size"], strict=True)]),
        _rows(
            district_days.assign(school_id=None), "event_days", district_days["sum"] / district_days["size"],
            district_days["sum"], district_days["size"],
            [f"{s}/{n} 天" for s, n in zip(district_days["sum"], district_days["size"], strict=True)],
        ),
        _rows(parts.parents, "parent_classes", parts.parents["classes"], parts.parents["classes"], np.nan, [f"{v} 次" for v in parts.parents["classes"]]),
        _share_of_schools(parts.parents.assign(m=parts.parents["meets"].astype(float)), "m", "parent_classes"),
        _rows(
            parts.lectures.assign(school_id=None), "lecture_months", parts.lectures["proportion"],
            parts.lectures["count"], parts.lectures["n"],
            [f"{c}/{n} 个月" + (f"（缺{m}）" if m else "") for c, n, m in zip(parts.lectures["count"], parts.lectures["n"], parts.lectures["missing_zh"], strict=True)],
        ),
        _rows(
            cov, "mentor_coverage", cov["mentor_share"], cov["mentors"], cov["teachers"],
            [_share_text(s, c, n, "名教师") for s, c, n in zip(cov["mentor_share"], cov["mentors"], cov["teachers"], strict=True)],
        ),
        _pooled(cov, "mentors", "teachers", "mentor_coverage", "名教师"),
        _rows(
            cov, "committee_coverage", cov["committee_share"], cov["committee_classes"], cov["classes"],
            [_share_text(s, c, n, "个班") for s, c, n in zip(cov["committee_share"], cov["committee_classes"], cov["classes"], strict=True)],
        ),
        _pooled(cov, "committee_classes", "classes", "committee_coverage", "个班"),
        _rows(gov, "leadership_meeting", gov["meetings"].astype("Float64").to_numpy(dtype=float, na_value=np.nan), np.nan, np.nan,
              ["未报送" if pd.isna(v) else f"{v} 次" for v in gov["meetings"]]),
        _share_of_schools(gov.assign(m=gov["meeting_held"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)), "m", "leadership_meeting"),
        _rows(gov, "three_year_plan", gov["three_year_plan"].astype("Float64").to_numpy(dtype=float, na_value=np.nan), np.nan, np.nan,
              ["未报送" if pd.isna(v) else yes_no[bool(v)] for v in gov["three_year_plan"]]),
        _share_of_schools(gov.assign(m=gov["three_year_plan"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)), "m", "three_year_plan"),
        _rows(fund, "funding_growth", fund["growth"], np.nan, np.nan, ["—" if pd.isna(v) else f"{v:+.1%}" for v in fund["growth"]]),
        _district_growth(fund),
    ]  # fmt: skip
    out = pd.concat([f for f in frames if not f.empty], ignore_index=True)
    out["school_id"] = missing_as_none(out["school_id"])
    return out[COLUMNS]


def _share_text(share: float, count: float, n: float, noun: str) -> str:
    if pd.isna(share):
        return "未报送"
    return f"{_pct(share)}（{count:,.0f}/{n:,.0f} {noun}）"


def _district_growth(fund: pd.DataFrame) -> pd.DataFrame:
    """The district's budget growth: this year's total over last year's, for schools with both years."""
    both = fund[fund["growth"].notna()]
    before = both["budget_yuan"] / (1 + both["growth"])
    totals = (
        both.assign(before=before)
        .groupby("school_year", sort=True)[["budget_yuan", "before"]]
        .sum()
        .reset_index()
    )
    growth = totals["budget_yuan"] / totals["before"] - 1
    return _rows(
        totals.assign(school_id=None), "funding_growth", growth, np.nan, np.nan, [f"{v:+.1%}" for v in growth]
    )
