"""Time between stages: durations with open cases censored, Kaplan-Meier medians and curves per group."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from psychanalytics.crisis._histories import PATHWAY, check_by
from psychanalytics.crisis._survival import TABLE_COLUMNS, survival

INTERVALS = (
    ("raised", "confirmed"),
    ("confirmed", "intervention"),
    ("intervention", "referred"),
    ("raised", "closed"),
)
"""The intervals :func:`stage_times` measures by default: warning to interview, interview to
intervention, intervention to referral, warning to closure."""

_DAY = pd.Timedelta(days=1)


@dataclass(frozen=True)
class StageTimes:
    """Time between stages per group (the result of :func:`stage_times`).

    Attributes
    ----------
    summary : pandas.DataFrame
        ``*by, from_stage, to_stage, count`` (cases that reached ``to_stage``),
        ``n`` (cases at risk: reached ``from_stage`` with a usable time),
        ``median, median_low, median_high`` (days; ``nan``: not reached).
    curves : pandas.DataFrame
        The Kaplan-Meier tables: ``*by, from_stage, to_stage, time`` (days),
        ``at_risk, events, survival, low, high``.
    excluded : pandas.DataFrame
        Cases at risk left out because a time they need is undetermined
        (see ``CaseHistories.problems``): ``case_id, school, *by, from_stage,
        to_stage, reason``.
    """

    summary: pd.DataFrame
    curves: pd.DataFrame
    excluded: pd.DataFrame


def stage_durations(cases: pd.DataFrame, *, as_of, start: str, end: str) -> pd.DataFrame:
    """Days from ``start`` to ``end`` for every case that reached ``start``, open cases censored.

    A case that reached ``end`` ended at ``end``'s time. One that has not is
    censored: at ``as_of`` while open, at its closure once closed (a case
    closed without a referral left the risk of referral then: the curve is
    the cause-specific one, "referred while open"). A case whose start, end
    or closure time is undetermined (``CaseHistories.problems``) is kept with
    ``duration_days`` missing and the reason in ``excluded``: never dropped
    unseen, never given a guessed time.

    Parameters
    ----------
    cases : pandas.DataFrame
        ``CaseHistories.cases``.
    as_of : datetime-like
        When the data were extracted.
    start, end : str
        Stages, ``start`` before ``end`` in :data:`~psychanalytics.crisis.PATHWAY`.

    Returns
    -------
    pandas.DataFrame
        The cases that reached ``start`` (all their columns) with
        ``duration_days`` (float), ``ended`` (bool) and ``excluded`` (``""``,
        or why the case is left out).

    Examples
    --------
    >>> cases = pd.DataFrame({
    ...     "case_id": ["A", "B", "C"], "reached_raised": True, "reached_confirmed": [True, False, False],
    ...     "reached_closed": [False, True, False],
    ...     "raised_at": pd.to_datetime(["2025-03-01", "2025-03-01", "2025-03-03"]),
    ...     "confirmed_at": pd.to_datetime(["2025-03-03 12:00", None, None]),
    ...     "closed_at": pd.to_datetime([None, "2025-03-05", None])})
    >>> stage_durations(cases, as_of="2025-03-10", start="raised", end="confirmed")[
    ...     ["case_id", "duration_days", "ended", "excluded"]]
      case_id  duration_days  ended excluded
    0       A            2.5   True
    1       B            4.0  False
    2       C            7.0  False
    """
    if start not in PATHWAY or end not in PATHWAY or PATHWAY.index(start) >= PATHWAY.index(end):
        raise ValueError(
            f"stage_durations: start and end must be stages in pathway order {PATHWAY}, got {start!r} → {end!r}"
        )
    at_risk = cases[cases[f"reached_{start}"].astype(bool)].copy()
    begin = pd.to_datetime(at_risk[f"{start}_at"])
    reached = at_risk[f"reached_{end}"].astype(bool)
    closed = at_risk["reached_closed"].astype(bool)
    stop = pd.to_datetime(at_risk[f"{end}_at"]).where(
        reached, pd.to_datetime(at_risk["closed_at"]).where(closed, pd.Timestamp(as_of))
    )
    reason = np.select(
        [begin.isna(), reached & stop.isna(), ~reached & closed & stop.isna()],
        [f"{start} time undetermined", f"{end} time undetermined", "closed time undetermined"],
        "",
    )
    at_risk["duration_days"] = ((stop - begin) / _DAY).where(reason == "")
    at_risk["ended"] = reached.to_numpy()
    at_risk["excluded"] = reason
    return at_risk


def stage_times(
    cases: pd.DataFrame,
    *,
    as_of,
    by: str | Sequence[str] = (),
    intervals: Sequence[tuple[str, str]] = INTERVALS,
    ci: float = 0.95,
) -> StageTimes:
    """Median days between stages with their intervals, open cases censored (Kaplan-Meier), per group.

    Each interval's durations come from :func:`stage_durations` and go
    through :func:`~psychanalytics.crisis.survival` for each group; a group
    without a case at risk has no row. ``1 - survival`` of the curves is the
    share of cases that reached ``to_stage`` by a given day.

    Parameters
    ----------
    cases : pandas.DataFrame
        ``CaseHistories.cases``.
    as_of : datetime-like
        When the data were extracted.
    by : str or sequence of str
        Grouping columns of ``cases``: ``school``, ``source``, ``severity``, ``level`` (the level
        handling the case), ``term`` …
    intervals : sequence of (str, str)
        ``(from_stage, to_stage)`` pairs; default :data:`INTERVALS`.
    ci : float
        Confidence level.

    Returns
    -------
    StageTimes
        ``summary``, ``curves`` and ``excluded``.

    Examples
    --------
    >>> days = [1, 2, 2, 3, 5]
    >>> cases = pd.DataFrame({"case_id": list("ABCDE"), "school": "S1", "reached_raised": True,
    ...                       "reached_confirmed": [True] * 4 + [False], "reached_closed": False,
    ...                       "raised_at": pd.Timestamp("2025-03-01"), "closed_at": pd.NaT})
    >>> cases["confirmed_at"] = cases["raised_at"] + pd.to_timedelta(days, unit="D").where(cases["reached_confirmed"])
    >>> result = stage_times(cases, as_of="2025-03-06", intervals=[("raised", "confirmed")])
    >>> result.summary
      from_stage    to_stage  count  n  median  median_low  median_high
    0     raised  confirmed      4  5     2.0         1.0          NaN
    """
    by = check_by(cases, by, "stage_times")
    summaries, curves, excluded = [], [], []
    for start, end in intervals:
        durations = stage_durations(cases, as_of=as_of, start=start, end=end)
        left_out = durations[durations["excluded"] != ""]
        if len(left_out):
            keep = [c for c in ("case_id", "school", *by) if c in left_out.columns]
            excluded.append(
                left_out[keep].assign(from_stage=start, to_stage=end, reason=left_out["excluded"])
            )
        usable = durations[durations["excluded"] == ""]
        groups = usable.groupby(by, sort=True, dropna=False) if by else [((), usable)]
        for key, group in groups:
            if group.empty:
                continue
            labels = dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True))
            result = survival(group["duration_days"].to_numpy(), group["ended"].to_numpy(dtype=bool), ci=ci)
            summaries.append({**labels, "from_stage": start, "to_stage": end, "count": result.count,
                              "n": result.n, "median": result.median, "median_low": result.median_low,
                              "median_high": result.median_high})  # fmt: skip
            curves.append(result.table.assign(**labels, from_stage=start, to_stage=end))
    columns = [*by, "from_stage", "to_stage"]
    summary = pd.DataFrame(summaries, columns=[*columns, "count", "n", "median", "median_low", "median_high"])
    curve = pd.concat(curves, ignore_index=True) if curves else pd.DataFrame(columns=list(TABLE_COLUMNS))
    curve = curve.reindex(columns=[*columns, *TABLE_COLUMNS])
    left = (
        pd.concat(excluded, ignore_index=True)
        if excluded
        else pd.DataFrame(columns=["case_id", "school", *by, "from_stage", "to_stage", "reason"])
    )
    return StageTimes(summary.astype({"count": "int64", "n": "int64"}), curve, left)
