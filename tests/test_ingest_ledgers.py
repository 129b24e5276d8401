"""The ledger import kinds (issue #13): 心理健康课课时 (lessons), 经费 (funding), 学校年度情况 (school_stats)
and 心理辅导记录 (counselling) — their samples, their refusals, and the plan computed from a district's own
ledgers equal to the plan of the demo district they were written from."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from psychanalytics import cli, ingest, plan, store, synth
from psychanalytics.privacy.pseudonym import pseudonymise
from psychanalytics.store import queries, schema
from psychanalytics.synth import exports

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
SCHOOL = dict(school_id="S02", name="示例第一中学", stage="junior", location="urban")
LEDGERS = {
    "lessons": "course_delivery",
    "funding": "funding",
    "school_stats": "school_year_stats",
    "counselling": "counselling_session",
}
"""Import kind → the table it fills."""


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _copy_tables(source: sa.Engine, target: sa.Engine, names: tuple[str, ...]) -> None:
    with source.connect() as read, target.begin() as write:
        for name in names:
            table = schema.metadata.tables[name]
            store.upsert(write, table, [dict(r._mapping) for r in read.execute(sa.select(table))])


def _rows(engine: sa.Engine, name: str, where=()) -> pd.DataFrame:
    """A table's rows without the batch that wrote them, in key order."""
    table = schema.metadata.tables[name]
    columns = [c for c in table.c if c.name != "batch_id"]
    frame = store.read_frame(engine, sa.select(*columns).where(*where).order_by(*table.primary_key.columns))
    return frame.reset_index(drop=True)


@pytest.fixture
def district(engine: sa.Engine, demo_db: Path) -> sa.Engine:
    """An empty store (SQLite file, then PostgreSQL) holding the demo district's schools only."""
    demo = store.connect_existing(demo_db, read_only=True)
    _copy_tables(demo, engine, ("school",))
    demo.dispose()
    return engine


@pytest.fixture
def one_school(sqlite_engine: sa.Engine) -> sa.Engine:
    with sqlite_engine.begin() as conn:
        store.upsert(conn, schema.school, [SCHOOL])
    return sqlite_engine


@pytest.mark.parametrize("kind", LEDGERS)
def test_each_ledger_sample_imports_whole_equal_to_the_demo_and_idempotently(district, demo_db, kind):
    path = SAMPLES / f"{kind}_2025-2026.xlsx"
    result = ingest.import_file(district, kind, path, key=synth.DEMO_KEY)
    assert result.rows_read > 0 and result.stored == result.rows_read
    assert (result.quarantined, result.duplicates) == (0, 0)
    table = schema.metadata.tables[LEDGERS[kind]]
    this_year = (
        table.c.school_year == "2025-2026"
        if "school_year" in table.c
        else table.c.held_on >= pd.Timestamp("2025-09-01").date()
    )
    demo = store.connect_existing(demo_db, read_only=True)
    expected = _rows(demo, table.name, [this_year])
    demo.dispose()
    pd.testing.assert_frame_equal(_rows(district, table.name), expected, check_dtype=False)
    counts = store.table_counts(district)
    assert ingest.import_file(district, kind, path, key=synth.DEMO_KEY).already_imported
    assert store.table_counts(district) == counts


LESSONS_HEADER = "学校,学年,学期,年级,计划课时,实际课时,使用区本教材"
COUNSELLING_HEADER = "记录编号,学籍号,姓名,学校,辅导日期,辅导类型,时长（分钟）"


@pytest.mark.parametrize(
    ("line", "column", "value", "reason"),
    [
        ("火星中学,2025-2026,第一学期,初一,9,8,是", "学校", "火星中学", "unknown_school"),
        ("示例第一中学,2025-2026,第三学期,初一,9,8,是", "学期", "第三学期", "bad_choice"),
        ("示例第一中学,2025-2026,3,初一,9,8,是", "学期", "3", "bad_choice"),
        ("示例第一中学,2025-2026,上学期,初二,9,-2,是", "实际课时", "-2", "out_of_range"),
        ("示例第一中学,2025-2026,上学期,13,9,8,是", "年级", "13", "impossible_grade"),
        ("示例第一中学,2025-2026,上学期,初二,9,8,是的", "使用区本教材", "是的", "bad_boolean"),
        ("示例第一中学,2025/26,上学期,初二,9,8,是", "学年", "2025/26", "bad_school_year"),
        ("示例第一中学,2025-2026,上学期,初二,,8,是", "计划课时", "", "missing_required"),
        ("示例第一中学,2025-2026,第一学期,七年级,9,7,否", "学校, 学年, 学期, 年级", "", "duplicate_key"),
    ],
)
def test_a_lessons_line_with_a_bad_value_is_refused_with_line_column_value(
    one_school, tmp_path, line, column, value, reason
):
    good = "示例第一中学,2025-2026,第一学期,初一,9,8,是"
    result = ingest.import_file(
        one_school, "lessons", _write(tmp_path / "课时台账.csv", [LESSONS_HEADER, good, line]), key=b"k" * 32
    )
    assert (result.rows_read, result.stored, result.quarantined) == (2, 1, 1)
    problem = result.problems[0][0]
    assert (problem.line_no, problem.column, problem.reason) == (3, column, reason)
    if reason != "duplicate_key":
        assert problem.value == value
    assert _rows(one_school, "course_delivery")[["term", "grade", "lessons_delivered"]].values.tolist() == [
        [1, 7, 8]
    ]


@pytest.mark.parametrize(
    ("kind", "header", "line", "column", "value", "reason"),
    [
        ("funding", "学校,学年,经费预算（元）,实际支出（元）", "S02,2025-2026,-100,0", "经费预算（元）", "-100", "out_of_range"),
        ("funding", "学校,学年,经费预算（元）", "S02,2025-2026,\"12,000\"", "经费预算（元）", "12,000", "not_number"),
        ("funding", "学校,学年,经费预算", "S02,2025-2026,12000元", "经费预算", "12000元", "not_number"),
        ("funding", "学校,学年,经费预算", "S02,2025-2026,", "经费预算", "", "missing_required"),
        ("school_stats", "学校,学年,在校生数,班级数,住校生数", "S02,2025-2026,300,8,301", "住校生数", "301", "out_of_range"),
        ("school_stats", "学校,学年,在校生数,班级数,住校生数", "S02,2025-2026,-3,8,0", "在校生数", "-3", "out_of_range"),
        ("school_stats", "学校,学年,在校生数,班级数,住校生数,三年规划", "S02,2025-2026,300,8,0,有的", "三年规划", "有的", "bad_boolean"),
        ("school_stats", "学校,学年,在校生数,班级数,住校生数,全体教师数,导师数", "S02,2025-2026,300,8,0,20,21", "导师数", "21", "out_of_range"),
        ("school_stats", "学校,学年,在校生数,班级数,住校生数,设有心理委员的班级数", "S02,2025-2026,300,8,0,9", "设有心理委员的班级数", "9", "out_of_range"),
        ("counselling", COUNSELLING_HEADER, "C1,G0001,李四,S02,2025-10-01,家访,30", "辅导类型", "家访", "bad_choice"),
        ("counselling", COUNSELLING_HEADER, "C1,G0001,李四,S02,2025-13-01,个别辅导,30", "辅导日期", "2025-13-01", "bad_date"),
        ("counselling", COUNSELLING_HEADER, "C1,G0001,李四,S02,2025-10-01,个别辅导,0", "时长（分钟）", "0", "out_of_range"),
    ],
)  # fmt: skip
def test_a_ledger_line_with_a_bad_value_is_refused_with_line_column_value(
    one_school, tmp_path, kind, header, line, column, value, reason
):
    result = ingest.import_file(
        one_school, kind, _write(tmp_path / f"{kind}.csv", [header, line]), key=b"k" * 32
    )
    assert (result.rows_read, result.stored, result.quarantined) == (1, 0, 1)
    problem = result.problems[0][0]
    assert (problem.line_no, problem.column, problem.value, problem.reason) == (2, column, value, reason)
    assert _rows(one_school, LEDGERS[kind]).empty


def test_a_ledger_without_school_year_takes_the_option_and_is_refused_without_it(one_school, tmp_path):
    path = _write(tmp_path / "经费.csv", ["学校,经费预算,实际支出", "示例第一中学,30000,28500.5"])
    with pytest.raises(ingest.IngestError, match="学年"):
        ingest.import_file(one_school, "funding", path, key=b"k" * 32)
    result = ingest.import_file(one_school, "funding", path, key=b"k" * 32, school_year="2025-2026")
    assert result.stored == 1
    assert _rows(one_school, "funding").values.tolist() == [["S02", "2025-2026", 30000.0, 28500.5]]


def test_counselling_keeps_pseudonyms_only_masks_refused_lines_and_never_brings_back_an_erased_student(
    one_school, tmp_path
):
    key = b"k" * 32
    header = COUNSELLING_HEADER
    first = [
        "C1,G3204042012,欧阳娜娜,示例第一中学,2025-10-08,个别辅导,40",
        "C2,G3204042013,王五,S02,2025-10-09,团辅,",
    ]
    first.append("C3,G3204042014,赵六,S02,2025-10-09,家访,30")
    result = ingest.import_file(
        one_school, "counselling", _write(tmp_path / "a.csv", [header, *first]), key=key
    )
    assert (result.stored, result.quarantined) == (2, 1)
    sessions = _rows(one_school, "counselling_session")
    assert sessions["pid"].tolist() == pseudonymise(["G3204042012", "G3204042013"], key)
    assert sessions["kind"].tolist() == ["individual", "group"]
    assert sessions["minutes"][0] == 40 and pd.isna(sessions["minutes"][1])
    with one_school.connect() as conn:
        raw = conn.execute(sa.select(schema.quarantine.c.raw, schema.quarantine.c.reasons)).one()
    assert raw.raw == "C3,＊,＊,S02,2025-10-09,家访,30"  # 学籍号 and 姓名 masked in the database
    assert json.loads(raw.reasons)[0]["reason"] == "bad_choice"
    store.forget(one_school, [sessions["pid"][0]])
    again = ["C4,G3204042012,欧阳娜娜,S02,2025-11-08,个别辅导,40"]
    result = ingest.import_file(
        one_school, "counselling", _write(tmp_path / "b.csv", [header, *again]), key=key
    )
    assert (result.stored, result.quarantined) == (0, 1)
    assert result.problems[0][0].reason == "erased"
    assert _rows(one_school, "counselling_session")["session_id"].tolist() == ["C2"]
    path = Path(one_school.url.database)
    one_school.dispose()
    dump = path.read_bytes() + b"".join(p.read_bytes() for p in path.parent.glob(f"{path.name}-*"))
    for text in ("G3204042012", "G3204042013", "欧阳娜娜", "王五", "赵六"):
        assert text.encode() not in dump


def test_the_import_help_lists_the_ledger_kinds(capsys):
    with pytest.raises(SystemExit):
        cli.main(["import", "--help"])
    out = capsys.readouterr().out
    for kind in LEDGERS:
        assert f"{kind}: " in out
    assert "lessons, funding, school_stats, counselling" in " ".join(out.split())


def test_the_plan_of_a_district_imported_from_its_ledgers_is_the_demo_districts(district, demo_db, tmp_path):
    """The demo district's ledgers of every school year (8 schools, 2021-2022 to 2025-2026: a few thousand
    lines) go through ``psychanalytics import`` into a store holding only its schools; staff, rooms and
    activities, which have their own kinds and tests, are copied. The plan's attainment and the supervision
    scorecard of the first and the last year are then those of the demo store itself."""
    demo = store.connect_existing(demo_db, read_only=True)
    years = queries.plan_inputs(demo).school_years
    _copy_tables(demo, district, ("staff", "room", "activity"))
    files = exports.write_ledgers(tmp_path / "台账", db=demo_db, school_years=years)
    key_file = tmp_path / "demo.key"
    key_file.write_bytes(synth.DEMO_KEY)
    url = district.url.render_as_string(hide_password=False)
    for path in files:
        kind = path.name.split("_20")[0]
        assert cli.main(["import", kind, str(path), "--db", url, "--key-file", str(key_file)]) == 0
    for name in LEDGERS.values():
        pd.testing.assert_frame_equal(_rows(district, name), _rows(demo, name), check_dtype=False)
    mine, theirs = queries.plan_inputs(district), queries.plan_inputs(demo)
    demo.dispose()
    assert mine.school_years == years
    for year in (years[0], years[-1]):
        got, want = plan.evaluate(mine, school_year=year), plan.evaluate(theirs, school_year=year)
        pd.testing.assert_frame_equal(got.attainment, want.attainment)
        pd.testing.assert_frame_equal(got.scorecard, want.scorecard)
