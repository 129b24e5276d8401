"""Screen-positive rates with confidence intervals, and the design effect of students clustered in schools."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np
import pandas as pd

from psychanalytics.screening._frames import check_counts, check_not_above, keys, plain, require
from psychanalytics.screening._intervals import proportion_ci


def sum_by(frame: pd.DataFrame, by: tuple[str, ...], columns: Sequence[str]) -> pd.DataFrame:
    """Sums of ``columns`` per group of ``by`` (one row for ``by = ()``), groups sorted, keys as columns."""
    if not by:
        return frame[list(columns)].sum().to_frame().T.astype(frame[list(columns)].dtypes)
    return frame.groupby(list(by), sort=True)[list(columns)].sum().reset_index()


def _refuse_missing_keys(frame: pd.DataFrame, by: tuple[str, ...], *, what: str) -> None:
    for column in by:
        missing = frame[column].isna()
        if missing.any():
            raise ValueError(
                f"{what}: row {plain(frame.index[missing][0])!r}, column {column!r}: the group key is missing"
            )


def _check_icc(icc) -> None:
    if icc is None:
        return
    if isinstance(icc, bool) or not isinstance(icc, numbers.Real) or not 0 <= icc < 1:
        raise ValueError(f"icc must be a number in [0, 1) or None (estimate it), got {icc!r}")


def design_effect(
    counts: pd.DataFrame, *, cluster: str = "school", by: str | Sequence[str] = (), icc: float | None = None
) -> pd.DataFrame:
    """Design effect of a pooled proportion whose students are clustered (in schools).

    Parameters
    ----------
    counts : pandas.DataFrame
        Columns ``cluster``, ``n`` (students) and ``count`` (students with the
        outcome), and the ``by`` columns; several rows per cluster (grades,
        classes) are summed. Not modified.
    cluster : str
        The column naming the cluster, default ``"school"``.
    by : str or sequence of str
        Groups (e.g. ``"gender"``) each given its own ICC and design effect;
        ``()`` (default) pools the whole frame.
    icc : float, optional
        A known intraclass correlation in [0, 1) (a previous wave, a larger
        pool) used for every group instead of estimating one.

    Returns
    -------
    pandas.DataFrame
        One row per group, sorted: the ``by`` columns, ``clusters`` (with
        ``n > 0``), ``n``, ``count``, ``cluster_size`` (the size-weighted mean
        ``m = sum(n_i^2) / N``), ``icc`` (the estimate, possibly negative,
        or the ``icc`` given) and ``design_effect``.

    Notes
    -----
    Under the exchangeable model (every pair of students of one school
    correlated ``rho``), the variance of the pooled proportion ``p = Y / N`` is

    .. math:: \\operatorname{Var}(p) = \\frac{p(1-p)}{N}\\Big[1 + \\rho\\Big(\\frac{\\sum n_i^2}{N} - 1\\Big)\\Big],

    so ``design_effect = 1 + (m - 1) max(rho, 0)`` holds exactly for unequal
    school sizes (Kish 1965, with the size-weighted mean ``m``). A negative
    estimate is kept in ``icc`` but not used (the effect is never below 1).

    ``rho`` is the one-way ANOVA estimator for binary data (Fleiss 1981;
    Ridout, Demétrio & Firth 1999, Biometrics 55:137-148), computed from the
    school counts alone:

    .. math::

        MSB = \\frac{\\sum y_i^2/n_i - Y^2/N}{k-1},\\quad
        MSW = \\frac{Y - \\sum y_i^2/n_i}{N-k},\\quad
        n_0 = \\frac{N - \\sum n_i^2/N}{k-1},\\quad
        \\rho = \\frac{MSB - MSW}{MSB + (n_0-1)\\,MSW}.

    It is undefined (``NaN``, design effect 1) for a group with one school or
    with no variation at all (every student, or none, has the outcome).
    Validated against R ``aov`` on the student-level 0/1 data
    (``tests/reference/screening/design_effect_aov.json``).

    Examples
    --------
    >>> import pandas as pd
    >>> from psychanalytics.screening import design_effect
    >>> schools = pd.DataFrame({"school": ["A", "B", "C", "D"], "n": [200, 150, 300, 250],
    ...                         "count": [20, 30, 24, 40]})
    >>> design_effect(schools).round(4)
       clusters    n  count  cluster_size     icc  design_effect
    0         4  900    114      238.8889  0.0211         6.0176
    """
    by = keys(by)
    if cluster in by:
        raise ValueError(
            f"cluster {cluster!r} is also a by column: within one {cluster} there is no clustering"
        )
    _check_icc(icc)
    require(counts, [*by, cluster, "n", "count"], what="counts")
    check_counts(counts, ["n", "count"], what="counts")
    check_not_above(counts, "count", "n", what="counts")
    _refuse_missing_keys(counts, (*by, cluster), what="counts")
    per_cluster = sum_by(counts, (*by, cluster), ["n", "count"])
    per_cluster = per_cluster.assign(total=per_cluster["count"], total_sq=per_cluster["count"])
    g = anova_icc(per_cluster, by)
    rho = g["icc"] if icc is None else pd.Series(float(icc), index=g.index)
    deff = (1 + (g["cluster_size"] - 1) * rho.clip(lower=0)).fillna(1.0)
    out = g[[*by, "clusters", "n"]].assign(count=g["total"]).astype({"clusters": int, "n": int, "count": int})
    return out.assign(cluster_size=g["cluster_size"], icc=rho, design_effect=deff)


def anova_icc(per_cluster: pd.DataFrame, by: tuple[str, ...]) -> pd.DataFrame:
    """One-way ANOVA intraclass correlation of each group from its clusters' sums (Fleiss 1981).

    ``per_cluster`` holds one row per group and cluster: the ``by`` columns,
    ``n`` (students), ``total`` (sum of the outcome) and ``total_sq`` (sum of
    its squares; for a 0/1 outcome both are the count). Returns one row per
    group: the ``by`` columns, ``clusters`` (with ``n > 0``), ``n``, ``total``,
    ``cluster_size`` (``sum(n_i^2) / N``) and ``icc``, with

    .. math::

        MSB = \\frac{\\sum S_i^2/n_i - S^2/N}{k-1},\\quad
        MSW = \\frac{\\sum Q_i - \\sum S_i^2/n_i}{N-k},\\quad
        n_0 = \\frac{N - \\sum n_i^2/N}{k-1},\\quad
        \\rho = \\frac{MSB - MSW}{MSB + (n_0-1)\\,MSW}

    for cluster sums ``S_i`` and sums of squares ``Q_i``; ``NaN`` where
    undefined (one cluster, no variation).
    """
    cells = per_cluster[per_cluster["n"] > 0].astype({"n": float, "total": float, "total_sq": float})
    cells = cells.assign(
        clusters=1, n_squared=cells["n"] ** 2, s_squared_over_n=cells["total"] ** 2 / cells["n"]
    )
    g = sum_by(cells, by, ["clusters", "n", "total", "total_sq", "n_squared", "s_squared_over_n"])
    big_n, s, k = g["n"], g["total"], g["clusters"]
    with np.errstate(divide="ignore", invalid="ignore"):
        msb = (g["s_squared_over_n"] - s**2 / big_n) / (k - 1)
        msw = (g["total_sq"] - g["s_squared_over_n"]) / (big_n - k)
        n0 = (big_n - g["n_squared"] / big_n) / (k - 1)
        estimate = (msb - msw) / (msb + (n0 - 1) * msw)
    return g[[*by, "clusters", "n", "total"]].assign(
        cluster_size=g["n_squared"] / big_n, icc=estimate.where(np.isfinite(estimate))
    )


def prevalence(
    counts: pd.DataFrame,
    *,
    by: str | Sequence[str] = ("school",),
    cluster: str | None = "school",
    icc: float | None = None,
    method: str = "wilson",
    ci: float = 0.95,
    min_n: int = 30,
    min_coverage: float = 0.9,
) -> pd.DataFrame:
    """Screen-positive rate (筛查阳性率) of each group, with its confidence interval and flags.

    Parameters
    ----------
    counts : pandas.DataFrame
        A small frame of counts (from ``store.queries``), one row per cell:
        the ``by`` columns, ``n`` (students screened, the denominator),
        ``count`` (students screen-positive) and, when the groups are not
        schools, the ``cluster`` column. Optional ``enrolled`` (students on
        roll, for coverage). Rows of one group are summed. Not modified.
    by : str or sequence of str
        Grouping columns, default ``("school",)``; ``()`` gives the district.
    cluster : str or None
        Column of the schools students are clustered in (default
        ``"school"``). When it is not among ``by``, each group's interval is
        widened by its design effect (:func:`design_effect`). ``None`` treats
        students as independent: say so wherever the result is shown.
    icc : float, optional
        A known ICC for the design effect instead of each group's estimate.
    method : {"wilson", "jeffreys", "exact"}
        Interval method (:func:`proportion_ci`).
    ci : float
        Confidence level.
    min_n : int
        ``small_n`` marks groups with fewer screened students than this
        (default 30): the interval is wide and the rate unstable. A statistical
        flag, not privacy suppression (``privacy.suppression`` does that).
    min_coverage : float
        ``low_coverage`` marks groups where ``n / enrolled`` is below this
        (default 0.9): those not screened may differ from those screened.

    Returns
    -------
    pandas.DataFrame
        One row per group, sorted by the keys: the ``by`` columns, ``n``,
        ``count``, ``proportion``, ``low``, ``high``, ``icc``,
        ``design_effect`` (1 and ``icc`` missing when not clustered), then
        ``enrolled`` and ``coverage`` if given, ``small_n`` and
        ``low_coverage`` (nullable boolean: ``<NA>`` without ``enrolled``).
        A group with ``n = 0`` keeps its row with missing rate and interval.

    Raises
    ------
    KeyError
        A column is missing, including ``cluster`` when the groups are not
        schools (pass ``cluster=None`` to treat students as independent).
    ValueError
        A count is missing, negative or fractional, ``count > n``,
        ``n > enrolled``, or a group key is missing (row and column named).

    Notes
    -----
    Clustering is handled by a **design effect from the ICC** (DESIGN.md,
    decision 22): the interval is computed by ``method`` on the effective
    sample ``(count / deff, n / deff)`` (Kish's effective sample size, as in
    Korn & Graubard 1998). Chosen over cluster-robust (sandwich) variances
    because it keeps the score and exact intervals' behaviour near 0 %, which
    a Wald interval loses, reports an ICC a researcher can reuse for planning,
    and accepts a known ICC when a group has few schools, where a sandwich
    estimate on a handful of clusters is unreliable. Within one school
    (``school`` among ``by``) students are treated as independent (classes
    are not modelled). Validated against the ICC of R ``aov`` and the Wilson
    interval on the effective sample computed in R
    (``tests/reference/screening/design_effect_aov.json``).

    Examples
    --------
    >>> import pandas as pd
    >>> from psychanalytics.screening import prevalence
    >>> counts = pd.DataFrame({"school": ["A", "B", "C"], "n": [240, 180, 25],
    ...                        "count": [24, 0, 5], "enrolled": [250, 230, 25]})
    >>> prevalence(counts)[["school", "proportion", "low", "high", "small_n", "low_coverage"]].round(3)
      school  proportion    low   high  small_n  low_coverage
    0      A         0.1  0.068  0.144    False         False
    1      B         0.0  0.000  0.021    False          True
    2      C         0.2  0.089  0.391     True         False
    >>> district = prevalence(counts, by=())
    >>> district[["n", "count", "proportion", "design_effect"]].round(3)
         n  count  proportion  design_effect
    0  445     29       0.065          19.38
    """
    by = keys(by)
    clustered = cluster is not None and cluster not in by
    if clustered and isinstance(counts, pd.DataFrame) and cluster not in counts.columns:
        raise KeyError(
            f"counts: no {cluster!r} column, so the interval cannot allow for students clustered in "
            f"schools; add it, or pass cluster=None to treat students as independent"
        )
    has_enrolled = isinstance(counts, pd.DataFrame) and "enrolled" in counts.columns
    require(counts, [*by, "n", "count"], what="counts")
    check_counts(counts, ["n", "count", *(["enrolled"] if has_enrolled else [])], what="counts")
    check_not_above(counts, "count", "n", what="counts")
    if has_enrolled:
        check_not_above(counts, "n", "enrolled", what="counts")
    _refuse_missing_keys(counts, by, what="counts")
    out = sum_by(counts, by, ["n", "count", *(["enrolled"] if has_enrolled else [])])
    if clustered:
        effect = design_effect(counts, cluster=cluster, by=by, icc=icc)[[*by, "icc", "design_effect"]]
        out = out.merge(effect, on=list(by), how="left") if by else out.join(effect)
        out["design_effect"] = out["design_effect"].fillna(1.0)
    else:
        out = out.assign(icc=np.nan, design_effect=1.0)
    n, count, deff = (out[c].to_numpy(dtype=float) for c in ("n", "count", "design_effect"))
    screened = n > 0
    low, high, proportion = (np.full(len(out), np.nan) for _ in range(3))
    if screened.any():
        low[screened], high[screened] = proportion_ci(
            count[screened] / deff[screened], n[screened] / deff[screened], method=method, ci=ci
        )
        proportion[screened] = count[screened] / n[screened]
    out = out.assign(proportion=proportion, low=low, high=high)
    columns = [*by, "n", "count", "proportion", "low", "high", "icc", "design_effect"]
    if has_enrolled:
        with np.errstate(divide="ignore", invalid="ignore"):
            out["coverage"] = np.where(out["enrolled"] > 0, n / out["enrolled"].to_numpy(dtype=float), np.nan)
        columns += ["enrolled", "coverage"]
        low_coverage = pd.array(out["coverage"].lt(min_coverage).to_numpy(), dtype="boolean")
        low_coverage[out["coverage"].isna().to_numpy()] = pd.NA
    else:
        low_coverage = pd.array([pd.NA] * len(out), dtype="boolean")
    return out[columns].assign(small_n=out["n"].lt(min_n).to_numpy(), low_coverage=low_coverage)
