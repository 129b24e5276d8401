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
  20 March, 25 May and 10 October), funding, screening consent, and consent to the demo research
  project (:data:`DEMO_RESEARCH_PROJECT`, purpose ``research:growth-cohort``) from about two guardians
  in three from 2023-2024 on, so research extracts of the demo are not empty.
* Group counselling programmes with treatment and comparison arms and a
  planted effect stored in ``intervention.true_effect_d``
  (see :mod:`psychanalytics.synth._interventions`); counselling sessions.
* Crisis cases with raised → confirmed → intervention → (referred) → closed
  events across class, school and society levels; classified archives per
  student and year; archive transfers when a student changes school.

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
gives PHQ-9 >= 10 in 18 % of girls and 12 % of boys in 2021, easing to 15 %
and 9 % in 2025; alpha 0.87 (PHQ-9), 0.88 (GAD-7), 0.91 (MHT); about 3 % of
MHT sheets with a lie score >= 7; about 1 % of students with a crisis case a
year.

Examples
--------
See :func:`build_demo` and :func:`population`; from the shell::

    psychanalytics demo --db data/demo.sqlite --replace
"""

from __future__ import annotations

import pandas as pd

from psychanalytics.synth._build import MIN_STUDENTS, DatabaseNotEmptyError, build_demo
from psychanalytics.synth._crisis import SNAPSHOT
from psychanalytics.synth._population import DEMO_KEY, SCHOOL_YEARS, schools, students_frame
from psychanalytics.synth._services import DEMO_RESEARCH_PROJECT

__all__ = [
    "DEMO_KEY",
    "DEMO_RESEARCH_PROJECT",
    "MIN_STUDENTS",
    "SCHOOL_YEARS",
    "SNAPSHOT",
    "DatabaseNotEmptyError",
    "build_demo",
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
