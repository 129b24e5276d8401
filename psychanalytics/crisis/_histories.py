"""Case histories from stage events: one row per case with its stage times, and the data problems found."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from psychanalytics.crisis._conventions import codes, name

PATHWAY = codes("stages")
"""The stages in pathway order: raised → confirmed → intervention → referred → closed."""

OPEN_STAGES = PATHWAY[:-1]
"""Where an open case can wait: every stage but ``closed``."""

PROBLEMS = {
    "missing_time": "时间缺失 / no timestamp",
    "after_as_of": "时间晚于数据截止时间 / timestamp after the data's as-of time",
    "duplicate_stage": "同一阶段记录多次 / stage recorded more than once",
    "out_of_order": "时间早于前一阶段 / earlier than a stage before it",
    "missing_stage": "缺少前一阶段的记录 / a stage before it is not recorded",
}
"""Data problems :func:`case_histories` reports, with their Chinese and English descriptions."""

_CASE_COLUMNS = ("pid", "school", "source", "severity", "local_label", "wave_id")
_REQUIRED = ("case_id", "pid", "school", "source", "severity", "crisis_stage", "occurred_at")
_REQUIRES = (("raised", PATHWAY[1:]), ("confirmed", ("intervention", "referred")))
"""Stages that must be recorded before others: every stage follows the warning; a case is handled or
referred after its interview."""
_TIME = "%Y-%m-%d %H:%M"


@dataclass(frozen=True)
class CaseHistories:
    """Cases with their stage times (the result of :func:`case_histories`).

    Attributes
    ----------
    cases : pandas.DataFrame
        One row per case: ``case_id, pid, school, source, severity,
        local_label, wave_id``; ``level`` (the level of the network handling
        the case: the level of its latest event, see :func:`handling_level`;
        ``<NA>`` when the events have no ``level``); ``school_year`` and ``term`` (``2024-2025/1``:
        first term, September to January; ``/2`` February to August) of the
        warning; for each stage ``reached_<stage>`` (recorded at all) and
        ``<stage>_at`` (its time, ``NaT`` when not reached or when the data
        leave it undetermined: see ``problems``); ``furthest`` (the last stage
        before ``closed`` it reached), ``closed``; ``last_event_at``;
        ``sessions`` and ``last_session_on`` (the student's counselling
        sessions at the school from the warning to closure, or to ``as_of``);
        ``last_contact_at`` (the later of the two); ``problems`` (how many).
    problems : pandas.DataFrame
        One row per problem: ``case_id, school, crisis_stage, problem`` (a key
        of :data:`PROBLEMS`), ``detail``. A stage time involved in a problem is
        left undetermined, never guessed: no event is reordered or dropped.
    as_of : pandas.Timestamp
        When the data were extracted: open cases are open at this time.
    """

    cases: pd.DataFrame
    problems: pd.DataFrame
    as_of: pd.Timestamp


def school_term(moments: pd.Series) -> pd.DataFrame:
    """School year and term of timestamps: ``2024-2025`` and ``2024-2025/1`` (Sep-Jan) or ``/2`` (Feb-Aug).

    A school year starts on 1 September; its first term runs to the end of
    January, the second from February to the summer holiday (a convention:
    term dates differ by a few days between years and schools).

    >>> school_term(pd.Series(pd.to_datetime(["2024-09-02", "2025-01-10", "2025-03-01"])))
      school_year         term
    0   2024-2025  2024-2025/1
    1   2024-2025  2024-2025/1
    2   2024-2025  2024-2025/2
    """
    moments = pd.to_datetime(moments)
    start = moments.dt.year - (moments.dt.month < 9)
    year = start.astype("Int64").astype(str) + "-" + (start + 1).astype("Int64").astype(str)
    term = np.where((moments.dt.month >= 9) | (moments.dt.month == 1), "1", "2")
    known = moments.notna()
    return pd.DataFrame(
        {"school_year": year.where(known), "term": (year + "/" + term).where(known)}, index=moments.index
    )


def _check(events: pd.DataFrame) -> None:
    missing = [c for c in _REQUIRED if c not in events.columns]
    if missing:
        raise KeyError(f"case_histories: events lack column(s) {missing}; they have {list(events.columns)}")
    checks = [("crisis_stage", PATHWAY), ("source", codes("sources")), ("severity", (1, 2, 3))]
    if "level" in events.columns:
        checks.append(("level", codes("levels")))
    for column, allowed in checks:
        bad = ~events[column].isin(allowed)
        if bad.any():
            rows = events.index[bad.to_numpy()][:5].tolist()
            raise ValueError(
                f"case_histories: {column} must be one of {list(allowed)}; rows {rows} hold "
                f"{events.loc[rows, column].tolist()}"
            )
    attributes = [c for c in _CASE_COLUMNS if c in events.columns]
    varying = events.groupby("case_id")[attributes].nunique(dropna=False).gt(1)
    if varying.any(axis=None):
        case = varying.index[varying.any(axis=1).to_numpy()][0]
        columns = varying.columns[varying.loc[case].to_numpy()].tolist()
        raise ValueError(f"case_histories: case {case!r} has more than one value of {columns}")


def _problem(frame: pd.DataFrame, problem: str, detail: pd.Series) -> pd.DataFrame:
    return frame[["case_id", "school", "crisis_stage"]].assign(problem=problem, detail=detail.to_numpy())


def _when(moments: pd.Series) -> pd.Series:
    return moments.dt.strftime(_TIME).fillna("—")


def _stage_zh(stages: pd.Series) -> pd.Series:
    return stages.map(lambda code: f"「{name('stages', code)}」")


def _duplicates(repeated) -> pd.DataFrame:
    """``duplicate_stage`` problems of (case, stage) groups recorded more than once, with their times."""
    repeated = repeated.agg(
        school=("school", "first"),
        n=("occurred_at", "size"),
        times=("occurred_at", lambda s: "、".join(_when(s.sort_values()))),
    ).reset_index()
    detail = (
        _stage_zh(repeated["crisis_stage"])
        + "记录了 "
        + repeated["n"].astype(str)
        + " 次："
        + repeated["times"]
    )
    return _problem(repeated, "duplicate_stage", detail)


def _single_times(events: pd.DataFrame, as_of: pd.Timestamp) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """Times of stages recorded once with a usable time (case × stage), and the problems of the others."""
    found = []
    untimed = events[events["occurred_at"].isna()]
    found.append(_problem(untimed, "missing_time", _stage_zh(untimed["crisis_stage"]) + "没有记录时间"))
    late = events[events["occurred_at"] > as_of]
    found.append(
        _problem(
            late,
            "after_as_of",
            _stage_zh(late["crisis_stage"]) + _when(late["occurred_at"]) + f" 晚于截止时间 {as_of:{_TIME}}",
        )
    )
    counts = events.groupby(["case_id", "crisis_stage"])["occurred_at"].transform("size")
    repeated = events[counts > 1].groupby(["case_id", "crisis_stage"], sort=False)
    if repeated.ngroups:
        found.append(_duplicates(repeated))

    usable = events[(counts == 1) & events["occurred_at"].notna() & (events["occurred_at"] <= as_of)]
    times = pd.DataFrame(
        {
            stage: usable.loc[usable["crisis_stage"] == stage].set_index("case_id")["occurred_at"]
            for stage in PATHWAY
        }
    )
    return times, found


def _out_of_order(times: pd.DataFrame, schools: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pairs of stages whose times contradict the pathway; both times become undetermined."""
    doubtful = pd.DataFrame(False, index=times.index, columns=times.columns)
    found = []
    for i, earlier in enumerate(PATHWAY):
        for later in PATHWAY[i + 1 :]:
            wrong = times[later] < times[earlier]
            if not wrong.any():
                continue
            doubtful.loc[wrong, [earlier, later]] = True
            rows = times.index[wrong.to_numpy()]
            found.append(
                pd.DataFrame(
                    {
                        "case_id": rows,
                        "school": schools.reindex(rows).to_numpy(),
                        "crisis_stage": later,
                        "problem": "out_of_order",
                        "detail": (
                            f"「{name('stages', later)}」"
                            + _when(times.loc[rows, later])
                            + f" 早于「{name('stages', earlier)}」"
                            + _when(times.loc[rows, earlier])
                        ).to_numpy(),
                    }
                )
            )
    return times.mask(doubtful), pd.concat(found) if found else pd.DataFrame()


def _missing_stages(reached: pd.DataFrame, schools: pd.Series) -> pd.DataFrame:
    """Stages recorded without one that must come before them, reported on the missing stage."""
    found = []
    for needed, after in _REQUIRES:
        lacking = reached[list(after)].any(axis=1) & ~reached[needed]
        rows = reached.index[lacking.to_numpy()]
        if not len(rows):
            continue
        recorded = reached.loc[rows, list(after)].apply(
            lambda r: "、".join(f"「{name('stages', s)}」" for s in r.index[r.to_numpy()]), axis=1
        )
        found.append(
            pd.DataFrame(
                {
                    "case_id": rows,
                    "school": schools.reindex(rows).to_numpy(),
                    "crisis_stage": needed,
                    "problem": "missing_stage",
                    "detail": (recorded + f"已记录，但没有「{name('stages', needed)}」").to_numpy(),
                }
            )
        )
    return pd.concat(found) if found else pd.DataFrame()


def case_histories(events: pd.DataFrame, *, as_of, sessions: pd.DataFrame | None = None) -> CaseHistories:
    """One row per crisis case with the time it reached each stage; data problems reported, never repaired.

    A stage's time is the time of its one event. It is left undetermined
    (``NaT``), and the case and stage are listed in ``problems``, when the
    event has no time (``missing_time``) or one after ``as_of``
    (``after_as_of``), when the stage is recorded more than once
    (``duplicate_stage``: which time is right is unknown), or when its time is
    earlier than a stage before it in the pathway (``out_of_order``: both
    stages' times are undetermined, as either may be wrong). A stage recorded
    without one that must precede it (every stage needs ``raised``;
    ``intervention`` and ``referred`` need ``confirmed``) is reported as
    ``missing_stage`` on the stage that is missing. No event is reordered,
    dropped or moved: a case still counts as having reached every stage it
    recorded, and durations involving an undetermined time are left out and
    listed by :func:`stage_times`.

    Parameters
    ----------
    events : pandas.DataFrame
        One row per stage event: ``case_id, pid, school, source, severity,
        crisis_stage`` (a code of :data:`PATHWAY`), ``occurred_at`` (may be
        missing); optional ``local_label, wave_id, level, seq`` (``level``: a
        code of the conventions' ``levels``; the case's ``level`` is that of its
        latest event), as from
        :func:`psychanalytics.store.queries.crisis.crisis_events`. Case
        attributes must be the same on every event of a case. Not modified.
    as_of : datetime-like
        When the data were extracted; open cases are open until then.
    sessions : pandas.DataFrame, optional
        Counselling sessions ``pid, school, held_on`` (as from
        :func:`~psychanalytics.store.queries.crisis.crisis_sessions`): the
        follow-ups of a case are its student's sessions at its school from the
        day of the warning to its closure (or ``as_of``).

    Returns
    -------
    CaseHistories
        ``cases`` and ``problems`` (see :class:`CaseHistories`).

    Raises
    ------
    KeyError
        If a required column is missing.
    ValueError
        If a stage, source or severity is not one of the known codes, or a case
        has two values of an attribute (two pupils, two schools).

    Examples
    --------
    >>> import pandas as pd
    >>> events = pd.DataFrame({
    ...     "case_id": ["C1", "C1", "C1", "C2", "C2"], "pid": ["p1"] * 3 + ["p2"] * 2,
    ...     "school": "S1", "source": "screening", "severity": 2,
    ...     "crisis_stage": ["raised", "confirmed", "closed", "raised", "confirmed"],
    ...     "occurred_at": pd.to_datetime(["2024-10-08 09:00", "2024-10-09 15:00", "2024-12-01 10:00",
    ...                                    "2024-11-04 08:00", "2024-11-01 16:00"])})
    >>> histories = case_histories(events, as_of="2025-01-31")
    >>> histories.cases[["case_id", "furthest", "closed", "confirmed_at", "term"]]
      case_id   furthest  closed        confirmed_at         term
    0      C1  confirmed    True 2024-10-09 15:00:00  2024-2025/1
    1      C2  confirmed   False                 NaT  2024-2025/1
    >>> histories.problems[["case_id", "crisis_stage", "problem"]]
      case_id crisis_stage       problem
    0      C2    confirmed  out_of_order
    """
    _check(events)
    as_of = pd.Timestamp(as_of)
    frame = events.assign(occurred_at=pd.to_datetime(events["occurred_at"])).reset_index(drop=True)
    attributes = [c for c in _CASE_COLUMNS if c in frame.columns]
    cases = frame.groupby("case_id", sort=True)[attributes].first()
    cases = cases.reindex(columns=list(_CASE_COLUMNS))
    single, found = _single_times(frame, as_of)
    single = single.reindex(cases.index)
    times, disorder = _out_of_order(single, cases["school"])
    recorded = (
        pd.crosstab(frame["case_id"], frame["crisis_stage"])
        .reindex(index=cases.index, columns=list(PATHWAY))
        .fillna(0)
        .gt(0)
    )
    found += [disorder, _missing_stages(recorded, cases["school"])]
    found = [f for f in found if len(f)]
    columns = ["case_id", "school", "crisis_stage", "problem", "detail"]
    problems = pd.concat(found, ignore_index=True)[columns] if found else pd.DataFrame(columns=columns)
    reached = recorded.assign(
        raised=True
    )  # a case exists because a warning was raised, whatever its events say
    problems = problems.sort_values(
        ["case_id", "crisis_stage"], key=lambda s: s.map(PATHWAY.index) if s.name == "crisis_stage" else s
    ).reset_index(drop=True)

    out = cases.copy()
    valid = frame[frame["occurred_at"].notna() & (frame["occurred_at"] <= as_of)]
    start = times["raised"].fillna(valid.groupby("case_id")["occurred_at"].min().reindex(cases.index))
    out["level"] = handling_level(frame).reindex(cases.index)
    out = out.join(school_term(start))
    for stage in PATHWAY:
        out[f"reached_{stage}"] = reached[stage]
        out[f"{stage}_at"] = times[stage]
    open_reached = reached[list(OPEN_STAGES)]
    out["furthest"] = open_reached.apply(lambda r: r.index[r.to_numpy()][-1], axis=1)
    out["closed"] = reached["closed"]
    out["last_event_at"] = valid.groupby("case_id")["occurred_at"].max().reindex(cases.index)
    out = out.join(_follow_ups(out, start, sessions, as_of))
    out["last_contact_at"] = out[["last_event_at", "last_session_on"]].max(axis=1)
    out["problems"] = problems.groupby("case_id").size().reindex(cases.index, fill_value=0).astype("int64")
    return CaseHistories(out.reset_index(), problems, as_of)


def handling_level(events: pd.DataFrame) -> pd.Series:
    """The level of the network (``class``, ``school``, ``society``) handling each case: that of its latest event.

    The latest event is the one with the latest time; events recorded at the
    same time are ordered by ``seq`` (or, without it, as given), and events
    without a time come after the timed ones in that order, since a stage
    recorded without a time is still where the case went. So a case referred
    to a hospital is handled by ``society`` until an event at another level is
    recorded (closed by the school when the student returns: ``school``). The
    level is what the records say, problems and all (:func:`case_histories`
    reports those); it is ``<NA>`` where the events have no ``level`` column.

    >>> events = pd.DataFrame({"case_id": ["C1", "C1", "C1", "C2"], "seq": [1, 2, 3, 1],
    ...                        "level": ["class", "school", "society", "class"],
    ...                        "occurred_at": pd.to_datetime(["2024-10-08", "2024-10-09", None, "2024-11-04"])})
    >>> handling_level(events).to_dict()
    {'C1': 'society', 'C2': 'class'}
    """
    ids = pd.Index(events["case_id"].unique(), name="case_id")
    if "level" not in events.columns:
        return pd.Series(pd.NA, index=ids, name="level", dtype="object")
    order = events.assign(
        _untimed=pd.to_datetime(events["occurred_at"]).isna(),
        _at=pd.to_datetime(events["occurred_at"]),
        _seq=events["seq"] if "seq" in events.columns else range(len(events)),
        _row=range(len(events)),
    ).sort_values(["case_id", "_untimed", "_at", "_seq", "_row"], na_position="last")
    latest = order.drop_duplicates("case_id", keep="last").set_index("case_id")["level"]
    return latest.rename("level").reindex(ids)


def _follow_ups(
    cases: pd.DataFrame, start: pd.Series, sessions: pd.DataFrame | None, as_of: pd.Timestamp
) -> pd.DataFrame:
    """Sessions of each case's student at its school from the day of the warning to closure (or ``as_of``)."""
    empty = pd.DataFrame({"sessions": 0, "last_session_on": pd.NaT}, index=cases.index).astype(
        {"sessions": "int64", "last_session_on": "datetime64[ns]"}
    )
    if sessions is None or sessions.empty:
        return empty
    missing = [c for c in ("pid", "school", "held_on") if c not in sessions.columns]
    if missing:
        raise KeyError(f"case_histories: sessions lack column(s) {missing}")
    window = pd.DataFrame(
        {
            "pid": cases["pid"],
            "school": cases["school"],
            "start": start.dt.normalize(),
            "end": cases["closed_at"].fillna(as_of),
        },
        index=cases.index,
    ).reset_index()
    held = sessions[["pid", "school", "held_on"]].assign(held_on=pd.to_datetime(sessions["held_on"]))
    joined = window.merge(held, on=["pid", "school"])
    joined = joined[(joined["held_on"] >= joined["start"]) & (joined["held_on"] <= joined["end"])]
    summary = joined.groupby("case_id")["held_on"].agg(sessions="size", last_session_on="max")
    return empty.assign(
        sessions=summary["sessions"].reindex(cases.index, fill_value=0).astype("int64"),
        last_session_on=summary["last_session_on"].reindex(cases.index),
    )


def check_by(cases: pd.DataFrame, by: str | Sequence[str], function: str) -> list[str]:
    """``by`` as a list of columns of ``cases`` (``KeyError`` naming the columns it may use)."""
    by = [by] if isinstance(by, str) else list(by)
    missing = [c for c in by if c not in cases.columns]
    if missing:
        raise KeyError(
            f"{function}: by= column(s) {missing} are not columns of the cases: {list(cases.columns)}"
        )
    return by
