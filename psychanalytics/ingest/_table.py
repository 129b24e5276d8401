"""A school's file read as the importer reads it, for the tools that need its cells but store nothing."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import closing
from pathlib import Path

import pandas as pd

from psychanalytics.ingest import _read
from psychanalytics.ingest._headers import ALIASES, canonical
from psychanalytics.ingest._problems import IngestError


def read_table(path: str | Path, *, fields: Sequence[str], required: Sequence[str] = ()) -> pd.DataFrame:
    """The cells of ``fields`` in a CSV (UTF-8, GBK, UTF-16) or XLSX file, as text, with the line of each row.

    The file is read exactly as :func:`import_file` reads it (encoding, title lines, a header over two
    rows, quoted values over several lines, blank lines), and its headers are named through the
    importer's aliases (``学籍号``, ``学生姓名`` …); nothing is parsed or stored. Lines with another
    number of fields than the header are not rows: their line numbers are in
    ``frame.attrs["unread_lines"]``, so that a caller reports them.

    Parameters
    ----------
    path : str or Path
    fields : sequence of str
        Canonical field names (keys of the importer's aliases), e.g. ``("student_number", "name")``.
    required : sequence of str
        Fields the file must have.

    Returns
    -------
    pandas.DataFrame
        One column per field the file has (text as written, trimmed), and ``line``.

    Raises
    ------
    IngestError
        The file cannot be read, a required column is missing, or two columns mean one field.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "roster.csv"
    >>> _ = p.write_bytes("名册\\n学籍号,学生姓名,班级\\nG1,王五,3\\n\\nG2,\\"赵\\n六\\",4\\n".encode("gbk"))
    >>> read_table(p, fields=("student_number", "name"), required=("student_number",))
      student_number name  line
    0             G1   王五     3
    1             G2  赵\\n六     5
    """
    unknown = set(fields) - set(ALIASES)
    if unknown:
        raise ValueError(f"unknown fields {sorted(unknown)}; fields are the importer's: {sorted(ALIASES)}")
    source = _read.open_source(path)
    where: dict[str, int] = {}
    for i, header in enumerate(source.headers):
        name = canonical(header)
        if name in fields:
            if name in where:
                raise IngestError(
                    f"{source.path.name}: 「{source.headers[where[name]]}」和「{header}」两列都是 {name} / two columns "
                    f"mean {name}"
                )
            where[name] = i
    missing = [f for f in required if f not in where]
    if missing:
        raise IngestError(
            f"{source.path.name}: 缺少必需的列「{'」「'.join(ALIASES[f][0] for f in missing)}」/ required columns "
            f"{', '.join(missing)} are missing"
        )
    cells: dict[str, list[str]] = {name: [] for name in where}
    lines: list[int] = []
    unread: list[int] = []
    with closing(_read.iter_chunks(source)) as chunks:
        for chunk in chunks:
            for name, i in where.items():
                cells[name] += [text.strip() for text in chunk.columns[i].to_pylist()]
            lines += chunk.line_nos.tolist()
            unread += [line for line, _, _ in chunk.bad_rows]
    frame = pd.DataFrame({**cells, "line": lines}, columns=[*where, "line"])
    frame.attrs["unread_lines"] = sorted(unread)
    return frame
