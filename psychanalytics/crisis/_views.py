"""The one case-level view: a school's own cases, pseudonymous, for that school's staff."""

from __future__ import annotations

import numpy as np
import pandas as pd

from psychanalytics.crisis._conventions import WarningScale, name, warning_scale
from psychanalytics.crisis._histories import PROBLEMS

SCHOOL_CASE_COLUMNS = (
    "case_id",
    "pid",
    "source",
    "warning",
    "local_label",
    "where",
    "level",
    "raised_at",
    "last_contact_at",
    "days_since_contact",
    "stalled",
    "sessions",
    "problems",
)


def school_cases(
    cases: pd.DataFrame, school: str, *, as_of, limit_days: int = 30, scale: WarningScale | None = None
) -> pd.DataFrame:
    """The cases of one school, for its own psychology teacher: stalled ones first, students pseudonymous.

    This is the only case-level view (docs/privacy.md): it takes the school
    and returns nothing of another school; students appear by ``pid`` only
    (the school re-identifies its own students with its roster, see
    ``psychanalytics followup``). District leaders see aggregates only
    (:func:`funnel`, :func:`open_cases`, :func:`stage_times` through
    :func:`psychanalytics.privacy.leader_view`).

    Parameters
    ----------
    cases : pandas.DataFrame
        ``CaseHistories.cases``.
    school : str
        The school's ``school_id``.
    as_of : datetime-like
        When the data were extracted.
    limit_days : int
        Days without contact (stage event or counselling session) after which
        an open case is ``stalled``.
    scale : WarningScale, optional
        How severities are labelled; default the district's (:func:`warning_scale`).

    Returns
    -------
    pandas.DataFrame
        One row per case of ``school`` (:data:`SCHOOL_CASE_COLUMNS`): ``source``
        and ``where`` (the stage an open case waits at, or 结案) in Chinese,
        ``warning`` (the district's label of the severity) beside the
        ``local_label`` the school wrote, ``level`` (班级 / 学校 / 社会: who
        handles the case now, :func:`handling_level`; empty where the events
        record no level), ``days_since_contact`` (whole days),
        ``stalled``, ``sessions``, ``problems`` (data problems to correct).
        Open stalled cases first, then open ones, most severe first; closed last.

    Raises
    ------
    TypeError
        If ``school`` is not one school id (a string).

    Examples
    --------
    >>> cases = pd.DataFrame({"case_id": ["C1", "C2"], "pid": ["p1", "p2"], "school": ["S1", "S2"],
    ...                       "source": "screening", "severity": [3, 2], "local_label": "一级预警",
    ...                       "furthest": "confirmed", "closed": False,
    ...                       "raised_at": pd.Timestamp("2025-03-01"),
    ...                       "last_contact_at": pd.Timestamp("2025-03-02"), "sessions": 0, "problems": 0})
    >>> school_cases(cases, "S1", as_of="2025-04-30")[["case_id", "warning", "where", "stalled"]]
      case_id warning where  stalled
    0      C1    红色预警  评估确认     True
    """
    if not isinstance(school, str):
        raise TypeError(f"school_cases: give one school id, got {school!r}")
    scale = scale or warning_scale()
    own = cases[cases["school"] == school]
    days = np.floor((pd.Timestamp(as_of) - pd.to_datetime(own["last_contact_at"])).dt.total_seconds() / 86400)
    closed = own["closed"].astype(bool)
    out = pd.DataFrame(
        {
            "case_id": own["case_id"],
            "pid": own["pid"],
            "source": own["source"].map(lambda code: name("sources", code)),
            "warning": own["severity"].map(scale.label),
            "local_label": own["local_label"],
            "where": own["furthest"]
            .map(lambda code: name("stages", code))
            .where(~closed, name("stages", "closed")),
            "level": own["level"].map(lambda code: name("levels", code), na_action="ignore")
            if "level" in own.columns
            else pd.Series(pd.NA, index=own.index, dtype="object"),
            "raised_at": own["raised_at"],
            "last_contact_at": own["last_contact_at"],
            "days_since_contact": days.astype("Int64"),
            "stalled": ~closed & (days > limit_days),
            "sessions": own["sessions"],
            "problems": own["problems"],
        }
    )
    order = out.assign(_closed=closed, _severity=-own["severity"], _days=-days.fillna(np.inf))
    order = order.sort_values(
        ["_closed", "stalled", "_severity", "_days"], ascending=[True, False, True, True]
    )
    return out.loc[order.index].reset_index(drop=True)


def school_problems(problems: pd.DataFrame, school: str) -> pd.DataFrame:
    """The data problems of one school's cases, for the staff who correct its records.

    ``problems``: ``CaseHistories.problems``. Returns that school's rows with
    the stage and the problem in Chinese: ``case_id, stage, problem, detail``.

    >>> problems = pd.DataFrame({"case_id": ["C1", "C2"], "school": ["S1", "S2"],
    ...                          "crisis_stage": ["confirmed", "raised"],
    ...                          "problem": ["duplicate_stage", "missing_stage"], "detail": ["…", "…"]})
    >>> school_problems(problems, "S1")
      case_id stage     problem detail
    0      C1  评估确认  同一阶段记录多次      …
    """
    if not isinstance(school, str):
        raise TypeError(f"school_problems: give one school id, got {school!r}")
    own = problems[problems["school"] == school]
    return pd.DataFrame(
        {
            "case_id": own["case_id"],
            "stage": own["crisis_stage"].map(lambda code: name("stages", code)),
            "problem": own["problem"].map(lambda code: PROBLEMS[code].split(" / ")[0]),
            "detail": own["detail"],
        }
    ).reset_index(drop=True)
