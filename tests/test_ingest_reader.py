"""The CSV reader against Python's csv module reading the whole file: rows, line numbers and refusals
must not depend on where the file is cut into pieces (quoted values over several lines, stray quotes,
byte-order marks, every line ending, UTF-8, GB18030 and UTF-16)."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from psychanalytics import ingest
from psychanalytics.ingest import _read

HEADER = ["学籍号", "姓名", "性别", "学校"]
WIDTH = len(HEADER)
ENCODINGS = {"utf-8": "utf-8", "utf-8-sig": "utf-8-sig", "gb18030": "gb18030", "utf-16": "utf-16"}


def _quoted(field: str) -> str:
    """A field as a spreadsheet writes it: quoted when it holds a delimiter, a quote or a line break."""
    if any(c in field for c in ',"\r\n'):
        return '"' + field.replace('"', '""') + '"'
    return field


cell = st.text(alphabet=["a", "王", "五", " ", '"', ",", "\n", "\r", "1"], max_size=6)
stray = st.text(alphabet=["a", "五", "1"], min_size=1, max_size=3).map(
    lambda t: t + '"' + t
)  # kept as written
field = st.one_of(cell.map(_quoted), stray, st.just(""))
record = st.one_of(
    st.lists(field, min_size=WIDTH, max_size=WIDTH),  # a row
    st.lists(field, min_size=1, max_size=WIDTH - 1),  # a short row
    st.lists(field, min_size=WIDTH + 1, max_size=WIDTH + 3),  # a long row (padded when the extras are empty)
    st.tuples(st.lists(field, min_size=WIDTH, max_size=WIDTH), st.integers(1, 3)).map(
        lambda r: r[0] + [""] * r[1]
    ),
    st.just([]),  # a blank line
)


def _expected(text: str) -> tuple[list[tuple[int, list[str]]], list[tuple[int, int]], int]:
    """What Python's csv module reads from the whole text: data rows with their first line, refused rows
    (line, fields) and blank rows — the importer's rules applied to its records."""
    reader = csv.reader(io.StringIO(text, newline=""))
    rows, refused, blank, line = [], [], 0, 1
    for number, fields in enumerate(reader):
        start, line = line, reader.line_num + 1
        if number == 0:
            continue  # the header
        if not any(f.strip() for f in fields):
            blank += 1
        elif len(fields) == WIDTH or (len(fields) > WIDTH and not any(f.strip() for f in fields[WIDTH:])):
            rows.append((start, fields[:WIDTH]))
        else:
            refused.append((start, len(fields)))
    return rows, refused, blank


def _read_all(path: Path, piece_bytes: int):
    source = _read.open_source(path)
    rows, refused, blank = [], [], 0
    for chunk in _read.iter_chunks(source, piece_bytes=piece_bytes):
        columns = [c.to_pylist() for c in chunk.columns]
        rows += [(int(line), [col[i] for col in columns]) for i, line in enumerate(chunk.line_nos)]
        refused += [(line, n) for line, _, n in chunk.bad_rows]
        blank += chunk.blank
    return rows, refused, blank


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    records=st.lists(record, min_size=1, max_size=30),
    ending=st.sampled_from(["\n", "\r\n", "\r"]),
    encoding=st.sampled_from(sorted(ENCODINGS)),
    piece_bytes=st.integers(1, 64),
    final_break=st.booleans(),
)
def test_rows_lines_and_refusals_match_pythons_csv_wherever_the_pieces_are_cut(
    records, ending, encoding, piece_bytes, final_break
):
    text = ending.join([",".join(HEADER), *(",".join(r) for r in records)]) + (ending if final_break else "")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.csv"
        path.write_bytes(text.encode(ENCODINGS[encoding]))
        expected = _expected(text)
        try:
            got = _read_all(path, piece_bytes)
        except ingest.IngestError as refused:
            # only a quote that never closes refuses the file: Python's csv then ends inside a value
            with pytest.raises(csv.Error):
                list(csv.reader(io.StringIO(text, newline=""), strict=True))
            assert "引号没有闭合" in str(refused)
            return
        assert got == expected
        assert _read_all(path, 1 << 20) == expected


def test_a_value_over_two_lines_straddling_the_first_cut_loses_no_student(tmp_path):
    """The issue's reproduction, at the real piece size (1 MiB): 200,000 roster rows, and the row that
    crosses byte 1,048,576 has the name "王\\n五" with its line feed before the boundary and its closing
    quote after it."""
    lines = [",".join(HEADER)] + [f"G{i:07d},学生,女,S01" for i in range(200_000)]
    row_bytes = len(lines[1].encode()) + 1
    header_bytes = len(lines[0].encode()) + 1
    at = ((1 << 20) - header_bytes) // row_bytes  # lines[at] starts within the last row's length of 1 MiB
    lines[at] = lines[at].replace(",学生,", ',"王\n五",')
    # pad the first row's name so that the name's line feed is the first MiB's last byte
    lf_at = header_bytes + (at - 1) * row_bytes + len(f'G{at - 1:07d},"王'.encode())
    lines[1] = lines[1].replace("学生", "学生" + "x" * ((1 << 20) - 1 - lf_at))
    text = "\n".join(lines) + "\n"
    crossing = text.encode().index('"王\n五"'.encode())
    assert crossing + len('"王\n'.encode()) == 1 << 20  # line feed inside the first MiB, the quote after it
    path = tmp_path / "roster.csv"
    path.write_bytes(text.encode())
    chunks = list(_read.iter_chunks(_read.open_source(path)))
    assert len(chunks) > 1 and sum(len(c.bad_rows) for c in chunks) == 0
    names = [name for c in chunks for name in c.columns[1].to_pylist()]
    assert len(names) == 200_000 and names.index("王\n五") == at - 1
    line_nos = [int(n) for c in chunks for n in c.line_nos]
    assert line_nos[at - 2 : at + 1] == [at, at + 1, at + 3]  # the row after the two-line name is one down


def test_a_file_that_is_only_a_byte_order_mark_is_empty(tmp_path):
    for bom in (b"\xef\xbb\xbf", b"\xff\xfe"):
        path = tmp_path / "bom.csv"
        path.write_bytes(bom)
        with pytest.raises(ingest.IngestError, match="文件为空"):
            _read.open_source(path)


def test_excel_unicode_text_is_read_as_tab_separated_utf16(tmp_path):
    path = tmp_path / "unicode.txt"
    path.write_bytes("学籍号\t姓名\t性别\t学校\r\nG1\t王五\t女\tS01\r\n".encode("utf-16"))
    source = _read.open_source(path)
    assert (source.encoding, source.delimiter, source.headers) == ("utf-16", "\t", tuple(HEADER))
    (chunk,) = _read.iter_chunks(source)
    assert [c.to_pylist() for c in chunk.columns] == [["G1"], ["王五"], ["女"], ["S01"]]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), "另存为 .xlsx"),
        (b"<html><body><table><tr><td>\xe5\xad\xa6\xe7\xb1\x8d\xe5\x8f\xb7</td></tr></table>", "网页格式"),
    ],
    ids=["xls", "html"],
)
def test_a_legacy_or_html_workbook_is_refused_with_what_to_do(tmp_path, content, message):
    for name in ("export.xls", "export.csv"):
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(ingest.IngestError, match=message):
            _read.open_source(path)
