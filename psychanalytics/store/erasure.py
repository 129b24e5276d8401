"""Erasure at a request: a student leaves every row-level table, and leaves a tombstone behind.

PIPL Art. 47 and the Minors Protection Law Art. 72 give a guardian the right to have a minor's data
deleted, and withdrawn consent ends processing for that purpose (docs/privacy.md §1). :func:`forget`
deletes every row that belongs to the students named (by pseudonym: the store never sees a 学籍号),
in one transaction with

* a **tombstone** per student (``erasure``: the pid, never the number), so a later import of an old file
  does not bring the student back: the importer asks :func:`forgotten_pids` and refuses those lines;
* an **audit row** (action ``erasure``) naming the pids and the rows deleted per table;
* every registered release built before it (extracts, marts, backups) **marked stale**.

Then the deleted bytes are made unrecoverable (:func:`scrub`): on SQLite, ``secure_delete`` zeroes what
the deletion frees, ``VACUUM`` rewrites the file from live rows only (older versions of a row that an
update left in a page's free space are gone too) with its temporary copy in memory, and a
``wal_checkpoint(TRUNCATE)`` empties the write-ahead log. On PostgreSQL a deleted row stays in its heap
page until ``VACUUM FULL`` rewrites the table into new files (done here, table by table); its old
image may also remain in WAL segments until they are recycled, in WAL archives, base backups, replicas
and ``pg_dump`` files until they expire — the server's own retention, outside this function.

Which rows belong to a student is read from the schema, not listed by hand: every table with a ``pid``
column that refers to ``student``, ``student`` itself, and every table that refers to one of those by a
foreign key (``crisis_event`` through ``crisis_case``). A table added later is covered the same way.
Quarantined lines keep no pid (their 学籍号 and name are masked when stored, DESIGN.md decision 14) and
cannot be tied to a student: they stay until their batch is dealt with.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from psychanalytics.store import audit
from psychanalytics.store.releases import mark_stale
from psychanalytics.store.schema import erasure, metadata, student

_CHUNK = 500  # pids per IN list (well under SQLite's limit on bound parameters)


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _refers_to_student(table: sa.Table) -> bool:
    return "pid" in table.c and any(fk.column is student.c.pid for fk in table.c.pid.foreign_keys)


def student_tables() -> list[sa.Table]:
    """Tables holding rows of individual students, children before parents (the order to delete in).

    >>> names = [t.name for t in student_tables()]
    >>> names[-1], names.index("crisis_event") < names.index("crisis_case"), "erasure" in names
    ('student', True, False)
    """
    direct = {t.name for t in metadata.tables.values() if _refers_to_student(t)} | {student.name}
    through = {
        t.name
        for t in metadata.tables.values()
        if any(fk.column.table.name in direct - {student.name} for fk in t.foreign_keys)
    }
    return [t for t in reversed(metadata.sorted_tables) if t.name in direct | through]


def _rows_of(table: sa.Table, pids: Sequence[str]):
    """A WHERE clause selecting ``table``'s rows of the students ``pids``."""
    if "pid" in table.c:
        return table.c.pid.in_(pids)
    fk = next(fk for fk in table.foreign_keys if "pid" in fk.column.table.c)
    parent = fk.column.table
    return fk.parent.in_(sa.select(fk.column).where(parent.c.pid.in_(pids)))


def forgotten_pids(conn: sa.Connection, pids: Iterable[str]) -> set[str]:
    """The pseudonyms among ``pids`` whose students were erased (the importer must refuse their lines).

    Examples
    --------
    >>> from psychanalytics import store
    >>> engine = store.connect("sqlite://")
    >>> store.create_all(engine)
    >>> _ = forget(engine, ["a" * 32])
    >>> with engine.connect() as conn:
    ...     sorted(forgotten_pids(conn, ["a" * 32, "b" * 32])) == ["a" * 32]
    True
    """
    unique = sorted(set(pids))
    found: set[str] = set()
    for chunk in _chunks(unique):
        found.update(conn.execute(sa.select(erasure.c.pid).where(erasure.c.pid.in_(chunk))).scalars())
    return found


@dataclass(frozen=True)
class Scrub:
    """What :func:`scrub` did: ``complete`` when nothing deleted can be read back from the store's files."""

    complete: bool
    steps: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True)
class Erasure:
    """The result of :func:`forget`.

    ``pids`` are the pseudonyms erased (tombstoned), ``found`` those that had any row, ``rows`` the rows
    deleted per table, ``audit_seq`` the audit row, ``stale_releases`` the ids of the releases marked
    stale, ``scrub`` what was done to the files.
    """

    pids: tuple[str, ...]
    found: tuple[str, ...]
    rows: dict[str, int]
    audit_seq: int
    stale_releases: tuple[int, ...]
    scrub: Scrub


def forget(
    engine: sa.Engine, pids: Iterable[str], *, reason: str = "request", actor: str | None = None
) -> Erasure:
    """Erase the students ``pids`` from every row-level table, tombstone them, audit it, scrub the files.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The store (SQLite or PostgreSQL).
    pids : iterable of str
        Pseudonyms (``privacy.pseudonym.pseudonymise`` of the 学籍号 under the store's key). A pid the
        store does not hold is tombstoned all the same: a request may come before the student's file.
    reason : str
        A word for the audit row (``request``, ``withdrawal``, ``restore`` …); never a name.
    actor : str, optional
        Who erased (default: the operating-system user).

    Returns
    -------
    Erasure

    Examples
    --------
    >>> import datetime as dt
    >>> from psychanalytics import store
    >>> from psychanalytics.store import schema
    >>> engine = store.connect("sqlite://")
    >>> store.create_all(engine)
    >>> pid = "0" * 32
    >>> with engine.begin() as conn:
    ...     _ = store.upsert(conn, schema.student, [{"pid": pid, "gender": "F"}])
    ...     _ = store.upsert(conn, schema.consent, [{"pid": pid, "purpose": "screening",
    ...                      "guardian_consent": True, "granted_on": dt.date(2024, 9, 1)}])
    >>> done = forget(engine, [pid, "1" * 32], actor="doc")
    >>> done.found == (pid,), done.rows["student"], done.rows["consent"], done.scrub.complete
    (True, 1, 1, True)
    """
    unique = tuple(sorted(set(pids)))
    if not unique:
        raise ValueError("no students to erase: give at least one pseudonym")
    tables = student_tables()
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA secure_delete = ON")
        found = set()
        for chunk in _chunks(unique):
            found.update(conn.execute(sa.select(student.c.pid).where(student.c.pid.in_(chunk))).scalars())
        rows = dict.fromkeys((t.name for t in tables), 0)
        for table in tables:
            for chunk in _chunks(unique):
                rows[table.name] += conn.execute(table.delete().where(_rows_of(table, chunk))).rowcount
        seq = audit.append(
            conn,
            action="erasure",
            resource=f"students:{len(unique)}",
            detail={
                "pids": list(unique),
                "reason": reason,
                "rows": rows,
                "not_found": len(unique) - len(found),
            },
            actor=actor,
        )
        erased_at = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
        known = forgotten_pids(conn, unique)
        new = [{"pid": pid, "erased_at": erased_at, "audit_seq": seq} for pid in unique if pid not in known]
        if new:
            conn.execute(erasure.insert(), new)
        stale = mark_stale(conn, reason=f"erasure of {len(unique)} student(s), audit row {seq}")
    touched = [t.name for t in tables if rows[t.name]]
    return Erasure(unique, tuple(sorted(found)), rows, seq, tuple(stale), scrub(engine, touched))


def scrub(engine: sa.Engine, tables: Sequence[str] = ()) -> Scrub:
    """Make deleted rows unrecoverable from the store's files (see the module's notes).

    SQLite: ``VACUUM`` (temporary copy in memory, ``secure_delete`` on) and
    ``wal_checkpoint(TRUNCATE)``; incomplete when another connection keeps the log open (a dashboard
    reading): run it again once that connection has closed. PostgreSQL: ``VACUUM FULL`` of ``tables``
    and a ``CHECKPOINT`` (which needs the ``pg_checkpoint`` role or a superuser; without it the old
    images wait in WAL segments until the server recycles them).
    """
    if engine.dialect.name == "sqlite":
        return _scrub_sqlite(engine)
    return _scrub_postgresql(engine, tables)


def _scrub_sqlite(engine: sa.Engine) -> Scrub:
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.exec_driver_sql("PRAGMA secure_delete = ON")
        conn.exec_driver_sql("PRAGMA temp_store = MEMORY")
        try:
            conn.exec_driver_sql("VACUUM")
        except sa.exc.OperationalError as exc:
            return Scrub(
                False, (), f"VACUUM could not run ({exc.orig}): another connection is using the store"
            )
        finally:
            conn.exec_driver_sql("PRAGMA temp_store = DEFAULT")
        busy, _, _ = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
    if busy:
        return Scrub(
            False,
            ("secure_delete", "VACUUM"),
            "the write-ahead log could not be emptied: another connection is reading the store; "
            "run `psychanalytics forget --scrub-only` again when it has closed",
        )
    return Scrub(True, ("secure_delete", "VACUUM", "wal_checkpoint(TRUNCATE)"))


def _scrub_postgresql(engine: sa.Engine, tables: Sequence[str]) -> Scrub:
    steps = []
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        for name in tables:
            conn.execute(sa.text(f"VACUUM (FULL) {conn.dialect.identifier_preparer.quote(name)}"))
            steps.append(f"VACUUM FULL {name}")
        try:
            conn.exec_driver_sql("CHECKPOINT")
        except sa.exc.DBAPIError:
            return Scrub(
                False,
                tuple(steps),
                "CHECKPOINT needs the pg_checkpoint role or a superuser: the old row images wait in WAL "
                "segments until the server recycles them",
            )
        steps.append("CHECKPOINT")
    return Scrub(True, tuple(steps))


def erase_again(
    engine: sa.Engine, anchors: audit.AnchorFile, *, actor: str | None = None
) -> tuple[Erasure, ...]:
    """Erase again every student whose erasure is anchored for this store but who has no tombstone here.

    After a restore of a backup taken before some erasures: the anchor file (outside the database) keeps
    the pids of every erasure, sealed with the key, so a forged line cannot make anyone be erased.
    Returns the erasure done (none when nobody is missing).
    """
    with engine.connect() as conn:
        this_store = audit.store_id(conn)
        erased = {
            pid
            for anchor in anchors.read()
            if anchor.store == this_store and anchor.is_genuine(anchors.key)
            for pid in anchor.pids
        }
        missing = erased - forgotten_pids(conn, erased)
    if not missing:
        return ()
    done = forget(engine, missing, reason="restore", actor=actor)
    anchors.record(engine, pids=done.pids)
    return (done,)
