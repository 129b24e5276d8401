"""Append-only, hash-chained audit log (``audit_log`` table), and its anchors outside the database.

Each row stores the SHA-256 of the previous row's hash and its own canonical
content, so editing, deleting or reordering any row breaks :func:`verify`
(OWASP audit-logging pattern; docs/privacy.md §5). Details hold pids and
counts only — never names, student numbers or secrets. Records are kept at
least 3 years (PIPL Art. 55-56); nothing here deletes them.

A chain kept only inside the database can be rewritten whole by anyone who can
write to it, and its last rows removed without a trace. So the head is
**anchored** outside: an :class:`Anchor` names the store, a row's ``seq`` and
``row_hash``, and carries an HMAC under a key derived from the pseudonym key
(which lives outside the database). Anchors go to an append-only file
(:class:`AnchorFile`) and into every export manifest; :func:`check` verifies the
chain and every anchor: a chain rewritten whole, or cut short, no longer matches
its anchors, and an anchor cannot be forged without the key.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import sqlalchemy as sa

from psychanalytics.store.meta import get_meta, set_meta
from psychanalytics.store.schema import audit_log

GENESIS = "0" * 64
"""``prev_hash`` of the first row."""


def _row_hash(
    prev_hash: str, seq: int, at: dt.datetime, actor: str, action: str, resource: str, detail: str
) -> str:
    canonical = json.dumps(
        [prev_hash, seq, at.isoformat(), actor, action, resource, detail],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def append(
    conn: sa.Connection,
    *,
    action: str,
    resource: str,
    detail: Mapping | None = None,
    actor: str | None = None,
    at: dt.datetime | None = None,
) -> int:
    """Append one row inside the caller's transaction; return its ``seq``.

    ``actor`` defaults to the operating-system user; ``at`` to now (UTC, naive).

    Examples
    --------
    >>> from psychanalytics import store
    >>> engine = store.connect("sqlite://")
    >>> store.create_all(engine)
    >>> with engine.begin() as conn:
    ...     append(conn, action="import", resource="sha256:ab12", detail={"stored": 3}, actor="doc")
    ...     append(conn, action="export", resource="extract:1", detail={"rows": 3}, actor="doc")
    ...     verify(conn)
    1
    2
    []
    """
    _lock(conn)
    last = head(conn)
    seq, prev_hash = (1, GENESIS) if last is None else (last[0] + 1, last[1])
    at = (at or dt.datetime.now(dt.UTC)).replace(tzinfo=None, microsecond=0)
    actor = actor or getpass.getuser()
    text = json.dumps(dict(detail or {}), ensure_ascii=False, sort_keys=True, default=str)
    conn.execute(
        audit_log.insert().values(
            seq=seq,
            at=at,
            actor=actor,
            action=action,
            resource=resource,
            detail=text,
            prev_hash=prev_hash,
            row_hash=_row_hash(prev_hash, seq, at, actor, action, resource, text),
        )
    )
    return seq


def _lock(conn: sa.Connection) -> None:
    """Hold the log's write lock until the caller's transaction ends, so two writers (an export while an
    import runs) cannot both read the same head and write the same ``seq``.

    PostgreSQL: a table lock that conflicts with itself. SQLite: a write that changes nothing, which
    takes the database's write lock (a later writer waits for the busy timeout).
    """
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE")
    else:
        conn.execute(audit_log.update().where(sa.false()).values(seq=audit_log.c.seq))


def verify(conn: sa.Connection) -> list[int]:
    """Sequence numbers of rows whose chain does not verify (empty list: the log is intact).

    A row fails when its stored hash does not match its content, when its
    ``prev_hash`` is not the previous row's hash, or when a sequence number is
    missing before it.
    """
    return [seq for seq, _ in _chain_breaks(conn)]


def _chain_breaks(conn: sa.Connection) -> list[tuple[int, str]]:
    """``(seq, what is wrong)`` for every row whose chain does not verify, in seq order."""
    breaks, expected_prev, expected_seq = [], GENESIS, 1
    for row in conn.execute(sa.select(audit_log).order_by(audit_log.c.seq)):
        recomputed = _row_hash(
            row.prev_hash, row.seq, row.at, row.actor, row.action, row.resource, row.detail
        )
        if row.seq != expected_seq:
            breaks.append((row.seq, f"row {row.seq}: the row before it is missing (deleted)"))
        elif row.row_hash != recomputed:
            breaks.append((row.seq, f"row {row.seq}: its content does not match its hash (edited)"))
        elif row.prev_hash != expected_prev:
            breaks.append(
                (row.seq, f"row {row.seq}: it does not follow the row before it (reordered or replaced)")
            )
        expected_prev, expected_seq = row.row_hash, row.seq + 1
    return breaks


# --- anchors outside the database -------------------------------------------------------------

STORE_ID = "audit_store_id"
"""``store_meta`` name of the random id that tells one store's anchors from another's."""
_ANCHOR_LABEL = b"psychanalytics audit anchor v1"


def anchor_key(key: bytes) -> bytes:
    """The key anchors are sealed with: HMAC-SHA256 of a fixed label under the pseudonym key.

    A key of its own (derived, so nothing more to keep safe), so that an anchor's MAC is never a pid.
    """
    return hmac.digest(key, _ANCHOR_LABEL, "sha256")


@dataclass(frozen=True)
class Anchor:
    """The head of one store's audit chain, sealed with a MAC under the key that lives outside it.

    ``kind`` is ``"anchor"`` (the chain had this row at ``seq``) or ``"restore"`` (the store was restored
    from a backup whose chain ended at ``seq``: earlier anchors after ``seq`` belong to the abandoned
    history). ``pids`` are the pseudonyms an erasure removed, so that a restore of an older backup can
    erase them again.
    """

    store: str
    seq: int
    row_hash: str
    action: str
    at: str
    kind: str = "anchor"
    pids: tuple[str, ...] = ()
    mac: str = ""

    def _payload(self) -> bytes:
        fields = [self.store, self.seq, self.row_hash, self.action, self.at, self.kind, list(self.pids)]
        return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def sealed(self, key: bytes) -> Anchor:
        """This anchor with its MAC under ``key`` (the pseudonym key)."""
        return replace(self, mac=hmac.new(anchor_key(key), self._payload(), "sha256").hexdigest())

    def is_genuine(self, key: bytes) -> bool:
        """True when the MAC was made with ``key`` over exactly these fields."""
        return hmac.compare_digest(self.sealed(key).mac, self.mac)

    def as_dict(self) -> dict:
        """The anchor as JSON-ready values (what a manifest or the anchor file holds)."""
        return {**asdict(self), "pids": list(self.pids)}

    @classmethod
    def from_dict(cls, data: Mapping) -> Anchor:
        """The anchor written by :meth:`as_dict`."""
        return cls(**{**data, "pids": tuple(data.get("pids", ()))})


def head(conn: sa.Connection) -> tuple[int, str] | None:
    """``(seq, row_hash)`` of the last row of the log, or ``None`` when it is empty."""
    last = conn.execute(
        sa.select(audit_log.c.seq, audit_log.c.row_hash).order_by(audit_log.c.seq.desc()).limit(1)
    ).first()
    return None if last is None else (last.seq, last.row_hash)


def store_id(conn: sa.Connection, *, create: bool = False) -> str | None:
    """The store's random anchor id (``store_meta``); with ``create``, made on first use."""
    found = get_meta(conn, STORE_ID)
    if found is None and create:
        found = secrets.token_hex(16)
        set_meta(conn, STORE_ID, found)
    return found


def anchor_head(
    conn: sa.Connection, key: bytes, *, kind: str = "anchor", pids: Iterable[str] = ()
) -> Anchor | None:
    """A sealed anchor of the log's last row (``None`` for an empty log), inside the caller's transaction."""
    last = head(conn)
    if last is None:
        return None
    action = conn.execute(sa.select(audit_log.c.action).where(audit_log.c.seq == last[0])).scalar_one()
    at = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0).isoformat()
    anchor = Anchor(store_id(conn, create=True), last[0], last[1], action, at, kind, tuple(sorted(pids)))
    return anchor.sealed(key)


@dataclass(frozen=True)
class AnchorFile:
    """An append-only file of anchors (JSON lines, mode 0600) and the key that seals them.

    It lives outside the database, beside the pseudonym key (``PSYCHANALYTICS_ANCHOR_FILE``); each
    line is one :class:`Anchor`. Writing flushes and syncs the line before returning.
    """

    path: Path
    key: bytes = field(repr=False)

    def record(self, engine: sa.Engine, *, kind: str = "anchor", pids: Iterable[str] = ()) -> Anchor | None:
        """Anchor the head of ``engine``'s log here; return the anchor (``None`` for an empty log)."""
        with engine.begin() as conn:
            anchor = anchor_head(conn, self.key, kind=kind, pids=pids)
        if anchor is not None:
            self.append(anchor)
        return anchor

    def append(self, anchor: Anchor) -> None:
        """Add one anchor as a line at the end of the file (created mode 0600)."""
        path = Path(self.path).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(anchor.as_dict(), ensure_ascii=False, separators=(",", ":")) + "\n"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())

    def read(self) -> list[Anchor]:
        """Every anchor in the file, in file order (an empty list when there is no file).

        Raises
        ------
        ValueError
            A line that is not an anchor (the message names the line).
        """
        path = Path(self.path).expanduser()
        if not path.exists():
            return []
        anchors = []
        for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                anchors.append(Anchor.from_dict(json.loads(line)))
            except (ValueError, TypeError) as exc:
                raise ValueError(f"{path}, line {number}: not an audit anchor ({exc})") from None
        return anchors


@dataclass(frozen=True)
class Verification:
    """What :func:`check` found: the chain (``broken``: seqs whose chain fails) and the anchors.

    ``problems`` are ``(seq, message)`` pairs in seq order, chain and anchors together: the first
    names the first broken row. ``anchors_checked`` counts the anchors of this store that were
    compared; ``anchors_superseded`` those a later restore made part of an abandoned history.
    """

    rows: int
    broken: tuple[int, ...]
    anchors_checked: int
    anchors_superseded: int
    problems: tuple[tuple[int, str], ...]

    @property
    def ok(self) -> bool:
        """True when the chain and every anchor verify."""
        return not self.problems


def _current(anchors: Sequence[Anchor]) -> tuple[list[Anchor], int]:
    """The anchors still on the store's history, and how many a later restore superseded."""
    current, superseded = [], 0
    for anchor in anchors:
        if anchor.kind == "restore":
            kept = [a for a in current if a.seq <= anchor.seq]
            superseded += len(current) - len(kept)
            current = kept
        current.append(anchor)
    return current, superseded


def check(conn: sa.Connection, *, key: bytes | None = None, anchors: Sequence[Anchor] = ()) -> Verification:
    """Verify the chain and, with ``key``, every anchor of this store among ``anchors``.

    An anchor fails when its MAC is not the key's (forged or edited), when its row is missing (the log
    was cut short) or when the row's hash differs (the chain was rewritten). Anchors of other stores
    are ignored; a store that was anchored (it has a :data:`STORE_ID`) but has none among ``anchors``
    fails too (the anchors were lost or withheld).

    Examples
    --------
    >>> from psychanalytics import store
    >>> engine = store.connect("sqlite://")
    >>> store.create_all(engine)
    >>> key = b"k" * 32
    >>> with engine.begin() as conn:
    ...     _ = append(conn, action="export", resource="extract:1", actor="doc")
    ...     anchor = anchor_head(conn, key)
    ...     check(conn, key=key, anchors=[anchor]).ok
    ...     _ = conn.execute(audit_log.update().values(actor="someone else"))
    ...     check(conn, key=key, anchors=[anchor]).problems[0]
    True
    (1, 'row 1: its content does not match its hash (edited)')
    """
    breaks = _chain_breaks(conn)
    rows = {r.seq: r.row_hash for r in conn.execute(sa.select(audit_log.c.seq, audit_log.c.row_hash))}
    problems = list(breaks)
    checked = superseded = 0
    if key is not None:
        this_store = store_id(conn)
        mine = [a for a in anchors if a.store == this_store]
        current, superseded = _current(mine)
        last = max(rows, default=0)
        for anchor in current:
            checked += 1
            if not anchor.is_genuine(key):
                problems.append(
                    (
                        anchor.seq,
                        f"anchor of row {anchor.seq} made {anchor.at}: its MAC is not this key's (forged or edited)",
                    )
                )
            elif anchor.seq not in rows:
                problems.append(
                    (
                        anchor.seq,
                        f"row {anchor.seq}, anchored {anchor.at}, is missing: the log ends at row {last} (rows removed)",
                    )
                )
            elif rows[anchor.seq] != anchor.row_hash:
                problems.append(
                    (
                        anchor.seq,
                        f"row {anchor.seq} differs from its anchor made {anchor.at} (the chain was rewritten)",
                    )
                )
        if this_store is not None and not mine:
            problems.append(
                (
                    0,
                    f"this store was anchored (id {this_store}) but none of its anchors was given: the anchor file was lost or withheld",
                )
            )
    broken = tuple(seq for seq, _ in breaks)
    return Verification(len(rows), broken, checked, superseded, tuple(sorted(problems)))
