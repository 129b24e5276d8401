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

ENCODINGS = ("utf-8-sig", "utf-8", "gb18030")
"""Encodings tried, in order, with strict decoding of the whole file (GB18030 is a superset of GBK)."""

_BLOCK_BYTES = 1 << 20
_MAX_PIECE_BYTES = 8 << 20
_XLSX_CHUNK_ROWS = 20_000
_HEADER_SEARCH_ROWS = 10
_NUMBER = re.compile(r"\d+(\.\d+)?")
"""Rows searched for the header when the first row is a title (导出标题, 导出时间 …)."""
_XLSX_MAGIC = b"PK\x03\x04"
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


def _scan(path: Path) -> tuple[str, int, str | None, bool]:
    """SHA-256, size, first strictly decodable encoding (None if none) and whether it is a ZIP (XLSX)."""
    digest = hashlib.sha256()
    decoders = {enc: codecs.getincrementaldecoder(enc)("strict") for enc in ENCODINGS}
    alive = dict.fromkeys(ENCODINGS, True)
    size = 0
    head = b""
    with path.open("rb") as fh:
        while block := fh.read(_BLOCK_BYTES):
            if not size:
                head = block[:4]
            size += len(block)
            digest.update(block)
            for enc, decoder in decoders.items():
                if alive[enc]:
                    try:
                        decoder.decode(block)
                    except UnicodeDecodeError:
                        alive[enc] = False
    for enc, decoder in decoders.items():
        if alive[enc]:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                alive[enc] = False
    if alive["utf-8-sig"] and not head.startswith(_UTF8_BOM):
        alive["utf-8-sig"] = False
    encoding = next((enc for enc in ENCODINGS if alive[enc]), None)
    return digest.hexdigest(), size, encoding, head.startswith(_XLSX_MAGIC)


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
        raise IngestError(f"{path}: no such file / 文件不存在")
    sha, size, encoding, is_zip = _scan(path)
    if size == 0:
        raise IngestError(f"{path.name}: the file is empty / 文件为空")
    if is_zip:
        rows = _xlsx_first_rows(path)
        at = _header_row(rows)
        headers = rows[at] if rows else []
        above = tuple(_join(row) for row in rows[:at])
        _refuse_empty_header(path, headers, at)
        return Source(path, sha, size, "xlsx", None, tuple(headers), header_line=at + 1, above_header=above)
    if encoding is None:
        raise IngestError(
            f"{path.name}: not a CSV in UTF-8 or GBK/GB18030, nor an XLSX workbook / 无法识别的文件编码"
        )
    lines = _first_lines(path, encoding, _HEADER_SEARCH_ROWS)
    try:
        rows = [next(csv.reader([line], delimiter=_delimiter(line)), []) for line in lines]
    except csv.Error as exc:
        raise IngestError(f"{path.name}: header line cannot be read ({exc}) / 表头无法读取") from None
    at = _header_row(rows)
    delimiter = _delimiter(lines[at])
    _refuse_empty_header(path, rows[at], at)
    return Source(
        path,
        sha,
        size,
        "csv",
        encoding,
        tuple(rows[at]),
        delimiter,
        header_line=at + 1,
        above_header=tuple(lines[:at]),
    )


def _refuse_empty_header(path: Path, headers, at: int) -> None:
    if not any(h.strip() for h in headers):
        raise IngestError(f"{path.name}: line {at + 1} holds no column names / 第{at + 1}行没有列名")


def iter_chunks(source: Source) -> Iterator[Chunk]:
    """Yield the data rows of ``source`` (after the header) as text :class:`Chunk` objects.

    The next chunk is read on a background thread while the caller works on this
    one. Every reader failure (malformed file, broken ZIP, bad quoting) is raised
    as :class:`IngestError`.
    """
    return _read_ahead(_chunks(source))


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


def _chunks(source: Source) -> Iterator[Chunk]:
    try:
        if source.format == "xlsx":
            yield from _xlsx_chunks(source)
        else:
            yield from _csv_chunks(source)
    except IngestError:
        raise
    except Exception as exc:  # any reader failure on malformed bytes becomes the importer's error
        raise IngestError(f"{source.path.name}: cannot be read as {source.format.upper()}: {exc}") from None


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


def _csv_chunks(source: Source) -> Iterator[Chunk]:
    """The rows of a CSV, one chunk per piece of the file; each piece is parsed by Arrow on all cores."""
    width = len(source.headers)
    names = [f"c{i}" for i in range(width)]
    # pieces of 1-8 MB, about an eighth of the file: big enough to amortise per-chunk work on a
    # million-row wave, small enough to report progress on a modest file
    piece_bytes = int(min(_MAX_PIECE_BYTES, max(_BLOCK_BYTES, source.size // 8)))
    options = _CsvOptions(
        names,
        # Arrow skips a UTF-8 byte-order mark itself; only GB18030 needs transcoding
        "utf8" if source.encoding.startswith("utf-8") else source.encoding,
        source.delimiter,
    )
    first_line = 1  # line number of the piece's first line
    for piece, end in _csv_pieces(source.path, piece_bytes):
        skip = source.header_line if first_line == 1 else 0
        columns, refused = options.parse(piece, skip)
        # Arrow numbers rows, not lines (a quoted value may run over several): map row → its first line
        rows = skip + len(columns[0]) + len(refused)  # every line is a row or refused, blank ones too
        line_of = first_line - 1 + _row_lines(piece, rows, options)
        for number, text, n_fields in refused:
            if "\n" in text or "\r" in text:
                raise _unclosed_quote(source, int(line_of[number - 1]), text, n_fields)
        bad = [(int(line_of[number - 1]), text, n) for number, text, n in refused if text.strip()]
        blank = len(refused) - len(bad)
        data_rows = _line_numbers(skip + 1, len(columns[0]), {number for number, _, _ in refused})
        first_line += _count_lines(piece)
        yield _drop_blank(columns, line_of[data_rows - 1], bad, blank, end)


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
    module, which counts the lines it reads, finds where each row starts. Should
    its rows differ from Arrow's count, rows are numbered as lines.
    """
    if _count_lines(piece) != rows:
        codec = "utf-8-sig" if options.encoding == "utf8" else options.encoding
        reader = csv.reader(io.StringIO(piece.decode(codec), newline=""), delimiter=options.delimiter)
        starts, read = [], 0
        try:
            for _ in reader:
                starts.append(read + 1)
                read = reader.line_num
        except csv.Error:  # a quote that never closes: Arrow's rows say where it starts
            starts = []
        if len(starts) == rows:
            return np.asarray(starts, dtype=np.int64)
    return np.arange(1, rows + 1, dtype=np.int64)


def _unclosed_quote(source: Source, line: int, text: str, n_fields: int) -> IngestError:
    """A refused row running over several lines: a quote opened on ``line`` swallowed the lines after it.

    Refused whole: row by row, the lines it swallowed would be counted as one
    refused line and every student on them would be missing from the import.
    """
    merged = len(text.splitlines()) - 1
    return IngestError(
        f"{source.path.name}: 第 {line} 行的引号没有闭合，其后 {merged} 行被并进了这一行（{n_fields} 列，表头 "
        f"{len(source.headers)} 列）；请在原文件中补全或删去这个引号后重新导入 / line {line} opens a quote that never "
        f"closes: the {merged} lines after it ran into it ({n_fields} fields, the header has {len(source.headers)}); "
        "close or remove the quote and import the file again"
    )


def _csv_pieces(path: Path, size: int) -> Iterator[tuple[bytes, int]]:
    """The file in pieces of about ``size`` bytes, each ending at a line break, with the offset it ends at.

    A piece is cut after a LF byte, which in UTF-8 and GB18030 is never part of
    another character, or — in a file whose lines end in a bare CR (Excel for Mac) —
    after a CR that is followed by something else than LF.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.csv"
    >>> _ = p.write_bytes(b"a,b\\n1,2\\n3,4")
    >>> list(_csv_pieces(p, 5))
    [(b'a,b\\n', 4), (b'1,2\\n', 8), (b'3,4', 11)]
    """
    with path.open("rb") as fh:
        rest = b""
        while block := fh.read(size):
            block = rest + block
            cut = block.rfind(b"\n") + 1 or block.rfind(b"\r", 0, len(block) - 1) + 1
            rest = block[cut:]
            if cut:
                yield block[:cut], fh.tell() - len(rest)
        if rest:
            yield rest, fh.tell()


@dataclass(frozen=True)
class _CsvOptions:
    """How every piece of one CSV is parsed: all cells as text, nothing inferred."""

    names: list[str]
    encoding: str
    delimiter: str

    def parse(self, piece: bytes, skip: int) -> tuple[list[pa.Array], list[tuple[int, str, int]]]:
        """Text columns of ``piece`` after ``skip`` lines, and ``(line in piece, text, fields)`` of rows refused.

        Arrow parses on several threads, but then cannot say on which line a row
        with the wrong number of fields stands: a piece holding one is parsed
        again on one thread (rare, and only that piece).
        """
        if skip and len(piece.splitlines()) <= skip:  # the header, unterminated, and nothing after it
            return [pa.array([], pa.string()) for _ in self.names], []
        columns, refused = self._read(piece, skip, threads=True)
        if refused:
            columns, refused = self._read(piece, skip, threads=False)
        return columns, refused

    def _read(self, piece: bytes, skip: int, *, threads: bool):
        refused: list[tuple[int, str, int]] = []

        def on_invalid(row) -> str:
            refused.append((row.number, row.text, row.actual_columns))
            return "skip"

        table = pacsv.read_csv(
            io.BytesIO(piece),
            read_options=pacsv.ReadOptions(
                use_threads=threads,
                block_size=_BLOCK_BYTES,
                skip_rows=skip,
                column_names=self.names,
                encoding=self.encoding,
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=self.delimiter,
                newlines_in_values=False,
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

    >>> cell_text(12.0), cell_text(0.5), cell_text(None), cell_text(datetime(2024, 9, 1))
    ('12', '0.5', '', '2024-09-01')
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
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
            f"{path.name}: not a readable XLSX workbook ({exc}) / 无法读取的Excel文件"
        ) from None


def _xlsx_first_rows(path: Path) -> list[list[str]]:
    """The first rows of the workbook's only sheet, as text (a workbook with data on several is refused)."""
    wb = _open_workbook(path)
    try:
        others = [ws.title for ws in wb.worksheets if ws is not wb.active and ws.max_row and ws.max_row > 1]
        if others:
            raise IngestError(
                f"{path.name}: data on several sheets ({wb.active.title}, {', '.join(others)}): only one is "
                "read per import; save each sheet as its own file / 一次只导入一个工作表，请分别保存后导入"
            )
        rows = wb.active.iter_rows(min_row=1, max_row=_HEADER_SEARCH_ROWS, values_only=True)
        return [_without_trailing_blanks([cell_text(v) for v in row]) for row in rows]
    except IngestError:
        raise
    except Exception as exc:  # malformed sheet XML
        raise IngestError(f"{path.name}: the first sheet cannot be read ({exc}) / 无法读取工作表") from None
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
                bad.append((line_no, _join(texts), len(texts)))
                continue
            rows.append(texts + [""] * (width - len(texts)))
            lines.append(line_no)
            if len(rows) >= _XLSX_CHUNK_ROWS:
                yield flush(line_no)
        yield flush(last_row)
    finally:
        wb.close()


def _join(fields: list[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(fields)
    return buf.getvalue()


def row_text(chunk: Chunk, i: int, *, mask: frozenset[int] = frozenset()) -> str:
    """The ``i``-th row of ``chunk`` as one CSV line, with the columns in ``mask`` replaced by ``＊``."""
    return _join([MASK if j in mask else col[i].as_py() for j, col in enumerate(chunk.columns)])


def masked_line(text: str, mask: frozenset[int]) -> str:
    """A raw CSV line with the fields at the positions in ``mask`` replaced by ``＊``.

    >>> masked_line("G1,张三,女,5", frozenset({0, 1}))
    '＊,＊,女,5'
    """
    fields = next(csv.reader([text]), [])
    return _join([MASK if j in mask else f for j, f in enumerate(fields)])


MASK = "＊"
"""What the database keeps of an identifying cell (学籍号, 工号, 姓名) of a refused line."""
