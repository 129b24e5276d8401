"""Store metadata (``store_meta``): small named values that describe the database itself."""

from __future__ import annotations

import sqlalchemy as sa

from psychanalytics.store.schema import store_meta
from psychanalytics.store.writes import upsert

PSEUDONYM_KEY = "pseudonym_key_fingerprint"
"""Name of the fingerprint of the key the database's pids were made with."""


def get_meta(conn: sa.Connection, name: str) -> str | None:
    """The value stored under ``name``, or ``None``.

    >>> from psychanalytics import store
    >>> engine = store.connect("sqlite://")
    >>> store.create_all(engine)
    >>> with engine.begin() as conn:
    ...     set_meta(conn, "example", "1")
    ...     get_meta(conn, "example"), get_meta(conn, "missing")
    ('1', None)
    """
    return conn.execute(sa.select(store_meta.c.value).where(store_meta.c.name == name)).scalar_one_or_none()


def set_meta(conn: sa.Connection, name: str, value: str) -> None:
    """Store ``value`` under ``name`` (replacing an earlier value)."""
    upsert(conn, store_meta, [{"name": name, "value": value}])
