"""Sample export files in the shapes schools and platforms really send, written from the demo district.

The files are built from :func:`psychanalytics.synth.build_demo` (same ``seed``
and ``students``) joined with :func:`psychanalytics.synth.population`, so that
importing them with :data:`psychanalytics.synth.DEMO_KEY` (written as
``demo.key`` next to them) lands on the demo district's pids. Every name and
学籍号 is synthetic.

======================================  =============================================================
file                                    shape
======================================  =============================================================
``mht_2025-autumn_gbk.csv``             GBK, CRLF, Chinese headers, ``1.题干`` item columns, 用时 as
                                        ``5分25秒``, classes as ``初一(3)班``
``roster_2025-2026.xlsx``               XLSX roster: 学籍号 as text, 学生姓名, 出生年份, 届, 班级名称
``mht_summary_2024-autumn.csv``         UTF-8 with BOM, summary only: 总分 and dimension columns
``phq9_2025-autumn_errors.csv``         UTF-8, ``Q1`` headers, one deliberate error per marked line
                                        (listed in ``phq9_2025-autumn_errors.expected.json``)
``staff.csv`` ``rooms.csv``             UTF-8 with Chinese headers, one file per remaining kind
``activities.csv``
``interventions.csv`` ``crisis.csv``
======================================  =============================================================

Run ``python -m psychanalytics.ingest.samples data/samples`` to rewrite them.
"""

from __future__ import annotations

import csv
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from psychanalytics.ingest._parse import graduation_class
from psychanalytics.store import schema

SEED = 7
STUDENTS = 3_000
"""The demo district the samples come from (the test suite's ``demo_db``: ``psychanalytics demo --seed 7
--students 3000``)."""

_GRADE_NAMES = {7: "初一", 8: "初二", 9: "初三", 10: "高一", 11: "高二", 12: "高三"}
_GENDER = {"F": "女", "M": "男"}
_YES_NO = {True: "是", False: "否"}


def _grade_text(grade: int) -> str:
    return _GRADE_NAMES.get(grade, f"{grade}年级")


def _class_text(grade: int, class_no: int) -> str:
    return f"{_grade_text(grade)}({class_no})班"


def _duration(seconds) -> str:
    if pd.isna(seconds):
        return ""
    minutes, sec = divmod(int(seconds), 60)
    return f"{minutes}分{sec}秒"


def _write_csv(
    path: Path, header: list[str], rows: list[list], *, encoding: str, newline: str = "\r\n"
) -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh, lineterminator=newline)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _items(blob: bytes) -> list[str]:
    return ["" if v < 0 else str(v) for v in np.frombuffer(blob, dtype=np.int8)]


def _query(engine: sa.Engine, sql: str, **params) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql_query(sa.text(sql), conn, params=params)


def _screening_frames(engine: sa.Engine, people: pd.DataFrame, **where) -> dict[str, pd.DataFrame]:
    """Schools, enrolments and responses (optionally of one ``wave_id`` and ``instrument``) with people."""
    responses = "SELECT wave_id, pid, instrument, items, seconds FROM response"
    if where:
        responses += " WHERE wave_id = :wave_id AND instrument = :instrument"
    return {
        "schools": _query(engine, "SELECT school_id, name FROM school ORDER BY school_id"),
        "enrol": _query(engine, "SELECT * FROM enrolment"),
        "responses": _query(engine, responses, **where),
        "people": people.set_index("pid"),
    }


def _frames(engine: sa.Engine, people: pd.DataFrame) -> dict[str, pd.DataFrame]:
    def q(sql: str) -> pd.DataFrame:
        return _query(engine, sql)

    out = {
        **_screening_frames(engine, people),
        "scores": q("SELECT wave_id, pid, instrument, scale, raw FROM score WHERE instrument = 'mht'"),
        "staff": q("SELECT * FROM staff ORDER BY school_year, staff_id"),
        "rooms": q("SELECT * FROM room ORDER BY school_year, school_id"),
        "activities": q("SELECT * FROM activity ORDER BY activity_id"),
        "interventions": q(
            "SELECT * FROM intervention i JOIN participant p USING (intervention_id)"
            " ORDER BY intervention_id, p.pid"
        ),
        "crisis": q("SELECT * FROM crisis_case c JOIN crisis_event e USING (case_id) ORDER BY case_id, seq"),
    }
    return out


def _screening_rows(f: dict, wave: str, school_year: str, instrument: str, school_id: str) -> pd.DataFrame:
    enrol = f["enrol"][(f["enrol"]["school_year"] == school_year) & (f["enrol"]["school_id"] == school_id)]
    resp = f["responses"][(f["responses"]["wave_id"] == wave) & (f["responses"]["instrument"] == instrument)]
    rows = resp.merge(enrol, on="pid").sort_values(["grade", "class_no", "pid"], ignore_index=True)
    return rows.join(f["people"], on="pid", how="inner")  # students of the synthetic population only


def _mht_gbk(f: dict, out: Path) -> Path:
    school = f["schools"].set_index("school_id")["name"]
    rows = _screening_rows(f, "2025-autumn", "2025-2026", "mht", "SYN005")
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


def _roster_xlsx(f: dict, out: Path) -> Path:
    from openpyxl import Workbook

    school = f["schools"].set_index("school_id")["name"]
    enrol = f["enrol"][
        (f["enrol"]["school_year"] == "2025-2026") & f["enrol"]["school_id"].isin(["SYN001", "SYN006"])
    ]
    rows = enrol.join(f["people"], on="pid").sort_values(["school_id", "grade", "class_no", "student_number"])
    wb = Workbook()
    ws = wb.active
    ws.title = "学生名册"
    ws.append(
        ["学籍号", "学生姓名", "性别", "出生年份", "届", "学校名称", "年级", "班级名称", "住校", "学年"]
    )
    for r in rows.itertuples():
        ws.append(
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
        )
    path = out / "roster_2025-2026.xlsx"
    wb.save(path)
    return path


def _mht_summary(f: dict, out: Path) -> Path:
    from psychanalytics import instruments

    spec = instruments.get("mht")
    names = {s.code: s.name_zh for s in spec.scales}
    scores = f["scores"][f["scores"]["wave_id"] == "2024-autumn"]
    wide = scores.pivot(index="pid", columns="scale", values="raw")
    scales = [s for s in spec.scale_codes if s in wide.columns and s != "total"]
    rows = _screening_rows(f, "2024-autumn", "2024-2025", "mht", "SYN007").join(wide, on="pid")
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


def _number(value) -> str:
    if pd.isna(value):
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _phq9_errors(f: dict, out: Path, *, school_id: str = "SYN008") -> tuple[Path, Path]:
    school = f["schools"].set_index("school_id")["name"]
    rows = _screening_rows(f, "2025-autumn", "2025-2026", "phq9", school_id).head(40)
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
    expected: dict[int, list[str]] = {}

    def mark(i: int, reason: str) -> None:
        expected[i + 2] = [reason]

    body[1][8 + 2] = "5"
    mark(1, "out_of_range")
    body[2][8 + 0] = "x"
    mark(2, "unknown_option")
    body[3] = body[3][:-1]
    mark(3, "short_row")
    body[4][4] = "火星中学"
    mark(4, "unknown_school")
    body[5][5] = "15"
    mark(5, "impossible_grade")
    body[6][3] = "3"
    mark(6, "impossible_age")
    body[7][2] = "未知"
    mark(7, "bad_gender")
    body[8][0] = ""
    mark(8, "missing_required")
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


def _other_kinds(f: dict, out: Path) -> list[Path]:
    school = f["schools"].set_index("school_id")["name"]
    people = f["people"]
    paths = []
    staff = f["staff"][f["staff"]["school_year"] == "2025-2026"]
    paths.append(
        _write_csv(
            out / "staff.csv",
            ["工号", "学校", "学年", "专兼职", "心理学专业", "证书", "实际从事心理工作", "周课时"],
            [
                [
                    r.staff_id,
                    school[r.school_id],
                    r.school_year,
                    "专职" if r.employment == "full_time" else "兼职",
                    _opt_bool(r.psychology_degree),
                    "" if pd.isna(r.certificate) else r.certificate,
                    _opt_bool(r.does_psychology_work),
                    _number(r.weekly_hours),
                ]
                for r in staff.itertuples()
            ],
            encoding="utf-8",
        )
    )
    rooms = f["rooms"][f["rooms"]["school_year"] == "2025-2026"]
    flags = list(schema.ROOM_REQUIREMENTS)
    paths.append(
        _write_csv(
            out / "rooms.csv",
            [
                "学校",
                "学年",
                "个别辅导室",
                "团体活动室",
                "办公接待区",
                "心理信箱",
                "值班制度",
                "预约制度",
                "辅导制度",
                "档案建设制度",
                "档案移交制度",
                "面积",
                "每周开放时长",
                "年检日期",
                "年检合格",
            ],
            [
                [
                    school[r["school_id"]],
                    r["school_year"],
                    *(_opt_bool(r[k]) for k in flags),
                    _number(r["area_m2"]),
                    _number(r["open_hours_week"]),
                    _text(r["inspected_on"]),
                    _opt_bool(r["inspection_passed"]),
                ]
                for _, r in rooms.iterrows()
            ],
            encoding="utf-8",
        )
    )
    kinds = {
        "lecture": "讲座",
        "parent_class": "家长课堂",
        "carnival": "嘉年华",
        "themed_meeting": "主题班会",
        "club": "社团",
        "training": "培训",
    }
    acts = f["activities"][f["activities"]["held_on"] >= "2025-09-01"]
    paths.append(
        _write_csv(
            out / "activities.csv",
            ["活动编号", "日期", "学校", "活动类型", "活动名称", "参与人数"],
            [
                [
                    r.activity_id,
                    r.held_on,
                    "" if pd.isna(r.school_id) else school[r.school_id],
                    kinds[r.kind],
                    r.title,
                    _number(r.attendance),
                ]
                for r in acts.itertuples()
            ],
            encoding="utf-8",
        )
    )
    iv = f["interventions"].join(people, on="pid")
    paths.append(
        _write_csv(
            out / "interventions.csv",
            [
                "项目编号",
                "项目名称",
                "干预类型",
                "学校",
                "学年",
                "量表",
                "维度",
                "计划次数",
                "开始日期",
                "结束日期",
                "学籍号",
                "姓名",
                "组别",
                "出勤次数",
                "前测",
                "后测",
                "前测日期",
                "后测日期",
            ],
            [
                [
                    r.intervention_id,
                    r.title,
                    r.kind,
                    school[r.school_id],
                    r.school_year,
                    r.instrument,
                    r.scale,
                    r.sessions_planned,
                    r.start_on,
                    r.end_on,
                    r.student_number,
                    r.name,
                    "实验组" if r.arm == "treatment" else "对照组",
                    _number(r.sessions_attended),
                    _number(r.pre_score),
                    _number(r.post_score),
                    _text(r.pre_on),
                    _text(r.post_on),
                ]
                for r in iv.itertuples()
            ],
            encoding="utf-8",
        )
    )
    stages = {
        "raised": "发现",
        "confirmed": "确认",
        "intervention": "干预",
        "referred": "转介",
        "closed": "结案",
    }
    levels = {"class": "班级", "school": "学校", "society": "社会"}
    sources = {
        "screening": "普测",
        "observation": "观察",
        "self_referral": "主动求助",
        "parent": "家长",
        "peer": "同伴",
    }
    cr = f["crisis"].join(people, on="pid")
    cr = cr[cr["case_id"].isin(cr["case_id"].drop_duplicates().tail(60))]
    paths.append(
        _write_csv(
            out / "crisis.csv",
            [
                "个案编号",
                "学籍号",
                "姓名",
                "学校",
                "来源",
                "严重程度",
                "预警等级",
                "普测批次",
                "序号",
                "阶段",
                "层级",
                "时间",
            ],
            [
                [
                    r.case_id,
                    r.student_number,
                    r.name,
                    school[r.school_id],
                    sources[r.source],
                    r.severity,
                    _text(r.local_label),
                    _text(r.wave_id),
                    r.seq,
                    stages[r.stage],
                    levels[r.level],
                    str(r.occurred_at)[:19],
                ]
                for r in cr.itertuples()
            ],
            encoding="utf-8",
        )
    )
    return paths


def _text(value) -> str:
    return "" if value is None or pd.isna(value) else str(value)


def _opt_bool(value) -> str:
    return "" if value is None or pd.isna(value) else _YES_NO[bool(value)]


def write_samples(
    directory: str | Path, *, seed: int = SEED, students: int = STUDENTS, db: str | Path | None = None
) -> list[Path]:
    """Write every sample file into ``directory`` from the demo district; return the paths written.

    ``db`` is an existing demo database built with the same ``seed`` and
    ``students`` (read only); without it the demo is built in a temporary
    directory. The CSV files are deterministic for a given ``seed`` and ``students``.
    """
    from psychanalytics import store, synth

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    people = synth.population(seed=seed, students=students)
    with tempfile.TemporaryDirectory() as tmp:
        engine = store.connect(db if db is not None else Path(tmp) / "demo.sqlite")
        if db is None:
            synth.build_demo(engine, seed=seed, students=students)
        frames = _frames(engine, people)
        engine.dispose()
    key = out / "demo.key"
    key.write_bytes(synth.DEMO_KEY)
    paths = [key, _mht_gbk(frames, out), _roster_xlsx(frames, out), _mht_summary(frames, out)]
    paths += [*_phq9_errors(frames, out), *_other_kinds(frames, out)]
    return paths


def write_error_sample(engine: sa.Engine, directory: str | Path, *, seed: int, students: int) -> Path:
    """Write the PHQ-9 export with deliberate errors for any demo district; return its path.

    ``engine`` holds a demo district built with ``seed`` and ``students``; the
    file comes from the first school (by id) with at least 40 PHQ-9 sheets in
    the 2025 autumn wave. ``psychanalytics demo`` imports it, so the demo shows
    an import batch, its quarantined lines and their audit record.
    """
    from psychanalytics import synth

    frames = _screening_frames(
        engine, synth.population(seed=seed, students=students), wave_id="2025-autumn", instrument="phq9"
    )
    rows = frames["responses"].merge(frames["enrol"][frames["enrol"]["school_year"] == "2025-2026"], on="pid")
    counts = rows.groupby("school_id").size()
    path, _manifest = _phq9_errors(frames, Path(directory), school_id=str(counts[counts >= 40].index.min()))
    return path.rename(path.with_name("demo_import_phq9_2025-autumn.csv"))


def import_error_sample(engine: sa.Engine, *, seed: int, students: int):
    """Write :func:`write_error_sample` to a temporary folder and import it with the demo key.

    Returns the :class:`~psychanalytics.ingest.ImportResult`: the demo district then
    has an import batch, quarantined lines with their reasons, and audit records.
    """
    from psychanalytics import synth
    from psychanalytics.ingest._load import import_file

    with tempfile.TemporaryDirectory() as tmp:
        path = write_error_sample(engine, tmp, seed=seed, students=students)
        return import_file(
            engine, "screening", path, key=synth.DEMO_KEY, wave="2025-autumn", instrument="phq9"
        )


if __name__ == "__main__":
    for written in write_samples(sys.argv[1] if len(sys.argv) > 1 else "data/samples"):
        print(f"{written}  {written.stat().st_size / 1024:,.0f} KB")
