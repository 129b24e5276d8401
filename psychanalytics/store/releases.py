"""The register of data releases (``data_release``): what left the store, and whether it is out of date.

Research extracts, published marts and backups are copies of the store's data made at one moment. Each
is registered when it is built, with the audit row that records it; an erasure afterwards marks every
copy built before it as stale (the copy still holds the erased students), so a privacy report can say
which extracts must be replaced and which marts rebuilt (docs/privacy.md §3; PIPL Art. 47).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import sqlalchemy as sa

from psychanalytics.store.reads import read_frame
from psychanalytics.store.schema import RELEASE_KINDS, data_release


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def register_release(
    conn: sa.Connection, *, kind: str, name: str, audit_seq: int, project: str | None = None
) -> int:
    """Record a release built now (inside the caller's transaction, with its audit row); return its id.

    ``kind`` is one of ``extract``, ``mart``, ``backup``; ``name`` is the file name or the URL without
    its password.

    Examples
    --------
    >>> from psychanalytics import store
    >>> engine = store.connect("sqlite://")
    >>> store.create_all(engine)
    >>> with engine.begin() as conn:
    ...     register_release(conn, kind="mart", name="mart.sqlite", audit_seq=1)
    ...     mark_stale(conn, reason="erasure (audit row 2)")
    1
    [1]
    """
    if kind not in RELEASE_KINDS:
        raise ValueError(f"kind must be one of {RELEASE_KINDS}, got {kind!r}")
    return conn.execute(
        data_release.insert()
        .values(kind=kind, name=name, project=project, built_at=_now(), audit_seq=audit_seq)
        .returning(data_release.c.release_id)
    ).scalar_one()


def mark_stale(conn: sa.Connection, *, reason: str) -> list[int]:
    """Mark every release not yet stale as stale since now, for ``reason``; return their ids."""
    ids = (
        conn.execute(
            sa.select(data_release.c.release_id)
            .where(data_release.c.stale_since.is_(None))
            .order_by(data_release.c.release_id)
        )
        .scalars()
        .all()
    )
    if ids:
        conn.execute(
            data_release.update()
            .where(data_release.c.release_id.in_(ids))
            .values(stale_since=_now(), stale_reason=reason)
        )
    return list(ids)


def list_releases(engine: sa.Engine) -> pd.DataFrame:
    """Every registered release in the order built, with ``stale_since`` and ``stale_reason``."""
    return read_frame(engine, sa.select(data_release).order_by(data_release.c.release_id))
