"""Trends across screening waves: GEE models for students measured repeatedly in schools."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy.stats import norm
from statsmodels.genmod.cov_struct import Exchangeable
from statsmodels.tools.sm_exceptions import ConvergenceWarning

from psychanalytics.screening._frames import check_level, choice, keys, plain, require

KINDS = ("rate", "mean")
STAGE_WORDS = {
    "primary": ("小学", "primary"),
    "junior": ("初中", "junior secondary"),
    "nine_year": ("九年一贯制", "nine-year school"),
    "senior": ("高中", "senior secondary"),
    "complete_secondary": ("完全中学", "complete secondary"),
}
GENDER_WORDS = {"F": ("女生", "girls"), "M": ("男生", "boys")}


@dataclass(frozen=True)
class TrendResult:
    """Change across waves of a screen-positive rate or a mean score.

    Attributes
    ----------
    waves : pandas.DataFrame
        One row per group and wave: the ``by`` columns, ``wave``,
        ``students``, ``schools``, ``estimate`` (the model's rate or mean for
        that wave, standardised to the group's covariates), ``low``, ``high``.
    changes : pandas.DataFrame
        One row per group and later wave: the ``by`` columns, ``wave_from``
        (the reference wave), ``wave_to``, ``estimate_from``, ``estimate_to``,
        ``change`` (``estimate_to - estimate_from``: a difference of
        proportions for a rate, of points for a mean), ``low``, ``high``,
        ``p_value``, ``sentence_zh`` and ``sentence_en`` (to paste into a
        report).
    kind : str
        ``"rate"`` or ``"mean"``.
    model : str
        The model, in words.
    note : str
        Anything a reader must know about the fit (students seen in two
        schools, few schools).
    """

    waves: pd.DataFrame
    changes: pd.DataFrame
    kind: str
    model: str
    note: str = ""


def _design(frame: pd.DataFrame, time: str, waves: list, covariates: tuple[str, ...]) -> pd.DataFrame:
    """Design matrix: intercept, one indicator per wave after the first, covariates (categorical: indicators)."""
    parts = [pd.Series(1.0, index=frame.index, name="const")]
    parts += [frame[time].eq(w).astype(float).rename(f"{time}={w}") for w in waves[1:]]
    for column in covariates:
        values = frame[column]
        if values.dtype.kind in "iuf":
            parts.append(values.astype(float))
        else:
            levels = sorted(values.unique(), key=str)
            parts += [values.eq(level).astype(float).rename(f"{column}={level}") for level in levels[1:]]
    return pd.concat(parts, axis=1)


def _marginal(params: np.ndarray, design: pd.DataFrame, time: str, waves: list, kind: str):
    """Per-wave marginal means (every row set to that wave) and their gradients in the parameters."""
    means, gradients = [], []
    x = design.to_numpy(copy=True)
    wave_columns = {w: design.columns.get_loc(f"{time}={w}") for w in waves[1:]}
    for w in waves:
        for other, column in wave_columns.items():
            x[:, column] = float(other == w)
        eta = x @ params
        if kind == "rate":
            mu = 1 / (1 + np.exp(-eta))
            means.append(mu.mean())
            gradients.append((mu * (1 - mu)) @ x / len(x))
        else:
            means.append(eta.mean())
            gradients.append(x.mean(axis=0))
    return np.array(means), np.array(gradients)


def _fit(model: sm.GEE, where: str):
    """Fit ``model`` (divisors N, as geepack) or raise naming the group when the fit fails."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = model.fit(ddof_scale=0)
    problems = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning | RuntimeWarning)]
    finite = np.isfinite(result.params).all() and np.isfinite(result.cov_params().to_numpy()).all()
    if problems or not finite:
        raise ValueError(
            f"{where}: the GEE fit failed ({'; '.join(problems) or 'estimates are not finite'}; working "
            f"correlation {model.cov_struct.dep_params:.3g}); too few students, schools or cases in this group, "
            "or outcomes that do not vary: merge groups or drop it, and say so"
        )
    return result


def _group_words(values: dict) -> tuple[str, str]:
    zh, en = [], []
    for column, value in values.items():
        words = {"stage": STAGE_WORDS, "gender": GENDER_WORDS}.get(column, {}).get(value)
        zh.append(words[0] if words else f"{column} {value}")
        en.append(words[1] if words else f"{column} {value}")
    return ("".join(zh) or "全区"), (", ".join(en) or "district")


def _sentences(group: dict, kind: str, label: tuple[str, str], row: dict, ci: float) -> tuple[str, str]:
    """The change in one sentence each in Chinese and English, e.g. for a report to staff."""
    who_zh, who_en = _group_words(group)
    level = f"{ci:.0%}"
    if kind == "rate":
        scale, unit_zh, unit_en = 100, "个百分点", "percentage points"
        start, end = f"{row['estimate_from']:.1%}", f"{row['estimate_to']:.1%}"
    else:
        scale, unit_zh, unit_en = 1, "分", "points"
        start, end = f"{row['estimate_from']:.1f}", f"{row['estimate_to']:.1f}"
    change, low, high = (row[k] * scale for k in ("change", "low", "high"))
    up = change >= 0
    zh = (
        f"{who_zh}{label[0]}由{row['wave_from']}的{start}变为{row['wave_to']}的{end}，"
        f"{'上升' if up else '下降'}{abs(change):.1f}{unit_zh}（{level}置信区间 {low:.1f} 至 {high:.1f}）"
    )
    en = (
        f"{who_en[0].upper()}{who_en[1:]}: the {label[1]} went from {start} in {row['wave_from']} to {end} in {row['wave_to']}, "
        f"{'up' if up else 'down'} {abs(change):.1f} {unit_en} ({level} CI {low:.1f} to {high:.1f})"
    )
    if low <= 0 <= high:
        zh += "；置信区间包含 0，不能确定有变化。"
        en += "; the interval includes 0, so the change is not certain."
    else:
        zh += "；这一变化超出了随机波动的范围。"
        en += "; the change is larger than chance variation would explain."
    return zh, en


def trend(
    data: pd.DataFrame,
    *,
    outcome: str,
    kind: str = "rate",
    by: str | Sequence[str] = ("stage", "gender"),
    time: str = "wave",
    subject: str = "pid",
    cluster: str | None = "school",
    covariates: str | Sequence[str] = (),
    waves: Sequence | None = None,
    label: tuple[str, str] | None = None,
    ci: float = 0.95,
) -> TrendResult:
    """Change in a screen-positive rate or a mean score across waves, per stage and gender.

    Parameters
    ----------
    data : pandas.DataFrame
        Long student-level frame, one row per student and wave: ``subject``
        (``pid``), ``time`` (``wave``), ``cluster`` (``school``), the
        ``outcome``, the ``by`` columns and the ``covariates``. Not modified.
    outcome : str
        For ``kind="rate"`` a 0/1 column (1 = screen positive); for
        ``kind="mean"`` a score.
    kind : {"rate", "mean"}
        Logistic GEE for a rate, linear GEE for a mean.
    by : str or sequence of str
        One model per group, default ``("stage", "gender")``; ``()`` for the
        district.
    time : str
        The wave column; waves are ordered by ``waves`` or sorted.
    subject : str
        The student column (counted; each student once per wave).
    cluster : str or None
        The school column, GEE's cluster (default ``"school"``). ``None``
        clusters on ``subject`` only (repeated measures, no school effect).
    covariates : str or sequence of str
        Case-mix columns (e.g. ``grade``): numeric as given, others as
        indicators. The wave estimates are standardised to the group's rows.
    waves : sequence, optional
        The waves in order, the first being the reference; default sorted.
    label : (str, str), optional
        The outcome's name in Chinese and English for the sentences; default
        ``("筛查阳性率", "screen-positive rate")`` for a rate and
        ``("平均分", "mean score")`` for a mean.
    ci : float
        Confidence level.

    Returns
    -------
    TrendResult

    Notes
    -----
    Each group gets a GEE (Liang & Zeger 1986; statsmodels ``GEE``) of the
    outcome on wave indicators and covariates, with an exchangeable working
    correlation within each school and robust (sandwich) standard errors
    (DESIGN.md, decision 25). Clustering on the school covers both the school
    and the same student's repeated waves, whatever their correlation: the
    sandwich is valid for any within-school correlation, the exchangeable
    working structure only buys efficiency. A student seen in two schools
    of one group contributes to two clusters (``note`` counts them). With
    few schools (under 20, ``note``) robust errors are too small.

    A wave's ``estimate`` is the mean over the group's rows of the predicted
    rate (mean) with every row set to that wave (marginal standardisation);
    ``change`` and every interval come from the delta method on the robust
    covariance. Rate intervals are built on the logit scale; changes on the
    difference scale.

    Validated against R ``geepack::geeglm`` (``corstr = "exchangeable"``,
    robust errors) on a small dataset kept with the script
    (``tests/reference/screening/trend_geepack.json``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from psychanalytics.screening import trend
    >>> rng = np.random.default_rng(1)
    >>> rows = [(f"s{s}p{i}", w, f"s{s}", int(rng.random() < 0.10 + 0.03 * k + 0.02 * (s % 3)))
    ...         for s in range(12) for i in range(40) for k, w in enumerate(["2024秋", "2025秋"])]
    >>> data = pd.DataFrame(rows, columns=["pid", "wave", "school", "positive"])
    >>> result = trend(data, outcome="positive", by=())
    >>> result.waves[["wave", "students", "schools"]]
        wave  students  schools
    0  2024秋       480       12
    1  2025秋       480       12
    >>> print(result.changes["sentence_zh"].iloc[0])
    全区筛查阳性率由2024秋的10.0%变为2025秋的15.8%，上升5.8个百分点（95%置信区间 1.5 至 10.2）；这一变化超出了随机波动的范围。
    """
    choice(kind, KINDS, name="kind")
    check_level(ci)
    by, covariates = keys(by), keys(covariates, name="covariates")
    group_column = cluster if cluster is not None else subject
    require(data, list(dict.fromkeys([*by, time, subject, group_column, outcome, *covariates])), what="data")
    used = [*by, time, subject, group_column, outcome, *covariates]
    missing = data[used].isna().any(axis=1)
    if missing.any():
        row = data.index[missing][0]
        column = next(c for c in used if pd.isna(data.at[row, c]))
        raise ValueError(
            f"data: row {plain(row)!r}, column {column!r} is missing; drop or fill such rows first and say so"
        )
    values = data[outcome]
    if kind == "rate" and not values.isin([0, 1]).all():
        row = data.index[~values.isin([0, 1])][0]
        raise ValueError(
            f"data: row {plain(row)!r}, column {outcome!r}: a rate needs 0/1 outcomes, got {plain(values[row])!r}"
        )
    if kind == "mean" and (values.dtype.kind not in "iuf" or values.dtype == bool):
        raise ValueError(f"data: column {outcome!r} must be numeric for a mean, got {values.dtype}")
    repeated = data.duplicated([subject, time], keep=False)
    if repeated.any():
        row = data.index[repeated][0]
        raise ValueError(
            f"data: row {plain(row)!r}: student {plain(data.at[row, subject])!r} appears twice in wave {plain(data.at[row, time])!r}"
        )
    order = list(waves) if waves is not None else sorted(data[time].unique())
    unknown = set(data[time].unique()) - set(order)
    if unknown:
        raise ValueError(f"waves {sorted(unknown, key=str)} in data are not in waves={order}")
    if len(order) < 2:
        raise ValueError(f"a trend needs at least two waves, got {order}")
    label = label or (("筛查阳性率", "screen-positive rate") if kind == "rate" else ("平均分", "mean score"))
    z = norm.isf((1 - ci) / 2)
    groups = data.groupby(list(by), sort=True) if by else [((), data)]
    wave_rows, change_rows, notes = [], [], []
    for key, frame in groups:
        group = dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True))
        present = [w for w in order if (frame[time] == w).any()]
        frame = frame.sort_values([group_column, time], kind="stable")
        design = _design(frame, time, present, covariates)
        model = sm.GEE(
            frame[outcome].astype(float),
            design,
            groups=frame[group_column],
            family=sm.families.Binomial() if kind == "rate" else sm.families.Gaussian(),
            cov_struct=Exchangeable(),
        )
        result = _fit(model, _group_words(group)[1])
        means, gradients = _marginal(result.params.to_numpy(), design, time, present, kind)
        cov = gradients @ result.cov_params().to_numpy() @ gradients.T
        se = np.sqrt(np.diag(cov))
        if kind == "rate":
            logit, logit_se = np.log(means / (1 - means)), se / (means * (1 - means))
            low, high = (1 / (1 + np.exp(-(logit + s * z * logit_se))) for s in (-1, 1))
        else:
            low, high = means - z * se, means + z * se
        counts = frame.groupby(time).agg(students=(subject, "nunique"), schools=(group_column, "nunique"))
        for i, w in enumerate(present):
            wave_rows.append(
                {
                    **group,
                    "wave": w,
                    **counts.loc[w].to_dict(),
                    "estimate": means[i],
                    "low": low[i],
                    "high": high[i],
                }
            )
        for i, w in enumerate(present[1:], start=1):
            change = means[i] - means[0]
            change_se = np.sqrt(cov[i, i] + cov[0, 0] - 2 * cov[0, i])
            row = {
                "wave_from": present[0],
                "wave_to": w,
                "estimate_from": means[0],
                "estimate_to": means[i],
                "change": change,
                "low": change - z * change_se,
                "high": change + z * change_se,
                "p_value": 2 * norm.sf(abs(change) / change_se),
            }
            row["sentence_zh"], row["sentence_en"] = _sentences(group, kind, label, row, ci)
            change_rows.append({**group, **row})
        movers = (frame.groupby(subject)[group_column].nunique() > 1).sum()
        schools = frame[group_column].nunique()
        where = _group_words(group)[1]
        if cluster is not None and movers:
            notes.append(f"{where}: {movers} students were seen in more than one school")
        if schools < 20:
            notes.append(f"{where}: only {schools} clusters; robust intervals may be too narrow")
    structure = (
        f"exchangeable within each {group_column}"
        if cluster is not None
        else f"exchangeable within each {subject}"
    )
    family = "logistic" if kind == "rate" else "linear"
    description = f"{family} GEE on wave indicators{' and ' + ', '.join(covariates) if covariates else ''}, {structure}, robust standard errors"
    return TrendResult(
        pd.DataFrame(wave_rows), pd.DataFrame(change_rows), kind, description, "; ".join(notes)
    )
