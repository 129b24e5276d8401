"""Crisis cases and their event sequences, classified archives and archive transfers.

Cases arise from screening (PHQ-9 item 9 and total) and, for every grade,
from a student's latent distress (head teacher, teacher, self-referral, parent, 心理委员, classmate).
A case is raised at class level (or school level when it comes from
screening or self-referral), confirmed and handled at school level, referred
to society (hospital, social organisation) when severe, and closed. A few
cases are lost between stages (:data:`LOST`) and the latest ones are still
open at :data:`SNAPSHOT`; the days between stages are drawn from
:data:`DELAYS`. A few cases carry the errors real case records carry
(:func:`damage`: an interview dated before the warning, an interview recorded
twice, an interview not recorded, a closure typed ten years late); which ones
is returned apart, never written to the database.

Archives: the share of enrolled students with an archive record rises over
the plan's years (:data:`ARCHIVED`); students with a case or a raised
screening score always have one. Most changes of school are followed by the
archive within weeks; some take months and some never arrive
(:data:`TRANSFER`).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from psychanalytics.synth._population import FIRST_YEAR

SNAPSHOT = dt.datetime(2026, 7, 10)
"""The moment the demo district's data were extracted (end of school year 2025-2026)."""

LOST = {"confirmed": 0.04, "intervention": 0.03, "closed": 0.03}
"""Share of all cases lost before each stage: never interviewed; interviewed, never handled; handled,
never closed (cumulative thresholds 0.04, 0.07, 0.10 of one uniform draw)."""
DELAYS = {
    "confirmed": (0.2, 5.0),
    "intervention": (0.1, 3.0),
    "referred": (2.0, 14.0),
    "closed": (20.0, 150.0),
}
"""Days from the previous stage to each stage, uniform between the bounds."""
DAMAGED = 0.015
"""Share of cases given each kind of record error by :func:`damage` (at least one case per kind)."""
ARCHIVED = (0.82, 0.9, 0.95, 0.98, 0.995)
"""Share of enrolled students with an archive record in each school year 2021-2022 … 2025-2026."""
TRANSFER = {"never": 0.05, "late": 0.12, "early": 0.05}
"""Of the changes of school: archive never transferred; transferred 30-150 days into the school year
(the rest within 25 days); transferred in the last week of August, before the school year."""

_LABEL = {
    True: {3: "一级预警", 2: "二级预警", 1: "三级预警"},
    False: {1: "一级预警", 2: "二级预警", 3: "三级预警"},
}
_OTHER_SOURCES = ("head_teacher", "teacher", "self_referral", "parent", "class_committee", "peer")
_OTHER_SHARES = (0.3, 0.2, 0.2, 0.2, 0.06, 0.04)
"""Shares of the warnings not raised by screening; the cumulative cut points of the shares before the
sources were split (DESIGN.md decision 93) are kept, so the same draws give the same cases."""
_ORDER = ("raised", "confirmed", "intervention", "referred", "closed")


def _hours(rng: np.random.Generator, low: float, high: float) -> dt.timedelta:
    return dt.timedelta(hours=float(rng.uniform(low, high)))


def cases(
    enrol: pd.DataFrame,
    screen: pd.DataFrame,
    theta: np.ndarray,
    schools: pd.DataFrame,
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``crisis_case`` rows (with ``year``, ``raised_at``, ``referred_at`` kept for the build) and events.

    ``screen`` is indexed like ``enrol`` with columns ``wave_id``, ``phq9``
    (total) and ``item9`` (PHQ-9 item 9 code), NaN when not screened.
    """
    phq = np.nan_to_num(screen["phq9"].to_numpy(), nan=-1)
    item9 = np.nan_to_num(screen["item9"].to_numpy(), nan=-1)
    p_screen = np.select(
        [(item9 >= 2) & (phq >= 20), item9 >= 2, (item9 >= 1) & (phq >= 15), item9 >= 1, phq >= 15],
        [0.6, 0.3, 0.2, 0.06, 0.05],
        0.0,
    )
    p_other = 1.0 / (1.0 + np.exp(-(-7.0 + 1.4 * theta)))
    u = rng.random(len(enrol))
    from_screen = u < p_screen
    from_other = ~from_screen & (u < p_screen + p_other)
    rows = np.flatnonzero(from_screen | from_other)
    severity = np.where(
        from_screen[rows],
        1 + (item9[rows] >= 1) + ((item9[rows] >= 2) & (phq[rows] >= 15)),
        1
        + (theta[rows] + rng.normal(0, 0.4, len(rows)) > 2.2)
        + (theta[rows] + rng.normal(0, 0.4, len(rows)) > 2.8),
    ).astype(int)
    source = np.where(
        from_screen[rows], "screening", rng.choice(_OTHER_SOURCES, size=len(rows), p=_OTHER_SHARES)
    )
    severe_first = dict(zip(schools["school_id"], schools["severe_is_first"], strict=True))
    out, events = [], []
    for n, (row, sev, src) in enumerate(zip(rows, severity, source, strict=True)):
        year = int(enrol["year"].iat[row])
        school_id = enrol["school_id"].iat[row]
        if src == "screening":
            raised = dt.datetime(FIRST_YEAR + year, 10, 1) + dt.timedelta(days=int(rng.integers(0, 40)))
        else:
            raised = dt.datetime(FIRST_YEAR + year, 9, 5) + dt.timedelta(days=int(rng.integers(0, 295)))
        raised += _hours(rng, 8, 17)
        case_id = f"CR{FIRST_YEAR + year}{n + 1:06d}"
        stages = [("raised", "school" if src in ("screening", "self_referral") else "class", raised)]
        at = raised
        lost = rng.random()
        if lost >= LOST["confirmed"]:
            at += dt.timedelta(days=float(rng.uniform(*DELAYS["confirmed"])))
            stages.append(("confirmed", "school", at))
            if lost >= LOST["confirmed"] + LOST["intervention"]:
                at += dt.timedelta(days=float(rng.uniform(*DELAYS["intervention"])))
                stages.append(("intervention", "school", at))
                if sev == 3 or (sev == 2 and rng.random() < 0.3):
                    at += dt.timedelta(days=float(rng.uniform(*DELAYS["referred"])))
                    stages.append(("referred", "society", at))
                if lost >= sum(LOST.values()):
                    at += dt.timedelta(days=float(rng.uniform(*DELAYS["closed"])))
                    stages.append(("closed", stages[-1][1], at))
        stages = [(stage, level, when.replace(second=0, microsecond=0)) for stage, level, when in stages]
        stages = [s for s in stages if s[2] <= SNAPSHOT]
        referred_at = next((pd.Timestamp(when) for stage, _, when in stages if stage == "referred"), pd.NaT)
        events.extend(
            {"case_id": case_id, "seq": i + 1, "stage": stage, "level": level, "occurred_at": when}
            for i, (stage, level, when) in enumerate(stages)
        )
        out.append(
            {
                "case_id": case_id,
                "pid": enrol["pid"].iat[row],
                "school_id": school_id,
                "source": src,
                "severity": int(sev),
                "local_label": _LABEL[bool(severe_first[school_id])][int(sev)],
                "wave_id": screen["wave_id"].iat[row] if src == "screening" else None,
                "year": year,
                "raised_at": pd.Timestamp(raised),
                "referred_at": referred_at,
                "row": row,
            }
        )
    return pd.DataFrame(out), pd.DataFrame(events)


def damage(events: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The events with the record errors of real case files planted in a few cases, and which ones.

    Among cases with a warning, an interview and an intervention, :data:`DAMAGED` of the cases
    each (at least one) get: the interview dated 2-48 hours before the warning (``out_of_order``);
    the interview recorded a second time 1-72 hours later (``duplicate_stage``); the interview
    not recorded (``missing_stage``); the closure (or the last event) typed ten years late
    (``after_as_of``). Returns the events and the planted problems (``case_id, crisis_stage,
    problem``, the vocabulary of :data:`psychanalytics.crisis.PROBLEMS`): the truth an estimator
    of data quality is checked against, kept out of the database.
    """
    stages = events.groupby("case_id")["stage"].agg(frozenset)
    eligible = np.sort(stages.index[stages.map(lambda s: {"raised", "confirmed", "intervention"} <= s)])
    n = max(1, round(DAMAGED * len(stages)))
    picked = rng.choice(eligible, size=min(4 * n, len(eligible)), replace=False)
    kinds = dict(
        zip(
            ("out_of_order", "duplicate_stage", "missing_stage", "after_as_of"),
            np.array_split(picked, 4),
            strict=True,
        )
    )
    out = events.copy()
    at = {(c, st): i for i, (c, st) in enumerate(zip(out["case_id"], out["stage"], strict=True))}
    planted = []
    for case in kinds["out_of_order"]:
        raised = out.at[at[(case, "raised")], "occurred_at"]
        out.at[at[(case, "confirmed")], "occurred_at"] = raised - dt.timedelta(
            minutes=int(rng.integers(120, 2880))
        )
        planted.append((case, "confirmed", "out_of_order"))
    extra = []
    for case in kinds["duplicate_stage"]:
        row = out.loc[at[(case, "confirmed")]].copy()
        row["occurred_at"] += dt.timedelta(minutes=int(rng.integers(60, 4320)))
        row["seq"] = int(out.loc[out["case_id"] == case, "seq"].max()) + 1
        extra.append(row)
        planted.append((case, "confirmed", "duplicate_stage"))
    for case in kinds["after_as_of"]:
        stage = "closed" if "closed" in stages[case] else max(stages[case], key=_ORDER.index)
        when = out.at[at[(case, stage)], "occurred_at"]
        out.at[at[(case, stage)], "occurred_at"] = when.replace(year=when.year + 10)
        planted.append((case, stage, "after_as_of"))
    dropped = [at[(case, "confirmed")] for case in kinds["missing_stage"]]
    planted += [(case, "confirmed", "missing_stage") for case in kinds["missing_stage"]]
    out = pd.concat([out.drop(index=dropped), pd.DataFrame(extra)], ignore_index=True)
    out = out.sort_values(["case_id", "seq"], ignore_index=True)
    return out, pd.DataFrame(planted, columns=["case_id", "crisis_stage", "problem"])


def archive_categories(
    enrol: pd.DataFrame, screen: pd.DataFrame, case_frame: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """分类归档 per student and school year, from screening results and crisis cases.

    crisis: a severity-3 case that year; key: another case, PHQ-9 or GAD-7
    total >= 15, PHQ-9 item 9 >= 1, or a valid MHT raw content total in the
    wave's top 1 %; attention: PHQ-9 or GAD-7 total >= 10 or an MHT total in
    the top 5 %; general otherwise. (The published MHT cut-off of 65 applies
    to standard scores, whose norm tables are not public, so the demo ranks
    raw totals within the wave instead; ``screen["mht_pct"]`` is that rank.)
    A student of the general category has a record with the probability
    :data:`ARCHIVED` of the school year, its shortfall scaled by a school
    factor between 0.3 and 1.7; every other student has one.
    """
    worst = np.zeros(len(enrol), dtype=int)
    if len(case_frame):
        by_row = case_frame.groupby("row")["severity"].max()
        worst[by_row.index.to_numpy()] = by_row.to_numpy()
    phq = np.nan_to_num(screen["phq9"].to_numpy(), nan=-1)
    gad = np.nan_to_num(screen["gad7"].to_numpy(), nan=-1)
    item9 = np.nan_to_num(screen["item9"].to_numpy(), nan=-1)
    mht = np.nan_to_num(screen["mht_pct"].to_numpy(), nan=-1)
    category = np.select(
        [
            worst == 3,
            (worst > 0) | (phq >= 15) | (gad >= 15) | (item9 >= 1) | (mht >= 0.99),
            (phq >= 10) | (gad >= 10) | (mht >= 0.95),
        ],
        ["crisis", "key", "attention"],
        "general",
    )
    assigned = pd.to_datetime((FIRST_YEAR + enrol["year"]).astype(str) + "-11-15") + pd.to_timedelta(
        rng.integers(0, 10, len(enrol)), unit="D"
    )
    schools = np.unique(enrol["school_id"])
    factor = dict(zip(schools, rng.uniform(0.3, 1.7, len(schools)), strict=True))
    shortfall = (1 - np.asarray(ARCHIVED)[enrol["year"].to_numpy()]) * enrol["school_id"].map(
        factor
    ).to_numpy()
    kept = (category != "general") | (rng.random(len(enrol)) >= shortfall)
    return pd.DataFrame(
        {
            "pid": enrol["pid"],
            "school_year": enrol["school_year"],
            "category": category,
            "assigned_on": assigned,
        }
    )[kept]


def archive_transfers(enrol: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """The archive transfer after each change of school between consecutive school years (:data:`TRANSFER`).

    Most arrive within 25 days of 1 September, complete more often each year;
    some arrive 30-150 days in, some in the last week of August, and some never.
    """
    ordered = enrol.sort_values(["student", "year"])
    prev = ordered.groupby("student")[["school_id", "year"]].shift()
    moved = prev["school_id"].notna() & (prev["school_id"] != ordered["school_id"])
    moves = ordered[moved]
    n = len(moves)
    complete_rate = 0.88 + 0.025 * moves["year"].to_numpy()
    kind = rng.random(n)
    never, late = TRANSFER["never"], TRANSFER["never"] + TRANSFER["late"]
    days = np.select(
        [kind < late, kind < late + TRANSFER["early"]],
        [rng.integers(30, 151, n), rng.integers(-7, 0, n)],
        rng.integers(0, 25, n),
    )
    start = pd.to_datetime((FIRST_YEAR + moves["year"]).astype(str) + "-09-01").to_numpy()
    frame = pd.DataFrame(
        {
            "pid": moves["pid"].to_numpy(),
            "transferred_on": start + pd.to_timedelta(days, unit="D").to_numpy(),
            "from_school_id": prev.loc[moved, "school_id"].to_numpy(),
            "to_school_id": moves["school_id"].to_numpy(),
            "complete": rng.random(n) < complete_rate,
        }
    )
    return frame[kind >= never].reset_index(drop=True)
