"""Funnel plots for comparing schools: control limits, overdispersion, indirect standardisation."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm
from statsmodels.stats.rates import confint_poisson

from psychanalytics.screening._frames import cell, check_counts, check_not_above, choice, keys, plain, require
from psychanalytics.screening._intervals import proportion_ci
from psychanalytics.screening._prevalence import sum_by

KINDS = ("proportion", "ratio")
LEVELS = {"95": 0.95, "998": 0.998}
POSITIONS = ("below", "within", "above")


def _transform(kind: str, value):
    """Variance-stabilised scale: arcsine square root for a proportion, square root for a ratio."""
    return np.arcsin(np.sqrt(value)) if kind == "proportion" else np.sqrt(value)


def _within_sd(denominator: np.ndarray) -> np.ndarray:
    """Standard error on the transformed scale: ``1 / (2 sqrt(n))`` for both kinds."""
    return 1 / (2 * np.sqrt(denominator))


def _check_target(kind: str, target) -> None:
    if isinstance(target, bool) or not isinstance(target, numbers.Real) or not np.isfinite(target):
        raise ValueError(f"target must be a finite number, got {target!r}")
    if kind == "proportion" and not 0 < target < 1:
        raise ValueError(f"target of a proportion funnel must be in (0, 1), got {target!r}")
    if kind == "ratio" and target <= 0:
        raise ValueError(f"target of a ratio funnel must be > 0, got {target!r}")


def funnel_limits(denominator, *, kind: str, target: float, tau2: float = 0.0) -> pd.DataFrame:
    """95 % and 99.8 % funnel limits around ``target`` at each ``denominator``.

    Parameters
    ----------
    denominator : array-like
        Students screened (``kind="proportion"``) or expected cases
        (``kind="ratio"``), each > 0.
    kind : {"proportion", "ratio"}
        See :func:`funnel`.
    target : float
        The centre line: a proportion in (0, 1), or a ratio > 0 (usually 1).
    tau2 : float
        Between-school variance on the transformed scale; ``0`` gives the
        exact limits, ``> 0`` the overdispersed ones.

    Returns
    -------
    pandas.DataFrame
        ``denominator``, ``ll95``, ``ul95``, ``ll998``, ``ul998``, in the
        order given (a grid of denominators draws the funnel).

    Notes
    -----
    Exact limits (``tau2 = 0``) are the exact interval of the count expected
    under the target, divided by the denominator: Clopper-Pearson at
    ``n * target`` of ``n`` for a proportion (statsmodels ``beta``), Garwood's
    chi-square interval at ``target * E`` for a ratio (statsmodels
    ``confint_poisson(method="exact-c")``; at ``target = 1`` the limits of
    FunnelPlotR and Spiegelhalter 2005). Overdispersed limits add ``tau2``
    to the within-school variance ``s^2 = 1 / (4 n)`` on the arcsine-square-root
    (proportion) or square-root (ratio) scale and transform back:
    ``sin(asin(sqrt(t)) +/- z sqrt(s^2 + tau2))^2`` and
    ``(sqrt(t) +/- z sqrt(s^2 + tau2))^2``, with the angle (root) held in
    ``[0, pi/2]`` (``>= 0``) so that a limit never passes 0 or 1 and back
    (Spiegelhalter et al. 2012, JRSS A 175:1-47). See DESIGN.md, decision 23.

    Examples
    --------
    >>> from psychanalytics.screening import funnel_limits
    >>> funnel_limits([15, 20, 30], kind="ratio", target=1).round(4)
       denominator    ll95    ul95   ll998   ul998
    0         15.0  0.5597  1.6493  0.3863  2.0829
    1         20.0  0.6108  1.5444  0.4479  1.9021
    2         30.0  0.6747  1.4276  0.5290  1.7028
    """
    choice(kind, KINDS, name="kind")
    _check_target(kind, target)
    if isinstance(tau2, bool) or not isinstance(tau2, numbers.Real) or not tau2 >= 0:
        raise ValueError(f"tau2 must be a number >= 0, got {tau2!r}")
    size = np.atleast_1d(np.asarray(denominator, dtype=float))
    if not (np.isfinite(size) & (size > 0)).all():
        raise ValueError(
            f"every denominator must be finite and > 0, got {plain(size[~(np.isfinite(size) & (size > 0))][0])!r}"
        )
    out = {"denominator": size}
    for suffix, level in LEVELS.items():
        if tau2 == 0 and kind == "proportion":
            low, high = proportion_ci(size * target, size, method="exact", ci=level)
        elif tau2 == 0:
            low, high = (
                np.asarray(v) / size
                for v in confint_poisson(size * target, 1, method="exact-c", alpha=1 - level)
            )
        else:
            half = norm.isf((1 - level) / 2) * np.sqrt(_within_sd(size) ** 2 + tau2)
            centre = _transform(kind, target)
            if kind == "proportion":
                low = np.sin(np.clip(centre - half, 0, np.pi / 2)) ** 2
                high = np.sin(np.clip(centre + half, 0, np.pi / 2)) ** 2
            else:
                low, high = np.clip(centre - half, 0, None) ** 2, (centre + half) ** 2
        out[f"ll{suffix}"], out[f"ul{suffix}"] = low, high
    return pd.DataFrame(out)


def overdispersion_estimate(numerator, denominator, *, kind: str, target: float, trim: float = 0.1):
    """Dispersion ratio ``phi`` and between-school variance ``tau2`` from winsorised z-scores.

    Parameters
    ----------
    numerator, denominator : array-like
        Cases and students screened (proportion), or observed and expected
        cases (ratio), one value per school.
    kind : {"proportion", "ratio"}
    target : float
        The centre line the z-scores are measured from.
    trim : float
        Share winsorised at each end, default 0.1 (10 %).

    Returns
    -------
    phi, tau2 : float
        ``phi = mean(z_w^2)`` over the winsorised z-scores; ``tau2 =
        (k phi - (k - 1)) / (sum w - sum w^2 / sum w)`` with ``w = 1 / s^2``,
        or 0 when ``k phi < k - 1`` (DerSimonian & Laird 1986).

    Notes
    -----
    Spiegelhalter (2005b, Qual Saf Health Care 14:347-351) and Spiegelhalter et
    al. (2012): z-scores on the variance-stabilised scale (arcsine square root
    for a proportion, square root for a ratio), each pulled in to the 10th and
    90th percentiles (R ``quantile`` type 7) before ``phi`` is computed.
    Validated against FunnelPlotR 0.5.0 (``data_type="PR"`` and
    ``sr_method="CQC"``; ``tests/reference/screening/funnel_funnelplotr.json``).
    Written by hand: statsmodels and scipy have no funnel-plot estimator.

    Examples
    --------
    >>> from psychanalytics.screening import overdispersion_estimate
    >>> phi, tau2 = overdispersion_estimate([30, 50, 12, 80, 41], [300, 320, 250, 410, 380],
    ...                                     kind="proportion", target=213 / 1660)
    >>> round(phi, 3), round(tau2, 5)
    (5.029, 0.00401)
    """
    choice(kind, KINDS, name="kind")
    _check_target(kind, target)
    if isinstance(trim, bool) or not isinstance(trim, numbers.Real) or not 0 <= trim < 0.5:
        raise ValueError(f"trim must be in [0, 0.5), got {trim!r}")
    numerator, denominator = np.asarray(numerator, dtype=float), np.asarray(denominator, dtype=float)
    if numerator.ndim != 1 or numerator.shape != denominator.shape or len(numerator) < 2:
        raise ValueError(
            f"numerator and denominator must be 1-D, of one length >= 2: got {numerator.shape}, {denominator.shape}"
        )
    if not (np.isfinite(denominator).all() and (denominator > 0).all() and (numerator >= 0).all()):
        raise ValueError("every denominator must be finite and > 0 and every numerator >= 0")
    if kind == "proportion" and (numerator > denominator).any():
        raise ValueError("a proportion's numerator cannot exceed its denominator")
    s = _within_sd(denominator)
    z = (_transform(kind, numerator / denominator) - _transform(kind, target)) / s
    z = np.clip(z, *np.quantile(z, [trim, 1 - trim]))
    k = len(z)
    phi = float(np.mean(z**2))
    w = 1 / s**2
    tau2 = 0.0 if k * phi < k - 1 else max(0.0, (k * phi - (k - 1)) / (w.sum() - (w**2).sum() / w.sum()))
    return phi, float(tau2)


@dataclass(frozen=True)
class FunnelResult:
    """A funnel plot's units, limits and overdispersion.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per school, sorted by the keys (never by value: a funnel is
        not a league table): the ``by`` columns, the numerator and
        denominator columns as given, ``value``, ``ll95``, ``ul95``,
        ``ll998``, ``ul998`` and ``position`` (``"above"``, ``"below"`` or
        ``"within"`` the 99.8 % limits; a value on a limit is within).
    kind : str
        ``"proportion"`` or ``"ratio"``.
    target : float
        The centre line.
    adjusted : bool
        Whether the limits are overdispersed (requested and ``phi > 1``).
    phi, tau2 : float
        Dispersion ratio and between-school variance (transformed scale);
        ``NaN`` when overdispersion was not requested.
    method : str
        The limits used, in words.
    """

    table: pd.DataFrame
    kind: str
    target: float
    adjusted: bool
    phi: float
    tau2: float
    method: str

    def limits(self, denominator) -> pd.DataFrame:
        """The same limits at other denominators (a grid to draw the funnel); see :func:`funnel_limits`."""
        return funnel_limits(
            denominator, kind=self.kind, target=self.target, tau2=self.tau2 if self.adjusted else 0.0
        )


def _method(kind: str, adjusted: bool, phi: float, tau2: float) -> str:
    if adjusted:
        scale = "arcsine-square-root" if kind == "proportion" else "square-root"
        return (
            f"overdispersed limits: {scale} scale, additive between-school variance tau2 = {tau2:.4g} "
            f"(phi = {phi:.3g} from 10 % winsorised z-scores; Spiegelhalter et al. 2012)"
        )
    exact = "exact binomial (Clopper-Pearson)" if kind == "proportion" else "exact Poisson (Garwood)"
    reason = "" if np.isnan(phi) else f"; no overdispersion (phi = {phi:.3g} <= 1)"
    return f"{exact} limits at the count expected under the target{reason}"


def funnel(
    data: pd.DataFrame,
    *,
    numerator: str,
    denominator: str,
    kind: str = "proportion",
    by: str | Sequence[str] = "school",
    target: float | None = None,
    overdispersion: bool = False,
    trim: float = 0.1,
) -> FunnelResult:
    """Funnel plot of schools: each school's value against 95 % and 99.8 % control limits.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per school (``by``), with the ``numerator`` and
        ``denominator`` columns. Not modified.
    numerator, denominator : str
        For ``kind="proportion"``: students screen-positive and students
        screened (whole numbers, ``0 <= numerator <= denominator``,
        ``denominator > 0``). For ``kind="ratio"``: observed cases (whole) and
        expected cases (> 0; :func:`expected_counts`).
    kind : {"proportion", "ratio"}
        ``"proportion"``: the screen-positive rate around the district rate.
        ``"ratio"``: the indirectly standardised ratio observed / expected
        around 1 (case-mix adjusted).
    by : str or sequence of str
        Columns naming a unit, default ``"school"``; each unit one row.
    target : float, optional
        Centre line; default the district rate ``sum(numerator) /
        sum(denominator)`` for a proportion, 1 for a ratio.
    overdispersion : bool
        Estimate ``phi`` and ``tau2`` (:func:`overdispersion_estimate`) and,
        when ``phi > 1``, widen the limits by ``tau2`` so that a district
        where every school differs a little does not flag half its schools.
    trim : float
        Winsorisation share at each end for ``phi``, default 0.1.

    Returns
    -------
    FunnelResult

    Notes
    -----
    Limits (DESIGN.md, decision 23): without overdispersion, exact tail-area
    limits at the count expected under the target (:func:`funnel_limits`):
    they stay inside [0, 1], need no normal approximation at low rates and
    small schools, and the binomial (proportion) and Poisson (ratio) funnels
    are built the same way. With overdispersion, the variance-stabilised
    scales of FunnelPlotR and Spiegelhalter et al. (2012): the exact limits
    have no between-school variance term. FunnelPlotR's ``sr_method="CQC"``
    limits are not squared back to the ratio scale (FunnelPlotR issue #33);
    here they are. NHS SHMI's variant (log scale, truncation instead of
    winsorisation) is not offered.

    Validated against FunnelPlotR 0.5.0's tests (exact Poisson limits) and
    output (``phi``, ``tau2``, limits and outliers), and R ``qbeta``
    (``tests/reference/screening/funnel_*.json``).

    Examples
    --------
    >>> import pandas as pd
    >>> from psychanalytics.screening import funnel
    >>> schools = pd.DataFrame({"school": ["A", "B", "C", "D", "E"], "n": [300, 320, 250, 410, 380],
    ...                         "count": [30, 50, 12, 80, 41]})
    >>> result = funnel(schools, numerator="count", denominator="n")
    >>> round(result.target, 4)
    0.1283
    >>> result.table[["school", "value", "ll998", "ul998", "position"]].round(3)
      school  value  ll998  ul998 position
    0      A  0.100  0.076  0.198   within
    1      B  0.156  0.077  0.195   within
    2      C  0.048  0.072  0.206    below
    3      D  0.195  0.082  0.187    above
    4      E  0.108  0.081  0.189   within
    >>> funnel(schools, numerator="count", denominator="n", overdispersion=True).table["position"].tolist()
    ['within', 'within', 'within', 'within', 'within']
    """
    choice(kind, KINDS, name="kind")
    by = keys(by)
    require(data, [*by, numerator, denominator], what="data")
    if numerator == denominator:
        raise ValueError(f"numerator and denominator are the same column {numerator!r}")
    check_counts(data, [numerator], what="data")
    check_counts(data, [denominator], what="data", whole=kind == "proportion")
    if kind == "proportion":
        check_not_above(data, numerator, denominator, what="data")
    empty = data[denominator].to_numpy(dtype=float) <= 0
    if empty.any():
        raise ValueError(
            f"data: row {plain(data.index[empty][0])!r}: {denominator} is 0; a school with nobody screened "
            "(or no expected case) has no place on a funnel: leave it out and say so"
        )
    if not by:
        raise ValueError("by must name the column(s) identifying a school")
    duplicated = data.duplicated(list(by), keep=False)
    if duplicated.any():
        raise ValueError(
            f"data: several rows for one unit ({cell(data.loc[duplicated].iloc[0], by)}); sum them first"
        )
    table = data[[*by, numerator, denominator]].sort_values(list(by)).reset_index(drop=True)
    num, den = table[numerator].to_numpy(dtype=float), table[denominator].to_numpy(dtype=float)
    if target is None:
        target = float(num.sum() / den.sum()) if kind == "proportion" else 1.0
    _check_target(kind, target)
    phi, tau2 = (np.nan, np.nan)
    if overdispersion:
        phi, tau2 = overdispersion_estimate(num, den, kind=kind, target=target, trim=trim)
    adjusted = bool(overdispersion and phi > 1)
    limits = funnel_limits(den, kind=kind, target=target, tau2=tau2 if adjusted else 0.0)
    value = num / den
    position = np.where(
        value > limits["ul998"], "above", np.where(value < limits["ll998"], "below", "within")
    )
    table = table.assign(value=value, **{c: limits[c].to_numpy() for c in ("ll95", "ul95", "ll998", "ul998")})
    table["position"] = pd.Categorical(position, categories=POSITIONS)
    return FunnelResult(table, kind, float(target), adjusted, phi, tau2, _method(kind, adjusted, phi, tau2))


def expected_counts(
    counts: pd.DataFrame,
    *,
    by: str | Sequence[str] = "school",
    strata: str | Sequence[str] = ("grade", "gender"),
    reference: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Observed and expected cases per school by indirect standardisation (case mix).

    Parameters
    ----------
    counts : pandas.DataFrame
        One row per school x stratum: the ``by`` and ``strata`` columns,
        ``n`` (students screened) and ``count`` (screen-positive). Rows of
        one cell are summed. Not modified.
    by : str or sequence of str
        The unit, default ``"school"``.
    strata : str or sequence of str
        Case-mix columns, default ``("grade", "gender")``; ``stage`` when
        schools of several stages are compared.
    reference : pandas.DataFrame, optional
        Stratum rates to standardise to: the ``strata`` columns, ``n`` and
        ``count``. Default: the whole of ``counts`` (the district).

    Returns
    -------
    pandas.DataFrame
        One row per unit, sorted: the ``by`` columns, ``n``, ``observed``
        (sum of ``count``) and ``expected`` (``sum over strata of n_s *
        count_ref_s / n_ref_s``): the input of ``funnel(kind="ratio",
        numerator="observed", denominator="expected")``.

    Raises
    ------
    ValueError
        A school has students in a stratum the reference has no students in
        (its rate is unknown), or bad counts (row and column named).

    Notes
    -----
    Indirect standardisation (Breslow & Day 1987, ch. 2). Validated against
    Public Health England's test workbook for ``PHEindicatormethods::phe_isr``
    (``tests/reference/screening/expected_counts_phe.json``).

    Examples
    --------
    >>> import pandas as pd
    >>> from psychanalytics.screening import expected_counts
    >>> counts = pd.DataFrame({"school": ["A", "A", "B", "B"], "grade": [7, 9, 7, 9],
    ...                        "n": [100, 100, 180, 20], "count": [8, 16, 14, 4]})
    >>> expected_counts(counts, strata="grade")
      school    n  observed  expected
    0      A  200        24  24.52381
    1      B  200        18  17.47619
    """
    by, strata = keys(by), keys(strata, name="strata")
    overlap = set(by) & set(strata)
    if overlap:
        raise ValueError(f"{sorted(overlap)} cannot be both a unit (by) and a stratum")
    require(counts, [*by, *strata, "n", "count"], what="counts")
    check_counts(counts, ["n", "count"], what="counts")
    check_not_above(counts, "count", "n", what="counts")
    if reference is None:
        reference = counts
    else:
        require(reference, [*strata, "n", "count"], what="reference")
        check_counts(reference, ["n", "count"], what="reference", whole=False)
        check_not_above(reference, "count", "n", what="reference")
    rates = sum_by(reference, strata, ["n", "count"]).rename(columns={"n": "n_ref", "count": "count_ref"})
    cells = sum_by(counts, (*by, *strata), ["n", "count"]).merge(rates, on=list(strata), how="left")
    unknown = (cells["n"] > 0) & ~(cells["n_ref"] > 0)
    if unknown.any():
        row = cells.loc[unknown].iloc[0]
        raise ValueError(
            f"stratum {cell(row, strata)} of {cell(row, by)} has no students in the reference: its rate is unknown"
        )
    expected = np.where(
        cells["n"] > 0, cells["n"] * cells["count_ref"] / cells["n_ref"].where(cells["n_ref"] > 0, 1), 0.0
    )
    cells = cells.assign(observed=cells["count"], expected=expected)
    return sum_by(cells, by, ["n", "observed", "expected"])
