"""Revisions, the store's current revision, and the upgrade of a store (Alembic, configured in code)."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import os
import sqlite3
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from psychanalytics import __version__
from psychanalytics.store.engine import (
    StoreNotFoundError,
    StoreVersionError,
    connect,
    refuse_missing_file,
    resolve_url,
)

BASELINE = "0001"
"""The revision of the schema as it was before versioning: a store without a version table is at it."""

_HERE = Path(__file__).resolve().parent
_UPGRADE_HINT = "运行 / run `psychanalytics upgrade --db …`"


def config(versions: Sequence[Path] = ()) -> Config:
    """Alembic's configuration of the store, in code (no ``alembic.ini``), for :mod:`alembic.command`.

    The package's own revisions, then those in ``versions`` (extra folders: a test's). To run a command,
    put a connection from :func:`migration_connection` in ``attributes["connection"]``.
    """
    settings = Config()
    settings.set_main_option("script_location", str(_HERE).replace("%", "%%"))
    settings.set_main_option("path_separator", "os")
    folders = [_HERE / "versions", *versions]
    settings.set_main_option("version_locations", os.pathsep.join(str(f).replace("%", "%%") for f in folders))
    return settings


def _scripts(versions: Sequence[Path] = ()) -> ScriptDirectory:
    return ScriptDirectory.from_config(config(versions))


@functools.cache
def head() -> str:
    """The newest revision this psychanalytics knows: the schema of :mod:`psychanalytics.store.schema`.

    >>> head() >= BASELINE
    True
    """
    return _scripts().get_current_head()


def current(conn: sa.Connection) -> str | None:
    """The revision ``conn``'s database is at; ``None`` when it has no version table."""
    return MigrationContext.configure(conn).get_current_revision()


def stamp(conn: sa.Connection, revision: str = "head") -> None:
    """Record that the database is at ``revision`` without changing its tables."""
    MigrationContext.configure(conn).stamp(_scripts(), revision)


def _outdated(revision: str | None, scripts: ScriptDirectory) -> str:
    """Why a store at ``revision`` is not at the head, in Chinese and English."""
    if revision is None:
        return f"数据库建于结构版本管理之前，需要升级 / the store predates schema versioning: {_UPGRADE_HINT}"
    if _known(revision, scripts):
        return (
            f"数据库结构为版本 {revision}，本程序需要 {scripts.get_current_head()}，需要升级 / the store's schema "
            f"is at revision {revision}, this psychanalytics needs {scripts.get_current_head()}: {_UPGRADE_HINT}"
        )
    return (
        f"数据库结构版本 {revision} 未知 / the store's schema revision {revision} is unknown to psychanalytics "
        f"{__version__} (written by a newer version?): use the version that wrote it, or restore a backup"
    )


def _known(revision: str, scripts: ScriptDirectory) -> bool:
    return revision in {script.revision for script in scripts.walk_revisions()}


def require_head(conn: sa.Connection) -> None:
    """Refuse a store whose schema is not this version's (:class:`~psychanalytics.store.StoreVersionError`)."""
    revision = current(conn)
    if revision != head():
        raise StoreVersionError(_outdated(revision, _scripts()))


@functools.cache
def _baseline_columns() -> dict[str, list[str]]:
    """Table → column names that revision :data:`BASELINE` creates (run into an in-memory database)."""
    engine = sa.create_engine("sqlite://")
    with engine.begin() as conn, Operations.context(MigrationContext.configure(conn)):
        _scripts().get_revision(BASELINE).module.upgrade()
        return _columns(conn, sa.inspect(conn).get_table_names())


def _columns(conn: sa.Connection, tables) -> dict[str, list[str]]:
    inspector = sa.inspect(conn)
    return {table: [column["name"] for column in inspector.get_columns(table)] for table in tables}


def _recognise_baseline(conn: sa.Connection, label: str) -> None:
    """Accept an unversioned database only if it holds the baseline's tables with the baseline's columns."""
    baseline = _baseline_columns()
    present = [table for table in baseline if sa.inspect(conn).has_table(table)]
    if not present:
        raise StoreNotFoundError(
            f"不是 psychanalytics 数据库 / not a psychanalytics store (no psychanalytics tables): {label} "
            "(create one with `psychanalytics init --db …`)"
        )
    found = _columns(conn, present)
    differences = [f"{table}: missing" for table in baseline if table not in found] + [
        f"{table}: columns {found[table]}, expected {baseline[table]}"
        for table in present
        if found[table] != baseline[table]
    ]
    if differences:
        raise StoreVersionError(
            f"无法识别的数据库结构，未作任何更改 / unrecognised schema, nothing changed: {label} has no "
            f"version table and differs from revision {BASELINE}: " + "; ".join(differences[:5])
        )


def _migration_engine(db: str | Path | sa.URL) -> sa.Engine:
    """An engine whose connections run a migration in one transaction, foreign keys unenforced on SQLite.

    SQLite changes a column by rebuilding its table; with foreign keys on, dropping the old table would
    delete the rows that refer to it (``ON DELETE CASCADE``). So, as SQLite's own procedure for schema
    changes says (https://www.sqlite.org/lang_altertable.html#otheralter), foreign keys are off during
    the migration and ``PRAGMA foreign_key_check`` runs before the commit. The transaction begins with
    ``BEGIN IMMEDIATE`` before anything else, so that DDL runs inside it too (the driver would only
    begin one before the first row is written) and no other writer can start: a failure anywhere
    leaves the file as it was.
    """
    engine = connect(db)
    if engine.dialect.name == "sqlite":

        @sa.event.listens_for(engine, "connect")
        def _without_foreign_keys(dbapi_connection, _record) -> None:
            dbapi_connection.execute("PRAGMA foreign_keys=OFF")

        @sa.event.listens_for(engine, "begin")
        def _begin_immediate(conn) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


@contextlib.contextmanager
def migration_connection(db: str | Path | sa.URL | None) -> Iterator[sa.Connection]:
    """A connection inside the transaction a migration runs in; committed when the block ends without error.

    On SQLite, foreign keys are checked before the commit (see :func:`_migration_engine`).
    """
    if db is None:
        raise StoreNotFoundError("给出数据库 / name the database: alembic -x db=PATH_OR_URL …")
    engine = _migration_engine(db)
    try:
        with engine.connect() as conn, conn.begin():
            yield conn
            _check_foreign_keys(conn)
    finally:
        engine.dispose()


def _check_foreign_keys(conn: sa.Connection) -> None:
    if conn.dialect.name != "sqlite":
        return  # PostgreSQL checks every foreign key as it changes a table
    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        tables = sorted({row[0] for row in broken})
        raise StoreVersionError(
            f"迁移后外键不一致，已回滚 / {len(broken)} rows break a foreign key after the migration "
            f"(tables {', '.join(tables)}); rolled back, nothing changed"
        )


def _backup(conn: sa.Connection, revision: str | None) -> Path:
    """Copy the SQLite file beside itself, with its permissions, before ``conn`` changes anything.

    ``conn`` holds the write lock (``BEGIN IMMEDIATE``) and has written nothing, so a second, read-only
    connection copies the last committed state and no other writer can slip in before the migration.
    SQLite's online backup copies the pages in the WAL too, which a copy of the file alone would miss.
    """
    source = Path(conn.engine.url.database)
    moment = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    target = source.with_name(f"{source.stem}.before-{revision or 'unversioned'}-{moment}{source.suffix}")
    if target.exists():
        raise FileExistsError(f"备份文件已存在 / backup already exists: {target}")
    reader = sqlite3.connect(f"file:{quote(str(source))}?mode=ro", uri=True)
    copy = sqlite3.connect(target)
    try:
        reader.backup(copy)
    finally:
        copy.close()
        reader.close()
    target.chmod(stat.S_IMODE(source.stat().st_mode))
    return target


@dataclasses.dataclass(frozen=True)
class Migration:
    """What :func:`upgrade` (or :func:`downgrade`) did: the revisions before and after, and the backup."""

    database: str
    """The database, its password hidden."""
    before: str | None
    """Revision before; ``None``: unversioned, recognised as :data:`BASELINE`."""
    after: str | None
    backup: Path | None
    """The copy taken before the change (SQLite); ``None`` when nothing changed, or on PostgreSQL."""

    @property
    def changed(self) -> bool:
        """Whether the schema or the version table changed."""
        return self.before != self.after


def upgrade(db: str | Path | sa.URL, *, versions: Sequence[Path] = ()) -> Migration:
    """Bring an existing store to the head revision, in one transaction.

    A store without a version table is accepted only when its tables are the baseline's
    (:data:`BASELINE`); a revision this version does not know, a missing SQLite file or a database
    without psychanalytics tables are refused, and nothing is changed or created. A SQLite file is
    copied beside itself first (``NAME.before-REVISION-TIME.sqlite``); on PostgreSQL the one
    transaction is the safeguard (a ``pg_dump`` is the server's backup).

    Parameters
    ----------
    db : str, Path or sqlalchemy.URL
        SQLite path or SQLAlchemy URL.
    versions : sequence of Path
        Extra folders of revisions after this package's own (tests use one).

    Returns
    -------
    Migration

    Raises
    ------
    StoreNotFoundError
        The SQLite file does not exist, or the database holds no psychanalytics tables.
    StoreVersionError
        The database is at an unknown revision, or unversioned with tables that are not the baseline's,
        or the migration broke a foreign key (rolled back).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from psychanalytics import store
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "x.sqlite"
    >>> store.create_all(store.connect(path))
    >>> upgrade(path).changed
    False
    """
    return _migrate(db, "head", command.upgrade, versions)


def downgrade(db: str | Path | sa.URL, revision: str, *, versions: Sequence[Path] = ()) -> Migration:
    """Take a store back to an earlier ``revision`` with its revisions' ``downgrade`` steps.

    As safe as :func:`upgrade` (one transaction, a SQLite backup first), but a downgrade may drop what a
    later revision added: restoring the backup an upgrade made is the usual way back.
    """
    return _migrate(db, revision, command.downgrade, versions)


def _migrate(db, revision: str, move, versions: Sequence[Path]) -> Migration:
    url = resolve_url(db)
    refuse_missing_file(url)
    scripts, alembic_config = _scripts(versions), config(versions)
    target = scripts.get_revision(revision).revision
    label = sa.make_url(url).render_as_string(hide_password=True)
    with migration_connection(url) as conn:
        before = current(conn)
        if before is None:
            _recognise_baseline(conn, label)
        elif not _known(before, scripts):
            raise StoreVersionError(_outdated(before, scripts))
        if before == target:
            return Migration(label, before, target, None)
        backup = _backup(conn, before) if conn.dialect.name == "sqlite" else None
        if before is None:
            MigrationContext.configure(conn).stamp(scripts, BASELINE)
        alembic_config.attributes["connection"] = conn
        move(alembic_config, target)
    return Migration(label, before, target, backup)
