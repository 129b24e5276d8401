"""The store: engines for SQLite (default) and PostgreSQL, schema creation, item packing.

Only :mod:`psychanalytics.store` and :mod:`psychanalytics.ingest` touch databases.

Examples
--------
>>> import numpy as np
>>> from psychanalytics import store
>>> engine = store.connect("sqlite://")          # in-memory, for the example
>>> store.create_all(engine)
>>> sorted(store.table_counts(engine))[:3]
['activity', 'archive_category', 'archive_transfer']
>>> store.unpack_items([store.pack_items(np.array([1, 0, np.nan]))], 3)
array([[ 1.,  0., nan]])
"""

from psychanalytics.store.backup import Backup, BackupError, Restored, backup, restore
from psychanalytics.store.engine import (
    StoreNotFoundError,
    StoreVersionError,
    connect,
    connect_existing,
    create_all,
    refresh_statistics,
    resolve_url,
    table_counts,
)
from psychanalytics.store.erasure import Erasure, erase_again, forget, forgotten_pids, scrub
from psychanalytics.store.meta import PSEUDONYM_KEY, get_meta, set_meta
from psychanalytics.store.packing import MISSING_CODE, pack_items, pack_matrix, unpack_items
from psychanalytics.store.reads import list_waves, load_items, load_participants, load_scores, read_frame
from psychanalytics.store.releases import list_releases, mark_stale, register_release
from psychanalytics.store.schema import metadata
from psychanalytics.store.writes import bulk_insert, scores_to_rows, upsert, write_responses, write_scores

__all__ = [
    "MISSING_CODE",
    "PSEUDONYM_KEY",
    "Backup",
    "BackupError",
    "Erasure",
    "Restored",
    "StoreNotFoundError",
    "StoreVersionError",
    "backup",
    "bulk_insert",
    "connect",
    "connect_existing",
    "create_all",
    "erase_again",
    "forget",
    "forgotten_pids",
    "get_meta",
    "list_releases",
    "list_waves",
    "load_items",
    "load_participants",
    "load_scores",
    "mark_stale",
    "metadata",
    "pack_items",
    "pack_matrix",
    "read_frame",
    "refresh_statistics",
    "register_release",
    "resolve_url",
    "restore",
    "scores_to_rows",
    "scrub",
    "set_meta",
    "table_counts",
    "unpack_items",
    "upsert",
    "write_responses",
    "write_scores",
]
