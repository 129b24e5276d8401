"""The published mart: suppressed aggregates for leaders, in a database that holds nothing else.

Leaders' pages and reports never read the row-level store. ``psychanalytics
publish --db STORE --mart MART`` counts every registered table from the store,
passes it through the one leader-output policy
(:func:`psychanalytics.privacy.leader_view`), and writes the protected frames
to a SQLite file (or a PostgreSQL schema reached through a ``SELECT``-only
role) with a manifest: the data snapshot, the scoring-spec versions, the rule
and threshold, the audit anchor. A dashboard kernel opens the mart only
(:class:`Mart`), so it never holds a connection to student-level rows.

Each page's tables live in a module of their own (:mod:`.overview`, ...),
registered in :data:`TABLES` when first needed (publishing, listing): a page's
kernel that only reads the mart does not load what the tables are counted with.

Examples
--------
>>> from psychanalytics import mart
>>> {"screened_per_wave", "phq9_bands_per_wave", "staffing_coverage"} <= set(mart.TABLES)
True
"""

from psychanalytics.mart._publish import (
    MANIFEST_TABLE,
    READER_ROLE,
    ROW_COLUMN,
    RULE,
    Publication,
    build_tables,
    mart_beside,
    publish,
    publish_beside,
)
from psychanalytics.mart._read import Mart, MartNotFoundError, open_mart
from psychanalytics.mart._registry import TABLE_MODULES, MartTable, register, registered
from psychanalytics.privacy.linked import Population

__all__ = [
    "MANIFEST_TABLE",
    "READER_ROLE",
    "ROW_COLUMN",
    "RULE",
    "TABLES",
    "Mart",
    "MartNotFoundError",
    "MartTable",
    "Population",
    "Publication",
    "build_tables",
    "mart_beside",
    "open_mart",
    "publish",
    "publish_beside",
    "register",
    "registered",
]


def __getattr__(name: str):
    import importlib

    if name == "TABLES":
        return registered()
    if name in TABLE_MODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
