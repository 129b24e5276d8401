"""One file in, one transaction: read, map headers, validate, quarantine, load, check conservation."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from psychanalytics.ingest import _compare, _read
from psychanalytics.ingest import _parse as p
from psychanalytics.ingest._headers import (
    canonical,
    clean_text,
    item_number,
    personal,
    platform_metadata,
    question,
)
from psychanalytics.ingest._kinds import (
    ACTIVITIES,
    CRISIS,
    INTERVENTIONS,
    ROOMS,
    ROSTER,
    STAFF,
    Columns,
    Context,
    Kind,
    Write,
    take,
)
from psychanalytics.ingest._parse import number
from psychanalytics.ingest._parse import school_year as parse_school_year
from psychanalytics.ingest._problems import REASONS, Bad, IngestError, Problem
from psychanalytics.ingest._report import write_report
from psychanalytics.ingest._screening import SCREENING, Coding, ensure_wave, item_matrix, summary_column
from psychanalytics.ingest._write import Serial, write_rows
from psychanalytics.privacy.pseudonym import key_fingerprint, pseudonymise
from psychanalytics.privacy.shapes import looks_personal
from psychanalytics.store import PSEUDONYM_KEY, audit, get_meta, schema, set_meta

KINDS: dict[str, Kind] = {
    k.name: k for k in (SCREENING, ROSTER, STAFF, ROOMS, ACTIVITIES, INTERVENTIONS, CRISIS)
}
"""The import kinds by name."""

ProgressFn = Callable[[int, int], None]
"""Called as ``progress(done, total)``: ``done / total`` is the share of the import done. Reading and
checking the file is the first half, storing its rows in key order the second; ``total`` is the file's
size in bytes."""
_SLICE_ROWS = 65_536
"""Accepted rows built into table rows (and scored) at a time, in key order."""
_SQLITE_CACHE_KIB = 256 * 1024
"""SQLite page cache during an import: keys of a million-row wave arrive in pseudonym (random) order, and the
default 2 MB cache makes every B-tree insert a page miss."""


@dataclass(frozen=True)
class Layout:
    """Where each field, item and summary score sits in the file, and which columns are not imported.

    ``items`` are the positions of items 1 … K; ``item_headers`` the headers they
    were read from (a survey platform numbers every question, so item 1 may be
    question 7). ``metadata`` are a platform's own columns (序号, 来自IP …) and
    ``ignored`` every other column not imported; neither is ever stored.
    """

    fields: dict[str, int]
    items: tuple[int, ...] = ()
    summary: tuple[tuple[int, str, str], ...] = ()
    ignored: tuple[str, ...] = ()
    metadata: tuple[str, ...] = ()
    item_headers: tuple[str, ...] = ()
    platform: bool = False
    """Every question numbered, as a survey platform exports a form (``1、学籍号`` …)."""


@dataclass(frozen=True)
class ImportResult:
    """What one import did. ``rows_read == stored + quarantined + duplicates`` always holds.

    ``rows_read`` counts the records below the header that hold data. Lines that
    do not are counted apart and never stored: ``blank_lines`` (no value at all)
    and ``non_data_lines`` (the line numbers of lines a person added to the sheet:
    the header repeated where two exports were pasted together, a 合计 or 平均分
    row, a signature such as 制表人：… or 审核：…, a 备注 line). ``already_imported``
    means the same bytes were imported before and nothing was written.
    ``above_header`` holds the lines above the header row (``header_line``), such
    as a platform's title: shown, never imported. ``report`` is the XLSX report of
    refused lines, written before the import committed. Of the lines stored,
    ``new`` had no record in the store yet, ``changed`` change one (a corrected
    file for a wave already imported) and ``unchanged`` repeat one exactly;
    ``changed_cells`` counts, per column, the lines whose stored value changed,
    and ``not_applied`` the lines whose value differs from the store's and was
    kept as stored (column, lines, first line numbers): a screening file's 性别
    for a student the roster describes, say. ``item_columns`` are the
    headers items 1 … K were read from, ``platform_columns`` a survey platform's own
    columns (序号, 提交答卷时间, 来自IP …) and ``ignored_columns`` every other column:
    neither of these two is ever stored.
    """

    kind: str
    source_name: str
    source_sha256: str
    encoding: str | None
    batch_id: int
    rows_read: int
    stored: int
    quarantined: int
    duplicates: int
    blank_lines: int = 0
    invalid_sheets: int = 0
    non_data_lines: tuple[int, ...] = ()
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    changed_cells: tuple[tuple[str, int], ...] = ()
    not_applied: tuple[tuple[str, int, tuple[int, ...]], ...] = ()
    already_imported: bool = False
    ignored_columns: tuple[str, ...] = ()
    platform_columns: tuple[str, ...] = ()
    item_columns: tuple[str, ...] = ()
    header_line: int = 1
    header_rows: int = 1
    above_header: tuple[str, ...] = ()
    report: Path | None = None
    problems: tuple[tuple[Problem, ...], ...] = field(default=(), repr=False)
    raw_rows: tuple[str, ...] = field(default=(), repr=False)

    def summary(self) -> dict:
        """The machine-readable summary printed by ``psychanalytics import --json``."""
        return {
            "rows_read": self.rows_read,
            "stored": self.stored,
            "quarantined": self.quarantined,
            "duplicates": self.duplicates,
            "batch_id": self.batch_id,
            "blank_lines": self.blank_lines,
            "non_data_lines": list(self.non_data_lines),
            "new": self.new,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "changed_cells": dict(self.changed_cells),
            "not_applied": {
                column: {"lines": count, "first": list(first)} for column, count, first in self.not_applied
            },
            "invalid_sheets": self.invalid_sheets,
            "already_imported": self.already_imported,
            "encoding": self.encoding,
            "source_sha256": self.source_sha256,
            "ignored_columns": list(self.ignored_columns),
            "platform_columns": list(self.platform_columns),
            "item_columns": list(self.item_columns),
            "header_line": self.header_line,
            "header_rows": self.header_rows,
        }


def layout(kind: Kind, headers: tuple[str, ...], *, spec=None, has_school_year: bool = False) -> Layout:
    """Map the file's headers to the fields of ``kind`` (and items / summary scores for screening).

    Headers are matched through their aliases (:mod:`~psychanalytics.ingest._headers`). A survey
    platform's export numbers every question (``1、学籍号``, ``2、姓名`` … ``7、<item 1>``): when a field
    is asked as a numbered question, the numbered questions that are not fields, platform columns,
    scores or personal details (家长手机, 身份证号 …) are the instrument's items, in order.

    Raises
    ------
    IngestError
        Two columns for one field, a required column missing, or item columns that
        are not exactly 1…K of the instrument.
    """
    wanted = {f.name for f in kind.fields}
    platform = any(q is not None and canonical(q[1]) in wanted for q in map(question, headers))
    fields: dict[str, int] = {}
    items: dict[int, int] = {}
    summary, ignored, metadata, errors = [], [], [], []
    for idx, header in enumerate(headers):
        text = question(header)[1] if platform and question(header) else header
        name = canonical(text)
        if name in wanted:
            if name in fields:
                errors.append(
                    f"「{headers[fields[name]]}」和「{header}」两列都是 {name} / columns {headers[fields[name]]!r} "
                    f"and {header!r} both mean {name}"
                )
            fields[name] = idx
        elif platform_metadata(text):
            metadata.append(clean_text(header))
        elif spec is not None and (scored := summary_column(text, spec)) is not None:
            summary.append((idx, *scored))
        elif spec is not None and platform and question(header) and not personal(text):
            items[len(items) + 1] = idx
        elif spec is not None and not platform and (number := item_number(header)) is not None:
            if number in items:
                errors.append(
                    f"第 {number} 题出现两次（「{headers[items[number]]}」「{header}」）/ item {number} appears twice"
                )
            items[number] = idx
        else:
            ignored.append(clean_text(header))
    errors += _missing_fields(kind, fields, has_school_year)
    if spec is not None:
        errors += _item_errors(spec, items, summary, headers, platform)
    if errors:
        raise IngestError("; ".join(errors))
    positions = tuple(items[i] for i in sorted(items))
    return Layout(
        fields,
        positions,
        tuple(summary),
        tuple(ignored),
        tuple(metadata),
        tuple(clean_text(headers[idx]) for idx in positions),
        platform,
    )


def _missing_fields(kind: Kind, fields: dict[str, int], has_school_year: bool) -> list[str]:
    errors = [
        f"缺少必需的列「{f.aliases[0]}」（可写作 {' / '.join(f.aliases[:3])}）/ required column {f.name} is missing"
        for f in kind.fields
        if f.required and f.name not in fields and not (f.name == "school_year" and has_school_year)
    ]
    if kind.needs_school_year and "school_year" not in fields and not has_school_year:
        errors.append(
            "文件没有「学年」列：请加 --school-year（如 2024-2025）/ no 学年 column: give --school-year"
        )
    return errors


def _item_errors(
    spec, items: dict[int, int], summary: list, headers: tuple[str, ...], platform: bool
) -> list[str]:
    """Item columns that are not exactly items 1 … K of ``spec`` (and numbered questions out of order)."""
    if not items and not summary:
        return [f"没有 {spec.code} 的题目列或分数列 / no item columns and no score columns for {spec.code}"]
    if not items:
        return []
    if platform:
        numbers = [question(headers[idx])[0] for idx in items.values()]
        first, last = numbers[0], numbers[-1]
        if len(numbers) != spec.n_items or numbers != list(range(first, first + len(numbers))):
            return [
                f"第 {first}–{last} 题共 {len(numbers)} 列不是 {spec.code} 的 {spec.n_items} 道题：请删去量表以外的题目列"
                f" / questions {first}-{last} ({len(numbers)} columns) are not the {spec.n_items} items of "
                f"{spec.code}: remove the questions that are not the instrument's"
            ]
        return []
    if sorted(items) != list(range(1, spec.n_items + 1)):
        numbers = sorted(items)
        return [
            f"题目数与量表不符：文件有 {len(items)} 个题目列（{numbers[0]}–{numbers[-1]}），{spec.code} "
            f"v{spec.version} 有 1–{spec.n_items} 题 / wrong item count: the file has {len(items)} item columns"
        ]
    return []


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
class _State:
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


class _Importer:
    def __init__(
        self,
        kind: Kind,
        source: _read.Source,
        lay: Layout,
        ctx: Context,
        key: bytes,
        conn: sa.Connection,
        db: Serial,
    ):
        self.kind, self.source, self.lay, self.ctx, self.key = kind, source, lay, ctx, key
        self.conn, self.db = conn, db
        self.state = _State()
        self.kept: list[Columns] = []  # accepted rows of each chunk, stored by finish()

    @cached_property
    def _kept_columns(self) -> frozenset[int]:
        """Positions whose cells the database may keep of a refused line: the non-identifying fields, items and
        scores. Every other column (学籍号, 姓名, and whatever a form adds: 身份证号, 家长手机, 来自IP …) is masked."""
        lay = self.lay
        fields = {idx for name, idx in lay.fields.items() if name not in _IDENTIFYING}
        return frozenset(fields | set(lay.items) | {idx for idx, _, _ in lay.summary})

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
            "batch_id": self.ctx.batch_id,
            "source_sha256": self.source.sha256,
            "line_no": line_no,
            "reasons": json.dumps(reasons, ensure_ascii=False),
            "raw": masked,
        }

    def _quarantine(self, refused: list[dict]) -> None:
        """Store a chunk's refused lines in one statement (one job for the writer, not one per line)."""
        if refused:
            self.db.submit(self.conn.execute, schema.quarantine.insert(), refused)

    def chunk(self, chunk: _read.Chunk) -> None:
        """Check one chunk: refused lines go to quarantine now, accepted rows wait for :meth:`finish`."""
        st = self.state
        chunk = self._without_non_data(chunk)
        st.rows_read += len(chunk) + len(chunk.bad_rows)
        st.blank += chunk.blank
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
        apart = set(self.lay.fields.values()) | set(self.lay.items)
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
        st.stored += len(accepted)

    def _without_non_data(self, chunk: _read.Chunk) -> _read.Chunk:
        """The chunk without lines that are not records (a repeated header, 合计, 制表人 …), noted by line."""
        key = self.lay.fields.get(_KEY_SOURCES.get(self.kind.key[0], self.kind.key[0]))
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
        headers, lay = self.source.headers, self.lay
        if lay.platform and "gender" in lay.fields:
            _refuse_choices_as_numbers(chunk, lay.fields["gender"], headers)
        columns: Columns = {}
        texts = {name: chunk.columns[idx].to_pylist() for name, idx in lay.fields.items()}
        for f in self.kind.fields:
            if f.name in texts and f.name != "name":
                cells = chunk.columns[lay.fields[f.name]]
                plain = _is_plain(cells)
                if plain and f.kept_as_written is not None and f.kept_as_written(cells):
                    columns[f.name] = texts[f.name]
                    continue
                columns[f.name] = _parse_column(
                    texts[f.name],
                    f,
                    lambda i, r, f=f: refuse(i, headers[lay.fields[f.name]], texts[f.name][i], r),
                    plain=plain,
                )
        if lay.items:
            columns["items"] = self._items(chunk, refuse)
        if lay.summary:
            columns["reported"] = self._summary(chunk, refuse)
        if "student_number" in columns:
            self._student_numbers(columns["student_number"], refuse)
        self._identify(columns)
        return columns, texts

    def _student_numbers(self, numbers: list, refuse) -> None:
        """Apply the rule for a bare ID-card number (``bare_id_card``) and refuse a number that differs
        from a student the database knows only by what a spreadsheet drops (leading zeros, the G).

        The database holds pseudonyms only: a number's variants are pseudonymised and looked up.
        Only numbers of digits alone can have lost something; a G-number is the national form.
        """
        header = self.source.headers[self.lay.fields["student_number"]]
        rule = self.ctx.bare_id_card
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
        if not candidates or not self.ctx.has_students:
            return
        pids = {
            form: pid
            for rows in candidates.values()
            for form, pid in zip(rows, pseudonymise(rows, self.key), strict=True)
        }
        known = self.db.call(_known_pids, self.conn, sorted(set(pids.values())))
        for i, forms in candidates.items():
            if pids[forms[0]] in known:
                continue
            seen = next((form for form in forms[1:] if pids[form] in known), None)
            if seen is not None:
                refuse(i, header, f"{numbers[i]}（库中已有 {seen} / known as {seen}）", "known_variant")
                numbers[i] = None

    def _check(self, columns: Columns, texts: dict[str, list[str]], rows: list[int], refuse) -> None:
        """Run the kind's cross-field checks whose fields the file has on ``rows``."""
        headers, fields = self.source.headers, self.lay.fields
        for check in self.kind.checks:
            if set(getattr(check, "needs", ())) <= columns.keys():
                for i, column, reason in check(columns, rows, self.ctx):
                    value = texts[column][i] if column in texts else ""
                    refuse(i, headers[fields[column]] if column in fields else column, value, reason)

    def _deduplicate(self, columns: Columns, rows: list[int], lines, signatures, refuse) -> set[int]:
        """Rows repeating an earlier line exactly (returned, counted); other repeated keys are refused."""
        st, headers, fields = self.state, self.source.headers, self.lay.fields
        key_columns = [columns[f] for f in self.kind.key]
        if len(key_columns) > 1:
            keys = [tuple(column[i] for column in key_columns) for i in rows]
        else:
            keys = [key_columns[0][i] for i in rows]
        tag = st.firsts.add_chunk(lines, signatures)
        if st.firsts.all_new(keys):  # the usual file: every row is its key's first
            st.firsts.record(keys, tag, rows)
            return set()
        # name the key as the file does: a pid is the 学籍号 column, a staff_id the 工号 column
        named = [_KEY_SOURCES.get(field, field) for field in self.kind.key]
        key_names = ", ".join(headers[fields[f]] if f in fields else f for f in named)
        repeated = set()
        for i, key in zip(rows, keys, strict=True):
            first = st.firsts.first(key)
            if first is None:
                st.firsts.record([key], tag, [i])
            elif first[1] == signatures[i]:
                st.duplicates += 1
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
        if self.ctx.spec is not None and self.lay.items:
            self.state.coding.refuse_option_numbers(self.ctx.spec)
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
        ctx = self.ctx
        return Coding.of(ctx.spec, zero_based=ctx.zero_based, option_numbers=ctx.option_numbers)

    def _items(self, chunk: _read.Chunk, refuse) -> np.ndarray:
        """Item columns → a rows × items ``int8`` code matrix; bad cells are refused with their reason and
        what the instrument accepts. A file coded from 0 for an instrument coded from 1 is refused whole;
        whether a file coded from 1 is option numbers is decided when it has been read (:meth:`finish`)."""
        lay, spec, headers = self.lay, self.ctx.spec, self.source.headers
        arrays = [chunk.columns[idx] for idx in lay.items]
        cells = item_matrix(arrays, self._coding)
        plain = not (self.ctx.zero_based or self.ctx.option_numbers)
        if plain and min(spec.item_values) == 1 and (cells.numbers == 0).any():
            j, i = (int(a[0]) for a in np.nonzero(cells.numbers == 0))
            raise _coded_from_zero(spec, int(chunk.line_nos[i]), headers[lay.items[j]])
        if plain and min(spec.item_values) == 0:
            self.state.coding.count(
                cells.numbers, max(spec.item_values) + 1, chunk.line_nos, lay.item_headers
            )
        accepted = _accepted_answers(spec, self._coding)
        for j in np.flatnonzero(cells.unknown.any(axis=1) | cells.out_of_range.any(axis=1)).tolist():
            for mask, reason in (
                (cells.unknown[j], "unknown_option"),
                (cells.out_of_range[j], "out_of_range"),
            ):
                for i in np.flatnonzero(mask).tolist():
                    refuse(i, headers[lay.items[j]], arrays[j][i].as_py(), reason, accepted)
        return np.ascontiguousarray(cells.codes.T)

    def _summary(self, chunk: _read.Chunk, refuse) -> list[list[tuple[str, str, float]]]:
        """Summary score columns → per row a list of ``(scale, metric, value)``."""
        out: list[list] = [[] for _ in range(len(chunk))]
        for idx, scale, metric in self.lay.summary:
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
        writes = self.kind.build(columns, self.ctx)
        self._compare(writes, columns["line"])
        for table, table_rows, mode in writes:
            if table is schema.validity:
                self.state.invalid_sheets += sum(not r["valid"] for r in table_rows)
            self.db.submit(write_rows, self.conn, table, table_rows, on_conflict=mode)

    @cached_property
    def _stored_tables(self) -> set[str]:
        """The tables this kind writes that already hold rows (only those are compared)."""
        tables = [t for t in schema.metadata.sorted_tables if t.name in self.kind.compared]
        return self.db.call(_compare.existing_tables, self.conn, tables)

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
            stored = self.db.call(
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
            return self.lay.item_headers[int(column.split(":")[1]) - 1]
        field = _FIELD_OF_COLUMN.get(column, column)
        idx = self.lay.fields.get(field)
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
_SHOWN_LINES = 20
"""Line numbers a summary lists for one kind of finding (the report file lists them all)."""
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


_OPTIONS_THAT_CHANGE_MEANING = (
    "kind",
    "wave",
    "instrument",
    "school_year",
    "informant",
    "norm",
    "zero_based",
    "option_numbers",
    "bare_id_card",
)


def _refuse_other_options(before: dict, now: dict, batch_id: int) -> None:
    """The same bytes imported again with other options would silently mean something else."""
    changed = [k for k in _OPTIONS_THAT_CHANGE_MEANING if before.get(k) != now.get(k)]
    if changed:
        was = ", ".join(f"{k}={before.get(k)}" for k in changed)
        raise IngestError(
            f"此文件已按其他参数导入（批次 {batch_id}：{was}），未作任何更改；若确需改用新参数，请先联系数据管理员 / "
            f"this file was already imported (batch {batch_id}) with {was}; nothing changed"
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


def _check_key(conn: sa.Connection, key: bytes) -> None:
    """Refuse a key other than the one the database's pids were made with; record it on first use."""
    fingerprint = key_fingerprint(key)
    recorded = get_meta(conn, PSEUDONYM_KEY)
    if recorded is None:
        set_meta(conn, PSEUDONYM_KEY, fingerprint)
    elif recorded != fingerprint:
        raise IngestError(
            "密钥与本数据库不符：同一学生会被当作两个人；请用建库时的密钥文件（--key-file 或 PSYCHANALYTICS_KEY_FILE）"
            f" / the pseudonym key differs from the one this database was built with (fingerprint {recorded}, "
            f"given {fingerprint}): give the original key file with --key-file or PSYCHANALYTICS_KEY_FILE"
        )


@dataclass(frozen=True)
class ImportOptions:
    """What an import was asked to do, checked before the file is opened."""

    kind: Kind
    spec: Any = None
    wave: str | None = None
    school_year: str | None = None
    informant: str | None = None
    norm: str | None = None
    zero_based: bool = False
    option_numbers: bool = False
    bare_id_card: str = "add_g"
    score: bool = True

    def params(self, encoding: str | None) -> dict:
        """The options as recorded in ``import_batch.params`` (and compared on a second import)."""
        spec = self.spec
        return {
            "kind": self.kind.name,
            "wave": self.wave,
            "instrument": spec.code if spec else None,
            "instrument_version": spec.version if spec else None,
            "informant": self.informant,
            "norm": self.norm,
            "zero_based": self.zero_based,
            "option_numbers": self.option_numbers,
            "bare_id_card": self.bare_id_card,
            "school_year": self.school_year,
            "score": self.score,
            "encoding": encoding,
        }


def check_options(
    kind: str,
    *,
    wave: str | None = None,
    instrument: str | None = None,
    school_year: str | None = None,
    informant: str | None = None,
    norm: str | None = None,
    zero_based: bool = False,
    option_numbers: bool = False,
    bare_id_card: str = "add_g",
    score: bool = True,
) -> ImportOptions:
    """The import's options, each refused with what to do when it cannot be used.

    >>> check_options("screening", wave="2025-autumn")
    Traceback (most recent call last):
    ...
    psychanalytics.ingest._problems.IngestError: 普测结果需要指定量表：请加 --instrument...
    """
    if kind not in KINDS:
        raise IngestError(
            f"没有「{kind}」这种导入类型；可用：{', '.join(KINDS)} / unknown import kind {kind!r}"
        )
    spec = None
    if kind == "screening":
        missing = [name for name, v in (("wave", wave), ("instrument", instrument)) if not v]
        if missing:
            zh = "和".join({"wave": "普测批次", "instrument": "量表"}[m] for m in missing)
            flags = " ".join(f"--{m}" for m in missing)
            raise IngestError(
                f"普测结果需要指定{zh}：请加 {flags}（如 --wave 2025-autumn --instrument phq9）/ "
                f"screening needs {flags} (e.g. --wave 2025-autumn --instrument phq9)"
            )
        spec = _instrument(instrument, informant=informant, norm=norm, score=score)
    if school_year is not None:
        try:
            school_year = parse_school_year(clean_text(school_year))
        except Bad:
            raise IngestError(
                f"--school-year {school_year!r} 不是学年（应如 2024-2025）/ is not a school year like 2024-2025"
            ) from None
    if bare_id_card not in BARE_ID_CARD_RULES:
        raise IngestError(
            f"--bare-id-card 只能是 {' / '.join(BARE_ID_CARD_RULES)} / --bare-id-card is one of "
            f"{', '.join(BARE_ID_CARD_RULES)}, not {bare_id_card!r}"
        )
    if option_numbers and (spec is None or spec.options is None or zero_based):
        raise IngestError(
            "--option-numbers 需要一个登记了选项顺序的量表，且不能与 --zero-based 同用 / --option-numbers needs an "
            "instrument whose options are registered, and not --zero-based"
        )
    return ImportOptions(
        KINDS[kind], spec, wave, school_year, informant, norm, zero_based, option_numbers, bare_id_card, score
    )


BARE_ID_CARD_RULES = ("add_g", "keep", "refuse")
"""What a 学籍号 written as a bare ID-card number (no ``G``) becomes: ``add_g`` (the default: a national
学籍号 is G + the ID card), ``keep`` (a district that keys students on the ID card itself) or ``refuse``."""


def _instrument(code: str, *, informant: str | None, norm: str | None, score: bool):
    """The registered instrument ``code``, with its informant and norm checked."""
    from psychanalytics import instruments

    if code.lower() not in instruments.available():
        raise IngestError(
            f"未登记的量表「{code}」；已登记：{', '.join(instruments.available())} / unknown instrument {code!r}"
        )
    spec = instruments.get(code.lower())
    if spec.informants and informant not in spec.informants:
        raise IngestError(
            f"{spec.code} 按填写人计分：请加 --informant {'/'.join(spec.informants)} / {spec.code} is scored "
            f"by informant: pass --informant {'/'.join(spec.informants)}"
        )
    if score and spec.uncertain:
        rules = "; ".join(rule.rule for rule in spec.uncertain)
        raise IngestError(
            f"{spec.code} 的计分规则尚未核实，请加 --no-score 只导入作答 / {spec.code} has scoring rules its "
            f"sources leave unverified ({rules}): import the answers with --no-score"
        )
    if norm is not None and norm not in spec.norms:
        raise IngestError(
            f"{spec.code} 没有常模「{norm}」；可用：{', '.join(spec.norms) or '无'} / {spec.code} has no norm "
            f"{norm!r}; norms: {', '.join(spec.norms) or 'none'}"
        )
    return spec


def _layout_or_another_kind(options: ImportOptions, source: _read.Source) -> Layout:
    """The file's layout for the kind asked; when it does not fit, say which kind the file looks like."""
    try:
        return layout(
            options.kind, source.headers, spec=options.spec, has_school_year=options.school_year is not None
        )
    except IngestError as refused:
        other = _kind_of(source.headers, but=options.kind)
        if other is None:
            rows = (
                f"第 {source.header_line} 行"
                if source.header_rows == 1
                else f"第 {source.header_line - 1}–{source.header_line} 行（两行合并）"
            )
            raise IngestError(
                f"{source.path.name}: 表头取自{rows} / header read from line {source.header_line}: {refused}"
            ) from None
        raise IngestError(
            f"{source.path.name}: 这个文件看起来是「{other.title.split(' / ')[0]}」，不是「"
            f"{options.kind.title.split(' / ')[0]}」：请用 psychanalytics import {other.name} 导入 / this file "
            f"looks like {other.name}, not {options.kind.name}: import it with `psychanalytics import "
            f"{other.name}` ({refused})"
        ) from None


def _kind_of(headers: tuple[str, ...], *, but: Kind) -> Kind | None:
    """The other kind whose required columns the headers hold (the one naming most of its fields)."""
    names = {canonical(h) for h in headers} - {None}
    fits = [
        k
        for k in KINDS.values()
        if k is not but
        and k is not SCREENING
        and {f.name for f in k.fields if f.required} - {"school_year"} <= names
    ]
    return max(fits, key=lambda k: len(names & {f.name for f in k.fields}), default=None)


def _already_imported(conn: sa.Connection, source: _read.Source, options: ImportOptions, lay: Layout):
    """The result of an earlier import of the same bytes (refused if it was made with other options)."""
    done = conn.execute(
        sa.select(schema.import_batch).where(schema.import_batch.c.source_sha256 == source.sha256)
    ).first()
    if done is None:
        return None
    _refuse_other_options(json.loads(done.params), options.params(source.encoding), done.batch_id)
    return ImportResult(
        options.kind.name,
        source.path.name,
        source.sha256,
        source.encoding,
        done.batch_id,
        done.rows_read,
        done.stored,
        done.quarantined,
        done.duplicates,
        already_imported=True,
        ignored_columns=lay.ignored,
        platform_columns=lay.metadata,
        item_columns=lay.item_headers,
        header_line=source.header_line,
        header_rows=source.header_rows,
        above_header=source.above_header,
    )


def _open_batch(conn: sa.Connection, source: _read.Source, options: ImportOptions) -> int:
    """The ``import_batch`` row of this import (counts filled in by :func:`_close_batch`)."""
    return conn.execute(
        schema.import_batch.insert().values(
            kind=options.kind.name,
            source_sha256=source.sha256,
            source_name=source.path.name,
            params=json.dumps(options.params(source.encoding), ensure_ascii=False),
            rows_read=0,
            stored=0,
            quarantined=0,
            duplicates=0,
            imported_at=datetime.now(UTC).replace(tzinfo=None),
        )
    ).inserted_primary_key[0]


@contextmanager
def _import_cache(conn: sa.Connection):
    """A larger SQLite page cache while the file is stored (restored after); nothing on PostgreSQL."""
    if conn.dialect.name != "sqlite":
        yield
        return
    cache = conn.exec_driver_sql("PRAGMA cache_size").scalar_one()
    conn.exec_driver_sql(f"PRAGMA cache_size=-{_SQLITE_CACHE_KIB}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size={int(cache)}")


def _read_check_store(importer: _Importer, source: _read.Source, progress, piece_bytes) -> None:
    """Read and check every chunk (first half of the progress), then store in key order (second half)."""
    half = source.size / 2
    with closing(_read.iter_chunks(source, piece_bytes=piece_bytes)) as chunks:
        for chunk in chunks:
            importer.chunk(chunk)
            if progress is not None:
                progress(int(chunk.bytes_done / 2), source.size)
    importer.finish(
        None if progress is None else lambda share: progress(int(half * (1 + share)), source.size)
    )
    importer.db.drain()
    if progress is not None:
        progress(source.size, source.size)


def _check_conservation(source: _read.Source, st: _State) -> None:
    """Every row read is stored, quarantined or an exact duplicate; a file of no rows is refused."""
    if st.rows_read == 0:
        raise IngestError(
            f"{source.path.name}: 文件只有表头，没有数据行 / the file has a header but no data rows"
        )
    quarantined = len(st.problems)
    if st.rows_read != st.stored + quarantined + st.duplicates:
        raise IngestError(
            f"行数不守恒，未导入任何数据 / conservation broken: {st.rows_read} rows read, {st.stored} stored,"
            f" {quarantined} quarantined, {st.duplicates} duplicates; nothing imported"
        )


def _close_batch(conn: sa.Connection, batch_id: int, st: _State) -> None:
    conn.execute(
        schema.import_batch.update()
        .where(schema.import_batch.c.batch_id == batch_id)
        .values(
            rows_read=st.rows_read, stored=st.stored, quarantined=len(st.problems), duplicates=st.duplicates
        )
    )


def _audit(conn: sa.Connection, batch_id: int, source: _read.Source, options: ImportOptions, st: _State):
    audit.append(
        conn,
        action="import",
        resource=f"import_batch:{batch_id}",
        detail={
            "kind": options.kind.name,
            "source_sha256": source.sha256,
            "instrument": options.spec.code if options.spec else None,
            "wave": options.wave,
            "rows_read": st.rows_read,
            "stored": st.stored,
            "quarantined": len(st.problems),
            "duplicates": st.duplicates,
            "non_data_lines": len(st.non_data),
            "new": st.changes.new,
            "changed": st.changes.changed,
            "unchanged": st.changes.unchanged,
        },
    )


def import_file(
    engine: sa.Engine,
    kind: str,
    path: str | Path,
    *,
    key: bytes,
    wave: str | None = None,
    instrument: str | None = None,
    school_year: str | None = None,
    informant: str | None = None,
    norm: str | None = None,
    zero_based: bool = False,
    option_numbers: bool = False,
    bare_id_card: str = "add_g",
    score: bool = True,
    report: str | Path | None = None,
    progress: ProgressFn | None = None,
    piece_bytes: int | None = None,
) -> ImportResult:
    """Import one file in one transaction (see :mod:`psychanalytics.ingest`).

    With ``report``, the XLSX report of refused lines is written there before the
    transaction commits (a report that cannot be written leaves nothing stored);
    ``piece_bytes`` sets the size of the pieces a CSV is parsed in (tests set it small).
    """
    options = check_options(
        kind,
        wave=wave,
        instrument=instrument,
        school_year=school_year,
        informant=informant,
        norm=norm,
        zero_based=zero_based,
        option_numbers=option_numbers,
        bare_id_card=bare_id_card,
        score=score,
    )
    source = _read.open_source(path)
    lay = _layout_or_another_kind(options, source)
    with engine.begin() as conn:
        if (earlier := _already_imported(conn, source, options, lay)) is not None:
            return earlier
        _check_key(conn, key)
        batch_id = _open_batch(conn, source, options)
        ctx = Context.load(
            conn,
            batch_id,
            school_year=options.school_year,
            spec=options.spec,
            score=options.score,
            informant=options.informant,
            norm=options.norm,
            zero_based=options.zero_based,
            option_numbers=options.option_numbers,
            bare_id_card=options.bare_id_card,
        )
        if options.spec is not None:
            ctx.wave = ensure_wave(conn, options.wave)
        with _import_cache(conn), Serial() as db:
            importer = _Importer(options.kind, source, lay, ctx, key, conn, db)
            _read_check_store(importer, source, progress, piece_bytes)
        st = importer.state
        _check_conservation(source, st)
        _close_batch(conn, batch_id, st)
        _audit(conn, batch_id, source, options, st)
        pending = None if report is None or not st.problems else _pending_report(report, source, st)
    if pending is not None:
        pending.replace(report)
    return ImportResult(
        options.kind.name,
        source.path.name,
        source.sha256,
        source.encoding,
        batch_id,
        st.rows_read,
        st.stored,
        len(st.problems),
        st.duplicates,
        st.blank,
        st.invalid_sheets,
        tuple(sorted(st.non_data)),
        st.changes.new,
        st.changes.changed,
        st.changes.unchanged,
        tuple(sorted(st.changes.cells.items())),
        tuple(
            (column, count, tuple(sorted(st.changes.not_applied_lines[column])[:_SHOWN_LINES]))
            for column, count in sorted(st.changes.not_applied.items())
        ),
        ignored_columns=lay.ignored,
        platform_columns=lay.metadata,
        item_columns=lay.item_headers,
        header_line=source.header_line,
        header_rows=source.header_rows,
        above_header=source.above_header,
        report=None if pending is None else Path(report),
        problems=tuple(st.problems),
        raw_rows=tuple(st.raws),
    )


def _pending_report(report: str | Path, source: _read.Source, st: _State) -> Path:
    """The report written next to ``report`` under a temporary name, renamed once the import has committed."""
    target = Path(report)
    pending = target.with_name(f".{target.name}.pending")
    write_report(pending, st.problems, st.raws, source_name=source.path.name)
    return pending


__all__ = ["KINDS", "REASONS", "ImportOptions", "ImportResult", "check_options", "import_file", "layout"]
