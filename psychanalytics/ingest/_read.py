"""Readers: CSV (UTF-8, UTF-8 with BOM, GBK/GB18030) and XLSX, every cell read as text.

Nothing is inferred on the way in: no NA list (a student called ``NA`` stays
``NA``), leading zeros stay (``00123``), a row with the wrong number of fields
is reported, never padded. Each row keeps its 1-based line number in the
source (the Excel row number for XLSX).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import queue
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from psychanalytics.ingest._headers import canonical, item_number
from psychanalytics.ingest._problems import IngestError

ENCODINGS = ("utf-16", "utf-8-sig", "utf-8", "gb18030")
"""Encodings tried, in order, with strict decoding of the whole file (GB18030 is a superset of GBK);
UTF-16 and UTF-8 with a BOM only for a file that starts with their byte-order mark."""

_BLOCK_BYTES = 1 << 20
_MAX_PIECE_BYTES = 8 << 20
_XLSX_CHUNK_ROWS = 20_000
_HEADER_SEARCH_ROWS = 10
_NUMBER = re.compile(r"\d+(\.\d+)?")
"""Rows searched for the header when the first row is a title (导出标题, 导出时间 …)."""
_XLSX_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
"""The first bytes of a compound document: a legacy .xls workbook (or .doc)."""
_HEAD_BYTES = 512
_EXCEL_EXACT = 10**15
"""Excel keeps 15 significant digits: a number cell from 10^15 up has lost digits."""
_UTF8_BOM = codecs.BOM_UTF8


@dataclass(frozen=True)
class Source:
    """A file opened for import: its hash, format, encoding and header row (as written)."""

    path: Path
    sha256: str
    size: int
    format: str
    encoding: str | None
    headers: tuple[str, ...]
    delimiter: str = ","
    header_line: int = 1
    above_header: tuple[str, ...] = ()
    """Lines above the header row (a platform's title, an export date): reported, not imported."""
    header_rows: int = 1
    """2 when the header runs over two rows (merged cells), read together; ``header_line`` is the lower."""


@dataclass
class Chunk:
    """Consecutive rows of a source: text columns, their line numbers, and rows refused by the reader.

    ``columns[i]`` is a ``pyarrow`` string array for ``source.headers[i]``;
    ``bad_rows`` holds ``(line_no, text, n_fields)`` of rows whose field count
    differs from the header; ``blank`` counts rows whose every field is empty.
    """

    columns: list[pa.Array]
    line_nos: np.ndarray
    bad_rows: list[tuple[int, str, int]] = field(default_factory=list)
    blank: int = 0
    bytes_done: int = 0

    def __len__(self) -> int:
        return len(self.line_nos)

    def keep(self, rows: np.ndarray, *, bad_rows: list[tuple[int, str, int]]) -> Chunk:
        """This chunk with only the rows where ``rows`` is True, and ``bad_rows`` as its refused rows."""
        mask = pa.array(rows)
        columns = [pc.filter(c, mask) for c in self.columns]
        return Chunk(columns, self.line_nos[rows], bad_rows, self.blank, self.bytes_done)


def _scan(path: Path) -> tuple[str, int, str | None, bytes]:
    """SHA-256, size, first strictly decodable encoding (None if none) and the file's first bytes.

    UTF-16 (Excel's "Unicode text") and UTF-8 with a BOM are only taken when the
    file starts with their byte-order mark.
    """
    digest = hashlib.sha256()
    decoders = {enc: codecs.getincrementaldecoder(enc)("strict") for enc in ENCODINGS}
    alive = dict.fromkeys(ENCODINGS, True)
    size = 0
    head = b""
    with path.open("rb") as fh:
        while block := fh.read(_BLOCK_BYTES):
            if not size:
                head = block[:_HEAD_BYTES]
            size += len(block)
            digest.update(block)
            for enc, decoder in decoders.items():
                if alive[enc]:
                    try:
                        decoder.decode(block)
                    except UnicodeError:  # UTF-16 without its BOM raises the parent class
                        alive[enc] = False
    for enc, decoder in decoders.items():
        if alive[enc]:
            try:
                decoder.decode(b"", final=True)
            except UnicodeError:
                alive[enc] = False
    alive["utf-8-sig"] &= head.startswith(_UTF8_BOM)
    alive["utf-16"] &= head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    encoding = next((enc for enc in ENCODINGS if alive[enc]), None)
    return digest.hexdigest(), size, encoding, head


def _refuse_other_formats(path: Path, head: bytes) -> None:
    """Refuse, with what to do, the workbooks the importer cannot read: legacy .xls and HTML tables."""
    if head.startswith(_OLE2_MAGIC):
        raise IngestError(
            f"{path.name}: 这是旧版 Excel 工作簿（.xls），无法直接导入；请用 Excel 或 WPS 打开后「另存为 .xlsx」再导入 / "
            "a legacy Excel workbook (.xls): open it in Excel or WPS, save it as .xlsx and import that"
        )
    text = head.lstrip(_UTF8_BOM + b" \t\r\n").lower()
    if text.startswith(b"<") and (b"<table" in text or b"<html" in text or b"<!doctype html" in text):
        raise IngestError(
            f"{path.name}: 这是网页格式的表格（部分平台导出的 .xls 实为网页），无法直接导入；请用 Excel 或 WPS "
            "打开后「另存为 .xlsx」再导入 / an HTML table saved as a spreadsheet: open it in Excel or WPS, save it "
            "as .xlsx and import that"
        )


def _first_lines(path: Path, encoding: str, count: int) -> list[str]:
    with path.open("r", encoding=encoding, newline="") as fh:
        return [line.rstrip("\r\n") for line, _ in zip(fh, range(count), strict=False)]


def _header_row(rows: list[list[str]]) -> int:
    """0-based index of the header among the first rows of a file.

    The first row is the header when it names any column the importer knows
    (学籍号, 姓名, an item column …). Otherwise — a platform's title line
    (``钟楼区2025年秋季普测结果``) or an export date above the header — it is the
    first row below that names one; a cell that is only a number (a score such
    as ``36`` or ``2.1``) does not count there, so a data row is never taken for
    the header. When no row names a known column, the first row is the header
    and the missing columns are reported from there.

    >>> _header_row([["钟楼区心理普测结果"], ["导出时间", "2025-10-30"], ["学籍号", "姓名", "1.题干"]])
    2
    >>> _header_row([["学籍号", "学习焦虑"], ["G1", "2"]]), _header_row([["甲"], ["G1", "36", "2.1"]])
    (0, 0)
    """

    def names_a_column(row: list[str], *, numbers_too: bool) -> bool:
        return any(
            canonical(h) is not None
            or (item_number(h) is not None and (numbers_too or not _NUMBER.fullmatch(h.strip())))
            for h in row
        )

    if rows and names_a_column(rows[0], numbers_too=True):
        return 0
    return next((i for i, row in enumerate(rows[1:], start=1) if names_a_column(row, numbers_too=False)), 0)


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", "\t", ";")}
    return max(counts, key=counts.get) if any(counts.values()) else ","


def open_source(path: str | Path) -> Source:
    """Hash a file, detect CSV/XLSX and the CSV encoding, and read its header row.

    Raises
    ------
    IngestError
        The file is missing, empty, not decodable as UTF-8/GB18030, or has no header.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.csv"
    >>> _ = p.write_bytes("学籍号,姓名\\n00123,NA\\n".encode("gbk"))
    >>> src = open_source(p)
    >>> src.encoding, src.headers
    ('gb18030', ('学籍号', '姓名'))
    """
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"{path}: 文件不存在，请检查路径 / no such file")
    sha, size, encoding, head = _scan(path)
    if size == 0 or head in (_UTF8_BOM, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        raise IngestError(f"{path.name}: 文件为空，没有任何内容 / the file is empty")
    _refuse_other_formats(path, head)
    if head.startswith(_XLSX_MAGIC):
        rows = _xlsx_first_rows(path)
        at = _header_row(rows)
        _refuse_empty_header(path, rows[at] if rows else [], at)
        headers, last = _with_second_header_row(rows, at)
        above = tuple(joined(row) for row in rows[:at])
        return Source(
            path, sha, size, "xlsx", None, tuple(headers), header_line=last + 1, above_header=above,
            header_rows=last - at + 1,
        )  # fmt: skip
    if encoding is None:
        raise IngestError(
            f"{path.name}: 无法识别的文件：既不是 UTF-8 或 GBK 编码的 CSV，也不是 .xlsx 工作簿；请在 Excel 中"
            "「另存为」CSV UTF-8 或 .xlsx 后导入 / not a CSV in UTF-8, UTF-16 or GBK/GB18030, nor an XLSX workbook"
        )
    lines = _first_lines(path, encoding, _HEADER_SEARCH_ROWS)
    try:
        rows = [next(csv.reader([line], delimiter=_delimiter(line)), []) for line in lines]
    except csv.Error as exc:
        raise IngestError(f"{path.name}: 表头无法读取 / the header line cannot be read ({exc})") from None
    if not rows:
        raise IngestError(f"{path.name}: 文件为空，没有任何内容 / the file is empty")
    at = _header_row(rows)
    delimiter = _delimiter(lines[at])
    _refuse_empty_header(path, rows[at], at)
    headers, last = _with_second_header_row(rows, at)
    return Source(
        path,
        sha,
        size,
        "csv",
        encoding,
        tuple(headers),
        delimiter,
        header_line=last + 1,
        above_header=tuple(lines[:at]),
        header_rows=last - at + 1,
    )


def _with_second_header_row(rows: list[list[str]], at: int) -> tuple[list[str], int]:
    """The header row ``at``, merged with the row below when that row continues it; and the last header row.

    Merged cells leave a header on two rows: the identity columns' names above,
    and below them, under a label such as ``PHQ-9``, the item numbers. The row
    below continues the header when each of its values stands under an empty cell
    or one that names no known column, and each names a column itself (a data
    row has its 学籍号 under 学籍号). Merged, each column takes the lower name
    where there is one.

    >>> _with_second_header_row([["学籍号", "姓名", "PHQ-9", ""], ["", "", "Q1", "Q2"], ["G1", "王", "1", "0"]], 0)
    (['学籍号', '姓名', 'Q1', 'Q2'], 1)
    >>> _with_second_header_row([["学籍号", "Q1"], ["G1", "1"]], 0)
    (['学籍号', 'Q1'], 0)
    """
    top = rows[at]
    below = rows[at + 1] if at + 1 < len(rows) else []
    values = [(i, cell.strip()) for i, cell in enumerate(below) if cell.strip()]
    if not values:
        return list(top), at

    def names_a_column(text: str) -> bool:
        return canonical(text) is not None or item_number(text) is not None

    continues = all(
        (i >= len(top) or not top[i].strip() or not names_a_column(top[i])) and names_a_column(text)
        for i, text in values
    )
    if not continues:
        return list(top), at
    width = max(len(top), len(below))
    merged = [
        (below[i].strip() if i < len(below) and below[i].strip() else (top[i] if i < len(top) else ""))
        for i in range(width)
    ]
    return merged, at + 1


def _refuse_empty_header(path: Path, headers, at: int) -> None:
    if not any(h.strip() for h in headers):
        raise IngestError(f"{path.name}: 第 {at + 1} 行没有列名 / line {at + 1} holds no column names")


def iter_chunks(source: Source, *, piece_bytes: int | None = None) -> Iterator[Chunk]:
    """Yield the data rows of ``source`` (after the header) as text :class:`Chunk` objects.

    The next chunk is read on a background thread while the caller works on this
    one. Every reader failure (malformed file, broken ZIP, bad quoting) is raised
    as :class:`IngestError`. A CSV is parsed in pieces of about ``piece_bytes``
    (default: an eighth of the file, 1-8 MB); rows, line numbers and refusals do
    not depend on where the pieces are cut.
    """
    return _read_ahead(_chunks(source, piece_bytes))


def _read_ahead(items: Iterator, *, depth: int = 1) -> Iterator:
    """Yield ``items`` while a thread produces up to ``depth`` more (Arrow's reader releases the GIL).

    A failure of the producer is raised here, in order; a caller that stops early
    stops the producer and closes ``items``.

    >>> list(_read_ahead(iter(range(5))))
    [0, 1, 2, 3, 4]
    """
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry) -> bool:
        while not stop.is_set():
            try:
                ready.put(entry, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((True, item)):
                    return
            put((False, None))
        except BaseException as exc:  # handed to the consumer, raised there
            put((False, exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name="psychanalytics-read", daemon=True)
    thread.start()
    try:
        while True:
            more, item = ready.get()
            if not more:
                if item is not None:
                    raise item
                return
            yield item
    finally:
        stop.set()
        thread.join()


def _chunks(source: Source, piece_bytes: int | None) -> Iterator[Chunk]:
    try:
        if source.format == "xlsx":
            yield from _xlsx_chunks(source)
        else:
            yield from _csv_chunks(source, piece_bytes)
    except IngestError:
        raise
    except Exception as exc:  # any reader failure on malformed bytes becomes the importer's error
        # the reader's own message may quote a line of the file (a name, a 学籍号): only its kind is shown
        raise IngestError(
            f"{source.path.name}: 无法按 {source.format.upper()} 读取（{type(exc).__name__}）；请在 Excel 中打开后"
            f"另存为 .xlsx 或 CSV UTF-8 再导入 / cannot be read as {source.format.upper()} ({type(exc).__name__})"
        ) from None


def _line_numbers(start: int, count: int, skipped: set[int]) -> np.ndarray:
    """Line numbers of ``count`` rows read from line ``start`` on, passing over the ``skipped`` lines.

    >>> _line_numbers(2, 3, {3}).tolist()
    [2, 4, 5]
    """
    if not any(s >= start for s in skipped):
        return np.arange(start, start + count, dtype=np.int64)
    out = np.empty(count, dtype=np.int64)
    line, i = start, 0
    while i < count:
        if line not in skipped:
            out[i] = line
            i += 1
        line += 1
    return out


def _blank_mask(columns: list[pa.Array]) -> np.ndarray:
    """Rows whose every field is empty or whitespace (checked column by column while any remain)."""
    mask = np.ones(len(columns[0]), dtype=bool)
    for col in columns:
        candidates = np.flatnonzero(mask)
        if not len(candidates):
            break
        values = col if len(candidates) == len(col) else col.take(pa.array(candidates))
        empty = pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(values)), 0).to_numpy(zero_copy_only=False)
        mask[candidates[~empty]] = False
    return mask


def _csv_chunks(source: Source, piece_bytes: int | None = None) -> Iterator[Chunk]:
    """The rows of a CSV, one chunk per piece of the file; each piece is parsed by Arrow on all cores.

    Every piece is checked against the records :func:`_csv_pieces` counted in it
    (line breaks outside quoted values): a reader that split or merged a record
    would refuse the file here instead of losing a student.
    """
    width = len(source.headers)
    names = [f"c{i}" for i in range(width)]
    if piece_bytes is None:
        # pieces of 1-8 MB, about an eighth of the file: big enough to amortise per-chunk work on a
        # million-row wave, small enough to report progress on a modest file
        piece_bytes = int(min(_MAX_PIECE_BYTES, max(_BLOCK_BYTES, source.size // 8)))
    options = _CsvOptions(
        names,
        # Arrow transcodes GB18030 itself; UTF-16 arrives transcoded, a UTF-8 BOM skipped (see _Stream)
        "utf8" if source.encoding.startswith(("utf-8", "utf-16")) else source.encoding,
        source.delimiter,
    )
    first_line = 1  # line number of the piece's first line
    header_left = source.header_line  # records up to the header (title lines, the header itself)
    with _Stream(source) as stream:
        for piece in _csv_pieces(stream, piece_bytes, source.delimiter):
            if piece.unclosed is not None:
                line = _line_at(piece.data, piece.unclosed)
                raise _unclosed_quote(source, first_line - 1 + line, _count_lines(piece.data) - line)
            skip = min(header_left, piece.records)
            header_left -= skip
            columns, refused = options.parse(piece, skip)
            # Arrow numbers rows, not lines (a quoted value may run over several): map row → its first line
            rows = skip + len(columns[0]) + len(refused)  # every record is a row or refused, blank ones too
            if rows != piece.records:
                raise IngestError(
                    f"{source.path.name}: 第 {first_line} 行起读出 {rows} 条记录，而文件在此处有 {piece.records} "
                    f"条，未导入任何数据；请把文件交给数据管理员 / from line {first_line} the reader found {rows} "
                    f"records where the file holds {piece.records}: nothing imported (a reader fault: please "
                    "report the file)"
                )
            line_of = first_line - 1 + _row_lines(piece.data, rows, options)
            columns, data_rows, refused = _with_padded_rows(columns, refused, skip, width, options)
            bad = [(int(line_of[number - 1]), text, n) for number, text, n in refused if n]
            blank = len(refused) - len(bad)
            first_line += _count_lines(piece.data)
            yield _drop_blank(columns, line_of[data_rows - 1], bad, blank, stream.tell())


def _line_at(data: bytes, offset: int) -> int:
    """The line (1-based) of ``data`` on which the byte at ``offset`` stands.

    >>> _line_at(b"a\\r\\nb\\rc", 5)
    3
    """
    return _count_lines(data[:offset] + b".")


class _Stream:
    """A CSV's bytes as the pieces are cut from: UTF-8 without its BOM, GB18030 as written.

    UTF-16 (Excel's "Unicode text") is transcoded to UTF-8 on the way, so that a
    line feed is one byte again. ``tell`` is the offset reached in the file itself.
    """

    def __init__(self, source: Source):
        self._file = source.path.open("rb")
        self._decoder = None
        if source.encoding == "utf-8-sig":
            self._file.read(len(_UTF8_BOM))
        elif source.encoding == "utf-16":
            self._decoder = codecs.getincrementaldecoder("utf-16")("strict")

    def read(self, size: int) -> bytes:
        """About ``size`` bytes; empty only at the end of the file."""
        block = self._file.read(size)
        if self._decoder is None:
            return block
        text = self._decoder.decode(block, final=not block)
        while not text and block:  # half a character so far
            block = self._file.read(size)
            text = self._decoder.decode(block, final=not block)
        return text.encode("utf-8")

    def tell(self) -> int:
        return self._file.tell()

    def __enter__(self) -> _Stream:
        return self

    def __exit__(self, *exc) -> None:
        self._file.close()


def _with_padded_rows(columns, refused, skip, width, options):
    """Take back refused rows that only carry empty cells after the last column (``a,b,c,,,``).

    Excel pads lines to the widest row of a sheet; the XLSX reader drops such
    cells too. Returns the columns with those rows in their place, each data
    row's number (1-based, in the piece) and the rows still refused, those with
    no value at all (``,,``) given 0 fields: blank lines, not refused ones.
    """
    padded, still = [], []
    for number, text, n_fields in refused:
        fields = next(csv.reader(io.StringIO(text, newline=""), delimiter=options.delimiter), [])
        if not any(f.strip() for f in fields):
            still.append((number, text, 0))
        elif n_fields > width and len(fields) == n_fields and not any(f.strip() for f in fields[width:]):
            padded.append((number, fields[:width]))
        else:
            still.append((number, text, n_fields))
    data_rows = _line_numbers(skip + 1, len(columns[0]), {number for number, _, _ in refused})
    if not padded:
        return columns, data_rows, still
    numbers = np.concatenate([data_rows, np.array([number for number, _ in padded], dtype=np.int64)])
    order = np.argsort(numbers, kind="stable")
    columns = [
        pa.concat_arrays([column, pa.array([fields[j] for _, fields in padded], pa.string())]).take(
            pa.array(order)
        )
        for j, column in enumerate(columns)
    ]
    return columns, numbers[order], still


def _count_lines(piece: bytes) -> int:
    """Lines in ``piece``, however they end (LF, CRLF or a bare CR); a last line without its end counts.

    >>> _count_lines(b"a\\r\\nb\\rc\\nd"), _count_lines(b"a\\n"), _count_lines(b"")
    (4, 1, 0)
    """
    ends = piece.count(b"\n")
    if b"\r" in piece:  # CRLF ends count once, bare CRs too (scanning for CRLF costs more: only then)
        ends += piece.count(b"\r") - piece.count(b"\r\n")
    return ends + (1 if piece and piece[-1:] not in (b"\n", b"\r") else 0)


def _row_lines(piece: bytes, rows: int, options: _CsvOptions) -> np.ndarray:
    """The line (1-based, in ``piece``) on which each of its ``rows`` rows starts.

    One row per line unless a quoted value runs over lines; then Python's csv
    module, which counts the lines it reads, finds where each row starts.
    """
    if _count_lines(piece) == rows:
        return np.arange(1, rows + 1, dtype=np.int64)
    codec = "utf-8" if options.encoding == "utf8" else options.encoding
    reader = csv.reader(io.StringIO(piece.decode(codec), newline=""), delimiter=options.delimiter)
    starts, read = [], 0
    for _ in reader:
        starts.append(read + 1)
        read = reader.line_num
    if len(starts) != rows:
        raise IngestError(
            f"读取出错：两种读法的行数不一致（{len(starts)} / {rows}），未导入任何数据；请把文件交给数据管理员 / "
            f"Python's csv module reads {len(starts)} rows where Arrow read {rows} (a reader fault)"
        )
    return np.asarray(starts, dtype=np.int64)


def _unclosed_quote(source: Source, line: int, merged: int) -> IngestError:
    """A quote opened on ``line`` never closes: the ``merged`` lines after it would run into one value.

    Refused whole: row by row, the lines it swallowed would be counted as one
    refused line and every student on them would be missing from the import.
    """
    return IngestError(
        f"{source.path.name}: 第 {line} 行的引号没有闭合，其后 {merged} 行被并进了这一行；请在原文件中补全或删去"
        f"这个引号后重新导入 / line {line} opens a quote that never closes: the {merged} lines after it ran "
        "into it; close or remove the quote and import the file again"
    )


@dataclass(frozen=True)
class _Piece:
    """Whole records of a CSV in UTF-8: their bytes, how many records, how they are quoted.

    ``records`` counts the line breaks outside quoted values (and a last record
    without one), independently of the parser. ``quoted_newlines`` says a quoted
    value holds a line break; ``unclosed`` is the offset of a quote that opens a
    value the file never closes.
    """

    data: bytes
    records: int
    quoted_newlines: bool = False
    unclosed: int | None = None


_QUOTE, _LF, _CR = 0x22, 0x0A, 0x0D
_STRAY_QUOTES_VECTORISED = 32
"""Stray quotes (a ``"`` inside an unquoted value, kept as written) resolved in numpy before a plain loop."""


def _toggles(buf: np.ndarray, delimiter: int) -> np.ndarray:
    r"""Offsets of the quote runs that open or close a quoted value in ``buf`` (which starts a record).

    CSV as Python's csv module and Arrow read it: a ``"`` opens a quoted value
    only at the start of a field; inside one, ``""`` is a quote and a lone
    ``"`` closes it; anywhere else a ``"`` is a character like any other. So a
    run of an even number of quotes never changes the state, an odd run at the
    start of a field always does, and an odd run elsewhere only closes a value.
    Written by hand: no CSV library says where its records end.

    >>> _toggles(np.frombuffer(b'a,"b\n""c",d"e\n', np.uint8), ord(",")).tolist()
    [2, 8]
    """
    quotes = np.flatnonzero(buf == _QUOTE)
    if not len(quotes):
        return quotes
    new_run = np.ones(len(quotes), dtype=bool)
    new_run[1:] = np.diff(quotes) != 1
    run_at = np.flatnonzero(new_run)
    odd = np.diff(np.append(run_at, len(quotes))) % 2 == 1
    starts = quotes[run_at[odd]]
    before = buf[np.maximum(starts - 1, 0)]
    field_start = (starts == 0) | (before == delimiter) | (before == _LF) | (before == _CR)
    toggles = np.ones(len(starts), dtype=bool)
    for _ in range(_STRAY_QUOTES_VECTORISED):
        inside = (np.cumsum(toggles) - toggles) % 2 == 1
        stray = toggles & ~field_start & ~inside
        if not stray.any():
            return starts[toggles]
        toggles[int(np.argmax(stray))] = False
    inside = False
    for k in range(len(starts)):
        toggles[k] = field_start[k] or inside
        inside ^= bool(toggles[k])
    return starts[toggles]


def _line_breaks(buf: np.ndarray) -> np.ndarray:
    """Offsets of the line breaks in ``buf``: each LF, and each CR not followed by a LF."""
    breaks = np.flatnonzero((buf == _LF) | (buf == _CR))
    if len(breaks):
        following = np.append(buf[breaks[1:]], 0)
        is_crlf = (buf[breaks] == _CR) & (following == _LF) & (np.append(np.diff(breaks), 0) == 1)
        breaks = breaks[~is_crlf]
    return breaks


def _cut(buf: bytes, delimiter: int, final: bool) -> _Piece | None:
    """The longest piece of ``buf`` that ends where a record ends (all of it at the end of the file).

    None when no record ends in ``buf`` yet: a quoted value runs past it.
    A CR at the very end of ``buf`` may be the first half of a CRLF: no cut there
    before the end of the file.
    """
    if b'"' not in buf:  # the usual export: every line break ends a record
        cut = len(buf) if final else (buf.rfind(b"\n") + 1 or buf.rfind(b"\r", 0, len(buf) - 1) + 1)
        return _Piece(buf[:cut], _count_lines(buf[:cut])) if cut else None
    data = np.frombuffer(buf, dtype=np.uint8)
    toggles = _toggles(data, delimiter)
    breaks = _line_breaks(data)
    outside = np.searchsorted(toggles, breaks) % 2 == 0
    ends = breaks[outside] + 1
    if final:
        cut = len(buf)
    else:
        ends = ends[(ends < len(buf)) | (data[-1] == _LF)]
        if not len(ends):
            return None
        cut = int(ends[-1])
    within = breaks < cut
    records = int(np.count_nonzero(ends <= cut)) + int(not len(ends) or ends[-1] < cut)
    open_quotes = np.count_nonzero(toggles < cut) % 2
    return _Piece(
        buf[:cut],
        records,
        quoted_newlines=bool((within & ~outside).any()),
        unclosed=int(toggles[toggles < cut][-1]) if open_quotes else None,
    )


def _csv_pieces(stream, size: int, delimiter: str) -> Iterator[_Piece]:
    r"""The file read from ``stream`` in pieces of about ``size`` bytes, each ending where a record ends.

    A piece ends after a line break outside quoted values: after a LF (in UTF-8
    never part of another character), or after a bare CR (Excel for Mac). A
    quoted value with line breaks inside (Alt+Enter in an Excel cell) never
    straddles two pieces: the piece grows until the value closes.

    >>> [(p.data, p.records) for p in _csv_pieces(io.BytesIO(b'a,b\n1,"2\n3"\n4,5'), 5, ",")]
    [(b'a,b\n', 1), (b'1,"2\n3"\n', 1), (b'4,5', 1)]
    """
    rest = b""
    while True:
        block = stream.read(size)
        buf = rest + block
        if not buf:
            return
        piece = _cut(buf, ord(delimiter), final=not block)
        if piece is not None:
            yield piece
            rest = buf[len(piece.data) :]
        else:
            rest = buf
        if not block:
            return


@dataclass(frozen=True)
class _CsvOptions:
    """How every piece of one CSV is parsed: all cells as text, nothing inferred."""

    names: list[str]
    encoding: str
    delimiter: str

    def parse(self, piece: _Piece, skip: int) -> tuple[list[pa.Array], list[tuple[int, str, int]]]:
        """Text columns of ``piece`` after ``skip`` records, and ``(row in piece, text, fields)`` of rows refused.

        Arrow parses on several threads, but then cannot say on which row one
        with the wrong number of fields stands: a piece holding one is parsed
        again on one thread (rare, and only that piece).
        """
        if skip >= piece.records:  # title lines or the header, and nothing after them
            return [pa.array([], pa.string()) for _ in self.names], []
        columns, refused = self._read(piece, skip, threads=True)
        if refused:
            columns, refused = self._read(piece, skip, threads=False)
        return columns, refused

    def _read(self, piece: _Piece, skip: int, *, threads: bool):
        refused: list[tuple[int, str, int]] = []

        def on_invalid(row) -> str:
            refused.append((row.number, row.text, row.actual_columns))
            return "skip"

        table = pacsv.read_csv(
            io.BytesIO(piece.data),
            read_options=pacsv.ReadOptions(
                use_threads=threads,
                block_size=_BLOCK_BYTES,
                skip_rows=skip,
                column_names=self.names,
                encoding=self.encoding,
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=self.delimiter,
                # slower on threads: only for a piece where a quoted value holds a line break
                newlines_in_values=piece.quoted_newlines,
                ignore_empty_lines=False,
                invalid_row_handler=on_invalid,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(self.names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                null_values=[],
            ),
        )
        return [column.combine_chunks() for column in table.columns], refused


def _drop_blank(columns, line_nos, bad, blank, bytes_done) -> Chunk:
    if len(line_nos):
        is_blank = _blank_mask(columns)
        if is_blank.any():
            keep = pa.array(~is_blank)
            columns = [pc.filter(c, keep) for c in columns]
            line_nos = line_nos[~is_blank]
            blank += int(is_blank.sum())
    return Chunk(columns, line_nos, bad, blank, bytes_done)


def cell_text(value) -> str:
    """Text of an XLSX cell value as a person reads it (``12.0`` → ``12``, dates ISO).

    A number of 16 digits or more (a 学籍号 typed into a number cell) is given as
    Excel shows it, ``3.20404201201010E+17``: Excel kept 15 significant digits of
    it, so the importer refuses it rather than invent the rest.

    >>> cell_text(12.0), cell_text(0.5), cell_text(None), cell_text(datetime(2024, 9, 1))
    ('12', '0.5', '', '2024-09-01')
    >>> cell_text(320404201201010014)
    '3.20404201201010E+17'
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float) and abs(value) >= _EXCEL_EXACT:
        return f"{value:.14E}"  # as Excel shows it: the digits past the 15th were never kept
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _open_workbook(path: Path):
    import openpyxl

    try:
        # a file object, not a path: openpyxl would refuse a workbook named .csv by its extension
        return openpyxl.load_workbook(io.BytesIO(path.read_bytes()), read_only=True, data_only=True)
    except Exception as exc:  # any failure on a malformed ZIP/XML becomes the importer's error
        raise IngestError(
            f"{path.name}: 无法读取的 Excel 文件（{type(exc).__name__}）；请在 Excel 中打开后重新另存为 .xlsx / "
            f"not a readable XLSX workbook ({type(exc).__name__})"
        ) from None


def _xlsx_first_rows(path: Path) -> list[list[str]]:
    """The first rows of the workbook's only sheet, as text (a workbook with data on several is refused)."""
    wb = _open_workbook(path)
    try:
        others = [ws.title for ws in wb.worksheets if ws is not wb.active and ws.max_row and ws.max_row > 1]
        if others:
            raise IngestError(
                f"{path.name}: 多个工作表有数据（{wb.active.title}、{'、'.join(others)}），一次只导入一个工作表；请分别另存"
                f"为单独的文件后导入 / data on several sheets ({wb.active.title}, {', '.join(others)}): save each "
                "sheet as its own file"
            )
        rows = wb.active.iter_rows(min_row=1, max_row=_HEADER_SEARCH_ROWS, values_only=True)
        return [_without_trailing_blanks([cell_text(v) for v in row]) for row in rows]
    except IngestError:
        raise
    except Exception as exc:  # malformed sheet XML
        raise IngestError(
            f"{path.name}: 无法读取工作表（{type(exc).__name__}）；请在 Excel 中打开后重新另存为 .xlsx / the first sheet "
            f"cannot be read ({type(exc).__name__})"
        ) from None
    finally:
        wb.close()


def _without_trailing_blanks(texts: list[str]) -> list[str]:
    """A sheet row without the empty cells after its last value (a sheet pads rows to its widest)."""
    while texts and not texts[-1].strip():
        texts.pop()
    return texts


def _xlsx_chunks(source: Source) -> Iterator[Chunk]:
    width = len(source.headers)
    wb = _open_workbook(source.path)
    try:
        rows: list[list[str]] = []
        lines: list[int] = []
        bad: list[tuple[int, str, int]] = []

        last_row = wb.active.max_row or 1

        def flush(line_no: int) -> Chunk:
            columns = [pa.array([r[i] for r in rows], pa.string()) for i in range(width)]
            done = int(source.size * min(1.0, line_no / last_row))
            chunk = _drop_blank(columns, np.asarray(lines, dtype=np.int64), list(bad), 0, done)
            rows.clear(), lines.clear(), bad.clear()
            return chunk

        first = source.header_line + 1
        for line_no, row in enumerate(wb.active.iter_rows(min_row=first, values_only=True), start=first):
            texts = _without_trailing_blanks([cell_text(v) for v in row])
            if len(texts) > width:
                bad.append((line_no, joined(texts), len(texts)))
                continue
            rows.append(texts + [""] * (width - len(texts)))
            lines.append(line_no)
            if len(rows) >= _XLSX_CHUNK_ROWS:
                yield flush(line_no)
        yield flush(last_row)
    finally:
        wb.close()


def joined(cells: list[str]) -> str:
    """Cells as one CSV line (quoted where a cell needs it).

    >>> joined(["G1", "王,五", ""])
    'G1,"王,五",'
    """
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(cells)
    return buf.getvalue()


def fields(text: str, delimiter: str = ",") -> list[str]:
    """The cells of one line as written in the file (a line refused for its number of fields).

    >>> fields('G1,"王\\n五",女')
    ['G1', '王\\n五', '女']
    """
    return next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), [])


def non_record_candidates(chunk: Chunk, key: int, key_header: str, marker: str) -> np.ndarray:
    """Rows of ``chunk`` that may not be records: the key cell (学籍号 …) is empty, repeats its header or
    starts with a marker such as 合计 or 制表人 (checked in Arrow: a clean chunk costs one pass)."""
    cells = pc.utf8_trim_whitespace(chunk.columns[key])
    suspect = pc.or_(
        pc.or_(pc.equal(pc.utf8_length(cells), 0), pc.equal(cells, key_header)),
        pc.match_substring_regex(cells, marker),
    )
    return np.flatnonzero(suspect.to_numpy(zero_copy_only=False))


MASK = "＊"
"""What the database keeps of a cell of a refused line that may identify a person."""
