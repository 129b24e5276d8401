"""Gaps the demo district plants on purpose, so that the plan's indicators can be checked against them.

The generator draws ordinary shortfalls at random (a school without a full-time teacher in the early
years, a room missing a rule); on top of those it plants one case of each gap the plan's indicators
must find, in schools picked by their own random stream. :func:`planted_gaps` is the truth: it is
recomputed from the seed and never written to the database, so nothing a real store holds can be
mistaken for it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from psychanalytics._rules import missing_as_none
from psychanalytics.synth._population import SCHOOL_YEARS, rng_for, schools

REPORT_YEAR = SCHOOL_YEARS[3]
"""The school year most plants fall in (2024-2025: the year after the plan's staffing deadline)."""
LECTURE_MISSED = (REPORT_YEAR, 11)
"""The district lecture planted as not held: November of the report year."""
EVENT_MISSED = (REPORT_YEAR, "03-20")
"""The district event day planted as not held: 20 March of the report year."""


@dataclass(frozen=True)
class Plants:
    """Which school carries each planted gap (several gaps may share a school)."""

    no_full_time: str
    """Never a full-time psychology teacher; no psychology teacher at all in the first two years."""
    room_short: str
    """Room without a group-activity room and an archive-transfer rule, open 6 h a week, every year."""
    lessons_short: str
    """About half the required psychology lessons delivered, every year."""
    not_psychology_work: str
    """Its full-time teachers do not do psychology work in the report year (a school that has one)."""
    funding_cut: str
    """Budget line lower in the report year than the year before."""
    no_plan: str
    """No three-year plan and no leadership meeting in the report year."""
    low_coverage: str
    """心理委员 in 40 % of classes and 50 % of teachers as mentors in the report year."""
    no_events: str
    """No campus event on any of the three days in the report year."""
    not_inspected: str
    """Counselling room not inspected in the report year."""


NO_TEACHER_YEARS = SCHOOL_YEARS[:2]
"""The years in which the ``no_full_time`` school has no psychology teacher at all."""


def plants(school_frame: pd.DataFrame, *, seed: int) -> Plants:
    """Pick the schools that carry the planted gaps (a township central school lacks the full-time teacher)."""
    rng = rng_for(seed, "plants")
    ids = school_frame["school_id"].to_numpy()
    township = school_frame.loc[school_frame["location"] == "township_central", "school_id"].to_numpy()
    first = str(rng.choice(township)) if len(township) else str(rng.choice(ids))
    rest = [str(s) for s in rng.permutation(ids) if s != first]
    pick = [rest[i % len(rest)] for i in range(8)]
    return Plants(
        no_full_time=first,
        room_short=pick[0],
        lessons_short=pick[1],
        not_psychology_work=pick[2],
        funding_cut=pick[3],
        no_plan=pick[4],
        low_coverage=pick[5],
        no_events=pick[6],
        not_inspected=pick[7],
    )


def planted_gaps(*, seed: int = 20240901, students: int = 45_000) -> pd.DataFrame:
    """The gaps :func:`~psychanalytics.synth.build_demo` planted for the same ``seed`` and ``students``.

    The truth the plan's indicators are checked against (``tests/test_plan_demo.py``), recomputed from
    the seed and never stored in the database.

    Returns
    -------
    pandas.DataFrame
        One row per planted gap: ``gap`` (what is planted), ``school_id`` (``None`` for a district
        gap), ``school_year`` and ``description`` (English).

    Examples
    --------
    >>> from psychanalytics import synth
    >>> gaps = synth.planted_gaps(seed=1, students=600)
    >>> gaps.loc[gaps["gap"] == "lecture_missed", ["school_id", "school_year"]].iloc[0].tolist()
    [None, '2024-2025']
    """
    planted = plants(schools(seed=seed, students=students), seed=seed)
    rows = [
        *[
            ("no_teacher", planted.no_full_time, year, "no psychology teacher at all, full- or part-time")
            for year in NO_TEACHER_YEARS
        ],
        *[
            ("no_full_time", planted.no_full_time, year, "no full-time psychology teacher")
            for year in SCHOOL_YEARS
        ],
        *[
            (
                "room_short",
                planted.room_short,
                year,
                "no group room, no archive-transfer rule, open 6 h a week",
            )
            for year in SCHOOL_YEARS
        ],
        *[
            ("lessons_short", planted.lessons_short, year, "about half the required lessons delivered")
            for year in SCHOOL_YEARS
        ],
        ("not_psychology_work", planted.not_psychology_work, REPORT_YEAR, "full-time teachers do other work"),
        ("funding_cut", planted.funding_cut, REPORT_YEAR, "budget line lower than the year before"),
        ("no_plan", planted.no_plan, REPORT_YEAR, "no three-year plan, no leadership meeting"),
        (
            "low_coverage",
            planted.low_coverage,
            REPORT_YEAR,
            "心理委员 in 40 % of classes, 50 % of teachers mentors",
        ),
        ("no_events", planted.no_events, REPORT_YEAR, "no campus event on 20 March, 25 May or 10 October"),
        ("not_inspected", planted.not_inspected, REPORT_YEAR, "counselling room not inspected"),
        ("lecture_missed", None, LECTURE_MISSED[0], f"no district lecture in month {LECTURE_MISSED[1]}"),
        ("event_missed", None, EVENT_MISSED[0], f"no district event around {EVENT_MISSED[1]}"),
    ]
    frame = pd.DataFrame(rows, columns=["gap", "school_id", "school_year", "description"])
    return frame.assign(school_id=missing_as_none(frame["school_id"]))
