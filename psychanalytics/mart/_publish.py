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
from psychanalytics.mart._registry import MartTable, registered
from psychanalytics.privacy import LeaderView
from psychanalytics.privacy.linked import COUNT_COLUMNS, LinkedTable, Population, suppress_linked
from psychanalytics.privacy.policy import ESTIMATES
from psychanalytics.store import audit, queries, register_release

MANIFEST_TABLE = "mart_manifest"
"""The mart's table of facts about itself: one row per key, the value as JSON."""
TABLES_TABLE = "mart_tables"
"""The mart's list of its tables: name, titles, rows, the policy each was published under."""
HEADLINE_SUFFIX = "__headline"
ROW_COLUMN = "mart_row"
"""Each published row's place in its table (0, 1, …): a database keeps no row order of its own (PostgreSQL
returns a table's rows in any order), so the reader sorts on it and drops it."""
PG_SCHEMA = "mart"
"""The PostgreSQL schema a mart is published to (beside the row-level tables, reached by a reader role)."""
RULE = (
    "docs/privacy.md §2: every count, denominator and estimate resting on fewer than min_cell students is "
    "hidden (「<10」); a group whose students all fall in one cell is hidden whole (attribute disclosure); "
    "across every table of the mart, a cell hidden in one is hidden wherever the same students are counted, "
    "and further cells are hidden until no hidden cell can be recovered by subtracting published cells of "
    "any tables, relation by relation (「*」); counts of schools are institutional facts, shown whole"
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


def _populations(table: MartTable, raw: pd.DataFrame) -> dict[str, Population]:
    """What the table's counts count: as declared, else cells of the table's own (linked within it only)."""
    if table.population is not None:
        return dict(table.population)
    options = table.view_options
    by = options.get("by")
    by = (by,) if isinstance(by, str) else tuple(by or ())
    skip = {"count", "n", *ESTIMATES, *options.get("estimates", ())}
    labels = tuple(c for c in raw.columns if c not in skip)
    universe = f"table {table.name}"
    return {
        "count": Population(universe, labels),
        "n": Population(universe, by) if by else Population(f"{universe}: n", labels),
    }


def _linked(table: MartTable, view: LeaderView, raw: pd.DataFrame) -> list[LinkedTable]:
    """The table's frames as the linked pass takes them: protected cells, true counts, populations."""
    populations = _populations(table, raw)
    estimates = tuple(table.view_options.get("estimates", ()))
    out = [LinkedTable(table.name, view.cells, raw, populations, estimates)]
    if view.headline is not None:
        by = list(view.by)
        mask = table.headline(raw)
        sums = (
            raw.assign(count=raw["count"].where(mask, 0))
            .groupby(by, dropna=False, sort=False)
            .agg(count=("count", "sum"), n=("n", "first"))
            .reset_index()
        )
        truth = view.headline[by].merge(sums, on=by, how="left").set_axis(view.headline.index)
        count = populations["count"]
        group = populations["n"].dimensions if set(populations["n"].dimensions) <= set(by) else tuple(by)
        top = {"count": Population(f"{count.universe} | headline of {table.name}", group)}
        if set(populations["n"].dimensions) <= set(by):
            top["n"] = populations["n"]
        out.append(
            LinkedTable(
                table.name + HEADLINE_SUFFIX, view.headline, truth, top, (), ((count, raw, table.name, mask),)
            )
        )
    return out


def _policy_text(table: MartTable, raw: pd.DataFrame | None) -> str:
    if table.policy is None:
        return json.dumps({"no_people": table.no_people}, ensure_ascii=False)
    options = {k: list(v) if isinstance(v, tuple) else v for k, v in table.view_options.items()}
    if raw is not None and options.get("unit", "student") == "student":
        options["population"] = {
            column: {
                "universe": p.universe,
                "dimensions": list(p.dimensions),
                **({"given": dict(p.given)} if p.given else {}),
            }
            for column, p in _populations(table, raw).items()
        }
    return json.dumps(options, ensure_ascii=False)


def _hidden(frame: pd.DataFrame) -> int:
    return int(sum(frame[c].isna().sum() for c in COUNT_COLUMNS if c in frame.columns))


def build_tables(
    engine: sa.Engine,
    *,
    min_cell: int,
    names: Iterable[str] | None = None,
    tables: Iterable[MartTable] | None = None,
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """The protected frames of the registered tables (all, or ``names``) and the list describing them.

    Each table is protected by :func:`~psychanalytics.privacy.leader_view`
    under its own policy, then all of them together by
    :func:`~psychanalytics.privacy.linked.suppress_linked`: a cell hidden in
    one table is hidden wherever the same students are counted, and no hidden
    cell can be worked out by subtracting published cells of any tables
    (docs/privacy.md §2). Pure reading: nothing is written; :func:`publish`
    writes what this returns.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The row-level store.
    min_cell : int
        Smallest number of students shown.
    names : iterable of str, optional
        Registered tables to build (default: every one in :data:`TABLES`).
    tables : iterable of MartTable, optional
        Tables to build instead of registered ones (a publication of its own).

    Returns
    -------
    frames : dict
        Name → protected frame (``<name>__headline`` for a headline).
    listed : pandas.DataFrame
        ``name, title_zh, title_en, rows, policy, linked_hidden``: ``policy``
        the options and populations as JSON, ``linked_hidden`` how many
        numbers the linked pass hid beyond the table's own policy; its
        ``attrs["linked"]`` says what the pass did (see ``report`` of
        :func:`~psychanalytics.privacy.linked.suppress_linked`).

    Examples
    --------
    >>> from psychanalytics import store
    >>> engine = store.connect("sqlite://")
    >>> store.create_all(engine)
    >>> frames, listed = build_tables(engine, min_cell=10, names=["screened_per_wave"])
    >>> listed[["name", "rows", "linked_hidden"]].to_dict("records")
    [{'name': 'screened_per_wave', 'rows': 0, 'linked_hidden': 0}]
    """
    every = registered()
    chosen = list(tables) if tables is not None else [every[n] for n in (every if names is None else names)]
    frames, linked, listed, policies = {}, [], [], {}
    for table in chosen:
        raw = table.build(engine).reset_index(drop=True)
        view = table.view(raw, min_cell=min_cell)
        if view is None:
            frames[table.name] = raw
            policies[table.name] = (table, None)
            continue
        frames[table.name] = view.cells.reset_index(drop=True)
        policies[table.name] = (table, raw)
        if view.headline is not None:
            frames[table.name + HEADLINE_SUFFIX] = view.headline.reset_index(drop=True)
            policies[table.name + HEADLINE_SUFFIX] = (table, raw)
        if view.unit == "student":
            linked.extend(_linked(table, view, raw))
    before = {name: _hidden(frame) for name, frame in frames.items()}
    report: dict = {}
    frames.update(suppress_linked(linked, min_cell=min_cell, report=report))
    for name, frame in frames.items():
        table, raw = policies[name]
        listed.append(
            {
                "name": name,
                "title_zh": table.title_zh,
                "title_en": table.title_en,
                "rows": len(frame),
                "policy": _policy_text(table, raw),
                "linked_hidden": _hidden(frame) - before[name],
            }
        )
    listed = pd.DataFrame(listed, columns=["name", "title_zh", "title_en", "rows", "policy", "linked_hidden"])
    listed.attrs["linked"] = report
    return frames, listed


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
        _storable(frame).assign(**{ROW_COLUMN: range(len(frame))}).to_sql(
            name, conn, schema=schema, index=False
        )
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
"""The PostgreSQL role dashboards connect as: ``USAGE`` on the mart schema and ``SELECT`` on its tables only.

``.ci/start-postgres`` creates it (``LOGIN``, a password, no other right); docs/privacy.md §2 gives the SQL
for a server of the district's own. :func:`publish` grants it the mart and takes back any right it was given
on the row-level tables of the schema ``public``."""


def _grant_reader(conn: sa.Connection, schema: str) -> None:
    exists = conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": READER_ROLE}).first()
    if exists:
        conn.execute(sa.text(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {READER_ROLE}"))
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
    tables: Iterable[MartTable] | None = None,
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
        A SQLite file to write (replaced), or a PostgreSQL URL of a role that may
        create schemas there: usually the store's own database (the schema
        ``mart`` beside the row-level tables, which the reader role cannot
        read), or another database of the same server for stronger separation.
    min_cell : int, optional
        Smallest number of students shown; default ``PSYCHANALYTICS_MIN_CELL`` (10).
    anchors : AnchorFile, optional
        Where to anchor the audit chain's head (sealed with the pseudonym key).
    schema : str
        PostgreSQL schema of the mart (ignored for SQLite).
    actor : str, optional
        Who published; default the operating-system user.
    tables : iterable of MartTable, optional
        Publish these tables instead of the registered ones (tests, a mart of its own).

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
        frames, listed = build_tables(engine, min_cell=min_cell, tables=tables)
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
            "linked_suppression": listed.attrs.get("linked", {}),
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


def mart_beside(db: str | Path | sa.Engine | None) -> Path:
    """Where the SQLite mart of a store goes: beside a SQLite store as ``<name>-mart.sqlite``, else in the
    working folder as ``<database>-mart.sqlite``.

    >>> mart_beside("/srv/data/district.sqlite").as_posix()
    '/srv/data/district-mart.sqlite'
    """
    url = db.url if isinstance(db, sa.Engine) else sa.make_url(store.resolve_url(db))
    if url.get_backend_name() == "sqlite" and url.database:
        path = Path(url.database)
        return path.with_name(f"{path.stem}-mart.sqlite")
    return Path(f"{url.database or 'store'}-mart.sqlite").resolve()


def publish_beside(db: str | Path | None, *, min_cell: int | None = None) -> Path:
    """The mart beside the store (:func:`mart_beside`), published first unless it is current.

    Current means published from the store as it is now: its manifest's audit row is the store's last
    (publishing audits itself, so any later import, erasure or publication makes it stale) and its
    small-cell threshold is ``min_cell`` (default ``PSYCHANALYTICS_MIN_CELL``). ``serve --db`` and
    ``report annual --db`` use it, so leaders' pages and reports read the mart, never the store.

    Returns
    -------
    pathlib.Path
        The mart file.

    Raises
    ------
    psychanalytics.store.StoreNotFoundError
        If the store does not exist.
    """
    from psychanalytics.mart._read import Mart, MartNotFoundError

    target = mart_beside(db)
    min_cell = Settings.from_env().min_cell if min_cell is None else min_cell
    engine = store.connect_existing(db)
    try:
        with engine.connect() as conn:
            last = audit.head(conn)
        if target.is_file():
            try:
                current = Mart(target)
                manifest = current.manifest
                current.close()
                if last is not None and (manifest.get("audit_seq"), manifest.get("min_cell")) == (
                    last[0],
                    min_cell,
                ):
                    return target
            except MartNotFoundError:
                pass
        done = publish(engine, target, min_cell=min_cell)
        print(f"已发布汇总数据 / mart published: {target} ({len(done.rows)} 张表 / tables)", flush=True)
        return target
    finally:
        engine.dispose()
