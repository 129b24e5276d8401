"""Group counselling and the 七彩积极品格 curriculum with planted effects, and counselling sessions.

Planted effects
---------------
Group counselling (students chosen in one school, half of them to a
treatment arm): ``post - pre`` is a common change (-0.5 points plus noise
with SD 0.6 × ``s_pre``) and, in the treatment arm only, ``-d × s_pre``, where
``s_pre`` is the pooled within-arm SD of the programme's pre-scores.

The curriculum (whole classes of grades 4-6, MHT total): in a pilot year each
of up to 12 primary or nine-year schools gives it to half of its grade 4-6
classes, drawn by lot, and the other classes are comparison classes.
``post - pre`` is a common change of -1 point, a school's shared change (SD
0.15 × ``s_pre``), a class's (SD 0.2 × ``s_pre``), a student's own (SD 0.55 ×
``s_pre``) and, in curriculum classes, ``-d × s_pre`` (``s_pre`` pooled over
the whole pilot): one effect for every school.

What was planted is written to ``demo_planted_effect`` (only the demo writes
it): ``d``, ``s_pre``, the effect in points and the SDs of the changes. The
difference in change between the arms (or the ANCOVA estimate) is the effect
in points; divided by the pooled pre-score SD it estimates ``d``. Rounding to
whole points and the instrument's score range add a little noise.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from psychanalytics.synth._population import FIRST_YEAR, SCHOOL_YEARS

SESSIONS = 8
_MAX_TOTAL = {"phq9": 27, "gad7": 21, "mht": 90}
_TITLES = {"phq9": "情绪调适团体辅导", "gad7": "考试焦虑应对团体辅导"}
CURRICULUM_TITLE = "七彩积极品格培养心育特色课程"
CURRICULUM_YEAR = 2  # 2023-2024, the plan's middle year
CURRICULUM_GRADES = (4, 5, 6)
CURRICULUM_LESSONS = 10
_CURRICULUM_SCHOOLS = 12


def _pooled_sd(a: np.ndarray, b: np.ndarray) -> float:
    return float(
        np.sqrt(((len(a) - 1) * a.var(ddof=1) + (len(b) - 1) * b.var(ddof=1)) / (len(a) + len(b) - 2))
    )


def _truth(intervention_id: str, d: float, s_pre: float, common: float, own: float, cls=0.0, school=0.0):
    return {
        "intervention_id": intervention_id,
        "effect_d": d,
        "sd_pre": s_pre,
        "effect_points": -d * s_pre,
        "common_change": common,
        "change_sd": own,
        "class_sd": cls,
        "school_sd": school,
    }


def programmes(
    enrol: pd.DataFrame, screen: pd.DataFrame, schools: pd.DataFrame, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Group counselling ``intervention``, ``participant`` and ``demo_planted_effect`` rows.

    ``screen`` is indexed like ``enrol`` with columns ``phq9`` and ``gad7``
    (screening totals, NaN when not screened).
    """
    secondary = schools.loc[schools["stage"] != "primary", "school_id"].to_numpy()
    per_year = max(2, round(len(schools) / 8))
    interventions, participants, truths = [], [], []
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
                }
            )
            truths.append(_truth(intervention_id, d, s_pre, -0.5, 0.6 * s_pre))
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
    return pd.DataFrame(interventions), pd.DataFrame(participants), pd.DataFrame(truths)


def _curriculum_classes(enrol: pd.DataFrame, schools: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Pilot schools' grade 4-6 classes with their arm: half of each school's classes by lot."""
    year = enrol[(enrol["year"] == CURRICULUM_YEAR) & enrol["grade"].isin(CURRICULUM_GRADES)]
    keys = ["school_id", "grade", "class_no"]
    classes = year[keys].drop_duplicates().sort_values(keys)
    eligible = schools.loc[schools["stage"].isin(["primary", "nine_year"]), "school_id"]
    counts = classes.groupby("school_id").size()
    eligible = [school for school in eligible if counts.get(school, 0) >= 2]
    pilot = set(rng.choice(eligible, size=min(len(eligible), _CURRICULUM_SCHOOLS), replace=False))
    frames = []
    for _, own in classes[classes["school_id"].isin(pilot)].groupby("school_id", sort=True):
        taking = len(own) // 2 + int(len(own) % 2 == 1 and rng.random() < 0.5)
        treat = np.zeros(len(own), dtype=bool)
        treat[rng.permutation(len(own))[:taking]] = True
        frames.append(own.assign(treated=treat))
    return pd.concat(frames, ignore_index=True)


def curriculum(
    enrol: pd.DataFrame, screen: pd.DataFrame, schools: pd.DataFrame, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The curriculum pilot: one ``intervention`` per school, its classes' students, what was planted.

    ``screen`` is indexed like ``enrol`` with ``mht``, the valid MHT content total
    (NaN when not screened or invalid); the pre-test is that total with a retest's noise.
    """
    classes = _curriculum_classes(enrol, schools, rng)
    arm_of = classes.set_index(["school_id", "grade", "class_no"])["treated"]
    position = arm_of.index.get_indexer(pd.MultiIndex.from_frame(enrol[["school_id", "grade", "class_no"]]))
    score = screen["mht"].to_numpy()
    rows = np.flatnonzero((enrol["year"].to_numpy() == CURRICULUM_YEAR) & (position >= 0) & ~np.isnan(score))
    treat = arm_of.to_numpy()[position[rows]]
    n = len(rows)
    pre = np.clip(np.round(score[rows] + rng.normal(0, 2.0, n)), 0, _MAX_TOTAL["mht"])
    s_pre = _pooled_sd(pre[treat], pre[~treat])
    d = round(float(rng.uniform(0.2, 0.35)), 2)
    school_code, school_ids = pd.factorize(enrol["school_id"].to_numpy()[rows], sort=True)
    class_code = pd.factorize(position[rows])[0]
    sds = {"common": -1.0, "own": 0.55 * s_pre, "class": 0.2 * s_pre, "school": 0.15 * s_pre}
    change = (
        sds["common"]
        + rng.normal(0, sds["school"], len(school_ids))[school_code]
        + rng.normal(0, sds["class"], class_code.max() + 1)[class_code]
        + rng.normal(0, sds["own"], n)
        - d * s_pre * treat
    )
    post = np.clip(np.round(pre + change), 0, _MAX_TOTAL["mht"])
    dropped = rng.random(n) < 0.03
    attended = np.where(treat, rng.binomial(CURRICULUM_LESSONS, 0.93, n), 0)
    interventions, truths, starts = [], [], {}
    for k, school_id in enumerate(school_ids):
        intervention_id = f"CU{FIRST_YEAR + CURRICULUM_YEAR}{k + 1:02d}"
        start = dt.date(FIRST_YEAR + CURRICULUM_YEAR, 11, 6) + dt.timedelta(days=7 * int(rng.integers(0, 2)))
        starts[k] = (intervention_id, start)
        interventions.append(
            {
                "intervention_id": intervention_id,
                "school_id": school_id,
                "school_year": SCHOOL_YEARS[CURRICULUM_YEAR],
                "kind": "curriculum",
                "title": CURRICULUM_TITLE,
                "instrument": "mht",
                "scale": "total",
                "sessions_planned": CURRICULUM_LESSONS,
                "start_on": start,
                "end_on": start + dt.timedelta(days=7 * (CURRICULUM_LESSONS - 1)),
            }
        )
        truths.append(
            _truth(intervention_id, d, s_pre, sds["common"], sds["own"], sds["class"], sds["school"])
        )
    pre_days = rng.integers(1, 6, n)
    post_days = rng.integers(1, 8, n)
    participants = pd.DataFrame(
        {
            "intervention_id": [starts[k][0] for k in school_code],
            "pid": enrol["pid"].to_numpy()[rows],
            "arm": np.where(treat, "treatment", "comparison"),
            "sessions_attended": attended,
            "pre_score": pre,
            "post_score": np.where(dropped, np.nan, post),
            "pre_on": [
                starts[k][1] - dt.timedelta(days=int(day))
                for k, day in zip(school_code, pre_days, strict=True)
            ],
            "post_on": [
                None if gone else interventions[k]["end_on"] + dt.timedelta(days=int(day))
                for k, day, gone in zip(school_code, post_days, dropped, strict=True)
            ],
        }
    )
    return pd.DataFrame(interventions), participants, pd.DataFrame(truths)


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
