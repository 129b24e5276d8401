"""Helpers shared by the scoring tests: response builders and a naive per-row oracle.

The oracle scores one respondent with plain Python and exact fractions, item by
item, straight from the spec's rules; it shares no code with
:mod:`psychanalytics.scoring` and is the reference for the property tests.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pandas as pd

from psychanalytics.instruments import InstrumentSpec, Scale


def options(spec: InstrumentSpec) -> dict:
    """Keyword arguments ``score`` needs for ``spec`` (the first informant where one is required)."""
    return {"informant": spec.informants[0]} if spec.informants else {}


def blank(spec: InstrumentSpec, n: int = 1, index=None) -> pd.DataFrame:
    """``n`` respondents with every item missing."""
    return pd.DataFrame(
        np.nan, index=index if index is not None else range(n), columns=list(spec.item_columns)
    )


def answers_for(spec: InstrumentSpec, scale: Scale, points: int) -> dict[str, int]:
    """Item codes (all items answered) giving ``scale`` a sum of ``points`` after reverse keying.

    Items outside the scale get the lowest code.
    """
    lo, hi = spec.item_values[0], spec.item_values[-1]
    codes = {f"q{i}": lo for i in range(1, spec.n_items + 1)}
    left = points - lo * len(scale.items)
    if not 0 <= left <= (hi - lo) * len(scale.items):
        raise ValueError(f"{scale.code} cannot reach {points}")
    for item in scale.items:
        step = min(hi - lo, left)
        left -= step
        effective = lo + step
        codes[f"q{item}"] = lo + hi - effective if item in spec.reverse_items else effective
    return codes


def random_responses(
    spec: InstrumentSpec, n: int, rng: np.random.Generator, missing: float = 0.1
) -> pd.DataFrame:
    """Random codes with a share of missing answers."""
    codes = rng.choice(np.asarray(spec.item_values, dtype=float), size=(n, spec.n_items))
    codes[rng.random(codes.shape) < missing] = np.nan
    return pd.DataFrame(codes, columns=list(spec.item_columns))


def naive_scores(spec: InstrumentSpec, answers) -> dict[str, float | None]:
    """Score one respondent (list of codes, None/NaN = missing) the slow, obvious way."""
    lo, hi = spec.item_values[0], spec.item_values[-1]
    given = [None if a is None or (isinstance(a, float) and math.isnan(a)) else int(a) for a in answers]
    effective = {
        i: None if a is None else (lo + hi - a if i in spec.reverse_items else a)
        for i, a in enumerate(given, start=1)
    }
    out: dict[str, float | None] = {}
    for s in spec.scales:
        if s.of_scales:
            parts = [out[c] for c in s.of_scales]
            out[s.code] = None if any(p is None for p in parts) else float(sum(parts))
            continue
        got = [effective[i] for i in s.items if effective[i] is not None]
        if len(got) < s.min_answered:
            out[s.code] = None
            continue
        if s.aggregate == "count":
            got = [1 if v >= s.count_at_least else 0 for v in got]
        value = Fraction(sum(got) * len(s.items), len(got))
        if s.rounding == "half_up":
            value = Fraction(math.floor(value + Fraction(1, 2)))
        if s.aggregate == "mean":
            value /= len(s.items)
        out[s.code] = float(value)
    if spec.lie is not None:
        lie = [given[i - 1] for i in spec.lie.items]
        out["lie"] = None if any(v is None for v in lie) else float(sum(lie))
    return out


def naive_flags(spec: InstrumentSpec, answers, scores: dict[str, float | None]) -> dict[str, bool | None]:
    """Each flag as True, False or None (unknown: no condition true and some input missing)."""
    given = [None if a is None or (isinstance(a, float) and math.isnan(a)) else a for a in answers]
    out: dict[str, bool | None] = {}
    for flag in spec.flags:
        inputs = []
        for cond in flag.any_of:
            values = [given[cond.item - 1]] if cond.item is not None else [scores[s] for s in cond.scales]
            inputs += [None if v is None else v >= cond.at_least for v in values]
        out[flag.name] = True if True in inputs else (None if None in inputs else False)
    return out
