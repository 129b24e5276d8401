"""Schema revisions of the store (Alembic), and the upgrade of an existing store.

Each change of :mod:`psychanalytics.store.schema` comes with a revision in ``versions/``; ``0001``
(:data:`BASELINE`) is the schema as it was before versioning, so a store without a version table is
recognised as it. :func:`psychanalytics.store.create_all` creates the head's schema and stamps it;
:func:`upgrade` (``psychanalytics upgrade --db …``) brings an existing store to the head; every other
way into a store (:func:`psychanalytics.store.connect_existing`) refuses one that is not at the head.
Alembic is configured in code: an installed package needs no ``alembic.ini`` (DESIGN.md, decision 21).

Examples
--------
>>> from psychanalytics import store
>>> from psychanalytics.store import migrations
>>> engine = store.connect("sqlite://")
>>> store.create_all(engine)
>>> with engine.connect() as conn:
...     migrations.current(conn) == migrations.head()
True
"""

from psychanalytics.store.engine import StoreVersionError
from psychanalytics.store.migrations._runner import (
    BASELINE,
    Migration,
    config,
    current,
    downgrade,
    head,
    migration_connection,
    require_head,
    stamp,
    upgrade,
)

__all__ = [
    "BASELINE",
    "Migration",
    "StoreVersionError",
    "config",
    "current",
    "downgrade",
    "head",
    "migration_connection",
    "require_head",
    "stamp",
    "upgrade",
]
