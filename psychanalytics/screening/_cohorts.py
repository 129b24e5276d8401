"""Cohorts: the same students across waves and stage transitions — transitions, persistence, new cases, follow-up."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from psychanalytics.screening._frames import check_counts, check_level, choice, keys, require
from psychanalytics.screening._intervals import METHODS, with_interval

STATES_FROM = ("screened", "not_screened", "not_enrolled")
STATES_TO = ("screened", "not_screened", "not_enrolled", "graduated")


@dataclass(frozen=True)
class CohortResult:
    """What happened to the students of one wave at the next.

    Attributes
    ----------
    transitions : pandas.DataFrame
        Band-to-band transition matrix of the students screened at both waves,
        long: ``wave_from``, ``wave_to``, the ``by`` columns, ``band_from``,
        ``band_rank_from``, ``band_to``, ``band_rank_to``, ``count`` (students),
        ``n`` (students of ``band_from`` screened at both) and ``proportion``
        (row share: ``count / n``). Every band pair appears (``count = 0``).
    persistence : pandas.DataFrame
        Screen-positive at the later wave by the state at the earlier one, for
        students screened at both: ``wave_from``, ``wave_to``, the ``by``
        columns, ``positive_from`` (1 or 0), ``count`` (positive at the later
        wave), ``n``, ``proportion``, ``low``, ``high``. The row
        ``positive_from = 1`` is the persistence of risk, ``0`` the rate of
        new cases among students negative before.
    new_cases : pandas.DataFrame
        Screen-positive students at the later wave by where they came from:
        ``wave_from``, ``wave_to``, the ``by`` columns, ``count`` (positive at
        ``wave_to``), ``persistent`` (also positive at ``wave_from``),
        ``new`` (negative at ``wave_from``), ``first_screened`` (no determined
        sheet at ``wave_from``: not screened then, or not yet enrolled).
    follow_up : pandas.DataFrame
        Students screened at the earlier wave by their state at the later one:
        ``wave_from``, ``wave_to``, the ``by`` columns, ``state_to``, ``count``,
        ``n`` (students screened at ``wave_from``), ``proportion``, ``low``,
        ``high``, and ``moved`` (of ``count``, students in another school than
        before: a stage transition or a transfer). ``state_to`` is
        ``"screened"``, ``"not_screened"`` (enrolled, no valid sheet),
        ``"not_enrolled"`` (left the district's schools) or ``"graduated"``.
    by : tuple of str
        The keys, each a ``<key>_from`` or ``<key>_to`` column of the counts.
    """

    transitions: pd.DataFrame
    persistence: pd.DataFrame
    new_cases: pd.DataFrame
    follow_up: pd.DataFrame
    by: tuple[str, ...]


def cohorts(
    counts: pd.DataFrame, *, by: str | Sequence[str] = (), method: str = "wilson", ci: float = 0.95
) -> CohortResult:
    """Transition matrices, persistence of risk, new cases and loss to follow-up between waves.

    Parameters
    ----------
    counts : pandas.DataFrame
        As from :func:`psychanalytics.store.queries.screening.cohort_counts`:
        ``wave_from``, ``wave_to``, the ``by`` columns, ``state_from``,
        ``band_from``, ``band_rank_from``, ``positive_from``, ``state_to``,
        ``band_to``, ``band_rank_to``, ``positive_to``, ``moved``, ``count``.
        Not modified.
    by : str or sequence of str
        Grouping columns of ``counts``, each named with its end:
        ``("stage_from", "stage_to")`` for stage transitions, ``"school_to"``
        for new cases by the school they are in now.
    method : {"wilson", "jeffreys", "exact"}
        Interval method for the shares.
    ci : float
        Confidence level.

    Returns
    -------
    CohortResult

    Notes
    -----
    Pure counting (no model): a student is followed by ``pid`` whatever school
    or stage they move to; "positive" is the instrument's screen-positive rule
    (its spec), applied at each wave. Intervals are per share (``method``) and
    treat students as independent: students of one school are alike, so for
    district-wide shares they are somewhat too narrow. Written by hand: the
    counting is a group-by of the pushed-down counts.

    Examples
    --------
    >>> import pandas as pd
    >>> from psychanalytics.screening import cohorts
    >>> counts = pd.DataFrame({
    ...     "wave_from": "W1", "wave_to": "W2",
    ...     "state_from": ["screened"] * 4 + ["not_enrolled"],
    ...     "band_from": ["low", "low", "high", "high", None], "band_rank_from": [0, 0, 1, 1, None],
    ...     "positive_from": [0, 0, 1, 1, None],
    ...     "state_to": ["screened", "screened", "screened", "not_enrolled", "screened"],
    ...     "band_to": ["low", "high", "high", None, "high"], "band_rank_to": [0, 1, 1, None, 1],
    ...     "positive_to": [0, 1, 1, None, 1], "moved": [0, 0, 0, None, None],
    ...     "count": [80, 10, 6, 4, 3]})
    >>> result = cohorts(counts)
    >>> result.persistence[["positive_from", "count", "n", "proportion"]]
       positive_from  count   n  proportion
    0              0     10  90    0.111111
    1              1      6   6    1.000000
    >>> result.new_cases[["count", "persistent", "new", "first_screened"]]
       count  persistent  new  first_screened
    0     19           6   10               3
    """
    by = keys(by)
    choice(method, METHODS, name="method")
    check_level(ci)
    needed = ["wave_from", "wave_to", *by, "state_from", "band_from", "band_rank_from", "positive_from"]
    needed += ["state_to", "band_to", "band_rank_to", "positive_to", "moved", "count"]
    require(counts, needed, what="counts")
    check_counts(counts, ["count"], what="counts")
    for column, allowed in (("state_from", STATES_FROM), ("state_to", STATES_TO)):
        odd = ~counts[column].isin(allowed)
        if odd.any():
            raise ValueError(
                f"counts: row {counts.index[odd][0]!r}, column {column!r}: {counts.loc[odd, column].iloc[0]!r} "
                f"is not one of {list(allowed)}"
            )
    waves = ["wave_from", "wave_to"]
    groups = [*waves, *by]
    both = counts[(counts["state_from"] == "screened") & (counts["state_to"] == "screened")]

    def summed(frame: pd.DataFrame, columns: Sequence[str], value: str = "count") -> pd.DataFrame:
        return frame.groupby(list(columns), dropna=False, sort=True)[value].sum().reset_index()

    # transitions: every band pair of the bands seen, rows sum to n
    cells = summed(both, [*groups, "band_rank_from", "band_from", "band_rank_to", "band_to"])
    bands_from = both[["band_rank_from", "band_from"]].drop_duplicates()
    bands_to = both[["band_rank_to", "band_to"]].drop_duplicates()
    grid = both[groups].drop_duplicates().merge(bands_from, how="cross").merge(bands_to, how="cross")
    key = [*groups, "band_rank_from", "band_from", "band_rank_to", "band_to"]
    transitions = grid.merge(cells, on=key, how="left").fillna({"count": 0})
    transitions["n"] = transitions.groupby([*groups, "band_rank_from"], dropna=False)["count"].transform(
        "sum"
    )
    transitions = transitions.sort_values(key, kind="stable").reset_index(drop=True)
    transitions = transitions.astype(
        {"count": "int64", "n": "int64", "band_rank_from": "int64", "band_rank_to": "int64"}
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        transitions["proportion"] = transitions["count"] / transitions["n"].where(transitions["n"] > 0)
    transitions = transitions[
        [*groups, "band_from", "band_rank_from", "band_to", "band_rank_to", "count", "n", "proportion"]
    ]

    # persistence: positive later, by the state before (students screened at both)
    later = both.assign(hit=both["count"] * both["positive_to"].astype(int))
    persistence = (
        later.groupby([*groups, "positive_from"], dropna=False, sort=True)
        .agg(count=("hit", "sum"), n=("count", "sum"))
        .reset_index()
        .astype({"positive_from": "int64", "count": "int64", "n": "int64"})
    )
    persistence = with_interval(persistence, method, ci)

    # new cases: positives at the later wave by their state before
    positive_to = counts[
        (counts["state_to"] == "screened") & counts["positive_to"].fillna(0).eq(1).to_numpy()
    ]
    origin = np.select(
        [positive_to["state_from"] != "screened", positive_to["positive_from"].fillna(0).eq(1).to_numpy()],
        ["first_screened", "persistent"],
        "new",
    )
    new_cases = (
        positive_to.assign(origin=origin)
        .pivot_table(
            index=groups, columns="origin", values="count", aggfunc="sum", fill_value=0, dropna=False
        )
        .reindex(columns=["persistent", "new", "first_screened"], fill_value=0)
        .reset_index()
    )
    new_cases.columns.name = None
    new_cases.insert(len(groups), "count", new_cases[["persistent", "new", "first_screened"]].sum(axis=1))
    new_cases = new_cases.astype({c: "int64" for c in ("count", "persistent", "new", "first_screened")})

    # follow-up: where the students screened at the earlier wave were at the later one
    screened_from = counts[counts["state_from"] == "screened"]
    moved = screened_from.assign(
        moved_count=screened_from["count"] * screened_from["moved"].fillna(0).astype(int)
    )
    follow = (
        moved.groupby([*groups, "state_to"], dropna=False, sort=False)
        .agg(count=("count", "sum"), moved=("moved_count", "sum"))
        .reset_index()
    )
    states = pd.DataFrame({"state_to": list(STATES_TO)})
    follow = (
        follow[groups]
        .drop_duplicates()
        .merge(states, how="cross")
        .merge(follow, on=[*groups, "state_to"], how="left")
    )
    follow = follow.fillna({"count": 0, "moved": 0}).astype({"count": "int64", "moved": "int64"})
    follow["n"] = follow.groupby(groups, dropna=False)["count"].transform("sum").astype("int64")
    order = {s: i for i, s in enumerate(STATES_TO)}
    follow = follow.sort_values(
        [*groups, "state_to"], key=lambda s: s.map(order) if s.name == "state_to" else s
    )
    follow = with_interval(follow.reset_index(drop=True), method, ci)
    follow = follow[[*groups, "state_to", "count", "n", "proportion", "low", "high", "moved"]]
    return CohortResult(
        transitions, persistence, new_cases.sort_values(groups).reset_index(drop=True), follow, by
    )
