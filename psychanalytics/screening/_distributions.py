"""Score distributions by group: histograms, means with intervals, band shares with intervals."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import t as student_t

from psychanalytics.screening._coverage import with_coverage
from psychanalytics.screening._frames import check_counts, check_level, check_not_above, keys, require
from psychanalytics.screening._prevalence import (
    _check_icc,
    _refuse_missing_keys,
    anova_icc,
    prevalence,
    sum_by,
)


def score_distribution(
    histogram: pd.DataFrame, *, by: str | Sequence[str] = ("wave",), coverage: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Share of valid sheets at each raw score, per group (a score histogram).

    Parameters
    ----------
    histogram : pandas.DataFrame
        The ``by`` columns, ``raw`` and ``count`` (sheets with that score), as
        from :func:`psychanalytics.store.queries.screening.score_histogram`;
        finer rows (schools) are summed. Not modified.
    by : str or sequence of str
        Groups, default ``("wave",)``.
    coverage : pandas.DataFrame, optional
        :func:`coverage` of the same groups, carried beside every row
        (:func:`with_coverage`); ``None`` adds the columns as missing.

    Returns
    -------
    pandas.DataFrame
        One row per group and score, in order: the ``by`` columns, ``raw``,
        ``count``, ``n`` (valid sheets of the group), ``proportion``
        (``count / n``) and ``cumulative`` (share at or below ``raw``), then the
        coverage columns.

    Examples
    --------
    >>> import pandas as pd
    >>> from psychanalytics.screening import score_distribution
    >>> hist = pd.DataFrame({"wave": ["W1"] * 3, "raw": [0.0, 1.0, 2.0], "count": [50, 30, 20]})
    >>> score_distribution(hist)[["raw", "count", "n", "proportion", "cumulative"]]
       raw  count    n  proportion  cumulative
    0  0.0     50  100         0.5         0.5
    1  1.0     30  100         0.3         0.8
    2  2.0     20  100         0.2         1.0
    """
    by = keys(by)
    require(histogram, [*by, "raw", "count"], what="histogram")
    check_counts(histogram, ["count"], what="histogram")
    _refuse_missing_keys(histogram, (*by, "raw"), what="histogram")
    out = sum_by(histogram, (*by, "raw"), ["count"])
    groups = out.groupby(list(by), sort=False)["count"] if by else None
    n = groups.transform("sum") if by else pd.Series(out["count"].sum(), index=out.index)
    running = groups.cumsum() if by else out["count"].cumsum()
    with np.errstate(divide="ignore", invalid="ignore"):
        out = out.assign(
            n=n.astype("int64"),
            proportion=out["count"] / n.where(n > 0),
            cumulative=running / n.where(n > 0),
        )
    return with_coverage(out, coverage)


def mean_scores(
    summary: pd.DataFrame,
    *,
    by: str | Sequence[str] = ("wave",),
    cluster: str | None = "school",
    icc: float | None = None,
    ci: float = 0.95,
    min_n: int = 30,
    coverage: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Mean score of each group with its confidence interval, allowing for students clustered in schools.

    Parameters
    ----------
    summary : pandas.DataFrame
        One row per cell: the ``by`` columns (and ``cluster`` when the groups
        are not schools), ``n`` (valid sheets), ``total`` (sum of scores) and
        ``total_sq`` (sum of squared scores), as from
        :func:`psychanalytics.store.queries.screening.score_summary`. Rows of
        one group are summed. Not modified.
    by : str or sequence of str
        Groups, default ``("wave",)``; ``()`` for the district.
    cluster : str or None
        The schools students are clustered in (default ``"school"``). When it
        is not among ``by``, the interval is widened by the group's design
        effect; ``None`` treats students as independent.
    icc : float, optional
        A known ICC in [0, 1) for the design effect instead of each group's
        estimate.
    ci : float
        Confidence level.
    min_n : int
        ``small_n`` marks groups with fewer sheets than this (default 30).
    coverage : pandas.DataFrame, optional
        :func:`coverage` of the same groups, carried beside every row.

    Returns
    -------
    pandas.DataFrame
        One row per group, in key order: the ``by`` columns, ``n``, ``mean``,
        ``sd`` (``n - 1`` denominator), ``low``, ``high``, ``icc``,
        ``design_effect`` (1 when not clustered), ``small_n``, then the
        coverage columns. ``sd`` and the interval are missing for ``n < 2``.

    Notes
    -----
    The interval is Student's t on the effective sample ``n* = n / deff``:
    ``mean ± t(n* - 1) · sd / sqrt(n*)``, with ``deff = 1 + (m - 1) max(rho, 0)``,
    ``m = sum(n_i^2) / N`` and ``rho`` the one-way ANOVA ICC of the scores
    computed from each school's ``n``, sum and sum of squares (the same
    estimator as :func:`design_effect` uses for a 0/1 outcome; DESIGN.md,
    decisions 22 and 30). Without clustering it is the ordinary t interval.
    Validated against R ``aov`` (ICC) and ``qt`` on the student-level
    scores, and against R ``t.test`` unclustered
    (``tests/reference/screening/mean_scores_aov.json``).

    Examples
    --------
    >>> import pandas as pd
    >>> from psychanalytics.screening import mean_scores
    >>> summary = pd.DataFrame({"school": ["A", "B", "C"], "n": [120, 80, 100],
    ...                         "total": [600.0, 480.0, 450.0], "total_sq": [4800.0, 3900.0, 3300.0]})
    >>> mean_scores(summary, by=())[["n", "mean", "low", "high", "design_effect"]].round(3)
         n  mean    low   high  design_effect
    0  300   5.1  4.271  5.929          3.707
    """
    by = keys(by)
    check_level(ci)
    _check_icc(icc)
    clustered = cluster is not None and cluster not in by
    require(summary, [*by, *([cluster] if clustered else []), "n", "total", "total_sq"], what="summary")
    check_counts(summary, ["n"], what="summary")
    check_counts(summary, ["total_sq"], what="summary", whole=False)
    _refuse_missing_keys(summary, (*by, *([cluster] if clustered else [])), what="summary")
    out = sum_by(summary, by, ["n", "total", "total_sq"]).astype({"n": "int64"})
    n = out["n"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(n > 0, out["total"] / n, np.nan)
        variance = (out["total_sq"].to_numpy() - out["total"].to_numpy() ** 2 / n) / (n - 1)
        sd = np.where(n > 1, np.sqrt(np.clip(variance, 0, None)), np.nan)
    if clustered:
        per_school = anova_icc(sum_by(summary, (*by, cluster), ["n", "total", "total_sq"]), by)
        per_school = per_school[[*by, "cluster_size", "icc"]]
        joined = out.merge(per_school, on=list(by), how="left") if by else out.join(per_school)
        rho = joined["icc"] if icc is None else pd.Series(float(icc), index=joined.index)
        deff = (1 + (joined["cluster_size"] - 1) * rho.clip(lower=0)).fillna(1.0).to_numpy()
        rho = rho.to_numpy(dtype=float)
    else:
        rho, deff = np.full(len(out), np.nan), np.ones(len(out))
    effective = n / deff
    with np.errstate(divide="ignore", invalid="ignore"):
        half = student_t.isf((1 - ci) / 2, np.maximum(effective - 1, 1)) * sd / np.sqrt(effective)
    half = np.where(n > 1, half, np.nan)
    out = out[[*by, "n"]].assign(
        mean=mean, sd=sd, low=mean - half, high=mean + half, icc=rho, design_effect=deff, small_n=n < min_n
    )
    return with_coverage(out, coverage)


def band_shares(
    counts: pd.DataFrame,
    *,
    by: str | Sequence[str] = ("wave",),
    cluster: str | None = "school",
    icc: float | None = None,
    method: str = "wilson",
    ci: float = 0.95,
    min_n: int = 30,
    coverage: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Share of valid sheets in each score band, per group, each with its confidence interval.

    Parameters
    ----------
    counts : pandas.DataFrame
        One row per cell and band: the ``by`` columns (and ``cluster`` when the
        groups are not schools), ``band``, ``band_rank``, ``count`` (sheets in
        the band) and ``n`` (banded sheets of the cell), as from
        :func:`psychanalytics.store.queries.screening.band_counts`. Not modified.
    by, cluster, icc, method, ci, min_n
        As in :func:`prevalence`: each band's share is a screen-positive-like
        proportion, its interval widened by the group's design effect for that
        band when the groups are not schools.
    coverage : pandas.DataFrame, optional
        :func:`coverage` of the same groups, carried beside every row.

    Returns
    -------
    pandas.DataFrame
        One row per group and band, groups in key order and bands lowest first:
        the ``by`` columns, ``band``, ``band_rank``, ``count``, ``n``,
        ``proportion``, ``low``, ``high``, ``icc``, ``design_effect``,
        ``small_n``, then the coverage columns. The counts of a group add up
        to its ``n``.

    Examples
    --------
    >>> import pandas as pd
    >>> from psychanalytics.screening import band_shares
    >>> counts = pd.DataFrame({"wave": ["W1"] * 2, "band": ["minimal", "moderate"], "band_rank": [0, 2],
    ...                        "count": [270, 30], "n": [300, 300]})
    >>> band_shares(counts, cluster=None)[["band", "count", "n", "proportion", "low", "high"]].round(3)
           band  count    n  proportion    low   high
    0   minimal    270  300         0.9  0.861  0.929
    1  moderate     30  300         0.1  0.071  0.139
    """
    by = keys(by)
    require(counts, [*by, "band", "band_rank", "count", "n"], what="counts")
    check_not_above(counts, "count", "n", what="counts")
    rates = prevalence(
        counts, by=(*by, "band_rank", "band"), cluster=cluster, icc=icc, method=method, ci=ci, min_n=min_n
    )
    out = rates[[*by, "band", "band_rank", "count", "n", "proportion", "low", "high", "icc", "design_effect"]]
    return with_coverage(out.assign(small_n=rates["n"].lt(min_n).to_numpy()), coverage)
