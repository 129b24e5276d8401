"""What one import did (:class:`ImportResult`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from psychanalytics.ingest._problems import Problem

ProgressFn = Callable[[int, int], None]
"""Called as ``progress(done, total)``: ``done / total`` is the share of the import done. Reading and
checking the file is the first half, storing its rows in key order the second; ``total`` is the file's
size in bytes."""


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

    @classmethod
    def of(cls, options, source, file_layout, batch_id: int, state, report: Path | None) -> ImportResult:
        """The result of an import that ran: what ``state`` counted while reading, checking and storing."""
        changes = state.changes
        return cls(
            options.kind.name,
            source.path.name,
            source.sha256,
            source.encoding,
            batch_id,
            state.rows_read,
            state.stored,
            len(state.problems),
            state.duplicates,
            state.blank,
            state.invalid_sheets,
            tuple(sorted(state.non_data)),
            changes.new,
            changes.changed,
            changes.unchanged,
            tuple(sorted(changes.cells.items())),
            tuple(
                (column, count, tuple(sorted(changes.not_applied_lines[column])[:SHOWN_LINES]))
                for column, count in sorted(changes.not_applied.items())
            ),
            ignored_columns=file_layout.ignored,
            platform_columns=file_layout.metadata,
            item_columns=file_layout.item_headers,
            header_line=source.header_line,
            header_rows=source.header_rows,
            above_header=source.above_header,
            report=report,
            problems=tuple(state.problems),
            raw_rows=tuple(state.raws),
        )


SHOWN_LINES = 20
"""Line numbers a summary lists for one kind of finding (the report file lists them all)."""
