"""Reliable change and clinical significance (Jacobson & Truax 1991)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from psychanalytics.outcomes._validate import paired

CRITICAL = 1.96
CATEGORIES = ("improved", "unchanged", "deteriorated")
CATEGORIES_WITH_CUTOFF = ("recovered", "improved", "unchanged", "deteriorated", "harmed")
_BETTER = ("lower", "higher")
CATEGORY_LABELS = {
    "recovered": ("临床痊愈", "recovered"),
    "improved": ("可靠改善", "reliably improved"),
    "unchanged": ("无可靠变化", "no reliable change"),
    "deteriorated": ("可靠恶化", "reliably deteriorated"),
    "harmed": ("临床恶化", "harmed"),
}
"""Each category's name, Chinese and English, for tables and figures."""


@dataclass(frozen=True)
class ReliableChangeResult:
    """Per-student reliable change index, category and the summary table.

    Attributes
    ----------
    subjects : pandas.DataFrame
        One row per student, indexed like the input: ``change`` (post - pre),
        ``rci`` and ``category`` (a pandas Categorical; with a cutoff
        ``recovered, improved, unchanged, deteriorated, harmed``, without one
        ``improved, unchanged, deteriorated``).
    table : pandas.DataFrame
        One row per category in that order, every category listed: ``category``,
        ``count``, ``n`` (all students), ``proportion``.
    s_diff : float
        Standard error of the difference, ``√2 · se_measurement``.
    se_measurement : float
        ``sd_pre · √(1 - reliability)``.
    sd_pre : float
        The SD used (given, or the sample SD of ``pre``).
    reliability : float
    better : str
        ``"lower"`` or ``"higher"``: which direction of the scale is better.
    cutoff : float or None
        The clinical cutoff, when one was given.
    critical : float
        1.96: a change is reliable when ``|rci| > critical``.
    """

    subjects: pd.DataFrame
    table: pd.DataFrame
    s_diff: float
    se_measurement: float
    sd_pre: float
    reliability: float
    better: str
    cutoff: float | None
    critical: float


def _direction(better: str) -> float:
    if better not in _BETTER:
        raise ValueError(f"better must be 'lower' or 'higher', got {better!r}")
    return -1.0 if better == "lower" else 1.0


def _positive(value, name: str) -> float:
    number = float(value)
    if not (np.isfinite(number) and number > 0):
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return number


def jt_cutoff(
    clinical_mean: float,
    clinical_sd: float,
    functional_mean: float | None = None,
    functional_sd: float | None = None,
    *,
    kind: str = "a",
    better: str = "lower",
) -> float:
    """Jacobson & Truax (1991) cutoff between the clinical and the functional population.

    Parameters
    ----------
    clinical_mean, clinical_sd : float
        Mean and SD of the clinical (dysfunctional) population, e.g. the
        pre-treatment scores of the group.
    functional_mean, functional_sd : float, optional
        Mean and SD of a functional (normative) population; needed by ``b`` and ``c``.
    kind : {"a", "b", "c"}
        ``a``: two SDs beyond the clinical mean, towards the functional side;
        ``b``: within two SDs of the functional mean; ``c``: the point equally
        far, in SDs, from both means (JT 1991, p. 13).
    better : {"lower", "higher"}
        Which direction of the scale is better (lower for symptom scales).

    Returns
    -------
    float

    Notes
    -----
    With ``s = -1`` when lower is better and ``+1`` when higher is better:

    - a: ``M_clin + s · 2 SD_clin``
    - b: ``M_func - s · 2 SD_func``
    - c: ``(SD_clin · M_func + SD_func · M_clin) / (SD_clin + SD_func)``

    Checked against R clinicalsignificance 3.0.0 run on a generated symptom
    scale (lower is better) and wellbeing scale (higher is better): cut-offs a
    and c agree to 1e-12 (``tests/reference/outcomes/clinicalsignificance.json``,
    made by ``make_clinicalsignificance.R``). That package's ``b`` uses the
    clinical SD; JT 1991 define b by the range of the *functional* population,
    as here.

    Examples
    --------
    >>> from psychanalytics.outcomes import jt_cutoff
    >>> round(jt_cutoff(14.21, 4.37, kind="a"), 2)
    5.47
    >>> round(jt_cutoff(14.21, 4.37, 4.5, 3.8, kind="c"), 2)
    9.02
    """
    sign = _direction(better)
    clinical_sd = _positive(clinical_sd, "clinical_sd")
    if kind == "a":
        return float(clinical_mean + sign * 2 * clinical_sd)
    if kind not in ("b", "c"):
        raise ValueError(f"kind must be 'a', 'b' or 'c', got {kind!r}")
    if functional_mean is None or functional_sd is None:
        raise ValueError(f"cutoff {kind!r} needs functional_mean and functional_sd")
    functional_sd = _positive(functional_sd, "functional_sd")
    if sign * (functional_mean - clinical_mean) <= 0:
        raise ValueError(
            f"functional_mean {functional_mean!r} is not better than clinical_mean {clinical_mean!r} "
            f"when {better} scores are better"
        )
    if kind == "b":
        return float(functional_mean - sign * 2 * functional_sd)
    return float(
        (clinical_sd * functional_mean + functional_sd * clinical_mean) / (clinical_sd + functional_sd)
    )


def reliable_change(
    pre,
    post,
    *,
    reliability: float,
    better: str = "lower",
    sd_pre: float | None = None,
    cutoff: float | None = None,
) -> ReliableChangeResult:
    """Jacobson-Truax reliable change index per student, and clinical significance with a cutoff.

    Parameters
    ----------
    pre, post : array-like or pandas.Series
        Each student's scores (Series must share their index, which the
        per-student frame keeps). Missing values are refused: drop students
        without a post score first (see :func:`attrition`).
    reliability : float
        Reliability of the instrument, ``0 ≤ r < 1``, stated explicitly (a
        published test-retest or internal-consistency coefficient, or
        :func:`psychanalytics.psychometrics.cronbach_alpha` of the pre wave).
    better : {"lower", "higher"}
        Which direction of the scale is better (lower for symptom scales such as PHQ-9).
    sd_pre : float, optional
        SD for the standard error of measurement; by default the sample SD of
        ``pre`` (as R clinicalsignificance); pass a normative SD to use one.
    cutoff : float, optional
        Clinical cutoff (e.g. from :func:`jt_cutoff`). With one, reliably
        improved students who moved from the clinical to the functional side
        are ``recovered`` and reliably deteriorated students who were not on the
        clinical side and are not on the functional side after are ``harmed``.

    Returns
    -------
    ReliableChangeResult

    Notes
    -----
    ``SE = sd_pre √(1 - r)``, ``S_diff = √(2 SE²)``, ``RCI = (post - pre) / S_diff``.
    A change is reliable when ``|RCI| > 1.96`` (strictly; JT 1991). With ``s =
    -1`` when lower is better: improved when ``s · RCI > 1.96``, deteriorated
    when ``s · RCI < -1.96``. Around a cutoff ``c`` a score is on the clinical
    side when ``s · score < s · c`` and on the functional side when ``s ·
    score > s · c`` (a score equal to ``c`` is on neither): recovered =
    improved, clinical before, functional after; harmed = deteriorated, not
    clinical before, not functional after — as R clinicalsignificance 3.0.0.

    Validated against R clinicalsignificance 3.0.0 (``cs_distribution`` and
    ``cs_combined``, JT method) on generated data with every category present,
    both directions of the scale and cut-offs a and c: each student's RCI to
    1e-12 and category exactly (R's critical value is ``qnorm(0.975) =
    1.95996…``; no student lies between that and 1.96).
    Vectorised: a million pairs in well under a second
    (``benchmarks/bench_outcomes.py``).

    Examples
    --------
    >>> from psychanalytics.outcomes import reliable_change
    >>> res = reliable_change([20, 18, 25, 15, 22], [8, 17, 24, 21, 9], reliability=0.85)
    >>> res.subjects["category"].tolist()
    ['improved', 'unchanged', 'unchanged', 'deteriorated', 'improved']
    >>> res.table[["category", "count", "n"]].values.tolist()
    [['improved', 2, 5], ['unchanged', 2, 5], ['deteriorated', 1, 5]]
    """
    sign = _direction(better)
    if not 0 <= reliability < 1:
        raise ValueError(f"reliability must be at least 0 and below 1, got {reliability!r}")
    before, after, index = paired(pre, post, ("pre", "post"), min_n=1 if sd_pre is not None else 2)
    sd = _positive(before.std(ddof=1) if sd_pre is None else sd_pre, "sd_pre")
    se_measurement = sd * np.sqrt(1 - reliability)
    s_diff = np.sqrt(2) * se_measurement
    change = after - before
    rci = change / s_diff
    directed = sign * rci
    improved, deteriorated = directed > CRITICAL, directed < -CRITICAL
    # codes index CATEGORIES_WITH_CUTOFF: 1 improved, 2 unchanged, 3 deteriorated
    codes = np.full(len(rci), 2, dtype=np.int8)
    codes[improved] = 1
    codes[deteriorated] = 3
    if cutoff is None:
        labels, codes = CATEGORIES, codes - 1
    else:
        if not np.isfinite(cutoff):
            raise ValueError(f"cutoff must be a finite number, got {cutoff!r}")
        clinical_before = sign * before < sign * cutoff
        functional_after = sign * after > sign * cutoff
        codes[improved & clinical_before & functional_after] = 0
        codes[deteriorated & ~clinical_before & ~functional_after] = 4
        labels = CATEGORIES_WITH_CUTOFF
    category = pd.Categorical.from_codes(codes, categories=list(labels))
    counts = np.bincount(codes, minlength=len(labels))
    table = pd.DataFrame(
        {"category": list(labels), "count": counts, "n": len(codes), "proportion": counts / len(codes)}
    )
    subjects = pd.DataFrame({"change": change, "rci": rci, "category": category}, index=index, copy=False)
    return ReliableChangeResult(
        subjects=subjects,
        table=table,
        s_diff=float(s_diff),
        se_measurement=float(se_measurement),
        sd_pre=sd,
        reliability=float(reliability),
        better=better,
        cutoff=None if cutoff is None else float(cutoff),
        critical=CRITICAL,
    )
