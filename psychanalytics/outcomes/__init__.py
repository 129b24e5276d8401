"""Intervention outcomes: did group counselling and the positive-character curriculum help?

Pure functions on arrays and tidy frames (no database, file or plot):

- one group before and after: :func:`pre_post` (paired t, Wilcoxon) and
  :func:`effect_size` (d_s, g, d_av, d_z with noncentral-t intervals);
- each student: :func:`reliable_change` and :func:`jt_cutoff` (Jacobson & Truax 1991);
- against a comparison group: :func:`match_comparison` and :func:`balance`,
  :func:`ancova`, :func:`difference_in_differences` (cluster-robust by school);
- students in classes in schools: :func:`mixed_model` (random intercepts, ICCs);
- who left and how much they came: :func:`attrition`, :func:`dose_response`;
- for whom: :func:`subgroup_effects` (the effect per subgroup, the arm × subgroup test);
- many subgroups or programmes: :func:`adjust_pvalues` (Holm, Benjamini-Hochberg);
- every intervention in one table: :func:`intervention_report`, with the
  reliable change index's error from the pre-test wave (:func:`pretest_reliability`);
  a kind's programmes pooled: :func:`pool_effects` (fixed and random effects).

Missing values are refused everywhere, naming the column and rows: drop them
explicitly (``attrition`` lists the students without a post score). Each
statistic is checked against published values or R/pingouin output stored with
its source in ``tests/reference/outcomes/``.

Examples
--------
>>> from psychanalytics import outcomes
>>> pre = [14, 12, 17, 11, 15, 13, 16, 12]
>>> post = [10, 11, 12, 11, 9, 12, 13, 8]
>>> round(outcomes.pre_post(pre, post).value, 3)
-3.0
>>> outcomes.effect_size(post, pre, paired=True).kind
'cohen_dav'
"""

from psychanalytics.outcomes._attrition import AttritionResult, attrition, dose_response
from psychanalytics.outcomes._compare import ancova, difference_in_differences
from psychanalytics.outcomes._effect import EffectSize, effect_size
from psychanalytics.outcomes._matching import MatchResult, balance, match_comparison
from psychanalytics.outcomes._models import EstimateResult
from psychanalytics.outcomes._multilevel import ConvergenceError, MixedModelResult, mixed_model
from psychanalytics.outcomes._multiple import adjust_pvalues
from psychanalytics.outcomes._pool import pool_effects
from psychanalytics.outcomes._prepost import PrePostResult, pre_post
from psychanalytics.outcomes._pretest import PretestReliability, pretest_reliability
from psychanalytics.outcomes._reliable import (
    CATEGORY_LABELS,
    ReliableChangeResult,
    jt_cutoff,
    reliable_change,
)
from psychanalytics.outcomes._report import InterventionReport, intervention_report
from psychanalytics.outcomes._sentences import p_text
from psychanalytics.outcomes._subgroup import SubgroupResult, subgroup_effects

__all__ = [
    "CATEGORY_LABELS",
    "AttritionResult",
    "ConvergenceError",
    "EffectSize",
    "EstimateResult",
    "InterventionReport",
    "MatchResult",
    "MixedModelResult",
    "PrePostResult",
    "PretestReliability",
    "ReliableChangeResult",
    "SubgroupResult",
    "adjust_pvalues",
    "ancova",
    "attrition",
    "balance",
    "difference_in_differences",
    "dose_response",
    "effect_size",
    "intervention_report",
    "jt_cutoff",
    "match_comparison",
    "mixed_model",
    "p_text",
    "pool_effects",
    "pre_post",
    "pretest_reliability",
    "reliable_change",
    "subgroup_effects",
]
