"""Comparing two groups on a scale, invariance first: a mean difference is stated only where it means something."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import t as student_t
from scipy.stats import ttest_ind

from psychanalytics.outcomes import effect_size
from psychanalytics.psychometrics import InvarianceResult, measurement_invariance
from psychanalytics.screening._frames import check_level, choice

LEVELS = ("configural", "metric", "scalar")
LEVEL_WORDS = {
    "none": ("未达到形态等值", "not even configural invariance"),
    "configural": ("形态等值", "configural invariance"),
    "metric": ("度量等值（因子载荷相等）", "metric invariance (equal loadings)"),
    "scalar": ("标量等值（载荷与截距相等）", "scalar invariance (equal loadings and intercepts)"),
}
"""How each invariance level reads, in Chinese and English."""


@dataclass(frozen=True)
class InvarianceCriteria:
    """When a level of measurement invariance is taken to hold.

    The configural model must not fit poorly (``cfi >= min_cfi`` and
    ``rmsea <= max_rmsea``); each further level must not fit much worse than
    the one before (``delta_cfi >= -max_cfi_drop`` and ``delta_rmsea <=
    max_rmsea_rise``). Defaults: CFI 0.90 (Bentler & Bonett 1980) and RMSEA
    0.10, above which fit is poor (MacCallum, Browne & Sugawara 1996; Marsh,
    Hau & Wen 2004 warn against stricter fixed cut-offs), then a CFI drop of at
    most 0.010 and an RMSEA rise of at most 0.015 (Chen 2007, Struct Equ
    Modeling 14:464-504; Cheung & Rensvold 2002 for ΔCFI). The chi-square
    difference is reported, not used: with a whole district's students it
    rejects differences of no practical size.
    """

    min_cfi: float = 0.90
    max_rmsea: float = 0.10
    max_cfi_drop: float = 0.010
    max_rmsea_rise: float = 0.015


def invariance_level(table: pd.DataFrame, *, criteria: InvarianceCriteria = InvarianceCriteria()) -> str:
    """The highest level of measurement invariance a fit table supports.

    Parameters
    ----------
    table : pandas.DataFrame
        :attr:`psychanalytics.psychometrics.InvarianceResult.table` (index
        ``configural, metric, scalar``; columns ``cfi``, ``rmsea``,
        ``delta_cfi``, ``delta_rmsea``).
    criteria : InvarianceCriteria
        The thresholds (Chen 2007 by default).

    Returns
    -------
    str
        ``"scalar"``, ``"metric"``, ``"configural"`` or ``"none"``.

    Examples
    --------
    >>> import pandas as pd
    >>> from psychanalytics.screening import invariance_level
    >>> table = pd.DataFrame({"cfi": [0.97, 0.968, 0.94], "rmsea": [0.05, 0.048, 0.07],
    ...                       "delta_cfi": [float("nan"), -0.002, -0.028],
    ...                       "delta_rmsea": [float("nan"), -0.002, 0.022]},
    ...                      index=["configural", "metric", "scalar"])
    >>> invariance_level(table)
    'metric'
    """
    missing = [c for c in ("cfi", "rmsea", "delta_cfi", "delta_rmsea") if c not in table.columns]
    if missing or list(table.index) != list(LEVELS):
        raise ValueError(
            f"table: expected an invariance fit table indexed {list(LEVELS)} with cfi, rmsea, delta_cfi and "
            f"delta_rmsea; got index {list(table.index)}, missing columns {missing}"
        )
    base = table.loc["configural"]
    if not (base["cfi"] >= criteria.min_cfi and base["rmsea"] <= criteria.max_rmsea):
        return "none"
    reached = "configural"
    for level in LEVELS[1:]:
        row = table.loc[level]
        if row["delta_cfi"] >= -criteria.max_cfi_drop and row["delta_rmsea"] <= criteria.max_rmsea_rise:
            reached = level
        else:
            break
    return reached


@dataclass(frozen=True)
class GroupComparison:
    """Two groups compared on a scale, with the measurement invariance the comparison rests on.

    Attributes
    ----------
    groups : pandas.DataFrame
        One row per group: ``group``, ``n``, ``mean``, ``sd``, ``low``, ``high``
        (t interval of the group's mean). Shown whatever the invariance: a
        group's own mean is a description of that group.
    needs : str
        The invariance level the comparison needs (``"scalar"`` for means).
    invariance : str
        The level the data support (``"scalar"``, ``"metric"``,
        ``"configural"`` or ``"none"``).
    holds : bool
        Whether ``invariance`` reaches ``needs``.
    difference, low, high, p_value : float
        Mean of the first group minus the second, its Welch interval and
        p-value; ``NaN`` when invariance does not hold (the difference would
        mix what the groups feel with how they read the items).
    effect : float
        Hedges' g of the difference (``effect_low``, ``effect_high``: its
        interval); ``NaN`` when invariance does not hold.
    sentence_zh, sentence_en : str
        The result in one sentence each, saying whether the groups may be
        compared and why.
    invariance_table : pandas.DataFrame
        The multi-group CFA fit (``psychometrics.measurement_invariance``).
    """

    groups: pd.DataFrame
    needs: str
    invariance: str
    holds: bool
    difference: float
    low: float
    high: float
    p_value: float
    effect: float
    effect_low: float
    effect_high: float
    sentence_zh: str
    sentence_en: str
    invariance_table: pd.DataFrame


def _fit_words(table: pd.DataFrame, level: str) -> str:
    row = table.loc[level]
    if level == "configural":
        return f"CFI = {row['cfi']:.3f}, RMSEA = {row['rmsea']:.3f}"
    return f"ΔCFI = {row['delta_cfi']:+.3f}, ΔRMSEA = {row['delta_rmsea']:+.3f}"


def _sentences(
    scale: tuple[str, str], names: list[tuple[str, str]], stats: pd.DataFrame, reached: str, needs: str,
    holds: bool, table: pd.DataFrame, diff: tuple[float, float, float], ci: float,
) -> tuple[str, str]:  # fmt: skip
    (a, a_en), (b, b_en) = names
    failed = LEVELS[LEVELS.index(reached) + 1] if reached in LEVELS[:-1] else "configural"
    if not holds:
        zh = (
            f"{scale[0]}在{a}与{b}之间只达到{LEVEL_WORDS[reached][0]}（{_fit_words(table, failed)}），"
            f"未达到比较所需的{LEVEL_WORDS[needs][0]}：两组的平均分不能直接比较，差异可能来自两组对题目的理解不同，"
            "而不是心理状况不同。"
        )
        en = (
            f"The {scale[1]} reaches only {LEVEL_WORDS[reached][1]} between {a_en} and {b_en} "
            f"({_fit_words(table, failed)}), short of the {LEVEL_WORDS[needs][1]} this comparison needs: "
            "their means are not compared, as a difference could come from the groups reading the items "
            "differently rather than from how they feel."
        )
        return zh, en
    mean_a, mean_b = stats["mean"]
    difference, low, high = diff
    level = f"{ci:.0%}"
    zh = (
        f"{scale[0]}在{a}与{b}之间达到{LEVEL_WORDS[reached][0]}，可以比较平均分：{a} {mean_a:.1f} 分，"
        f"{b} {mean_b:.1f} 分，相差 {difference:+.1f} 分（{level}置信区间 {low:+.1f} 至 {high:+.1f}）。"
    )
    en = (
        f"The {scale[1]} reaches {LEVEL_WORDS[reached][1]} between {a_en} and {b_en}, so their means may be compared: "
        f"{a_en} {mean_a:.1f}, {b_en} {mean_b:.1f}, a difference of {difference:+.1f} points ({level} CI {low:+.1f} to {high:+.1f})."
    )
    return zh, en


def compare_groups(
    scores,
    groups,
    *,
    items: pd.DataFrame,
    needs: str = "scalar",
    model: dict | str | None = None,
    scale_name: tuple[str, str] = ("量表得分", "scale score"),
    group_names: Mapping[object, tuple[str, str]] | None = None,
    criteria: InvarianceCriteria = InvarianceCriteria(),
    ci: float = 0.95,
) -> GroupComparison:
    """Compare two groups' mean scores only where the scale measures the same thing in both.

    Parameters
    ----------
    scores : pandas.Series or array-like
        Each student's scale score (one row per student).
    groups : pandas.Series or array-like
        Each student's group, exactly two distinct values (e.g. gender); the
        first in sorted order is the first group of the difference.
    items : pandas.DataFrame
        The scale's item responses, the same rows in the same order, no missing
        values (the invariance model is fitted to them).
    needs : {"scalar", "metric", "configural"}
        The level the comparison needs: ``"scalar"`` (default) for means,
        ``"metric"`` for correlations or slopes, ``"configural"`` for the
        pattern only.
    model : dict or str, optional
        The factor model (``psychometrics.measurement_invariance``); default one
        factor over all item columns.
    scale_name : (str, str)
        The scale's name in Chinese and English, for the sentences.
    group_names : mapping, optional
        Each group value's name in Chinese and English for the sentences
        (``{"F": ("女生", "girls"), …}``); default the values themselves.
    criteria : InvarianceCriteria
        When a level holds (Chen 2007 by default).
    ci : float
        Confidence level.

    Returns
    -------
    GroupComparison

    Raises
    ------
    ValueError
        Not exactly two groups, rows that do not line up, missing scores or
        items, or an unknown ``needs``.

    Notes
    -----
    The invariance test is a multi-group confirmatory factor analysis of the
    items (``psychometrics.measurement_invariance``, validated against lavaan);
    the level reached is read with :func:`invariance_level`. When it reaches
    ``needs``, the difference is Welch's (scipy ``ttest_ind(equal_var=False)``)
    and the effect size Hedges' g (``outcomes.effect_size``). Students are
    treated as independent: for groups spread over schools the interval is
    somewhat too narrow (:func:`mean_scores` gives each group's mean with a
    design effect). When invariance falls short, the groups' own means are
    still given (each describes its group) but no difference: the result
    says in words which level failed and what that means.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from psychanalytics.screening import compare_groups
    >>> rng = np.random.default_rng(5)
    >>> gender = np.repeat(["F", "M"], 300)
    >>> trait = rng.normal(size=600) + 0.3 * (gender == "F")
    >>> items = pd.DataFrame({f"q{i}": trait * w + rng.normal(scale=0.7, size=600)
    ...                       for i, w in enumerate([1.0, 0.9, 0.8, 0.7, 0.8], 1)})
    >>> result = compare_groups(items.sum(axis=1), gender, items=items)
    >>> result.invariance, result.holds
    ('scalar', True)
    >>> print(result.sentence_zh)  # doctest: +ELLIPSIS
    量表得分在F与M之间达到标量等值（载荷与截距相等），可以比较平均分：F ... 分，M ... 分，相差 ... 分（95%置信区间 ... 至 ...）。
    """
    choice(needs, LEVELS, name="needs")
    check_level(ci)
    if not isinstance(items, pd.DataFrame):
        raise TypeError(f"items must be a pandas DataFrame of item responses, got {type(items).__name__}")
    score_values = np.asarray(scores, dtype=float)
    group_values = np.asarray(groups, dtype=object)
    if not (len(score_values) == len(group_values) == len(items)):
        raise ValueError(
            f"scores ({len(score_values)}), groups ({len(group_values)}) and items ({len(items)}) must have one row per student"
        )
    for name, values in (("scores", scores), ("groups", groups)):
        if isinstance(values, pd.Series) and not values.index.equals(items.index):
            raise ValueError(f"{name} is a Series whose index differs from the items' index")
    if np.isnan(score_values).any():
        raise ValueError(f"scores: row {int(np.flatnonzero(np.isnan(score_values))[0])} is missing")
    if pd.isna(group_values).any():
        raise ValueError(f"groups: row {int(np.flatnonzero(pd.isna(group_values))[0])} is missing")
    names = sorted(pd.unique(group_values), key=str)
    if len(names) != 2:
        raise ValueError(f"groups: exactly two groups are compared, got {names}")
    if not all(isinstance(s, str) for s in scale_name) or len(scale_name) != 2:
        raise ValueError(f"scale_name must be (Chinese, English), got {scale_name!r}")
    fit: InvarianceResult = measurement_invariance(items, group_values, model=model)
    reached = invariance_level(fit.table, criteria=criteria)
    holds = reached != "none" and LEVELS.index(reached) >= LEVELS.index(needs)
    rows = []
    for name in names:
        x = score_values[group_values == name]
        n, mean = len(x), float(x.mean())
        sd = float(np.std(x, ddof=1)) if n > 1 else np.nan
        margin = student_t.isf((1 - ci) / 2, n - 1) * sd / np.sqrt(n) if n > 1 else np.nan
        rows.append(
            {"group": name, "n": n, "mean": mean, "sd": sd, "low": mean - margin, "high": mean + margin}
        )
    stats = pd.DataFrame(rows)
    diff = (np.nan, np.nan, np.nan)
    p_value = effect = effect_low = effect_high = np.nan
    if holds:
        first, second = (score_values[group_values == name] for name in names)
        test = ttest_ind(first, second, equal_var=False)
        interval = test.confidence_interval(ci)
        diff = (float(first.mean() - second.mean()), float(interval.low), float(interval.high))
        p_value = float(test.pvalue)
        size = effect_size(first, second, kind="hedges_g", ci=ci)
        effect, effect_low, effect_high = size.value, size.low, size.high
    words = [(group_names or {}).get(name, (str(name), str(name))) for name in names]
    zh, en = _sentences(scale_name, words, stats, reached, needs, holds, fit.table, diff, ci)
    return GroupComparison(
        stats, needs, reached, holds, *diff, p_value, effect, effect_low, effect_high, zh, en, fit.table
    )
