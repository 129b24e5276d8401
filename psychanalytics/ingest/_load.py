"""One file in, one transaction: read, map headers, validate, quarantine, load, check conservation."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from operator import itemgetter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from psychanalytics.ingest import _read
from psychanalytics.ingest._headers import canonical, clean_text, item_number
from psychanalytics.ingest._kinds import (
    ACTIVITIES,
    CRISIS,
    INTERVENTIONS,
    ROOMS,
    ROSTER,
    STAFF,
    Context,
    Kind,
)
from psychanalytics.ingest._parse import number
from psychanalytics.ingest._parse import school_year as parse_school_year
from psychanalytics.ingest._problems import REASONS, Bad, IngestError, Problem
from psychanalytics.ingest._screening import SCREENING, ensure_wave, item_codes, summary_column
from psychanalytics.ingest._write import Serial, write_rows
from psychanalytics.privacy.pseudonym import key_fingerprint, pseudonymise
from psychanalytics.store import PSEUDONYM_KEY, audit, get_meta, schema, set_meta

KINDS: dict[str, Kind] = {
    k.name: k for k in (SCREENING, ROSTER, STAFF, ROOMS, ACTIVITIES, INTERVENTIONS, CRISIS)
}
"""The import kinds by name."""

ProgressFn = Callable[[int, int], None]
_SQLITE_CACHE_KIB = 256 * 1024
"""SQLite page cache during an import: keys of a million-row wave arrive in pseudonym (random) order, and the
default 2 MB cache makes every B-tree insert a page miss."""


@dataclass(frozen=True)
class Layout:
    """Where each field, item and summary score sits in the file, and which columns are not imported."""

    fields: dict[str, int]
    items: tuple[int, ...] = ()
    summary: tuple[tuple[int, str, str], ...] = ()
    ignored: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImportResult:
    """What one import did. ``rows_read == stored + quarantined + duplicates`` always holds.

    ``blank_lines`` (lines with no value at all) are not rows and are only
    counted; ``already_imported`` means the same bytes were imported before and
    nothing was written. ``above_header`` holds the lines above the header row
    (``header_line``), such as a platform's title: shown, never imported.
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
    already_imported: bool = False
    ignored_columns: tuple[str, ...] = ()
    header_line: int = 1
    above_header: tuple[str, ...] = ()
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
            "invalid_sheets": self.invalid_sheets,
            "already_imported": self.already_imported,
            "encoding": self.encoding,
            "source_sha256": self.source_sha256,
            "ignored_columns": list(self.ignored_columns),
            "header_line": self.header_line,
        }


def layout(kind: Kind, headers: tuple[str, ...], *, spec=None, has_school_year: bool = False) -> Layout:
    """Map the file's headers to the fields of ``kind`` (and items / summary scores for screening).

    Raises
    ------
    IngestError
        Two columns for one field, a required column missing, or item columns that
        are not exactly 1…K of the instrument.
    """
    wanted = {f.name for f in kind.fields}
    fields: dict[str, int] = {}
    items: dict[int, int] = {}
    summary, ignored, errors = [], [], []
    for idx, header in enumerate(headers):
        name = canonical(header)
        number = item_number(header) if spec is not None and name is None else None
        scored = (
            summary_column(header, spec) if spec is not None and name is None and number is None else None
        )
        if name in wanted:
            if name in fields:
                errors.append(f"columns {headers[fields[name]]!r} and {header!r} both mean {name}")
            fields[name] = idx
        elif number is not None:
            if number in items:
                errors.append(f"item {number} appears twice ({headers[items[number]]!r}, {header!r})")
            items[number] = idx
        elif scored is not None:
            summary.append((idx, *scored))
        else:
            ignored.append(clean_text(header))
    for f in kind.fields:
        if f.required and f.name not in fields and not (f.name == "school_year" and has_school_year):
            errors.append(f"required column {f.name} ({' / '.join(f.aliases[:3])}) is missing")
    if kind.needs_school_year and "school_year" not in fields and not has_school_year:
        errors.append("no 学年 column: give --school-year (e.g. 2024-2025)")
    if spec is not None:
        if items and sorted(items) != list(range(1, spec.n_items + 1)):
            numbers = sorted(items)
            errors.append(
                f"wrong item count: the file has {len(items)} item columns ({numbers[0]}-{numbers[-1]});"
                f" {spec.code} v{spec.version} has items 1-{spec.n_items} / 题目数与量表不符"
            )
        if not items and not summary:
            errors.append(f"no item columns and no score columns for {spec.code} / 没有题目列或分数列")
    if errors:
        raise IngestError("; ".join(errors))
    return Layout(fields, tuple(items[i] for i in sorted(items)), tuple(summary), tuple(ignored))


@dataclass
class _State:
    rows_read: int = 0
    stored: int = 0
    duplicates: int = 0
    blank: int = 0
    invalid_sheets: int = 0
    seen: dict = field(default_factory=dict)
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

    @cached_property
    def _identifying(self) -> frozenset[int]:
        """Positions of the columns that identify a person (学籍号, 工号, 姓名)."""
        return frozenset(idx for field, idx in self.lay.fields.items() if field in _IDENTIFYING)

    def _refuse(self, line_no: int, problems: list[Problem], raw: str, masked: str) -> dict:
        """Refuse a line: the full text goes to the school's report; its masked ``quarantine`` row is returned."""
        self.state.problems.append(tuple(problems))
        self.state.raws.append(raw)
        headers = {self.source.headers[idx] for idx in self._identifying}
        reasons = [
            {**pr.as_dict(), "value": _read.MASK} if pr.column in headers else pr.as_dict() for pr in problems
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
        st, headers, lay = self.state, self.source.headers, self.lay
        st.rows_read += len(chunk) + len(chunk.bad_rows)
        st.blank += chunk.blank
        refused = [
            self._refuse(
                line_no,
                [
                    Problem(
                        line_no,
                        "（整行）/ (row)",
                        f"{n_fields} 列，表头 {len(headers)} 列 / {n_fields} fields, header has {len(headers)}",
                        "short_row",
                    )
                ],
                text,
                _read.masked_line(text, self._identifying),
            )
            for line_no, text, n_fields in chunk.bad_rows
        ]
        n = len(chunk)
        if not n:
            self._quarantine(refused)
            return
        lines = chunk.line_nos.tolist()
        problems: dict[int, list[Problem]] = {}

        def refuse(i: int, column: str, value: str, reason: str) -> None:
            problems.setdefault(i, []).append(Problem(lines[i], column, value, reason))

        columns: dict[str, list] = {}
        texts = {name: chunk.columns[idx].to_pylist() for name, idx in lay.fields.items()}
        for f in self.kind.fields:
            if f.name in texts and f.name != "name":
                columns[f.name] = _parse_column(
                    texts[f.name],
                    f,
                    lambda i, r, f=f: refuse(i, headers[lay.fields[f.name]], texts[f.name][i], r),
                    plain=_is_plain(chunk.columns[lay.fields[f.name]]),
                )
        if lay.items:
            columns["items"] = self._items(chunk, refuse)
        if lay.summary:
            columns["reported"] = self._summary(chunk, refuse)
        names = list(columns)
        rows = [dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)]
        if not rows:
            rows = [{} for _ in range(n)]
        self._identify(rows)
        used = set(lay.fields.values()) | set(lay.items) | {idx for idx, _, _ in lay.summary}
        raw_columns = [chunk.columns[idx].to_pylist() for idx in range(len(headers)) if idx not in used]
        raw_columns += list(texts.values())
        if "items" in columns:
            raw_columns.append(columns["items"])
        signatures = list(map(hash, zip(*raw_columns, strict=True))) if raw_columns else [0] * n
        present = rows[0].keys()
        checks = [c for c in self.kind.checks if set(getattr(c, "needs", ())) <= present]
        if checks:
            for i, row in enumerate(rows):
                if i not in problems:
                    for check in checks:
                        for column, reason in check(row, self.ctx):
                            idx = lay.fields.get(column)
                            refuse(
                                i,
                                headers[idx] if idx is not None else column,
                                texts.get(column, [""] * n)[i],
                                reason,
                            )
        # name the key as the file does: a pid is the 学籍号 column, a staff_id the 工号 column
        key_sources = [_KEY_SOURCES.get(field, field) for field in self.kind.key]
        key_columns = ", ".join(headers[lay.fields[f]] if f in lay.fields else f for f in key_sources)
        key_of = itemgetter(*self.kind.key)
        todo = [i for i in range(n) if i not in problems]
        keys = [key_of(rows[i]) for i in todo]
        repeated: set[int] = set()
        if len(set(keys)) == len(keys) and st.seen.keys().isdisjoint(keys):
            # no key repeats (the usual file): every row is its key's first
            st.seen.update(zip(keys, ((lines[i], signatures[i]) for i in todo), strict=True))
        else:
            for i, key in zip(todo, keys, strict=True):
                first = st.seen.get(key)
                if first is None:
                    st.seen[key] = (lines[i], signatures[i])
                elif first[1] == signatures[i]:
                    st.duplicates += 1
                    repeated.add(i)
                else:
                    refuse(i, key_columns, f"同第 {first[0]} 行 / as line {first[0]}", "duplicate_key")
        refused += [
            self._refuse(
                lines[i],
                problems[i],
                _read.row_text(chunk, i),
                _read.row_text(chunk, i, mask=self._identifying),
            )
            for i in sorted(problems)
        ]
        self._quarantine(refused)
        dropped = problems.keys() | repeated
        accepted = [row for i, row in enumerate(rows) if i not in dropped] if dropped else rows
        self._write(accepted)
        st.stored += len(accepted)

    def _items(self, chunk: _read.Chunk, refuse) -> list[bytes]:
        """Item columns → one int8 blob per row; bad cells are refused with their reason."""
        lay, spec, headers = self.lay, self.ctx.spec, self.source.headers
        n = len(chunk)
        by_item = np.empty((len(lay.items), n), dtype=np.int8)  # an item's codes contiguous, transposed once
        shift = 1 if self.ctx.zero_based else 0
        allowed = tuple(v - shift for v in spec.item_values)
        for j, idx in enumerate(lay.items):
            codes, not_int, bad_range = item_codes(chunk.columns[idx], allowed)
            if bad_range.any() and not shift and min(spec.item_values) == 1:
                _refuse_zero_based(chunk.columns[idx], bad_range, spec, headers[idx], chunk.line_nos)
            by_item[j] = np.where(codes >= 0, codes + shift, codes) if shift else codes
            for mask, reason in ((not_int, "not_integer"), (bad_range, "out_of_range")):
                for i in np.flatnonzero(mask).tolist():
                    refuse(i, headers[idx], chunk.columns[idx][i].as_py(), reason)
        flat = by_item.T.tobytes()
        width = len(lay.items)
        return [flat[i : i + width] for i in range(0, n * width, width)]

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

    def _identify(self, rows: list[dict]) -> None:
        """Pseudonymise 学籍号 (→ pid) and 工号 (→ staff_id) in place; the numbers are dropped."""
        for source, target, prefix in (("student_number", "pid", ""), ("staff_number", "staff_id", "staff:")):
            if not rows or source not in rows[0]:
                continue
            todo = [i for i, r in enumerate(rows) if r[source] is not None]
            ids = pseudonymise([prefix + rows[i][source] for i in todo], self.key)
            for i, pid in zip(todo, ids, strict=True):
                rows[i][target] = pid
            for r in rows:
                del r[source]

    def _write(self, rows: list[dict]) -> None:
        if not rows:
            return
        for table, table_rows, mode in self.kind.build(rows, self.ctx):
            if table is schema.validity:
                self.state.invalid_sheets += sum(not r["valid"] for r in table_rows)
            self.db.submit(write_rows, self.conn, table, table_rows, on_conflict=mode)


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


def _is_plain(column: pa.Array) -> bool:
    """True when every cell is non-empty printable ASCII without spaces: :func:`clean_text` leaves it as is."""
    return bool(len(column)) and pc.all(pc.match_substring_regex(column, "^[!-~]+$")).as_py()


_KEY_SOURCES = {"pid": "student_number", "staff_id": "staff_number"}
_IDENTIFYING = ("student_number", "staff_number", "name")


_OPTIONS_THAT_CHANGE_MEANING = (
    "kind",
    "wave",
    "instrument",
    "school_year",
    "informant",
    "norm",
    "zero_based",
)


def _refuse_other_options(before: dict, now: dict, batch_id: int) -> None:
    """The same bytes imported again with other options would silently mean something else."""
    changed = [k for k in _OPTIONS_THAT_CHANGE_MEANING if before.get(k) != now.get(k)]
    if changed:
        was = ", ".join(f"{k}={before.get(k)}" for k in changed)
        raise IngestError(
            f"此文件已按其他参数导入（批次 {batch_id}）/ this file was already imported (batch {batch_id}) "
            f"with {was}; nothing changed"
        )


def _refuse_zero_based(column, bad_range, spec, header: str, line_nos) -> None:
    """A 0 in an instrument coded from 1 (SCL-90 1-5) means a file coded 0-4: refuse it whole.

    Row by row, the lines holding a 0 would be refused while the others were
    stored and scored one step too low (instruments.md, SCL-90 coding base).
    """
    zero = np.asarray(
        pc.equal(pc.utf8_trim_whitespace(column), "0").to_numpy(zero_copy_only=False), dtype=bool
    )
    hits = np.flatnonzero(bad_range & zero)
    if len(hits):
        raise IngestError(
            f"{spec.code} 的题目从 1 计分，但第 {int(line_nos[hits[0]])} 行 {header} 为 0：若整份文件按 0 起计分，"
            f"请加 --zero-based / {spec.code} codes start at 1 but line {int(line_nos[hits[0]])}, {header} is 0: "
            "if the whole file is coded from 0 (e.g. SCL-90 0-4), import it with --zero-based; otherwise fix that line"
        )


def _check_key(conn: sa.Connection, key: bytes) -> None:
    """Refuse a key other than the one the database's pids were made with; record it on first use."""
    fingerprint = key_fingerprint(key)
    recorded = get_meta(conn, PSEUDONYM_KEY)
    if recorded is None:
        set_meta(conn, PSEUDONYM_KEY, fingerprint)
    elif recorded != fingerprint:
        raise IngestError(
            "密钥与本数据库不符：同一学生会被当作两个人 / the pseudonym key differs from the one this "
            f"database was built with (fingerprint {recorded}, given {fingerprint}): check --key-file"
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
    score: bool = True,
    progress: ProgressFn | None = None,
) -> ImportResult:
    """Import one file in one transaction (see :mod:`psychanalytics.ingest`)."""
    if kind not in KINDS:
        raise IngestError(f"unknown import kind {kind!r}; kinds: {', '.join(KINDS)}")
    spec_kind = KINDS[kind]
    spec = None
    if kind == "screening":
        if not wave or not instrument:
            missing = " and ".join(
                f"--{name}" for name, v in (("wave", wave), ("instrument", instrument)) if not v
            )
            raise IngestError(
                f"普测结果需要指定批次和量表 / screening needs {missing} (e.g. --wave 2025-autumn --instrument phq9)"
            )
        from psychanalytics import instruments

        if instrument.lower() not in instruments.available():
            raise IngestError(
                f"unknown instrument {instrument!r}; known: {', '.join(instruments.available())} / 未知量表"
            )
        spec = instruments.get(instrument.lower())
        if spec.informants and informant not in spec.informants:
            raise IngestError(
                f"{spec.code} is scored by informant: pass --informant {'/'.join(spec.informants)} / 请指定填写人"
            )
        if score and spec.uncertain:
            rules = "; ".join(rule.rule for rule in spec.uncertain)
            raise IngestError(
                f"{spec.code} 的计分规则尚未核实，请加 --no-score 只导入作答 / {spec.code} has scoring rules its "
                f"sources leave unverified ({rules}): import the answers with --no-score"
            )
        if norm is not None and norm not in spec.norms:
            raise IngestError(f"{spec.code} has no norm {norm!r}; norms: {', '.join(spec.norms) or 'none'}")
    if school_year is not None:
        try:
            school_year = parse_school_year(clean_text(school_year))
        except Bad:
            raise IngestError(f"--school-year {school_year!r} is not like 2024-2025") from None
    source = _read.open_source(path)
    lay = layout(spec_kind, source.headers, spec=spec, has_school_year=school_year is not None)
    params = {
        "kind": kind,
        "wave": wave,
        "instrument": spec.code if spec else None,
        "instrument_version": spec.version if spec else None,
        "informant": informant,
        "norm": norm,
        "zero_based": zero_based,
        "school_year": school_year,
        "score": score,
        "encoding": source.encoding,
    }
    with engine.begin() as conn:
        done = conn.execute(
            sa.select(schema.import_batch).where(schema.import_batch.c.source_sha256 == source.sha256)
        ).first()
        if done is not None:
            _refuse_other_options(json.loads(done.params), params, done.batch_id)
            return ImportResult(
                kind,
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
                header_line=source.header_line,
                above_header=source.above_header,
            )
        _check_key(conn, key)
        batch_id = conn.execute(
            schema.import_batch.insert().values(
                kind=kind,
                source_sha256=source.sha256,
                source_name=source.path.name,
                params=json.dumps(params, ensure_ascii=False),
                rows_read=0,
                stored=0,
                quarantined=0,
                duplicates=0,
                imported_at=datetime.now(UTC).replace(tzinfo=None),
            )
        ).inserted_primary_key[0]
        ctx = Context.load(
            conn,
            batch_id,
            school_year=school_year,
            spec=spec,
            score=score,
            informant=informant,
            norm=norm,
            zero_based=zero_based,
        )
        if spec is not None:
            ctx.wave = ensure_wave(conn, wave)
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            cache = conn.exec_driver_sql("PRAGMA cache_size").scalar_one()
            conn.exec_driver_sql(f"PRAGMA cache_size=-{_SQLITE_CACHE_KIB}")
        try:
            with Serial() as db, closing(_read.iter_chunks(source)) as chunks:
                importer = _Importer(spec_kind, source, lay, ctx, key, conn, db)
                for chunk in chunks:
                    importer.chunk(chunk)
                    if progress is not None:
                        progress(chunk.bytes_done, source.size)
                db.drain()
                if progress is not None:
                    progress(source.size, source.size)
        finally:
            if sqlite:
                conn.exec_driver_sql(f"PRAGMA cache_size={int(cache)}")
        st = importer.state
        if st.rows_read == 0:
            raise IngestError(
                f"{source.path.name}: 文件只有表头，没有数据行 / the file has a header but no data rows"
            )
        quarantined = len(st.problems)
        if st.rows_read != st.stored + quarantined + st.duplicates:
            raise IngestError(
                f"conservation broken: {st.rows_read} rows read, {st.stored} stored,"
                f" {quarantined} quarantined, {st.duplicates} duplicates; nothing imported"
            )
        conn.execute(
            schema.import_batch.update()
            .where(schema.import_batch.c.batch_id == batch_id)
            .values(
                rows_read=st.rows_read, stored=st.stored, quarantined=quarantined, duplicates=st.duplicates
            )
        )
        audit.append(
            conn,
            action="import",
            resource=f"import_batch:{batch_id}",
            detail={
                "kind": kind,
                "source_sha256": source.sha256,
                "instrument": params["instrument"],
                "wave": wave,
                "rows_read": st.rows_read,
                "stored": st.stored,
                "quarantined": quarantined,
                "duplicates": st.duplicates,
            },
        )
    return ImportResult(
        kind,
        source.path.name,
        source.sha256,
        source.encoding,
        batch_id,
        st.rows_read,
        st.stored,
        quarantined,
        st.duplicates,
        st.blank,
        st.invalid_sheets,
        ignored_columns=lay.ignored,
        header_line=source.header_line,
        above_header=source.above_header,
        problems=tuple(st.problems),
        raw_rows=tuple(st.raws),
    )


__all__ = ["KINDS", "REASONS", "ImportResult", "import_file", "layout"]
