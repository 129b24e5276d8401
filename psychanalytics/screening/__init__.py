"""Screening analytics: distributions with coverage, screen-positive rates with intervals, funnel plots,
true prevalence, trends, cohorts, invariance-first group comparisons, screening → action.

Pure statistics on small tidy frames of counts (``store.queries`` does the
counting): no database, file, plot or print. Role names: ``n`` is always a
denominator (students screened), ``count`` a numerator (students screen
positive); ``proportion``, ``low`` and ``high`` an estimate and its interval.
A rate of students scoring at or above a cut-off is a screen-positive rate
(筛查阳性率), never a prevalence (患病率): only :func:`true_prevalence` and
:func:`two_phase_prevalence` estimate a prevalence, and their results say so.

Every statistic is checked against published values of trusted software or
papers stored with their sources in ``tests/reference/screening/`` (R
``binom``, Newcombe 1998, FunnelPlotR, PHE's indicator workbook, R ``aov``,
``survey`` and ``geepack``, J. Reiczigel's script for Lang & Reiczigel 2014).

Examples
--------
>>> import pandas as pd
>>> from psychanalytics import screening
>>> counts = pd.DataFrame({"school": ["A", "B", "C"], "n": [240, 180, 25], "count": [24, 0, 5]})
>>> screening.prevalence(counts)[["school", "proportion", "low", "high"]].round(3)
  school  proportion    low   high
0      A         0.1  0.068  0.144
1      B         0.0  0.000  0.021
2      C         0.2  0.089  0.391
"""

from psychanalytics.screening._action import STEPS, screening_action
from psychanalytics.screening._cohorts import CohortResult, cohorts
from psychanalytics.screening._compare import (
    GroupComparison,
    InvarianceCriteria,
    compare_groups,
    invariance_level,
)
from psychanalytics.screening._coverage import COVERAGE_COLUMNS, coverage, with_coverage
from psychanalytics.screening._distributions import band_shares, mean_scores, score_distribution
from psychanalytics.screening._funnel import (
    FunnelResult,
    expected_counts,
    funnel,
    funnel_limits,
    overdispersion_estimate,
)
from psychanalytics.screening._intervals import proportion_ci
from psychanalytics.screening._prevalence import design_effect, prevalence
from psychanalytics.screening._trends import TrendResult, trend
from psychanalytics.screening._two_stage import (
    TruePrevalence,
    screening_yield,
    true_prevalence,
    two_phase_prevalence,
)

__all__ = [
    "COVERAGE_COLUMNS",
    "STEPS",
    "CohortResult",
    "FunnelResult",
    "GroupComparison",
    "InvarianceCriteria",
    "TrendResult",
    "TruePrevalence",
    "band_shares",
    "cohorts",
    "compare_groups",
    "coverage",
    "design_effect",
    "expected_counts",
    "funnel",
    "funnel_limits",
    "invariance_level",
    "mean_scores",
    "overdispersion_estimate",
    "prevalence",
    "proportion_ci",
    "score_distribution",
    "screening_action",
    "screening_yield",
    "trend",
    "true_prevalence",
    "two_phase_prevalence",
    "with_coverage",
]
