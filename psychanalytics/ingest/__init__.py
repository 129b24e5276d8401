"""Import: school and platform exports in, pseudonymised rows out, nothing lost.

One file is one transaction: it is read as text (CSV in UTF-8, UTF-8 with BOM
or GBK/GB18030, or XLSX), its header row is found (title lines above it, as
platforms write them, are reported and skipped), its headers are mapped through
Chinese and English aliases, every cell is parsed explicitly, and every failure of a row is
collected (line, column, value, reason). Refused rows go to the ``quarantine``
table and to an XLSX report; exact duplicate lines are counted; the importer
itself checks ``rows_read = stored + quarantined + duplicates`` and writes the
counts to ``import_batch``, keyed by the file's SHA-256 so that importing the
same bytes again changes nothing. 学籍号 and 工号 become keyed pseudonyms
(``pid``, ``staff_id``) at the door; names are read for the report only.

Kinds and their columns are listed by :func:`describe` (and
``psychanalytics import KIND --help``). Tools that need a school's file but
store nothing (the follow-up lists) read it with :func:`read_table`, the same
reader.

Examples
--------
>>> import tempfile, pathlib
>>> from psychanalytics import store, ingest
>>> tmp = pathlib.Path(tempfile.mkdtemp())
>>> engine = store.connect(tmp / "db.sqlite")
>>> store.create_all(engine)
>>> with engine.begin() as conn:
...     _ = store.upsert(conn, store.metadata.tables["school"],
...                      [dict(school_id="S01", name="示例小学", stage="primary", location="urban")])
>>> csv = tmp / "roster.csv"
>>> _ = csv.write_bytes("学籍号,姓名,性别,学校,年级,班级\\n00123,NA,女,示例小学,4,2\\n00124,王五,男,火星小学,4,2\\n"
...                     .encode("gbk"))
>>> result = ingest.import_file(engine, "roster", csv, key=b"k" * 32, school_year="2024-2025")
>>> result.encoding, result.rows_read, result.stored, result.quarantined
('gb18030', 2, 1, 1)
>>> result.problems[0][0].reason
'unknown_school'
>>> ingest.import_file(engine, "roster", csv, key=b"k" * 32, school_year="2024-2025").already_imported
True
"""

from __future__ import annotations

from psychanalytics.ingest._kinds import KINDS
from psychanalytics.ingest._load import import_file
from psychanalytics.ingest._problems import REASONS, IngestError, Problem
from psychanalytics.ingest._read import ENCODINGS
from psychanalytics.ingest._report import REPORT_HEADERS, write_report
from psychanalytics.ingest._result import ImportResult
from psychanalytics.ingest._table import read_table


def describe(kind: str) -> str:
    """The columns a kind reads, with their accepted headers (Chinese first), one per line.

    >>> print(describe("staff").splitlines()[1])
      staff_number*  工号 / 教师编号 / 教师工号 / staff_number / staff_id — 工号; becomes a pseudonymous staff_id, never stored
    """
    if kind not in KINDS:
        raise IngestError(
            f"没有「{kind}」这种导入类型；可用：{', '.join(KINDS)} / unknown import kind {kind!r}"
        )
    spec = KINDS[kind]
    lines = [spec.title]
    for f in spec.fields:
        mark = "*" if f.required else ""
        lines.append(f"  {f.name}{mark}  {' / '.join(f.aliases)} — {f.doc}")
    if kind == "screening":
        lines.append("  items  1.题干 / 1、题干 / Q1 / 1 / 第1题 — item codes allowed by the instrument")
        lines.append(
            "  scores  总分 / 总分（标准分） / 总分（原始分） / scale names (学习焦虑 …) — reported_score"
        )
    lines.append("  (* required; other columns are listed as not imported)")
    return "\n".join(lines)


__all__ = [
    "ENCODINGS",
    "KINDS",
    "REASONS",
    "REPORT_HEADERS",
    "ImportResult",
    "IngestError",
    "Problem",
    "describe",
    "import_file",
    "read_table",
    "write_report",
]
