"""What a file changes in the store: new, changed and unchanged lines, and which cells changed.

A school sends a corrected file for a wave already imported: the summary must
say what the correction did (12 lines changed, 3 of them in 第5题) instead of
"stored 20" again, and a correction that is not applied (a screening file's
性别 for a student the roster describes) must be reported, not silently kept.

The rows a kind writes for one slice of lines are compared, before they are
written, with the rows the store holds under the same keys. Only tables the
store already holds rows of are read, so a first import costs one query per
table.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import sqlalchemy as sa

_BATCH = 500
"""Keys looked up per query (a tuple IN list stays well under SQLite's parameter limit)."""


@dataclass
class Changes:
    """What the compared rows of a file change: per file line, and per column (by its display name)."""

    new: int = 0
    changed: int = 0
    unchanged: int = 0
    cells: Counter = field(default_factory=Counter)
    """Column → lines whose stored value this file changes."""
    not_applied: Counter = field(default_factory=Counter)
    """Column → lines whose value differs from the stored one and is kept as stored."""
    not_applied_lines: dict[str, list[int]] = field(default_factory=dict)

    def add(self, other: LineChanges) -> None:
        """Count one slice's lines."""
        self.new += other.new
        self.changed += other.changed
        self.unchanged += other.unchanged
        self.cells.update(other.cells)
        self.not_applied.update(other.not_applied)
        for column, lines in other.not_applied_lines.items():
            self.not_applied_lines.setdefault(column, []).extend(lines)


@dataclass
class LineChanges(Changes):
    """:class:`Changes` of one slice, built line by line."""


def existing_tables(conn: sa.Connection, tables: list[sa.Table]) -> set[str]:
    """Names of the ``tables`` that hold at least one row (only those need a comparison)."""
    return {t.name for t in tables if conn.execute(sa.select(sa.literal(1)).select_from(t).limit(1)).first()}


def stored_rows(conn: sa.Connection, table: sa.Table, keys: list[tuple], key_columns: list[str]) -> dict:
    """The stored rows (as mappings) of ``table`` under ``keys`` (tuples of ``key_columns``), by key."""
    out = {}
    target = sa.tuple_(*(table.c[c] for c in key_columns))
    for start in range(0, len(keys), _BATCH):
        chunk = keys[start : start + _BATCH]
        for row in conn.execute(sa.select(table).where(target.in_(chunk))).mappings():
            out[tuple(row[c] for c in key_columns)] = row
    return out


def rows_of(columns: dict, n: int) -> list[dict]:
    """Columns (lists of length ``n``, scalars, 2-D code arrays) as ``n`` row mappings."""
    rows = [{} for _ in range(n)]
    for name, column in columns.items():
        if isinstance(column, np.ndarray):
            values = [bytes(r.tobytes()) for r in column]
        elif isinstance(column, list):
            values = column
        else:
            values = [column] * n
        for row, value in zip(rows, values, strict=True):
            row[name] = value
    return rows


def differences(new: dict, old, *, keep_blank: bool) -> list[str]:
    """Columns whose value in ``new`` differs from the stored row ``old`` (a blank is no change when
    ``keep_blank``: the conflict policy keeps the stored value); item codes name each item that changed.

    >>> differences({"gender": "F", "grade": None}, {"gender": "M", "grade": 7}, keep_blank=True)
    ['gender']
    >>> differences({"items": bytes([0, 1, 2])}, {"items": bytes([0, 3, 2])}, keep_blank=False)
    ['items:2']
    """
    out = []
    for column, value in new.items():
        if column == "batch_id" or (value is None and keep_blank):
            continue
        stored = old[column]
        if column == "items" and value is not None and stored is not None:
            out += [
                f"items:{i + 1}"
                for i, (a, b) in enumerate(zip(bytes(value), bytes(stored), strict=False))
                if a != b
            ]
        elif value != stored:
            out.append(column)
    return out
