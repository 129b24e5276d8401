"""Where warnings go and where they stall: the stage funnel, open cases by stage and waiting time, repeats."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from psychanalytics.crisis._histories import OPEN_STAGES, PATHWAY, check_by

FUNNEL_FROM = {
    "raised": "raised",
    "confirmed": "raised",
    "intervention": "confirmed",
    "referred": "confirmed",
    "closed": "raised",
}
"""The stage each funnel step is a share of: interviews of warnings, interventions and referrals of
interviewed cases, closures of warnings (a referral may follow the interview without a school
intervention; a case may close after its interview)."""


def _groups(cases: pd.DataFrame, by: list[str]):
    return cases.groupby(by, sort=True, dropna=False) if by else [((), cases)]


def _key(by: list[str], key) -> dict:
    key = key if isinstance(key, tuple) else (key,)
    return dict(zip(by, key, strict=True))


def funnel(cases: pd.DataFrame, *, by: str | Sequence[str] = ()) -> pd.DataFrame:
    """Cases that reached each stage, as a share of those that reached the stage before it.

    For stage ``s`` with its base ``b = FUNNEL_FROM[s]``: ``n`` = cases that
    reached ``b``, ``count`` = those of them that also reached ``s``,
    ``proportion = count / n`` (the conversion). A stage counts as reached
    when it is recorded, whether or not its time is usable (a case with two
    interview records was interviewed). Cases lost between stages are the
    open ones that stopped moving: see :func:`open_cases`.

    Parameters
    ----------
    cases : pandas.DataFrame
        ``CaseHistories.cases`` (columns ``reached_<stage>`` and the ``by`` columns).
    by : str or sequence of str
        Grouping columns of ``cases``: ``school``, ``source``, ``severity``, ``level`` (the
        level handling the case), ``term``, ``school_year`` …

    Returns
    -------
    pandas.DataFrame
        One row per group and stage in pathway order: ``*by, crisis_stage,
        from_stage, count, n, proportion`` (``raised``: every case, out of
        itself). Each row stands alone (rows are nested, not parts of a total).

    Examples
    --------
    >>> cases = pd.DataFrame({"reached_raised": [True] * 4, "reached_confirmed": [True, True, True, False],
    ...                       "reached_intervention": [True, True, False, False],
    ...                       "reached_referred": [True, False, False, False],
    ...                       "reached_closed": [True, False, True, False]})
    >>> funnel(cases)
       crisis_stage from_stage  count  n  proportion
    0        raised     raised      4  4    1.000000
    1     confirmed     raised      3  4    0.750000
    2  intervention  confirmed      2  3    0.666667
    3      referred  confirmed      1  3    0.333333
    4        closed     raised      2  4    0.500000
    """
    by = check_by(cases, by, "funnel")
    rows = []
    for key, group in _groups(cases, by):
        for stage in PATHWAY:
            base = group[f"reached_{FUNNEL_FROM[stage]}"].to_numpy(dtype=bool)
            reached = base & group[f"reached_{stage}"].to_numpy(dtype=bool)
            rows.append({**_key(by, key), "crisis_stage": stage, "from_stage": FUNNEL_FROM[stage],
                         "count": int(reached.sum()), "n": int(base.sum())})  # fmt: skip
    out = pd.DataFrame(rows, columns=[*by, "crisis_stage", "from_stage", "count", "n"])
    out["proportion"] = out["count"] / out["n"].where(out["n"] > 0)
    return out


def _waiting_labels(ages: tuple[int, ...]) -> list[str]:
    lower = [0, *(a + 1 for a in ages)]
    return [f"{lo}-{hi}" for lo, hi in zip(lower, ages, strict=False)] + [f"{lower[-1]}+"]


def open_cases(
    cases: pd.DataFrame,
    *,
    as_of,
    by: str | Sequence[str] = (),
    limit_days: int = 30,
    ages: Sequence[int] = (30,),
) -> pd.DataFrame:
    """Every case of each group by where it waits (the last stage it reached, or closed) and for how long.

    An open case waits at the last stage before closure that it reached; its
    waiting time is the whole days from its last contact (the later of its
    last stage event and its last counselling session, ``last_contact_at``) to
    ``as_of``, binned at ``ages``. Open past ``limit_days`` without contact is
    *stalled*: the warnings lost between stages. The rows of a group are a
    partition of its cases (``n``), every position and waiting band present
    (``count = 0`` where none), so a leader view can take the group as ``by``
    and the stalled rows as its headline.

    Parameters
    ----------
    cases : pandas.DataFrame
        ``CaseHistories.cases``.
    as_of : datetime-like
        When the data were extracted (``CaseHistories.as_of``).
    by : str or sequence of str
        Grouping columns of ``cases``.
    limit_days : int
        Days without contact after which an open case counts as stalled; one of ``ages``.
    ages : sequence of int
        Upper bounds (whole days, increasing) of the waiting bands: ``(7, 30, 90)``
        gives ``0-7``, ``8-30``, ``31-90``, ``91+``.

    Returns
    -------
    pandas.DataFrame
        ``*by, position`` (``closed`` or an open stage), ``waited`` (the band;
        ``""`` for closed cases, ``unknown`` for an open case without a usable
        time, listed only where there is one), ``past_limit``, ``count``, ``n``
        (the group's cases), ``proportion``.

    Raises
    ------
    ValueError
        If ``ages`` is not increasing and positive, or ``limit_days`` is not one of them.

    Examples
    --------
    >>> cases = pd.DataFrame({"furthest": ["raised", "confirmed", "confirmed"], "closed": [False, False, True],
    ...                       "last_contact_at": pd.to_datetime(["2025-05-01", "2025-06-25", "2025-06-01"])})
    >>> table = open_cases(cases, as_of="2025-07-01", limit_days=30)
    >>> table[table["count"] > 0]
      position waited  past_limit  count  n  proportion
    0   closed              False      1  3    0.333333
    2   raised    31+        True      1  3    0.333333
    3  confirmed  0-30      False      1  3    0.333333
    """
    by = check_by(cases, by, "open_cases")
    ages = tuple(int(a) for a in ages)
    if not ages or any(a <= 0 for a in ages) or list(ages) != sorted(set(ages)):
        raise ValueError(f"open_cases: ages must be increasing whole days > 0, got {ages}")
    if limit_days not in ages:
        raise ValueError(f"open_cases: limit_days ({limit_days}) must be one of ages {ages}")
    labels = _waiting_labels(ages)
    days = np.floor(
        (pd.Timestamp(as_of) - pd.to_datetime(cases["last_contact_at"])).dt.total_seconds() / 86400
    )
    band = pd.cut(days, bins=[-np.inf, *ages, np.inf], labels=labels).astype(object).fillna("unknown")
    waited = band.where(~cases["closed"].astype(bool), "")
    position = cases["furthest"].where(~cases["closed"].astype(bool), "closed")
    frame = cases[by].assign(position=position.to_numpy(), waited=waited.to_numpy())
    past = {label: i > ages.index(limit_days) for i, label in enumerate(labels)}
    waits = [*labels, *(["unknown"] if (frame["waited"] == "unknown").any() else [])]
    cells = [("closed", "", False)] + [(stage, w, past.get(w, False)) for stage in OPEN_STAGES for w in waits]
    rows = []
    for key, group in _groups(frame, by):
        counts = group.groupby(["position", "waited"]).size()
        for p, w, past_limit in cells:
            rows.append({**_key(by, key), "position": p, "waited": w, "past_limit": past_limit,
                         "count": int(counts.get((p, w), 0)), "n": len(group)})  # fmt: skip
    out = pd.DataFrame(rows, columns=[*by, "position", "waited", "past_limit", "count", "n"])
    out["proportion"] = out["count"] / out["n"].where(out["n"] > 0)
    return out


def repeat_warnings(cases: pd.DataFrame, *, by: str | Sequence[str] = ()) -> pd.DataFrame:
    """Students with more than one warning: of the students with a case in each group, those with two or more.

    Parameters
    ----------
    cases : pandas.DataFrame
        ``CaseHistories.cases`` (``pid`` and the ``by`` columns).
    by : str or sequence of str
        Grouping columns; a student counts in every group where they have a case.

    Returns
    -------
    pandas.DataFrame
        ``*by, count`` (students with 2+ cases in the group), ``n`` (students
        with a case in it), ``proportion``.

    Examples
    --------
    >>> cases = pd.DataFrame({"pid": ["a", "a", "b", "c"], "school": ["S1", "S1", "S1", "S2"]})
    >>> repeat_warnings(cases, by="school")
      school  count  n  proportion
    0     S1      1  2         0.5
    1     S2      0  1         0.0
    """
    by = check_by(cases, by, "repeat_warnings")
    per_student = cases.groupby([*by, "pid"], dropna=False).size().rename("cases").reset_index()
    if not by:
        per_student["_all"] = 0
    out = per_student.groupby(by or ["_all"], dropna=False)["cases"].agg(
        count=lambda s: int((s >= 2).sum()), n="size"
    )
    out = out.reset_index().drop(columns=["_all"], errors="ignore")
    out["proportion"] = out["count"] / out["n"]
    return out.astype({"count": "int64", "n": "int64"})
