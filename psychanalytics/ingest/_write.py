"""Writing accepted rows: ``INSERT … ON CONFLICT`` on both databases, with lean paths for each.

On SQLite, tables without date or boolean columns are written with the
statement that :func:`psychanalytics.store.upsert` builds, compiled once:

* when a single text column varies from row to row (the rest are constants or
  fixed-width BLOBs, as a screening wave's pids and item codes are), one
  ``INSERT … SELECT … FROM json_each(?)`` per 50,000 rows: the pids travel as one
  JSON array, the BLOBs as one concatenated BLOB cut with ``substr``, the
  constants as single parameters — SQLite reads them in C, about twice as fast
  as binding every value of every row;
* otherwise plain tuples with ``executemany``: per-row parameter processing in
  SQLAlchemy costs more than the insert itself on a million-row wave.

Date columns on SQLite go through :func:`~psychanalytics.store.upsert`. On PostgreSQL the rows are
streamed with ``COPY`` into a temporary table and merged by one ``INSERT … SELECT … ON CONFLICT``
(row by row only when a key repeats, which PostgreSQL refuses to update twice in one statement).
"""

from __future__ import annotations

import json
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor, wait
from itertools import repeat
from operator import itemgetter

import numpy as np
import sqlalchemy as sa

from psychanalytics.store.packing import pack_matrix
from psychanalytics.store.writes import upsert, upsert_statement

_CHUNK = 50_000


def _plain(table: sa.Table, columns: list[str]) -> bool:
    return not any(isinstance(table.c[c].type, sa.Date | sa.DateTime | sa.Boolean) for c in columns)


def _columnar(columns: dict[str, list | object]) -> tuple[list[str], int, dict[str, object]]:
    """Column names, row count, and every column as an iterable (scalars and ``None`` repeated)."""
    n = max(len(v) for v in columns.values() if isinstance(v, list))
    return list(columns), n, {c: v if isinstance(v, list) else repeat(v, n) for c, v in columns.items()}


def _blobs_as_bytes(columns: dict[str, list | object]) -> dict[str, list | object]:
    """Columns with each rows × width code array (a fixed-width BLOB column) as one ``bytes`` per row."""
    return {c: pack_matrix(v) if isinstance(v, np.ndarray) else v for c, v in columns.items()}


def write_rows(
    conn: sa.Connection,
    table: sa.Table,
    rows: list[dict] | dict[str, list | object],
    *,
    on_conflict: str = "update",
) -> int:
    """Insert ``rows``; an existing key is handled as :func:`psychanalytics.store.upsert` says.

    ``rows`` is a list of dicts with the same keys, or columns: a dict of equal-length
    lists in which a scalar (or ``None``) stands for the same value on every row and a
    2-D ``int8`` array for a BLOB column holding each row's codes (``response.items``).

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
    sqlite = conn.dialect.name == "sqlite"
    if isinstance(rows, dict):
        if sqlite and _plain(table, list(rows)) and (shape := _one_varying_text(table, rows)):
            n = len(rows[shape[0]])
            if n:
                _insert_from_json(conn, table, rows, *shape, on_conflict=on_conflict)
            return n
        columns, n, iterables = _columnar(_blobs_as_bytes(rows))
        if not n:
            return 0
        tuples = zip(*iterables.values(), strict=False)
    else:
        if not rows:
            return 0
        columns, n = list(rows[0]), len(rows)
    if conn.dialect.name == "postgresql":
        values = list(tuples) if isinstance(rows, dict) else [tuple(r[c] for c in columns) for r in rows]
        if on_conflict == "keep" or not _keys_repeat(table, columns, values):
            _copy_then_upsert(conn, table, columns, values, on_conflict=on_conflict)
            return n
        rows = [dict(zip(columns, v, strict=True)) for v in values]
    if not sqlite or not _plain(table, columns):
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


def _keys_repeat(table: sa.Table, columns: list[str], values: list[tuple]) -> bool:
    """True when two rows share a primary key (PostgreSQL refuses to update one row twice in a statement)."""
    at = [columns.index(c.name) for c in table.primary_key.columns if c.name in columns]
    if len(at) < len(table.primary_key.columns):
        return False
    keys = [tuple(v[i] for i in at) for v in values]
    return len(set(keys)) < len(keys)


def _copy_then_upsert(
    conn: sa.Connection, table: sa.Table, columns: list[str], values: list[tuple], *, on_conflict: str
) -> None:
    """PostgreSQL: ``COPY`` the rows into a temporary table, then one ``INSERT … SELECT … ON CONFLICT``.

    COPY streams rows without a statement per row: a 200,000-row wave goes in
    several times faster than through ``executemany``. The upsert is the one
    :func:`~psychanalytics.store.upsert_statement` builds, so its conflict
    policy is the same. Rows must not repeat a key unless the policy is ``keep``,
    and values must already have their column's Python type (the importer's
    parsers give them): COPY sends text, without SQLAlchemy's type processing.
    A failure is raised as :class:`sqlalchemy.exc.DBAPIError` naming the table and
    the SQLSTATE only — PostgreSQL's own message would quote the student's value.
    """
    stage = sa.table(f"_stage_{table.name}", *(sa.column(c) for c in columns))
    quote = conn.dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    # dropped first and after: two writes to one table in a transaction reuse the name
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {quote(stage.name)}")
    conn.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {quote(stage.name)} AS "
        f"SELECT {names} FROM {conn.dialect.identifier_preparer.format_table(table)} WITH NO DATA"
    )
    try:
        with conn.connection.driver_connection.cursor() as cursor:
            with cursor.copy(f"COPY {quote(stage.name)} ({names}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
    except conn.dialect.dbapi.Error as exc:
        reason = f"COPY into {table.name} refused a row (SQLSTATE {exc.sqlstate}, {type(exc).__name__})"
        raise sa.exc.DBAPIError(None, None, RuntimeError(reason), hide_parameters=True) from None
    conn.execute(
        upsert_statement(conn, table, columns, on_conflict=on_conflict, rows_from=sa.select(*stage.c))
    )
    conn.exec_driver_sql(f"DROP TABLE {quote(stage.name)}")


def _one_varying_text(
    table: sa.Table, columns: dict[str, list | object]
) -> tuple[str, dict[str, int]] | None:
    """``(text column, {BLOB column: width})`` when only one text column varies, else None.

    Also None when the JSON route would store something else than ``executemany``:
    a BLOB column holding NULL or empty values (``substr`` gives NULL for width 0),
    or text holding NUL (SQLite's JSON reader ends the string there).
    """
    varying = [c for c, v in columns.items() if isinstance(v, list | np.ndarray)]
    blobs = {}
    for c in varying:
        if isinstance(columns[c], np.ndarray):
            if not columns[c].shape[1]:
                return None
            blobs[c] = columns[c].shape[1]
        elif isinstance(table.c[c].type, sa.LargeBinary):
            if None in columns[c]:
                return None
            widths = set(map(len, columns[c]))
            if len(widths) != 1 or 0 in widths:
                return None
            blobs[c] = widths.pop()
    texts = [c for c in varying if c not in blobs]
    if len(texts) != 1 or not isinstance(table.c[texts[0]].type, sa.String):
        return None
    if "\x00" in "".join(filter(None, columns[texts[0]])):
        return None
    return texts[0], blobs


def _insert_from_json(
    conn: sa.Connection,
    table: sa.Table,
    columns: dict[str, list | object],
    text: str,
    blobs: dict[str, int],
    *,
    on_conflict: str,
) -> None:
    """``INSERT … SELECT`` from ``json_each`` over the text column, chunk by chunk (see the module)."""
    rows = sa.func.json_each(sa.bindparam("_texts")).table_valued("key", "value")
    source = []
    for c, value in columns.items():
        if c == text:
            source.append(rows.c.value)
        elif c in blobs:
            width = blobs[c]
            source.append(
                sa.func.substr(
                    sa.bindparam(f"_blob_{c}", type_=sa.LargeBinary), rows.c.key * width + 1, width
                )
            )
        else:
            source.append(sa.bindparam(f"_const_{c}", value, type_=table.c[c].type))
    # the WHERE clause tells SQLite's parser that ON CONFLICT is not a join's ON
    select = sa.select(*source).select_from(rows).where(sa.true())
    stmt = upsert_statement(conn, table, list(columns), on_conflict=on_conflict, rows_from=select)
    values = columns[text]
    for start in range(0, len(values), _CHUNK):
        stop = start + _CHUNK
        params = {"_texts": _json_array(values[start:stop])}
        params.update({f"_blob_{c}": _joined(columns[c][start:stop]) for c in blobs})
        conn.execute(stmt, params)


def _json_array(texts: list[str | None]) -> str:
    """``json.dumps(texts)``, written directly when no text needs escaping (a wave's pids).

    >>> _json_array(["a1", "b2"]), _json_array(['say "hi"', None]), _json_array(["甲\\t"])
    ('["a1","b2"]', '["say \\\\"hi\\\\"", null]', '["甲\\\\t"]')
    """
    if None not in texts:
        joined = "".join(texts)
        # in UTF-8 a control character is the only byte below 0x20
        if (
            '"' not in joined
            and "\\" not in joined
            and np.frombuffer(joined.encode(), np.uint8).min(initial=32) >= 32
        ):
            return '["' + '","'.join(texts) + '"]'
    return json.dumps(texts, ensure_ascii=False)


def _joined(blobs: list[bytes] | np.ndarray) -> bytes:
    """Fixed-width BLOBs, given as bytes or as the rows of a code array, end to end."""
    return np.ascontiguousarray(blobs).tobytes() if isinstance(blobs, np.ndarray) else b"".join(blobs)


class Serial:
    """The database work of one import, run in submission order on one background thread.

    While the thread writes one slice of rows (SQLite releases the GIL inside a
    statement), the caller builds and scores the next; while the file is read, it
    writes the refused lines of one chunk as the caller checks the next. The connection is only ever
    used by that thread between :meth:`submit` and :meth:`drain`. At most
    ``ahead`` jobs wait, which bounds memory; the first failure is raised by the
    next :meth:`submit` or by :meth:`drain`, and the transaction then rolls back.

    Examples
    --------
    >>> done = []
    >>> with Serial() as db:
    ...     for i in range(5):
    ...         db.submit(done.append, i)
    ...     db.drain()
    >>> done
    [0, 1, 2, 3, 4]
    """

    def __init__(self, *, ahead: int = 2):
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="psychanalytics-import")
        self._pending: deque[Future] = deque()
        self._ahead = ahead

    def submit(self, fn, /, *args, **kwargs) -> None:
        """Queue ``fn(*args, **kwargs)`` after the work already queued."""
        self._pending.append(self._pool.submit(fn, *args, **kwargs))
        while len(self._pending) > self._ahead or (self._pending and self._pending[0].done()):
            self._collect()

    def call(self, fn, /, *args, **kwargs):
        """Run ``fn(*args, **kwargs)`` after the work already queued and return its result (a read)."""
        job = self._pool.submit(fn, *args, **kwargs)
        self._pending.append(job)
        self.drain()
        return job.result()

    def drain(self) -> None:
        """Wait for every queued job; raise the first failure."""
        while self._pending:
            self._collect()

    def _collect(self) -> None:
        self._pending[0].result()  # a job stays pending until it has ended, even if this wait is interrupted
        self._pending.popleft()

    def __enter__(self) -> Serial:
        return self

    def __exit__(self, *exc) -> None:
        # The running job must end before the caller rolls back and releases the connection.
        # A second Ctrl-C does not cut this wait short; it is raised once the job has ended.
        # (The wait is on the futures: an interrupted Thread.join can return early on a
        # thread still running.)
        for job in self._pending:
            job.cancel()
        interrupted = False
        while True:
            try:
                wait(self._pending)
                break
            except KeyboardInterrupt:
                interrupted = True
        self._pool.shutdown(wait=False)
        if interrupted:
            raise KeyboardInterrupt
