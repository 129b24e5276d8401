"""Group counselling programmes with a planted effect, and counselling sessions.

Planted effect
--------------
In each programme, ``post - pre`` is a common change (-0.5 points plus noise
with SD 0.6 × ``s_pre``) and, in the treatment arm only, ``-d × s_pre``, where
``s_pre`` is the pooled within-arm SD of the programme's pre-scores and ``d``
is stored in ``intervention.true_effect_d``. A difference-in-change estimator
divided by the pooled pre-score SD therefore estimates ``d``; rounding to
whole points and the instrument's score range add a little noise.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from psychanalytics.synth._population import FIRST_YEAR, SCHOOL_YEARS

SESSIONS = 8
_MAX_TOTAL = {"phq9": 27, "gad7": 21}
_TITLES = {"phq9": "情绪调适团体辅导", "gad7": "考试焦虑应对团体辅导"}


def _pooled_sd(a: np.ndarray, b: np.ndarray) -> float:
    return float(
        np.sqrt(((len(a) - 1) * a.var(ddof=1) + (len(b) - 1) * b.var(ddof=1)) / (len(a) + len(b) - 2))
    )


def programmes(
    enrol: pd.DataFrame, screen: pd.DataFrame, schools: pd.DataFrame, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``intervention`` and ``participant`` rows.

    ``screen`` is indexed like ``enrol`` with columns ``phq9`` and ``gad7``
    (screening totals, NaN when not screened).
    """
    secondary = schools.loc[schools["stage"] != "primary", "school_id"].to_numpy()
    per_year = max(2, round(len(schools) / 8))
    interventions, participants = [], []
    for y, school_year in enumerate(SCHOOL_YEARS):
        taken = np.zeros(len(enrol), dtype=bool)
        for p, school_id in enumerate(
            rng.choice(secondary, size=per_year, replace=len(secondary) < per_year)
        ):
            instrument = ("phq9", "gad7")[p % 2]
            score = screen[instrument].to_numpy()
            pool = np.flatnonzero(
                (enrol["year"].to_numpy() == y)
                & (enrol["school_id"].to_numpy() == school_id)
                & (score >= 5)
                & (score <= 19)
                & ~taken
            )
            size = min(len(pool) // 2, int(rng.integers(10, 15)))
            if size < 3:
                continue
            chosen = rng.choice(pool, size=2 * size, replace=False)
            taken[chosen] = True
            treat = np.arange(2 * size) < size
            pre = np.clip(np.round(score[chosen] + rng.normal(0, 1.5, 2 * size)), 0, _MAX_TOTAL[instrument])
            d = round(float(rng.uniform(0.2, 0.4)), 2)
            s_pre = _pooled_sd(pre[treat], pre[~treat])
            change = -0.5 + rng.normal(0, 0.6 * s_pre, 2 * size) - d * s_pre * treat
            post = np.clip(np.round(pre + change), 0, _MAX_TOTAL[instrument])
            dropped = rng.random(2 * size) < 0.06
            start = dt.date(FIRST_YEAR + y, 11, int(rng.integers(3, 20)))
            end = start + dt.timedelta(days=7 * (SESSIONS - 1))
            intervention_id = f"GC{FIRST_YEAR + y}{p + 1:02d}"
            interventions.append(
                {
                    "intervention_id": intervention_id,
                    "school_id": school_id,
                    "school_year": school_year,
                    "kind": "group_counselling",
                    "title": _TITLES[instrument],
                    "instrument": instrument,
                    "scale": "total",
                    "sessions_planned": SESSIONS,
                    "start_on": start,
                    "end_on": end,
                    "true_effect_d": d,
                }
            )
            attended = np.where(treat, rng.binomial(SESSIONS, 0.85, 2 * size), 0)
            for i, row in enumerate(chosen):
                participants.append(
                    {
                        "intervention_id": intervention_id,
                        "pid": enrol["pid"].iat[row],
                        "arm": "treatment" if treat[i] else "comparison",
                        "sessions_attended": int(attended[i]),
                        "pre_score": float(pre[i]),
                        "post_score": None if dropped[i] else float(post[i]),
                        "pre_on": start - dt.timedelta(days=int(rng.integers(1, 6))),
                        "post_on": None if dropped[i] else end + dt.timedelta(days=int(rng.integers(1, 8))),
                        "school_id": school_id,
                        "start_on": start,
                    }
                )
    return pd.DataFrame(interventions), pd.DataFrame(participants)


def sessions(
    enrol: pd.DataFrame,
    screen: pd.DataFrame,
    participant: pd.DataFrame,
    cases: pd.DataFrame,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """``counselling_session`` rows: group sessions attended, individual counselling, referrals.

    ``cases`` holds one row per crisis case with ``pid``, ``school_id``,
    ``raised_at`` and ``referred_at`` (NaT when not referred).
    """
    rows = []
    for p in participant[participant["arm"] == "treatment"].itertuples(index=False):
        for k in np.sort(rng.choice(SESSIONS, size=p.sessions_attended, replace=False)):
            rows.append((p.pid, p.school_id, p.start_on + dt.timedelta(days=7 * int(k)), "group", 45))
    # individual counselling: after a high screening score, or self-referral, or after a crisis case
    phq = screen["phq9"].to_numpy()
    wants = (np.nan_to_num(phq) >= 15) & (rng.random(len(enrol)) < 0.6) | (rng.random(len(enrol)) < 0.01)
    for row in np.flatnonzero(wants):
        # from the second week of September to early June: counselling runs through the school year
        first = dt.date(FIRST_YEAR + int(enrol["year"].iat[row]), 9, 10) + dt.timedelta(
            days=int(rng.integers(0, 270))
        )
        for k in range(int(rng.integers(1, 6))):
            rows.append(
                (
                    enrol["pid"].iat[row],
                    enrol["school_id"].iat[row],
                    first + dt.timedelta(days=14 * k),
                    "individual",
                    int(rng.integers(30, 51)),
                )
            )
    for case in cases.itertuples(index=False):
        day = case.raised_at.date()
        for k in range(int(rng.integers(1, 4))):
            rows.append(
                (
                    case.pid,
                    case.school_id,
                    day + dt.timedelta(days=1 + 7 * k),
                    "individual",
                    int(rng.integers(40, 61)),
                )
            )
        if not pd.isna(case.referred_at):
            rows.append((case.pid, case.school_id, case.referred_at.date(), "referral", 30))
    frame = pd.DataFrame(rows, columns=["pid", "school_id", "held_on", "kind", "minutes"])
    frame = frame.sort_values(["held_on", "pid", "kind"], ignore_index=True)
    frame.insert(0, "session_id", [f"CS{i + 1:07d}" for i in range(len(frame))])
    return frame
