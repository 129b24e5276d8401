"""Backup and restore of a store: a consistent copy while imports run, and the way back.

SQLite: the online backup API (``sqlite3.Connection.backup``, all pages in one step) copies the store
inside one read transaction, so the copy is the store as one committed moment saw it, while a WAL
writer (an import) goes on; the copy is written beside its final name and renamed, mode 0600 (it holds
the same sensitive data). PostgreSQL: ``pg_dump --format=custom``, which reads in one repeatable-read
snapshot (consistent while imports run), restored with ``pg_restore --clean --if-exists
--single-transaction``; the password travels in ``PGPASSWORD``, never on the command line.

Each backup appends an audit row (before the copy, so the copy holds the record of its own making)
and registers itself as a release (an erasure afterwards marks it stale: the backup still holds the
erased students). A restore checks the copy first (``PRAGMA integrity_check`` and the audit chain),
refuses to overwrite a store unless asked, and then **erases again** every student whose erasure was
recorded after the backup was taken: the anchor file keeps the pids of each erasure for exactly this
(:class:`psychanalytics.store.audit.Anchor`).

Without the pseudonym key a restored store can be read but no new file can be imported into it (new
students would not match old ones): the key is backed up separately, offline (README, "Backups").
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from psychanalytics.store import audit, migrations
from psychanalytics.store.engine import StoreNotFoundError, connect, resolve_url
from psychanalytics.store.erasure import Erasure, erase_again
from psychanalytics.store.releases import register_release


class BackupError(RuntimeError):
    """A backup or restore that could not be done; nothing was overwritten."""


@dataclass(frozen=True)
class Backup:
    """A backup written: its ``path``, the audit row that records it, its release id, its size in bytes."""

    path: Path
    audit_seq: int
    release_id: int
    size: int


def _is_sqlite(url: str) -> bool:
    return sa.make_url(url).get_backend_name() == "sqlite"


def _sqlite_path(url: str) -> Path:
    return Path(sa.make_url(url).database)


def _private_pending(out: Path) -> Path:
    """An empty file beside ``out``, mode 0600, to write the copy into before renaming it."""
    pending = out.with_name(f".{out.name}.pending")
    pending.unlink(missing_ok=True)
    os.close(os.open(pending, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    return pending


def backup(engine: sa.Engine, out: str | Path, *, actor: str | None = None) -> Backup:
    """Copy the store to ``out`` (a new file), consistently even while imports run.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from psychanalytics import store
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> engine = store.connect(folder / "store.sqlite")
    >>> store.create_all(engine)
    >>> done = backup(engine, folder / "copy.sqlite", actor="doc")
    >>> done.audit_seq, oct(done.path.stat().st_mode & 0o777)
    (1, '0o600')
    """
    out = Path(out).expanduser().resolve()
    if out.exists():
        raise BackupError(f"{out} already exists: a backup never overwrites a file")
    if not out.parent.is_dir():
        raise BackupError(f"{out.parent}: no such folder")
    with engine.begin() as conn:
        audit.store_id(conn, create=True)  # the copy carries it: its anchors stay its own after a restore
        seq = audit.append(
            conn, action="backup", resource=f"backup:{out.name}", detail={"file": out.name}, actor=actor
        )
        release = register_release(conn, kind="backup", name=out.name, audit_seq=seq)
    pending = _private_pending(out)
    try:
        if engine.dialect.name == "sqlite":
            _sqlite_copy(_sqlite_path(str(engine.url)), pending)
        else:
            _pg_dump(engine.url, pending)
        pending.replace(out)
    finally:
        pending.unlink(missing_ok=True)
    return Backup(out, seq, release, out.stat().st_size)


def _sqlite_copy(source: Path, target: Path) -> None:
    """Every page of ``source`` into ``target`` in one step (one read transaction: one consistent moment)."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.execute("PRAGMA busy_timeout = 30000")
        src.backup(dst, pages=-1)
    finally:
        dst.close()
        src.close()


def _libpq(url: sa.URL) -> tuple[str, dict[str, str]]:
    """A libpq connection URL without the password, and the environment that carries it."""
    plain = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return plain, env


def _run(command: list[str], env: dict[str, str]) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(
            f"{command[0]} is not installed (Debian: postgresql-client of the server's version)"
        )
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()}")


def _pg_dump(url: sa.URL, out: Path) -> None:
    dbname, env = _libpq(url)
    _run(["pg_dump", "--format=custom", "--no-owner", f"--file={out}", f"--dbname={dbname}"], env)


@dataclass(frozen=True)
class Restored:
    """What :func:`restore` did: the store's URL (no password), the audit head of the copy, the restore
    anchor written (if an anchor file was given), and the erasures applied again. ``needs_upgrade``: the
    copy's schema is older than this version's; erasures are applied again only after ``psychanalytics
    upgrade`` (then ``psychanalytics forget --reapply``)."""

    database: str
    head: int
    anchor: audit.Anchor | None
    erasures: tuple[Erasure, ...]
    needs_upgrade: bool = False


def restore(
    source: str | Path,
    db: str | Path,
    *,
    replace: bool = False,
    anchors: audit.AnchorFile | None = None,
    actor: str | None = None,
) -> Restored:
    """Restore the backup ``source`` into the store ``db``, then erase again whoever was erased after it.

    Parameters
    ----------
    source : path
        A file written by :func:`backup` (a SQLite file, or a ``pg_dump`` custom archive).
    db : path or URL
        The store to restore into: a SQLite path (created; an existing file only with ``replace``) or a
        PostgreSQL database that exists (holding psychanalytics tables only with ``replace``).
    replace : bool
        Overwrite a store that exists.
    anchors : AnchorFile, optional
        The anchor file and key: a ``restore`` anchor is recorded (anchors made after the backup now
        belong to an abandoned history), and the pids of later erasures are read from it.

    Raises
    ------
    BackupError
        The copy is damaged, its audit chain does not verify, or the target exists without ``replace``.
    """
    source = Path(source).expanduser().resolve()
    if not source.is_file():
        raise BackupError(f"{source}: no such backup file")
    url = resolve_url(db)
    if _is_sqlite(url):
        _restore_sqlite(source, _sqlite_path(url), replace=replace)
    else:
        _restore_postgresql(source, sa.make_url(url), replace=replace)
    engine = connect(url)
    try:
        with engine.connect() as conn:
            last = audit.head(conn)
            needs_upgrade = migrations.current(conn) != migrations.head()
        anchor = None if anchors is None else anchors.record(engine, kind="restore")
        erasures = () if anchors is None or needs_upgrade else erase_again(engine, anchors, actor=actor)
        with engine.begin() as conn:
            audit.append(
                conn,
                action="restore",
                resource=f"backup:{source.name}",
                detail={"head": last[0] if last else 0, "erased_again": sum(len(e.pids) for e in erasures)},
                actor=actor,
            )
        if anchors is not None:
            anchors.record(engine)
    finally:
        engine.dispose()
    shown = sa.make_url(url).render_as_string(hide_password=True)
    return Restored(shown, last[0] if last else 0, anchor, erasures, needs_upgrade)


def _check_sqlite_copy(source: Path) -> None:
    copy = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        verdict = copy.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{source} is not a SQLite backup ({exc})") from None
    finally:
        copy.close()
    if verdict != "ok":
        raise BackupError(f"{source} is damaged: PRAGMA integrity_check says {verdict}")
    engine = connect(source, read_only=True)
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("audit_log"):
                raise BackupError(f"{source} is not a psychanalytics store")
            broken = audit.verify(conn)
    finally:
        engine.dispose()
    if broken:
        raise BackupError(f"{source}: its audit chain is broken at row {broken[0]}; not restored")


def _restore_sqlite(source: Path, target: Path, *, replace: bool) -> None:
    _check_sqlite_copy(source)
    if target.exists() and not replace:
        raise BackupError(f"{target} exists: restore over it only with replace (CLI: --replace)")
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        dst.execute("PRAGMA busy_timeout = 30000")
        src.backup(dst, pages=-1)
        dst.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        dst.close()
        src.close()


def _restore_postgresql(source: Path, url: sa.URL, *, replace: bool) -> None:
    engine = connect(url)
    try:
        with engine.connect() as conn:
            held = sa.inspect(conn).has_table("audit_log")
    except sa.exc.OperationalError as exc:
        raise StoreNotFoundError(f"cannot reach the database to restore into: {exc.orig}") from None
    finally:
        engine.dispose()
    if held and not replace:
        raise BackupError("the database holds a psychanalytics store: restore over it only with replace")
    dbname, env = _libpq(url)
    _run(
        [
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            f"--dbname={dbname}",
            str(source),
        ],
        env,
    )
    engine = connect(url)
    try:
        with engine.connect() as conn:
            broken = audit.verify(conn)
    finally:
        engine.dispose()
    if broken:
        raise BackupError(f"the restored audit chain is broken at row {broken[0]}")
