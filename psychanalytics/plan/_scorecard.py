"""The year-end supervision scorecard: the plan's five checks per school, with evidence and what is missing."""

from __future__ import annotations

import pandas as pd

CHECKS: dict[str, tuple[str, str]] = {
    "structure": ("组织机构到位", "structure in place"),
    "psychology_work": ("心理教师专岗专用", "psychology teachers do psychology work"),
    "courses": ("课程开齐开足", "courses offered in full"),
    "counselling": ("心理辅导常态化", "counselling runs regularly"),
    "development": ("教师专业发展", "teachers' professional development"),
}
"""The five year-end checks of the plan's supervision (docs/policy.md §1, safeguards), in its order."""

CHECK_STATUS = {"pass": "达标", "fail": "未达标", "no_data": "缺数据"}

PART_TIME_CERTIFIED_SHARE = 0.5
"""Share of part-time psychology teachers with a 心理健康教育 certificate the development check asks for
(uncertain: the plan names professional development without a number; configurable)."""


def _row(school_year, school_id, check, passed, evidence, missing):
    """``missing`` items are sentences, or (short, detailed) pairs where the detail is long (a list of months)."""
    status = "no_data" if passed is None else ("pass" if passed else "fail")
    short = [m[0] if isinstance(m, tuple) else m for m in missing]
    detail = [m[1] if isinstance(m, tuple) else m for m in missing]
    return {
        "school_year": school_year,
        "school_id": school_id,
        "check": check,
        "name_zh": CHECKS[check][0],
        "status": status,
        "status_zh": CHECK_STATUS[status],
        "evidence": "；".join(evidence),
        "missing": "；".join(detail),
        "missing_short": "；".join(short),
    }


def _get(frame: pd.DataFrame, school_year: str, school_id: str) -> pd.Series | None:
    hit = frame[(frame["school_year"] == school_year) & (frame["school_id"] == school_id)]
    return None if hit.empty else hit.iloc[0]


def _structure(gov, staff, room):
    if gov is None or pd.isna(gov["leadership_group"]):
        return None, [], ["未报送领导小组情况"]
    evidence, missing = [], []
    parts = [
        (bool(gov["leadership_group"]), "有心理健康教育领导小组", "未成立领导小组"),
        (bool(gov["meeting_held"]) if pd.notna(gov["meeting_held"]) else False,
         f"召开专题会 {gov['meetings']} 次" if pd.notna(gov["meetings"]) else "", "本年未召开专题会"),
        (bool(gov["three_year_plan"]) if pd.notna(gov["three_year_plan"]) else False, "有三年规划", "无三年规划"),
        (staff is not None and staff["teachers"] > 0,
         f"心理教师 {staff['teachers']:.0f} 名（专职 {staff['full_time']} 名）" if staff is not None else "", "无心理教师"),
        (room is not None and bool(room["has_room"]), "设有心理辅导室", "无心理辅导室"),
    ]  # fmt: skip
    for ok, yes, no in parts:
        (evidence if ok else missing).append(yes if ok else no)
    return not missing, evidence, missing


def _psychology_work(staff):
    if staff is None:
        return None, [], ["未报送师资"]
    full, working, unknown = staff["full_time"], staff["full_time_in_role"], staff["full_time_role_unknown"]
    if full == 0:
        return False, [], ["无专职心理教师"]
    evidence = [f"专职 {full} 名，其中 {working} 名从事心理健康教育工作"]
    missing = []
    if full - working - unknown:
        missing.append(f"{full - working - unknown} 名专职教师未从事心理健康教育工作")
    if unknown:
        missing.append(f"{unknown} 名专职教师工作内容未报送")
    return not missing, evidence, missing


def _courses(lessons):
    if lessons is None:
        return None, [], ["未报送课时"]
    evidence = [
        f"应开 {lessons['lessons_required']} 课时，实开 {lessons['lessons_delivered']} 课时；"
        f"{lessons['count']}/{lessons['n']} 个年级学期开足"
    ]
    short = lessons["n"] - lessons["count"]
    missing = [(f"{short} 个年级学期未开足", f"未开足：{lessons['short_zh']}")] if short else []
    return not missing, evidence, missing


def _counselling(room, counselling, min_hours):
    if room is None or counselling is None:
        return None, [], ["未报送辅导室或辅导记录"]
    evidence, missing = [], []
    hours = room["open_hours_week"]
    if pd.notna(hours) and hours >= min_hours:
        evidence.append(f"辅导室每周开放 {hours:.0f} 小时")
    else:
        missing.append(
            f"辅导室开放时间不足每周 {min_hours:.0f} 小时" if pd.notna(hours) else "开放时间未报送"
        )
    for column, name in (("rule_duty", "值班制度"), ("rule_appointment", "预约制度")):
        (evidence if room[column] else missing).append(f"有{name}" if room[column] else f"无{name}")
    evidence.append(f"{counselling['n']} 个教学月中 {counselling['count']} 个月有辅导记录")
    if counselling["missing_zh"]:
        months = counselling["n"] - counselling["count"]
        missing.append((f"{months} 个教学月无辅导记录", f"无辅导记录的月份：{counselling['missing_zh']}"))
    return not missing, evidence, missing


def _development(staff, part_time_share):
    if staff is None:
        return None, [], ["未报送师资"]
    evidence, missing = [], []
    full, qualified = staff["full_time"], staff["full_time_qualified"]
    if full:
        evidence.append(f"专职 {full} 名中 {qualified} 名有心理学学历或心理健康教育资格证")
        if qualified < full:
            missing.append(f"{full - qualified} 名专职教师无相关学历或证书")
    part, certified = staff["part_time"], staff["part_time_certified"]
    if part:
        evidence.append(f"兼职 {part} 名中 {certified} 名持证")
        if certified < part_time_share * part:
            missing.append(f"兼职教师持证不足 {part_time_share:.0%}")
    if not full and not part:
        missing.append("无心理教师")
    return not missing, evidence, missing


def scorecard(
    *,
    school_year: str,
    schools: pd.Series,
    profile: pd.DataFrame,
    rooms: pd.DataFrame,
    lessons: pd.DataFrame,
    counselling: pd.DataFrame,
    governance: pd.DataFrame,
    min_open_hours_week: float,
    part_time_certified_share: float = PART_TIME_CERTIFIED_SHARE,
) -> pd.DataFrame:
    """The five supervision checks for every school in ``school_year``, from data.

    Each check passes when every condition below holds, and says on what evidence and what is missing:

    1. **structure** — a leadership group, at least one leadership meeting, a three-year plan, at least
       one psychology teacher and a counselling room;
    2. **psychology_work** — at least one full-time teacher, every one recorded as doing psychology work;
    3. **courses** — every grade-term given its lessons in full (:func:`psychanalytics.activities.lesson_delivery`);
    4. **counselling** — the room open at least ``min_open_hours_week``, duty and appointment rules, a
       session recorded in every teaching month (:func:`psychanalytics.activities.counselling_regularity`);
    5. **development** — every full-time teacher with a psychology degree or certificate, at least
       ``part_time_certified_share`` of part-timers certified.

    A check without its data is ``no_data``, never passed.

    Parameters
    ----------
    school_year : str
    schools : pandas.Series
        The school ids to score, in order.
    profile, rooms, lessons, counselling, governance : pandas.DataFrame
        :func:`psychanalytics.staffing.profile` (with the staff counts),
        :func:`psychanalytics.store.queries.facilities.room_records`,
        :func:`~psychanalytics.activities.lesson_delivery`,
        :func:`~psychanalytics.activities.counselling_regularity`,
        :func:`~psychanalytics.activities.governance` (all years; the year is picked here).
    min_open_hours_week : float
        The opening-hours floor (the room rule's ``min_hours_week``).
    part_time_certified_share : float
        :data:`PART_TIME_CERTIFIED_SHARE` (uncertain: configurable).

    Returns
    -------
    pandas.DataFrame
        One row per school and check (checks in :data:`CHECKS` order): ``school_year, school_id,
        check, name_zh, status`` (``pass``, ``fail``, ``no_data``), ``status_zh, evidence, missing``
        (Chinese sentences joined by 「；」; no student and no teacher is named).
    """
    rows = []
    for school_id in schools:
        staff = _get(profile, school_year, school_id)
        room = _get(rooms, school_year, school_id)
        results = {
            "structure": _structure(_get(governance, school_year, school_id), staff, room),
            "psychology_work": _psychology_work(staff),
            "courses": _courses(_get(lessons, school_year, school_id)),
            "counselling": _counselling(room, _get(counselling, school_year, school_id), min_open_hours_week),
            "development": _development(staff, part_time_certified_share),
        }
        rows += [_row(school_year, school_id, check, *results[check]) for check in CHECKS]
    return pd.DataFrame(rows)
