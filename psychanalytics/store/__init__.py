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
from psychanalytics.store.meta import PSEUDONYM_KEY, get_meta, set_meta
from psychanalytics.store.packing import MISSING_CODE, pack_items, pack_matrix, unpack_items
from psychanalytics.store.reads import list_waves, load_items, load_participants, load_scores, read_frame
from psychanalytics.store.schema import metadata
from psychanalytics.store.writes import bulk_insert, scores_to_rows, upsert, write_responses, write_scores

__all__ = [
    "MISSING_CODE",
    "PSEUDONYM_KEY",
    "StoreNotFoundError",
    "StoreVersionError",
    "bulk_insert",
    "connect",
    "connect_existing",
    "create_all",
    "get_meta",
    "list_waves",
    "load_items",
    "load_participants",
    "load_scores",
    "metadata",
    "pack_items",
    "pack_matrix",
    "read_frame",
    "refresh_statistics",
    "resolve_url",
    "scores_to_rows",
    "set_meta",
    "table_counts",
    "unpack_items",
    "upsert",
    "write_responses",
    "write_scores",
]
