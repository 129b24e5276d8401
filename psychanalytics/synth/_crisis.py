"""Crisis cases and their event sequences, classified archives and archive transfers.

Cases arise from screening (PHQ-9 item 9 and total) and, for every grade,
from a student's latent distress (observation, self-referral, parent, peer).
A case is raised at class level (or school level when it comes from
screening or self-referral), confirmed and handled at school level, referred
to society (hospital, social organisation) when severe, and closed. A few
cases are lost between stages and the latest ones are still open at
:data:`SNAPSHOT`.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from psychanalytics.synth._population import FIRST_YEAR

SNAPSHOT = dt.datetime(2026, 7, 10)
"""The moment the demo district's data were extracted (end of school year 2025-2026)."""

_LABEL = {
    True: {3: "一级预警", 2: "二级预警", 1: "三级预警"},
    False: {1: "一级预警", 2: "二级预警", 3: "三级预警"},
}
_OTHER_SOURCES = ("observation", "self_referral", "parent", "peer")


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
        from_screen[rows], "screening", rng.choice(_OTHER_SOURCES, size=len(rows), p=[0.5, 0.2, 0.2, 0.1])
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
        if lost >= 0.04:
            at += dt.timedelta(days=float(rng.uniform(0.2, 5)))
            stages.append(("confirmed", "school", at))
            if lost >= 0.07:
                at += dt.timedelta(days=float(rng.uniform(0.1, 3)))
                stages.append(("intervention", "school", at))
                if sev == 3 or (sev == 2 and rng.random() < 0.3):
                    at += dt.timedelta(days=float(rng.uniform(2, 14)))
                    stages.append(("referred", "society", at))
                if lost >= 0.10:
                    at += dt.timedelta(days=float(rng.uniform(20, 150)))
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
    return pd.DataFrame(
        {
            "pid": enrol["pid"],
            "school_year": enrol["school_year"],
            "category": category,
            "assigned_on": assigned,
        }
    )


def archive_transfers(enrol: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """One transfer per change of school between consecutive school years; most arrive complete."""
    ordered = enrol.sort_values(["student", "year"])
    prev = ordered.groupby("student")[["school_id", "year"]].shift()
    moved = prev["school_id"].notna() & (prev["school_id"] != ordered["school_id"])
    moves = ordered[moved]
    n = len(moves)
    complete_rate = 0.88 + 0.025 * moves["year"].to_numpy()
    return pd.DataFrame(
        {
            "pid": moves["pid"].to_numpy(),
            "transferred_on": pd.to_datetime((FIRST_YEAR + moves["year"]).astype(str) + "-09-01").to_numpy()
            + pd.to_timedelta(rng.integers(0, 25, n), unit="D").to_numpy(),
            "from_school_id": prev.loc[moved, "school_id"].to_numpy(),
            "to_school_id": moves["school_id"].to_numpy(),
            "complete": rng.random(n) < complete_rate,
        }
    )
