"""Screen-positive rates against true prevalence: yield, Rogan-Gladen and two-phase estimates."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

from psychanalytics.instruments import Accuracy
from psychanalytics.screening._frames import check_counts, check_level, check_not_above, keys, require
from psychanalytics.screening._intervals import proportion_ci
from psychanalytics.screening._prevalence import prevalence, sum_by

LABEL_ZH = "估计患病率（据筛查结果推算的估计值，不是筛查阳性率）"
LABEL_EN = "estimated true prevalence (inferred from screening results; not the screen-positive rate)"


@dataclass(frozen=True)
class TruePrevalence:
    """An estimate of true prevalence from a two-stage (screen, then interview) design.

    Attributes
    ----------
    estimate : float
        The estimate, within [0, 1].
    ci : tuple of float
        Confidence interval (low, high).
    raw_estimate : float
        The estimator's value before it was held to [0, 1] (Rogan-Gladen
        falls below 0 when fewer screen positive than the false-positive
        rate ``1 - specificity`` implies); equal to ``estimate`` otherwise.
    apparent : float
        The screen-positive rate (筛查阳性率) it was inferred from.
    n : int
        Students screened.
    method : str
        ``"rogan_gladen_lang_reiczigel"``, ``"rogan_gladen_known_accuracy"``
        or ``"two_phase"``.
    basis : str
        What the estimate rests on: the published sensitivity and specificity
        (with their source), or the interviewed samples of screen-positive
        and screen-negative students.
    note : str
        Anything a reader must know (truncation, accuracy treated as exact).
    label_zh, label_en : str
        The label to show with the number: an estimated prevalence, never the
        screen-positive rate.
    """

    estimate: float
    ci: tuple[float, float]
    raw_estimate: float
    apparent: float
    n: int
    method: str
    basis: str
    note: str = ""
    label_zh: str = LABEL_ZH
    label_en: str = LABEL_EN


def _whole(value, name: str, *, at_least: int = 0) -> int:
    if (
        isinstance(value, bool | np.bool_)
        or not isinstance(value, numbers.Real)
        or not float(value).is_integer()
    ):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if value < at_least:
        raise ValueError(f"{name} must be >= {at_least}, got {value!r}")
    return int(value)


def _held(raw: float) -> tuple[float, str]:
    """``raw`` held to [0, 1], and the note that says so when it had to be."""
    if raw < 0:
        return 0.0, (
            f"the estimator gives {raw:.4f} (below 0: fewer screened positive than the instrument's "
            "false-positive rate implies); reported as 0"
        )
    if raw > 1:
        return 1.0, f"the estimator gives {raw:.4f} (above 1); reported as 1"
    return raw, ""


def _lang_reiczigel(count: int, n: int, accuracy: Accuracy, ci: float) -> tuple[float, float]:
    """Lang & Reiczigel (2014) adjusted interval for the Rogan-Gladen estimate with estimated Se, Sp."""
    z = norm.isf((1 - ci) / 2)
    apparent = (count + z**2 / 2) / (n + z**2)
    n_prev = n + z**2
    n_sens, n_spec = accuracy.n_cases + 2, accuracy.n_noncases + 2
    sens = (accuracy.sensitivity * accuracy.n_cases + 1) / n_sens
    spec = (accuracy.specificity * accuracy.n_noncases + 1) / n_spec
    youden = sens + spec - 1
    estimate = (apparent + spec - 1) / youden
    var_sens, var_spec = sens * (1 - sens) / n_sens, spec * (1 - spec) / n_spec
    se = np.sqrt(
        apparent * (1 - apparent) / n_prev + var_sens * estimate**2 + var_spec * (1 - estimate) ** 2
    ) / abs(youden)
    shift = 2 * z**2 * (estimate * var_sens - (1 - estimate) * var_spec)
    return float(np.clip(estimate + shift - z * se, 0, 1)), float(np.clip(estimate + shift + z * se, 0, 1))


def true_prevalence(
    count: int, n: int, *, accuracy: Accuracy, ci: float = 0.95, method: str = "wilson"
) -> TruePrevalence:
    """True prevalence from a screen-positive rate and the instrument's published accuracy (Rogan-Gladen).

    Screen-negative students are rarely interviewed, so the estimate rests on
    the sensitivity and specificity of the cut-off as published (stored in
    the instrument spec with its source).

    Parameters
    ----------
    count : int
        Students screening positive (``scale >= at_least`` of ``accuracy``).
    n : int
        Students screened.
    accuracy : psychanalytics.instruments.Accuracy
        The published accuracy of the cut-off used, e.g.
        ``instruments.get("phq9").accuracy_at("total", 10)``.
    ci : float
        Confidence level.
    method : {"wilson", "jeffreys", "exact"}
        Interval for the screen-positive rate when the accuracy is treated as
        exact (see Notes).

    Returns
    -------
    TruePrevalence

    Notes
    -----
    Rogan & Gladen (1978): ``pi = (p + Sp - 1) / (Se + Sp - 1)`` for the
    screen-positive rate ``p``, held to [0, 1] (``raw_estimate`` keeps the
    value, ``note`` says when it was held).

    When the source gives the validation study's numbers of cases and
    non-cases, the interval is Lang & Reiczigel's (2014, Prev Vet Med
    113:13-22) adjusted Wald interval, which carries the sampling error of
    Se and Sp as well as of ``p``. Otherwise Se and Sp are treated as exact
    and the interval is the Rogan-Gladen transform of the interval of ``p``
    (Reiczigel, Földi & Ózsvári 2010; ``epiR::epi.prev``): it is then too
    narrow by the uncertainty of the published values, which ``note`` says.

    Validated against J. Reiczigel's published R function for Lang &
    Reiczigel (2014) and against the documented example of ``epiR::epi.prev``
    (``tests/reference/screening/true_prevalence.json``). Written by hand:
    statsmodels and scipy have no misclassification-adjusted prevalence.

    Examples
    --------
    >>> from psychanalytics import instruments
    >>> from psychanalytics.screening import true_prevalence
    >>> cutoff = instruments.get("phq9").accuracy_at("total", 10)
    >>> result = true_prevalence(312, 2400, accuracy=cutoff)
    >>> round(result.apparent, 3), round(result.estimate, 3), result.method
    (0.13, 0.013, 'rogan_gladen_lang_reiczigel')
    >>> [round(x, 3) for x in result.ci]
    [0.0, 0.052]
    """
    count, n = _whole(count, "count"), _whole(n, "n", at_least=1)
    if count > n:
        raise ValueError(f"count ({count}) is larger than n ({n})")
    check_level(ci)
    if not isinstance(accuracy, Accuracy):
        raise TypeError(f"accuracy must be an instruments.Accuracy, got {type(accuracy).__name__}")
    se, sp = accuracy.sensitivity, accuracy.specificity
    apparent = count / n
    raw = (apparent + sp - 1) / (se + sp - 1)
    estimate, note = _held(raw)
    cutoff = f"{accuracy.scale} >= {accuracy.at_least:g}"
    basis = f"published sensitivity {se:g} and specificity {sp:g} of {cutoff} for {accuracy.condition}: {accuracy.source}"
    if accuracy.n_cases is not None and accuracy.n_noncases is not None:
        interval, name = _lang_reiczigel(count, n, accuracy, ci), "rogan_gladen_lang_reiczigel"
    else:
        low, high = proportion_ci(count, n, method=method, ci=ci)
        interval = tuple(float(np.clip((x + sp - 1) / (se + sp - 1), 0, 1)) for x in (low, high))
        name = "rogan_gladen_known_accuracy"
        exact = (
            "the source gives no validation counts, so sensitivity and specificity are treated as exact "
            "and the interval is too narrow by their uncertainty"
        )
        note = f"{note}; {exact}" if note else exact
    if interval[1] == 0:
        collapsed = (
            "the interval collapses to 0: no more students screened positive than the instrument's "
            "false-positive rate alone would produce, so the data cannot tell how small the prevalence is"
        )
        note = f"{note}; {collapsed}" if note else collapsed
    return TruePrevalence(estimate, interval, raw, apparent, n, name, basis, note)


def two_phase_prevalence(
    positive: int,
    negative: int,
    *,
    positive_interviewed: int,
    positive_confirmed: int,
    negative_interviewed: int,
    negative_confirmed: int,
    ci: float = 0.95,
    method: str = "wilson",
) -> TruePrevalence:
    r"""True prevalence from a two-phase survey: all screened, samples of positives and negatives interviewed.

    Parameters
    ----------
    positive, negative : int
        Students screening positive and negative (phase 1).
    positive_interviewed, negative_interviewed : int
        Of those, the students interviewed (phase 2, a random sample of each;
        each >= 2).
    positive_confirmed, negative_confirmed : int
        Of the interviewed, those the interview confirmed as cases.
    ci : float
        Confidence level.
    method : {"wilson", "jeffreys", "exact"}
        Interval method, applied to the effective sample (Notes).

    Returns
    -------
    TruePrevalence

    Notes
    -----
    Double sampling for stratification (Cochran 1977, §12.2; Pickles, Dunn
    & Vázquez-Barquero 1995): with phase-1 shares ``w_h = n_h / N``, ``m_h``
    interviewed and confirmed shares ``p_h = c_h / m_h`` in the two strata,
    ``pi = sum_h w_h p_h`` with variance

    .. math:: v(\pi) = \frac{\sum_h w_h\,[p_h(1-p_h) + (p_h - \pi)^2]}{N - 1}
              + \sum_h w_h^2 \Big(1 - \frac{m_h}{n_h}\Big) \frac{p_h(1-p_h)}{m_h - 1}:

    the phase-1 term is the variance of the mean had everyone been
    interviewed, the phase-2 term that of sampling the interviewees within
    each stratum (without replacement). The interval is ``method`` on the
    effective sample ``n* = pi (1 - pi) / v`` (Korn & Graubard 1998); when
    ``v = 0`` (no case found, or every interviewee a case) ``n*`` is the
    number interviewed.

    Validated against R ``survey`` 4.1 (``twophase(method="approx")`` and
    ``svymean``: estimate and variance) and R ``qbeta`` on the effective
    sample (``tests/reference/screening/two_phase_survey.json``).

    Examples
    --------
    >>> from psychanalytics.screening import two_phase_prevalence
    >>> result = two_phase_prevalence(300, 2100, positive_interviewed=120, positive_confirmed=54,
    ...                               negative_interviewed=150, negative_confirmed=3)
    >>> round(result.estimate, 5), [round(x, 3) for x in result.ci], result.method
    (0.07375, [0.054, 0.101], 'two_phase')
    """
    counts = {
        "positive": _whole(positive, "positive"),
        "negative": _whole(negative, "negative"),
        "positive_interviewed": _whole(positive_interviewed, "positive_interviewed", at_least=2),
        "negative_interviewed": _whole(negative_interviewed, "negative_interviewed", at_least=2),
        "positive_confirmed": _whole(positive_confirmed, "positive_confirmed"),
        "negative_confirmed": _whole(negative_confirmed, "negative_confirmed"),
    }
    for stratum in ("positive", "negative"):
        if counts[f"{stratum}_interviewed"] > counts[stratum]:
            raise ValueError(f"{stratum}_interviewed is larger than {stratum}")
        if counts[f"{stratum}_confirmed"] > counts[f"{stratum}_interviewed"]:
            raise ValueError(f"{stratum}_confirmed is larger than {stratum}_interviewed")
    check_level(ci)
    size = np.array([counts["positive"], counts["negative"]], dtype=float)
    interviewed = np.array([counts["positive_interviewed"], counts["negative_interviewed"]], dtype=float)
    confirmed = np.array([counts["positive_confirmed"], counts["negative_confirmed"]], dtype=float)
    estimate, variance = _two_phase(size, interviewed, confirmed)
    effective = interviewed.sum() if variance == 0 else estimate * (1 - estimate) / variance
    low, high = proportion_ci(estimate * effective, effective, method=method, ci=ci)
    total = int(size.sum())
    basis = (
        f"interviews of {int(interviewed[0])} of {int(size[0])} screen-positive and "
        f"{int(interviewed[1])} of {int(size[1])} screen-negative students"
    )
    return TruePrevalence(estimate, (low, high), estimate, float(size[0] / total), total, "two_phase", basis)


def _two_phase(size: np.ndarray, interviewed: np.ndarray, confirmed: np.ndarray) -> tuple[float, float]:
    """Estimate and variance of the double-sampling-for-stratification proportion (see two_phase_prevalence)."""
    total = size.sum()
    share = size / total
    rate = confirmed / interviewed
    estimate = float(share @ rate)
    spread = rate * (1 - rate)
    phase1 = (share * (spread + (rate - estimate) ** 2)).sum() / (total - 1)
    phase2 = (share**2 * (1 - interviewed / size) * spread / (interviewed - 1)).sum()
    return estimate, float(phase1 + phase2)


def screening_yield(
    counts: pd.DataFrame,
    *,
    by: str | Sequence[str] = ("instrument", "cutoff"),
    cluster: str | None = "school",
    method: str = "wilson",
    ci: float = 0.95,
) -> pd.DataFrame:
    """Screen-positive rate and interview-confirmed share by instrument and cut-off.

    Parameters
    ----------
    counts : pandas.DataFrame
        The ``by`` columns, ``n`` (students screened), ``count`` (screen
        positive) and the ``cluster`` column (see :func:`prevalence`);
        optionally ``interviewed`` (screen-positive students interviewed) and
        ``confirmed`` (of those, confirmed as cases).
    by : str or sequence of str
        Default ``("instrument", "cutoff")``.
    cluster, method, ci
        As in :func:`prevalence`.

    Returns
    -------
    pandas.DataFrame
        :func:`prevalence`'s columns (the screen-positive rate 筛查阳性率 as
        ``proportion``, ``low``, ``high``) and, when ``interviewed`` is given,
        ``interviewed``, ``confirmed`` and the positive predictive value
        ``ppv`` (confirmed / interviewed) with ``ppv_low``, ``ppv_high``
        (``NaN`` where nobody was interviewed).

    Examples
    --------
    >>> import pandas as pd
    >>> from psychanalytics.screening import screening_yield
    >>> counts = pd.DataFrame({"instrument": ["phq9"] * 2, "cutoff": [10, 15], "n": [2400, 2400],
    ...                        "count": [312, 120], "interviewed": [120, 80], "confirmed": [54, 49]})
    >>> screening_yield(counts, cluster=None)[["cutoff", "proportion", "ppv", "ppv_low", "ppv_high"]].round(3)
       cutoff  proportion    ppv  ppv_low  ppv_high
    0      10        0.13  0.450    0.364     0.539
    1      15        0.05  0.612    0.503     0.712
    """
    by = keys(by)
    out = prevalence(counts, by=by, cluster=cluster, method=method, ci=ci, min_n=0, min_coverage=0)
    out = out.drop(columns=["small_n", "low_coverage"])
    if "interviewed" not in counts.columns:
        return out
    require(counts, ["confirmed"], what="counts")
    check_counts(counts, ["interviewed", "confirmed"], what="counts")
    check_not_above(counts, "interviewed", "count", what="counts")
    check_not_above(counts, "confirmed", "interviewed", what="counts")
    second = sum_by(counts, by, ["interviewed", "confirmed"])
    asked = second["interviewed"].to_numpy(dtype=float) > 0
    ppv, ppv_low, ppv_high = (np.full(len(second), np.nan) for _ in range(3))
    hits, asked_n = second["confirmed"].to_numpy(dtype=float), second["interviewed"].to_numpy(dtype=float)
    if asked.any():
        ppv_low[asked], ppv_high[asked] = proportion_ci(hits[asked], asked_n[asked], method=method, ci=ci)
        ppv[asked] = hits[asked] / asked_n[asked]
    second = second.assign(ppv=ppv, ppv_low=ppv_low, ppv_high=ppv_high)
    return out.merge(second, on=list(by), how="left") if by else out.join(second)
