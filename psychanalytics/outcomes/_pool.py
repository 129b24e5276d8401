"""Did a kind of intervention work across its programmes? Fixed- and random-effects pooling (statsmodels)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.stats.meta_analysis import combine_effects

from psychanalytics.outcomes._validate import columns, confidence

_ESTIMATES = ("d", "difference")


def pool_effects(
    table: pd.DataFrame, *, by: tuple[str, ...] = ("kind",), estimate: str = "d", ci: float = 0.95
) -> pd.DataFrame:
    """Pool the per-intervention effects of a report, kind by kind: fixed effect and DerSimonian-Laird.

    Parameters
    ----------
    table : pandas.DataFrame
        ``InterventionReport.table`` rows: ``estimate`` and its standard error
        (``se``, the ANCOVA's, in points; for ``d`` divided by ``sd_pre``).
        Rows without one (no comparison arm, one class against one) are left
        out and counted in ``left_out``.
    by : tuple of str
        Columns whose values are pooled together (``kind``: all group
        counselling programmes; add ``instrument`` to pool PHQ-9 and GAD-7 apart
        when pooling ``difference``, which is in points).
    estimate : {"d", "difference"}
        What to pool: the standardised ``d`` (comparable across instruments) or
        the difference in points.
    ci : float
        Confidence level (z intervals, as meta-analyses report them).

    Returns
    -------
    pandas.DataFrame
        One row per group: the ``by`` columns, ``k`` (programmes pooled),
        ``left_out``, ``fixed``, ``fixed_se``, ``fixed_low``, ``fixed_high``,
        ``random``, ``random_se``, ``random_low``, ``random_high``, ``tau2``
        (between-programme variance, DerSimonian-Laird), ``i2`` (%), ``q`` and
        ``q_p`` (Cochran's test of equal effects).

    Notes
    -----
    Wraps ``statsmodels.stats.meta_analysis.combine_effects`` (inverse-variance
    weights ``1 / se²``; ``method_re="dl"``), with DerSimonian-Laird's tau² and
    I² truncated at 0 as the method defines them (statsmodels 0.15 leaves them
    negative when Cochran's Q is below its df). The programmes of a kind are
    different groups, leaders and years: the random-effects estimate (their
    average effect) is the one to report, the fixed one the effect if they were
    all alike; ``tau2`` and ``i2`` say how far they differ. With few programmes
    (under about 5) tau² is poorly estimated. Checked against R metafor 3.8-1
    ``rma(method = "FE")`` and ``rma(method = "DL")``
    (``tests/reference/outcomes/pool_metafor.json``: a heterogeneous and a
    homogeneous set of programmes).

    Examples
    --------
    >>> import pandas as pd
    >>> from psychanalytics.outcomes import pool_effects
    >>> table = pd.DataFrame({"kind": "group_counselling", "d": [-0.3, -0.1, -0.4],
    ...                       "se": [1.0, 1.2, 0.9], "sd_pre": [4.0, 4.0, 3.0]})
    >>> row = pool_effects(table).iloc[0]
    >>> int(row["k"]), round(float(row["fixed"]), 3), float(row["tau2"]), bool(row["random"] == row["fixed"])
    (3, -0.271, 0.0, True)
    """
    level = confidence(ci)
    if estimate not in _ESTIMATES:
        raise ValueError(f"estimate must be one of {_ESTIMATES}, got {estimate!r}")
    by = tuple(by)
    columns(table, [*by, estimate, "se", *(["sd_pre"] if estimate == "d" else [])], where="pool_effects")
    se = table["se"] / table["sd_pre"] if estimate == "d" else table["se"]
    rows = []
    for key, group in table.assign(_se=se).groupby(list(by), sort=True):
        usable = group.dropna(subset=[estimate, "_se"])
        row = dict(zip(by, key, strict=True)) | {"k": len(usable), "left_out": len(group) - len(usable)}
        if len(usable) >= 2:
            result = combine_effects(
                usable[estimate].to_numpy(float),
                usable["_se"].to_numpy(float) ** 2,
                method_re="dl",
                alpha=1 - level,
            )
            frame = result.summary_frame()
            # statsmodels 0.15 leaves DerSimonian-Laird's tau² negative when Q < df; DL (and metafor)
            # truncate it at 0, where the random-effects estimate is the fixed one
            truncated = result.tau2 < 0
            for name, label in (
                ("fixed", "fixed effect"),
                ("random", "fixed effect" if truncated else "random effect"),
            ):
                line = frame.loc[label]
                row |= {
                    name: line["eff"],
                    f"{name}_se": line["sd_eff"],
                    f"{name}_low": line["ci_low"],
                    f"{name}_high": line["ci_upp"],
                }
            homogeneity = result.test_homogeneity()
            row |= {
                "tau2": max(result.tau2, 0.0),
                "i2": 100 * max(result.i2, 0.0),
                "q": homogeneity.statistic,
                "q_p": homogeneity.pvalue,
            }
        rows.append(row)
    names = [
        "fixed",
        "fixed_se",
        "fixed_low",
        "fixed_high",
        "random",
        "random_se",
        "random_low",
        "random_high",
    ]
    return (
        pd.DataFrame(rows)
        .reindex(columns=[*by, "k", "left_out", *names, "tau2", "i2", "q", "q_p"])
        .astype({name: float for name in [*names, "tau2", "i2", "q", "q_p"]})
        .assign(k=lambda f: f["k"].astype(np.int64))
    )
