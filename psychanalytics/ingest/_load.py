"""One file in, one transaction: read, map headers, validate, quarantine, load, check conservation."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from psychanalytics.ingest import _read
from psychanalytics.ingest._importer import Importer, ImportState
from psychanalytics.ingest._kind import (
    Context,
)
from psychanalytics.ingest._layout import Layout, kind_of, layout
from psychanalytics.ingest._options import ImportOptions, check_options, refuse_other_options
from psychanalytics.ingest._problems import IngestError
from psychanalytics.ingest._report import write_report
from psychanalytics.ingest._result import ImportResult
from psychanalytics.ingest._screening import ensure_wave
from psychanalytics.ingest._write import Serial
from psychanalytics.privacy.pseudonym import key_fingerprint
from psychanalytics.store import PSEUDONYM_KEY, audit, get_meta, schema, set_meta

ProgressFn = Callable[[int, int], None]
"""Called as ``progress(done, total)``: ``done / total`` is the share of the import done. Reading and
checking the file is the first half, storing its rows in key order the second; ``total`` is the file's
size in bytes."""
_SQLITE_CACHE_KIB = 256 * 1024
"""SQLite page cache during an import: keys of a million-row wave arrive in pseudonym (random) order, and the
default 2 MB cache makes every B-tree insert a page miss."""


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


def _layout_or_another_kind(options: ImportOptions, source: _read.Source) -> Layout:
    """The file's layout for the kind asked; when it does not fit, say which kind the file looks like."""
    try:
        return layout(
            options.kind, source.headers, spec=options.spec, has_school_year=options.school_year is not None
        )
    except IngestError as refused:
        other = kind_of(source.headers, but=options.kind)
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


def _already_imported(conn: sa.Connection, source: _read.Source, options: ImportOptions, file_layout: Layout):
    """The result of an earlier import of the same bytes (refused if it was made with other options)."""
    done = conn.execute(
        sa.select(schema.import_batch).where(schema.import_batch.c.source_sha256 == source.sha256)
    ).first()
    if done is None:
        return None
    refuse_other_options(json.loads(done.params), options.params(source.encoding), done.batch_id)
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
        ignored_columns=file_layout.ignored,
        platform_columns=file_layout.metadata,
        item_columns=file_layout.item_headers,
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


def _read_check_store(importer: Importer, source: _read.Source, progress, piece_bytes) -> None:
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
    importer.writer.drain()
    if progress is not None:
        progress(source.size, source.size)


def _check_conservation(source: _read.Source, state: ImportState) -> None:
    """Every row read is stored, quarantined or an exact duplicate; a file of no rows is refused."""
    if state.rows_read == 0:
        raise IngestError(
            f"{source.path.name}: 文件只有表头，没有数据行 / the file has a header but no data rows"
        )
    quarantined = len(state.problems)
    if state.rows_read != state.stored + quarantined + state.duplicates:
        raise IngestError(
            f"行数不守恒，未导入任何数据 / conservation broken: {state.rows_read} rows read, {state.stored} stored,"
            f" {quarantined} quarantined, {state.duplicates} duplicates; nothing imported"
        )


def _close_batch(conn: sa.Connection, batch_id: int, state: ImportState) -> None:
    conn.execute(
        schema.import_batch.update()
        .where(schema.import_batch.c.batch_id == batch_id)
        .values(
            rows_read=state.rows_read,
            stored=state.stored,
            quarantined=len(state.problems),
            duplicates=state.duplicates,
        )
    )


def _audit(
    conn: sa.Connection, batch_id: int, source: _read.Source, options: ImportOptions, state: ImportState
):
    audit.append(
        conn,
        action="import",
        resource=f"import_batch:{batch_id}",
        detail={
            "kind": options.kind.name,
            "source_sha256": source.sha256,
            "instrument": options.spec.code if options.spec else None,
            "wave": options.wave,
            "rows_read": state.rows_read,
            "stored": state.stored,
            "quarantined": len(state.problems),
            "duplicates": state.duplicates,
            "non_data_lines": len(state.non_data),
            "new": state.changes.new,
            "changed": state.changes.changed,
            "unchanged": state.changes.unchanged,
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
    file_layout = _layout_or_another_kind(options, source)
    with engine.begin() as conn:
        if (earlier := _already_imported(conn, source, options, file_layout)) is not None:
            return earlier
        _check_key(conn, key)
        batch_id = _open_batch(conn, source, options)
        context = Context.load(
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
            context.wave = ensure_wave(conn, options.wave)
        with _import_cache(conn), Serial() as writer:
            importer = Importer(options.kind, source, file_layout, context, key, conn, writer)
            _read_check_store(importer, source, progress, piece_bytes)
        state = importer.state
        _check_conservation(source, state)
        _close_batch(conn, batch_id, state)
        _audit(conn, batch_id, source, options, state)
        pending = None if report is None or not state.problems else _pending_report(report, source, state)
    if pending is not None:
        pending.replace(report)
    return ImportResult.of(
        options, source, file_layout, batch_id, state, None if pending is None else Path(report)
    )


def _pending_report(report: str | Path, source: _read.Source, state: ImportState) -> Path:
    """The report written next to ``report`` under a temporary name, renamed once the import has committed."""
    target = Path(report)
    pending = target.with_name(f".{target.name}.pending")
    write_report(pending, state.problems, state.raws, source_name=source.path.name)
    return pending


__all__ = ["import_file"]
