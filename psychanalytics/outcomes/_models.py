"""Design matrices, OLS with cluster-robust errors and coefficient tables, shared by the model functions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm

from psychanalytics.outcomes._validate import numbers_of

COEFFICIENT_COLUMNS = ("term", "estimate", "se", "statistic", "p", "low", "high")


def covariate_columns(frame: pd.DataFrame, names) -> pd.DataFrame:
    """Columns for ``names``: numbers as they are, anything else as 0/1 indicators.

    A text or categorical column becomes one indicator per level but the first
    (sorted), named ``column[level]``; booleans become 0/1.
    """
    parts = []
    for name in names:
        values = frame[name]
        if values.dtype.kind == "b":
            parts.append(values.astype(float).rename(name))
        elif values.dtype.kind in "iuf":
            parts.append(pd.Series(numbers_of(values, name), index=frame.index, name=name))
        else:
            levels = sorted(pd.unique(values), key=str)
            for level in levels[1:]:
                parts.append((values == level).astype(float).rename(f"{name}[{level}]"))
    return pd.concat(parts, axis=1) if parts else pd.DataFrame(index=frame.index)


def cluster_codes(frame: pd.DataFrame, cluster: str | None) -> np.ndarray | None:
    """Integer codes of the cluster column, refusing fewer than two clusters."""
    if cluster is None:
        return None
    codes, uniques = pd.factorize(frame[cluster])
    if len(uniques) < 2:
        raise ValueError(
            f"cluster-robust errors need at least 2 values of {cluster!r}, got {len(uniques)}; "
            "pass cluster=None for ordinary OLS errors (e.g. a programme inside one school)"
        )
    return codes


def fit_ols(y: np.ndarray, design: pd.DataFrame, clusters: np.ndarray | None):
    """statsmodels OLS; cluster-robust (CR1, t with G - 1 df) when ``clusters`` is given.

    The CR1 small-sample factor ``G/(G-1) · (N-1)/(N-K)`` is statsmodels' default
    and R ``sandwich::vcovCL(type = "HC1")``'s, which it is checked against.
    """
    exog = sm.add_constant(design, has_constant="add")
    rank = np.linalg.matrix_rank(exog.to_numpy())
    if rank < exog.shape[1]:
        raise ValueError(
            f"the model's columns {list(exog.columns)} are linearly dependent (rank {rank} of "
            f"{exog.shape[1]}): a covariate is constant or duplicates another"
        )
    model = sm.OLS(y, exog)
    if clusters is None:
        return model.fit()
    return model.fit(cov_type="cluster", cov_kwds={"groups": clusters}, use_t=True)


def coefficient_table(result, level: float) -> pd.DataFrame:
    """Tidy coefficients of a statsmodels result: ``term, estimate, se, statistic, p, low, high``."""
    interval = np.asarray(result.conf_int(alpha=1 - level))
    params = result.params
    return pd.DataFrame(
        {
            "term": list(params.index),
            "estimate": np.asarray(params),
            "se": np.asarray(result.bse),
            "statistic": np.asarray(result.tvalues),
            "p": np.asarray(result.pvalues),
            "low": interval[:, 0],
            "high": interval[:, 1],
        }
    )


@dataclass(frozen=True)
class EstimateResult:
    """One coefficient of interest of a regression: a treatment effect or a dose slope.

    Attributes
    ----------
    value : float
        The coefficient. ``ancova``: the baseline-adjusted difference in outcome,
        treatment minus comparison; ``did``: the change of the treatment arm
        minus the change of the comparison arm; ``dose``: points of change per
        session attended.
    se, p : float
        Standard error and two-sided p value (t with ``n_clusters - 1`` df when
        cluster-robust, else with the residual df).
    low, high : float
        Confidence interval.
    kind : str
        ``"ancova"``, ``"did"`` or ``"dose"``.
    n : int
        Rows in the model (students; student-waves for DiD).
    n_clusters : int or None
        Clusters of the robust errors; None for ordinary OLS errors.
    cluster : str or None
        The cluster column.
    confidence : float
    table : pandas.DataFrame
        Every coefficient: ``term, estimate, se, statistic, p, low, high``.
    counts : pandas.DataFrame
        Students and mean scores per arm (``ancova``), per arm and wave
        (``did``) or per number of sessions (``dose``).
    """

    value: float
    se: float
    p: float
    low: float
    high: float
    kind: str
    n: int
    n_clusters: int | None
    cluster: str | None
    confidence: float
    table: pd.DataFrame
    counts: pd.DataFrame

    @property
    def ci(self) -> tuple[float, float]:
        """The interval as ``(low, high)``."""
        return (self.low, self.high)


def estimate(kind, term, y, design, clusters, cluster, level, counts) -> EstimateResult:
    """Fit :func:`fit_ols` and return the coefficient ``term`` with the whole table."""
    table = coefficient_table(fit_ols(y, design, clusters), level)
    row = table.set_index("term").loc[term]
    return EstimateResult(
        value=float(row["estimate"]),
        se=float(row["se"]),
        p=float(row["p"]),
        low=float(row["low"]),
        high=float(row["high"]),
        kind=kind,
        n=len(y),
        n_clusters=None if clusters is None else int(clusters.max() + 1),
        cluster=cluster,
        confidence=level,
        table=table,
        counts=counts,
    )
