"""The importer's per-file work: check each chunk of rows, then store the accepted rows in key order."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from psychanalytics.ingest import _compare, _read
from psychanalytics.ingest import _parse as p
from psychanalytics.ingest._headers import (
    clean_text,
)
from psychanalytics.ingest._kind import (
    Columns,
    Context,
    Kind,
    Write,
    take,
)
from psychanalytics.ingest._layout import Layout
from psychanalytics.ingest._parse import number
from psychanalytics.ingest._problems import Bad, IngestError, Problem
from psychanalytics.ingest._screening import Coding, item_matrix
from psychanalytics.ingest._write import Serial, write_rows
from psychanalytics.privacy.pseudonym import pseudonymise
from psychanalytics.privacy.shapes import looks_personal
from psychanalytics.store import schema
from psychanalytics.store.erasure import forgotten_pids

ProgressFn = Callable[[int, int], None]
"""Called as ``progress(done, total)``: ``done / total`` is the share of the import done. Reading and
checking the file is the first half, storing its rows in key order the second; ``total`` is the file's
size in bytes."""

_SLICE_ROWS = 65_536
"""Accepted rows built into table rows (and scored) at a time, in key order."""


class _Firsts:
    """The line and signature of each key's first accepted line in the file.

    Held as one small int per key (chunk number and row) into per-chunk arrays:
    a million keys stay a dict of ints, not a million tuples.
    """

    def __init__(self):
        self._at: dict = {}
        self._lines: list[np.ndarray] = []
        self._signatures: list[np.ndarray] = []

    def add_chunk(self, lines: np.ndarray, signatures: np.ndarray) -> int:
        """Keep a chunk's line numbers and signatures; return the tag its rows are recorded under."""
        self._lines.append(lines)
        self._signatures.append(signatures)
        return (len(self._lines) - 1) << 32

    def all_new(self, keys: list) -> bool:
        """True when no key repeats, within ``keys`` or with any seen before."""
        return len(set(keys)) == len(keys) and self._at.keys().isdisjoint(keys)

    def record(self, keys: list, tag: int, rows: list[int]) -> None:
        """Record new keys as first seen at ``rows`` of the chunk ``tag``."""
        self._at.update(zip(keys, map(tag.__or__, rows), strict=True))

    def first(self, key) -> tuple[int, int] | None:
        """``(line, signature)`` of the first line with ``key``, or None."""
        at = self._at.get(key)
        if at is None:
            return None
        chunk, row = at >> 32, at & 0xFFFFFFFF
        return int(self._lines[chunk][row]), int(self._signatures[chunk][row])


@dataclass
class _CodingCheck:
    """Counts that tell a file of option numbers 1 … K from one in the instrument's codes 0 … K-1."""

    zeros: int = 0
    above: int = 0
    first_above: tuple[int, str] | None = None

    def count(self, numbers: np.ndarray, top: int, line_nos: np.ndarray, headers: tuple[str, ...]) -> None:
        """Count the cells holding 0 and those holding ``top`` (one above the highest code)."""
        self.zeros += int(np.count_nonzero(numbers == 0))
        above = numbers == top
        if above.any():
            self.above += int(np.count_nonzero(above))
            if self.first_above is None:
                j, i = (int(a[0]) for a in np.nonzero(above))
                self.first_above = (int(line_nos[i]), headers[j])

    def refuse_option_numbers(self, spec) -> None:
        """No 0 anywhere and some cells one above the highest code: the file holds option numbers 1 … K.

        Stored as codes, every answer would be one step too high (PHQ-9: every total +9, the item-9
        flag set for nearly everyone) and only the lines holding K refused. Refused whole instead.
        """
        if self.zeros or not self.above:
            return
        line, header = self.first_above
        top = max(spec.item_values) + 1
        raise IngestError(
            f"{spec.code} 的作答代码是 {min(spec.item_values)}–{max(spec.item_values)}，而这份文件没有一个 0、"
            f"却有 {self.above} 处 {top}（如第 {line} 行「{header}」）：像是问卷星等平台按「选项序号」（1–{top}）"
            f"导出的。请按「选项文本」重新下载，或加 --option-numbers 按表单的选项顺序导入 / {spec.code} is coded "
            f"{min(spec.item_values)}-{max(spec.item_values)} but this file holds no 0 and {self.above} cells of {top} "
            f"(e.g. line {line}, {header}): it looks like a survey platform's option numbers 1-{top}. Download the "
            "answers as option text, or import with --option-numbers; nothing was stored"
        )


@dataclass
class ImportState:
    rows_read: int = 0
    stored: int = 0
    duplicates: int = 0
    blank: int = 0
    invalid_sheets: int = 0
    non_data: list[int] = field(default_factory=list)
    coding: _CodingCheck = field(default_factory=_CodingCheck)
    changes: _compare.Changes = field(default_factory=_compare.Changes)
    firsts: _Firsts = field(default_factory=_Firsts)
    problems: list = field(default_factory=list)
    raws: list = field(default_factory=list)


class Importer:
    def __init__(
        self,
        kind: Kind,
        source: _read.Source,
        file_layout: Layout,
        context: Context,
        key: bytes,
        conn: sa.Connection,
        writer: Serial,
    ):
        self.kind, self.source, self.layout, self.context, self.key = kind, source, file_layout, context, key
        self.conn, self.writer = conn, writer
        self.state = ImportState()
        self.kept: list[Columns] = []  # accepted rows of each chunk, stored by finish()

    @cached_property
    def _kept_columns(self) -> frozenset[int]:
        """Positions whose cells the database may keep of a refused line: the non-identifying fields, items and
        scores. Every other column (学籍号, 姓名, and whatever a form adds: 身份证号, 家长手机, 来自IP …) is masked."""
        file_layout = self.layout
        fields = {idx for name, idx in file_layout.fields.items() if name not in _IDENTIFYING}
        return frozenset(fields | set(file_layout.items) | {idx for idx, _, _ in file_layout.summary})

    @property
    def _delimiter(self) -> str:
        """How the fields of a refused line are separated (an XLSX row is given as a CSV line)."""
        return self.source.delimiter if self.source.format == "csv" else ","

    @cached_property
    def _kept_headers(self) -> frozenset[str]:
        return frozenset(self.source.headers[idx] for idx in self._kept_columns)

    def _database_cell(self, text: str, kept: bool) -> str:
        return text if kept and not looks_personal(text) else _read.MASK

    def _refuse(self, line_no: int, problems: list[Problem], raw: str, masked: str) -> dict:
        """Refuse a line: the full text goes to the school's report; its masked ``quarantine`` row is returned."""
        self.state.problems.append(tuple(problems))
        self.state.raws.append(raw)
        reasons = [
            {
                **pr.as_dict(),
                "value": self._database_cell(pr.value, pr.column in self._kept_headers or pr.column == _ROW),
            }
            for pr in problems
        ]
        return {
            "batch_id": self.context.batch_id,
            "source_sha256": self.source.sha256,
            "line_no": line_no,
            "reasons": json.dumps(reasons, ensure_ascii=False),
            "raw": masked,
        }

    def _quarantine(self, refused: list[dict]) -> None:
        """Store a chunk's refused lines in one statement (one job for the writer, not one per line)."""
        if refused:
            self.writer.submit(self.conn.execute, schema.quarantine.insert(), refused)

    def chunk(self, chunk: _read.Chunk) -> None:
        """Check one chunk: refused lines go to quarantine now, accepted rows wait for :meth:`finish`."""
        state = self.state
        chunk = self._without_non_data(chunk)
        state.rows_read += len(chunk) + len(chunk.bad_rows)
        state.blank += chunk.blank
        refused = [self._refuse_short_row(*bad) for bad in chunk.bad_rows]
        n = len(chunk)
        if not n:
            self._quarantine(refused)
            return
        lines = chunk.line_nos.tolist()
        problems: dict[int, list[Problem]] = {}

        def refuse(i: int, column: str, value: str, reason: str, detail: str = "") -> None:
            problems.setdefault(i, []).append(Problem(lines[i], column, value, reason, detail))

        columns, texts = self._parse(chunk, refuse)
        # every cell counts for "the same line again": field texts, item codes, and the other columns' text
        apart = set(self.layout.fields.values()) | set(self.layout.items)
        raw = [chunk.columns[idx].to_pylist() for idx in range(len(self.source.headers)) if idx not in apart]
        signatures = _signatures([*raw, *texts.values(), columns.get("items")], n)
        todo = [i for i in range(n) if i not in problems]
        self._check(columns, texts, todo, refuse)
        if problems:
            todo = [i for i in todo if i not in problems]
        repeated = self._deduplicate(columns, todo, chunk.line_nos, signatures, refuse)
        kept = self._kept_columns
        for i in sorted(problems):
            cells = [column[i].as_py() for column in chunk.columns]
            masked = [self._database_cell(text, j in kept) for j, text in enumerate(cells)]
            refused.append(self._refuse(lines[i], problems[i], _read.joined(cells), _read.joined(masked)))
        self._quarantine(refused)
        accepted = [i for i in todo if i not in problems and i not in repeated]
        if accepted:
            columns["line"] = lines
            self.kept.append(columns if len(accepted) == n else take(columns, accepted))
        state.stored += len(accepted)

    def _without_non_data(self, chunk: _read.Chunk) -> _read.Chunk:
        """The chunk without lines that are not records (a repeated header, 合计, 制表人 …), noted by line."""
        key = self.layout.fields.get(_KEY_SOURCES.get(self.kind.key[0], self.kind.key[0]))
        if key is None:
            return chunk
        header = [clean_text(h) for h in self.source.headers]
        short = [
            bad
            for bad in chunk.bad_rows
            if not _is_record([clean_text(c) for c in _read.fields(bad[1], self._delimiter)], header, None)
        ]
        rows = _read.non_record_candidates(chunk, key, header[key], _NON_DATA_MARKER.pattern)
        cells = {i: [clean_text(column[i].as_py()) for column in chunk.columns] for i in rows.tolist()}
        dropped = [i for i, row in cells.items() if not _is_record(row, header, key)]
        self.state.non_data.extend([*(bad[0] for bad in short), *(int(chunk.line_nos[i]) for i in dropped)])
        if not dropped and not short:
            return chunk
        keep = np.ones(len(chunk), dtype=bool)
        keep[dropped] = False
        return chunk.keep(keep, bad_rows=[bad for bad in chunk.bad_rows if bad not in short])

    def _refuse_short_row(self, line_no: int, text: str, n_fields: int) -> dict:
        """A line with another number of fields than the header: which cell is which is unknown, so the
        database keeps only its empty cells and small numbers (item codes)."""
        headers = self.source.headers
        problem = Problem(
            line_no,
            _ROW,
            f"{n_fields} 列，表头 {len(headers)} 列 / {n_fields} fields, header has {len(headers)}",
            "short_row",
        )
        masked = [
            f if _SMALL_NUMBER.fullmatch(f) else _read.MASK for f in _read.fields(text, self._delimiter)
        ]
        return self._refuse(line_no, [problem], text, _read.joined(masked))

    def _parse(self, chunk: _read.Chunk, refuse) -> tuple[Columns, dict[str, list[str]]]:
        """The chunk's fields parsed (pids in place of 学籍号), item codes, summary scores; and the field texts."""
        headers, file_layout = self.source.headers, self.layout
        if file_layout.platform and "gender" in file_layout.fields:
            _refuse_choices_as_numbers(chunk, file_layout.fields["gender"], headers)
        columns: Columns = {}
        texts = {name: chunk.columns[idx].to_pylist() for name, idx in file_layout.fields.items()}
        for f in self.kind.fields:
            if f.name in texts and f.name != "name":
                cells = chunk.columns[file_layout.fields[f.name]]
                plain = _is_plain(cells)
                if plain and f.kept_as_written is not None and f.kept_as_written(cells):
                    columns[f.name] = texts[f.name]
                    continue
                columns[f.name] = _parse_column(
                    texts[f.name],
                    f,
                    lambda i, r, f=f: refuse(i, headers[file_layout.fields[f.name]], texts[f.name][i], r),
                    plain=plain,
                )
        if file_layout.items:
            columns["items"] = self._items(chunk, refuse)
        if file_layout.summary:
            columns["reported"] = self._summary(chunk, refuse)
        if "student_number" in columns:
            self._student_numbers(columns["student_number"], refuse)
        self._identify(columns)
        if self.context.has_erasures and "pid" in columns:
            self._refuse_erased(columns["pid"], texts["student_number"], refuse)
        return columns, texts

    def _refuse_erased(self, pids: list, numbers: list[str], refuse) -> None:
        """Refuse the lines of students erased at a request (``psychanalytics forget``): an old file imported
        again must not bring them back. The store keeps their pseudonyms (tombstones), never their numbers."""
        erased = self.writer.call(forgotten_pids, self.conn, [pid for pid in pids if pid is not None])
        if erased:
            header = self.source.headers[self.layout.fields["student_number"]]
            for i, pid in enumerate(pids):
                if pid in erased:
                    refuse(i, header, numbers[i], "erased")

    def _student_numbers(self, numbers: list, refuse) -> None:
        """Apply the rule for a bare ID-card number (``bare_id_card``) and refuse a number that differs
        from a student the database knows only by what a spreadsheet drops (leading zeros, the G).

        The database holds pseudonyms only: a number's variants are pseudonymised and looked up.
        Only numbers of digits alone can have lost something; a G-number is the national form.
        """
        header = self.source.headers[self.layout.fields["student_number"]]
        rule = self.context.bare_id_card
        candidates: dict[int, list[str]] = {}
        for i, written in enumerate(numbers):
            if written is None or not written[:17].isdigit():  # G-numbers and local L-numbers end here
                continue
            forms = [written, "G" + written] if p.bare_id_card(written) else [written]
            if rule == "refuse" and len(forms) == 2:
                refuse(i, header, written, "bare_id_card")
                numbers[i] = None
                continue
            if len(forms) == 2 and rule == "add_g":
                forms = forms[::-1]
                numbers[i] = forms[0]
            candidates[i] = [*forms, *("0" * zeros + written for zeros in range(1, 4))]
        if not candidates or not self.context.has_students:
            return
        pids = {
            form: pid
            for rows in candidates.values()
            for form, pid in zip(rows, pseudonymise(rows, self.key), strict=True)
        }
        known = self.writer.call(_known_pids, self.conn, sorted(set(pids.values())))
        for i, forms in candidates.items():
            if pids[forms[0]] in known:
                continue
            seen = next((form for form in forms[1:] if pids[form] in known), None)
            if seen is not None:
                refuse(i, header, f"{numbers[i]}（库中已有 {seen} / known as {seen}）", "known_variant")
                numbers[i] = None

    def _check(self, columns: Columns, texts: dict[str, list[str]], rows: list[int], refuse) -> None:
        """Run the kind's cross-field checks whose fields the file has on ``rows``."""
        headers, fields = self.source.headers, self.layout.fields
        for check in self.kind.checks:
            if set(getattr(check, "needs", ())) <= columns.keys():
                for i, column, reason in check(columns, rows, self.context):
                    value = texts[column][i] if column in texts else ""
                    refuse(i, headers[fields[column]] if column in fields else column, value, reason)

    def _deduplicate(self, columns: Columns, rows: list[int], lines, signatures, refuse) -> set[int]:
        """Rows repeating an earlier line exactly (returned, counted); other repeated keys are refused."""
        state, headers, fields = self.state, self.source.headers, self.layout.fields
        key_columns = [columns[f] for f in self.kind.key]
        if len(key_columns) > 1:
            keys = [tuple(column[i] for column in key_columns) for i in rows]
        else:
            keys = [key_columns[0][i] for i in rows]
        tag = state.firsts.add_chunk(lines, signatures)
        if state.firsts.all_new(keys):  # the usual file: every row is its key's first
            state.firsts.record(keys, tag, rows)
            return set()
        # name the key as the file does: a pid is the 学籍号 column, a staff_id the 工号 column
        named = [_KEY_SOURCES.get(field, field) for field in self.kind.key]
        key_names = ", ".join(headers[fields[f]] if f in fields else f for f in named)
        repeated = set()
        for i, key in zip(rows, keys, strict=True):
            first = state.firsts.first(key)
            if first is None:
                state.firsts.record([key], tag, [i])
            elif first[1] == signatures[i]:
                state.duplicates += 1
                repeated.add(i)
            else:
                refuse(i, key_names, f"同第 {first[0]} 行 / as line {first[0]}", "duplicate_key")
        return repeated

    def finish(self, progress: Callable[[float], None] | None = None) -> None:
        """Store the accepted rows of the whole file in key order, one slice at a time.

        Rows that arrive in pseudonym order — random — make every insert land on
        another B-tree page; in key order each page fills before the next. On a
        million-row wave that is the larger part of the import's time.
        """
        if self.context.spec is not None and self.layout.items:
            self.state.coding.refuse_option_numbers(self.context.spec)
        columns = _concatenated(self.kept)
        self.kept = []
        if columns is None:
            return
        order = _key_order(columns, self.kind.key)
        for start in range(0, len(order), _SLICE_ROWS):
            self._write(take(columns, order[start : start + _SLICE_ROWS]))
            if progress is not None:
                progress(min(1.0, (start + _SLICE_ROWS) / len(order)))

    @cached_property
    def _coding(self) -> Coding:
        context = self.context
        return Coding.of(context.spec, zero_based=context.zero_based, option_numbers=context.option_numbers)

    def _items(self, chunk: _read.Chunk, refuse) -> np.ndarray:
        """Item columns → a rows × items ``int8`` code matrix; bad cells are refused with their reason and
        what the instrument accepts. A file coded from 0 for an instrument coded from 1 is refused whole;
        whether a file coded from 1 is option numbers is decided when it has been read (:meth:`finish`)."""
        file_layout, spec, headers = self.layout, self.context.spec, self.source.headers
        arrays = [chunk.columns[idx] for idx in file_layout.items]
        cells = item_matrix(arrays, self._coding)
        plain = not (self.context.zero_based or self.context.option_numbers)
        if plain and min(spec.item_values) == 1 and (cells.numbers == 0).any():
            j, i = (int(a[0]) for a in np.nonzero(cells.numbers == 0))
            raise _coded_from_zero(spec, int(chunk.line_nos[i]), headers[file_layout.items[j]])
        if plain and min(spec.item_values) == 0:
            self.state.coding.count(
                cells.numbers, max(spec.item_values) + 1, chunk.line_nos, file_layout.item_headers
            )
        accepted = _accepted_answers(spec, self._coding)
        for j in np.flatnonzero(cells.unknown.any(axis=1) | cells.out_of_range.any(axis=1)).tolist():
            for mask, reason in (
                (cells.unknown[j], "unknown_option"),
                (cells.out_of_range[j], "out_of_range"),
            ):
                for i in np.flatnonzero(mask).tolist():
                    refuse(i, headers[file_layout.items[j]], arrays[j][i].as_py(), reason, accepted)
        return np.ascontiguousarray(cells.codes.T)

    def _summary(self, chunk: _read.Chunk, refuse) -> list[list[tuple[str, str, float]]]:
        """Summary score columns → per row a list of ``(scale, metric, value)``."""
        out: list[list] = [[] for _ in range(len(chunk))]
        for idx, scale, metric in self.layout.summary:
            for i, raw in enumerate(chunk.columns[idx].to_pylist()):
                text = clean_text(raw)
                if text:
                    try:
                        out[i].append((scale, metric, number(text)))
                    except Bad as bad:
                        refuse(i, self.source.headers[idx], raw, bad.reason)
        return out

    def _identify(self, columns: Columns) -> None:
        """Pseudonymise 学籍号 (→ pid) and 工号 (→ staff_id) in place; the numbers are dropped."""
        for source, target, prefix in (("student_number", "pid", ""), ("staff_number", "staff_id", "staff:")):
            numbers = columns.pop(source, None)
            if numbers is None:
                continue
            present = [number for number in numbers if number is not None]
            ids = iter(pseudonymise([prefix + number for number in present] if prefix else present, self.key))
            columns[target] = (
                list(ids)
                if len(present) == len(numbers)
                else [None if number is None else next(ids) for number in numbers]
            )

    def _write(self, columns: Columns) -> None:
        writes = self.kind.build(columns, self.context)
        self._compare(writes, columns["line"])
        for table, table_rows, mode in writes:
            if table is schema.validity:
                self.state.invalid_sheets += sum(not r["valid"] for r in table_rows)
            self.writer.submit(write_rows, self.conn, table, table_rows, on_conflict=mode)

    @cached_property
    def _stored_tables(self) -> set[str]:
        """The tables this kind writes that already hold rows (only those are compared)."""
        tables = [t for t in schema.metadata.sorted_tables if t.name in self.kind.compared]
        return self.writer.call(_compare.existing_tables, self.conn, tables)

    def _compare(self, writes: list[Write], lines: list[int]) -> None:
        """Count this slice's lines as new, changed or unchanged, and the cells they change or could not.

        A line is new when its record (a response, an enrolment, a staff row …) is not stored yet.
        Of the rows a line writes, those of the tables in ``Kind.compared`` are read back first;
        a value that differs is a change, or — under the ``keep`` policy (a screening file's
        性别 for a student the store describes) — a correction not applied. Into a store that
        holds none of those tables' rows yet (a first import), every line is new: nothing is read.
        """
        n = len(lines)
        compared = [
            (table, rows, mode)
            for table, rows, mode in writes
            if table.name in self._stored_tables
            and isinstance(rows, dict)  # one row per line (not a subset, not several per line)
            and not any(isinstance(v, list | np.ndarray) and len(v) != n for v in rows.values())
        ]
        counts = _compare.LineChanges()
        if not compared:
            counts.new = n
            self.state.changes.add(counts)
            return
        existed: set[int] = set()
        changed: dict[int, set[str]] = {}
        kept: dict[int, set[str]] = {}
        for table, rows, mode in compared:
            keys = [c.name for c in table.primary_key.columns]
            table_rows = _compare.rows_of(rows, n)
            stored = self.writer.call(
                _compare.stored_rows, self.conn, table, [tuple(r[k] for k in keys) for r in table_rows], keys
            )
            for i, row in enumerate(table_rows):
                old = stored.get(tuple(row[k] for k in keys))
                if old is None:
                    continue
                if table.name in self.kind.records:
                    existed.add(i)
                differences = _compare.differences(row, old, keep_blank=mode != "update")
                if differences:
                    target = kept if mode == "keep" else changed
                    target.setdefault(i, set()).update(self._display(table, c) for c in differences)
        counts.changed = len(changed)
        counts.unchanged = len(existed - changed.keys())
        counts.new = n - counts.changed - counts.unchanged
        for names in changed.values():
            counts.cells.update(names)
        for i, names in kept.items():
            counts.not_applied.update(names)
            for name in names:
                counts.not_applied_lines.setdefault(name, []).append(lines[i])
        self.state.changes.add(counts)

    def _display(self, table: sa.Table, column: str) -> str:
        """A changed column as the file names it (``性别``, ``第5题``'s header …)."""
        if column.startswith("items:"):
            return self.layout.item_headers[int(column.split(":")[1]) - 1]
        field = _FIELD_OF_COLUMN.get(column, column)
        idx = self.layout.fields.get(field)
        return clean_text(self.source.headers[idx]) if idx is not None else column


def _known_pids(conn: sa.Connection, pids: list[str]) -> set[str]:
    """The ``pids`` the database holds a student for (looked up 900 at a time)."""
    pid = schema.student.c.pid
    return {
        found
        for start in range(0, len(pids), 900)
        for found in conn.execute(sa.select(pid).where(pid.in_(pids[start : start + 900]))).scalars()
    }


def _parse_column(raw: list[str], f, refuse, *, plain: bool = False) -> list:
    """Clean and parse one column; each distinct text is parsed once. Failures call ``refuse(i, reason)``.

    ``plain`` says every text is already clean (see :func:`_is_plain`), which
    spares :func:`clean_text` on a million 学籍号.
    """
    parse = f.parse or str
    parsed: dict[str, object] = {}
    for text in dict.fromkeys(raw):
        clean = text if plain else clean_text(text)
        if not clean:
            value = Bad("missing_required") if f.required else None
        else:
            try:
                value = parse(clean)
            except Bad as bad:
                value = bad
        parsed[text] = value
    out = list(map(parsed.__getitem__, raw))
    refused = {text for text, value in parsed.items() if isinstance(value, Bad)}
    if refused:
        for i, text in enumerate(raw):
            if text in refused:
                refuse(i, parsed[text].reason)
                out[i] = None
    return out


def _signatures(columns: list, n: int) -> np.ndarray:
    """One 64-bit hash per row of ``columns`` (lists of cells, or a rows × items code array; None skipped).

    Two lines with one key are exact duplicates when their hashes are equal. Text
    hashes are Python's (salted per process; these never leave it); code arrays
    are hashed eight codes to a word, in numpy.
    """
    out = np.zeros(n, dtype=np.uint64)
    for column in columns:
        if column is None:
            continue
        if isinstance(column, np.ndarray):
            width = -(-column.shape[1] // 8) * 8
            padded = np.zeros((n, width), dtype=np.int8)
            padded[:, : column.shape[1]] = column
            words = padded.view(np.uint64).T
        else:
            words = [np.fromiter(map(hash, column), dtype=np.int64, count=n).view(np.uint64)]
        for word in words:
            out = (out ^ word) * _MIX
            out ^= out >> np.uint64(29)
    return out


_MIX = np.uint64(0x9E3779B97F4A7C15)
"""An odd 64-bit constant (2^64 / golden ratio): multiplying by it spreads each word over the hash."""


def _concatenated(chunks: list[Columns]) -> Columns | None:
    """The accepted columns of every chunk, end to end (None when no row was accepted)."""
    if not chunks:
        return None
    return {
        name: np.concatenate([c[name] for c in chunks])
        if isinstance(chunks[0][name], np.ndarray)
        else list(chain.from_iterable(c[name] for c in chunks))
        for name in chunks[0]
    }


def _key_order(columns: Columns, key: tuple[str, ...]) -> list[int]:
    """Row positions ordered by the first field of the kind's key (pid, case, activity …), stably.

    The order decides where each insert lands in the B-tree, not what is stored:
    lines sharing that field keep their file order, so a row written twice (one
    student on two roster lines) still takes the later line, as in file order.
    Keys that cannot be compared (a None) keep file order.
    """
    first = columns[key[0]]
    try:
        return sorted(range(len(first)), key=first.__getitem__)
    except TypeError:
        return list(range(len(first)))


def _is_plain(column: pa.Array) -> bool:
    """True when every cell is non-empty printable ASCII without spaces: :func:`clean_text` leaves it as is."""
    return bool(len(column)) and pc.all(pc.match_substring_regex(column, "^[!-~]+$")).as_py()


_KEY_SOURCES = {"pid": "student_number", "staff_id": "staff_number"}


_FIELD_OF_COLUMN = {
    "school_id": "school",
    "class_no": "class",
    "birth_year": "birth",
    "source": "crisis_source",
    "cohort": "grade",
}
"""Table columns named otherwise than the field they are read from (the rest share the name)."""


_IDENTIFYING = ("student_number", "staff_number", "name")


_ROW = "（整行）/ (row)"


_SMALL_NUMBER = re.compile(r"\s*\d{0,3}\s*")


_NON_DATA_MARKER = re.compile(
    r"^(?:合计|总计|小计|共计|平均分?|平均值|均值|统计|制表人?|填表人?|审核人?|复核人?|审批人?|负责人|签字|签名|盖章|"
    r"备注|说明|注)(?:$|\s|[:：])"
)
"""How a line a person adds to a sheet starts: a total or an average, a signature (制表人：…), a note."""


def _is_record(cells: list[str], header: list[str], key: int | None) -> bool:
    """False for a line that is not a record: the header again, or a total / signature / note line whose
    key cell (学籍号 …) is empty or is that marker. ``key`` is None for a line whose cells are not aligned
    with the header (another number of fields): then its first value decides.

    >>> header = ["学籍号", "姓名", "Q1"]
    >>> [_is_record(row, header, 0) for row in (["学籍号", "姓名", "Q1"], ["合计", "", "12"], ["", "制表人：李", ""])]
    [False, False, False]
    >>> [_is_record(row, header, 0) for row in (["G1", "备注", "1"], ["", "王五", "1"])]
    [True, True]
    """
    values = [c for c in cells if c]
    if not values:
        return True
    if key is None:
        return not _NON_DATA_MARKER.match(values[0])
    if cells[key] == header[key] or sum(c == h for c, h in zip(cells, header, strict=False) if c) * 2 > len(
        values
    ):
        return False
    return not (cells[key] == "" or _NON_DATA_MARKER.match(cells[key])) or not any(
        _NON_DATA_MARKER.match(c) for c in values
    )


def _refuse_choices_as_numbers(chunk: _read.Chunk, gender: int, headers: tuple[str, ...]) -> None:
    """A platform export whose 性别 is a number was downloaded by option number: 年级 and the other choice
    questions are numbers too (年级 1 would be stored as grade 1 for 七年级). Refused whole."""
    numbers = pc.match_substring_regex(pc.utf8_trim_whitespace(chunk.columns[gender]), r"^\d+$")
    hits = np.flatnonzero(numbers.to_numpy(zero_copy_only=False))
    if len(hits):
        line = int(chunk.line_nos[hits[0]])
        raise IngestError(
            f"第 {line} 行「{headers[gender]}」是选项序号而不是选项文字：按选项序号导出的答卷无法还原性别、年级等"
            "选项；请在问卷星等平台「下载答卷数据」时选择「按选项文本下载」后重新导入 / line "
            f"{line}, {headers[gender]} is an option number, not its text: a download by option number loses what "
            "性别, 年级 and the other choices were; download the answers by option text and import that"
        )


def _coded_from_zero(spec, line: int, header: str) -> IngestError:
    """A 0 in an instrument coded from 1 (SCL-90 1-5) means a file coded 0-4: refused whole.

    Row by row, the lines holding a 0 would be refused while the others were
    stored and scored one step too low (docs/instruments.md, SCL-90 coding base).
    """
    return IngestError(
        f"{spec.code} 的题目从 1 计分，但第 {line} 行「{header}」为 0：若整份文件按 0 起计分，请加 --zero-based / "
        f"{spec.code} codes start at 1 but line {line}, {header} is 0: if the whole file is coded from 0 (e.g. "
        "SCL-90 0-4), import it with --zero-based; otherwise fix that line"
    )


def _accepted_answers(spec, coding: Coding) -> str:
    """What an item cell may hold, for the report: the allowed numbers and the published option texts.

    >>> from psychanalytics import instruments
    >>> spec = instruments.get("mht")
    >>> _accepted_answers(spec, Coding.of(spec))
    '可填 / allowed: 0, 1 或 是 / 不是'
    """
    numbers = ", ".join(str(v) for v in np.flatnonzero(coding.numbers >= 0))
    labels = " / ".join(c.labels[0] for c in spec.options.choices) if spec.options else ""
    return f"可填 / allowed: {numbers}" + (f" 或 {labels}" if labels else "")
