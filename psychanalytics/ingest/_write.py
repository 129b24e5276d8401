"""Writing accepted rows: ``INSERT … ON CONFLICT`` on both databases, with a lean path for SQLite.

On SQLite, tables without date columns are written with the statement that
:func:`psychanalytics.store.upsert` builds, compiled once and executed with
plain tuples (``executemany``): per-row parameter processing in SQLAlchemy
costs more than the insert itself on a million-row wave. Date columns and
PostgreSQL go through :func:`~psychanalytics.store.upsert`.
"""

from __future__ import annotations

from itertools import repeat
from operator import itemgetter

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from psychanalytics.store.writes import upsert

_CHUNK = 50_000


def _statement(conn: sa.Connection, table: sa.Table, columns: list[str], *, keep_existing: bool):
    insert = sqlite.insert if conn.dialect.name == "sqlite" else postgresql.insert
    keys = [c.name for c in table.primary_key.columns]
    stmt = insert(table)
    updates = {c: stmt.excluded[c] for c in columns if c not in keys}
    if keep_existing or not updates:
        return stmt.on_conflict_do_nothing(index_elements=keys)
    return stmt.on_conflict_do_update(index_elements=keys, set_=updates)


def _plain(table: sa.Table, columns: list[str]) -> bool:
    return not any(isinstance(table.c[c].type, sa.Date | sa.DateTime | sa.Boolean) for c in columns)


def _columnar(columns: dict[str, list | object]) -> tuple[list[str], int, dict[str, object]]:
    """Column names, row count, and every column as an iterable (scalars and ``None`` repeated)."""
    n = max(len(v) for v in columns.values() if isinstance(v, list))
    return list(columns), n, {c: v if isinstance(v, list) else repeat(v, n) for c, v in columns.items()}


def write_rows(
    conn: sa.Connection,
    table: sa.Table,
    rows: list[dict] | dict[str, list | object],
    *,
    keep_existing: bool = False,
) -> int:
    """Insert ``rows``; on a key conflict update them, or keep the existing row (``keep_existing``).

    ``rows`` is a list of dicts with the same keys, or columns: a dict of equal-length
    lists in which a scalar (or ``None``) stands for the same value on every row.

    Examples
    --------
    >>> from psychanalytics import store
    >>> from psychanalytics.store import schema
    >>> engine = store.connect("sqlite://")
    >>> store.create_all(engine)
    >>> with engine.begin() as conn:
    ...     _ = write_rows(conn, schema.student, {"pid": ["a" * 32, "b" * 32], "gender": "F"})
    ...     _ = write_rows(conn, schema.student, [{"pid": "a" * 32, "gender": "M"}], keep_existing=True)
    ...     conn.execute(sa.select(schema.student.c.gender)).scalars().all()
    ['F', 'F']
    """
    if isinstance(rows, dict):
        columns, n, iterables = _columnar(rows)
        if not n:
            return 0
        tuples = zip(*iterables.values(), strict=False)
    else:
        if not rows:
            return 0
        columns, n = list(rows[0]), len(rows)
    if conn.dialect.name != "sqlite" or not _plain(table, columns):
        if isinstance(rows, dict):
            rows = [dict(zip(columns, values, strict=True)) for values in tuples]
        if keep_existing:
            conn.execute(_statement(conn, table, columns, keep_existing=True), rows)
            return n
        return upsert(conn, table, rows)
    compiled = _statement(conn, table, columns, keep_existing=keep_existing).compile(
        dialect=conn.dialect, column_keys=columns
    )
    order = compiled.positiontup
    if isinstance(rows, dict):
        params = list(zip(*(iterables[c] for c in order), strict=False))
    else:
        getter = itemgetter(*order)
        params = [getter(r) for r in rows] if len(order) > 1 else [(getter(r),) for r in rows]
    for start in range(0, len(params), _CHUNK):
        conn.exec_driver_sql(str(compiled), params[start : start + _CHUNK])
    return n
