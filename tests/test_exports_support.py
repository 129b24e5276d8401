"""The export generator itself (tests/exports_support.py): every file holds what its truth says."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import unicodedata
from html.parser import HTMLParser

import exports_support as ex
import numpy as np
import openpyxl
import pytest

from psychanalytics import instruments

LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _csv_records(path, encoding: str, delimiter: str = ",") -> tuple[tuple[str, ...], ...]:
    text = path.read_bytes().decode("utf-16" if encoding == "utf-16" else encoding)
    return tuple(map(tuple, csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)))


def _trimmed(values) -> tuple:
    values = list(values)
    while values and values[-1] in (None, ""):
        values.pop()
    return tuple(values)


# --- identity ---------------------------------------------------------------------------------------


def test_check_characters_match_the_standards_own_examples():
    """GB 11643-1999 gives 11010519491231002X and 440524188001010014 as examples."""
    assert ex.id_check_characters(["11010519491231002", "44052418800101001"]).tolist() == ["X", "4"]
    assert ex.is_valid_id_number("11010519491231002X") and ex.is_valid_id_number("440524188001010014")
    assert not ex.is_valid_id_number("11010519491231002x")  # lower case is a damage, not a number
    with pytest.raises(ValueError, match="17 digits"):
        ex.id_check_characters(["１１０１０５１９４９１２３１００２"])


def test_students_have_valid_distinct_numbers_fitting_their_grade_and_sex():
    students = ex.make_students(11, 3000, grades=(1, 4, 7, 10), local_share=0.1)
    assert len({s.student_number for s in students}) == len(students)
    for s in students:
        first, last = ex.birth_range(s.grade, "2025-2026")
        assert ex.is_valid_id_number(s.id_number), s
        assert s.id_number[:6] in ex.REGIONS and s.id_number[6:14] == f"{s.birth:%Y%m%d}"
        assert first <= s.birth <= last
        assert (int(s.id_number[16]) % 2 == 1) == (s.gender == "男")
    shapes = {
        "G": r"G\d{17}[\dX]",
        "L": r"L\d{14}",
        "0": r"00\d{5}",
    }
    kinds = {s.student_number[0] for s in students}
    assert kinds == set(shapes)
    for s in students:
        assert re.fullmatch(shapes[s.student_number[0]], s.student_number), s.student_number
        if s.student_number[0] == "G":
            assert s.student_number == "G" + s.id_number
        if s.student_number[0] == "L":
            assert s.student_number[1:9] == f"{s.birth:%Y%m%d}"
    local = sum(s.student_number[0] != "G" for s in students) / len(students)
    assert 0.07 < local < 0.13


def test_birth_range_is_the_september_to_august_year_of_on_time_entry():
    assert ex.birth_range(1, "2025-2026") == (dt.date(2018, 9, 1), dt.date(2019, 8, 31))
    assert ex.birth_range(12, "2024-2025") == (dt.date(2006, 9, 1), dt.date(2007, 8, 31))


def test_names_mix_plain_compound_dot_and_spaced_names():
    names = ex.chinese_names(np.random.default_rng(0), 5000)
    dotted = [n for n in names if "·" in n]
    spaced = [n for n in names if " " in n or "\u3000" in n]
    compound = [n for n in names if n[:2] in ex._COMPOUND_SURNAMES]
    plain = [n for n in names if n not in dotted and n not in spaced]
    assert dotted and compound and spaced
    assert {" ", "\u3000"} <= {c for n in spaced for c in n}
    assert all(2 <= len(n) <= 4 for n in plain)
    "".join(names).encode("gbk")  # every name can go into a GBK file


def test_mobile_numbers_are_chinese_mobile_numbers():
    numbers = ex.mobile_numbers(np.random.default_rng(2), 500)
    assert all(re.fullmatch(r"1[3-9]\d{9}", n) for n in numbers)


# --- damage ------------------------------------------------------------------------------------------

NUMBER = "G320404201201010129"


def test_the_example_number_is_valid():
    assert ex.is_valid_id_number(NUMBER[1:])


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("dot_zero", "G320404201201010129.0"),
        ("without_g", "320404201201010129"),
        ("apostrophe", "'G320404201201010129"),
        ("trailing_control", "G320404201201010129\x01"),
        ("trailing_del", "G320404201201010129\x7f"),
        ("trailing_nul", "G320404201201010129\x00"),
        ("inner_nul", "G3204\x0004201201010129"),
        ("zero_width", "G\u200b320404201201010129"),
        ("full_width", "Ｇ３２０４０４２０１２０１０１０１２９"),
        ("spaces", "G32040 420120 101012 9"),
        ("lower_case", "g320404201201010129"),
    ],
)
def test_each_damage_of_a_g_number(name, expected):
    assert ex.damaged(NUMBER, name) == expected


@pytest.mark.parametrize("name", ["excel_number", "scientific"])
def test_excel_damage_needs_the_bare_number(name):
    with pytest.raises(ValueError, match="digits only"):
        ex.damaged(NUMBER, name)


def test_every_damage_is_tested_above():
    covered = {"dot_zero", "without_g", "apostrophe", "trailing_control", "trailing_del", "trailing_nul"}
    covered |= {"inner_nul", "zero_width", "full_width", "spaces", "lower_case", "excel_number", "scientific"}
    assert set(ex.DAMAGES) == covered


def test_excel_keeps_fifteen_digits_so_the_check_character_breaks():
    """Digits past the 15th become 0 (Microsoft KB 269370): the number keeps its shape, not its check."""
    ids = [s.id_number for s in ex.make_students(5, 300, local_share=0) if s.id_number[-1] != "X"]
    rounded = [ex.damaged("G" + i, ("without_g", "excel_number")) for i in ids]
    assert all(r[:15] == i[:15] and r[15:] == "000" for r, i in zip(rounded, ids, strict=True))
    still_valid = sum(map(ex.is_valid_id_number, rounded))
    assert still_valid < len(rounded) / 5  # valid only when the check of "…000" happens to be 0 (1 in 11)
    assert ex.excel_scientific("320404201201010000") == "3.20404E+17"
    assert ex.excel_scientific("00012345678") == "12345678"  # General shows up to 11 digits in full


def test_local_numbers_lose_their_leading_zeros_and_gain_a_dot_zero():
    assert ex.damaged("0012345", "excel_number") == "12345"
    assert ex.damaged("0012345", ("excel_number", "dot_zero")) == "12345.0"


def test_damage_refuses_what_cannot_happen():
    with pytest.raises(ValueError, match="starting with G"):
        ex.damaged("L20120901123456", "without_g")
    with pytest.raises(ValueError, match="unchanged"):
        ex.damaged("12345", "excel_number")
    with pytest.raises(ValueError, match="unknown damage"):
        ex.damaged(NUMBER, "coffee")
    with pytest.raises(ValueError, match="not a control character"):
        ex.with_control(NUMBER, "a")


def test_full_width_and_zero_width_normalise_back():
    assert unicodedata.normalize("NFKC", ex.full_width(NUMBER)) == NUMBER
    assert ex.with_zero_width(NUMBER).replace("\u200b", "") == NUMBER


# --- answers -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(ex.ANSWER_OPTIONS))
def test_answer_options_cover_the_instruments_codes(code):
    options, spec = ex.ANSWER_OPTIONS[code], instruments.get(code)
    assert sorted(options.codes) == list(spec.item_values)
    for spelling in options.spellings:
        assert len(spelling) == len(options.codes) == len(set(spelling))
    for value in spec.item_values:
        for mode in ex.ANSWER_MODES:
            assert options.code_of(options.cell(value, mode), mode) == value


def test_item_wording_only_where_the_licence_allows_it():
    for code, texts in ex.ITEM_TEXTS.items():
        spec = instruments.get(code)
        assert spec.licence.render_items and len(texts) == spec.n_items


# --- 问卷星 exports ------------------------------------------------------------------------------------


def test_wjx_header_is_the_documented_one(tmp_path):
    truth = ex.wjx_export(
        tmp_path / "gad7.csv",
        3,
        instrument="gad7",
        name_question="学生真实姓名",
        extra_questions=("身份证号", "家长手机", "家庭住址"),
    )
    expected = (
        *("序号", "提交答卷时间", "所用时间", "来源", "来源详情", "来自IP"),
        *("1、学籍号", "2、学生真实姓名", "3、性别", "4、学校", "5、年级", "6、班级"),
        *("7、身份证号", "8、家长手机", "9、家庭住址"),
        *("10、感觉紧张、焦虑或急切", "11、不能够停止或控制担忧", "12、对各种各样的事情担忧过多"),
        *("13、很难放松下来", "14、由于不安而无法静坐", "15、变得容易烦恼或急躁"),
        "16、感到似乎将有可怕的事情发生而害怕",
    )
    assert truth.records[0] == truth.columns == expected
    assert truth.header_index == 0 and truth.item_columns == tuple(range(15, 22))
    assert truth.path.read_bytes().startswith(codecs.BOM_UTF8 + "序号,".encode())
    assert b"\r\n" in truth.path.read_bytes()


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gbk"])
def test_wjx_csv_reads_back_as_the_truth_says(tmp_path, encoding):
    """As 问卷星 writes it (UTF-8 with a BOM) and as Excel saves it again (GBK)."""
    truth = ex.wjx_export(
        tmp_path / "w.csv",
        3,
        n=15,
        encoding=encoding,
        extra_questions=("家长姓名",),
        non_students=[("header", 8)],
        local_share=0,
        damage={2: ("without_g", "excel_number")},
    )
    assert _csv_records(truth.path, encoding) == truth.records
    assert truth.records[truth.student_records[8] - 1] == truth.columns
    assert truth.column(6)[2] == ex.excel_number(truth.students[2].id_number)


def test_wjx_items_of_an_instrument_without_wording_are_written_tigan(tmp_path):
    truth = ex.wjx_export(tmp_path / "mht.csv", 3, instrument="mht", n=2)
    assert [truth.columns[c] for c in truth.item_columns] == [f"{q}、题干" for q in range(7, 107)]


def test_wjx_metadata_and_personal_columns_look_like_the_platforms(tmp_path):
    truth = ex.wjx_export(
        tmp_path / "w.csv", 4, n=40, extra_questions=("身份证号", "联系电话", "家长姓名", "家庭住址")
    )
    assert truth.column(0) == [str(i) for i in range(1, 41)]
    times = [dt.datetime.strptime(t, "%Y/%m/%d %H:%M:%S") for t in truth.column(1)]
    assert times == sorted(times)
    assert all(re.fullmatch(r"\d+秒", s) for s in truth.column(2))
    assert set(truth.column(3)) <= {"微信", "手机提交", "链接"} and set(truth.column(4)) <= {
        "N/A",
        "直接访问",
    }
    assert all(re.fullmatch(r"\d+\.\d+\.\d+\.\d+\(江苏-常州\)", ip) for ip in truth.column(5))
    assert truth.column(12) == [s.id_number for s in truth.students]
    assert all(re.fullmatch(r"1[3-9]\d{9}", p) for p in truth.column(13))
    assert all(a.startswith("江苏省常州市钟楼区") and a.endswith("室") for a in truth.column(15))


@pytest.mark.parametrize("answers", ex.ANSWER_MODES)
@pytest.mark.parametrize("instrument", sorted(ex.ANSWER_OPTIONS))
def test_wjx_answers_decode_to_the_intended_codes(tmp_path, instrument, answers):
    truth = ex.wjx_export(tmp_path / "w.csv", 5, instrument=instrument, answers=answers, n=30)
    options = ex.ANSWER_OPTIONS[instrument]
    decoded = [
        tuple(options.code_of(truth.records[r][c], answers) for c in truth.item_columns)
        for r in truth.student_records
    ]
    assert decoded == list(truth.codes)
    assert {c for codes in truth.codes for c in codes} == set(options.codes)  # every option occurs
    gender, grade = 8, 10
    if answers == "number":
        assert [truth.choices[gender][int(g) - 1] for g in truth.column(gender)] == [
            s.gender for s in truth.students
        ]
        assert truth.choices[grade] == ("七年级", "八年级", "九年级")
        assert truth.column(grade) == [str(s.grade - 6) for s in truth.students]
    else:
        assert truth.column(gender) == [s.gender for s in truth.students]


def test_wjx_other_spellings_decode_too(tmp_path):
    truth = ex.wjx_export(tmp_path / "w.csv", 6, spelling=1, n=30)
    cells = {truth.records[r][c] for r in truth.student_records for c in truth.item_columns}
    assert cells <= set(ex.ANSWER_OPTIONS["phq9"].spellings[1]) and "几乎每一天" in cells


def test_wjx_xlsx_holds_option_numbers_in_number_cells(tmp_path):
    truth = ex.wjx_export(tmp_path / "w.xlsx", 7, answers="number", n=10, local_share=0, file_format="xlsx")
    sheet = openpyxl.load_workbook(truth.path).active
    assert tuple(_trimmed(r) for r in sheet.iter_rows(values_only=True)) == truth.records
    first = list(sheet.iter_rows(min_row=2, max_row=2))[0]
    assert first[0].data_type == "n" and first[6].data_type == "s"  # 序号 a number, 学籍号 text
    assert {first[c].data_type for c in (8, 10, *truth.item_columns)} == {"n"}


# --- school exports: CSV -----------------------------------------------------------------------------

TITLE = ("钟楼区2025年秋季心理普测结果", "导出时间：2025-10-30 16:20", "")
DAMAGE = {0: ("without_g", "scientific"), 1: "apostrophe", 2: "trailing_control", 4: "full_width"}
DAMAGE |= {5: "spaces", 6: "lower_case", 7: "without_g", 8: "inner_nul"}


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"], ids=["lf", "crlf", "cr"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_csv_reads_back_as_the_truth_says(tmp_path, encoding, newline):
    delimiter = "\t" if encoding == "utf-16" else ","
    truth = ex.school_export(
        tmp_path / "x.csv",
        8,
        n=25,
        local_share=0,
        encoding=encoding,
        delimiter=delimiter,
        newline=newline,
        title_lines=TITLE,
        non_students=[("header", 10), ("blank", 12), ("total", 25), ("signature", 25)],
        damage=DAMAGE,
        line_break_in_name=(3,),
        trailing_empty=3,
        full_width_items=True,
    )
    assert _csv_records(truth.path, encoding, delimiter) == truth.records
    assert truth.records[truth.student_records[3]][1][1] == "\n"
    assert [truth.records[r][0] for r in truth.student_records[:3]] == [
        ex.damaged(truth.students[i].student_number, DAMAGE[i]) for i in range(3)
    ]
    text = truth.path.read_bytes().decode("utf-16" if encoding == "utf-16" else encoding)
    lines = LINE_BREAK.split(text)
    for record, line in zip(truth.records, truth.record_lines, strict=True):
        assert lines[line - 1].startswith(record[0] if record else "")
    assert truth.student_lines[4] == truth.student_lines[3] + 2  # the name over two lines


def test_excel_unicode_text_is_utf16_with_a_bom_tabs_and_crlf(tmp_path):
    truth = ex.school_export(tmp_path / "x.txt", 9, n=5, **ex.EXCEL_UNICODE_TEXT)
    data = truth.path.read_bytes()
    assert data[:2] == codecs.BOM_UTF16_LE
    lines = data.decode("utf-16").split("\r\n")
    assert lines[-1] == "" and all(line.count("\t") == 14 and "," not in line for line in lines[:-1])


def test_bare_cr_and_no_final_line_break(tmp_path):
    truth = ex.school_export(tmp_path / "mac.csv", 10, n=5, newline="\r", final_newline=False)
    data = truth.path.read_bytes()
    assert b"\n" not in data and data.count(b"\r") == 5 and not data.endswith(b"\r")
    assert _csv_records(truth.path, "utf-8") == truth.records


def test_gbk_refuses_what_it_cannot_write(tmp_path):
    with pytest.raises(ValueError, match="cannot be written in gbk"):
        ex.school_export(tmp_path / "x.csv", 1, n=1, local_share=0, damage={0: "zero_width"}, encoding="gbk")


@pytest.mark.parametrize("item_header", ["Q", "dot", "number"])
def test_two_row_headers(tmp_path, item_header):
    items = {"Q": [f"Q{i}" for i in range(1, 10)], "dot": [f"{i}.题干" for i in range(1, 10)]}
    items["number"] = [str(i) for i in range(1, 10)]
    label = instruments.get("phq9").name_zh
    group = ex.school_export(tmp_path / "g.csv", 11, n=3, header_rows="group", item_header=item_header)
    assert group.records[0] == ("基本信息", "", "", "", "", "", label, *[""] * 8)
    assert group.records[1] == group.columns == (*ex.ROSTER_COLUMNS, *items[item_header])
    split = ex.school_export(tmp_path / "s.csv", 11, n=3, header_rows="split", item_header=item_header)
    assert split.records[0] == (*ex.ROSTER_COLUMNS, label, *[""] * 8)
    assert split.records[1] == ("",) * 6 + tuple(items[item_header])
    assert split.columns == group.columns and split.header_index == 1 and split.student_records[0] == 2
    with pytest.raises(ValueError, match="no items"):
        ex.school_export(tmp_path / "r.csv", 11, kind="roster", header_rows="split")


def test_non_student_lines_are_where_the_truth_puts_them(tmp_path):
    kinds = [("header", 5), ("blank", 5), ("mean", 10), ("total", 10), ("signature", 10), ("note", 10)]
    truth = ex.school_export(tmp_path / "x.csv", 12, n=10, non_students=kinds)
    records = truth.records
    others = [i for i in range(1, len(records)) if i not in truth.student_records]
    assert others == [6, 7, 13, 14, 15, 16]
    assert records[6] == records[0] and records[7] == ()
    codes = np.array(truth.codes)
    assert records[13][:6] == ("平均分", "", "", "", "", "") and records[14][0] == "合计"
    assert records[13][6:] == tuple(f"{m:.2f}" for m in codes.mean(axis=0))
    assert records[14][6:] == tuple(str(s) for s in codes.sum(axis=0))
    assert records[15][0].startswith("制表人：") and records[15][3].startswith("审核：")
    assert records[16][0].startswith("备注：") and set(records[16][1:]) == {""}
    roster = ex.school_export(tmp_path / "r.csv", 12, kind="roster", n=4, non_students=[("total", 4)])
    assert roster.records[-1] == ("合计", "共4人", "", "", "", "") and roster.codes == ()
    with pytest.raises(ValueError, match="mean line needs item columns"):
        ex.school_export(tmp_path / "r.csv", 12, kind="roster", non_students=[("mean", 0)])


def test_padding_and_full_width_items(tmp_path):
    truth = ex.school_export(tmp_path / "x.csv", 13, n=6, trailing_empty=3, full_width_items=True)
    for i, r in enumerate(truth.student_records):
        record = truth.records[r]
        assert len(record) == 15 + (3 if i % 2 == 0 else 0) and set(record[15:]) <= {""}
        items = record[6:15]
        assert all(unicodedata.east_asian_width(c) == ("F" if i % 2 else "Na") for c in items)
        assert tuple(int(unicodedata.normalize("NFKC", c)) for c in items) == truth.codes[i]


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    a, b, c = (
        ex.school_export(tmp_path / f"{name}.csv", seed) for name, seed in (("a", 1), ("b", 1), ("c", 2))
    )
    assert a.path.read_bytes() == b.path.read_bytes() != c.path.read_bytes()


# --- school exports: workbooks and HTML ----------------------------------------------------------------


def test_xlsx_holds_numbers_where_excel_would(tmp_path):
    truth = ex.school_export(
        tmp_path / "x.xlsx",
        14,
        n=12,
        local_share=0,
        file_format="xlsx",
        numeric_ids=True,
        header_rows="group",
        damage={i: "without_g" for i in range(8)} | {8: "apostrophe"},
    )
    book = openpyxl.load_workbook(truth.path)
    sheet = book.active
    assert tuple(_trimmed(r) for r in sheet.iter_rows(values_only=True)) == truth.records
    assert {str(m) for m in sheet.merged_cells.ranges} == {"A1:F1", "G1:O1"}
    numeric = 0
    for i, s in enumerate(truth.students):
        cell = sheet.cell(row=truth.student_records[i] + 1, column=1)
        if i < 8 and not s.id_number.endswith("X"):
            numeric += 1
            assert cell.data_type == "n" and cell.value == float(ex.excel_number(s.id_number))
        else:
            assert cell.data_type == "s"
        row = truth.student_records[i] + 1
        assert {sheet.cell(row=row, column=c).data_type for c in range(5, 16)} == {"n"}
    assert numeric >= 5
    local = ex.school_export(
        tmp_path / "l.xlsx", 15, n=30, local_share=1, file_format="xlsx", numeric_ids=True
    )
    padded = [i for i, s in enumerate(local.students) if s.student_number.startswith("00")]
    assert padded and all(
        local.records[local.student_records[i]][0] == int(local.students[i].student_number) for i in padded
    )


def test_split_header_cells_are_merged_in_a_workbook(tmp_path):
    truth = ex.school_export(tmp_path / "x.xlsx", 16, n=2, header_rows="split", file_format="xlsx")
    sheet = openpyxl.load_workbook(truth.path).active
    expected = {f"{c}1:{c}2" for c in "ABCDEF"} | {"G1:O1"}
    assert {str(m) for m in sheet.merged_cells.ranges} == expected


def test_xls_is_a_real_biff8_workbook_under_any_name(tmp_path):
    truth = ex.school_export(tmp_path / "x.xls", 17, n=8, file_format="xls", title_lines=TITLE[:2])
    data = truth.path.read_bytes()
    assert data[:8] == bytes.fromhex("d0cf11e0a1b11ae1")  # the OLE2 compound file signature
    assert "Workbook".encode("utf-16-le") in data  # the BIFF8 stream's directory entry
    renamed = ex.school_export(tmp_path / "x.csv", 17, n=8, file_format="xls", title_lines=TITLE[:2])
    assert renamed.path.read_bytes() == data
    xlrd = pytest.importorskip("xlrd")
    sheet = xlrd.open_workbook(truth.path).sheet_by_index(0)
    rows = tuple(_trimmed(sheet.row_values(r)) for r in range(sheet.nrows))
    assert rows == tuple(tuple("" if v is None else v for v in record) for record in truth.records)


class _Cells(HTMLParser):
    """The text of every ``<td>``, row by row."""

    def __init__(self):
        super().__init__()
        self.rows: list[list[str]] = []
        self.in_cell = False

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag == "td":
            self.rows[-1].append("")
            self.in_cell = True

    def handle_endtag(self, tag):
        self.in_cell = self.in_cell and tag != "td"

    def handle_data(self, data):
        if self.in_cell:
            self.rows[-1][-1] += data


def test_html_saved_as_xls(tmp_path):
    truth = ex.school_export(
        tmp_path / "x.xls", 18, n=6, file_format="html", encoding="gbk", line_break_in_name=(2,)
    )
    data = truth.path.read_bytes()
    assert data.startswith(b"<html") and b"charset=gbk" in data
    parser = _Cells()
    parser.feed(data.decode("gbk"))
    assert tuple(map(tuple, parser.rows)) == truth.records
    assert data.decode("gbk").count("mso-number-format:'\\@'") == len(truth.records)


# --- other kinds and damaged files -----------------------------------------------------------------------


def test_staff_and_rooms_lists(tmp_path):
    staff = ex.staff_list(tmp_path / "staff.csv", 19, n=6)
    rooms = ex.rooms_list(tmp_path / "rooms.xlsx", 19, file_format="xlsx")
    assert (staff.kind, rooms.kind) == ("staff", "rooms")
    assert _csv_records(staff.path, "utf-8") == staff.records and staff.records[0] == ex.STAFF_COLUMNS
    assert len(staff.records) == 7 and all(re.fullmatch(r"T\d{4}", r[0]) for r in staff.records[1:])
    sheet = openpyxl.load_workbook(rooms.path).active
    assert tuple(_trimmed(r) for r in sheet.iter_rows(values_only=True)) == rooms.records
    assert rooms.records[0] == ex.ROOM_COLUMNS and [r[0] for r in rooms.records[1:]] == [
        "示例实验小学",
        "示例第一中学",
    ]


def test_bom_only(tmp_path):
    assert ex.bom_only(tmp_path / "empty.csv").read_bytes() == codecs.BOM_UTF8


def test_large_roster_straddles_the_offset_at_a_line_feed(tmp_path):
    """Issue #9's reproduction: 200,000 rows; the row crossing byte 1,048,576 is named "王\\n五"."""
    truth = ex.large_roster(tmp_path / "roster.csv")
    data = truth.path.read_bytes()
    offset, lf, quote = truth.offset, truth.line_feed_at, truth.closing_quote_at
    assert offset == 2**20 and 5_000_000 < len(data) < 10_000_000
    assert data[lf] == ord("\n") and data[quote] == ord('"') and lf < offset <= quote
    assert data.rfind(b"\n", 0, offset) == lf  # a cut at the last line feed before the offset splits the name
    assert data[lf - 4 : quote + 1] == '"王\n五"'.encode()
    records = list(csv.reader(io.StringIO(data.decode(), newline="")))
    assert records[0] == list(ex.ROSTER_COLUMNS) and len(records) == 200_001
    assert records[truth.straddle_row + 1][1] == truth.name == "王\n五"
    assert [r[0] for r in records[1:]] == list(truth.numbers)
    g_numbers = [n for n in truth.numbers if n[0] == "G"]
    assert len(g_numbers) > 180_000
    checks = ex.id_check_characters([n[1:18] for n in g_numbers])
    assert (checks == np.array([n[18] for n in g_numbers])).all()
    lines = data.decode().split("\n")
    for row in (0, truth.straddle_row - 1, truth.straddle_row, truth.straddle_row + 1, 199_999):
        assert lines[truth.line_of(row) - 1].startswith(truth.numbers[row] + ",")


def test_large_roster_straddles_any_offset(tmp_path):
    for offset in (4096, 4097, 10_000):
        truth = ex.large_roster(tmp_path / f"{offset}.csv", rows=400, offset=offset, seed=offset)
        data = truth.path.read_bytes()
        assert data[offset - 5 : offset + 4] == '"王\n五"'.encode()
        assert len(list(csv.reader(io.StringIO(data.decode(), newline="")))) == 401


def test_large_roster_refuses_an_offset_it_cannot_straddle(tmp_path):
    with pytest.raises(ValueError, match="do not reach past byte"):
        ex.large_roster(tmp_path / "short.csv", rows=10, offset=2**20)
    with pytest.raises(ValueError, match="too close to the header"):
        ex.large_roster(tmp_path / "early.csv", rows=10, offset=60)
