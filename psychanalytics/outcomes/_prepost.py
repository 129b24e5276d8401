"""Pre/post change in one group: paired t test and Wilcoxon signed-rank test (scipy)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from scipy.stats import ttest_rel, wilcoxon

from psychanalytics.outcomes._validate import confidence, paired


@dataclass(frozen=True)
class PrePostResult:
    """Mean change of one group and the two tests of it.

    Attributes
    ----------
    value : float
        Mean change, ``post - pre``.
    low, high : float
        t-based confidence interval of the mean change.
    n : int
        Pairs.
    mean_pre, mean_post : float
        Means of the two occasions.
    t, df, p : float
        Paired t test (``scipy.stats.ttest_rel``), two-sided.
    wilcoxon, p_wilcoxon : float
        Wilcoxon signed-rank statistic (scipy's: the smaller of the positive and
        negative rank sums) and its two-sided p value.
    wilcoxon_method : str
        ``"exact"`` or ``"approx"`` (normal approximation, see :func:`pre_post`).
    confidence : float
        Level of the interval.
    table : pandas.DataFrame
        The two tests as rows ``test`` (``paired_t``, ``wilcoxon``), ``statistic``, ``df``, ``p``.
    """

    value: float
    low: float
    high: float
    n: int
    mean_pre: float
    mean_post: float
    t: float
    df: float
    p: float
    wilcoxon: float
    p_wilcoxon: float
    wilcoxon_method: str
    confidence: float
    table: pd.DataFrame

    @property
    def ci(self) -> tuple[float, float]:
        """The interval of the mean change as ``(low, high)``."""
        return (self.low, self.high)


def pre_post(pre, post, *, ci: float = 0.95) -> PrePostResult:
    """Paired t and Wilcoxon signed-rank tests of the change from ``pre`` to ``post``.

    Parameters
    ----------
    pre, post : array-like or pandas.Series
        One student's scores at each position (Series must share their index).
        Missing values are refused: drop students without a post score
        explicitly (see :func:`attrition`).
    ci : float
        Confidence level of the interval of the mean change.

    Returns
    -------
    PrePostResult

    Notes
    -----
    The t test is ``t = M_d / (s_d / √n)`` on ``d = post - pre`` with ``n - 1``
    degrees of freedom (``scipy.stats.ttest_rel``). The Wilcoxon test drops
    zero differences and ranks the rest (``zero_method="wilcox"``); it is exact
    for fewer than 50 differences with no zero and no tie, otherwise the normal
    approximation with the tie correction and a continuity correction — the
    rules of R's ``wilcox.test(paired = TRUE)``, against which it is checked
    (``tests/reference/outcomes/prepost_r.json``). Integer scale totals tie
    often, so small groups usually get the approximation.

    Examples
    --------
    >>> from psychanalytics.outcomes import pre_post
    >>> res = pre_post([12, 15, 9, 14, 11, 16, 13, 10], [9, 12, 9, 10, 10, 11, 12, 7])
    >>> round(res.value, 3), round(res.t, 3), res.df, round(res.p, 4)
    (-2.5, -4.183, 7.0, 0.0041)
    >>> res.table["test"].tolist()
    ['paired_t', 'wilcoxon']
    """
    level = confidence(ci)
    before, after, _ = paired(pre, post, ("pre", "post"))
    difference = after - before
    t_test = ttest_rel(after, before)
    interval = t_test.confidence_interval(confidence_level=level)
    nonzero = difference[difference != 0]
    if len(nonzero) == 0:
        raise ValueError("no student's score changed: the Wilcoxon test has nothing to rank")
    exact = len(nonzero) == len(difference) < 50 and len(set(abs(nonzero))) == len(nonzero)
    signed_rank = wilcoxon(
        after, before, zero_method="wilcox", correction=not exact, method="exact" if exact else "approx"
    )
    table = pd.DataFrame(
        {
            "test": ["paired_t", "wilcoxon"],
            "statistic": [float(t_test.statistic), float(signed_rank.statistic)],
            "df": [float(t_test.df), float("nan")],
            "p": [float(t_test.pvalue), float(signed_rank.pvalue)],
        }
    )
    return PrePostResult(
        value=float(difference.mean()),
        low=float(interval.low),
        high=float(interval.high),
        n=len(difference),
        mean_pre=float(before.mean()),
        mean_post=float(after.mean()),
        t=float(t_test.statistic),
        df=float(t_test.df),
        p=float(t_test.pvalue),
        wilcoxon=float(signed_rank.statistic),
        p_wilcoxon=float(signed_rank.pvalue),
        wilcoxon_method="exact" if exact else "approx",
        confidence=level,
        table=table,
    )
