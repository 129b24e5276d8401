"""Writing to the store: dialect-aware upserts and the screening writers.

Upserts are ``INSERT … ON CONFLICT (primary key) DO UPDATE`` on both SQLite and
PostgreSQL — never ``INSERT OR REPLACE``, which deletes the old row and resets
the columns a writer did not supply (docs/privacy.md §7).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from psychanalytics.store import schema
from psychanalytics.store.packing import pack_matrix

_CHUNK_ROWS = 50_000


def _chunks(rows: Sequence[Mapping], size: int) -> Iterable[Sequence[Mapping]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


ON_CONFLICT = ("update", "fill", "keep")
"""What an upsert does with a row whose key exists: ``update`` overwrites the given columns;
``fill`` overwrites them only with values that are not NULL (a blank never erases what is
stored); ``keep`` leaves the existing row as it is."""


def upsert_statement(
    conn: sa.Connection,
    table: sa.Table,
    columns: Sequence[str],
    *,
    on_conflict: str = "update",
    rows_from: sa.Select | None = None,
):
    """The ``INSERT … ON CONFLICT (primary key)`` statement of :func:`upsert` for ``columns``.

    With ``rows_from``, the rows are those of that SELECT (``INSERT … SELECT``)
    instead of bound values.
    """
    if on_conflict not in ON_CONFLICT:
        raise ValueError(f"on_conflict must be one of {ON_CONFLICT}, got {on_conflict!r}")
    dialect = conn.dialect.name
    if dialect == "sqlite":
        insert = sqlite.insert
    elif dialect == "postgresql":
        insert = postgresql.insert
    else:
        raise ValueError(f"upsert supports sqlite and postgresql, not {dialect}")
    keys = [c.name for c in table.primary_key.columns]
    stmt = insert(table) if rows_from is None else insert(table).from_select(columns, rows_from)
    if on_conflict == "fill":
        updates = {c: sa.func.coalesce(stmt.excluded[c], table.c[c]) for c in columns if c not in keys}
    else:
        updates = {c: stmt.excluded[c] for c in columns if c not in keys}
    if on_conflict == "keep" or not updates:
        return stmt.on_conflict_do_nothing(index_elements=keys)
    return stmt.on_conflict_do_update(index_elements=keys, set_=updates)


def upsert(
    conn: sa.Connection,
    table: sa.Table,
    rows: Sequence[Mapping] | pd.DataFrame,
    *,
    on_conflict: str = "update",
) -> int:
    """Insert ``rows`` into ``table``; rows whose primary key exists are handled by ``on_conflict``.

    Only the columns present in ``rows`` are written; other columns of an
    existing row keep their values (see :data:`ON_CONFLICT`). Returns the number
    of rows given.

    Examples
    --------
    >>> import sqlalchemy as sa
    >>> from psychanalytics import store
    >>> engine = store.connect("sqlite://")
    >>> store.create_all(engine)
    >>> row = dict(school_id="S01", name="示例实验小学", stage="primary", location="urban")
    >>> with engine.begin() as conn:
    ...     _ = upsert(conn, schema.school, [row])
    ...     _ = upsert(conn, schema.school, [{**row, "name": "示例实验小学（新址）"}])
    ...     _ = upsert(conn, schema.student, [{"pid": "a" * 32, "gender": "F", "birth_year": 2012}])
    ...     _ = upsert(conn, schema.student, [{"pid": "a" * 32, "gender": None, "birth_year": 2013}],
    ...                on_conflict="fill")
    ...     conn.execute(sa.select(schema.school.c.name)).scalar_one()
    ...     conn.execute(sa.select(schema.student.c.gender, schema.student.c.birth_year)).one()
    '示例实验小学（新址）'
    ('F', 2013)
    """
    if isinstance(rows, pd.DataFrame):
        rows = _records(rows)
    if not len(rows):
        return 0
    stmt = upsert_statement(conn, table, list(rows[0]), on_conflict=on_conflict)
    for chunk in _chunks(rows, _CHUNK_ROWS):
        conn.execute(stmt, list(chunk))
    return len(rows)


def _driver_values(values: list, type_: sa.types.TypeEngine, dialect: str) -> list:
    """Values as the driver takes them: on SQLite, dates and date-times as the ISO text SQLAlchemy
    itself stores (``2024-09-21``, ``2024-09-21 08:30:00.000000``)."""
    if dialect == "sqlite" and isinstance(type_, sa.DateTime):
        return [None if v is None else v.strftime("%Y-%m-%d %H:%M:%S.%f") for v in values]
    if dialect == "sqlite" and isinstance(type_, sa.Date):
        return [None if v is None else v.isoformat() for v in values]
    return values


def _frame_column(column: pd.Series, type_: sa.types.TypeEngine) -> list:
    """One DataFrame column as Python values, ``None`` for missing."""
    if pd.api.types.is_datetime64_any_dtype(column):
        values = column.dt.to_pydatetime() if isinstance(type_, sa.DateTime) else column.dt.date
        return np.where(column.isna().to_numpy(), None, np.asarray(values, dtype=object)).tolist()
    return column.astype(object).where(column.notna(), None).tolist()


def bulk_insert(conn: sa.Connection, table: sa.Table, data: pd.DataFrame | Sequence[Mapping]) -> int:
    """Plain ``INSERT`` of many new rows through the driver's executemany.

    For rows whose keys are known to be new (a freshly emptied table, a new
    import batch): it skips SQLAlchemy's per-row parameter processing, which
    costs as much as SQLite's own insert at a million rows, and raises
    :class:`sqlalchemy.exc.IntegrityError` on an existing key. Frames are
    inserted in primary-key order (faster B-tree inserts). Use :func:`upsert`
    when rows may exist. Returns the number of rows inserted.

    Examples
    --------
    >>> import datetime as dt
    >>> from psychanalytics import store
    >>> engine = store.connect("sqlite://")
    >>> store.create_all(engine)
    >>> wave = pd.DataFrame({"wave_id": ["2024-autumn"], "school_year": ["2024-2025"], "season": ["autumn"],
    ...                      "window_start": [dt.date(2024, 9, 21)], "window_end": [dt.date(2024, 10, 30)],
    ...                      "label": ["2024年秋季普测"]})
    >>> with engine.begin() as conn:
    ...     bulk_insert(conn, schema.screening_wave, wave)
    ...     conn.execute(sa.select(schema.screening_wave.c.window_start)).scalar_one()
    1
    datetime.date(2024, 9, 21)
    """
    dialect = conn.dialect.name
    if isinstance(data, pd.DataFrame):
        names = [c.name for c in table.columns if c.name in data.columns]
        keys = [c.name for c in table.primary_key.columns]
        if set(keys) <= set(names):
            data = data.sort_values(keys)
        columns = [_frame_column(data[n], table.c[n].type) for n in names]
    else:
        if not len(data):
            return 0
        names = list(data[0])
        columns = [[row[n] for row in data] for n in names]
    columns = [
        _driver_values(values, table.c[n].type, dialect) for n, values in zip(names, columns, strict=True)
    ]
    compiled = table.insert().compile(dialect=conn.dialect, column_keys=names)
    if compiled.positional:
        order = [names.index(key) for key in compiled.positiontup]
        params = list(zip(*(columns[i] for i in order), strict=True))
    else:
        params = [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]
    for start in range(0, len(params), _CHUNK_ROWS):
        conn.exec_driver_sql(str(compiled), params[start : start + _CHUNK_ROWS])
    return len(params)


def _records(frame: pd.DataFrame) -> list[dict]:
    """DataFrame rows as dicts with Python scalars and ``None`` for missing values."""
    clean = frame.astype(object).where(frame.notna(), None)
    return clean.to_dict("records")


def write_responses(
    conn: sa.Connection,
    items: np.ndarray,
    *,
    pids: Sequence[str],
    wave_id: str,
    instrument: str,
    instrument_version: str,
    seconds: Sequence[float | None] | None = None,
    batch_id: int | None = None,
) -> int:
    """Store an item matrix (respondents × items; NaN or -1 = missing) as ``response`` rows."""
    blobs = pack_matrix(items)
    if len(blobs) != len(pids):
        raise ValueError(f"{len(pids)} pids for {len(blobs)} rows of items")
    seconds = [None] * len(pids) if seconds is None else list(seconds)
    rows = [
        {
            "wave_id": wave_id,
            "pid": pid,
            "instrument": instrument,
            "instrument_version": instrument_version,
            "items": blob,
            "seconds": None if s is None or pd.isna(s) else int(s),
            "batch_id": batch_id,
        }
        for pid, blob, s in zip(pids, blobs, seconds, strict=True)
    ]
    return upsert(conn, schema.response, rows)


def scores_to_rows(
    scored: pd.DataFrame, *, pids: Sequence[str], wave_id: str, instrument: str, batch_id: int | None = None
) -> dict[str, list[dict]]:
    """Split the wide frame of :func:`psychanalytics.scoring.score` into store rows.

    Returns ``{"score": […], "validity": […], "score_flag": […]}``. Scale columns
    are those with a ``<scale>_band`` partner or, for scales without bands, any
    numeric column that is not ``valid``, ``lie``, a ``flag_*`` or
    ``spec_version``.
    """
    if len(scored) != len(pids):
        raise ValueError(f"{len(pids)} pids for {len(scored)} scored rows")
    version = scored["spec_version"].astype(str).to_numpy()
    reserved = {"valid", "lie", "spec_version"}
    flags = [c for c in scored.columns if c.startswith("flag_")]
    bands = {c.removesuffix("_band") for c in scored.columns if c.endswith("_band")}
    scales = [
        c
        for c in scored.columns
        if c not in reserved
        and c not in flags
        and not c.endswith("_band")
        and (c in bands or pd.api.types.is_numeric_dtype(scored[c]))
    ]
    pid_array = np.asarray(pids, dtype=object)
    base = {"wave_id": wave_id, "instrument": instrument, "batch_id": batch_id}
    out: dict[str, list[dict]] = {"score": [], "validity": [], "score_flag": []}
    for scale in scales:
        raw = scored[scale].to_numpy(dtype=float)
        if f"{scale}_band" in scored:
            band_col = scored[f"{scale}_band"]
            band = band_col.astype(object).where(band_col.notna(), None).to_numpy()
            rank = band_col.cat.codes.to_numpy() if isinstance(band_col.dtype, pd.CategoricalDtype) else None
        else:
            band, rank = [None] * len(scored), None
        for i, pid in enumerate(pid_array):
            out["score"].append(
                {
                    **base,
                    "pid": pid,
                    "scale": scale,
                    "raw": None if np.isnan(raw[i]) else float(raw[i]),
                    "band": band[i],
                    "band_rank": None if rank is None or rank[i] < 0 else int(rank[i]),
                    "spec_version": version[i],
                }
            )
    valid = scored["valid"].to_numpy(dtype=bool) if "valid" in scored else np.ones(len(scored), bool)
    lie = scored["lie"].to_numpy(dtype=float) if "lie" in scored else None
    for i, pid in enumerate(pid_array):
        out["validity"].append(
            {
                **base,
                "pid": pid,
                "valid": bool(valid[i]),
                "lie_score": None if lie is None or np.isnan(lie[i]) else float(lie[i]),
            }
        )
    for flag in flags:
        values = scored[flag]
        # an undetermined flag is stored as NULL, so a corrected re-import replaces an earlier True
        for pid, value in zip(pid_array, values, strict=True):
            out["score_flag"].append(
                {
                    **base,
                    "pid": pid,
                    "flag": flag.removeprefix("flag_"),
                    "value": bool(value) if pd.notna(value) else None,
                }
            )
    return out


def write_scores(
    conn: sa.Connection,
    scored: pd.DataFrame,
    *,
    pids: Sequence[str],
    wave_id: str,
    instrument: str,
    batch_id: int | None = None,
    new: bool = False,
) -> int:
    """Store the output of :func:`psychanalytics.scoring.score` (score, validity, flags).

    With ``new=True`` the rows are known not to exist yet and go in through
    :func:`bulk_insert` (an existing key then raises); otherwise they are upserted.
    Returns the number of ``score`` rows written.
    """
    rows = scores_to_rows(scored, pids=pids, wave_id=wave_id, instrument=instrument, batch_id=batch_id)
    write = bulk_insert if new else upsert
    write(conn, schema.validity, rows["validity"])
    write(conn, schema.score_flag, rows["score_flag"])
    return write(conn, schema.score, rows["score"])
