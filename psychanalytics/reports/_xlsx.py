"""A bilingual table as an XLSX workbook: Chinese and English header rows, notes on a second sheet."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def _cell(value):
    """A worksheet value: None for missing, Python scalars for NumPy ones."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value


def _width(label: str, values: pd.Series) -> float:
    """A column wide enough for its Chinese header and its text (two units per character), 10 to 60."""
    longest = values.map(lambda v: len(str(v)) if isinstance(v, str) else 0).max() if len(values) else 0
    return max(10, min(60, max(len(label), int(longest or 0)) * 2 + 2))


def write_xlsx(report, path: str | Path, *, sheet: str = "干预效果 outcomes") -> Path:
    """Write a report's table to ``path`` (openpyxl): row 1 Chinese labels, row 2 English, data from row 3.

    Parameters
    ----------
    report
        A result with ``table`` (DataFrame), ``labels`` (column -> ``(Chinese,
        English)``) and ``notes``, such as
        :class:`psychanalytics.outcomes.InterventionReport`.
    path : str or Path
        The ``.xlsx`` file to write (replaced if it exists).
    sheet : str
        Name of the table's sheet; the notes go to 「说明 notes」.

    Returns
    -------
    Path

    Notes
    -----
    Numbers are written unrounded (the cells show two decimals, p values
    three), missing values as empty cells. The workbook holds what the table
    holds: aggregates per intervention, with counts under the leader policy's
    minimum cell — a research output, not a page for leaders.

    Examples
    --------
    >>> import tempfile, pathlib, openpyxl, pandas as pd
    >>> from types import SimpleNamespace
    >>> report = SimpleNamespace(table=pd.DataFrame({"n": [12], "p": [0.0312]}),
    ...                          labels={"n": ("人数", "n"), "p": ("p 值", "p")}, notes=("示例 / example",))
    >>> path = write_xlsx(report, pathlib.Path(tempfile.mkdtemp()) / "outcomes.xlsx")
    >>> rows = list(openpyxl.load_workbook(path).worksheets[0].values)
    >>> rows
    [('人数', 'p 值'), ('n', 'p'), (12, 0.0312)]
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    path = Path(path)
    table = report.table
    missing = [column for column in table.columns if column not in report.labels]
    if missing:
        raise ValueError(f"write_xlsx: no label for column(s) {missing}")
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append([report.labels[column][0] for column in table.columns])
    ws.append([report.labels[column][1] for column in table.columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for cell in ws[2]:
        cell.font = Font(italic=True, color="666666")
    for row in table.itertuples(index=False):
        ws.append([_cell(value) for value in row])
    for i, column in enumerate(table.columns, start=1):
        letter = get_column_letter(i)
        ws.column_dimensions[letter].width = _width(report.labels[column][0], table[column])
        if pd.api.types.is_float_dtype(table[column]):
            style = "0.000" if column == "p" or column.startswith("p_") else "0.00"
            for (cell,) in ws.iter_rows(min_row=3, min_col=i, max_col=i):
                cell.number_format = style
        for (cell,) in ws.iter_rows(min_row=1, min_col=i, max_col=i):
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "B3"
    notes = wb.create_sheet("说明 notes")
    for line in report.notes:
        notes.append([line])
    notes.column_dimensions["A"].width = 120
    wb.save(path)
    return path
