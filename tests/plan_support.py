"""A hand-made district of four schools and two school years, with the answers worked out by hand.

School A: urban primary, 800 students, one full-time teacher, a compliant room, 3 of 4 grade-terms in full.
School B: urban junior, 2,400 students, one full-time teacher not doing psychology work and two
part-timers (4 h each, one certified); room without a mailbox, inspected the school year before.
School C: township-central nine-year school, 1,200 students and 250 boarders, one part-timer; room open
9.5 h a week. School D: a township school (outside the room rule), 300 students, no teacher, no lessons.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from psychanalytics import store
from psychanalytics.store import schema
from psychanalytics.store.schema import ROOM_REQUIREMENTS

Y1, Y2 = "2023-2024", "2024-2025"

SCHOOLS = [
    dict(school_id="A", name="甲小学", stage="primary", location="urban", is_synthetic=False),
    dict(school_id="B", name="乙初中", stage="junior", location="urban", is_synthetic=False),
    dict(
        school_id="C",
        name="丙九年一贯制学校",
        stage="nine_year",
        location="township_central",
        is_synthetic=False,
    ),
    dict(school_id="D", name="丁高中", stage="senior", location="township", is_synthetic=False),
]


def _stats(
    school_id, year, enrolment, classes, boarders, teachers, mentors, committee, plan=True, meetings=1
):
    return dict(
        school_id=school_id, school_year=year, enrolment=enrolment, n_classes=classes, boarders=boarders,
        has_leadership_group=True, special_meetings=meetings, has_three_year_plan=plan,
        is_characteristic_school=False, n_teachers=teachers, n_mentors=mentors, classes_with_committee=committee,
    )  # fmt: skip


STATS = [
    _stats("A", Y1, 780, 18, 0, 58, 50, 15),
    _stats("B", Y1, 2350, 50, 0, 165, 120, 40),
    _stats("C", Y1, 1180, 27, 240, 88, 80, 27),
    _stats("D", Y1, 310, 8, 0, 25, 20, 8),
    _stats("A", Y2, 800, 18, 0, 60, 60, 18),
    _stats("B", Y2, 2400, 50, 0, 170, 150, 40),
    _stats("C", Y2, 1200, 27, 250, 90, 90, 27, plan=False, meetings=0),
    _stats("D", Y2, 300, 8, 0, 25, 20, 8),
]


def _teacher(
    staff_id, year, school_id, employment, *, degree=False, certificate=None, working=True, hours=16.0
):
    return dict(
        staff_id=staff_id, school_year=year, school_id=school_id, employment=employment,
        psychology_degree=degree, certificate=certificate, does_psychology_work=working, weekly_hours=hours,
    )  # fmt: skip


STAFF = [
    _teacher("A1", Y1, "A", "full_time", degree=True),
    _teacher("B1", Y1, "B", "full_time", certificate="心理健康教育C证"),
    _teacher("A1", Y2, "A", "full_time", degree=True),
    _teacher("B1", Y2, "B", "full_time", certificate="心理健康教育C证", working=False),
    _teacher("B2", Y2, "B", "part_time", certificate="心理健康教育C证", hours=4.0),
    _teacher("B3", Y2, "B", "part_time", hours=4.0),
    _teacher("C1", Y2, "C", "part_time", hours=4.0),
]


def _room(school_id, year, hours, inspected, **missing):
    return dict(
        school_id=school_id, school_year=year, **{r: r not in missing for r in ROOM_REQUIREMENTS},
        area_m2=40.0, open_hours_week=hours, inspected_on=inspected, inspection_passed=inspected is not None,
    )  # fmt: skip


ROOMS = [
    _room("A", Y1, 10.0, dt.date(2024, 5, 1)),
    _room("A", Y2, 10.0, dt.date(2025, 5, 10)),
    _room("B", Y2, 12.0, dt.date(2024, 8, 31), mailbox=True),
    _room("C", Y2, 9.5, dt.date(2024, 9, 1)),
    _room("D", Y2, 2.0, None, group_room=True),
]


def _lessons(school_id, year, term, grade, delivered):
    return dict(
        school_id=school_id, school_year=year, term=term, grade=grade, lessons_planned=9,
        lessons_delivered=delivered, uses_district_materials=True,
    )  # fmt: skip


LESSONS = [
    _lessons("A", Y2, 1, 1, 9),
    _lessons("A", Y2, 1, 2, 9),
    _lessons("A", Y2, 2, 1, 9),
    _lessons("A", Y2, 2, 2, 8),
    _lessons("B", Y2, 1, 7, 10),
    _lessons("B", Y2, 2, 7, 9),
    _lessons("C", Y2, 1, 1, 5),
]


def _activity(n, day, school_id, kind):
    return dict(
        activity_id=f"ACT{n}", held_on=day, school_id=school_id, kind=kind, title=kind, attendance=None
    )


ACTIVITIES = [
    _activity(1, dt.date(2024, 9, 15), None, "lecture"),
    _activity(2, dt.date(2024, 10, 15), None, "lecture"),
    _activity(3, dt.date(2024, 11, 15), None, "lecture"),
    _activity(4, dt.date(2024, 11, 28), None, "lecture"),  # a second one in November counts once
    _activity(5, dt.date(2025, 3, 27), None, "carnival"),  # 7 days after 20 March: held
    _activity(6, dt.date(2025, 6, 2), None, "carnival"),  # 8 days after 25 May: not held
    _activity(7, dt.date(2024, 10, 10), None, "lecture"),  # a lecture on 10 October is not a carnival
    _activity(8, dt.date(2025, 5, 25), "A", "carnival"),
    _activity(9, dt.date(2025, 4, 1), "B", "parent_class"),
    _activity(10, dt.date(2025, 4, 20), "B", "parent_class"),
    _activity(11, dt.date(2024, 4, 20), "A", "parent_class"),  # the school year before
]

FUNDING = [
    dict(school_id="A", school_year=Y1, budget_yuan=40_000.0, spent_yuan=None),
    dict(school_id="A", school_year=Y2, budget_yuan=44_000.0, spent_yuan=None),
    dict(school_id="B", school_year=Y1, budget_yuan=100_000.0, spent_yuan=None),
    dict(school_id="B", school_year=Y2, budget_yuan=90_000.0, spent_yuan=None),
    dict(school_id="C", school_year=Y2, budget_yuan=50_000.0, spent_yuan=None),
]

SESSIONS = [  # school A: September and October 2024 (twice) and March 2025; school B: one in August 2025
    ("S1", "P1", "A", dt.date(2024, 9, 20)),
    ("S2", "P1", "A", dt.date(2024, 10, 4)),
    ("S3", "P2", "A", dt.date(2024, 10, 18)),
    ("S4", "P2", "A", dt.date(2025, 3, 3)),
    ("S5", "P3", "B", dt.date(2025, 8, 3)),
]


def write_district(engine: sa.Engine) -> sa.Engine:
    """Write the hand-made district into ``engine``'s (empty) store."""
    with engine.begin() as conn:
        store.upsert(conn, schema.school, SCHOOLS)
        store.upsert(conn, schema.school_year_stats, STATS)
        store.upsert(conn, schema.staff, STAFF)
        store.upsert(conn, schema.room, ROOMS)
        store.upsert(conn, schema.course_delivery, LESSONS)
        store.upsert(conn, schema.activity, ACTIVITIES)
        store.upsert(conn, schema.funding, FUNDING)
        store.upsert(
            conn,
            schema.student,
            [dict(pid=p, gender="F", birth_year=2012, cohort=2018) for p in ("P1", "P2", "P3")],
        )
        store.upsert(
            conn,
            schema.counselling_session,
            [
                dict(session_id=s, pid=p, school_id=k, held_on=d, kind="individual", minutes=30)
                for s, p, k, d in SESSIONS
            ],
        )
    return engine
