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

from psychanalytics.store.writes import upsert, upsert_statement

_CHUNK = 50_000


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
    on_conflict: str = "update",
) -> int:
    """Insert ``rows``; an existing key is handled as :func:`psychanalytics.store.upsert` says.

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
    ...     _ = write_rows(conn, schema.student, [{"pid": "a" * 32, "gender": "M"}], on_conflict="keep")
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
        return upsert(conn, table, rows, on_conflict=on_conflict)
    compiled = upsert_statement(conn, table, columns, on_conflict=on_conflict).compile(
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
