"""Adjusted p values for many subgroups or interventions: Holm and Benjamini-Hochberg (statsmodels)."""

from __future__ import annotations

import pandas as pd
from statsmodels.stats.multitest import multipletests

from psychanalytics.outcomes._validate import numbers_of, series

METHODS = {"holm": "holm", "bh": "fdr_bh"}


def adjust_pvalues(pvalues, *, method: str = "holm", alpha: float = 0.05) -> pd.DataFrame:
    """Holm (family-wise error) or Benjamini-Hochberg (false discovery rate) adjusted p values.

    Parameters
    ----------
    pvalues : array-like or pandas.Series
        One p value per test (a Series' index, e.g. subgroup or intervention
        names, is kept). Missing values are refused: a test that could not be
        run is not a test to count.
    method : {"holm", "bh"}
        ``holm``: Holm (1979) step-down, controls the family-wise error rate —
        for a few planned comparisons a decision rests on. ``bh``:
        Benjamini & Hochberg (1995), controls the false discovery rate — for
        screening many subgroups or programmes.
    alpha : float
        Level at which ``reject`` is decided.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``pvalues``: ``p``, ``p_adjusted``, ``reject`` (``p_adjusted <= alpha``).

    Notes
    -----
    Wraps ``statsmodels.stats.multitest.multipletests`` (``"holm"``,
    ``"fdr_bh"``). Checked against R ``p.adjust`` (``"holm"``, ``"BH"``) on the
    example of its help page (``tests/reference/outcomes/p_adjust_r.json``).

    Examples
    --------
    >>> from psychanalytics.outcomes import adjust_pvalues
    >>> adjust_pvalues([0.01, 0.04, 0.03, 0.20], method="holm")["p_adjusted"].round(3).tolist()
    [0.04, 0.09, 0.09, 0.2]
    >>> adjust_pvalues([0.01, 0.04, 0.03, 0.20], method="bh")["p_adjusted"].round(3).tolist()
    [0.04, 0.053, 0.053, 0.2]
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {sorted(METHODS)}, got {method!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha!r}")
    values = series(pvalues, "pvalues")
    p = numbers_of(values, "pvalues")
    if len(p) == 0:
        raise ValueError("pvalues is empty")
    outside = (p < 0) | (p > 1)
    if outside.any():
        raise ValueError(
            f"pvalues must lie in [0, 1]; got {float(p[outside][0])!r} at position {int(outside.argmax())}"
        )
    reject, adjusted, _, _ = multipletests(p, alpha=alpha, method=METHODS[method])
    return pd.DataFrame({"p": p, "p_adjusted": adjusted, "reject": reject}, index=values.index)
