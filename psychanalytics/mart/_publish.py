"""Publishing a mart: every registered table counted from the store, protected, written to a database of its own."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from psychanalytics import __version__, instruments, store
from psychanalytics.config import Settings
from psychanalytics.mart._registry import TABLES, MartTable
from psychanalytics.privacy import LeaderView
from psychanalytics.store import audit, queries, register_release

MANIFEST_TABLE = "mart_manifest"
"""The mart's table of facts about itself: one row per key, the value as JSON."""
TABLES_TABLE = "mart_tables"
"""The mart's list of its tables: name, titles, rows, the policy each was published under."""
HEADLINE_SUFFIX = "__headline"
PG_SCHEMA = "mart"
"""The PostgreSQL schema a mart is published to (beside the row-level tables, reached by a reader role)."""
RULE = (
    "docs/privacy.md §2: every count, denominator and estimate resting on fewer than min_cell students is "
    "hidden (「<10」); in a group whose counts add up to its total, further cells are hidden until no hidden "
    "cell can be recovered by subtraction (「*」); counts of schools are institutional facts, shown whole"
)


@dataclass(frozen=True)
class Publication:
    """What :func:`publish` wrote: where, the manifest, and the rows of each table."""

    target: str
    manifest: dict
    rows: dict[str, int]


def _spec_versions() -> dict[str, str]:
    return {code: instruments.get(code).version for code in instruments.available()}


def _snapshot(engine: sa.Engine) -> dict:
    with engine.connect() as conn:
        last = audit.head(conn)
    as_of = queries.data_as_of(engine)
    return {
        "data_as_of": None if as_of is None else str(as_of),
        "audit_seq": None if last is None else last[0],
        "audit_row_hash": None if last is None else last[1],
        "synthetic": bool(queries.is_synthetic(engine)),
    }


def _frames(table: MartTable, view: LeaderView | None, raw: pd.DataFrame) -> dict[str, pd.DataFrame]:
    if view is None:
        return {table.name: raw}
    frames = {table.name: view.cells}
    if view.headline is not None:
        frames[table.name + HEADLINE_SUFFIX] = view.headline
    return frames


def build_tables(
    engine: sa.Engine, *, min_cell: int, names: Iterable[str] | None = None
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """The protected frames of the registered tables (all, or ``names``) and the list describing them.

    Pure reading: nothing is written. :func:`publish` writes what this returns.
    """
    chosen = [TABLES[name] for name in (TABLES if names is None else names)]
    frames, listed = {}, []
    for table in chosen:
        raw = table.build(engine)
        view = table.view(raw, min_cell=min_cell)
        for name, frame in _frames(table, view, raw).items():
            frames[name] = frame.reset_index(drop=True)
            listed.append(
                {
                    "name": name,
                    "title_zh": table.title_zh,
                    "title_en": table.title_en,
                    "rows": len(frame),
                    "policy": json.dumps(
                        {"no_people": table.no_people}
                        if view is None
                        else {**{k: list(v) if isinstance(v, tuple) else v for k, v in table.policy.items()}},
                        ensure_ascii=False,
                    ),
                }
            )
    return frames, pd.DataFrame(listed, columns=["name", "title_zh", "title_en", "rows", "policy"])


def _storable(frame: pd.DataFrame) -> pd.DataFrame:
    """Dates and intervals as ISO text, so SQLite and PostgreSQL hold the same values."""
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if pd.api.types.is_datetime64_any_dtype(values):
            out[column] = values.dt.strftime("%Y-%m-%d").where(values.notna(), None)
        elif values.dtype == object and values.map(lambda v: isinstance(v, dt.date | dt.datetime)).any():
            out[column] = values.map(lambda v: v.isoformat() if isinstance(v, dt.date | dt.datetime) else v)
    return out


def _write(
    conn: sa.Connection, frames: dict[str, pd.DataFrame], listed: pd.DataFrame, manifest: dict, schema
):
    for name, frame in frames.items():
        _storable(frame).to_sql(name, conn, schema=schema, index=False)
    listed.to_sql(TABLES_TABLE, conn, schema=schema, index=False)
    pd.DataFrame(
        {"key": list(manifest), "value": [json.dumps(v, ensure_ascii=False) for v in manifest.values()]}
    ).to_sql(MANIFEST_TABLE, conn, schema=schema, index=False)


def _target(mart: str | Path) -> tuple[str, bool]:
    text = str(mart)
    if "://" in text:
        url = sa.make_url(text)
        return url.render_as_string(hide_password=False), url.get_backend_name() == "postgresql"
    return str(Path(text).expanduser().resolve()), False


def _write_sqlite(path: Path, frames, listed, manifest) -> None:
    pending = path.with_name(f".{path.name}.pending")
    pending.unlink(missing_ok=True)
    engine = sa.create_engine(f"sqlite:///{pending}")
    try:
        with engine.begin() as conn:
            _write(conn, frames, listed, manifest, None)
    except BaseException:
        engine.dispose()
        pending.unlink(missing_ok=True)
        raise
    engine.dispose()
    os.chmod(pending, 0o644)
    pending.replace(path)


def _write_postgres(url: str, frames, listed, manifest, schema: str) -> None:
    pending = f"{schema}_pending"
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{pending}" CASCADE'))
            conn.execute(sa.text(f'CREATE SCHEMA "{pending}"'))
            _write(conn, frames, listed, manifest, pending)
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(sa.text(f'ALTER SCHEMA "{pending}" RENAME TO "{schema}"'))
            _grant_reader(conn, schema)
    finally:
        engine.dispose()


READER_ROLE = "psychanalytics_reader"
"""The PostgreSQL role dashboards connect as: ``USAGE`` on the mart schema and ``SELECT`` on its tables only."""


def _grant_reader(conn: sa.Connection, schema: str) -> None:
    exists = conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": READER_ROLE}).first()
    if exists:
        conn.execute(sa.text(f'GRANT USAGE ON SCHEMA "{schema}" TO {READER_ROLE}'))
        conn.execute(sa.text(f'GRANT SELECT ON ALL TABLES IN SCHEMA "{schema}" TO {READER_ROLE}'))


def publish(
    db: str | Path | sa.Engine,
    mart: str | Path,
    *,
    min_cell: int | None = None,
    anchors: audit.AnchorFile | None = None,
    schema: str = PG_SCHEMA,
    actor: str | None = None,
) -> Publication:
    """Publish the mart: every registered table, protected, in a database that holds nothing else.

    Counts each table of :data:`~psychanalytics.mart.TABLES` from the
    row-level store, passes it through the leader-output policy
    (:func:`~psychanalytics.privacy.leader_view`, the table's own options),
    and writes the protected frames with the mart's manifest
    (``mart_manifest``: the data snapshot, the scoring-spec versions, the rule
    and threshold, the audit anchor) and its list of tables
    (``mart_tables``). A SQLite mart is written beside its final name and
    moved into place when complete, so a page never reads half a mart; a
    PostgreSQL mart is the schema ``schema`` (replaced in one transaction,
    ``SELECT`` granted to :data:`READER_ROLE` when that role exists). The
    publication is recorded in the audit log (action ``publish``) and the
    register of releases (an erasure afterwards marks it stale); with
    ``anchors`` the log's head is anchored and the anchor kept in the manifest.

    Parameters
    ----------
    db : str, Path or sqlalchemy.Engine
        The row-level store (read; one audit row and one release row are added).
    mart : str or Path
        A SQLite file to write (replaced), or a PostgreSQL URL.
    min_cell : int, optional
        Smallest number of students shown; default ``PSYCHANALYTICS_MIN_CELL`` (10).
    anchors : AnchorFile, optional
        Where to anchor the audit chain's head (sealed with the pseudonym key).
    schema : str
        PostgreSQL schema of the mart (ignored for SQLite).
    actor : str, optional
        Who published; default the operating-system user.

    Returns
    -------
    Publication

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from psychanalytics import store
    >>> from psychanalytics.mart import open_mart, publish
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> engine = store.connect(folder / "store.sqlite")
    >>> store.create_all(engine)
    >>> done = publish(engine, folder / "mart.sqlite")
    >>> done.manifest["min_cell"], open_mart(folder / "mart.sqlite").manifest["rule"] == done.manifest["rule"]
    (10, True)
    """
    min_cell = Settings.from_env().min_cell if min_cell is None else min_cell
    engine = db if isinstance(db, sa.Engine) else store.connect_existing(db)
    target, postgres = _target(mart)
    shown_target = sa.make_url(target).render_as_string(hide_password=True) if postgres else target
    try:
        frames, listed = build_tables(engine, min_cell=min_cell)
        snapshot = _snapshot(engine)
        with engine.begin() as conn:
            seq = audit.append(
                conn,
                action="publish",
                resource=f"mart:{Path(target).name if not postgres else shown_target}",
                detail={
                    "tables": len(frames),
                    "min_cell": min_cell,
                    "snapshot_audit_seq": snapshot["audit_seq"],
                },
                actor=actor or getpass.getuser(),
            )
            register_release(
                conn, kind="mart", name=Path(target).name if not postgres else shown_target, audit_seq=seq
            )
        anchor = None if anchors is None else anchors.record(engine)
        manifest = {
            "kind": "mart",
            "published_utc": dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0).isoformat(),
            "published_by": actor or getpass.getuser(),
            "snapshot": snapshot,
            "spec_versions": _spec_versions(),
            "min_cell": min_cell,
            "rule": RULE,
            "tables": sorted(frames),
            "audit_seq": seq,
            "audit_anchor": None if anchor is None else anchor.as_dict(),
            "software": f"psychanalytics {__version__}",
        }
        if postgres:
            _write_postgres(target, frames, listed, manifest, schema)
        else:
            _write_sqlite(Path(target), frames, listed, manifest)
    finally:
        if engine is not db:
            engine.dispose()
    return Publication(shown_target, manifest, {name: len(frame) for name, frame in frames.items()})
