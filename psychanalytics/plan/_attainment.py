"""Attainment of each target: value, target, status (met / on track / at risk / missed) and trend."""

from __future__ import annotations

import numpy as np
import pandas as pd

from psychanalytics._rules import missing_as_none, year_start
from psychanalytics.plan._indicators import COLUMNS, INDICATORS
from psychanalytics.plan._targets import Target, TargetSet
from psychanalytics.staffing import projection

STATUSES = ("met", "on_track", "at_risk", "missed", "no_data")
STATUS_LABELS: dict[str, tuple[str, str, str, str]] = {
    "met": ("已达成", "met", "✓", "#009E73"),
    "on_track": ("按期可达", "on track", "↗", "#0072B2"),
    "at_risk": ("存在风险", "at risk", "!", "#E69F00"),
    "missed": ("未达成", "missed", "✗", "#D55E00"),
    "no_data": ("无数据", "no data", "–", "#999999"),
}
"""Chinese, English, symbol and colour of each status (Okabe-Ito: told apart without colour by the symbol)."""

TREND_SYMBOLS = {1: "↑", -1: "↓", 0: "→"}

_OUT = [
    "plan", "target", "item", "name_zh", "name_en", "level", "school_id", "school_year", "value", "text",
    "target_value", "comparison", "deadline", "status", "status_zh", "symbol", "change", "trend",
    "projected", "count", "n", "note",
]  # fmt: skip


def _status(target: Target, history: pd.DataFrame, school_year: str) -> tuple[str, float, str]:
    """Status, the value projected to the deadline (``nan`` unless projected) and a note."""
    now = history[history["school_year"] == school_year]
    value = float(now["value"].iloc[0]) if len(now) else float("nan")
    if np.isnan(value):
        return "no_data", float("nan"), "本年无数据" if len(history) else "库中无此项数据"
    if target.reached(value):
        return "met", float("nan"), ""
    if target.deadline is None:
        return "missed", float("nan"), "年度目标"
    if year_start(school_year) >= year_start(target.deadline):
        return "missed", float("nan"), f"期限 {target.deadline}"
    known = history[history["value"].notna()]
    if len(known) < 2:
        return "at_risk", float("nan"), "仅一年数据，无法判断进度"
    ahead = projection(
        known[["school_year", "value"]], target=target.target, deadline=target.deadline, as_of=school_year
    )
    reach = target.reached(ahead.projected)
    return (
        ("on_track" if reach else "at_risk"),
        ahead.projected,
        f"按近年进度，{target.deadline} 预计 {ahead.projected:.2f}",
    )


def attainment(indicator_values: pd.DataFrame, target_set: TargetSet, *, school_year: str) -> pd.DataFrame:
    """Where each target stands in ``school_year``: per district target one row, per school target one per school.

    Status rules, in order: no value that year → ``no_data``; value meets the target → ``met``; a
    yearly target (no deadline), or the deadline reached or passed → ``missed``; otherwise the
    least-squares line through the years up to ``school_year`` (:func:`psychanalytics.staffing.projection`)
    reaches the target by the deadline → ``on_track``, else (or with one year only) ``at_risk``. The
    trend is the change from the previous school year. Rows keep the plan's target order and, within a
    school target, the school id order: this is a list of traffic lights, never a league table.

    Parameters
    ----------
    indicator_values : pandas.DataFrame
        As from :func:`psychanalytics.plan.indicators` (all years: trends and projections read the
        earlier ones).
    target_set : TargetSet
        As from :func:`psychanalytics.plan.targets`.
    school_year : str
        The year judged, e.g. ``2024-2025``.

    Returns
    -------
    pandas.DataFrame
        ``plan, target, item, name_zh, name_en, level, school_id`` (missing for the district),
        ``school_year, value, text, target_value, comparison, deadline, status`` (one of
        :data:`STATUSES`), ``status_zh, symbol, change, trend`` (↑ ↓ →, empty without a previous year),
        ``projected, count, n, note``.

    Examples
    --------
    >>> from psychanalytics.plan import targets
    >>> values = pd.DataFrame({"school_year": ["2022-2023", "2023-2024"], "school_id": None,
    ...     "indicator": "full_time_teacher", "value": [0.6, 0.8], "count": [6, 8], "n": [10, 10],
    ...     "text": ["60%", "80%"]})
    >>> plan = targets("zhonglou")
    >>> row = attainment(values, plan, school_year="2023-2024").iloc[0]
    >>> row["status"], row["trend"], f"{row['projected']:.2f}"
    ('on_track', '↑', '1.00')
    """
    missing = [c for c in COLUMNS if c not in indicator_values.columns]
    if missing:
        raise KeyError(f"plan.attainment: indicator_values lacks column(s) {missing}")
    year_start(school_year)
    unknown = sorted({t.indicator for t in target_set.targets} - set(INDICATORS))
    if unknown:
        raise KeyError(f"plan.attainment: target indicator(s) {unknown} are not in INDICATORS")
    upto = indicator_values[indicator_values["school_year"].map(year_start) <= year_start(school_year)]
    rows = []
    for target in target_set.targets:
        values = upto[upto["indicator"] == target.indicator]
        if target.level == "district":
            units = [None]
            values = values[values["school_id"].isna()]
        else:
            values = values[values["school_id"].notna()]
            units = sorted(values.loc[values["school_year"] == school_year, "school_id"].unique()) or [None]
        for unit in units:
            history = values if unit is None else values[values["school_id"] == unit]
            history = history.sort_values("school_year", key=lambda s: s.map(year_start))
            status, projected, note = _status(target, history, school_year)
            now = history[history["school_year"] == school_year]
            before = history[history["school_year"].map(year_start) == year_start(school_year) - 1]
            value = float(now["value"].iloc[0]) if len(now) else float("nan")
            change = value - float(before["value"].iloc[0]) if len(before) and len(now) else float("nan")
            trend = "" if np.isnan(change) else TREND_SYMBOLS[int(np.sign(round(change, 12)))]
            zh, _, symbol, _ = STATUS_LABELS[status]
            rows.append(
                [
                    target.plan, target.code, target.item, target.name_zh, target.name_en, target.level, unit,
                    school_year, value, now["text"].iloc[0] if len(now) else "无数据", target.target,
                    target.comparison, target.deadline, status, zh, symbol, change, trend, projected,
                    now["count"].iloc[0] if len(now) else np.nan, now["n"].iloc[0] if len(now) else np.nan,
                    "；".join(part for part in (note, target.uncertain) if part),
                ]
            )  # fmt: skip
    out = pd.DataFrame(rows, columns=_OUT)
    return out.assign(school_id=missing_as_none(out["school_id"]))
