"""Classified archives: coverage of enrolled students, and transfers when a student changes school."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from psychanalytics.crisis._conventions import codes
from psychanalytics.crisis._histories import check_by
from psychanalytics.crisis._survival import TABLE_COLUMNS, survival


def archive_coverage(categories: pd.DataFrame, *, by: str | Sequence[str] = ("school_year",)) -> pd.DataFrame:
    """Share of enrolled students with an archive record (分类归档), per group.

    Parameters
    ----------
    categories : pandas.DataFrame
        ``school_year, school, category, count`` (enrolled students by archive
        category; any other category, such as ``none``, is no record), as from
        :func:`psychanalytics.store.queries.crisis.archive_categories`.
    by : str or sequence of str
        Grouping columns (``school_year``, ``school``).

    Returns
    -------
    pandas.DataFrame
        ``*by, count`` (students with a record), ``n`` (enrolled), ``proportion``.

    Examples
    --------
    >>> categories = pd.DataFrame({"school_year": "2024-2025", "school": ["S1"] * 3 + ["S2"] * 3,
    ...                            "category": ["general", "key", "none"] * 2, "count": [90, 5, 5, 40, 0, 60]})
    >>> archive_coverage(categories)
      school_year  count    n  proportion
    0   2024-2025    135  200       0.675
    """
    by = check_by(categories, by, "archive_coverage")
    frame = categories.assign(
        with_record=categories["count"].where(categories["category"].isin(codes("archive_categories")), 0)
    )
    out = frame.groupby(by, sort=True).agg(count=("with_record", "sum"), n=("count", "sum")).reset_index()
    out["proportion"] = out["count"] / out["n"].where(out["n"] > 0)
    return out.astype({"count": "int64", "n": "int64"})


@dataclass(frozen=True)
class TransferTimes:
    """Archive transfers after changes of school (the result of :func:`archive_transfers`).

    Attributes
    ----------
    summary : pandas.DataFrame
        ``*by, count`` (moves whose archive was transferred), ``n`` (moves),
        ``complete`` (transfers confirmed complete), ``before_start``
        (transferred before the school year began: counted as there on
        arrival, 0 days), ``repeated`` (moves with more than one transfer
        recorded), ``median, median_low, median_high`` (days from the start of
        the school year to the transfer, moves still without one censored at
        ``as_of``; ``nan``: not reached).
    curves : pandas.DataFrame
        ``*by`` and the Kaplan-Meier table (``time`` in days, ``at_risk, events,
        survival, low, high``).
    """

    summary: pd.DataFrame
    curves: pd.DataFrame


def year_start(school_year: pd.Series) -> pd.Series:
    """1 September of each school year's first calendar year.

    >>> year_start(pd.Series(["2024-2025"])).tolist()
    [Timestamp('2024-09-01 00:00:00')]
    """
    return pd.to_datetime(school_year.str[:4] + "-09-01")


def archive_transfers(
    moves: pd.DataFrame, *, as_of, by: str | Sequence[str] = ("school_year",), ci: float = 0.95
) -> TransferTimes:
    """Whether the archive followed a student who changed school, and how many days it took (Kaplan-Meier).

    A student's move counts from the first day of the school year at the new
    school (1 September: enrolments are yearly, the day of the move is not
    recorded) to the day the archive was transferred; a move still without a
    transfer is censored at ``as_of``. A transfer dated before the school year
    began counts as there on arrival (0 days) and is counted in
    ``before_start``, not hidden.

    Parameters
    ----------
    moves : pandas.DataFrame
        ``school_year, from_school, to_school, transferred_on, complete,
        transfers, count`` as from
        :func:`psychanalytics.store.queries.crisis.school_moves`.
    as_of : datetime-like
        When the data were extracted.
    by : str or sequence of str
        Grouping columns of ``moves`` (``school_year``, ``to_school``, ``from_school``).
    ci : float
        Confidence level.

    Returns
    -------
    TransferTimes
        ``summary`` and ``curves``.

    Raises
    ------
    ValueError
        If a move's school year starts after ``as_of``.

    Examples
    --------
    >>> moves = pd.DataFrame({"school_year": "2024-2025", "from_school": "S1", "to_school": "S2",
    ...                       "transferred_on": pd.to_datetime(["2024-09-05", "2024-09-11", None]),
    ...                       "complete": pd.array([True, False, None], dtype="boolean"),
    ...                       "transfers": [1, 1, 0], "count": [3, 1, 1]})
    >>> result = archive_transfers(moves, as_of="2025-07-01")
    >>> result.summary[["school_year", "count", "n", "complete", "median"]]
      school_year  count  n  complete  median
    0   2024-2025      4  5         3     4.0
    """
    by = check_by(moves, by, "archive_transfers")
    as_of = pd.Timestamp(as_of)
    start = year_start(moves["school_year"])
    if (start > as_of).any():
        raise ValueError(f"archive_transfers: moves into school years starting after as_of {as_of:%Y-%m-%d}")
    transferred = moves["transferred_on"].notna()
    days = (pd.to_datetime(moves["transferred_on"]).where(transferred, as_of) - start) / pd.Timedelta(days=1)
    frame = moves.assign(
        days=days.clip(lower=0),
        ended=transferred,
        early=transferred & (days < 0),
        done=transferred & moves["complete"].fillna(False).astype(bool),
        repeated=moves["transfers"] > 1,
    )
    summaries, curves = [], []
    groups = frame.groupby(by, sort=True) if by else [((), frame)]
    for key, group in groups:
        labels = dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True))
        weight = group["count"].to_numpy()
        result = survival(
            np.repeat(group["days"].to_numpy(), weight), np.repeat(group["ended"].to_numpy(), weight), ci=ci
        )
        summaries.append({**labels, "count": result.count, "n": result.n,
                          **{c: int(weight[group[c].to_numpy()].sum()) for c in ("done", "early", "repeated")},
                          "median": result.median, "median_low": result.median_low,
                          "median_high": result.median_high})  # fmt: skip
        curves.append(result.table.assign(**labels))
    columns = [
        *by,
        "count",
        "n",
        "complete",
        "before_start",
        "repeated",
        "median",
        "median_low",
        "median_high",
    ]
    summary = pd.DataFrame(summaries).rename(columns={"done": "complete", "early": "before_start"})
    summary = summary.reindex(columns=columns)
    curve = pd.concat(curves, ignore_index=True) if curves else pd.DataFrame(columns=list(TABLE_COLUMNS))
    return TransferTimes(summary, curve.reindex(columns=[*by, *TABLE_COLUMNS]))
