"""The importer on real files and real databases: encodings, header styles, every error class,
quarantine, conservation, re-import, pseudonymisation, the sample files and both databases."""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
from pathlib import Path

import numpy as np
import openpyxl
import pytest
import sqlalchemy as sa
from store_support import AUTUMN_2024

from psychanalytics import crisis, ingest, store, synth
from psychanalytics.privacy.pseudonym import pseudonymise
from psychanalytics.store import audit, schema
from psychanalytics.store.queries import crisis as crisis_queries

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
KEY = b"test key for the ingest suite, 32+ bytes"
SCHOOLS = [
    dict(school_id="S01", name="示例实验小学", stage="primary", location="urban"),
    dict(school_id="S02", name="示例第一中学", stage="junior", location="urban"),
]


def _add_schools(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        store.upsert(conn, schema.school, SCHOOLS)


@pytest.fixture
def db(engine: sa.Engine) -> sa.Engine:
    """The schema with two schools, on SQLite and on PostgreSQL."""
    _add_schools(engine)
    return engine


@pytest.fixture
def lite(sqlite_engine: sa.Engine) -> sa.Engine:
    """The schema with two schools on a SQLite file."""
    _add_schools(sqlite_engine)
    return sqlite_engine


@pytest.fixture
def demo_copy(demo_db: Path, tmp_path: Path) -> sa.Engine:
    """A writable copy of the session's demo district (seed 7, 3,000 students: the samples' district)."""
    target = tmp_path / "demo.sqlite"
    shutil.copy(demo_db, target)
    engine = store.connect(target)
    yield engine
    engine.dispose()


def _write(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def _phq9_lines(header_items: list[str], rows: list[tuple[str, str, list[int]]]) -> list[str]:
    header = ",".join(["学籍号", "姓名", "性别", *header_items])
    return [header] + [",".join([n, name, "女", *map(str, items)]) for n, name, items in rows]


ROWS = [("00123", "NA", [0, 1, 2, 3, 0, 1, 2, 3, 0]), ("123", "张三", [1, 1, 1, 1, 1, 1, 1, 1, 1])]


def _responses(engine: sa.Engine) -> dict[str, bytes]:
    with engine.connect() as conn:
        return dict(conn.execute(sa.select(schema.response.c.pid, schema.response.c["items"])).all())


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_each_encoding_is_detected_and_stores_the_same_rows(lite, tmp_path, encoding):
    path = _write(tmp_path / "x.csv", _phq9_lines([f"Q{i}" for i in range(1, 10)], ROWS), encoding)
    result = ingest.import_file(lite, "screening", path, key=KEY, wave="2025-autumn", instrument="phq9")
    assert result.encoding == {"gbk": "gb18030"}.get(encoding, encoding)
    assert (result.rows_read, result.stored, result.quarantined) == (2, 2, 0)
    pids = pseudonymise(["00123", "123"], KEY)
    assert _responses(lite) == {pids[0]: bytes([0, 1, 2, 3, 0, 1, 2, 3, 0]), pids[1]: bytes([1] * 9)}


@pytest.mark.parametrize(
    "style",
    [
        lambda i: f"{i}.题干{i}",
        lambda i: f"{i}、题干",
        lambda i: f"Q{i}",
        lambda i: str(i),
        lambda i: f"第{i}题",
        lambda i: f"ｑ{i}",
    ],
    ids=["dot", "dunhao", "Q", "bare", "di-ti", "fullwidth-q"],
)
def test_each_item_header_style_maps_to_the_same_items(lite, tmp_path, style):
    path = _write(tmp_path / "x.csv", _phq9_lines([style(i) for i in range(1, 10)], ROWS))
    result = ingest.import_file(lite, "screening", path, key=KEY, wave="2025-autumn", instrument="phq9")
    assert result.stored == 2 and result.ignored_columns == ()
    assert sorted(_responses(lite).values()) == sorted([bytes([0, 1, 2, 3, 0, 1, 2, 3, 0]), bytes([1] * 9)])


def test_leading_zeros_and_na_names_survive(lite, tmp_path):
    path = _write(tmp_path / "x.csv", _phq9_lines([f"Q{i}" for i in range(1, 10)], ROWS))
    ingest.import_file(lite, "screening", path, key=KEY, wave="2025-autumn", instrument="phq9", score=False)
    with lite.connect() as conn:
        pids = set(conn.execute(sa.select(schema.student.c.pid)).scalars())
    assert pids == set(pseudonymise(["00123", "123"], KEY))  # two students: 00123 is not 123


def test_names_and_numbers_never_reach_the_database(lite, tmp_path):
    """Neither from stored rows nor from refused ones (out of range; a short row)."""
    lines = _phq9_lines(
        [f"Q{i}" for i in range(1, 10)],
        [("G0099887766", "欧阳娜娜", [0] * 9), ("G0011223344", "司马光", [0, 9, 0, 0, 0, 0, 0, 0, 0])],
    )
    lines.append("G0055667788,诸葛亮,女,0,0")
    result = ingest.import_file(
        lite, "screening", _write(tmp_path / "x.csv", lines), key=KEY, wave="2025-autumn", instrument="phq9"
    )
    assert (result.stored, result.quarantined) == (1, 2)
    dump = "\n".join(store.connect(lite.url).raw_connection().driver_connection.iterdump())
    for secret in ("欧阳娜娜", "G0099887766", "司马光", "G0011223344", "诸葛亮", "G0055667788"):
        assert secret not in dump


def test_created_wave_follows_its_name(lite, tmp_path):
    path = _write(tmp_path / "x.csv", _phq9_lines([f"Q{i}" for i in range(1, 10)], ROWS))
    ingest.import_file(lite, "screening", path, key=KEY, wave="2026-spring", instrument="phq9")
    with lite.connect() as conn:
        wave = conn.execute(sa.select(schema.screening_wave)).one()
    assert (wave.school_year, wave.season, wave.label) == ("2025-2026", "spring", "2026年春季普测")


@pytest.mark.parametrize(
    ("cell_column", "value", "reason"),
    [
        ("Q3", "4", "out_of_range"),
        ("Q3", "-1", "unknown_option"),
        ("Q3", "二", "unknown_option"),
        ("性别", "未知", "bad_gender"),
        ("年级", "13", "impossible_grade"),
        ("年龄", "31", "impossible_age"),
        ("年龄", "8", "age_grade_mismatch"),
        ("班级", "甲班", "bad_class"),
        ("学校", "火星中学", "unknown_school"),
        ("学籍号", "", "missing_required"),
        ("用时", "很久", "bad_duration"),
    ],
)
def test_each_error_class_lands_in_quarantine_with_its_reason(lite, tmp_path, cell_column, value, reason):
    header = [
        "学籍号",
        "姓名",
        "性别",
        "年龄",
        "学校",
        "年级",
        "班级",
        "用时",
        *[f"Q{i}" for i in range(1, 10)],
    ]
    good = ["G1", "李四", "男", "13", "示例第一中学", "初一", "(2)班", "5分3秒", *"011111111"]
    bad = list(good)
    bad[0] = "G2"
    bad[header.index(cell_column)] = value
    path = _write(tmp_path / "x.csv", [",".join(header), ",".join(good), ",".join(bad)])
    result = ingest.import_file(lite, "screening", path, key=KEY, wave="2025-autumn", instrument="phq9")
    assert (result.rows_read, result.stored, result.quarantined) == (2, 1, 1)
    with lite.connect() as conn:
        q = conn.execute(sa.select(schema.quarantine)).one()
    # the school's report gets the line as written; the database keeps it without 学籍号 and 姓名
    assert result.raw_rows == (",".join(bad),)
    assert q.line_no == 3 and q.raw == ",".join(["＊", "＊", *bad[2:]])
    shown = "＊" if cell_column in ("学籍号", "姓名") else value
    # an item's message says what the cell may hold: the codes and the instrument's option texts
    allowed = (
        "；可填 / allowed: 0, 1, 2, 3 或 完全不会 / 好几天 / 一半以上的天数 / 几乎每天"
        if cell_column == "Q3"
        else ""
    )
    assert json.loads(q.reasons) == [
        {"column": cell_column, "value": shown, "reason": reason, "message": ingest.REASONS[reason] + allowed}
    ]


def test_text_longer_than_its_column_is_refused_on_both_databases(db, tmp_path):
    """PostgreSQL's VARCHAR(32) would refuse the whole file; SQLite would keep the long code: both refuse the row."""
    header = "活动编号,日期,学校,活动类型,活动名称,参与人数"
    long_id = "ACT" + "0" * 30
    path = _write(
        tmp_path / "activities.csv",
        [
            header,
            "ACT001,2025-09-16,,讲座,家校共育讲座,197",
            f"{long_id},2025-09-23,示例第一中学,主题班会,学会感恩,40",
        ],
    )
    result = ingest.import_file(db, "activities", path, key=KEY)
    assert (result.rows_read, result.stored, result.quarantined) == (2, 1, 1)
    problem = result.problems[0][0]
    assert (problem.line_no, problem.column, problem.value, problem.reason) == (
        3,
        "活动编号",
        long_id,
        "too_long",
    )


def test_short_and_long_rows_are_refused_not_padded(lite, tmp_path):
    header = ",".join(["学籍号", "姓名", *[f"Q{i}" for i in range(1, 10)]])
    lines = [
        header,
        "G1,甲," + ",".join(["1"] * 8),
        "G2,乙," + ",".join(["1"] * 10),
        "G3,丙," + ",".join(["1"] * 9),
    ]
    result = ingest.import_file(
        lite, "screening", _write(tmp_path / "x.csv", lines), key=KEY, wave="2025-autumn", instrument="phq9"
    )
    assert (result.rows_read, result.stored, result.quarantined) == (3, 1, 2)
    assert [p[0].reason for p in result.problems] == ["short_row", "short_row"]
    assert [p[0].line_no for p in result.problems] == [2, 3]


def test_duplicates_exact_are_counted_and_conflicting_are_quarantined(lite, tmp_path):
    header = ",".join(["学籍号", "姓名", *[f"Q{i}" for i in range(1, 10)]])
    a = "G1,甲," + ",".join(["1"] * 9)
    b = "G1,甲," + ",".join(["2"] * 9)
    result = ingest.import_file(
        lite,
        "screening",
        _write(tmp_path / "x.csv", [header, a, "", a, b]),
        key=KEY,
        wave="2025-autumn",
        instrument="phq9",
    )
    assert (result.rows_read, result.stored, result.duplicates, result.quarantined, result.blank_lines) == (
        3,
        1,
        1,
        1,
        1,
    )
    problem = result.problems[0][0]
    assert (problem.reason, problem.column, problem.value) == (
        "duplicate_key",
        "学籍号",
        "同第 2 行 / as line 2",
    )
    assert result.problems[0][0].line_no == 5


def test_duplicates_are_found_across_chunks_of_a_long_file(lite, tmp_path):
    """Keys are remembered from chunk to chunk (a 2.7 MB file is read in 1 MB blocks)."""
    header = ",".join(["学籍号", "姓名", *[f"Q{i}" for i in range(1, 10)]])
    lines = [header] + [f"G{i:07d},学生," + ",".join([str(i % 4)] * 9) for i in range(80_000)]
    conflicting = "G0000001,学生," + ",".join(["3"] * 9)
    path = _write(tmp_path / "long.csv", [*lines, lines[1], conflicting])
    assert path.stat().st_size > 2 * 2**20
    result = ingest.import_file(lite, "screening", path, key=KEY, wave="2025-autumn", instrument="phq9")
    assert (result.rows_read, result.stored, result.duplicates, result.quarantined) == (80_002, 80_000, 1, 1)
    problem = result.problems[0][0]
    assert (problem.line_no, problem.reason, problem.value) == (
        80_003,
        "duplicate_key",
        "同第 3 行 / as line 3",
    )
    assert _responses(lite)[pseudonymise(["G0000001"], KEY)[0]] == bytes([1] * 9)


def test_a_repeated_student_with_another_score_is_a_conflict_not_a_duplicate(lite, tmp_path):
    """Score columns count when lines are compared: a changed 总分 is no exact duplicate."""
    path = _write(tmp_path / "summary.csv", ["学籍号,姓名,总分", "G1,甲,12", "G1,甲,15", "G1,甲,12"])
    result = ingest.import_file(lite, "screening", path, key=KEY, wave="2025-autumn", instrument="phq9")
    assert (result.rows_read, result.stored, result.duplicates, result.quarantined) == (3, 1, 1, 1)
    assert [(p.line_no, p.reason) for p in result.problems[0]] == [(3, "duplicate_key")]


def test_lines_after_a_refused_row_that_ends_a_piece_keep_their_numbers(lite, tmp_path):
    """A file without a final line break ends in a piece of its own, after a short row."""
    header = ",".join(["学籍号", "姓名", *[f"Q{i}" for i in range(1, 10)]])
    path = tmp_path / "x.csv"
    path.write_text(
        "\n".join([header, "G1,甲," + ",".join(["1"] * 9), "G2,乙,1", "G3,丙," + ",".join(["7"] * 9)])
    )
    result = ingest.import_file(lite, "screening", path, key=KEY, wave="2025-autumn", instrument="phq9")
    assert (result.rows_read, result.stored, result.quarantined) == (3, 1, 2)
    assert [(p.line_no, p.reason) for problems in result.problems for p in problems[:1]] == [
        (3, "short_row"),
        (4, "out_of_range"),
    ]


def test_a_student_on_two_roster_lines_takes_the_later_line(lite, tmp_path):
    """Rows are stored in key order, but lines of one student keep their file order: the later one wins."""
    roster = [
        "学籍号,姓名,性别,学校,学年,年级,班级",
        "G1,甲,女,S01,2025-2026,2,1",
        "G1,甲,男,S01,2024-2025,1,1",
    ]
    result = ingest.import_file(lite, "roster", _write(tmp_path / "roster.csv", roster), key=KEY)
    assert result.stored == 2
    with lite.connect() as conn:
        assert conn.execute(sa.select(schema.student.c.gender)).scalar_one() == "M"


def test_item_cells_written_with_a_plus_sign_are_read_as_numbers(lite, tmp_path):
    lines = _phq9_lines([f"Q{i}" for i in range(1, 10)], [("G1", "甲", ["+1", *[1] * 8])])
    result = ingest.import_file(
        lite, "screening", _write(tmp_path / "x.csv", lines), key=KEY, wave="2025-autumn", instrument="phq9"
    )
    assert (result.stored, result.quarantined) == (1, 0)
    assert list(_responses(lite).values()) == [bytes([1] * 9)]


@pytest.mark.parametrize("ending", [b"", b"\n", b"\r\n"])
def test_a_file_with_only_its_header_is_refused_with_that_reason(lite, tmp_path, ending):
    path = tmp_path / "header.csv"
    path.write_bytes("学籍号,姓名,Q1,Q2,Q3,Q4,Q5,Q6,Q7,Q8,Q9".encode() + ending)
    with pytest.raises(ingest.IngestError, match="没有数据行"):
        ingest.import_file(lite, "screening", path, key=KEY, wave="2025-autumn", instrument="phq9")


def test_a_mac_csv_with_bare_cr_line_ends_is_read_in_pieces(lite, tmp_path):
    """Excel for Mac ends lines with CR alone: the file is still cut into pieces, lines numbered as written."""
    header = ",".join(["学籍号", "姓名", *[f"Q{i}" for i in range(1, 10)]])
    lines = [header] + [f"G{i:07d},学生," + ",".join([str(i % 4)] * 9) for i in range(80_000)]
    lines[60_001] = "G0060000,学生,1"
    path = tmp_path / "mac.csv"
    path.write_bytes("\r".join(lines).encode() + b"\r")
    chunks = list(ingest._read.iter_chunks(ingest._read.open_source(path)))
    assert len(chunks) > 1
    assert [row[0] for c in chunks for row in c.bad_rows] == [60_002]
    assert sum(len(c) for c in chunks) == 79_999


def test_a_quote_that_never_closes_refuses_the_file_naming_its_line(lite, tmp_path):
    """Arrow would merge every line after the quote into one refused row: students would go missing."""
    lines = _phq9_lines([f"Q{i}" for i in range(1, 10)], [(f"G{i}", "甲", [1] * 9) for i in range(1, 6)])
    lines[2] = lines[2].replace(",甲,", ',"甲,')
    before = store.table_counts(lite)
    with pytest.raises(ingest.IngestError, match="第 3 行的引号没有闭合，其后 3 行") as refused:
        ingest.import_file(
            lite,
            "screening",
            _write(tmp_path / "x.csv", lines),
            key=KEY,
            wave="2025-autumn",
            instrument="phq9",
        )
    assert "line 3 opens a quote" in str(refused.value) and "G2" not in str(refused.value)
    assert store.table_counts(lite) == before


def test_a_quoted_cell_over_two_lines_is_one_value_and_later_lines_keep_their_numbers(lite, tmp_path):
    rows = [("G1", "甲", [1] * 9), ("G2", "乙", [2] * 9), ("G3", "丙", [7] * 9)]
    lines = _phq9_lines([f"Q{i}" for i in range(1, 10)], rows)
    lines[1] = lines[1].replace(",甲,", ',"甲\n（转学）",')  # G1 spans lines 2-3, G3 stands on line 5
    result = ingest.import_file(
        lite, "screening", _write(tmp_path / "x.csv", lines), key=KEY, wave="2025-autumn", instrument="phq9"
    )
    assert (result.rows_read, result.stored, result.quarantined) == (3, 2, 1)
    assert {(p.line_no, p.reason) for p in result.problems[0]} == {(5, "out_of_range")}


def test_a_short_row_deep_in_a_long_file_keeps_its_line_number(lite, tmp_path):
    """Pieces after the first are parsed on several threads; the refused row still names its own line."""
    header = ",".join(["学籍号", "姓名", *[f"Q{i}" for i in range(1, 10)]])
    lines = [header] + [f"G{i:07d},学生," + ",".join([str(i % 4)] * 9) for i in range(80_000)]
    lines.insert(70_001, "G9999999,学生,1,2")
    path = _write(tmp_path / "long.csv", lines)
    assert path.stat().st_size > 2 * 2**20  # several pieces
    result = ingest.import_file(lite, "screening", path, key=KEY, wave="2025-autumn", instrument="phq9")
    assert (result.rows_read, result.stored, result.quarantined) == (80_001, 80_000, 1)
    assert [(p.line_no, p.reason) for p in result.problems[0]] == [(70_002, "short_row")]
    with lite.connect() as conn:
        assert conn.execute(sa.select(schema.quarantine.c.line_no)).scalars().all() == [70_002]


def test_write_rows_keeps_each_conflict_policy_on_both_databases(db):
    """PostgreSQL goes through COPY and one INSERT … SELECT; a key given twice falls back to row by row."""
    from psychanalytics.ingest._write import write_rows

    a, b = "a" * 32, "b" * 32
    codes = np.array([[0, 1, -1], [3, 2, 1]], dtype=np.int8)
    with db.begin() as conn:
        conn.execute(schema.screening_wave.insert().values(**AUTUMN_2024))
        write_rows(conn, schema.student, {"pid": [a, b], "gender": ["F", None], "birth_year": [2012, 2013]})
        fill = {"pid": [a, b], "gender": [None, "M"], "birth_year": [None, 2014]}
        write_rows(conn, schema.student, fill, on_conflict="fill")
        keep = [{"pid": a, "gender": "M"}, {"pid": a, "gender": "M"}]
        write_rows(conn, schema.student, keep, on_conflict="keep")
        twice = [{"pid": b, "birth_year": 2015}, {"pid": b, "birth_year": 2016}]
        write_rows(conn, schema.student, twice, on_conflict="update")
        response = {"wave_id": "2024-autumn", "instrument": "phq9", "instrument_version": "1", "pid": [a, b]}
        write_rows(conn, schema.response, {**response, "items": codes, "seconds": [300, None]})
        students = conn.execute(
            sa.select(schema.student.c.pid, schema.student.c.gender, schema.student.c.birth_year).order_by(
                "pid"
            )
        ).all()
        responses = conn.execute(
            sa.select(schema.response.c["items"], schema.response.c.seconds).order_by(schema.response.c.pid)
        ).all()
    assert [tuple(r) for r in students] == [(a, "F", 2012), (b, "M", 2016)]
    assert [(bytes(items), seconds) for items, seconds in responses] == [
        (codes[0].tobytes(), 300),
        (codes[1].tobytes(), None),
    ]


def test_a_value_postgresql_refuses_in_copy_is_reported_without_the_value(pg_engine):
    from psychanalytics.ingest._write import write_rows

    secret = "G320402201201010012-not-a-pid-at-all"
    with pytest.raises(sa.exc.DBAPIError) as refused, pg_engine.begin() as conn:
        write_rows(conn, schema.student, {"pid": [secret], "gender": "F"})
    assert "COPY into student" in str(refused.value) and "SQLSTATE 22001" in str(refused.value)
    assert secret not in str(refused.value) and secret not in repr(refused.value.__cause__)
    with pg_engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.student)).scalar_one() == 0


@pytest.mark.parametrize(
    ("keys", "blobs"),
    [
        (["00123", "张三", "a\x00b", "1e5", "null", ""], [b"\x01\x02"] * 6),  # text JSON could alter
        (["k1", "k2"], [b"", b""]),  # empty BLOBs
        (["k1", "k2"], [b"\x01", None]),  # a NULL BLOB
        ([f"k{i:06d}" for i in range(50_001)], [b"\x07" * 3] * 50_001),  # past one 50,000-row statement
    ],
)
def test_sqlite_write_paths_store_exactly_what_a_plain_upsert_stores(tmp_path, keys, blobs):
    """write_rows takes a json_each route on SQLite when only one text column varies."""
    from psychanalytics.ingest._write import write_rows

    metadata = sa.MetaData()
    table = sa.Table(
        "t",
        metadata,
        sa.Column("k", sa.String(40), primary_key=True),
        sa.Column("b", sa.LargeBinary),
        sa.Column("c", sa.Integer),
    )
    stored = []
    for name, write in (
        ("columns", lambda conn: write_rows(conn, table, {"k": keys, "b": blobs, "c": 7})),
        (
            "rows",
            lambda conn: store.upsert(
                conn, table, [{"k": k, "b": b, "c": 7} for k, b in zip(keys, blobs, strict=True)]
            ),
        ),
    ):
        engine = store.connect(tmp_path / f"{name}.sqlite")
        metadata.create_all(engine)
        with engine.begin() as conn:
            write(conn)
            stored.append(conn.execute(sa.select(table).order_by(table.c.k)).all())
        engine.dispose()
    assert stored[0] == stored[1] and len(stored[0]) == len(set(keys))


def test_a_second_ctrl_c_does_not_cut_short_the_wait_for_the_running_write():
    """The transaction may only roll back once the writer thread has let go of the connection."""
    from psychanalytics.ingest._write import Serial

    events = []

    def slow_write():
        time.sleep(0.8)
        events.append("write ended")

    def press_ctrl_c_twice():
        for _ in range(2):
            time.sleep(0.15)
            os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=press_ctrl_c_twice).start()
    with pytest.raises(KeyboardInterrupt), Serial() as db:
        db.submit(slow_write)
        time.sleep(5)  # the first Ctrl-C lands here, the second during the wait in __exit__
    events.append("exited")
    assert events == ["write ended", "exited"]


def test_progress_rises_with_the_rows_read_and_ends_at_the_whole_file(lite, tmp_path):
    """Arrow reads blocks ahead of the rows it hands out: the file position would show 100 % at once."""
    header = ",".join(["学籍号", "姓名", *[f"Q{i}" for i in range(1, 10)]])
    lines = [header] + [f"G{i:07d},学生," + ",".join([str(i % 4)] * 9) for i in range(80_000)]
    path = _write(tmp_path / "long.csv", lines, "gbk")
    calls = []
    ingest.import_file(
        lite,
        "screening",
        path,
        key=KEY,
        wave="2025-autumn",
        instrument="phq9",
        progress=lambda done, total: calls.append((done, total)),
    )
    size = path.stat().st_size
    shares = [done / total for done, total in calls]
    assert all(total == size for _, total in calls) and shares[-1] == 1.0
    assert len(shares) >= 3 and shares[0] < 0.6 and shares == sorted(shares)


def test_a_failed_write_is_raised_and_later_work_is_not_run():
    from psychanalytics.ingest._write import Serial

    done = []

    def fail():
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"), Serial(ahead=8) as db:
        db.submit(fail)
        db.submit(done.append, 1)
        db.drain()
    assert done in ([], [1])  # queued before the failure surfaced: may have run, is never awaited


def test_lie_scale_invalid_sheet_is_kept_and_flagged(lite, tmp_path):
    from psychanalytics import instruments

    spec = instruments.get("mht")
    items = np.zeros(100, dtype=int)
    items[np.asarray(spec.lie.items) - 1] = 1  # every lie item answered 'yes'
    header = ",".join(["学籍号", *[f"{i}.题干" for i in range(1, 101)]])
    path = _write(tmp_path / "x.csv", [header, "G1," + ",".join(map(str, items))])
    result = ingest.import_file(lite, "screening", path, key=KEY, wave="2025-autumn", instrument="mht")
    assert (result.stored, result.quarantined, result.invalid_sheets) == (1, 0, 1)
    with lite.connect() as conn:
        valid, lie = conn.execute(sa.select(schema.validity.c.valid, schema.validity.c.lie_score)).one()
    assert valid is False and lie == len(spec.lie.items)


@pytest.mark.parametrize(
    ("header", "kwargs", "message"),
    [
        (["学籍号", *[f"Q{i}" for i in range(1, 9)]], dict(instrument="phq9"), "wrong item count"),
        (["学籍号", *[f"Q{i}" for i in range(1, 10)]], dict(instrument="phq99"), "unknown instrument"),
        (
            ["姓名", *[f"Q{i}" for i in range(1, 10)]],
            dict(instrument="phq9"),
            "required column student_number",
        ),
        (
            ["学籍号", "班级", "班级名称", *[f"Q{i}" for i in range(1, 10)]],
            dict(instrument="phq9"),
            "both mean class",
        ),
        (["学籍号", "姓名"], dict(instrument="phq9"), "no item columns"),
    ],
)
def test_whole_file_errors_raise_and_write_nothing(lite, tmp_path, header, kwargs, message):
    path = _write(tmp_path / "x.csv", [",".join(header), ",".join(["x"] * len(header))])
    before = store.table_counts(lite)
    with pytest.raises(ingest.IngestError, match=message):
        ingest.import_file(lite, "screening", path, key=KEY, wave="2025-autumn", **kwargs)
    assert store.table_counts(lite) == before


def test_reimport_of_the_same_bytes_changes_nothing(db, tmp_path):
    header = ",".join(["学籍号", "姓名", "学校", "年级", "班级", *[f"Q{i}" for i in range(1, 10)]])
    lines = [
        header,
        "G1,甲,示例第一中学,7,1," + ",".join(["1"] * 9),
        "G2,乙,火星中学,7,1," + ",".join(["1"] * 9),
    ]
    path = _write(tmp_path / "x.csv", lines)
    first = ingest.import_file(db, "screening", path, key=KEY, wave="2025-autumn", instrument="phq9")
    counts = store.table_counts(db)
    again = ingest.import_file(db, "screening", path, key=KEY, wave="2025-autumn", instrument="phq9")
    assert again.already_imported and again.batch_id == first.batch_id
    assert (again.rows_read, again.stored, again.quarantined) == (2, 1, 1)
    assert store.table_counts(db) == counts
    assert counts["enrolment"] == 1 and counts["quarantine"] == 1 and counts["import_batch"] == 1
    with db.connect() as conn:
        logged = conn.execute(sa.select(schema.audit_log)).one()
        assert audit.verify(conn) == []
    assert (logged.action, logged.resource) == ("import", f"import_batch:{first.batch_id}")
    assert json.loads(logged.detail)["quarantined"] == 1 and "G2" not in logged.detail


def test_corrected_file_updates_rows_in_place(db, tmp_path):
    header = ",".join(["学籍号", *[f"Q{i}" for i in range(1, 10)]])
    ingest.import_file(
        db,
        "screening",
        _write(tmp_path / "a.csv", [header, "G1," + ",".join(["1"] * 9)]),
        key=KEY,
        wave="2025-autumn",
        instrument="phq9",
    )
    ingest.import_file(
        db,
        "screening",
        _write(tmp_path / "b.csv", [header, "G1," + ",".join(["2"] * 9)]),
        key=KEY,
        wave="2025-autumn",
        instrument="phq9",
    )
    assert list(_responses(db).values()) == [bytes([2] * 9)]
    with db.connect() as conn:
        total = conn.execute(
            sa.select(schema.score.c.raw).where(schema.score.c.scale == "total")
        ).scalar_one()
    assert total == 18


def test_xlsx_roster_keeps_text_and_reads_numbers_as_written(db, tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["学籍号", "学生姓名", "性别", "出生日期", "届", "学校名称", "年级", "班级名称", "住校"])
    ws.append(
        ["00123", "\u3000王\u200b五 ", "男", "2013-05-01", "2019届", "示例实验小学", "六年级", "3班", "否"]
    )
    ws.append([4560, "赵六", "女", 2013, 2019, "S01", 6, 3, "是"])
    path = tmp_path / "roster.xlsx"
    wb.save(path)
    result = ingest.import_file(db, "roster", path, key=KEY, school_year="2024-2025")
    assert (result.encoding, result.stored, result.quarantined) == (None, 2, 0)
    with db.connect() as conn:
        rows = conn.execute(
            sa.select(
                schema.enrolment.c.pid,
                schema.enrolment.c.grade,
                schema.enrolment.c.class_no,
                schema.enrolment.c.boarder,
            ).order_by(schema.enrolment.c.grade)
        ).all()
        students = {
            r.pid: (r.gender, r.birth_year, r.cohort) for r in conn.execute(sa.select(schema.student))
        }
    pids = pseudonymise(["00123", "4560"], KEY)
    assert {r.pid for r in rows} == set(pids)
    assert students[pids[0]] == ("M", 2013, 2019) and students[pids[1]] == ("F", 2013, 2019)


def test_empty_and_headerless_files_raise(lite, tmp_path):
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "blank.csv").write_bytes(b",,\n1,2,3\n")
    for name in ("empty.csv", "blank.csv", "missing.csv"):
        with pytest.raises(ingest.IngestError):
            ingest.import_file(lite, "roster", tmp_path / name, key=KEY, school_year="2024-2025")


def test_unknown_kind_raises(lite, tmp_path):
    with pytest.raises(ingest.IngestError, match="unknown import kind"):
        ingest.import_file(lite, "grades", _write(tmp_path / "x.csv", ["a"]), key=KEY)


# --- the committed sample files ----------------------------------------------------------------


def test_gbk_sample_round_trips_onto_the_demo_district(demo_copy):
    with demo_copy.connect() as conn:
        before = dict(
            conn.execute(
                sa.select(schema.response.c.pid, schema.response.c["items"]).where(
                    schema.response.c.wave_id == "2025-autumn", schema.response.c.instrument == "mht"
                )
            ).all()
        )
    key = (SAMPLES / "demo.key").read_bytes()
    assert key == synth.DEMO_KEY
    counts = store.table_counts(demo_copy)
    result = ingest.import_file(
        demo_copy,
        "screening",
        SAMPLES / "mht_2025-autumn_gbk.csv",
        key=key,
        wave="2025-autumn",
        instrument="mht",
    )
    assert result.encoding == "gb18030" and result.quarantined == 0 and result.ignored_columns == ()
    assert result.platform_columns == ("序号",)
    with demo_copy.connect() as conn:
        after = dict(
            conn.execute(
                sa.select(schema.response.c.pid, schema.response.c["items"]).where(
                    schema.response.c.batch_id == result.batch_id
                )
            ).all()
        )
    assert len(after) == result.stored > 100
    assert all(before[pid] == items for pid, items in after.items())
    new = store.table_counts(demo_copy)
    assert {t: new[t] - counts[t] for t in new if new[t] != counts[t]} == {"import_batch": 1, "audit_log": 1}


def test_error_sample_quarantines_exactly_the_marked_lines(demo_copy, tmp_path):
    expected = json.loads((SAMPLES / "phq9_2025-autumn_errors.expected.json").read_text(encoding="utf-8"))
    result = ingest.import_file(
        demo_copy,
        "screening",
        SAMPLES / expected["file"],
        key=synth.DEMO_KEY,
        wave="2025-autumn",
        instrument="phq9",
    )
    got = {str(p[0].line_no): [x.reason for x in p] for p in result.problems}
    assert got == expected["quarantined_lines"]
    assert (result.rows_read, result.duplicates, result.blank_lines) == (
        expected["rows_read"],
        expected["duplicates"],
        expected["blank_lines"],
    )
    assert result.rows_read == result.stored + result.quarantined + result.duplicates
    with demo_copy.connect() as conn:
        stored = conn.execute(
            sa.select(schema.import_batch).where(schema.import_batch.c.batch_id == result.batch_id)
        ).one()
        lines = set(conn.execute(sa.select(schema.quarantine.c.line_no)).scalars())
        new_student = conn.execute(
            sa.select(schema.student.c.pid).where(
                schema.student.c.pid == pseudonymise(["00123"], synth.DEMO_KEY)[0]
            )
        ).scalar_one_or_none()
    assert (stored.rows_read, stored.stored, stored.quarantined) == (
        result.rows_read,
        result.stored,
        result.quarantined,
    )
    assert {str(n) for n in lines} == set(expected["quarantined_lines"])
    assert new_student is not None
    report = ingest.write_report(tmp_path / "r.xlsx", result.problems, result.raw_rows, source_name="x")
    sheet = openpyxl.load_workbook(report)["问题行"]
    assert [c.value for c in sheet[1]] == list(ingest.REPORT_HEADERS)
    reported = [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert reported == sorted(reported)  # file order, though short rows are refused first
    assert sorted(map(str, reported)) == sorted(expected["quarantined_lines"])
    assert sheet.auto_filter.ref == sheet.dimensions


def test_summary_sample_keeps_undeclared_metrics_apart(demo_copy):
    result = ingest.import_file(
        demo_copy,
        "screening",
        SAMPLES / "mht_summary_2024-autumn.csv",
        key=synth.DEMO_KEY,
        wave="2024-autumn",
        instrument="mht",
    )
    assert result.encoding == "utf-8-sig" and result.quarantined == 0 and result.ignored_columns == ()
    with demo_copy.connect() as conn:
        rows = conn.execute(
            sa.select(
                schema.reported_score.c.pid,
                schema.reported_score.c.scale,
                schema.reported_score.c.metric,
                schema.reported_score.c.value,
            ).where(schema.reported_score.c.batch_id == result.batch_id)
        ).all()
        demo_scores = dict(
            ((r.pid, r.scale), r.raw)
            for r in conn.execute(
                sa.select(schema.score).where(
                    schema.score.c.wave_id == "2024-autumn", schema.score.c.instrument == "mht"
                )
            )
        )
    assert {r.metric for r in rows} == {"unknown"}
    assert {r.scale for r in rows} >= {"total", "learning_anxiety", "social_anxiety", "sensitivity"}
    assert len(rows) >= result.stored * 8
    assert all(r.value == demo_scores[(r.pid, r.scale)] for r in rows)  # the demo's own scores came back


@pytest.mark.parametrize(
    ("kind", "file", "table", "options"),
    [
        ("roster", "roster_2025-2026.xlsx", "enrolment", {"school_year": None}),
        ("staff", "staff.csv", "staff", {}),
        ("rooms", "rooms.csv", "room", {}),
        ("activities", "activities.csv", "activity", {}),
        ("interventions", "interventions.csv", "participant", {}),
        ("crisis", "crisis.csv", "crisis_event", {}),
    ],
)
def test_each_kind_sample_imports_whole_and_idempotently(demo_copy, kind, file, table, options):
    result = ingest.import_file(demo_copy, kind, SAMPLES / file, key=synth.DEMO_KEY, **options)
    assert result.rows_read > 0 and result.quarantined == 0 and result.duplicates == 0
    assert result.stored == result.rows_read and result.ignored_columns in ((), ("姓名",))
    with demo_copy.connect() as conn:
        written = conn.execute(
            sa.select(sa.func.count())
            .select_from(schema.metadata.tables[table])
            .where(schema.metadata.tables[table].c.batch_id == result.batch_id)
        ).scalar_one()
    assert written == result.rows_read
    counts = store.table_counts(demo_copy)
    assert ingest.import_file(demo_copy, kind, SAMPLES / file, key=synth.DEMO_KEY, **options).already_imported
    assert store.table_counts(demo_copy) == counts


def test_crisis_sources_are_stored_apart_and_each_events_level_kept(demo_copy, tmp_path):
    """班主任, 任课教师, 心理委员 and 同学 each get their own code in a real store (issue #14); the old 观察 too."""
    header = "个案编号,学籍号,学校,来源,严重程度,序号,阶段,层级,时间"
    rows = [
        ("T1", "G9001", "班主任", "1", "发现", "班级", "2025-10-01 08:00"),
        ("T1", "G9001", "班主任", "2", "确认", "学校", "2025-10-02 08:00"),
        ("T1", "G9001", "班主任", "3", "转介", "社会", "2025-10-05 08:00"),
        ("T2", "G9002", "任课教师", "1", "发现", "班级", "2025-10-03 08:00"),
        ("T3", "G9003", "心理委员", "1", "发现", "班级", "2025-10-04 08:00"),
        ("T4", "G9004", "同学", "1", "发现", "班级", "2025-10-04 09:00"),
        ("T5", "G9005", "观察", "1", "发现", "班级", "2025-10-04 10:00"),
    ]
    lines = [header] + [
        f"{c},{n},示例第一初级中学,{src},2,{q},{st},{lv},{t}" for c, n, src, q, st, lv, t in rows
    ]
    result = ingest.import_file(
        demo_copy, "crisis", _write(tmp_path / "危机个案.csv", lines), key=synth.DEMO_KEY
    )
    assert result.quarantined == 0 and result.stored == len(rows)
    with demo_copy.connect() as conn:
        stored = dict(
            conn.execute(
                sa.select(schema.crisis_case.c.case_id, schema.crisis_case.c.source).where(
                    schema.crisis_case.c.batch_id == result.batch_id
                )
            ).all()
        )
    assert stored == {
        "T1": "head_teacher",
        "T2": "teacher",
        "T3": "class_committee",
        "T4": "peer",
        "T5": "observation",
    }
    events = crisis_queries.crisis_events(demo_copy)
    cases = crisis.case_histories(events[events["case_id"].str.startswith("T")], as_of="2025-12-01").cases
    assert cases.set_index("case_id")["level"].to_dict() == {
        "T1": "society",
        "T2": "class",
        "T3": "class",
        "T4": "class",
        "T5": "class",
    }


def test_roster_sample_matches_the_demo_enrolments(demo_copy):
    result = ingest.import_file(demo_copy, "roster", SAMPLES / "roster_2025-2026.xlsx", key=synth.DEMO_KEY)
    e = schema.enrolment
    with demo_copy.connect() as conn:
        mine = conn.execute(
            sa.select(e.c.pid, e.c.school_id, e.c.grade, e.c.class_no, e.c.boarder).where(
                e.c.batch_id == result.batch_id
            )
        ).all()
    assert result.stored == len(mine) > 100
    # upserts kept every value the demo had: the roster says what the district says
    with demo_copy.connect() as conn:
        students = conn.execute(sa.select(sa.func.count()).select_from(schema.student)).scalar_one()
    assert students == store.table_counts(demo_copy)["student"]


def test_describe_lists_chinese_and_english_aliases():
    text = ingest.describe("screening")
    assert "学籍号" in text and "student_number" in text and "作答用时" in text
    with pytest.raises(ingest.IngestError):
        ingest.describe("grades")


def test_sdq_needs_its_informant_and_is_scored_with_its_bands(lite, tmp_path):
    """SDQ bands differ by informant (self / parent / teacher): the importer refuses to guess."""
    header = ",".join(["学籍号", "性别", *[str(i) for i in range(1, 26)]])
    path = _write(tmp_path / "sdq.csv", [header, ",".join(["G1", "男", *["1"] * 25])])
    with pytest.raises(ingest.IngestError, match="--informant"):
        ingest.import_file(lite, "screening", path, key=KEY, wave="2025-autumn", instrument="sdq")
    result = ingest.import_file(
        lite, "screening", path, key=KEY, wave="2025-autumn", instrument="sdq", informant="self"
    )
    assert result.stored == 1
    with lite.connect() as conn:
        total = conn.execute(
            sa.select(schema.score.c.raw, schema.score.c.band).where(schema.score.c.scale == "total")
        ).one()
    # all 25 items coded 1: each difficulty subscale 5 (reverse items 2-1 = 1) → total 20, self-report 'very high'
    assert (total.raw, total.band) == (20.0, "very_high")


def test_spreadsheet_rewritten_numbers_and_odd_classes_are_refused_not_cut_down(lite, tmp_path):
    header = ",".join(["学籍号", "学校", "年级", "班级", *[f"Q{i}" for i in range(1, 10)]])
    items = ",".join(["1"] * 9)
    lines = [
        header,
        f"1.23456789012345E+17,示例第一中学,7,1,{items}",
        f"G2,示例第一中学,7,1001,{items}",
        f"G3,示例第一中学,7,初一(3)班,{items}",
    ]
    result = ingest.import_file(
        lite, "screening", _write(tmp_path / "x.csv", lines), key=KEY, wave="2025-autumn", instrument="phq9"
    )
    reasons = {p.line_no: p.reason for problems in result.problems for p in problems}
    assert reasons == {2: "bad_number_format", 3: "bad_class"}
    with lite.connect() as conn:
        assert conn.execute(sa.select(schema.enrolment.c.class_no)).scalars().all() == [3]


def test_title_lines_above_the_header_are_skipped_and_reported(lite, tmp_path):
    """Platform exports often open with a title and an export date; line numbers stay the file's own."""
    lines = _phq9_lines(
        [f"{i}.题干" for i in range(1, 10)], [*ROWS, ("G9", "李四", [0, 0, 0, 0, 9, 0, 0, 0, 0])]
    )
    title = ["钟楼区2025年秋季心理普测结果", "导出时间：2025-10-30", ""]
    path = _write(tmp_path / "titled.csv", [*title, *lines], "gbk")
    result = ingest.import_file(lite, "screening", path, key=KEY, wave="2025-autumn", instrument="phq9")
    assert (result.header_line, result.above_header) == (4, tuple(title))
    assert (result.rows_read, result.stored, result.quarantined) == (3, 2, 1)
    assert result.problems[0][0].line_no == 7 and result.problems[0][0].reason == "out_of_range"
    assert result.summary()["header_line"] == 4


@pytest.mark.parametrize("title", [[], ["钟楼区2024年秋季普测 总分导出"]])
def test_a_score_only_file_keeps_its_header_and_never_takes_a_data_row_for_it(lite, tmp_path, title):
    """Only 学籍号 is a known column name here; the score cells (36, 2 …) look like item numbers."""
    lines = [*title, "学籍号,总分,学习焦虑,对人焦虑", "G1,36,2,5", "G2,40,3,4"]
    result = ingest.import_file(
        lite,
        "screening",
        _write(tmp_path / "scores.csv", lines),
        key=KEY,
        wave="2024-autumn",
        instrument="mht",
    )
    assert (result.header_line, result.rows_read, result.stored, result.quarantined) == (
        len(title) + 1,
        2,
        2,
        0,
    )


def test_title_row_above_the_header_of_a_workbook_is_skipped(lite, tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append(["钟楼区2025年秋季心理普测结果"])
    wb.active.append(["学籍号", "姓名", *[f"Q{i}" for i in range(1, 10)]])
    wb.active.append(["G1", "张三", *[1] * 9])
    wb.active.append(["G2", "李四", *[1] * 8, 7])
    path = tmp_path / "titled.xlsx"
    wb.save(path)
    result = ingest.import_file(lite, "screening", path, key=KEY, wave="2025-autumn", instrument="phq9")
    assert (result.header_line, result.above_header) == (2, ("钟楼区2025年秋季心理普测结果",))
    assert (result.rows_read, result.stored, result.quarantined) == (2, 1, 1)
    assert result.problems[0][0].line_no == 4


def test_workbook_with_data_on_several_sheets_is_refused(lite, tmp_path):
    """Reading only the first sheet would silently drop the students on the others."""
    wb = openpyxl.Workbook()
    wb.active.title = "四年级"
    for sheet in (wb.active, wb.create_sheet("五年级")):
        sheet.append(["学籍号", *[f"Q{i}" for i in range(1, 10)]])
        sheet.append([f"G{sheet.title}", *[1] * 9])
    path = tmp_path / "two_sheets.xlsx"
    wb.save(path)
    with pytest.raises(ingest.IngestError, match="五年级"):
        ingest.import_file(lite, "screening", path, key=KEY, wave="2025-autumn", instrument="phq9")
    assert store.table_counts(lite)["response"] == 0


def test_unverified_scoring_rules_are_not_applied_on_import(lite, tmp_path):
    """DSRSC's reverse keys are unverified (docs/instruments.md §3, pitfall 4): answers only, never scores."""
    header = ",".join(["学籍号", *[str(i) for i in range(1, 19)]])
    path = _write(tmp_path / "dsrsc.csv", [header, "G1," + ",".join(["1"] * 18)])
    with pytest.raises(ingest.IngestError, match="--no-score"):
        ingest.import_file(lite, "screening", path, key=KEY, wave="2025-autumn", instrument="dsrsc")
    result = ingest.import_file(
        lite, "screening", path, key=KEY, wave="2025-autumn", instrument="dsrsc", score=False
    )
    counts = store.table_counts(lite)
    assert result.stored == 1 and counts["response"] == 1 and counts["score"] == 0


def test_a_later_file_without_a_column_does_not_erase_what_is_stored(lite, tmp_path):
    """Re-importing a roster that lacks 性别/出生年份/届 keeps the stored values (a blank never erases)."""
    full = ["学籍号,性别,出生年份,届,学校,学年,年级,班级", "G1,女,2012,2019,示例第一中学,2025-2026,7,2"]
    thin = ["学籍号,学校,学年,年级,班级", "G1,示例第一中学,2025-2026,7,3"]
    for name, lines in (("full.csv", full), ("thin.csv", thin)):
        result = ingest.import_file(lite, "roster", _write(tmp_path / name, lines), key=KEY)
        assert result.stored == 1
    with lite.connect() as conn:
        student = conn.execute(sa.select(schema.student)).one()
        enrolment = conn.execute(sa.select(schema.enrolment)).one()
    assert (student.gender, student.birth_year, student.cohort) == ("F", 2012, 2019)
    assert enrolment.class_no == 3  # a value the later file gives does replace the stored one


def test_intervention_labels_map_to_codes_and_unknown_ones_are_refused(lite, tmp_path):
    """团体辅导 is group_counselling; free text must not split one category in two."""
    header = "项目编号,项目名称,干预类型,学校,学年,结局量表,计划次数,开始日期,结束日期,学籍号,组别"
    base = "GC1,情绪调节小组,{kind},示例第一中学,2025-2026,{instrument},8,2025-10-08,2025-12-01,{pid},实验组"
    lines = [
        header,
        base.format(kind="团体辅导", instrument="PHQ-9", pid="G1"),
        base.format(kind="团辅", instrument="phq9", pid="G2"),
        base.replace("GC1", "GC2").format(kind="郊游", instrument="phq9", pid="G3"),
        base.replace("GC1", "GC3").format(kind="团体辅导", instrument="PHQ-10", pid="G4"),
    ]
    result = ingest.import_file(lite, "interventions", _write(tmp_path / "iv.csv", lines), key=KEY)
    reasons = {p.line_no: p.reason for problems in result.problems for p in problems}
    assert (result.stored, reasons) == (2, {4: "bad_choice", 5: "unknown_instrument"})
    with lite.connect() as conn:
        assert conn.execute(
            sa.select(schema.intervention.c.kind, schema.intervention.c.instrument)
        ).all() == [("group_counselling", "phq9")]


def test_scl90_coded_from_zero_is_refused_whole_or_shifted_on_request(lite, tmp_path):
    """SCL-90 is coded 1-5; a 0-4 file must not be half refused and half scored one step low."""
    header = ",".join(["学籍号", *[str(i) for i in range(1, 91)]])
    lines = [header, "G1," + ",".join(["0"] * 90), "G2," + ",".join(["1"] * 90)]
    path = _write(tmp_path / "scl90.csv", lines)
    with pytest.raises(ingest.IngestError, match="--zero-based"):
        ingest.import_file(lite, "screening", path, key=KEY, wave="2025-autumn", instrument="scl90")
    assert store.table_counts(lite)["response"] == 0
    result = ingest.import_file(
        lite, "screening", path, key=KEY, wave="2025-autumn", instrument="scl90", zero_based=True
    )
    assert result.stored == 2
    with lite.connect() as conn:
        totals = (
            conn.execute(
                sa.select(schema.score.c.raw)
                .where(schema.score.c.scale == "total")
                .order_by(schema.score.c.raw)
            )
            .scalars()
            .all()
        )
    assert totals == [90.0, 180.0]  # 0-4 codes 0 and 1 are SCL-90 codes 1 and 2
