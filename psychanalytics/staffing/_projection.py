"""Will the district meet a deadline at the current pace? A straight line through the years, with its band."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from psychanalytics._rules import school_year_of, year_start


@dataclass(frozen=True)
class Projection:
    """The result of :func:`projection`.

    Attributes
    ----------
    table : pandas.DataFrame
        ``school_year, kind`` (``observed`` or ``projected``), ``value``, ``low``, ``high`` (the
        prediction band of a projected year; equal to ``value`` for an observed one), in year order.
    pace : float
        Change of the value per school year (the OLS slope); ``pace_low``, ``pace_high`` its interval.
    current : float
        The value in the last observed year (``as_of``).
    target, deadline :
        What must be reached, by which school year.
    years_left : int
        School years from ``as_of`` to ``deadline`` (0 when the deadline is the last observed year or
        has passed).
    projected : float
        The line's value at the deadline (``nan`` when it has passed).
    probability : float
        Chance that the value at the deadline has reached the target, from the prediction's
        t distribution (``nan`` without a residual degree of freedom, or when the deadline has passed).
    needed_per_year : float
        Change per year that would reach the target by the deadline from ``current`` (0 when already
        reached; ``nan`` when no year is left).
    ci : float
        Level of the intervals.
    """

    table: pd.DataFrame
    pace: float
    pace_low: float
    pace_high: float
    current: float
    target: float
    deadline: str
    years_left: int
    projected: float
    probability: float
    needed_per_year: float
    ci: float

    @property
    def reached(self) -> bool:
        """Whether the last observed value already meets the target."""
        return _reaches(self.current, self.target, self.falling)

    @property
    def falling(self) -> bool:
        """Whether the target lies below the first observed value (a gap to close, not a share to raise)."""
        return self.target < float(self.table["value"].iloc[0])


def _reaches(value: float, target: float, falling: bool) -> bool:
    return value <= target if falling else value >= target


def projection(
    history: pd.DataFrame,
    *,
    target: float,
    deadline: str,
    as_of: str | None = None,
    ci: float = 0.8,
    floor: float | None = 0.0,
) -> Projection:
    """Project a yearly series to a deadline along its least-squares line, with a prediction band.

    The value of each observed school year (a district's teachers still needed, a share of schools
    meeting a standard) is regressed on the year: ``value = a + b·year`` (statsmodels OLS). ``b`` is
    the pace; a projected year's band is the OLS prediction interval
    ``ŷ ± t(1−α/2, n−2)·s·√(1 + 1/n + (x−x̄)²/Sxx)``, and the chance of reaching the target is
    ``P(Y ≤ target)`` (or ``≥`` for a rising target) under the same t distribution. The line assumes the
    pace stays what it was; with three to five years of history the band is wide, honestly.
    Validated against R ``predict(lm(value ~ year), interval = "prediction")`` and ``confint``
    (``tests/reference/staffing/projection_r.json``).

    Parameters
    ----------
    history : pandas.DataFrame
        ``school_year`` and ``value``, one row per year (no gaps needed, no repeats).
    target : float
        The value to reach (0 teachers needed; 0.95 of schools). Below the first value: the series must
        fall to it; above: rise.
    deadline : str
        School year by which it must be reached, e.g. ``2024-2025``.
    as_of : str, optional
        Last school year to use (default: the last in ``history``); later rows are ignored.
    ci : float
        Level of the intervals (default 0.8, the fan-chart convention for planning; 0.95 gives a wider band).
    floor : float or None
        Lower bound of the projected value and band (default 0: a count of teachers cannot fall below
        it); ``None`` for none. The probability uses the unbounded distribution.

    Returns
    -------
    Projection

    Raises
    ------
    ValueError
        Fewer than two observed years, a repeated or malformed school year, a missing value, or ``ci``
        outside (0, 1).

    Examples
    --------
    Teachers still needed: 10, 9, 6, 5 in four years; none by 2026-2027?

    >>> years = ["2021-2022", "2022-2023", "2023-2024", "2024-2025"]
    >>> p = projection(pd.DataFrame({"school_year": years, "value": [10, 9, 6, 5]}), target=0, deadline="2026-2027")
    >>> round(p.pace, 2), round(p.projected, 2), p.needed_per_year, round(p.probability, 2)
    (-1.8, 1.2, -2.5, 0.21)
    """
    if not 0 < ci < 1:
        raise ValueError(f"projection: ci must be in (0, 1), got {ci}")
    missing = [c for c in ("school_year", "value") if c not in history.columns]
    if missing:
        raise KeyError(f"projection: history lacks column(s) {missing}")
    years = history["school_year"].map(year_start)
    if years.duplicated().any():
        raise ValueError(
            f"projection: school year(s) repeated: {sorted(set(history['school_year'][years.duplicated()]))}"
        )
    last = years.max() if as_of is None else year_start(as_of)
    used = history.assign(year=years)[years <= last].sort_values("year")
    if used["value"].isna().any():
        raise ValueError(
            f"projection: missing value in {used.loc[used['value'].isna(), 'school_year'].tolist()}"
        )
    if len(used) < 2:
        raise ValueError(
            f"projection: needs at least two observed years up to {school_year_of(last)}, got {len(used)}"
        )
    end = year_start(deadline)
    x, y = used["year"].to_numpy(dtype=float), used["value"].to_numpy(dtype=float)
    fit = sm.OLS(y, sm.add_constant(x - x.mean())).fit()
    df = fit.df_resid
    quiet = np.errstate(divide="ignore", invalid="ignore")  # two years: no residual variance to estimate
    pace = float(fit.params[1])
    if df >= 1:
        pace_low, pace_high = (float(v) for v in fit.conf_int(alpha=1 - ci)[1])
    else:
        pace_low = pace_high = float("nan")
    future = np.arange(last + 1, end + 1, dtype=float)
    rows = [
        {"school_year": school_year_of(int(year)), "kind": "observed", "value": v, "low": v, "high": v}
        for year, v in zip(x, y, strict=True)
    ]
    projected = probability = float("nan")
    falling = target < y[0]
    if len(future):
        with quiet:
            frame = fit.get_prediction(sm.add_constant(future - x.mean(), has_constant="add")).summary_frame(
                alpha=1 - ci
            )
        mean, low, high = (frame[c].to_numpy() for c in ("mean", "obs_ci_lower", "obs_ci_upper"))
        if df < 1:
            low = high = np.full(len(future), np.nan)
        if floor is not None:
            mean, low, high = (np.maximum(v, floor) for v in (mean, low, high))
        rows += [
            {"school_year": school_year_of(int(year)), "kind": "projected", "value": m, "low": lo, "high": hi}
            for year, m, lo, hi in zip(future, mean, low, high, strict=True)
        ]
        raw = float(fit.params[0] + pace * (end - x.mean()))
        projected = float(mean[-1])
        if df >= 1:
            scale = float(np.sqrt(fit.scale + frame["mean_se"].to_numpy()[-1] ** 2))
            if scale > 0:
                below = float(stats.t.cdf((target - raw) / scale, df))
                probability = below if falling else 1 - below
            else:
                probability = float(_reaches(raw, target, falling))
    current = float(y[-1])
    years_left = max(0, end - last)
    if _reaches(current, target, falling):
        needed = 0.0
    elif years_left:
        needed = float((target - current) / years_left)
    else:
        needed = float("nan")
    return Projection(
        table=pd.DataFrame(rows, columns=["school_year", "kind", "value", "low", "high"]),
        pace=pace,
        pace_low=pace_low,
        pace_high=pace_high,
        current=current,
        target=float(target),
        deadline=deadline,
        years_left=years_left,
        projected=projected,
        probability=probability,
        needed_per_year=needed,
        ci=ci,
    )
