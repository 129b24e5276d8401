"""An attacker of the published mart: what can be worked out of its hidden cells from what it shows.

Written apart from ``psychanalytics.privacy.linked`` (the defender), from the
published mart file, the tables' declared populations as the mart lists them
(``mart_tables.policy``: public structure), and the true counts of the store
(to know which sums hold and to score the attack). The attacker knows, of each
hidden cell, whether it is small (0 to min_cell - 1) or not (min_cell or more):
the markers 「<10」 and 「*」 say so.

Four attacks, strongest last:

* ``one_hidden``: a relation ``total = sum of parts`` (a group and its cells,
  a margin and the finer cells of another table, a filter and its complement)
  with every number shown but one hidden cell;
* ``inconsistent``: one population shown in a table and hidden in another;
* ``solved``: hidden cells fixed by the equations of the whole mart together
  (null space of the linear system);
* ``pinned``: hidden cells fixed once the markers' bounds are added (minimum
  and maximum of each cell by linear programming, scipy HiGHS).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.linalg import null_space
from scipy.optimize import linprog

SMALL_REST = "rest"


@dataclass
class Findings:
    one_hidden: list = field(default_factory=list)
    inconsistent: list = field(default_factory=list)
    solved: list = field(default_factory=list)
    pinned: list = field(default_factory=list)
    narrowed: list = field(default_factory=list)
    hidden: int = 0
    relations: int = 0

    def counts(self) -> dict[str, int]:
        return {
            "hidden cells": self.hidden,
            "relations": self.relations,
            "one hidden in a sum": len(self.one_hidden),
            "shown here, hidden there": len(self.inconsistent),
            "solved by the equations": len(self.solved),
            "pinned with the markers' bounds": len(self.pinned),
            "small cells narrowed below [0, min_cell - 1]": len(self.narrowed),
        }

    @property
    def recoverable(self) -> list:
        return self.one_hidden + self.inconsistent + self.solved + self.pinned


def _value(v):
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    return v.item() if hasattr(v, "item") else v


def _key(population: dict, row) -> tuple:
    given = population.get("given", {}).items()  # dimensions every row of the table shares
    items = [*((d, _value(row[d])) for d in population["dimensions"]), *given]
    return (population["universe"], tuple(sorted(items)))


def collect(mart, tables, engine):
    """Cells of the mart: key → truth, and whether each occurrence is shown; plus the headline sums."""
    listed = mart.tables().set_index("name")
    truth: dict = {}
    shown: dict = defaultdict(list)
    sums = []
    for table in tables:
        if table.name not in listed.index:
            continue
        policy = json.loads(listed.at[table.name, "policy"])
        populations = policy.get("population")
        if not populations:
            continue
        raw = table.build(engine).reset_index(drop=True)
        published = mart.table(table.name)
        assert len(published) == len(raw), table.name
        for column, population in populations.items():
            for i, row in raw.iterrows():
                key = _key(population, row)
                truth[key] = int(row[column])
                shown[key].append(pd.notna(published.at[i, column]))
        head_name = table.name + "__headline"
        if head_name in listed.index:
            by = policy["by"]
            head = mart.table(head_name)
            mask = table.headline(raw)
            parts = defaultdict(list)
            for _, row in raw[mask.to_numpy()].iterrows():
                parts[tuple(_value(row[c]) for c in by)].append(_key(populations["count"], row))
            for _, row in head.iterrows():
                group = tuple(_value(row[c]) for c in by)
                key = ("headline", table.name, group)
                truth[key] = int(sum(truth[p] for p in parts[group]))
                shown[key].append(pd.notna(row["count"]))
                if parts[
                    group
                ]:  # a headline over bands nobody fell in is zero by the table's rows (not a sum)
                    sums.append((key, tuple(parts[group])))
    return truth, shown, sums


def relations(truth: dict, sums) -> tuple[list, dict]:
    """Every coarse = sum(finer) among cells of one universe, with a remainder where the finer do not cover it."""
    cells = defaultdict(lambda: defaultdict(list))
    for key in truth:
        if key[0] == "headline":
            continue
        cells[key[0]][frozenset(d for d, _ in key[1])].append(key)
    out, rests = list(sums), {}
    for by_dims in cells.values():
        for coarse_dims, coarse in by_dims.items():
            for fine_dims, fine in by_dims.items():
                if not coarse_dims < fine_dims:
                    continue
                projected = defaultdict(list)
                for key in fine:
                    projected[tuple((d, v) for d, v in key[1] if d in coarse_dims)].append(key)
                for total in coarse:
                    parts = projected.get(total[1])
                    if not parts:
                        continue
                    rest = truth[total] - sum(truth[p] for p in parts)
                    assert rest >= 0, (total, fine_dims)
                    if rest:
                        name = (SMALL_REST, total, tuple(sorted(fine_dims)))
                        rests[name] = rest
                        parts = [*parts, name]
                    out.append((total, tuple(parts)))
    return out, rests


def attack(mart, tables, engine, *, min_cell: int = 10, lp: bool = True) -> Findings:
    """Run the four attacks on ``mart`` (published from ``engine`` with ``tables``)."""
    truth, shown_at, sums = collect(mart, tables, engine)
    found = Findings()
    for key, flags in shown_at.items():
        if any(flags) and not all(flags):
            found.inconsistent.append(key)
    hidden = {k for k, flags in shown_at.items() if not any(flags)}
    rels, rests = relations(truth, sums)
    truth = {**truth, **rests}
    hidden |= set(rests)
    found.hidden = len(hidden - set(rests))
    found.relations = len(rels)

    def protect(key) -> bool:
        return key[0] != SMALL_REST or truth[key] < min_cell

    for total, parts in rels:
        unknown = [k for k in (total, *parts) if k in hidden]
        if len(unknown) == 1 and protect(unknown[0]):
            found.one_hidden.append((unknown[0], total))
    unknowns = sorted(hidden, key=repr)
    if not unknowns or not rels:
        return found
    column = {k: i for i, k in enumerate(unknowns)}
    a = np.zeros((len(rels), len(unknowns)))
    b = np.zeros(len(rels))
    for r, (total, parts) in enumerate(rels):
        for key, sign in ((total, -1.0), *((p, 1.0) for p in parts)):
            if key in column:
                a[r, column[key]] += sign
            else:
                b[r] -= sign * truth[key]
    basis = null_space(a) if a.any() else np.eye(len(unknowns))
    free = np.abs(basis).max(axis=1) > 1e-9 if basis.size else np.zeros(len(unknowns), bool)
    for key, i in column.items():
        if not free[i] and protect(key):
            found.solved.append(key)
    if not lp:
        return found
    bounds = [(0, min_cell - 1) if truth[k] < min_cell else (min_cell, None) for k in unknowns]
    used = a.any(axis=1)
    for key, i in column.items():
        if not protect(key) or key in found.solved or not a[:, i].any():
            continue
        c = np.zeros(len(unknowns))
        c[i] = 1
        low = linprog(c, A_eq=a[used], b_eq=b[used], bounds=bounds, method="highs")
        high = linprog(-c, A_eq=a[used], b_eq=b[used], bounds=bounds, method="highs")
        assert low.status == 0, (key, low.message)
        lo = low.fun
        hi = -high.fun if high.status == 0 else math.inf
        if not math.isinf(hi) and math.floor(hi + 1e-6) <= math.ceil(lo - 1e-6):
            found.pinned.append(key)
        elif truth[key] < min_cell and (lo > 1e-6 or hi < min_cell - 1 - 1e-6):
            found.narrowed.append((key, lo, hi))
    return found


# --- tables a screening page would publish beside the overview: the same students, cut several ways -----


def _bands_by(by, keep=None):
    from psychanalytics.store import queries

    def build(engine):
        frame = queries.band_distribution(engine, instrument="phq9", scale="total", by=by).drop(
            columns=["unbanded"]
        )
        if keep is not None:
            frame = frame[keep(frame)]
        return frame.reset_index(drop=True)

    return build


def scenario_tables():
    """PHQ-9 bands per wave by grade, by gender, by grade and gender, by school, and girls only (a filter)."""
    from psychanalytics.mart import MartTable
    from psychanalytics.mart._registry import sheets

    out = []
    for name, by, keep in [
        ("t_grade", ("grade",), None),
        ("t_gender", ("gender",), None),
        ("t_grade_gender", ("grade", "gender"), None),
        ("t_school", ("school_id",), None),
        ("t_girls_grade", ("grade", "gender"), lambda f: f["gender"] == "F"),
    ]:
        group = ("wave_id", *by)
        out.append(
            MartTable(
                name,
                name,
                name,
                _bands_by(by, keep),
                {"by": group},
                population={
                    "count": sheets("phq9", *group, "band", sheet="valid"),
                    "n": sheets("phq9", *group, sheet="valid"),
                },
            )
        )
    return out
