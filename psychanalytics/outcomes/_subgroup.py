"""For whom: the ANCOVA effect within each subgroup and the test of arm × subgroup, cluster-robust."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from psychanalytics.outcomes._compare import ancova
from psychanalytics.outcomes._models import cluster_codes, coefficient_table, covariate_columns, fit_ols
from psychanalytics.outcomes._multiple import adjust_pvalues
from psychanalytics.outcomes._validate import columns, complete, confidence, numbers_of, two_arms


@dataclass(frozen=True)
class SubgroupResult:
    """Effects within subgroups and the test of whether they differ.

    Attributes
    ----------
    by : str
        The subgroup column.
    table : pandas.DataFrame
        One row per level: ``level, n_treatment, n_comparison, difference, se,
        low, high, p, p_holm, n_clusters``: the ANCOVA of :func:`ancova` fitted
        within the level (``p_holm`` adjusts ``p`` over the levels).
    interaction : pandas.DataFrame
        The ``treated:by[level]`` rows of the interaction model (``term,
        estimate, se, statistic, p, low, high``): how much the effect in that
        level differs from the effect in the first (reference) level.
    statistic, df_num, df_denom, p : float
        The joint Wald F test that every interaction coefficient is 0 (the
        effect is the same in every level); with two levels F is the square
        of the one interaction's t.
    n : int
    n_clusters : int or None
    cluster : str or None
    confidence : float
    """

    by: str
    table: pd.DataFrame
    interaction: pd.DataFrame
    statistic: float
    df_num: float
    df_denom: float
    p: float
    n: int
    n_clusters: int | None
    cluster: str | None
    confidence: float


def subgroup_effects(
    students: pd.DataFrame,
    by: str,
    *,
    outcome: str = "post",
    baseline: str = "pre",
    arm: str = "arm",
    treatment: str = "treatment",
    cluster: str | None = "school",
    ci: float = 0.95,
) -> SubgroupResult:
    """The treatment effect in each subgroup (gender, grade …) and the test of arm × subgroup.

    Parameters
    ----------
    students : pandas.DataFrame
        One row per student with ``outcome``, ``baseline``, ``arm``, ``by`` and
        ``cluster``; no missing values.
    by : str
        The subgroup column; its levels are sorted and the first is the
        reference of the interaction model.
    outcome, baseline, arm, treatment, cluster, ci
        As in :func:`ancova`. Each level needs both arms and, with
        ``cluster``, two clusters.

    Returns
    -------
    SubgroupResult

    Notes
    -----
    Within each level: ``outcome ~ baseline + treated`` (:func:`ancova`).
    The test: one model ``outcome ~ baseline + treated + by + treated × by``
    (statsmodels OLS, CR1 cluster-robust covariance, F on ``G - 1``
    denominator df), whose ``treated × by`` coefficients are the differences
    between the levels' effects. Test the interaction, not "significant here,
    not there": two subgroup p values on either side of 0.05 do not show the
    effects differ (Gelman & Stern 2006). Subgroups are small and many are
    looked at, so ``p_holm`` is given and a difference found only in the
    data is a hypothesis, not a finding (Rothwell 2005). Checked against
    ``statsmodels.formula.api.ols("post ~ pre + treated * C(by)")`` with
    cluster-robust errors (``tests/test_outcomes_subgroup.py``).

    Examples
    --------
    >>> import pandas as pd
    >>> from psychanalytics.outcomes import subgroup_effects
    >>> students = pd.DataFrame({
    ...     "pre": [12, 14, 9, 15, 11, 13, 10, 12] * 2,
    ...     "post": [8, 11, 7, 10, 10, 12, 9, 12, 9, 13, 8, 14, 10, 12, 9, 11],
    ...     "arm": (["treatment"] * 4 + ["comparison"] * 4) * 2,
    ...     "gender": ["F"] * 8 + ["M"] * 8,
    ... })
    >>> res = subgroup_effects(students, "gender", cluster=None)
    >>> res.table[["level", "difference"]].round(2).values.tolist()
    [['F', -2.46], ['M', -0.54]]
    >>> round(float(res.interaction["estimate"].iloc[0]), 2)  # the pre-test slope is shared by both levels
    2.25
    """
    level = confidence(ci)
    needed = [outcome, baseline, arm, by] + ([cluster] if cluster else [])
    columns(students, needed, where="subgroup_effects")
    complete(students, needed, where="subgroup_effects")
    treated = two_arms(students[arm], treatment, where="subgroup_effects")
    levels = sorted(pd.unique(students[by]), key=str)
    if len(levels) < 2:
        raise ValueError(f"subgroup_effects: {by!r} has {len(levels)} level(s); subgroups need two or more")
    rows = []
    for value in levels:
        own = students[students[by] == value]
        fit = ancova(
            own, outcome=outcome, baseline=baseline, arm=arm, treatment=treatment, cluster=cluster, ci=level
        )
        on = int((own[arm] == treatment).sum())
        rows.append(
            {
                "level": value,
                "n_treatment": on,
                "n_comparison": len(own) - on,
                "difference": fit.value,
                "se": fit.se,
                "low": fit.low,
                "high": fit.high,
                "p": fit.p,
                "n_clusters": fit.n_clusters,
            }
        )
    table = pd.DataFrame(rows)
    table.insert(
        table.columns.get_loc("p") + 1, "p_holm", adjust_pvalues(table["p"])["p_adjusted"].to_numpy()
    )
    groups = covariate_columns(students.assign(**{by: students[by].astype(str)}), [by])
    t = treated.astype(float)
    design = pd.concat(
        [
            pd.Series(numbers_of(students[baseline], baseline), index=students.index, name=baseline),
            pd.Series(t, index=students.index, name="treated"),
            groups,
            groups.mul(t, axis=0).add_prefix("treated:"),
        ],
        axis=1,
    )
    clusters = cluster_codes(students, cluster)
    result = fit_ols(numbers_of(students[outcome], outcome), design, clusters)
    coefficients = coefficient_table(result, level)
    terms = [f"treated:{name}" for name in groups.columns]
    restriction = np.zeros((len(terms), len(result.params)))
    for i, term in enumerate(terms):
        restriction[i, list(result.params.index).index(term)] = 1.0
    wald = result.f_test(restriction)
    return SubgroupResult(
        by=by,
        table=table,
        interaction=coefficients[coefficients["term"].isin(terms)].reset_index(drop=True),
        statistic=float(np.squeeze(wald.fvalue)),
        df_num=float(wald.df_num),
        df_denom=float(wald.df_denom),
        p=float(wald.pvalue),
        n=len(students),
        n_clusters=None if clusters is None else int(clusters.max() + 1),
        cluster=cluster,
        confidence=level,
    )
