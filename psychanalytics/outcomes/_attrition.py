"""Attrition (a pre score but no post score) by arm, and dose: sessions attended against change."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import fisher_exact, ttest_ind
from statsmodels.stats.proportion import proportion_confint

from psychanalytics.outcomes._matching import smd_table
from psychanalytics.outcomes._models import EstimateResult, cluster_codes, estimate
from psychanalytics.outcomes._validate import columns, complete, confidence, numbers_of


@dataclass(frozen=True)
class AttritionResult:
    """Who had a pre score but no post score, by arm, and how they differed at baseline.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per arm: ``arm``, ``n`` (students with a pre score), ``count``
        (of them, without a post score), ``proportion``, ``low``, ``high``
        (Wilson interval), ``without_pre`` (students with no pre score, outside ``n``).
    baseline : pandas.DataFrame
        One row per arm and baseline column: ``arm``, ``covariate``,
        ``n_completed``, ``n_dropped``, ``mean_completed``, ``mean_dropped``,
        ``smd`` (dropped minus completed, pooled SD as :func:`balance`; NaN when a
        side is empty), ``p`` (Welch t test; NaN with fewer than two students on a side).
    p_arms : float or None
        Fisher's exact test of equal attrition in two arms (None for one arm).
    dropped : pandas.DataFrame
        The rows of the students with a pre but no post score, as given.
    """

    table: pd.DataFrame
    baseline: pd.DataFrame
    p_arms: float | None
    dropped: pd.DataFrame


def _welch_p(a: np.ndarray, b: np.ndarray) -> float:
    """Welch's t test p value; scipy's warning about identical values (an exact zero variance) is not shown."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Precision loss occurred", category=RuntimeWarning)
        return float(ttest_ind(a, b, equal_var=False).pvalue)


def _baseline_rows(arm_value, frame: pd.DataFrame, gone: np.ndarray, covariates) -> list[dict]:
    sides = min(int(gone.sum()), int((~gone).sum()))
    smd = smd_table(frame, gone, covariates, {})["smd"] if sides else None
    rows = []
    for i, name in enumerate(covariates):
        values = numbers_of(frame[name], name)
        kept, lost = values[~gone], values[gone]
        rows.append(
            {
                "arm": arm_value,
                "covariate": name,
                "n_completed": len(kept),
                "n_dropped": len(lost),
                "mean_completed": kept.mean() if len(kept) else np.nan,
                "mean_dropped": lost.mean() if len(lost) else np.nan,
                "smd": smd.iat[i] if sides else np.nan,
                "p": _welch_p(lost, kept) if sides > 1 else np.nan,
            }
        )
    return rows


def attrition(
    participants: pd.DataFrame,
    *,
    arm: str = "arm",
    pre: str = "pre",
    post: str = "post",
    baseline: tuple[str, ...] | None = None,
    ci: float = 0.95,
) -> AttritionResult:
    """Attrition by arm: students with a pre score and no post score, and their baseline differences.

    Parameters
    ----------
    participants : pandas.DataFrame
        One row per student of an intervention (the ``participant`` table:
        ``arm``, ``pre_score``, ``post_score`` …). Missing pre or post scores
        are what this function counts; missing arm values are refused.
    arm, pre, post : str
        Column names.
    baseline : tuple of str, optional
        Numeric columns to compare between those who stayed and those who left,
        within each arm; ``(pre,)`` by default. Missing values there are refused
        (among students with a pre score).
    ci : float
        Level of the Wilson intervals.

    Returns
    -------
    AttritionResult

    Notes
    -----
    Proportions with Wilson score intervals (statsmodels
    ``proportion_confint(method="wilson")``); baseline differences as
    standardised mean differences (dropped minus completed, pooled SD) with a
    Welch t test (scipy); differential attrition between two arms by Fisher's
    exact test (scipy). Informative attrition — those who leave start worse or
    better — biases completer analyses; the SMDs show it.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from psychanalytics.outcomes import attrition
    >>> participants = pd.DataFrame({
    ...     "arm": ["treatment"] * 5 + ["comparison"] * 5,
    ...     "pre": [12, 15, 9, 14, 18, 11, 13, 10, 16, 12],
    ...     "post": [8, np.nan, 7, 10, np.nan, 10, 12, 9, 15, np.nan],
    ... })
    >>> attrition(participants).table[["arm", "n", "count", "proportion"]].values.tolist()
    [['comparison', 5, 1, 0.2], ['treatment', 5, 2, 0.4]]
    """
    level = confidence(ci)
    covariates = (pre,) if baseline is None else tuple(baseline)
    columns(participants, [arm, pre, post, *covariates], where="attrition")
    complete(participants, [arm], where="attrition")
    has_pre = participants[pre].notna().to_numpy()
    with_pre = participants[has_pre]
    complete(with_pre, covariates, where="attrition (students with a pre score)")
    gone_all = with_pre[post].isna().to_numpy()
    table_rows, baseline_rows = [], []
    cells = with_pre.groupby(arm, sort=False).indices
    for arm_value in sorted(pd.unique(participants[arm]), key=str):  # an arm without pre scores too
        positions = cells.get(arm_value, np.array([], dtype=int))
        gone = gone_all[positions]
        n, count = len(positions), int(gone.sum())
        low, high = proportion_confint(count, n, alpha=1 - level, method="wilson") if n else (np.nan, np.nan)
        without_pre = int(((participants[arm] == arm_value).to_numpy() & ~has_pre).sum())
        table_rows.append(
            {
                "arm": arm_value,
                "n": n,
                "count": count,
                "proportion": count / n if n else np.nan,
                "low": low,
                "high": high,
                "without_pre": without_pre,
            }
        )
        baseline_rows += _baseline_rows(arm_value, with_pre.iloc[positions], gone, covariates)
    table = pd.DataFrame(table_rows)
    p_arms = None
    if len(table) == 2:
        counts = table[["count", "n"]].to_numpy()
        p_arms = float(fisher_exact(np.column_stack([counts[:, 0], counts[:, 1] - counts[:, 0]])).pvalue)
    return AttritionResult(
        table=table, baseline=pd.DataFrame(baseline_rows), p_arms=p_arms, dropped=with_pre[gone_all]
    )


def dose_response(
    participants: pd.DataFrame,
    *,
    sessions: str = "sessions_attended",
    pre: str = "pre",
    post: str = "post",
    cluster: str | None = None,
    ci: float = 0.95,
) -> EstimateResult:
    """Sessions attended against change (``post - pre``), adjusted for the pre score.

    Parameters
    ----------
    participants : pandas.DataFrame
        Students of the treatment arm with both scores (missing values are
        refused: take the completers, and read :func:`attrition` beside this).
    sessions, pre, post : str
        Column names.
    cluster : str, optional
        Cluster-robust errors by this column (as :func:`ancova`), e.g. ``school``
        when several schools ran the programme.
    ci : float
        Confidence level.

    Returns
    -------
    EstimateResult
        ``kind="dose"``: ``value`` is the coefficient of ``sessions`` (points of
        change per session); ``counts`` has ``sessions, n, mean_change``.

    Notes
    -----
    OLS of ``change ~ sessions + pre`` (statsmodels). The pre score is in the
    model because change correlates with it by regression to the mean, and
    attendance may too. Attendance is not randomised: a slope is an
    association (students who come more may differ), not a dose effect.

    Examples
    --------
    >>> import pandas as pd
    >>> from psychanalytics.outcomes import dose_response
    >>> participants = pd.DataFrame({
    ...     "sessions_attended": [8, 7, 8, 5, 6, 8, 4, 7],
    ...     "pre": [12, 15, 9, 14, 11, 16, 13, 10],
    ...     "post": [7, 10, 6, 12, 9, 10, 13, 7],
    ... })
    >>> res = dose_response(participants)
    >>> res.kind, res.value < 0, res.counts["sessions"].tolist()
    ('dose', True, [4, 5, 6, 7, 8])
    """
    level = confidence(ci)
    needed = [sessions, pre, post] + ([cluster] if cluster else [])
    columns(participants, needed, where="dose_response")
    complete(participants, needed, where="dose_response")
    attended = numbers_of(participants[sessions], sessions)
    before = numbers_of(participants[pre], pre)
    change = numbers_of(participants[post], post) - before
    design = pd.DataFrame({sessions: attended, pre: before}, index=participants.index)
    counts = (
        pd.DataFrame({"sessions": participants[sessions].to_numpy(), "change": change})
        .groupby("sessions", sort=True)
        .agg(n=("change", "size"), mean_change=("change", "mean"))
        .reset_index()
    )
    return estimate(
        "dose", sessions, change, design, cluster_codes(participants, cluster), cluster, level, counts
    )
