"""The tables a mart holds: each a store query and the leader-output policy it is published under."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import pandas as pd
import sqlalchemy as sa

from psychanalytics.privacy import LeaderView, leader_view
from psychanalytics.privacy.linked import Population


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
        (``by``, ``unit``, ``labels``, ``estimates``, ``hide_uniform``), or, for
        a table holding no number of people at all (targets, institutional
        facts), ``None`` with ``no_people`` saying why. A table of students with
        ``by`` hides groups whose students all share one cell
        (``hide_uniform=True``) unless its policy says ``hide_uniform: False``
        (parts that say nothing about a student, e.g. schools by stage).
    headline : callable, optional
        ``headline(frame) -> Series of bool``: the rows the table's headline sums
        in each group (published as ``<name>__headline``).
    no_people : str
        Why a table with ``policy=None`` holds no number of people.
    population : mapping, optional
        What the table's ``count`` and ``n`` count, ``{"count": Population,
        "n": Population}`` (:class:`~psychanalytics.privacy.linked.Population`:
        a universe and the label columns naming the row's cell in it). Tables
        that declare the same universe are linked when published: a cell
        hidden in one is hidden in all, and no hidden cell can be worked out by
        subtracting cells of any of them (:func:`~psychanalytics.privacy.linked.suppress_linked`).
        Without it the table is linked within itself only (its ``count`` cells
        are the parts of its ``n`` by ``by``).
    """

    name: str
    title_zh: str
    title_en: str
    build: Callable[[sa.Engine], pd.DataFrame]
    policy: Mapping | None = field(default_factory=dict)
    headline: Callable[[pd.DataFrame], pd.Series] | None = None
    no_people: str = ""
    population: Mapping[str, Population] | None = None

    def __post_init__(self):
        if not self.name.replace("_", "").isalnum() or not self.name.islower() or "__" in self.name:
            raise ValueError(
                f"mart table name must be lower-case letters, digits and single underscores: {self.name!r}"
            )
        if self.policy is None and not self.no_people:
            raise ValueError(
                f"mart table {self.name}: a table published without the policy must say why (no_people=)"
            )
        unknown = set(self.population or {}) - {"count", "n"}
        if unknown:
            raise ValueError(
                f"mart table {self.name}: population declares {sorted(unknown)}; only count and n"
            )

    def view(self, frame: pd.DataFrame, *, min_cell: int) -> LeaderView | None:
        """The leader view of ``frame`` under this table's policy (``None`` for a table without people)."""
        if self.policy is None:
            return None
        headline = None if self.headline is None else self.headline(frame)
        return leader_view(frame, headline=headline, min_cell=min_cell, **self.view_options)

    @property
    def view_options(self) -> dict:
        """The keyword arguments of :func:`~psychanalytics.privacy.leader_view` this table is published with."""
        if self.policy is None:
            return {}
        options = dict(self.policy)
        if options.get("by") and options.get("unit", "student") == "student":
            options.setdefault("hide_uniform", True)
        return options


def sheets(instrument: str, *dimensions: str, **given) -> Population:
    """Students who handed in a sheet of ``instrument`` in a wave (one each), named by ``dimensions``.

    One universe for every table counting them, so the tables are linked as
    sums (:func:`~psychanalytics.privacy.linked.suppress_linked`): valid
    sheets carry ``sheet="valid"`` (the banded ones; ``band`` and ``result``
    cut them), invalid ones ``sheet="invalid"``; a cell without ``sheet``
    counts both.

    Examples
    --------
    >>> sheets("phq9", "wave_id", "band", sheet="valid")
    Population(universe='phq9 sheets', dimensions=('wave_id', 'band'), given=(('sheet', 'valid'),))
    """
    return Population(f"{instrument} sheets", dimensions, given)


_TABLES: dict[str, MartTable] = {}
TABLES: Mapping[str, MartTable] = MappingProxyType(_TABLES)
"""Every registered mart table by name (read-only; :func:`register` adds one)."""


TABLE_MODULES = ("overview", "screening", "staffing", "plan", "crisis", "outcomes")
"""The modules of :mod:`psychanalytics.mart` that register tables, one per page."""


def registered() -> Mapping[str, MartTable]:
    """:data:`TABLES` with every page's module imported (so every table registered).

    The modules are imported here, on first need (publishing, listing), not with the package: a page's
    kernel reads the mart and should not load the libraries every other page's tables are counted with.
    """
    import importlib

    for module in TABLE_MODULES:
        importlib.import_module(f"psychanalytics.mart.{module}")
    return TABLES


def register(table: MartTable) -> MartTable:
    """Add ``table`` to :data:`TABLES` (a second table of the same name is refused); return it."""
    if table.name in _TABLES:
        raise ValueError(f"mart table {table.name!r} is registered twice")
    _TABLES[table.name] = table
    return table
