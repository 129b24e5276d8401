"""The synthetic demo district: a Zhonglou-like district, realistic, seeded and fast.

Everything here is **synthetic**: school names start with 示例 and carry
``is_synthetic = True``, student numbers (学籍号) use a county code that does
not exist, and pseudonyms are keyed with the public :data:`DEMO_KEY`, which
must never be used for real students.

What the build holds
--------------------
* About ``students / 1125`` schools (at least 8): primary, junior, nine-year
  and senior high, urban and township-central, with yearly statistics
  counted from the enrolments.
* About ``students`` students in each school year 2021-2022 … 2025-2026:
  students move up one grade a year, change school at grades 6→7 and 9→10
  (same ``pid``), 60 % continue to senior high, new grade-1 cohorts enter.
* One autumn screening wave per school year with item-level MHT (grade 4 and
  up), PHQ-9 and GAD-7 (grade 7 and up) responses from a latent-trait model
  (see :mod:`psychanalytics.synth._screening`), scored with
  :func:`psychanalytics.scoring.score`; grade × gender norms of the first wave
  (:func:`psychanalytics.psychometrics.norms`: a cell under its ``min_n`` of 30
  valid sheets has none, as in most cells of a district of a few hundred students).
* Psychology teachers (full-time coverage 45 % → 90 % of schools), rooms,
  courses, activities (the monthly 「让爱更有智慧」 lecture, carnivals around
  20 March, 25 May and 10 October), funding, mentors and 心理委员 per school,
  screening consent and consent to the demo research project
  (:data:`DEMO_RESEARCH_PROJECT`, about two guardians in three from 2023-2024 on, so
  research extracts of the demo are not empty); on top of the random shortfalls, one planted case of
  each gap the plan's indicators must find (a township central school that
  never has a full-time teacher, a room short of a zone and a rule, a missed
  lecture month …): :func:`planted_gaps` recomputes them from the seed, and
  they are never written to the database.
* Planted schools (a district with at least 12 schools screening PHQ-9): two
  whose students' distress is shifted up and one down, so their true
  screen-positive rates are really higher or lower; the truth is kept apart
  from the tables a real store uses, in ``demo_planted_school``
  (see :mod:`psychanalytics.synth._screening`), for checking funnel plots.
* Group counselling programmes with treatment and comparison arms, and a pilot
  of the 七彩积极品格 curriculum in whole grade 4-6 classes with comparison
  classes (one ``intervention`` per school, outcome MHT), each with a planted
  effect that only the demo writes, to ``demo_planted_effect`` (read it with
  :func:`planted_effects`; see :mod:`psychanalytics.synth._interventions`);
  counselling sessions.
* Crisis cases with raised → confirmed → intervention → (referred) → closed
  events across class, school and society levels, some lost between stages,
  and in about 1.5 % of cases each a record error of the kinds
  :func:`psychanalytics.crisis.case_histories` reports (which ones:
  :func:`planted_crisis_problems`, kept out of the database); classified
  archives per student and year, coverage rising from 82 % to 99.5 % of
  general-category students; archive transfers when a student changes school,
  some late, some never (see :mod:`psychanalytics.synth._crisis`).

``import_batch`` and ``quarantine`` stay empty (``psychanalytics demo`` then imports a sample
export with deliberate errors through the real importer:
:func:`psychanalytics.synth.exports.import_error_sample`); ``audit_log`` records the build.
:mod:`psychanalytics.synth.exports` also writes the sample files of ``data/samples/``.

Realism
-------
``tests/test_synth.py`` checks the 3,000-student build: PHQ-9 total >= 10 in
10-20 % of sheets, higher for girls and senior grades; Cronbach's alpha
(``pingouin.cronbach_alpha``) 0.85-0.90 for PHQ-9 and GAD-7 and 0.88-0.94 for
the 90 MHT content items. The default build (seed 20240901, 45,000 students)
gives PHQ-9 >= 10 in 21 % of girls and 15 % of boys in 2021, easing to 18 %
and 13 % in 2025 (3 points more than without its planted schools); alpha 0.87
(PHQ-9), 0.88 (GAD-7), 0.91 (MHT); about 3 % of MHT sheets with a lie score
>= 7; about 1 % of students with a crisis case a year.

Examples
--------
See :func:`build_demo` and :func:`population`; from the shell::

    psychanalytics demo --db data/demo.sqlite --replace
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from psychanalytics import store
from psychanalytics.store import schema
from psychanalytics.synth._build import (
    MIN_STUDENTS,
    DatabaseNotEmptyError,
    build_demo,
    planted_crisis_problems,
)
from psychanalytics.synth._crisis import DELAYS, LOST, SNAPSHOT
from psychanalytics.synth._plants import REPORT_YEAR, planted_gaps
from psychanalytics.synth._population import DEMO_KEY, SCHOOL_YEARS, schools, students_frame
from psychanalytics.synth._services import DEMO_RESEARCH_PROJECT

__all__ = [
    "DELAYS",
    "DEMO_KEY",
    "LOST",
    "DEMO_RESEARCH_PROJECT",
    "MIN_STUDENTS",
    "REPORT_YEAR",
    "SCHOOL_YEARS",
    "SNAPSHOT",
    "DatabaseNotEmptyError",
    "build_demo",
    "planted_crisis_problems",
    "planted_gaps",
    "planted_effects",
    "population",
]


def population(*, seed: int = 20240901, students: int = 45_000) -> pd.DataFrame:
    """Every student of the demo district built with the same ``seed`` and ``students``.

    One row per student ever enrolled in a demo school year, with the
    identifiers that never enter the database: ``student_number`` (synthetic
    学籍号: ``G`` + an ID-card number with a non-existent county code ``320499``,
    the birth date, a 3-digit sequence and its GB 11643 check character) and ``name`` (a synthetic Chinese name), plus ``gender``
    (``F``/``M``), ``birth_year``, ``cohort`` (届, year of entry to grade 1) and
    ``pid`` = :func:`psychanalytics.privacy.pseudonym.pseudonymise` of the
    number under :data:`DEMO_KEY`, so files written from this frame import
    back onto the pids of :func:`build_demo`.

    Examples
    --------
    >>> from psychanalytics import synth
    >>> from psychanalytics.privacy.pseudonym import pseudonymise
    >>> people = synth.population(seed=1, students=600)
    >>> bool(people["student_number"].str.fullmatch(r"G320499\\d{11}[\\dX]").all())
    True
    >>> pseudonymise(people["student_number"][:1], synth.DEMO_KEY) == [people["pid"][0]]
    True
    """
    frame = students_frame(seed=seed, students=students, school_frame=schools(seed=seed, students=students))
    return frame[["student_number", "name", "gender", "birth_year", "cohort", "pid"]].copy()


def planted_effects(engine: sa.Engine) -> pd.DataFrame:
    """What the demo generator planted in each intervention, to check estimators against.

    Reads ``demo_planted_effect``, which only :func:`build_demo` writes (a real
    store has none), joined to the intervention's kind, school year and outcome.

    Returns
    -------
    pandas.DataFrame
        One row per intervention: ``intervention_id, kind, school, school_year,
        instrument, scale, effect_d`` (the benefit in SDs of the pre scores),
        ``sd_pre``, ``effect_points`` (the shift of the treatment arm's post
        scores in points; negative = lower), ``common_change``, ``change_sd``,
        ``class_sd`` and ``school_sd`` (SDs of a student's own, a class's and a
        school's change, in points).

    Examples
    --------
    >>> from psychanalytics import store, synth
    >>> engine = store.connect("sqlite://")
    >>> _ = synth.build_demo(engine, seed=1, students=600)
    >>> truth = synth.planted_effects(engine)
    >>> sorted(set(truth["kind"]))
    ['curriculum', 'group_counselling']
    >>> bool((truth["effect_points"] == -truth["effect_d"] * truth["sd_pre"]).all())
    True
    """
    planted, iv = schema.demo_planted_effect, schema.intervention
    stmt = (
        sa.select(
            planted.c.intervention_id,
            iv.c.kind,
            iv.c.school_id.label("school"),
            iv.c.school_year,
            iv.c.instrument,
            iv.c.scale,
            *(c for c in planted.c if c.name != "intervention_id"),
        )
        .join_from(planted, iv, planted.c.intervention_id == iv.c.intervention_id)
        .order_by(planted.c.intervention_id)
    )
    return store.read_frame(engine, stmt)
