"""Kaplan-Meier estimates of time to an event, open cases censored: :func:`survival`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm
from statsmodels.duration.survfunc import SurvfuncRight

_TOLERANCE = float(np.sqrt(np.finfo(float).eps))
"""R survival's ``tolerance`` in ``quantile.survfit``: a curve within it of ``p`` is at ``p``."""

TABLE_COLUMNS = ("time", "at_risk", "events", "survival", "low", "high")


@dataclass(frozen=True)
class SurvivalResult:
    """A Kaplan-Meier estimate (the result of :func:`survival`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per distinct event time: ``time``, ``at_risk`` (cases under
        observation just before it), ``events``, ``survival`` (the estimate
        of S(time): the share not yet ended), ``low`` and ``high`` (its
        pointwise interval; missing where ``survival`` is 0).
    median, median_low, median_high : float
        The median time and its interval; ``nan`` when the curve (or its
        interval's bound) never reaches 0.5 within the follow-up: "not reached".
    n : int
        Cases.
    count : int
        Cases whose event was observed (the rest are censored).
    ci : float
        Confidence level.
    """

    table: pd.DataFrame
    median: float
    median_low: float
    median_high: float
    n: int
    count: int
    ci: float


def _checked(durations, ended) -> tuple[np.ndarray, np.ndarray]:
    time = np.asarray(durations, dtype=float)
    status = np.asarray(ended)
    if time.ndim != 1 or status.ndim != 1 or len(time) != len(status):
        raise ValueError(
            f"survival: durations and ended must be 1-D of one length, got shapes {time.shape} and "
            f"{status.shape}"
        )
    if len(time) == 0:
        raise ValueError("survival: no durations")
    bad = np.flatnonzero(~np.isfinite(time) | (time < 0))
    if len(bad):
        raise ValueError(
            f"survival: durations must be finite and >= 0; positions {bad[:5].tolist()} hold "
            f"{time[bad[:5]].tolist()}"
        )
    if status.dtype != bool:
        values = pd.unique(pd.Series(status, dtype=object))
        if not set(values) <= {0, 1}:  # True and False are 1 and 0
            raise ValueError(f"survival: ended must be True/False (or 1/0), got values {values[:5].tolist()}")
        status = status.astype(bool)
    return time, status


def _loglog_interval(surv: np.ndarray, se: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise interval on the log(-log S) scale, as R ``survfit(conf.type = "log-log")``.

    With ``s = se(S) / S`` Greenwood's standard error of log S, the bounds are
    ``S ** exp(±z s / log S)``; 1 where S is 1, missing where S is 0.
    """
    low, high = np.full(len(surv), np.nan), np.full(len(surv), np.nan)
    one = surv >= 1
    low[one] = high[one] = 1.0
    inside = (surv > 0) & ~one
    s, log_s = se[inside] / surv[inside], np.log(surv[inside])
    low[inside] = surv[inside] ** np.exp(-z * s / log_s)
    high[inside] = surv[inside] ** np.exp(z * s / log_s)
    return low, high


def _crossing(times: np.ndarray, curve: np.ndarray, last_time: float, p: float = 0.5) -> float:
    """Where ``1 - curve`` first reaches ``p``: R survival's ``findq`` (``quantile.survfit``), written here.

    The first time the curve is at or below ``1 - p``; when it lies exactly at
    ``1 - p`` over an interval, the interval's midpoint (to the last follow-up
    time ``last_time`` when it stays there to the end). Missing values of the
    curve (an interval bound where S is 0) are passed over; ``nan`` when the
    curve never reaches it.
    """
    x = np.concatenate([[0.0], times])
    y = np.concatenate([[0.0], 1.0 - curve])
    _, first = np.unique(np.where(np.isnan(y), -1.0, y), return_index=True)
    keep = np.sort(first)
    x, y = x[keep], y[keep]
    last_y = y[-1]
    valid = ~np.isnan(y)
    x, y = x[valid], y[valid]
    if not len(y) or y.max() + _TOLERANCE < p:  # statsmodels multiplies in logs: 0.5 may be 0.5 + 1e-16
        return float("nan")
    at = np.flatnonzero(y + _TOLERANCE >= p)
    past = np.flatnonzero(y - _TOLERANCE >= p)
    if not np.isnan(last_y) and abs(p - last_y) < _TOLERANCE:
        return float((x[at[0]] + last_time) / 2)
    if not len(past):
        return float("nan")
    return float((x[at[0]] + x[past[0]]) / 2)


def survival(durations, ended, *, ci: float = 0.95) -> SurvivalResult:
    """Kaplan-Meier estimate of the time to an event, with censored cases, and its median.

    ``S(t) = ∏_{t_i <= t} (1 - d_i / n_i)`` over the distinct event times
    ``t_i``, with ``d_i`` events among the ``n_i`` cases still under
    observation just before ``t_i``; a censored case (one still open, or one
    that left the risk set) counts in every ``n_i`` up to its duration.
    Greenwood's variance ``Var(log S) = Σ d_i / (n_i (n_i - d_i))`` gives the
    pointwise interval on the log(-log) scale,
    ``S ** exp(±z √Var(log S) / log S)``, which stays inside [0, 1]. The median
    is the first time with ``S(t) <= 0.5`` (the midpoint of an interval where
    S is exactly 0.5), and its interval the times where the interval's bounds
    cross 0.5 (Brookmeyer & Crowley 1982).

    The estimate and its standard error are statsmodels' ``SurvfuncRight``; the
    pointwise interval and the median are written here because statsmodels has
    no pointwise interval and takes the median with SAS's strict inequality
    (durations 1, 2, 3, 4 give 3 where R gives 2.5, the midpoint of the flat).
    Validated against R survival 3.5 (``survfit(conf.type = "log-log")``,
    ``quantile``) on its ``aml`` data and on hand-made samples with ties, a flat
    at 0.5 and no event (``tests/reference/crisis/survival_aml.json``): the
    table and median to 1e-10. R's default interval is on the log scale; the
    log-log scale is SAS's and Stata's default and better in small samples
    (Borgan & Liestøl 1990).

    Parameters
    ----------
    durations : array-like of float
        Time from the start to the event, or to censoring (>= 0, finite).
    ended : array-like of bool
        True when the event was observed, False when the case is censored.
    ci : float
        Confidence level of the intervals.

    Returns
    -------
    SurvivalResult
        ``.table`` (``time, at_risk, events, survival, low, high``), ``.median``,
        ``.median_low``, ``.median_high`` (``nan``: not reached), ``.n``, ``.count``.

    Raises
    ------
    ValueError
        On empty or unequal inputs, a duration that is missing, negative or
        infinite, or an ``ended`` value that is not boolean; or ``ci`` outside (0, 1).

    Examples
    --------
    Weeks to relapse of the maintained arm of R's ``aml`` data (``+``: censored):
    9, 13, 13+, 18, 23, 28+, 31, 34, 45+, 48, 161+.

    >>> weeks = [9, 13, 13, 18, 23, 28, 31, 34, 45, 48, 161]
    >>> relapsed = [1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0]
    >>> result = survival(weeks, relapsed)
    >>> result.median, result.median_low, result.median_high
    (31.0, 13.0, nan)
    >>> result.table.round(3).head(3)
       time  at_risk  events  survival    low   high
    0   9.0       11      1     0.909  0.508  0.987
    1  13.0       10      1     0.818  0.447  0.951
    2  18.0        8      1     0.716  0.350  0.899
    """
    if not 0 < ci < 1:
        raise ValueError(f"survival: ci must be between 0 and 1, got {ci}")
    time, status = _checked(durations, ended)
    z = float(norm.ppf(1 - (1 - ci) / 2))
    count = int(status.sum())
    if count == 0:
        table = pd.DataFrame(
            {c: pd.Series(dtype="int64" if c in ("at_risk", "events") else float) for c in TABLE_COLUMNS}
        )
        nan = float("nan")
        return SurvivalResult(table, nan, nan, nan, n=len(time), count=0, ci=ci)
    fit = SurvfuncRight(time, status.astype(float))
    surv = np.asarray(fit.surv_prob, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        low, high = _loglog_interval(surv, np.asarray(fit.surv_prob_se, dtype=float), z)
    times = np.asarray(fit.surv_times, dtype=float)
    table = pd.DataFrame(
        {
            "time": times,
            "at_risk": np.asarray(fit.n_risk).astype("int64"),
            "events": np.asarray(fit.n_events).astype("int64"),
            "survival": surv,
            "low": low,
            "high": high,
        }
    )
    last = float(time.max())
    return SurvivalResult(
        table,
        median=_crossing(times, surv, last),
        median_low=_crossing(times, low, last),
        median_high=_crossing(times, high, last),
        n=len(time),
        count=count,
        ci=ci,
    )
