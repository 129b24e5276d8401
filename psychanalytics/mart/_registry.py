"""The tables a mart holds: each a store query and the leader-output policy it is published under."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import pandas as pd
import sqlalchemy as sa

from psychanalytics.privacy import LeaderView, leader_view


@dataclass(frozen=True)
class MartTable:
    """One published table: how to count it from the store and how the policy protects it.

    Attributes
    ----------
    name : str
        The table's name in the mart (``[a-z0-9_]``).
    title_zh, title_en : str
        What it holds, for the mart's own list of tables.
    build : callable
        ``build(engine) -> DataFrame`` of counts from the row-level store
        (``count``, ``n``, label columns, estimates), as
        :func:`~psychanalytics.privacy.leader_view` takes them.
    policy : mapping
        Keyword arguments of :func:`~psychanalytics.privacy.leader_view`
        (``by``, ``unit``, ``labels``, ``estimates``), or, for a table holding no
        number of people at all (targets, institutional facts), ``None`` with
        ``no_people`` saying why.
    headline : callable, optional
        ``headline(frame) -> Series of bool``: the rows the table's headline sums
        in each group (published as ``<name>__headline``).
    """

    name: str
    title_zh: str
    title_en: str
    build: Callable[[sa.Engine], pd.DataFrame]
    policy: Mapping | None = field(default_factory=dict)
    headline: Callable[[pd.DataFrame], pd.Series] | None = None
    no_people: str = ""

    def __post_init__(self):
        if not self.name.replace("_", "").isalnum() or not self.name.islower() or "__" in self.name:
            raise ValueError(
                f"mart table name must be lower-case letters, digits and single underscores: {self.name!r}"
            )
        if self.policy is None and not self.no_people:
            raise ValueError(
                f"mart table {self.name}: a table published without the policy must say why (no_people=)"
            )

    def view(self, frame: pd.DataFrame, *, min_cell: int) -> LeaderView | None:
        """The leader view of ``frame`` under this table's policy (``None`` for a table without people)."""
        if self.policy is None:
            return None
        headline = None if self.headline is None else self.headline(frame)
        return leader_view(frame, headline=headline, min_cell=min_cell, **self.policy)


_TABLES: dict[str, MartTable] = {}
TABLES: Mapping[str, MartTable] = MappingProxyType(_TABLES)
"""Every registered mart table by name (read-only; :func:`register` adds one)."""


def register(table: MartTable) -> MartTable:
    """Add ``table`` to :data:`TABLES` (a second table of the same name is refused); return it."""
    if table.name in _TABLES:
        raise ValueError(f"mart table {table.name!r} is registered twice")
    _TABLES[table.name] = table
    return table
