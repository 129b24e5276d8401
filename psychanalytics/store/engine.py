"""Engines, schema creation and table counts for SQLite and PostgreSQL."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa

from psychanalytics.config import Settings
from psychanalytics.store.schema import metadata


def resolve_url(db: str | Path | sa.URL | None = None) -> str:
    """Turn a path or SQLAlchemy URL into a URL.

    ``None`` means ``PSYCHANALYTICS_DB`` (default ``data/demo.sqlite``). A value
    containing ``://`` is taken as a URL; anything else is a SQLite file path. A
    :class:`sqlalchemy.URL` (an engine's ``url``) keeps its password.

    >>> resolve_url("sqlite://")
    'sqlite://'
    >>> resolve_url("/tmp/x.sqlite")
    'sqlite:////tmp/x.sqlite'
    >>> resolve_url(sa.make_url("postgresql://u:secret@host/db"))
    'postgresql://u:secret@host/db'
    """
    if isinstance(db, sa.URL):
        return db.render_as_string(hide_password=False)
    db = Settings.from_env().db if db is None else str(db)
    if "://" in db:
        return db
    return f"sqlite:///{Path(db).expanduser().resolve()}"


_READ_PRAGMAS = ("busy_timeout=30000", f"threads={min(os.cpu_count() or 1, 8)}")
"""Set on every SQLite connection. ``threads`` lets a large sort (the GROUP BY of a pushed-down count) use the
other cores: 2.9 s → 2.1 s for 1,000,000 sheets on 2 cores (DESIGN.md, decision 34)."""
_WRITE_PRAGMAS = ("foreign_keys=ON", "journal_mode=WAL", "synchronous=FULL")
"""Set on every SQLite connection that may write (``journal_mode=WAL`` itself writes the file header)."""


def _sqlite_pragmas(*settings: str):
    """A ``connect`` listener that sets ``PRAGMA`` ``settings`` on each new SQLite connection."""

    def listener(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        for setting in settings:
            cursor.execute(f"PRAGMA {setting}")
        cursor.close()

    return listener


def _read_only_options(url: sa.URL, connect_args: dict) -> str:
    """libpq ``options`` that keep the ones already given (connect_args, URL, ``PGOPTIONS``) and add read-only."""
    given = connect_args.get("options") or url.query.get("options") or os.environ.get("PGOPTIONS")
    return " ".join(o for o in (given, "-c default_transaction_read_only=on") if o)


def connect(db: str | Path | sa.URL | None = None, *, read_only: bool = False, **engine_kw) -> sa.Engine:
    """Create an engine for a path or URL (see :func:`resolve_url`).

    SQLite connections get ``foreign_keys=ON``, a 30 s busy timeout, WAL and
    ``synchronous=FULL`` (the system of record must survive a power loss).
    A PostgreSQL URL written ``postgresql://`` uses the psycopg 3 driver.

    With ``read_only=True`` writes are refused by the database itself: SQLite
    opens the file with ``mode=ro`` (it must exist), PostgreSQL sessions start
    with ``default_transaction_read_only`` (added to any ``options`` already given).
    Dashboards and notebooks read this way. It guards against mistakes; on a shared
    server a ``SELECT``-only role is the boundary (a session may turn read-only off).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "x.sqlite"
    >>> create_all(connect(path))
    >>> with connect(path, read_only=True).begin() as conn:
    ...     conn.exec_driver_sql("DELETE FROM school")
    Traceback (most recent call last):
    ...
    sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) attempt to write a readonly database
    ...
    """
    url = sa.make_url(resolve_url(db))
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    sqlite = url.get_backend_name() == "sqlite"
    connect_args = engine_kw.pop("connect_args", {})
    if sqlite:
        # the importer hands its connection to one writer thread (never two threads at once)
        connect_args = {"check_same_thread": False, **connect_args}
    if read_only and sqlite:
        if not url.database or url.database == ":memory:":
            raise ValueError("a read-only connection needs a SQLite file, not an in-memory database")
        url = url.set(
            database=f"file:{quote(url.database)}", query={**url.query, "mode": "ro", "uri": "true"}
        )
    elif read_only:
        connect_args = {**connect_args, "options": _read_only_options(url, connect_args)}
    # SQL parameters are students' data: keep them out of error messages and logs
    engine = sa.create_engine(url, connect_args=connect_args, **{"hide_parameters": True, **engine_kw})
    if sqlite:
        if url.database and not read_only:
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        settings = _READ_PRAGMAS if read_only else _READ_PRAGMAS + _WRITE_PRAGMAS
        sa.event.listen(engine, "connect", _sqlite_pragmas(*settings))
    return engine


class StoreNotFoundError(FileNotFoundError):
    """The database named does not exist or has no psychanalytics tables."""


class StoreVersionError(StoreNotFoundError):
    """The database holds a psychanalytics store, but not at this version's schema revision.

    A kind of :class:`StoreNotFoundError` (no store this version can use was found), so every caller
    that refuses a missing store refuses an outdated one alike; the message says what to run.
    """


def refuse_missing_file(url: str) -> None:
    """Raise :class:`StoreNotFoundError` if ``url`` names a SQLite file that does not exist.

    Connecting would create it: a mistyped path must not silently become a new empty database.
    """
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        if not Path(parsed.database).is_file():
            raise StoreNotFoundError(
                f"数据库不存在 / database not found: {parsed.database} "
                "(create it with `psychanalytics init --db PATH`, or build the demo with `psychanalytics demo`)"
            )


def connect_existing(
    db: str | Path | sa.URL | None = None, *, read_only: bool = False, **engine_kw
) -> sa.Engine:
    """Like :func:`connect`, but refuse a database that does not exist, was never initialised, or whose
    schema is not this version's (:class:`StoreVersionError`: run ``psychanalytics upgrade``).

    A mistyped path must not silently become a new empty database.

    >>> connect_existing("/nonexistent/x.sqlite")
    Traceback (most recent call last):
    ...
    psychanalytics.store.engine.StoreNotFoundError: 数据库不存在 / database not found: /nonexistent/x.sqlite ...
    """
    from psychanalytics.store import migrations

    url = resolve_url(db)
    refuse_missing_file(url)
    engine = connect(url, read_only=read_only, **engine_kw)
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("school"):
                raise StoreNotFoundError(
                    "数据库未初始化 / database has no psychanalytics tables: "
                    f"{sa.make_url(url).render_as_string(hide_password=True)} (run `psychanalytics init --db …` first)"
                )
            migrations.require_head(conn)
    except StoreNotFoundError:
        engine.dispose()
        raise
    return engine


def create_all(engine: sa.Engine) -> None:
    """Create the schema in a database without psychanalytics tables and stamp it with the head revision.

    A store already at the head gets any table it lacks (normally none); any other store is refused
    with :class:`StoreVersionError` (``psychanalytics upgrade`` brings it to the head). The schema is
    versioned by :mod:`psychanalytics.store.migrations` (DESIGN.md, decision 21).

    >>> from psychanalytics.store import migrations
    >>> engine = connect("sqlite://")
    >>> create_all(engine)
    >>> with engine.connect() as conn:
    ...     migrations.current(conn) == migrations.head()
    True
    """
    from psychanalytics.store import migrations

    with engine.begin() as conn:
        inspector = sa.inspect(conn)
        fresh = not any(inspector.has_table(name) for name in metadata.tables)
        if not fresh:
            migrations.require_head(conn)
        metadata.create_all(conn)
        if fresh:
            migrations.stamp(conn)


def refresh_statistics(engine: sa.Engine) -> None:
    """Gather the query planner's statistics (``ANALYZE``) after a large load.

    Without them SQLite guesses, and scans the whole ``score`` table where a
    lookup by wave would do: on the demo district the overview's queries take
    1.6 s instead of 1.95 s with them.
    """
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")


def table_counts(engine: sa.Engine) -> dict[str, int]:
    """Row count of every table in the data model."""
    with engine.connect() as conn:
        return {
            name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for name, table in metadata.tables.items()
        }
