"""Append-only, hash-chained audit log (``audit_log`` table).

Each row stores the SHA-256 of the previous row's hash and its own canonical
content, so editing, deleting or reordering any row breaks :func:`verify`
(OWASP audit-logging pattern; docs/privacy.md §5). Details hold pids and
counts only — never names, student numbers or secrets. Records are kept at
least 3 years (PIPL Art. 55-56); nothing here deletes them.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
from collections.abc import Mapping

import sqlalchemy as sa

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
    last = conn.execute(
        sa.select(audit_log.c.seq, audit_log.c.row_hash).order_by(audit_log.c.seq.desc()).limit(1)
    ).first()
    seq, prev_hash = (1, GENESIS) if last is None else (last.seq + 1, last.row_hash)
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


def verify(conn: sa.Connection) -> list[int]:
    """Sequence numbers of rows whose chain does not verify (empty list: the log is intact).

    A row fails when its stored hash does not match its content, when its
    ``prev_hash`` is not the previous row's hash, or when a sequence number is
    missing before it.
    """
    broken, expected_prev, expected_seq = [], GENESIS, 1
    for row in conn.execute(sa.select(audit_log).order_by(audit_log.c.seq)):
        recomputed = _row_hash(
            row.prev_hash, row.seq, row.at, row.actor, row.action, row.resource, row.detail
        )
        if row.seq != expected_seq or row.prev_hash != expected_prev or row.row_hash != recomputed:
            broken.append(row.seq)
        expected_prev, expected_seq = row.row_hash, row.seq + 1
    return broken
