"""Confidence intervals for a proportion: Wilson, Jeffreys, exact (Clopper-Pearson)."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

from psychanalytics.screening._frames import check_level, choice

METHODS = ("wilson", "jeffreys", "exact")
_STATSMODELS = {"wilson": "wilson", "jeffreys": "jeffreys", "exact": "beta"}


def _as_array(values, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.dtype == bool or array.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be numeric, got {array.dtype} ({values!r})")
    return array.astype(float)


def _check(count: np.ndarray, n: np.ndarray) -> None:
    """Finite values, ``n > 0`` and ``0 <= count <= n`` (arrays of one shape); errors quote the value."""
    problems = (
        (~np.isfinite(count), "count must be finite"),
        (~np.isfinite(n), "n must be finite"),
        (n <= 0, "n must be > 0 (a proportion of nobody has no interval)"),
        (count < 0, "count must be >= 0"),
        (count > n, "count must be <= n"),
    )
    for bad, message in problems:
        if bad.any():
            first = tuple(np.argwhere(bad)[0])
            raise ValueError(f"{message}: got count {count[first].item()!r}, n {n[first].item()!r}")


def proportion_ci(count, n, *, method: str = "wilson", ci: float = 0.95):
    """Two-sided confidence interval for a proportion ``count / n``.

    Parameters
    ----------
    count : float or array-like
        Number of students with the outcome (e.g. screen-positive). Usually a
        whole number; an *effective* count from a design effect
        (:func:`prevalence`) may be fractional.
    n : float or array-like
        Number of students (the denominator), > 0; broadcast against ``count``.
    method : {"wilson", "jeffreys", "exact"}
        ``wilson``: score interval (Wilson 1927; Newcombe 1998 method 3).
        ``jeffreys``: equal-tailed Beta(count + 1/2, n - count + 1/2) interval
        with Brown, Cai & DasGupta's (2001) boundary rule: the lower limit is 0
        when ``count = 0`` and the upper limit 1 when ``count = n``.
        ``exact``: Clopper-Pearson (Newcombe 1998 method 5), the quantiles of
        Beta(count, n - count + 1) and Beta(count + 1, n - count).
    ci : float
        Confidence level, default 0.95.

    Returns
    -------
    low, high : float or numpy.ndarray
        Floats for scalar input, arrays (broadcast shape) otherwise. Zero
        cases give a real interval ``[0, high]`` with ``high > 0``, never
        ``[0, 0]``.

    Notes
    -----
    Wraps :func:`statsmodels.stats.proportion.proportion_confint` (methods
    ``wilson``, ``jeffreys``, ``beta``). Added here: at ``count = 0`` the lower
    limit is exactly 0 and at ``count = n`` the upper limit exactly 1 (the
    Jeffreys boundary rule; for Wilson and exact these are the limits'
    values, which statsmodels returns only up to rounding, e.g.
    ``1 - 1e-16``). Validated against R ``binom::binom.confint`` 1.1 as stored in
    statsmodels' test results, against Newcombe (1998) Table I and against R
    ``qbeta`` (``tests/reference/screening/proportion_ci_published.json`` and
    ``proportion_ci_jeffreys.json``, made by ``make_proportion_ci.R``).

    Examples
    --------
    >>> from psychanalytics.screening import proportion_ci
    >>> low, high = proportion_ci(81, 263)
    >>> round(low, 4), round(high, 4)
    (0.2553, 0.3662)
    >>> low, high = proportion_ci(0, 20, method="exact")
    >>> round(low, 4), round(high, 4)
    (0.0, 0.1684)
    >>> proportion_ci([0, 5], 50, method="jeffreys")[0]
    array([0.        , 0.03919...])
    """
    choice(method, METHODS, name="method")
    check_level(ci)
    scalar = isinstance(count, numbers.Real) and isinstance(n, numbers.Real)
    counts, sizes = (np.array(a) for a in np.broadcast_arrays(_as_array(count, "count"), _as_array(n, "n")))
    _check(counts, sizes)
    low, high = proportion_confint(counts, sizes, alpha=1 - ci, method=_STATSMODELS[method])
    low = np.where(counts == 0, 0.0, np.asarray(low, dtype=float))
    high = np.where(counts == sizes, 1.0, np.asarray(high, dtype=float))
    if scalar:
        return float(low), float(high)
    return low, high


def with_interval(frame: pd.DataFrame, method: str, ci: float) -> pd.DataFrame:
    """``proportion``, ``low``, ``high`` of ``count / n`` (missing where ``n = 0``)."""
    n, count = frame["n"].to_numpy(dtype=float), frame["count"].to_numpy(dtype=float)
    low, high, proportion = (np.full(len(frame), np.nan) for _ in range(3))
    some = n > 0
    if some.any():
        low[some], high[some] = proportion_ci(count[some], n[some], method=method, ci=ci)
        proportion[some] = count[some] / n[some]
    return frame.assign(proportion=proportion, low=low, high=high)
