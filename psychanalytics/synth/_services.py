"""School-level services: yearly stats, staff, rooms, courses, activities, funding, consent."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from psychanalytics.store import schema
from psychanalytics.synth._plants import (
    EVENT_MISSED,
    LECTURE_MISSED,
    NO_TEACHER_YEARS,
    REPORT_YEAR,
    Plants,
)
from psychanalytics.synth._population import FIRST_YEAR, N_YEARS, SCHOOL_YEARS

# share of schools with at least one full-time psychology teacher, by school year
FULL_TIME_SHARE = (0.45, 0.58, 0.70, 0.82, 0.90)
_LECTURE = "「让爱更有智慧」心理健康教育讲座"
_LECTURE_TOPICS = (
    "积极心理与师生沟通",
    "青春期情绪识别",
    "发现学生的积极品质",
    "每天15分钟有效沟通",
    "学习压力与自我调节",
    "家校共育中的倾听",
    "危机信号的早期识别",
    "全员导师制的实践",
    "积极品格与班级建设",
    "教师自我关怀",
)
_CLASS_MEETINGS = ("珍爱生命", "情绪小管家", "我的积极品格", "学会感恩", "友善相处", "压力应对")
_CLUBS = ("心理社团", "七彩积极品格社团", "心理委员培训")
_CARNIVAL_DAYS = ((3, 20, "国际幸福日"), (5, 25, "525心理健康节"), (10, 10, "世界精神卫生日"))


def _day(year: int, month: int, day: int) -> dt.date:
    return dt.date(year, month, day)


def _grades(stage: str) -> range:
    return {
        "primary": range(1, 7),
        "junior": range(7, 10),
        "nine_year": range(1, 10),
        "senior": range(10, 13),
    }[stage]


def school_year_stats(
    schools: pd.DataFrame, enrol: pd.DataFrame, rng: np.random.Generator, plants: Plants
) -> pd.DataFrame:
    """Enrolment, classes and boarders counted from the enrolment rows; governance and coverage drawn."""
    counts = enrol.groupby(["school_id", "school_year"]).agg(
        enrolment=("pid", "size"), boarders=("boarder", "sum")
    )
    classes = enrol.groupby(["school_id", "school_year", "grade"])["class_no"].max()
    counts["n_classes"] = classes.groupby(["school_id", "school_year"]).sum()
    frame = counts.reset_index()
    year = frame["school_year"].map({y: i for i, y in enumerate(SCHOOL_YEARS)}).to_numpy()
    n = len(frame)
    # governance improves over the plan's three years; some schools lag
    start = frame["school_id"].map(
        dict(zip(schools["school_id"], rng.integers(0, 3, len(schools)), strict=True))
    )
    frame["has_leadership_group"] = year >= start.to_numpy() - 1
    frame["special_meetings"] = np.where(frame["has_leadership_group"], rng.integers(1, 4, n), 0)
    frame["has_three_year_plan"] = year >= start.to_numpy()
    characteristic = dict(zip(schools["school_id"], rng.integers(1, 8, len(schools)), strict=True))
    frame["is_characteristic_school"] = year >= frame["school_id"].map(characteristic).to_numpy()
    # about one teacher per 14 students; mentors and 心理委员 spread over the plan's years
    frame["n_teachers"] = np.maximum(10, np.round(frame["enrolment"] / 14 * rng.uniform(0.9, 1.1, n))).astype(
        int
    )
    mentor_share = np.clip(0.55 + 0.12 * year + rng.normal(0, 0.05, n), 0, 1)
    committee_share = np.clip(0.7 + 0.1 * year + rng.normal(0, 0.05, n), 0, 1)
    report = (frame["school_year"] == REPORT_YEAR).to_numpy()
    no_plan = report & (frame["school_id"] == plants.no_plan).to_numpy()
    frame.loc[no_plan, ["has_three_year_plan", "special_meetings"]] = [False, 0]
    low = report & (frame["school_id"] == plants.low_coverage).to_numpy()
    mentor_share[low], committee_share[low] = 0.5, 0.4
    frame["n_mentors"] = np.round(frame["n_teachers"] * mentor_share).astype(int)
    frame["classes_with_committee"] = np.round(frame["n_classes"] * committee_share).astype(int)
    return frame[
        [
            "school_id",
            "school_year",
            "enrolment",
            "n_classes",
            "boarders",
            "has_leadership_group",
            "special_meetings",
            "has_three_year_plan",
            "is_characteristic_school",
            "n_teachers",
            "n_mentors",
            "classes_with_committee",
        ]
    ]


def staff(
    schools: pd.DataFrame, stats: pd.DataFrame, rng: np.random.Generator, plants: Plants
) -> pd.DataFrame:
    """Psychology teachers per school and year; teachers keep their id across years."""
    n_schools = len(schools)
    # larger schools get full-time teachers first; the order is otherwise random
    enrol0 = stats[stats["school_year"] == SCHOOL_YEARS[0]].set_index("school_id")["enrolment"]
    priority = rng.random(n_schools) * 0.6 + (enrol0.reindex(schools["school_id"]).to_numpy() / enrol0.max())
    order = schools["school_id"].to_numpy()[np.argsort(-priority)]
    order = order[order != plants.no_full_time]  # planted: never a full-time teacher
    size = stats.set_index(["school_id", "school_year"])["enrolment"]
    rows = []
    for s_index, school_id in enumerate(schools["school_id"]):
        part_timers = int(rng.integers(1, 4))
        degree = rng.random(8) < 0.8
        certificate = rng.choice(
            ["心理健康教育C证", "心理健康教育B证", "心理健康教育A证", None], size=8, p=[0.45, 0.3, 0.1, 0.15]
        )
        for y, school_year in enumerate(SCHOOL_YEARS):
            has_full_time = school_id in order[: round(FULL_TIME_SHARE[y] * n_schools)] or (
                school_id == plants.not_psychology_work and school_year >= REPORT_YEAR
            )
            full_time = (
                1 + int(size[school_id, school_year] > 1_500) + int(size[school_id, school_year] > 2_500)
            ) * has_full_time
            for t in range(full_time):
                rows.append(
                    {
                        "staff_id": f"T{s_index + 1:03d}F{t + 1}",
                        "school_year": school_year,
                        "school_id": school_id,
                        "employment": "full_time",
                        "psychology_degree": bool(degree[t]),
                        "certificate": certificate[t],
                        "does_psychology_work": bool(rng.random() < 0.96)
                        and not (school_id == plants.not_psychology_work and school_year == REPORT_YEAR),
                        "weekly_hours": float(rng.integers(12, 19)),
                    }
                )
            no_teacher = school_id == plants.no_full_time and school_year in NO_TEACHER_YEARS
            for t in range(0 if no_teacher else max(1, part_timers - full_time)):
                rows.append(
                    {
                        "staff_id": f"T{s_index + 1:03d}P{t + 1}",
                        "school_year": school_year,
                        "school_id": school_id,
                        "employment": "part_time",
                        "psychology_degree": bool(rng.random() < 0.2),
                        "certificate": certificate[4 + t],
                        "does_psychology_work": bool(rng.random() < 0.8),
                        "weekly_hours": float(rng.integers(2, 9)),
                    }
                )
    return pd.DataFrame(rows)


def rooms(schools: pd.DataFrame, rng: np.random.Generator, plants: Plants) -> pd.DataFrame:
    """Counselling rooms: each feature and rule appears in some year and stays (compliance improves)."""
    features = schema.ROOM_REQUIREMENTS
    rows = []
    for school_id in schools["school_id"]:
        # year index from which the feature exists (negative = before the demo years); a few never
        since = {
            f: int(rng.choice([-1, 0, 1, 2, 3, 9], p=[0.45, 0.2, 0.15, 0.1, 0.06, 0.04])) for f in features
        }
        area = rng.uniform(30, 80)
        for y, school_year in enumerate(SCHOOL_YEARS):
            has = {f: y >= since[f] for f in features}
            short = school_id == plants.room_short
            if short:  # planted: no group room, no archive-transfer rule
                has.update(group_room=False, rule_transfer=False)
            inspected = y >= 1 or rng.random() < 0.5  # annual inspection from 2022-2023 on
            inspected &= not (school_id == plants.not_inspected and school_year == REPORT_YEAR)
            rows.append(
                {
                    "school_id": school_id,
                    "school_year": school_year,
                    **has,
                    "area_m2": round(area * (1 + 0.08 * y), 1),
                    "open_hours_week": 6.0 if short else float(rng.integers(8, 16) + 3 * y),
                    "inspected_on": _day(FIRST_YEAR + y + 1, 5, int(rng.integers(6, 29)))
                    if inspected
                    else None,
                    "inspection_passed": bool(all(has.values()) or rng.random() < 0.3) if inspected else None,
                }
            )
    return pd.DataFrame(rows)


def course_delivery(schools: pd.DataFrame, rng: np.random.Generator, plants: Plants) -> pd.DataFrame:
    """Lessons planned (one per two weeks) and delivered per school, year, term and grade."""
    rows = []
    for school_id, stage in zip(schools["school_id"], schools["stage"], strict=True):
        diligence = rng.uniform(0.6, 0.95)
        if school_id == plants.lessons_short:
            diligence = 0.3  # planted: about half the lessons, even as delivery improves
        for y, school_year in enumerate(SCHOOL_YEARS):
            for term in (1, 2):
                for grade in _grades(stage):
                    planned = int(rng.choice([9, 10]))
                    rate = min(1.0, diligence + 0.05 * y) * (0.75 if grade in (9, 12) else 1.0)
                    rows.append(
                        {
                            "school_id": school_id,
                            "school_year": school_year,
                            "term": term,
                            "grade": grade,
                            "lessons_planned": planned,
                            "lessons_delivered": int(rng.binomial(planned, rate)),
                            "uses_district_materials": bool(rng.random() < 0.3 + 0.15 * y),
                        }
                    )
    return pd.DataFrame(rows)


def activities(
    schools: pd.DataFrame, stats: pd.DataFrame, rng: np.random.Generator, plants: Plants
) -> pd.DataFrame:
    """District lectures (monthly, a few missed), carnivals, parent classes, class meetings, clubs."""
    rows = []
    teachers = int(stats.groupby("school_year")["enrolment"].sum().mean() / 14)
    lecture_no = 0
    for y in range(N_YEARS):
        for month in (9, 10, 11, 12, 1, 2, 3, 4, 5, 6, 7):
            year = FIRST_YEAR + y + (month < 9)
            if month in (2, 7) or rng.random() < 0.08:  # holidays, and a few missed months
                continue
            if (SCHOOL_YEARS[y], month) == LECTURE_MISSED:
                continue
            lecture_no += 1
            rows.append(
                {
                    "held_on": _day(year, month, int(rng.integers(8, 26))),
                    "school_id": None,
                    "kind": "lecture",
                    "title": f"{_LECTURE}第{lecture_no}讲：{_LECTURE_TOPICS[lecture_no % len(_LECTURE_TOPICS)]}",
                    "attendance": int(teachers * rng.uniform(0.7, 0.95)),
                }
            )
        for month, day, theme in _CARNIVAL_DAYS:
            year = FIRST_YEAR + y + (month < 9)
            if (SCHOOL_YEARS[y], f"{month:02d}-{day:02d}") == EVENT_MISSED:
                continue
            rows.append(
                {
                    "held_on": _day(year, month, day),
                    "school_id": None,
                    "kind": "carnival",
                    "title": f"钟楼区示例积极品格心育嘉年华（{theme}）",
                    "attendance": int(rng.integers(800, 3000)),
                }
            )
        for school_id, size in stats[stats["school_year"] == SCHOOL_YEARS[y]][
            ["school_id", "enrolment"]
        ].itertuples(index=False):
            for _ in range(int(rng.integers(1, 5))):
                rows.append(
                    {
                        "held_on": _day(
                            FIRST_YEAR + y + 1, int(rng.integers(3, 7)), int(rng.integers(1, 29))
                        ),
                        "school_id": school_id,
                        "kind": "parent_class",
                        "title": "家长课堂：如何与孩子有效沟通",
                        "attendance": int(size * rng.uniform(0.1, 0.4)),
                    }
                )
            for month, day, theme in _CARNIVAL_DAYS:
                no_events = school_id == plants.no_events and SCHOOL_YEARS[y] == REPORT_YEAR
                if rng.random() < 0.5 and not no_events:
                    year = FIRST_YEAR + y + (month < 9)
                    rows.append(
                        {
                            "held_on": _day(year, month, day),
                            "school_id": school_id,
                            "kind": "carnival",
                            "title": f"校园心理游园会（{theme}）",
                            "attendance": int(size * rng.uniform(0.5, 0.9)),
                        }
                    )
            for _ in range(int(rng.integers(2, 6))):
                rows.append(
                    {
                        "held_on": _day(FIRST_YEAR + y, int(rng.integers(9, 13)), int(rng.integers(1, 29))),
                        "school_id": school_id,
                        "kind": "themed_meeting",
                        "title": f"主题班会：{_CLASS_MEETINGS[int(rng.integers(len(_CLASS_MEETINGS)))]}",
                        "attendance": int(size * rng.uniform(0.6, 1.0)),
                    }
                )
            if rng.random() < 0.4 + 0.1 * y:
                rows.append(
                    {
                        "held_on": _day(FIRST_YEAR + y, 10, int(rng.integers(1, 29))),
                        "school_id": school_id,
                        "kind": "club",
                        "title": _CLUBS[int(rng.integers(len(_CLUBS)))],
                        "attendance": int(rng.integers(15, 60)),
                    }
                )
        rows.append(
            {
                "held_on": _day(FIRST_YEAR + y, 8, int(rng.integers(20, 29))),
                "school_id": None,
                "kind": "training",
                "title": "心理健康教育教师暑期培训",
                "attendance": int(rng.integers(40, 90)),
            }
        )
    frame = pd.DataFrame(rows).sort_values(
        ["held_on", "kind", "title", "school_id"], na_position="first", ignore_index=True
    )
    frame.insert(0, "activity_id", [f"ACT{i + 1:05d}" for i in range(len(frame))])
    return frame


def funding(stats: pd.DataFrame, rng: np.random.Generator, plants: Plants) -> pd.DataFrame:
    """A base budget line per school and year, growing about 8 % a year (one school's cut, planted)."""
    year = stats["school_year"].map({y: i for i, y in enumerate(SCHOOL_YEARS)}).to_numpy()
    budget = (20_000 + 25.0 * stats["enrolment"].to_numpy()) * 1.08**year * rng.uniform(0.9, 1.1, len(stats))
    budget = pd.Series(budget, index=stats.index)
    school = stats["school_id"] == plants.funding_cut
    before = budget[school & (stats["school_year"] == SCHOOL_YEARS[SCHOOL_YEARS.index(REPORT_YEAR) - 1])]
    budget[school & (stats["school_year"] == REPORT_YEAR)] = before.iloc[0] * 0.85
    budget = np.round(budget.to_numpy(), -2)
    return pd.DataFrame(
        {
            "school_id": stats["school_id"],
            "school_year": stats["school_year"],
            "budget_yuan": budget,
            "spent_yuan": np.round(budget * rng.uniform(0.8, 1.0, len(stats)), 0),
        }
    )


def consent(student_frame: pd.DataFrame, enrol: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Guardian consent to screening: granted in the first September, refused or withdrawn by a few."""
    first_year = enrol.groupby("student")["year"].min().reindex(range(len(student_frame))).to_numpy()
    n = len(student_frame)
    granted = pd.to_datetime([f"{FIRST_YEAR + y}-09-01" for y in first_year]) + pd.to_timedelta(
        rng.integers(0, 15, n), unit="D"
    )
    agrees = rng.random(n) >= 0.012
    withdraws = agrees & (rng.random(n) < 0.004)
    withdrawn = granted + pd.to_timedelta(rng.integers(60, 900, n), unit="D")
    return pd.DataFrame(
        {
            "pid": student_frame["pid"],
            "purpose": "screening",
            "guardian_consent": agrees,
            "granted_on": granted,
            "scope": "年度心理健康普测及分类建档",
            "withdrawn_on": pd.Series(withdrawn).where(withdraws, pd.NaT),
        }
    )


DEMO_RESEARCH_PROJECT = "growth-cohort"
"""The demo district's research project (consent purpose ``research:growth-cohort``)."""
RESEARCH_CONSENT_SHARE = 0.65
_RESEARCH_FROM = 2  # the project asks from the school year 2023-2024 on


def research_consent(
    screening_consent: pd.DataFrame, enrol: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """Guardian consent to the demo research project, asked from 2023-2024 of every student enrolled then.

    Asked in the student's first September of the project (a separate consent for a specific purpose,
    PIPL Art. 29); about two guardians in three agree — a plausible share for opt-in consent to school
    research, not a measured one — among those who agreed to screening; about 2 % withdraw later.
    """
    present = enrol[enrol["year"] >= _RESEARCH_FROM].groupby("student")["year"].min()
    asked = present.index.to_numpy()
    screened = screening_consent["guardian_consent"].to_numpy()[asked]
    n = len(asked)
    granted = pd.to_datetime([f"{FIRST_YEAR + y}-09-15" for y in present.to_numpy()]) + pd.to_timedelta(
        rng.integers(0, 20, n), unit="D"
    )
    agrees = screened & (rng.random(n) < RESEARCH_CONSENT_SHARE)
    withdraws = agrees & (rng.random(n) < 0.02)
    withdrawn = granted + pd.to_timedelta(rng.integers(30, 700, n), unit="D")
    return pd.DataFrame(
        {
            "pid": screening_consent["pid"].to_numpy()[asked],
            "purpose": f"research:{DEMO_RESEARCH_PROJECT}",
            "guardian_consent": agrees,
            "granted_on": granted,
            "scope": "江苏理工学院·区未成年人成长指导中心 学生心理健康追踪研究（去标识化数据）",
            "withdrawn_on": pd.Series(withdrawn).where(withdraws, pd.NaT),
        }
    )
