"""Standardised mean differences (Cohen's d family) with noncentral-t confidence intervals."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq
from scipy.special import gammaln
from scipy.stats import nct

from psychanalytics.outcomes._validate import confidence, numbers_of, series
from psychanalytics.outcomes._validate import paired as paired_scores

UNPAIRED_KINDS = ("cohen_d", "hedges_g")
PAIRED_KINDS = ("cohen_dav", "cohen_dz", "hedges_g")


@dataclass(frozen=True)
class EffectSize:
    """A standardised mean difference and its confidence interval.

    Attributes
    ----------
    value : float
        The effect size, positive when ``x`` is higher on average than ``y``.
    low, high : float
        Confidence interval.
    kind : str
        The formula used: ``cohen_d`` (d_s), ``hedges_g`` (g_s, or g_av when
        ``paired``), ``cohen_dz`` or ``cohen_dav`` (see :func:`effect_size`).
    paired : bool
        Whether ``x`` and ``y`` were paired observations.
    confidence : float
        Level of the interval.
    n_x, n_y : int
        Observations in ``x`` and ``y`` (both the number of pairs when paired).
    """

    value: float
    low: float
    high: float
    kind: str
    paired: bool
    confidence: float
    n_x: int
    n_y: int

    @property
    def ci(self) -> tuple[float, float]:
        """The interval as ``(low, high)``."""
        return (self.low, self.high)


def hedges_correction(df: float) -> float:
    """Hedges' (1981) exact small-sample factor J(df) = Γ(df/2) / (√(df/2) Γ((df-1)/2))."""
    return float(np.exp(gammaln(df / 2) - 0.5 * np.log(df / 2) - gammaln((df - 1) / 2)))


def _ncp_bound(t: float, df: float, probability: float) -> float:
    """The noncentrality parameter λ with ``P(T ≤ t | df, λ) = probability`` (decreasing in λ)."""

    def gap(ncp: float) -> float:
        value = nct.cdf(t, df, ncp)
        if np.isnan(value):
            # scipy's noncentral t returns NaN far in a tail (t = -20 on 211 df at λ = 2): there
            # P(T ≤ t) is 0 for λ above t and 1 below it, which keeps the root bracketed
            value = 0.0 if ncp > t else 1.0
        return value - probability

    step = 2.0 + abs(t)
    low, high = t - step, t + step
    while gap(low) < 0:
        low -= step
        step *= 2
    while gap(high) > 0:
        high += step
        step *= 2
    return brentq(gap, low, high, xtol=1e-12, rtol=1e-12)


def noncentral_t_interval(t: float, df: float, level: float) -> tuple[float, float]:
    """Confidence interval of the noncentrality parameter of an observed t (Steiger & Fouladi 1997).

    scipy has the noncentral t distribution but not its inversion in λ, so the
    two bounds are found here with :func:`scipy.optimize.brentq`.
    """
    tail = (1 - level) / 2
    return _ncp_bound(t, df, 1 - tail), _ncp_bound(t, df, tail)


def _resolve_kind(kind: str | None, paired_data: bool) -> str:
    if kind is None:
        return "cohen_dav" if paired_data else "cohen_d"
    allowed = PAIRED_KINDS if paired_data else UNPAIRED_KINDS
    if kind not in allowed:
        other = "paired=False" if paired_data else "paired=True"
        hint = f" ({kind!r} needs {other})" if kind in UNPAIRED_KINDS + PAIRED_KINDS else ""
        raise ValueError(f"kind must be one of {allowed} when paired={paired_data}, got {kind!r}{hint}")
    return kind


def _independent(x: np.ndarray, y: np.ndarray, kind: str, level: float) -> tuple[float, float, float]:
    n_x, n_y = len(x), len(y)
    df = n_x + n_y - 2
    pooled = np.sqrt(((n_x - 1) * x.var(ddof=1) + (n_y - 1) * y.var(ddof=1)) / df)
    if pooled == 0:
        raise ValueError("every score in x and in y is the same value: the pooled SD is 0 and d undefined")
    d = (x.mean() - y.mean()) / pooled
    scale = np.sqrt(1 / n_x + 1 / n_y)
    low, high = (bound * scale for bound in noncentral_t_interval(d / scale, df, level))
    factor = hedges_correction(df) if kind == "hedges_g" else 1.0
    return factor * d, factor * low, factor * high


def _paired(x: np.ndarray, y: np.ndarray, kind: str, level: float) -> tuple[float, float, float]:
    n = len(x)
    difference = x - y
    sd_difference = difference.std(ddof=1)
    if sd_difference == 0:
        raise ValueError("every pair differs by the same amount: the SD of the differences is 0")
    t = difference.mean() / sd_difference * np.sqrt(n)
    low, high = noncentral_t_interval(t, n - 1, level)
    if kind == "cohen_dz":
        scale = 1 / np.sqrt(n)
        factor = 1.0
    else:  # cohen_dav, hedges_g (g_av)
        sd_average = np.sqrt((x.var(ddof=1) + y.var(ddof=1)) / 2)
        if sd_average == 0:
            raise ValueError("every score in x and in y is the same value: d_av is undefined")
        scale = sd_difference / (sd_average * np.sqrt(n))
        factor = hedges_correction(2 * n - 2) if kind == "hedges_g" else 1.0
    return factor * t * scale, factor * low * scale, factor * high * scale


def effect_size(x, y, *, paired: bool = False, kind: str | None = None, ci: float = 0.95) -> EffectSize:
    """Cohen's d family: d_s and g_s for two groups; d_av, g_av and d_z for paired scores.

    Parameters
    ----------
    x, y : array-like or pandas.Series
        Scores, positive effect when ``x`` is higher. For a pre/post change pass
        ``effect_size(post, pre, paired=True)``: on a symptom scale an
        improvement is then negative. Missing values are refused (drop
        incomplete pairs first); paired Series must share their index.
    paired : bool
        ``x[i]`` and ``y[i]`` are the same student's scores.
    kind : {"cohen_d", "hedges_g", "cohen_dav", "cohen_dz"}, optional
        The formula (below). By default ``cohen_d`` for two groups and
        **``cohen_dav`` for paired scores** (DESIGN.md, decision 26). ``cohen_d``
        is refused when paired and ``cohen_dav``/``cohen_dz`` when not, since
        each names one design.
    ci : float
        Confidence level.

    Returns
    -------
    EffectSize
        ``.value``, ``.low``/``.high`` (``.ci``) and ``.kind``.

    Notes
    -----
    With means ``M``, sample SDs ``s`` (``n - 1`` denominators) and ``n`` pairs:

    - ``cohen_d`` (d_s): ``(M_x - M_y) / s_p``, ``s_p² = ((n_x-1)s_x² + (n_y-1)s_y²) / (n_x+n_y-2)``.
    - ``hedges_g``: unpaired g_s = ``J(n_x+n_y-2) · d_s``; paired g_av = ``J(2n-2) · d_av``, the
      degrees of freedom Lakens (2013) and pingouin use. ``J(df) = Γ(df/2) / (√(df/2) Γ((df-1)/2))``
      is Hedges' exact factor (R ``effectsize``); pingouin uses the approximation
      ``1 - 3 / (4 df - 1)``, which differs in the fourth significant digit at n = 7.
    - ``cohen_dav``: ``(M_x - M_y) / √((s_x² + s_y²) / 2)``, the root mean square of the two SDs
      (Cumming 2012; pingouin's paired ``"cohen"``). Lakens (2013, eq. 10) averages the SDs
      instead, ``(s_x + s_y) / 2``: equal to three decimals on his example, lower when the SDs differ.
    - ``cohen_dz``: ``M_(x-y) / s_(x-y) = t / √n`` for the paired t statistic.

    Intervals come from inverting the noncentral t distribution of the test
    statistic (Steiger & Fouladi 1997; Cumming & Finch 2001), not from the
    normal approximation pingouin's ``compute_esci`` uses (too narrow for the
    10-15 students of a counselling group):

    - d_s: ``t = d_s / √(1/n_x + 1/n_y)`` with ``n_x + n_y - 2`` df; the bounds of λ times ``√(1/n_x + 1/n_y)``.
    - d_z: the paired ``t`` with ``n - 1`` df; bounds of λ over ``√n``.
    - d_av, g_av: Algina & Keselman's (2003) approximation: the bounds of λ for the paired ``t``
      times ``s_(x-y) / (s_av √n)``.
    - g: the bounds of d times the same ``J``.

    Validated against Lakens (2013, Table 3 and text: d_s 1.13 [0.16, 2.06],
    g_s 1.08, d_z 1.50, g_av 1.08, d_av interval [0.42, 1.80]), R effectsize
    0.8.3 ``cohens_d``/``hedges_g`` (values and intervals, unpaired and
    paired) and pingouin 0.7.0's documented ``compute_effsize`` examples
    (``tests/reference/outcomes/lakens2013.json``, ``effectsize_r.json``,
    ``pingouin_effsize.json``).

    Examples
    --------
    Lakens' (2013) movie ratings, ten people rating two films:

    >>> from psychanalytics.outcomes import effect_size
    >>> movie_1 = [9, 7, 8, 9, 8, 9, 9, 10, 9, 9]
    >>> movie_2 = [9, 6, 7, 8, 7, 9, 8, 8, 8, 7]
    >>> d = effect_size(movie_1, movie_2)
    >>> d.kind, round(d.value, 2), round(d.low, 2), round(d.high, 2)
    ('cohen_d', 1.13, 0.16, 2.06)
    >>> dz = effect_size(movie_1, movie_2, paired=True, kind="cohen_dz")
    >>> round(dz.value, 2), [round(b, 2) for b in dz.ci]
    (1.5, [0.56, 2.4])
    """
    level = confidence(ci)
    resolved = _resolve_kind(kind, paired)
    if paired:
        xs, ys, _ = paired_scores(x, y, ("x", "y"))
        value, low, high = _paired(xs, ys, resolved, level)
    else:
        xs, ys = numbers_of(series(x, "x"), "x"), numbers_of(series(y, "y"), "y")
        if len(xs) < 2 or len(ys) < 2:
            raise ValueError(f"each group needs at least 2 scores, got {len(xs)} and {len(ys)}")
        value, low, high = _independent(xs, ys, resolved, level)
    return EffectSize(
        value=float(value),
        low=float(low),
        high=float(high),
        kind=resolved,
        paired=paired,
        confidence=level,
        n_x=len(xs),
        n_y=len(ys),
    )
