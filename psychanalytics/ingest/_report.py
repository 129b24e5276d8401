"""The quarantine report: an XLSX with Chinese headers that a school secretary can open and fix."""

from __future__ import annotations

from pathlib import Path

REPORT_HEADERS = ("行号", "列", "值", "问题", "问题说明 / reason", "原始行")
"""Columns of the report: line number, column, value, reason code, reason text, the row as read."""


def _visible(text: str) -> str:
    """Text a worksheet can hold: control characters (NUL, …) written as ``\\x00`` so a reader sees them.

    >>> _visible("G1\\x00,王五")
    'G1\\\\x00,王五'
    """
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # what a cell refuses: C0 controls but tab, LF, CR

    return ILLEGAL_CHARACTERS_RE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def write_report(path: str | Path, problems, raw_rows, *, source_name: str) -> Path:
    """Write one line per refused value (the raw row repeated) to an XLSX file; return its path.

    Lines come in file order, with a filter on every column (a secretary fixes
    one kind of problem at a time). The file holds names and 学籍号 exactly as
    the school sent them: it is as sensitive as the source file and goes back to
    the school only.

    Examples
    --------
    >>> import tempfile, pathlib, openpyxl
    >>> from psychanalytics.ingest._problems import Problem
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "report.xlsx"
    >>> _ = write_report(p, [(Problem(3, "性别", "x", "bad_gender"),)], ["001,张三,x"], source_name="a.csv")
    >>> [c.value for c in openpyxl.load_workbook(p).active[2]][:4]
    [3, '性别', 'x', 'bad_gender']
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    path = Path(path)
    wb = Workbook()
    ws = wb.active
    ws.title = "问题行"
    ws.append(REPORT_HEADERS)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    lines = sorted(zip(problems, raw_rows, strict=True), key=lambda line: line[0][0].line_no)
    for row_problems, raw in lines:
        for problem in row_problems:
            cells = (problem.column, problem.value, problem.reason, problem.message, raw)
            ws.append((problem.line_no, *map(_visible, cells)))
    ws.auto_filter.ref = ws.dimensions
    for letter, width in zip("ABCDEF", (8, 16, 16, 18, 48, 60), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"
    info = wb.create_sheet("说明")
    info.append(("源文件 / source file", source_name))
    info.append(("问题行数 / refused lines", len(raw_rows)))
    info.append(("说明", "以上各行未导入。请在原文件中修改后重新导入；本文件含学生个人信息，请妥善保管。"))
    info.append(
        (
            "note",
            "These lines were not imported. Fix them in the source file and import it again. "
            "This file holds personal information: keep it as safe as the source.",
        )
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
