"""Suppression across every table published together: one population, one fate.

:func:`~psychanalytics.privacy.leader_view` protects one table. A mart
publishes many, and the same students are counted in several of them: a
wave's total is the ``n`` of its band table and, again, a margin of the
(wave, grade) table; a (wave, grade) cell is the sum of the (wave, grade,
gender) cells of another. Hidden in one table and shown in another, a cell is
simply read off; hidden everywhere but shown as a difference of published
cells, it is recovered by subtraction (CDC WONDER's totals, NCES's
"differencing"). :func:`suppress_linked` closes both doors for a whole
publication.

**Model.** Each table declares what its ``count`` and ``n`` count
(:class:`Population`: a universe, such as "banded PHQ-9 totals", and the
label columns naming the row's cell in it). A *cell* is a universe and the
values of its dimensions; the same cell in two tables is one variable, and
its values must agree (a declaration that says otherwise is refused). For
every two dimension sets of one universe, one inside the other, each coarse
cell equals the sum of the finer cells inside it; when the finer table does
not list every part (a filter shows the urban schools only), the
difference is a *remainder*: a population nobody published, but anyone can
compute.

**Rule.** The attacker is assumed to know, of each hidden cell, whether it
is small (below ``min_cell``: between 0 and ``min_cell - 1``) or was hidden
to protect another (``min_cell`` or more), as the markers 「<10」 and 「*」
say. For every relation ``total = sum of parts`` the unknowns are its hidden
cells (and remainder); the rule holds when

* no relation has exactly one unknown that needs protection (every hidden
  published cell, and a remainder of fewer than ``min_cell`` students);
* a relation with two or more unknowns tells no more of a small one than
  its marker does: the known difference lies at least ``min_cell - 1`` above
  the smallest and below the largest sum their bounds allow, so that, as far
  as this relation goes, each small cell may still be anything from 0 to
  ``min_cell - 1`` ("10 = a small cell + a cell of 10 or more" would pin
  both; "11 = two small cells" would say neither is empty);
* a cell hidden anywhere is hidden everywhere.

Where a relation breaks the rule, a shown cell of it is hidden too: the one
published in fewest places (a cell that is the ``n`` of many rows costs
them all), then a part before the total, then the smallest (one larger than
``min_cell`` first when the difference is too close to the smallest sum,
since hiding a part of exactly ``min_cell`` does not widen anything); every relation touching a newly hidden cell is checked again,
until nothing changes (a fixpoint: each step hides one more cell, so it
ends).

**Audit.** The rule is checked relation by relation, and several relations
together (a two-way table with both margins, margins of three tables) can
still pin a cell no single one does. So the pass then audits the whole
publication as an attacker would: for every hidden cell that needs
protection, its smallest and largest value under all relations at once and
the markers' bounds, by linear programming (scipy's HiGHS); a cell whose
range holds a single whole number gets a shown neighbour hidden, and the
relation rule and the audit run again until the audit finds nothing.

**Limits** (docs/privacy.md §2). The audit looks for cells fixed to one
value; it does not enforce a protection interval: the whole system may still
narrow a small cell to less than ``0 … min_cell - 1`` (say "1 to 9": not
empty). It solves the linear relaxation, not the integer problem (an integer
attacker can do a little better). It runs only when at most
:data:`AUDIT_LIMIT` cells are hidden (the manifest says whether it ran).
Remainders are modelled for each pair of dimension sets on its own. Cells no
table declares are linked within their own table only; a table lists the
bands seen in the data, so a band nobody fell in is known to be empty.
Counts of schools (``unit="school"``) are institutional facts and not linked.
R ``sdcTable`` and τ-ARGUS solve the optimal (least-suppression) problem;
this pass is greedy, and may hide more than they would.

Examples
--------
A wave's total hidden in one table (its band table showed a group of 12
whose students all share one band) and shown in another:

>>> import pandas as pd
>>> from psychanalytics.privacy.linked import LinkedTable, Population, suppress_linked
>>> per_wave = pd.DataFrame({"wave_id": ["W1", "W2"], "count": [12, 400], "n": [12, 400]})
>>> shown = per_wave.assign(suppressed=False, marker="")
>>> hidden = shown.assign(n=pd.array([pd.NA, 400], dtype="Int64"))
>>> screened = Population("phq9", ("wave_id",))
>>> out = suppress_linked(
...     [LinkedTable("a", hidden, per_wave, {"n": screened}),
...      LinkedTable("b", shown, per_wave, {"count": screened})], min_cell=10)
>>> out["b"]["count"].tolist(), out["b"]["marker"].tolist()
([<NA>, 400], ['*', ''])
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from psychanalytics.privacy.policy import ESTIMATES, PROTECTED_MARKER

__all__ = ["COUNT_COLUMNS", "LinkedTable", "Population", "Relation", "cell_relations", "suppress_linked"]

COUNT_COLUMNS = ("count", "n")
"""The columns of a published table that hold numbers of people."""


@dataclass(frozen=True)
class Population:
    """What a column of counts counts: a universe of students and the columns naming the row's cell in it.

    Attributes
    ----------
    universe : str
        The students counted, in words precise enough that two tables with
        the same universe and dimension values count the same students
        (``"phq9.total banded"``: students with a banded PHQ-9 total score in
        a wave; ``"enrolled"``: distinct students enrolled in a school year).
    dimensions : tuple of str
        The label columns that name the row's cell within the universe
        (``("wave_id", "grade", "band")``). Name every dimension the row lies
        inside: a school's row also names its ``stage`` when another table
        counts by stage.
    given : mapping or tuple of (str, value) pairs
        Dimensions every row of the table shares, with their value, for a
        table that counts one part of the universe only and has no column
        saying so (a table of invalid sheets: ``{"sheet": "invalid"}``). The
        cell's key holds them as it holds a column's value, so the table's
        cells are parts of the coarser cells of other tables.

    Examples
    --------
    >>> Population("phq9.total banded", ("wave_id", "band")).dimensions
    ('wave_id', 'band')
    >>> Population("phq9 sheets", ("wave_id",), given={"sheet": "invalid"}).given
    (('sheet', 'invalid'),)
    """

    universe: str
    dimensions: tuple[str, ...]
    given: tuple[tuple[str, Hashable], ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "dimensions", tuple(self.dimensions))
        given = self.given.items() if isinstance(self.given, Mapping) else self.given
        object.__setattr__(self, "given", tuple(sorted((str(d), v) for d, v in given)))
        names = [*self.dimensions, *(d for d, _ in self.given)]
        if len(set(names)) != len(names):
            raise ValueError(f"Population {self.universe!r}: a dimension is named twice in {names}")


@dataclass
class LinkedTable:
    """One published frame and what its counts count, as :func:`suppress_linked` takes it.

    Attributes
    ----------
    name : str
        The frame's name in the publication.
    cells : pandas.DataFrame
        The protected frame (``count``, ``n``, ``suppressed``, ``marker``,
        estimates, labels) as :func:`~psychanalytics.privacy.leader_view` made it.
    truth : pandas.DataFrame
        The same rows before protection (same index, same order): the true
        ``count`` and ``n``.
    populations : mapping
        ``{"count": Population, "n": Population}`` (either may be missing:
        that column is then not linked).
    estimates : sequence of str
        Columns computed from a row's ``count`` and ``n``, blanked with either.
    sums : sequence of (Population, mapping, str, Series)
        Extra relations of a headline frame: for the rows of ``truth`` the
        headline frame's ``count`` is the sum of the rows of another frame
        where the boolean Series is true, per group. Given by
        ``(population of the parts, their frame's truth, frame name, mask)``;
        see :func:`psychanalytics.mart.build_tables`.
    """

    name: str
    cells: pd.DataFrame
    truth: pd.DataFrame
    populations: Mapping[str, Population]
    estimates: Sequence[str] = ()
    sums: Sequence[tuple] = field(default_factory=tuple)


@dataclass(frozen=True)
class Relation:
    """``total = sum(parts)`` between cells (keys), as :func:`cell_relations` finds them."""

    total: Hashable
    parts: tuple[Hashable, ...]


def _value(value: object) -> object:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def cell_key(population: Population, row: Mapping) -> tuple:
    """The key of the cell ``row`` counts in ``population``: ``(universe, ((dimension, value), ...))``."""
    items = [*((d, _value(row[d])) for d in population.dimensions), *population.given]
    return (population.universe, tuple(sorted(items)))


def _check(table: LinkedTable) -> None:
    if not table.cells.index.equals(table.truth.index):
        raise ValueError(f"suppress_linked: {table.name}: cells and truth must have the same rows (index)")
    for column, population in table.populations.items():
        if column not in COUNT_COLUMNS:
            raise ValueError(
                f"suppress_linked: {table.name}: only {COUNT_COLUMNS} are linked, not {column!r}"
            )
        missing = [d for d in population.dimensions if d not in table.truth.columns]
        if missing:
            raise ValueError(
                f"suppress_linked: {table.name}: the population of {column!r} names column(s) {missing} the "
                f"table does not have ({list(table.truth.columns)})"
            )


def _occurrences(tables: Sequence[LinkedTable]):
    """Every linked cell: its true value, where it appears, and whether it is hidden anywhere."""
    values: dict[Hashable, int] = {}
    where: dict[Hashable, list] = defaultdict(list)
    hidden: set = set()
    seen_in: dict[Hashable, str] = {}
    for table in tables:
        _check(table)
        for column, population in table.populations.items():
            rows = table.truth[list(population.dimensions)].to_dict("records")
            shown = table.cells[column].notna().to_numpy()
            for position, (label, row) in enumerate(zip(table.truth.index, rows, strict=True)):
                key = cell_key(population, row)
                value = int(table.truth.at[label, column])
                if key in values and values[key] != value:
                    raise ValueError(
                        f"suppress_linked: the cell {key} is {values[key]} in {seen_in[key]} but {value} in "
                        f"{table.name}: two tables declare the same population for different numbers"
                    )
                values[key] = value
                seen_in.setdefault(key, table.name)
                where[key].append((table.name, label, column))
                if not shown[position]:
                    hidden.add(key)
    return values, where, hidden


def cell_relations(values: Mapping[Hashable, int]) -> tuple[list[Relation], dict[Hashable, int]]:
    """Every ``coarse = sum(finer)`` relation among the cells ``values`` (key → true count).

    For two dimension sets of one universe, one strictly inside the other,
    each coarse cell is related to the finer cells that agree with it on its
    dimensions. Where the finer cells add up to less than the coarse one, a
    remainder cell (key ``("remainder", coarse, finer dimensions)``) closes
    the sum; more than the coarse cell is refused (the populations are
    declared wrongly).

    Returns
    -------
    relations : list of Relation
    remainders : dict
        The remainder cells and their values.
    """
    by_universe: dict[str, dict[tuple, list]] = defaultdict(lambda: defaultdict(list))
    for key in values:
        universe, items = key
        by_universe[universe][tuple(d for d, _ in items)].append(key)
    relations, remainders = [], {}
    for universe, sets in by_universe.items():
        for coarse_dims, coarse_keys in sets.items():
            for fine_dims, fine_keys in sets.items():
                if not set(coarse_dims) < set(fine_dims):
                    continue
                inside = defaultdict(list)
                for key in fine_keys:
                    inside[tuple(item for item in key[1] if item[0] in coarse_dims)].append(key)
                for coarse in coarse_keys:
                    parts = inside.get(coarse[1])
                    if not parts:
                        continue
                    rest = values[coarse] - sum(values[p] for p in parts)
                    if rest < 0:
                        raise ValueError(
                            f"suppress_linked: the cells {fine_dims} of {universe!r} inside {coarse[1]} add up to "
                            f"more than its {values[coarse]}: the tables' populations are declared wrongly"
                        )
                    if rest > 0:
                        remainder = ("remainder", coarse, fine_dims)
                        remainders[remainder] = rest
                        parts = [*parts, remainder]
                    relations.append(Relation(coarse, tuple(parts)))
    return relations, remainders


def _sum_relations(tables: Sequence[LinkedTable]) -> list[Relation]:
    """The headline relations: a headline cell is the sum of the masked parts of its group."""
    out = []
    for table in tables:
        for parts_population, parts_truth, _, mask in table.sums:
            total_population = table.populations["count"]
            chosen = parts_truth.loc[mask.to_numpy(dtype=bool)]
            grouped = defaultdict(list)
            for _, row in chosen.iterrows():
                grouped[cell_key(total_population, row)[1]].append(cell_key(parts_population, row))
            for _, row in table.truth.iterrows():
                key = cell_key(total_population, row)
                out.append(Relation(key, tuple(grouped.get(key[1], ()))))
    return out


def _bounds(value: int, min_cell: int) -> tuple[float, float]:
    """What the markers tell of a hidden cell: small ``[0, min_cell - 1]``, else ``[min_cell, inf)``."""
    return (0.0, float(min_cell - 1)) if value < min_cell else (float(min_cell), math.inf)


class _State:
    def __init__(self, values, hidden, remainders, relations, min_cell, places=None):
        self.values = {**values, **remainders}
        self.places = places or {}
        self.hidden = set(hidden) | set(remainders)
        self.remainders = set(remainders)
        self.relations = relations
        self.min_cell = min_cell
        self.margin = max(min_cell - 1, 1)
        self.touching = defaultdict(list)
        for number, relation in enumerate(relations):
            for key in (relation.total, *relation.parts):
                self.touching[key].append(number)

    def needs(self, key) -> bool:
        """A published hidden cell always; a remainder when it is small."""
        return key not in self.remainders or self.values[key] < self.min_cell

    def broken(self, relation: Relation) -> str | None:
        """``"one"``, ``"low"`` or ``"high"`` when the relation gives a cell away, else ``None``."""
        terms = [(relation.total, -1), *((p, 1) for p in relation.parts)]
        unknown = [(k, a) for k, a in terms if k in self.hidden]
        if not unknown or not any(self.needs(k) for k, _ in unknown):
            return None
        if len(unknown) == 1:
            return "one"
        known = -sum(a * self.values[k] for k, a in terms if k not in self.hidden)
        low = high = 0.0
        for key, sign in unknown:
            lo, hi = _bounds(self.values[key], self.min_cell)
            low += sign * (lo if sign > 0 else hi)
            high += sign * (hi if sign > 0 else lo)
        if known - low < self.margin:
            return "low"
        if high - known < self.margin:
            return "high"
        return None

    def partner(self, relation: Relation, how: str):
        """The shown cell to hide: the one published in fewest places, then the smallest part.

        The total competes with the parts: hiding a total shown once (students
        screened) costs less than hiding a part that is the ``n`` of many rows
        (valid sheets).
        """
        shown = [p for p in relation.parts if p not in self.hidden]
        if how == "low":
            wider = [p for p in shown if self.values[p] > self.min_cell]
            shown = wider or shown
        if relation.total not in self.hidden:
            shown.append(relation.total)
        if not shown:
            return None
        return min(shown, key=lambda p: (self.places.get(p, 1), p == relation.total, self.values[p], repr(p)))

    def run(self) -> list:
        """Hide partners until no relation gives a cell away; return the cells hidden, in order."""
        added = []
        queue = list(range(len(self.relations)))
        heapq.heapify(queue)
        waiting = set(queue)
        while queue:
            number = heapq.heappop(queue)
            waiting.discard(number)
            relation = self.relations[number]
            how = self.broken(relation)
            if how is None:
                continue
            key = self.partner(relation, how)
            if key is None:
                continue  # every cell of the relation is hidden: nothing more to hide here
            self.hidden.add(key)
            added.append(key)
            for other in self.touching[key]:
                if other not in waiting:
                    waiting.add(other)
                    heapq.heappush(queue, other)
            if number not in waiting:
                waiting.add(number)
                heapq.heappush(queue, number)
        return added

    def components(self) -> list[tuple[list, list]]:
        """The hidden cells in groups that share no relation, each with its equations ``(terms, constant)``."""
        parent = {k: k for k in self.hidden if self.touching[k]}

        def root(key):
            while parent[key] != key:
                parent[key] = parent[parent[key]]
                key = parent[key]
            return key

        equations = []
        for relation in self.relations:
            terms, known = [], 0.0
            for key, sign in ((relation.total, -1.0), *((p, 1.0) for p in relation.parts)):
                if key in parent:
                    terms.append((key, sign))
                else:
                    known += sign * self.values[key]
            if terms:
                equations.append((terms, -known))
                for key, _ in terms[1:]:
                    parent[root(key)] = root(terms[0][0])
        groups: dict = defaultdict(lambda: ([], []))
        for key in parent:
            groups[root(key)][0].append(key)
        for terms, constant in equations:
            groups[root(terms[0][0])][1].append((terms, constant))
        return list(groups.values())

    def pinned(self) -> list:
        """Hidden cells that the relations together, with the markers' bounds, fix to one value.

        For each cell needing protection, its smallest and largest value given
        every relation of its group of linked cells (equalities) and their
        bounds, by linear programming (scipy's HiGHS); a cell whose range holds
        one whole number is pinned.
        """
        from scipy import sparse  # imported on use: a page reading the mart never runs the audit
        from scipy.optimize import linprog

        out = []
        for keys, equations in self.components():
            keys = sorted(keys, key=repr)
            column = {k: i for i, k in enumerate(keys)}
            rows, cols, data = [], [], []
            for number, (terms, _) in enumerate(equations):
                for key, sign in terms:
                    rows.append(number)
                    cols.append(column[key])
                    data.append(sign)
            matrix = sparse.csr_array((data, (rows, cols)), shape=(len(equations), len(keys)))
            rhs = [constant for _, constant in equations]
            bounds = [_bounds(self.values[k], self.min_cell) for k in keys]
            bounds = [(lo, None if math.isinf(hi) else hi) for lo, hi in bounds]
            for key, i in column.items():
                if not self.needs(key):
                    continue
                objective = np.zeros(len(keys))
                objective[i] = 1.0
                low = linprog(objective, A_eq=matrix, b_eq=rhs, bounds=bounds, method="highs")
                if low.status != 0:
                    continue  # the truth is a solution: an unsolved program is a numerical failure, not a disclosure
                high = linprog(-objective, A_eq=matrix, b_eq=rhs, bounds=bounds, method="highs")
                top = -high.fun if high.status == 0 else math.inf  # unbounded above (or unsolved: not pinned)
                if not math.isinf(top) and math.floor(top + 1e-6) <= math.ceil(low.fun - 1e-6):
                    out.append(key)
        return out

    def widen(self, key) -> bool:
        """Hide a shown cell of a relation of ``key`` (the smallest above ``min_cell`` first)."""
        shown = {
            k
            for number in self.touching[key]
            for k in (self.relations[number].total, *self.relations[number].parts)
            if k not in self.hidden
        }
        if not shown:
            return False
        wider = [k for k in shown if self.values[k] > self.min_cell] or list(shown)
        chosen = min(wider, key=lambda k: (self.values[k], repr(k)))
        self.hidden.add(chosen)
        return True


AUDIT_LIMIT = 3000
"""Largest number of hidden cells the publication-wide linear-programming audit is run on."""


def _blank(frame: pd.DataFrame, label, column: str, estimates: Sequence[str]) -> None:
    frame.loc[label, column] = pd.NA
    for estimate in (*ESTIMATES, *estimates):
        if estimate in frame.columns:
            frame.loc[label, estimate] = None
    if column == "count" and "suppressed" in frame.columns:
        frame.loc[label, "suppressed"] = True
    if "marker" in frame.columns and not frame.at[label, "marker"]:
        frame.loc[label, "marker"] = PROTECTED_MARKER


def suppress_linked(
    tables: Sequence[LinkedTable], *, min_cell: int, report: dict | None = None
) -> dict[str, pd.DataFrame]:
    """Hide, across all ``tables``, every cell another table hides and every cell a sum would give away.

    Parameters
    ----------
    tables : sequence of LinkedTable
        Every frame published together, protected one by one already.
    min_cell : int
        The threshold the frames were protected with.
    report : dict, optional
        Filled with what the pass did: ``relations`` checked,
        ``hidden_by_relations`` and ``hidden_by_audit`` (cells hidden by the
        relation rule and by the linear-programming audit), ``audit_rounds``,
        ``audited`` (False when more than :data:`AUDIT_LIMIT` cells were hidden
        and the audit was not run).

    Returns
    -------
    dict
        Frame name → the frame with the further cells blanked (``<NA>``, their
        row's estimates blanked, ``suppressed`` set for a count, marker 「*」
        where the row had none). Frames are copies; the inputs are not modified.

    Raises
    ------
    ValueError
        If a declared population names a column the frame lacks, two frames
        declare one cell with different numbers, or finer cells add up to more
        than their coarse cell (a wrong declaration).

    Notes
    -----
    What is guaranteed, and what not, is in the module's docstring.

    Examples
    --------
    Two tables of one wave: bands of PHQ-9 (``n`` is the wave's total) and
    bands by gender. Each alone is safe; together, 12 - 8 - ... would show
    the severe girls, so the linked pass hides their partner too:

    >>> import pandas as pd
    >>> from psychanalytics.privacy import leader_view
    >>> from psychanalytics.privacy.linked import LinkedTable, Population, suppress_linked
    >>> bands = pd.DataFrame({"wave_id": ["W"] * 2, "band": ["mild", "severe"], "count": [200, 23], "n": 223})
    >>> split = pd.DataFrame({"wave_id": ["W"] * 4, "gender": ["F", "F", "M", "M"],
    ...                       "band": ["mild", "severe", "mild", "severe"], "count": [95, 4, 105, 19]})
    >>> split["n"] = split.groupby("gender")["count"].transform("sum")
    >>> one = leader_view(bands, by=("wave_id",), min_cell=10).cells
    >>> two = leader_view(split, by=("wave_id", "gender"), min_cell=10).cells
    >>> two["count"].tolist()  # the 4 and its partner 95 hidden within the table
    [<NA>, <NA>, 105, 19]
    >>> u = "phq9"
    >>> out = suppress_linked([
    ...     LinkedTable("bands", one, bands, {"count": Population(u, ("wave_id", "band")),
    ...                                       "n": Population(u, ("wave_id",))}),
    ...     LinkedTable("split", two, split, {"count": Population(u, ("wave_id", "gender", "band")),
    ...                                       "n": Population(u, ("wave_id", "gender"))})], min_cell=10)
    >>> out["split"]["count"].tolist()  # severe = 23 - 19 would give the 4 away: 19 and 105 go too
    [<NA>, <NA>, <NA>, <NA>]
    """
    values, where, hidden = _occurrences(tables)
    relations, remainders = cell_relations(values)
    places = {key: len(found) for key, found in where.items()}
    state = _State(values, hidden, remainders, [*relations, *_sum_relations(tables)], min_cell, places)
    first = set(state.hidden)
    state.run()
    by_relations = len(state.hidden - first)
    audited = len(state.hidden) <= AUDIT_LIMIT
    rounds = 0
    while audited:
        pinned = state.pinned()
        if not pinned or not any([state.widen(key) for key in pinned]):
            break
        rounds += 1
        state.run()
    if report is not None:
        report.update(
            relations=len(state.relations),
            hidden_by_relations=by_relations,
            hidden_by_audit=len(state.hidden - first) - by_relations,
            audit_rounds=rounds,
            audited=audited,
        )
    frames = {table.name: table.cells.copy() for table in tables}
    for column in COUNT_COLUMNS:
        for frame in frames.values():
            if column in frame.columns:
                frame[column] = frame[column].astype("Int64")
    estimates = {table.name: tuple(table.estimates) for table in tables}
    for key, places in where.items():
        if key not in state.hidden:
            continue
        for name, label, column in places:
            if pd.notna(frames[name].at[label, column]):
                _blank(frames[name], label, column, estimates[name])
    return frames
