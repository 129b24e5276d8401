"""The plan's results for every school year, computed once per publication, and the groups of schools the
「师资与阵地」 and 「三年计划」 tables are cut by (学段 × 城乡, with ``all`` margins)."""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Callable
from dataclasses import fields
from typing import TYPE_CHECKING

import pandas as pd
import sqlalchemy as sa

if TYPE_CHECKING:  # annotations only
    from psychanalytics import plan

from psychanalytics.store import queries

ALL = "all"
"""The ``stage`` / ``location`` of a row covering every stage / location (the district as a whole)."""

_CACHE: dict[str, tuple] = {}


def _fingerprint(inputs) -> str:
    """A digest of everything ``plan.evaluate`` reads (not the time the inputs were read)."""
    parts = [getattr(inputs, f.name) for f in fields(inputs) if f.name != "read_at"]
    return hashlib.sha256(pickle.dumps(parts)).hexdigest()


def evaluated(engine: sa.Engine) -> tuple[object, dict[str, plan.PlanResults]]:
    """The store's plan inputs and :func:`psychanalytics.plan.evaluate` judged in each school year it reports.

    Cached on the content of the inputs (one entry): publishing several tables evaluates once, and a
    changed store is evaluated again.
    """
    from psychanalytics import plan  # imported on use: a page reading this table's name does not load it

    inputs = queries.plan_inputs(engine)
    key = _fingerprint(inputs)
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = (
            inputs,
            {year: plan.evaluate(inputs, school_year=year) for year in inputs.school_years},
        )
    return _CACHE[key]


def latest(engine: sa.Engine) -> plan.PlanResults | None:
    """The results judged in the last school year (they hold every year's staffing and room rows), or None."""
    _, results = evaluated(engine)
    return results[list(results)[-1]] if results else None


def groups(schools: pd.DataFrame) -> list[tuple[str, str, list[str]]]:
    """``(stage, location, school ids)`` of the district, each stage, each location, and each stage × location
    that holds a school (``all`` for a margin); stages and locations in the order of the schools' ids."""
    stages = list(dict.fromkeys(schools["stage"]))
    locations = list(dict.fromkeys(schools["location"]))
    out = []
    for stage in [ALL, *stages]:
        for location in [ALL, *locations]:
            chosen = schools[
                ((schools["stage"] == stage) | (stage == ALL))
                & ((schools["location"] == location) | (location == ALL))
            ]
            if len(chosen):
                out.append((stage, location, chosen["school_id"].tolist()))
    return out


def by_group(
    frame: pd.DataFrame, schools: pd.DataFrame, summary: Callable[[pd.DataFrame], pd.DataFrame], columns
) -> pd.DataFrame:
    """``summary`` of the rows of ``frame`` (one per school and year) of each group of :func:`groups`, with the
    group's ``stage`` and ``location`` after ``school_year``; ``columns`` when there is no row at all."""
    parts = []
    for stage, location, ids in groups(schools):
        part = summary(frame[frame["school_id"].isin(ids)].reset_index(drop=True))
        if len(part):
            parts.append(part.assign(stage=stage, location=location))
    if not parts:
        return pd.DataFrame(columns=columns)
    out = pd.concat(parts, ignore_index=True)
    first = ["school_year", "stage", "location"]
    return out[first + [c for c in out.columns if c not in first]].reset_index(drop=True)
