"""Staffing profile, gaps per school and per district under each standard."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from psychanalytics.staffing._standards import Standard, standards

FULL_TIME_WEEKLY_HOURS = 16.0
"""Weekly hours of psychology work that make one full-time equivalent (uncertain: a Chinese teacher's
standard load is 12-16 lessons a week; no document fixes it for psychology teachers)."""

_COUNTS = [
    "school_year",
    "school_id",
    "stage",
    "enrolment",
    "boarders",
    "full_time",
    "part_time",
    "part_time_hours",
]


def _require(frame: pd.DataFrame, columns: Sequence[str], where: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise KeyError(f"{where}: frame lacks column(s) {missing}; it has {list(frame.columns)}")


def profile(counts: pd.DataFrame, *, full_time_hours: float = FULL_TIME_WEEKLY_HOURS) -> pd.DataFrame:
    """Full-time equivalents and students per full-time teacher of each school and year.

    ``fte = full_time + part_time_hours / full_time_hours``: a full-timer counts 1, a part-timer the
    share of a full load their weekly psychology hours make. ``students_per_full_time`` is
    ``enrolment / full_time`` (missing without a full-timer, never infinite).

    Parameters
    ----------
    counts : pandas.DataFrame
        As from :func:`psychanalytics.store.queries.staffing.staff_counts`: ``school_year, school_id,
        stage, enrolment, boarders, full_time, part_time, part_time_hours``. Not modified.
    full_time_hours : float
        Weekly hours of one FTE (:data:`FULL_TIME_WEEKLY_HOURS`, uncertain: configurable).

    Returns
    -------
    pandas.DataFrame
        ``counts`` with ``teachers`` (full- plus part-time head count), ``fte`` and
        ``students_per_full_time``.

    Examples
    --------
    >>> counts = pd.DataFrame({"school_year": ["2024-2025"], "school_id": ["S1"], "stage": ["junior"],
    ...     "enrolment": [1200], "boarders": [0], "full_time": [1], "part_time": [2], "part_time_hours": [8.0]})
    >>> profile(counts)[["teachers", "fte", "students_per_full_time"]].iloc[0].tolist()
    [3.0, 1.5, 1200.0]
    """
    _require(counts, _COUNTS, "staffing.profile")
    if full_time_hours <= 0:
        raise ValueError(f"staffing.profile: full_time_hours must be > 0, got {full_time_hours}")
    bad = counts[["enrolment", "full_time", "part_time", "part_time_hours"]].lt(0).any(axis=1)
    if bad.any() or counts[_COUNTS[3:]].isna().any(axis=None):
        row = counts.index[bad | counts[_COUNTS[3:]].isna().any(axis=1)][0]
        raise ValueError(
            f"staffing.profile: negative or missing count in row {row} "
            f"({counts.loc[row, ['school_year', 'school_id']].tolist()})"
        )
    out = counts.copy()
    out["teachers"] = (out["full_time"] + out["part_time"]).astype(float)
    out["fte"] = out["full_time"] + out["part_time_hours"] / full_time_hours
    out["students_per_full_time"] = out["enrolment"] / out["full_time"].where(out["full_time"] > 0)
    return out


def _have(profile: pd.DataFrame, standard: Standard) -> pd.Series:
    return {"full_time": profile["full_time"], "any": profile["teachers"], "fte": profile["fte"]}[
        standard.counts
    ].astype(float)


def gaps(profile: pd.DataFrame, *, standards_used: Sequence[Standard] | None = None) -> pd.DataFrame:
    """Teachers each school still needs under each standard.

    ``gap = max(0, required - have)``, where ``required`` is :meth:`Standard.required` and ``have`` the
    school's full-time teachers, head count or FTE as the standard counts them.

    Parameters
    ----------
    profile : pandas.DataFrame
        As from :func:`profile`.
    standards_used : sequence of Standard, optional
        The standards to apply (default: every shipped one, :func:`standards`).

    Returns
    -------
    pandas.DataFrame
        One row per school, year and standard (standards in the order given): ``school_year,
        school_id, standard, applies, required, have, gap, meets`` (``meets``: applies and no gap;
        a school the standard does not apply to has ``required = 0`` and ``meets = False``).

    Examples
    --------
    >>> counts = pd.DataFrame({"school_year": ["2024-2025"] * 2, "school_id": ["S1", "S2"],
    ...     "stage": ["junior"] * 2, "enrolment": [2400, 300], "boarders": [0, 0], "full_time": [1, 0],
    ...     "part_time": [0, 1], "part_time_hours": [0.0, 4.0]})
    >>> g = gaps(profile(counts), standards_used=standards("ratio_1000", "national_2023"))
    >>> g[["school_id", "standard", "required", "have", "gap"]]
      school_id       standard  required  have  gap
    0        S1     ratio_1000       3.0   1.0  2.0
    1        S2     ratio_1000       1.0   0.0  1.0
    2        S1  national_2023       1.0   1.0  0.0
    3        S2  national_2023       1.0   1.0  0.0
    """
    _require(profile, [*_COUNTS, "teachers", "fte"], "staffing.gaps")
    chosen = standards() if standards_used is None else tuple(standards_used)
    if not chosen:
        raise ValueError("staffing.gaps: no standard given")
    parts = []
    for standard in chosen:
        required = np.array(
            [
                standard.required(enrolment=e, boarders=b, stage=s)
                for e, b, s in zip(profile["enrolment"], profile["boarders"], profile["stage"], strict=True)
            ],
            dtype=float,
        )
        applies = np.array(
            [
                standard.applies(enrolment=e, boarders=b)
                for e, b in zip(profile["enrolment"], profile["boarders"], strict=True)
            ],
            dtype=bool,
        )
        have = _have(profile, standard).to_numpy()
        gap = np.where(applies, np.maximum(0.0, required - have), 0.0)
        parts.append(
            pd.DataFrame(
                {
                    "school_year": profile["school_year"].to_numpy(),
                    "school_id": profile["school_id"].to_numpy(),
                    "standard": standard.code,
                    "applies": applies,
                    "required": required,
                    "have": have,
                    "gap": gap,
                    "meets": applies & (gap <= 1e-9),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def district_gaps(
    school_gaps: pd.DataFrame, *, standards_used: Sequence[Standard] | None = None
) -> pd.DataFrame:
    """Schools meeting each standard and teachers still needed, per school year.

    Parameters
    ----------
    school_gaps : pandas.DataFrame
        As from :func:`gaps`.
    standards_used : sequence of Standard, optional
        Where the names, target shares and deadlines come from (default: the shipped standards).

    Returns
    -------
    pandas.DataFrame
        One row per school year and standard: ``school_year, standard, name_zh, name_en, count``
        (schools meeting it), ``n`` (schools it applies to), ``proportion``, ``teachers_needed`` (the
        sum of the schools' gaps: FTE for an FTE standard), ``target_share`` and ``deadline``.

    Examples
    --------
    >>> g = pd.DataFrame({"school_year": ["2024-2025"] * 2, "school_id": ["S1", "S2"],
    ...     "standard": "zhonglou_2024", "applies": True, "required": 1.0, "have": [1.0, 0.0],
    ...     "gap": [0.0, 1.0], "meets": [True, False]})
    >>> district_gaps(g)[["count", "n", "proportion", "teachers_needed", "target_share"]]
       count  n  proportion  teachers_needed  target_share
    0      1  2         0.5              1.0           1.0
    """
    _require(school_gaps, ["school_year", "standard", "applies", "gap", "meets"], "staffing.district_gaps")
    known = {s.code: s for s in (standards() if standards_used is None else standards_used)}
    unknown = sorted(set(school_gaps["standard"]) - set(known))
    if unknown:
        raise KeyError(f"staffing.district_gaps: standard(s) {unknown} not among {list(known)}")
    applied = school_gaps[school_gaps["applies"]]
    out = (
        applied.groupby(["school_year", "standard"], sort=False)
        .agg(count=("meets", "sum"), n=("meets", "size"), teachers_needed=("gap", "sum"))
        .reindex(pd.MultiIndex.from_frame(school_gaps[["school_year", "standard"]].drop_duplicates()))
        .fillna({"count": 0, "n": 0, "teachers_needed": 0.0})
        .reset_index()
    )
    out[["count", "n"]] = out[["count", "n"]].astype("int64")
    out["proportion"] = out["count"] / out["n"].where(out["n"] > 0)
    for column in ("name_zh", "name_en", "target_share", "deadline"):
        out[column] = [getattr(known[code], column) for code in out["standard"]]
    columns = ["school_year", "standard", "name_zh", "name_en", "count", "n", "proportion", "teachers_needed"]
    return out[[*columns, "target_share", "deadline"]]
