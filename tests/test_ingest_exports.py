"""The importer on files shaped like the ones schools really send (issue #9): lines a person adds to a
sheet, identifiers under unexpected headers, control characters in refused lines, files of another
kind, and the messages a school secretary reads."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import exports_support as exports
import openpyxl
import pytest
import sqlalchemy as sa

from psychanalytics import ingest, store
from psychanalytics.privacy.pseudonym import pseudonymise
from psychanalytics.store import schema

KEY = b"test key for the export suite, 32 bytes"
SCHOOL = dict(school_id="S02", name="示例第一中学", stage="junior", location="urban")
ITEMS = [f"Q{i}" for i in range(1, 10)]


@pytest.fixture
def lite(sqlite_engine: sa.Engine) -> sa.Engine:
    with sqlite_engine.begin() as conn:
        store.upsert(conn, schema.school, [SCHOOL])
    return sqlite_engine


def _write(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def _phq9(engine: sa.Engine, path: Path, **options) -> ingest.ImportResult:
    return ingest.import_file(
        engine, "screening", path, key=KEY, wave="2025-autumn", instrument="phq9", **options
    )


def _database_bytes(engine: sa.Engine) -> bytes:
    """Every byte SQLite keeps for the database: the file, its WAL and shared memory, after the engine closed."""
    path = Path(engine.url.database)
    engine.dispose()
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists())


def test_lines_a_person_adds_are_reported_and_never_stored(lite, tmp_path):
    header = ",".join(["学籍号", "姓名", "性别", *ITEMS])
    lines = [
        header,
        "G1,王五,女," + ",".join("1" * 9),
        "合计,,," + ",".join("9" * 9),  # line 3: a total row
        header,  # line 4: a second export pasted below the first
        "G2,赵六,男," + ",".join("2" * 9),
        "平均分,,," + ",".join(["1.5"] * 9),  # line 6
        ",制表人：李老师,,,,,,,,,,",  # line 7: a signature, the key cell empty
        "审核：张主任",  # line 8: a signature on a line of its own
        "备注：本表由班主任填写",  # line 9
        ",钱七,女," + ",".join("0" * 9),  # line 10: a student without 学籍号 is refused, not dropped
    ]
    result = _phq9(lite, _write(tmp_path / "x.csv", lines))
    assert result.non_data_lines == (3, 4, 6, 7, 8, 9)
    assert (result.rows_read, result.stored, result.quarantined) == (3, 2, 1)
    assert [(p.line_no, p.reason) for p in result.problems[0]] == [(10, "missing_required")]
    dump = _database_bytes(lite)
    for text in ("李老师", "张主任", "班主任", "合计", "平均分"):
        assert text.encode() not in dump


def test_identifiers_under_any_header_never_reach_the_database(lite, tmp_path):
    """A form adds a differently worded name question, an ID card, a parent's phone and the platform's IP."""
    header = ["学籍号", "孩子的名字", "身份证号", "家长手机", "来自IP", "性别", *ITEMS]
    good = [
        "G320404201201010014",
        "欧阳娜娜",
        "320404201201010014",
        "13912345678",
        "58.217.3.4(江苏-常州)",
        "女",
    ]
    bad = [
        "G320404201305050029",
        "司马光",
        "320404201305050029",
        "13800001111",
        "117.88.1.2(江苏-常州)",
        "男",
    ]
    lines = [
        ",".join(header),
        ",".join([*good, *"012301230"]),
        ",".join([*bad, *"012341230"]),  # item 5 out of range: refused, kept in quarantine
        ",".join([*bad[:3], "13800001111"]),  # a short row
    ]
    result = _phq9(lite, _write(tmp_path / "x.csv", lines))
    assert (result.stored, result.quarantined) == (1, 2)
    assert set(result.ignored_columns) == {"孩子的名字", "身份证号", "家长手机"}
    assert result.platform_columns == ("来自IP",)
    dump = _database_bytes(lite)
    for value in [*good[:5], *bad[:5], "58.217.3.4", "117.88.1.2"]:
        assert value.encode() not in dump, value


def test_a_control_character_in_a_refused_line_gets_its_report_and_no_traceback(lite, tmp_path):
    lines = [",".join(["学籍号", "姓名", "性别", *ITEMS]), "G1,王\x00五,女," + ",".join("012341230")]
    path = _write(tmp_path / "nul.csv", lines)
    result = _phq9(lite, path, report=tmp_path / "report.xlsx")
    assert result.quarantined == 1 and result.report == tmp_path / "report.xlsx"
    sheet = openpyxl.load_workbook(result.report).active
    assert sheet.cell(2, 6).value == "G1,王\\x00五,女,0,1,2,3,4,1,2,3,0"


def test_a_report_that_cannot_be_written_leaves_nothing_stored(lite, tmp_path):
    lines = [",".join(["学籍号", "姓名", "性别", *ITEMS]), "G1,王五,女," + ",".join("012341230")]
    (tmp_path / "not-a-folder").write_text("a file where the report's folder should be")
    before = store.table_counts(lite)
    with pytest.raises(OSError):
        _phq9(lite, _write(tmp_path / "x.csv", lines), report=tmp_path / "not-a-folder" / "report.xlsx")
    assert store.table_counts(lite) == before


def test_a_staff_list_given_as_screening_names_the_right_kind(lite, tmp_path):
    lines = ["工号,姓名,学校,专兼职,学年", "T001,李老师,示例第一中学,专职,2025-2026"]
    with pytest.raises(ingest.IngestError, match="import staff"):
        _phq9(lite, _write(tmp_path / "staff.csv", lines))


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "psychanalytics.cli", "import", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_cli_names_a_missing_file_before_a_missing_key(lite, tmp_path):
    lines = [",".join(["学籍号", "姓名", "性别", *ITEMS]), "G1,王五,女," + ",".join("012301230")]
    key = tmp_path / "key"
    db = str(lite.url.database)
    ok = _cli("screening", str(_write(tmp_path / "x.csv", lines)), "--db", db, "--wave", "2025-autumn",
              "--instrument", "phq9", "--key-file", str(key), cwd=tmp_path)  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    key.unlink()
    missing_both = _cli("screening", str(tmp_path / "nowhere.csv"), "--db", db, "--wave", "2025-autumn",
                        "--instrument", "phq9", "--key-file", str(key), cwd=tmp_path)  # fmt: skip
    assert missing_both.returncode == 2 and "文件不存在" in missing_both.stderr
    assert "密钥" not in missing_both.stderr
    missing_key = _cli("screening", str(tmp_path / "x.csv"), "--db", db, "--wave", "2025-autumn",
                       "--instrument", "phq9", "--key-file", str(key), "--json", cwd=tmp_path)  # fmt: skip
    error = json.loads(missing_key.stdout)["error"]
    assert missing_key.returncode == 2 and error.startswith("密钥文件不存在")
    assert "--key-file" in error and "PSYCHANALYTICS_KEY_FILE" in error


def test_a_nul_in_a_refused_line_through_the_cli_prints_no_student(lite, tmp_path):
    lines = [",".join(["学籍号", "姓名", "性别", *ITEMS]), "G9876,王\x00五,女," + ",".join("012341230")]
    done = _cli("screening", str(_write(tmp_path / "nul.csv", lines)), "--db", str(lite.url.database),
                "--wave", "2025-autumn", "--instrument", "phq9", "--key-file", str(tmp_path / "key"),
                cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "nul_quarantine.xlsx").is_file()
    assert "G9876" not in done.stdout + done.stderr and "王" not in done.stdout + done.stderr


NORMALISED = ("apostrophe", "trailing_control", "trailing_del", "trailing_nul", "zero_width", "full_width")
NORMALISED += ("spaces", "lower_case", "without_g")


def _known_roster(engine: sa.Engine, tmp_path: Path, seed: int, n: int) -> exports.ExportTruth:
    roster = exports.school_export(tmp_path / "roster.csv", seed, kind="roster", n=n, local_share=0.3)
    done = ingest.import_file(engine, "roster", roster.path, key=KEY, school_year="2025-2026")
    assert done.stored == n
    return roster


def _students(engine: sa.Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(sa.select(schema.student.c.pid)).scalars())


def test_numbers_a_keyboard_or_excel_changed_reversibly_land_on_the_known_student(lite, tmp_path):
    roster = _known_roster(lite, tmp_path, 11, 3 * len(NORMALISED))
    known = _students(lite)
    g_numbers = [i for i, s in enumerate(roster.students) if s.student_number.startswith("G")]
    damage = dict(zip(g_numbers, NORMALISED, strict=False))
    assert len(damage) == len(NORMALISED)
    wave = exports.school_export(
        tmp_path / "wave.csv", 11, n=len(roster.students), local_share=0.3, damage=damage
    )
    result = _phq9(lite, wave.path)
    assert (result.stored, result.quarantined) == (len(roster.students), 0)
    assert _students(lite) == known  # no student created
    with lite.connect() as conn:
        answered = set(conn.execute(sa.select(schema.response.c.pid)).scalars())
    assert answered == known


@pytest.mark.parametrize(
    ("steps", "reason"),
    [
        (("without_g", "excel_number"), "precision_lost"),
        (("without_g", "scientific"), "bad_number_format"),
        (("without_g", "excel_number", "dot_zero"), "bad_number_format"),
    ],
)
def test_numbers_that_lost_digits_are_refused_with_what_to_do(lite, tmp_path, steps, reason):
    roster = _known_roster(lite, tmp_path, 12, 6)
    known = _students(lite)
    first_g = next(i for i, s in enumerate(roster.students) if s.student_number.startswith("G"))
    wave = exports.school_export(tmp_path / "w.csv", 12, n=6, local_share=0.3, damage={first_g: steps})
    result = _phq9(lite, wave.path)
    assert [(p.line_no, p.reason) for (p,) in result.problems] == [(wave.student_lines[first_g], reason)]
    assert _students(lite) == known


def test_a_local_number_that_lost_its_leading_zeros_is_refused_naming_the_known_one(lite, tmp_path):
    roster = _known_roster(lite, tmp_path, 13, 12)
    zeros = next(i for i, s in enumerate(roster.students) if s.student_number.startswith("00"))
    wave = exports.school_export(
        tmp_path / "w.csv", 13, n=12, local_share=0.3, damage={zeros: "excel_number"}
    )
    result = _phq9(lite, wave.path)
    ((problem,),) = result.problems
    number = roster.students[zeros].student_number
    assert (problem.reason, problem.line_no) == ("known_variant", wave.student_lines[zeros])
    assert f"库中已有 {number}" in problem.value and number.lstrip("0") in problem.value
    assert len(_students(lite)) == 12


def test_numeric_identifier_cells_in_a_workbook_are_refused_not_rounded(lite, tmp_path):
    wave = exports.school_export(
        tmp_path / "w.xlsx",
        14,
        n=6,
        local_share=0.0,
        damage={0: "without_g"},
        numeric_ids=True,
        file_format="xlsx",
    )
    result = _phq9(lite, wave.path)
    assert [(p.line_no, p.reason) for (p,) in result.problems] == [
        (wave.student_lines[0], "bad_number_format")
    ]


@pytest.mark.parametrize(("rule", "stored_as"), [("add_g", "G"), ("keep", ""), ("refuse", None)])
def test_the_rule_for_a_bare_id_card_is_explicit(lite, tmp_path, rule, stored_as):
    wave = exports.school_export(tmp_path / "w.csv", 15, n=3, local_share=0.0, damage={1: "without_g"})
    result = _phq9(lite, wave.path, bare_id_card=rule)
    bare = wave.students[1].student_number[1:]
    if stored_as is None:
        assert [p.reason for (p,) in result.problems] == ["bare_id_card"] and result.stored == 2
    else:
        assert pseudonymise([stored_as + bare], KEY)[0] in _students(lite)


def _stored_items(engine: sa.Engine) -> dict[str, tuple[int, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(schema.response.c.pid, schema.response.c["items"])).all()
    return {pid: tuple(int(b) for b in bytes(items)) for pid, items in rows}


def _truth_items(truth: exports.ExportTruth) -> dict[str, tuple[int, ...]]:
    pids = pseudonymise([s.student_number for s in truth.students], KEY)
    return dict(zip(pids, truth.codes, strict=True))


@pytest.mark.parametrize("spelling", [0, 1, 2, 3])
def test_a_wjx_export_with_option_text_stores_the_codes_and_nothing_personal(lite, tmp_path, spelling):
    truth = exports.wjx_export(
        tmp_path / "wjx.csv",
        21,
        n=12,
        spelling=spelling,
        name_question="你的名字",
        extra_questions=["家长手机", "身份证号"],
    )
    result = _phq9(lite, truth.path)
    assert (result.stored, result.quarantined) == (12, 0)
    assert _stored_items(lite) == _truth_items(truth)
    assert result.item_columns[0].startswith("9、做事时提不起劲") and len(result.item_columns) == 9
    assert result.platform_columns == exports.WJX_METADATA
    assert set(result.ignored_columns) == {"7、家长手机", "8、身份证号"}
    dump = _database_bytes(lite)
    for record in (
        truth.column(5) + truth.column(12) + truth.column(13) + truth.column(7)
    ):  # IPs, phones, IDs, names
        assert str(record).split("(")[0].encode() not in dump


def test_a_wjx_export_by_option_number_is_refused_whole(lite, tmp_path):
    truth = exports.wjx_export(tmp_path / "wjx.csv", 22, n=8, answers="number")
    with pytest.raises(ingest.IngestError, match="按选项文本下载"):
        _phq9(lite, truth.path)
    assert _students(lite) == set()


def test_option_numbers_for_an_instrument_coded_from_zero_are_refused_not_stored_shifted(lite, tmp_path):
    truth = exports.school_export(tmp_path / "w.csv", 23, n=15, local_share=0.0)
    numbers = tmp_path / "numbers.csv"
    records = [",".join(truth.records[0])] + [
        ",".join([*truth.records[i][:6], *(str(code + 1) for code in codes)])
        for i, codes in zip(truth.student_records, truth.codes, strict=True)
    ]
    _write(numbers, records)
    with pytest.raises(ingest.IngestError, match="选项序号") as refused:
        _phq9(lite, numbers)
    assert "--option-numbers" in str(refused.value) and _students(lite) == set()
    result = _phq9(lite, numbers, option_numbers=True)
    assert result.stored == 15 and _stored_items(lite) == _truth_items(truth)


def test_mht_option_numbers_follow_the_forms_order(lite, tmp_path):
    """MHT asks 是 (code 1) before 不是 (code 0): option number 1 is code 1, option number 2 is code 0."""
    truth = exports.school_export(tmp_path / "w.csv", 24, instrument="mht", n=6, local_share=0.0)
    numbers = tmp_path / "numbers.csv"
    records = [",".join(truth.records[0])] + [
        ",".join([*truth.records[i][:6], *("1" if code == 1 else "2" for code in codes)])
        for i, codes in zip(truth.student_records, truth.codes, strict=True)
    ]
    _write(numbers, records)
    result = ingest.import_file(
        lite, "screening", numbers, key=KEY, wave="2025-autumn", instrument="mht", option_numbers=True
    )
    assert result.stored == 6 and _stored_items(lite) == _truth_items(truth)


def test_full_width_digits_and_unknown_option_text_in_item_cells(lite, tmp_path):
    truth = exports.school_export(tmp_path / "w.csv", 25, n=6, local_share=0.0, full_width_items=True)
    assert any(
        "２" in "".join(truth.records[i]) or "１" in "".join(truth.records[i]) for i in truth.student_records
    )
    records = [list(r) for r in truth.records]
    records[truth.student_records[0]][6] = "偶尔"  # not one of PHQ-9's option texts
    _write(truth.path, [",".join(r) for r in records])
    result = _phq9(lite, truth.path)
    assert result.stored == 5
    ((problem,),) = result.problems
    assert (problem.reason, problem.value, problem.line_no) == (
        "unknown_option",
        "偶尔",
        truth.student_lines[0],
    )
    assert "完全不会 / 好几天 / 一半以上的天数 / 几乎每天" in problem.message
    expected = _truth_items(truth)
    del expected[pseudonymise([truth.students[0].student_number], KEY)[0]]
    assert _stored_items(lite) == expected


def _rewrite(truth: exports.ExportTruth, path: Path, edits: dict[tuple[int, int], str]) -> Path:
    """The file of ``truth`` written again with cells changed: (student, column) → new text."""
    records = [list(r) for r in truth.records]
    for (student, column), text in edits.items():
        records[truth.student_records[student]][column] = text
    return _write(path, [",".join(r) for r in records])


def test_a_corrected_screening_file_reports_what_it_changed_and_what_it_did_not(lite, tmp_path):
    truth = exports.school_export(tmp_path / "first.csv", 31, n=10, local_share=0.0)
    first = _phq9(lite, truth.path)
    assert (first.new, first.changed, first.unchanged) == (10, 0, 0)
    q5, q2, gender = 6 + 4, 6 + 1, 2
    flip = {"0": "1", "1": "0", "2": "3", "3": "2"}
    edits = {
        (0, q5): flip[truth.records[truth.student_records[0]][q5]],
        (3, q5): flip[truth.records[truth.student_records[3]][q5]],
        (3, q2): flip[truth.records[truth.student_records[3]][q2]],
        (7, gender): "男" if truth.students[7].gender == "女" else "女",
    }
    corrected = _phq9(lite, _rewrite(truth, tmp_path / "corrected.csv", edits))
    assert (corrected.new, corrected.changed, corrected.unchanged) == (0, 2, 8)
    assert dict(corrected.changed_cells) == {"Q5": 2, "Q2": 1}
    assert corrected.not_applied == (("性别", 1, (truth.student_lines[7],)),)
    stored = _stored_items(lite)[pseudonymise([truth.students[0].student_number], KEY)[0]]
    assert stored[4] == int(edits[(0, q5)])


def test_a_corrected_roster_applies_the_correction_and_says_so(lite, tmp_path):
    truth = exports.school_export(tmp_path / "roster.csv", 32, kind="roster", n=8, local_share=0.0)
    ingest.import_file(lite, "roster", truth.path, key=KEY, school_year="2025-2026")
    other = "男" if truth.students[2].gender == "女" else "女"
    corrected = ingest.import_file(
        lite,
        "roster",
        _rewrite(truth, tmp_path / "fixed.csv", {(2, 2): other}),
        key=KEY,
        school_year="2025-2026",
    )
    assert (corrected.new, corrected.changed, corrected.unchanged) == (0, 1, 7)
    assert dict(corrected.changed_cells) == {"性别": 1} and corrected.not_applied == ()
    pid = pseudonymise([truth.students[2].student_number], KEY)[0]
    with lite.connect() as conn:
        gender = conn.execute(
            sa.select(schema.student.c.gender).where(schema.student.c.pid == pid)
        ).scalar_one()
    assert gender == {"男": "M", "女": "F"}[other]


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
@pytest.mark.parametrize("header_rows", ["group", "split"])
def test_a_header_over_two_rows_is_read(lite, tmp_path, header_rows, file_format):
    truth = exports.school_export(
        tmp_path / f"w.{file_format}",
        41,
        n=6,
        local_share=0.0,
        header_rows=header_rows,
        file_format=file_format,
    )
    result = _phq9(lite, truth.path)
    assert (result.stored, result.quarantined) == (6, 0)
    assert _stored_items(lite) == _truth_items(truth)
    assert result.header_line == truth.record_lines[truth.header_index]


def test_a_header_that_cannot_be_read_names_the_row_it_tried(lite, tmp_path):
    path = _write(tmp_path / "w.csv", ["学籍号,姓名,PHQ-9,,", ",,第一部分,,", "G1,王五,0,1,2"])
    with pytest.raises(ingest.IngestError, match="表头取自第 1 行"):
        _phq9(lite, path)


@pytest.mark.parametrize(
    "options",
    [
        {"encoding": "utf-16", "delimiter": "\t", "newline": "\r\n"},
        {"encoding": "gbk", "newline": "\r"},
        {"encoding": "utf-8-sig", "trailing_empty": 3},
    ],
    ids=["excel-unicode-text", "gbk-bare-cr", "bom-padded"],
)
def test_formats_schools_produce_are_read(lite, tmp_path, options):
    truth = exports.school_export(tmp_path / "w.csv", 42, n=8, local_share=0.0, **options)
    result = _phq9(lite, truth.path)
    assert (result.stored, result.quarantined) == (8, 0)
    assert _stored_items(lite) == _truth_items(truth)


@pytest.mark.parametrize(
    ("file_format", "name", "message"),
    [("xls", "w.xls", "另存为"), ("xls", "w.csv", "另存为"), ("html", "w.xls", "网页格式")],
)
def test_legacy_and_html_workbooks_are_refused_with_what_to_do(lite, tmp_path, file_format, name, message):
    truth = exports.school_export(tmp_path / name, 43, n=3, file_format=file_format)
    with pytest.raises(ingest.IngestError, match=message):
        _phq9(lite, truth.path)


@pytest.mark.slow
def test_the_issues_roster_with_a_two_line_name_across_the_first_cut_stores_every_student(lite, tmp_path):
    """200,000 roster rows; the row crossing byte 1,048,576 has the name "王\\n五" (line feed before the
    boundary, closing quote after it). Before the fix: rows_read 200001, stored 199999, 2 short rows."""
    truth = exports.large_roster(tmp_path / "roster.csv")
    result = ingest.import_file(lite, "roster", truth.path, key=KEY, school_year="2025-2026")
    assert (result.rows_read, result.stored, result.quarantined) == (200_000, 200_000, 0)


def test_a_student_erased_at_a_request_is_not_brought_back_by_a_later_file(lite, tmp_path):
    from psychanalytics.store.erasure import forget

    first = exports.school_export(tmp_path / "first.csv", 51, n=5, local_share=0.0)
    _phq9(lite, first.path)
    erased = pseudonymise([first.students[2].student_number], KEY)[0]
    forget(lite, [erased])
    again = exports.school_export(tmp_path / "again.csv", 51, n=5, local_share=0.0, title_lines=["重新导出"])
    result = ingest.import_file(lite, "screening", again.path, key=KEY, wave="2026-spring", instrument="phq9")
    assert [(p.line_no, p.reason) for (p,) in result.problems] == [(again.student_lines[2], "erased")]
    assert erased not in _students(lite) and result.stored == 4
