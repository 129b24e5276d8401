"""Writers of the sample export files, in the shapes schools and platforms really send.

Each writer takes the frames read from a demo database (:mod:`psychanalytics.synth.exports`)
and an output folder, and writes its file(s) there; nothing here touches a database.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from psychanalytics import instruments
from psychanalytics._rules import school_years_of
from psychanalytics.store import schema

_GRADE_NAMES = {7: "初一", 8: "初二", 9: "初三", 10: "高一", 11: "高二", 12: "高三"}
_GENDER = {"F": "女", "M": "男"}
_YES_NO = {True: "是", False: "否"}
_ACTIVITY_KINDS = {
    "lecture": "讲座",
    "parent_class": "家长课堂",
    "carnival": "嘉年华",
    "themed_meeting": "主题班会",
    "club": "社团",
    "training": "培训",
}
_CRISIS_STAGES = {
    "raised": "发现",
    "confirmed": "确认",
    "intervention": "干预",
    "referred": "转介",
    "closed": "结案",
}
_CRISIS_LEVELS = {"class": "班级", "school": "学校", "society": "社会"}
_CRISIS_SOURCES = {
    "screening": "普测",
    "head_teacher": "班主任",
    "teacher": "任课教师",
    "class_committee": "心理委员",
    "self_referral": "主动求助",
    "parent": "家长",
    "peer": "同学",
    "observation": "观察",
}

_STAFF_HEADER = "工号 学校 学年 专兼职 心理学专业 证书 实际从事心理工作 周课时".split()
_ROOMS_HEADER = (
    "学校 学年 个别辅导室 团体活动室 办公接待区 心理信箱 值班制度 预约制度 辅导制度 档案建设制度 档案移交制度"
    " 面积 每周开放时长 年检日期 年检合格"
).split()
_ACTIVITIES_HEADER = "活动编号 日期 学校 活动类型 活动名称 参与人数".split()
_INTERVENTIONS_HEADER = (
    "项目编号 项目名称 干预类型 学校 学年 量表 维度 计划次数 开始日期 结束日期 学籍号 姓名 组别 出勤次数"
    " 前测 后测 前测日期 后测日期"
).split()
_CRISIS_HEADER = "个案编号 学籍号 姓名 学校 来源 严重程度 预警等级 普测批次 序号 阶段 层级 时间".split()
_LESSONS_HEADER = "学校 学年 学期 年级 计划课时 实际课时 使用区本教材".split()
_FUNDING_HEADER = "学校 学年 经费预算（元） 实际支出（元）".split()
_SCHOOL_STATS_HEADER = (
    "学校 学年 在校生数 班级数 住校生数 心理健康教育领导小组 专题会次数 三年规划 市特色校 全体教师数 导师数"
    " 设有心理委员的班级数"
).split()
_COUNSELLING_HEADER = "记录编号 学籍号 姓名 学校 辅导日期 辅导类型 时长（分钟）".split()
_STATS_COLUMNS = tuple(c.name for c in schema.school_year_stats.c)[2:]
"""The columns of ``school_year_stats`` after its key, in the order of :data:`_SCHOOL_STATS_HEADER`."""
_STATS_FLAGS = {c for c in _STATS_COLUMNS if isinstance(schema.school_year_stats.c[c].type, sa.Boolean)}
_TERMS = {1: "第一学期", 2: "第二学期"}
_COUNSELLING_KINDS = {"individual": "个别辅导", "group": "团体辅导", "referral": "转介"}

# (data row, column, value written over the sheet's, the reason the importer must give)
_PHQ9_ERRORS = (
    (1, 8 + 2, "5", "out_of_range"),  # Q3
    (2, 8 + 0, "x", "unknown_option"),  # Q1
    (4, 4, "火星中学", "unknown_school"),
    (5, 5, "15", "impossible_grade"),
    (6, 3, "3", "impossible_age"),
    (7, 2, "未知", "bad_gender"),
    (8, 0, "", "missing_required"),  # 学籍号
)


def graduation_class(school_year: str, grade: int) -> int:
    """届 as schools write it: the year a student in ``grade`` finishes the current stage.

    >>> graduation_class("2025-2026", 7), graduation_class("2025-2026", 12)
    (2028, 2026)
    """
    last = 6 if grade <= 6 else 9 if grade <= 9 else 12
    return int(school_year[:4]) + (last - grade) + 1


def _grade_text(grade: int) -> str:
    return _GRADE_NAMES.get(grade, f"{grade}年级")


def _class_text(grade: int, class_no: int) -> str:
    return f"{_grade_text(grade)}({class_no})班"


def _duration(seconds) -> str:
    if pd.isna(seconds):
        return ""
    minutes, sec = divmod(int(seconds), 60)
    return f"{minutes}分{sec}秒"


def _number(value) -> str:
    if pd.isna(value):
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _text(value) -> str:
    return "" if value is None or pd.isna(value) else str(value)


def _opt_bool(value) -> str:
    return "" if value is None or pd.isna(value) else _YES_NO[bool(value)]


def _items(blob: bytes) -> list[str]:
    return ["" if v < 0 else str(v) for v in np.frombuffer(blob, dtype=np.int8)]


def _write_csv(
    path: Path, header: list[str], rows: list[list], *, encoding: str, newline: str = "\r\n"
) -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh, lineterminator=newline)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _write_xlsx(path: Path, sheet: str, header: list[str], rows: list[list]) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(header)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def _school_names(f: dict) -> pd.Series:
    return f["schools"].set_index("school_id")["name"]


def screening_rows(f: dict, wave: str, school_year: str, instrument: str, school_id: str) -> pd.DataFrame:
    """Sheets of one school in one wave with their enrolment and the student's 学籍号 and name."""
    enrol = f["enrol"][(f["enrol"]["school_year"] == school_year) & (f["enrol"]["school_id"] == school_id)]
    resp = f["responses"][(f["responses"]["wave_id"] == wave) & (f["responses"]["instrument"] == instrument)]
    rows = resp.merge(enrol, on="pid").sort_values(["grade", "class_no", "pid"], ignore_index=True)
    return rows.join(f["people"], on="pid", how="inner")  # students of the synthetic population only


def mht_gbk(f: dict, out: Path) -> Path:
    """GBK, CRLF, Chinese headers, ``1.题干`` item columns, 用时 as ``5分25秒``, classes as ``初一(3)班``."""
    school = _school_names(f)
    rows = screening_rows(f, "2025-autumn", "2025-2026", "mht", "SYN005")
    header = ["序号", "学校名称", "年级", "班级", "学籍号", "学生姓名", "性别", "年龄", "作答用时"]
    header += [f"{i}.题干（从略）" for i in range(1, 101)]
    body = [
        [
            n + 1,
            school[r.school_id],
            _grade_text(r.grade),
            _class_text(r.grade, r.class_no),
            r.student_number,
            r.name,
            _GENDER[r.gender],
            2025 - r.birth_year,
            _duration(r.seconds),
            *_items(r.items),
        ]
        for n, r in enumerate(rows.itertuples())
    ]
    return _write_csv(out / "mht_2025-autumn_gbk.csv", header, body, encoding="gbk")


def roster_xlsx(f: dict, out: Path) -> Path:
    """XLSX roster: 学籍号 as text, 学生姓名, 出生年份, 届, 班级名称."""
    school = _school_names(f)
    enrol = f["enrol"][
        (f["enrol"]["school_year"] == "2025-2026") & f["enrol"]["school_id"].isin(["SYN001", "SYN006"])
    ]
    rows = enrol.join(f["people"], on="pid").sort_values(["school_id", "grade", "class_no", "student_number"])
    header = ["学籍号", "学生姓名", "性别", "出生年份", "届", "学校名称", "年级", "班级名称", "住校", "学年"]
    body = [
        [
            r.student_number,
            r.name,
            _GENDER[r.gender],
            int(r.birth_year),
            f"{graduation_class('2025-2026', r.grade)}届",
            school[r.school_id],
            _grade_text(r.grade),
            f"{r.class_no}班",
            _YES_NO[bool(r.boarder)],
            "2025-2026",
        ]
        for r in rows.itertuples()
    ]
    return _write_xlsx(out / "roster_2025-2026.xlsx", "学生名册", header, body)


def mht_summary(f: dict, out: Path) -> Path:
    """UTF-8 with BOM, summary only: 总分 and the dimension columns."""
    spec = instruments.get("mht")
    names = {s.code: s.name_zh for s in spec.scales}
    scores = f["scores"][f["scores"]["wave_id"] == "2024-autumn"]
    wide = scores.pivot(index="pid", columns="scale", values="raw")
    scales = [s for s in spec.scale_codes if s in wide.columns and s != "total"]
    rows = screening_rows(f, "2024-autumn", "2024-2025", "mht", "SYN007").join(wide, on="pid")
    header = ["学籍号", "姓名", "学校", "年级", "班级", "总分", *(names[s] for s in scales)]
    body = [
        [
            r["student_number"],
            r["name"],
            r["school_id"],
            r["grade"],
            r["class_no"],
            _number(r["total"]),
            *(_number(r[s]) for s in scales),
        ]
        for _, r in rows.iterrows()
    ]
    return _write_csv(out / "mht_summary_2024-autumn.csv", header, body, encoding="utf-8-sig")


def phq9_errors(f: dict, out: Path, *, school_id: str = "SYN008") -> tuple[Path, Path]:
    """UTF-8, ``Q1`` headers, one deliberate error per marked line, and the manifest listing them."""
    school = _school_names(f)
    rows = screening_rows(f, "2025-autumn", "2025-2026", "phq9", school_id).head(40)
    header = ["学籍号", "姓\u200b名", "性别", "年龄", "学校", "年级", "班级", "用时"] + [
        f"Q{i}" for i in range(1, 10)
    ]

    def line(r) -> list[str]:
        seconds = "" if pd.isna(r.seconds) else f"00:{int(r.seconds) // 60:02d}:{int(r.seconds) % 60:02d}"
        return [
            r.student_number,
            r.name,
            _GENDER[r.gender],
            str(2025 - r.birth_year),
            school[r.school_id],
            str(r.grade),
            str(r.class_no),
            seconds,
            *_items(r.items),
        ]

    body = [line(r) for r in rows.itertuples()]
    expected: dict[int, list[str]] = {}  # file line (the header is line 1) -> reasons
    for i, column, value, reason in _PHQ9_ERRORS:
        body[i][column] = value
        expected[i + 2] = [reason]
    body[3] = body[3][:-1]
    expected[3 + 2] = ["short_row"]
    body[9][1] = "NA"
    body[10][1] = "\u3000李\u200b四\u3000"
    body.append(["00123", "王小明", "男", "13", school[school_id], "7", "2", "00:03:12", *["0"] * 9])
    body.append(list(body[11]))
    changed = list(body[12])
    changed[8] = "3" if changed[8] != "3" else "2"
    body.append(changed)
    expected[len(body) + 1] = ["duplicate_key"]
    body.append([])
    path = _write_csv(out / "phq9_2025-autumn_errors.csv", header, body, encoding="utf-8", newline="\n")
    manifest = {
        "file": path.name,
        "rows_read": len(body) - 1,
        "duplicates": 1,
        "blank_lines": 1,
        "quarantined_lines": {str(k): v for k, v in sorted(expected.items())},
        "notes": {
            "name NA": f"line {9 + 2} is a student named NA: stored, not treated as missing",
            "spaces": f"line {10 + 2} has full-width and zero-width spaces around the name; header 姓名 too",
            "leading zeros": "学籍号 00123 is a new student: pid of '00123', not of '123'",
            "exact duplicate": f"line {len(body) - 2} repeats line {11 + 2} exactly",
        },
    }
    target = out / "phq9_2025-autumn_errors.expected.json"
    target.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path, target


def _staff_row(r, school: pd.Series) -> list:
    return [
        r.staff_id,
        school[r.school_id],
        r.school_year,
        "专职" if r.employment == "full_time" else "兼职",
        _opt_bool(r.psychology_degree),
        _text(r.certificate),
        _opt_bool(r.does_psychology_work),
        _number(r.weekly_hours),
    ]


def _room_row(r, school: pd.Series) -> list:
    return [
        school[r.school_id],
        r.school_year,
        *(_opt_bool(getattr(r, k)) for k in schema.ROOM_REQUIREMENTS),
        _number(r.area_m2),
        _number(r.open_hours_week),
        _text(r.inspected_on),
        _opt_bool(r.inspection_passed),
    ]


def _activity_row(r, school: pd.Series) -> list:
    where = "" if pd.isna(r.school_id) else school[r.school_id]
    return [r.activity_id, r.held_on, where, _ACTIVITY_KINDS[r.kind], r.title, _number(r.attendance)]


def _participant_row(r, school: pd.Series) -> list:
    programme = [
        r.intervention_id,
        r.title,
        r.kind,
        school[r.school_id],
        r.school_year,
        r.instrument,
        r.scale,
    ]
    programme += [r.sessions_planned, r.start_on, r.end_on]
    arm = "实验组" if r.arm == "treatment" else "对照组"
    tests = [_number(r.pre_score), _number(r.post_score), _text(r.pre_on), _text(r.post_on)]
    return [*programme, r.student_number, r.name, arm, _number(r.sessions_attended), *tests]


def _crisis_event_row(r, school: pd.Series) -> list:
    case = [r.case_id, r.student_number, r.name, school[r.school_id], _CRISIS_SOURCES[r.source], r.severity]
    case += [_text(r.local_label), _text(r.wave_id)]
    event = [r.seq, _CRISIS_STAGES[r.stage], _CRISIS_LEVELS[r.level], str(r.occurred_at)[:19]]
    return [*case, *event]


def other_kinds(f: dict, out: Path) -> list[Path]:
    """UTF-8 files with Chinese headers: staff and rooms of 2025-2026, activities from September 2025,
    every intervention participant, and the events of the last 60 crisis cases."""
    school = _school_names(f)
    cases = f["crisis"].join(f["people"], on="pid")
    files = (
        ("staff.csv", _STAFF_HEADER, f["staff"][f["staff"]["school_year"] == "2025-2026"], _staff_row),
        ("rooms.csv", _ROOMS_HEADER, f["rooms"][f["rooms"]["school_year"] == "2025-2026"], _room_row),
        (
            "activities.csv",
            _ACTIVITIES_HEADER,
            f["activities"][f["activities"]["held_on"] >= dt.date(2025, 9, 1)],
            _activity_row,
        ),
        (
            "interventions.csv",
            _INTERVENTIONS_HEADER,
            f["interventions"].join(f["people"], on="pid"),
            _participant_row,
        ),
        (
            "crisis.csv",
            _CRISIS_HEADER,
            cases[cases["case_id"].isin(cases["case_id"].drop_duplicates().tail(60))],
            _crisis_event_row,
        ),
    )
    return [
        _write_csv(out / name, header, [row(r, school) for r in frame.itertuples()], encoding="utf-8")
        for name, header, frame, row in files
    ]


def _count(value):
    """A count as a spreadsheet cell: a whole number, or empty."""
    return None if pd.isna(value) else int(value)


def _cell_bool(value):
    return _opt_bool(value) or None


def _lesson_row(r, school: pd.Series) -> list:
    row = [school[r.school_id], r.school_year, _TERMS[r.term], _grade_text(r.grade)]
    return [*row, r.lessons_planned, r.lessons_delivered, _cell_bool(r.uses_district_materials)]


def _funding_row(r, school: pd.Series) -> list:
    spent = None if pd.isna(r.spent_yuan) else r.spent_yuan
    return [school[r.school_id], r.school_year, r.budget_yuan, spent]


def _school_stats_row(r, school: pd.Series) -> list:
    cells = [
        _cell_bool(getattr(r, c)) if c in _STATS_FLAGS else _count(getattr(r, c)) for c in _STATS_COLUMNS
    ]
    return [school[r.school_id], r.school_year, *cells]


def _session_row(r, school: pd.Series) -> list:
    student = [r.session_id, r.student_number, r.name, school[r.school_id]]
    return [*student, r.held_on, _COUNSELLING_KINDS[r.kind], _count(r.minutes)]


def ledgers(f: dict, out: Path, school_years: tuple[str, ...]) -> list[Path]:
    """XLSX ledgers (台账) with Chinese headers, as schools send them, of the ``school_years`` given:
    心理健康课课时, 经费, 学校年度情况 and 心理辅导记录 (学籍号 and 姓名 from the population)."""
    school = _school_names(f)
    sessions = f["counselling"].join(f["people"], on="pid")
    files = (
        ("lessons", "心理健康课课时台账", _LESSONS_HEADER, f["lessons"], _lesson_row),
        ("funding", "经费", _FUNDING_HEADER, f["funding"], _funding_row),
        ("school_stats", "学校年度情况", _SCHOOL_STATS_HEADER, f["school_stats"], _school_stats_row),
        ("counselling", "心理辅导记录", _COUNSELLING_HEADER, sessions, _session_row),
    )
    years = "_".join(school_years)
    return [
        _write_xlsx(
            out / f"{name}_{years}.xlsx",
            sheet,
            header,
            [row(r, school) for r in _of_years(frame, school_years).itertuples()],
        )
        for name, sheet, header, frame, row in files
    ]


def _of_years(frame: pd.DataFrame, school_years: tuple[str, ...]) -> pd.DataFrame:
    """The rows of ``school_years``: by their 学年, or by the school year of their date."""
    years = frame["school_year"] if "school_year" in frame else school_years_of(frame["held_on"])
    return frame[years.isin(school_years).to_numpy()]
