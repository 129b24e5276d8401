"""Figures for screening results: funnel plots, rates and means with intervals, band shares, trends, cohorts.

Each builder takes a result of :mod:`psychanalytics.screening` (for leaders, the
cells of :func:`psychanalytics.privacy.leader_view`) and returns a
:class:`plotly.graph_objects.Figure` in the one theme of :mod:`psychanalytics.viz`:
Chinese first with English in smaller grey type, Okabe-Ito colours for
categories, ColorBrewer's colour-blind-safe ``YlOrRd`` for risk bands. They
compute nothing: every number drawn is a number of the frame given.

Schools are compared on a **funnel plot** only, never in a ranked table or bar
chart: each school is a labelled point at its number of students, against the
95 % and 99.8 % limits around the district rate. A rate of students at or above
a cut-off is a screen-positive rate (筛查阳性率), never a prevalence.
Groups with low coverage (screened / enrolled below the threshold) are drawn
hollow and named in a note, so that a low rate where few were screened is not
read as a healthy school.

Examples
--------
>>> import pandas as pd
>>> from psychanalytics import screening
>>> from psychanalytics.viz import screening as vs
>>> schools = pd.DataFrame({"school": ["A", "B", "C", "D", "E"], "n": [300, 320, 250, 410, 380],
...                         "count": [30, 50, 12, 80, 41]})
>>> fig = vs.funnel_plot(screening.funnel(schools, numerator="count", denominator="n"))
>>> [trace.name for trace in fig.data if trace.showlegend is not False][:3]
['99.8% 控制限', '95% 控制限', '全区 12.8%']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from psychanalytics import instruments
from psychanalytics.privacy import shown_text
from psychanalytics.screening import FunnelResult, TrendResult
from psychanalytics.screening._trends import GENDER_WORDS, STAGE_WORDS
from psychanalytics.viz import (
    _figure,
    _require,
    _share_of_n,
    _values,
    band_colours,
    band_label,
    bilingual,
    tick_label,
)

__all__ = [
    "AXIS_WORDS",
    "POSITION_STYLE",
    "SERIES_COLOURS",
    "action_bars",
    "axis_title",
    "band_share_bars",
    "estimate_points",
    "funnel_plot",
    "group_name",
    "label_places",
    "score_histogram",
    "screen_positive_rule",
    "share_bars",
    "transition_heatmap",
    "trend_lines",
]

SERIES_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
"""Okabe-Ito, the theme's colourway: for groups (stages, genders, waves) that are not ordered risk."""

POSITION_STYLE = {
    "above": ("#D55E00", "triangle-up", "高于 99.8% 控制上限", "above the 99.8% limit"),
    "below": ("#0072B2", "triangle-down", "低于 99.8% 控制下限", "below the 99.8% limit"),
    "within": ("#7f7f7f", "circle", "在控制限内", "within the limits"),
}
"""Colour, marker, Chinese and English label of a funnel position: colour and shape both tell it (Okabe-Ito
vermillion and blue, distinguishable in every common colour-vision deficiency, and in greyscale by shape)."""

_WORDS = {
    "stage": STAGE_WORDS,
    "gender": GENDER_WORDS,
    "location": {
        "urban": ("城区", "urban"),
        "township_central": ("乡镇中心", "township centre"),
        "township": ("乡镇", "township"),
    },
    "state_to": {
        "screened": ("再次筛查", "screened again"),
        "not_screened": ("在读未筛查", "enrolled, not screened"),
        "not_enrolled": ("离开本区学校", "left the district's schools"),
        "graduated": ("毕业", "graduated"),
    },
}


AXIS_WORDS = {
    "wave": ("普测批次", "screening wave"),
    "school_year": ("学年", "school year"),
    "school": ("学校", "school"),
    "stage": ("学段", "stage"),
    "location": ("城乡", "urban / township"),
    "grade": ("年级", "grade"),
    "gender": ("性别", "gender"),
}
"""Axis titles of the group keys, Chinese and English."""

_SEASONS = {"autumn": ("秋季", "autumn"), "spring": ("春季", "spring")}


def axis_title(column: str) -> str:
    """The bilingual axis title of a group key (the column name when it is not one).

    >>> axis_title("grade")
    '年级 <span style="font-size:11px;color:#777">grade</span>'
    """
    zh, en = AXIS_WORDS.get(column, (column, column))
    return bilingual(zh, en)


def group_name(column: str, value: object, *, english: bool = False) -> str:
    """A group's name for a figure: Chinese (or English) words for stages, genders, locations; grades as 「7年级」.

    Waves named ``YYYY-autumn`` / ``YYYY-spring`` read 「2025年秋季」; other wave ids as they are.

    >>> group_name("stage", "junior"), group_name("grade", 10), group_name("gender", "F", english=True)
    ('初中', '10年级', 'girls')
    >>> group_name("wave", "2025-autumn"), group_name("wave", "W1")
    ('2025年秋季', 'W1')
    """
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return "未知" if not english else "unknown"
    if column == "grade":
        return f"grade {int(value)}" if english else f"{int(value)}年级"
    if column in ("wave", "wave_from", "wave_to") and isinstance(value, str):
        year, _, season = value.partition("-")
        if year.isdigit() and season in _SEASONS:
            return f"{year} {_SEASONS[season][1]}" if english else f"{year}年{_SEASONS[season][0]}"
    words = _WORDS.get(column, {}).get(value)
    if words is None:
        return str(value)
    return words[1] if english else words[0]


def screen_positive_rule(instrument: str, *, english: bool = False) -> str:
    """The instrument's screen-positive rule in words, from its spec (for titles and footnotes).

    >>> screen_positive_rule("phq9")
    'PHQ-9 抑郁总分 ≥10（中度及以上），或 第9题（自伤或死亡念头）≥1，需随访'
    >>> screen_positive_rule("phq9", english=True)
    'PHQ-9 Total score ≥10 (Moderate or above), or flag item9'
    """
    spec = instruments.get(instrument)
    rule = spec.screen_positive
    parts = []
    if rule.scale is not None:
        lows = sorted(
            {
                b.lower
                for bs in spec.scale(rule.scale).bands
                if bs.metric == rule.metric
                for b in bs.bands
                if b.code == rule.band
            }
        )
        cut = "/".join(f"{v:g}" for v in lows)
        band = spec.scale(rule.scale).band(rule.band)
        scale_zh, scale_en = spec.scale(rule.scale).name_zh, spec.scale(rule.scale).name_en
        parts.append(
            f"{scale_en} ≥{cut} ({band.name_en} or above)"
            if english
            else f"{scale_zh} ≥{cut}（{band.name_zh}及以上）"
        )
    flags = {f.name: f for f in spec.flags}
    for name in rule.flags:
        parts.append(f"flag {name}" if english else flags[name].name_zh)
    joined = ", or ".join(parts) if english else "，或 ".join(parts)
    return f"{spec.abbreviation} {joined}"


def _tick(column: str, value: object) -> str:
    """A group's name as an axis tick, broken in two only when long (「2025年秋季」 stays whole)."""
    return tick_label(group_name(column, value), width=8)


def _note(fig: go.Figure, text: str) -> None:
    """A footnote under the plot area (grows the bottom margin)."""
    fig.add_annotation(
        text=text, x=0, y=-0.2, xref="paper", yref="paper", xanchor="left", yanchor="top", showarrow=False,
        align="left", font=dict(size=11, color="#555"),
    )  # fmt: skip
    fig.update_layout(margin=dict(b=120))


def _low_coverage(frame: pd.DataFrame) -> np.ndarray:
    if "low_coverage" not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    return frame["low_coverage"].fillna(False).to_numpy(dtype=bool)


def _shown(frame: pd.DataFrame) -> np.ndarray:
    """Rows a leader view left whole (no ``suppressed`` column: every row)."""
    if "suppressed" not in frame.columns:
        return np.ones(len(frame), dtype=bool)
    return ~frame["suppressed"].fillna(True).to_numpy(dtype=bool)


def funnel_plot(
    result: FunnelResult,
    *,
    names: Mapping[object, str] | None = None,
    by: str = "school",
    title: str | None = None,
    note: str | None = None,
) -> go.Figure:
    """A funnel plot: each school a labelled point at its size, against 95 % and 99.8 % limits.

    Parameters
    ----------
    result : psychanalytics.screening.FunnelResult
        From :func:`psychanalytics.screening.funnel`. Its table may carry the
        coverage columns (:func:`psychanalytics.screening.with_coverage`):
        schools with ``low_coverage`` are drawn hollow and named in a note; and
        a leader view's ``suppressed`` column: those schools are counted in the
        limits but not drawn, and the note says how many.
    names : mapping, optional
        School id → name shown beside its point (default the id).
    by : str
        The column naming a school in ``result.table``.
    title, note : str, optional
        The figure's title (default names the rate and the limits) and an extra
        footnote line.

    Returns
    -------
    plotly.graph_objects.Figure
        Traces: the 99.8 % limits, the 95 % limits, the centre line, then one
        trace per position (above / within / below) with each school's name as
        its text. A proportion is drawn in per cent, a ratio as is.

    Examples
    --------
    >>> import pandas as pd
    >>> from psychanalytics import screening
    >>> schools = pd.DataFrame({"school": ["A", "B", "C", "D"], "n": [300, 320, 250, 410],
    ...                         "count": [30, 50, 12, 80]})
    >>> fig = funnel_plot(screening.funnel(schools, numerator="count", denominator="n"), names={"A": "甲校"})
    >>> [t.text for t in fig.data if t.name.startswith("高于")]
    [('D',)]
    """
    table = result.table
    _require(table, [by, "value", "position"], "funnel_plot")
    if table.empty:  # no school to place (nor, perhaps, a centre line): the figure says so
        return _figure(
            title or bilingual("各校筛查阳性率漏斗图", "funnel plot of schools"),
            bilingual("筛查人数", "students screened"),
            bilingual("筛查阳性率（%）", "screen-positive rate (%)"),
            height=520,
            empty=True,
        )
    denominator = table.columns[table.columns.get_loc("value") - 1]  # … numerator, denominator, value …
    proportion = result.kind == "proportion"
    scale = 100 if proportion else 1
    shown = _shown(table)
    sizes = table[denominator].to_numpy(dtype=float)
    grid = (
        np.geomspace(max(np.nanmin(sizes) * 0.8, 1e-3), np.nanmax(sizes) * 1.15, 200)
        if np.isfinite(sizes).any()
        else np.array([1.0])
    )
    limits = result.limits(grid)
    what = ("筛查阳性率", "screen-positive rate") if proportion else ("观察数/期望数", "observed / expected")
    x_title = (
        bilingual("筛查人数", "students screened") if proportion else bilingual("期望人数", "expected cases")
    )
    fig = _figure(
        title or bilingual(f"各校{what[0]}漏斗图", f"funnel plot of schools' {what[1]}"),
        x_title,
        bilingual(f"{what[0]}（%）", f"{what[1]} (%)") if proportion else bilingual(what[0], what[1]),
        height=520,
        empty=table.empty,
    )
    for level, dash, width in (("998", "solid", 1.6), ("95", "dash", 1.2)):
        label = "99.8%" if level == "998" else "95%"
        for i, bound in enumerate(("ll", "ul")):
            fig.add_scatter(
                x=grid, y=limits[f"{bound}{level}"] * scale, mode="lines", line=dict(color="#444", dash=dash, width=width),
                name=f"{label} 控制限", legendgroup=level, showlegend=i == 0, hoverinfo="skip",
            )  # fmt: skip
    target_text = f"{result.target * 100:.1f}%" if proportion else f"{result.target:g}"
    fig.add_scatter(
        x=[grid[0], grid[-1]], y=[result.target * scale] * 2, mode="lines", line=dict(color="#009E73", width=2),
        name=f"全区 {target_text}", hoverinfo="skip",
    )  # fmt: skip
    low = _low_coverage(table)
    drawn = table["value"].to_numpy(dtype=float)[shown]
    y_top = (
        max(float(np.nanmax(drawn)) if np.isfinite(drawn).any() else 0.0, float(limits["ul998"].max()))
        * scale
    )
    places = label_places(
        table[denominator], table["value"] * scale, [str(names.get(v, v)) if names else str(v) for v in table[by]],
        x_range=(0.0, float(grid[-1])), y_range=(0.0, y_top * 1.12),
    )  # fmt: skip
    for position in ("above", "within", "below"):
        rows = (table["position"] == position).to_numpy() & shown
        if not rows.any():
            continue
        colour, symbol, zh, en = POSITION_STYLE[position]
        part = table[rows]
        labels = [str(names.get(s, s)) if names else str(s) for s in part[by]]
        hollow = low[rows]
        fig.add_scatter(
            x=part[denominator], y=part["value"] * scale, mode="markers+text", text=labels,
            textposition=[p for p, r in zip(places, rows, strict=True) if r], textfont=dict(size=11, color="#333"),
            name=zh, legendgroup=position, cliponaxis=False,
            marker=dict(
                color=["white" if h else colour for h in hollow], symbol=symbol, size=11,
                line=dict(color=colour, width=2),
            ),
            hovertemplate=(
                "%{text}<br>" + x_title.split(" <")[0] + " %{x:,.0f}<br>" + what[0]
                + (" %{y:.1f}%" if proportion else " %{y:.2f}") + f"<br>{zh} {en}<extra></extra>"
            ),
        )  # fmt: skip
    notes = [
        _method_zh(result),
        "空心点：该校筛查覆盖率不足，低的筛查阳性率不代表学生更健康 / hollow: low coverage" if low[shown].any() else "",
        f"另有 {int((~shown).sum())} 所学校人数过少，计入控制限但不显示 / {int((~shown).sum())} small schools not shown"
        if (~shown).any() else "",
        note or "",
    ]  # fmt: skip
    _note(fig, "<br>".join(n for n in notes if n))
    if proportion:
        fig.update_yaxes(ticksuffix="%", rangemode="tozero")
    fig.update_xaxes(type="linear", range=[0, float(grid[-1])])
    if proportion:
        fig.update_yaxes(range=[0, y_top * 1.12])
    return fig


_PLACES = (
    ("top center", 0.0, -1.0),
    ("bottom center", 0.0, 1.0),
    ("middle right", 1.0, 0.0),
    ("middle left", -1.0, 0.0),
    ("top right", 0.8, -1.0),
    ("bottom left", -0.8, 1.0),
    ("top left", -0.8, -1.0),
    ("bottom right", 0.8, 1.0),
)


def label_places(
    x: Sequence[float], y: Sequence[float], texts: Sequence[str], *, x_range: tuple[float, float],
    y_range: tuple[float, float], size: tuple[float, float] = (1000.0, 300.0), font: float = 11.0,
) -> list[str]:  # fmt: skip
    """Where to put each point's label so that labels overlap each other and the points as little as they can.

    A greedy placement in plot pixels (``size``: the plot area's width and
    height): points are taken from the most crowded first, and each label goes
    to the first of eight places around its point whose box (about ``font``
    pixels per character) overlaps no label placed before and no point; when
    every place overlaps, the one overlapping least. Written by hand: plotly
    places text at a fixed offset and never moves it.

    >>> label_places([1, 1.01], [5, 5], ["甲校", "乙校"], x_range=(0, 2), y_range=(0, 10))
    ['top center', 'bottom center']
    """
    (x0, x1), (y0, y1) = x_range, y_range
    px = (np.asarray(x, dtype=float) - x0) / max(x1 - x0, 1e-12) * size[0]
    py = (1 - (np.asarray(y, dtype=float) - y0) / max(y1 - y0, 1e-12)) * size[1]
    widths = np.array([font * 0.95 * len(str(t)) + 4 for t in texts])
    height, gap = font + 4, 7.0
    crowd = [np.sum(np.hypot(px - px[i], py - py[i]) < 120) for i in range(len(px))]
    boxes: list[tuple[float, float, float, float]] = [
        (a - 6, b - 6, a + 6, b + 6) for a, b in zip(px, py, strict=True)
    ]
    places = [""] * len(px)

    def overlap(box, other) -> float:
        w = min(box[2], other[2]) - max(box[0], other[0])
        h = min(box[3], other[3]) - max(box[1], other[1])
        return max(w, 0) * max(h, 0)

    for i in sorted(range(len(px)), key=lambda k: -crowd[k]):
        best, best_cost = None, None
        for name, dx, dy in _PLACES:
            cx = px[i] + dx * (widths[i] / 2 + gap)
            cy = py[i] + dy * (height / 2 + gap)
            box = (cx - widths[i] / 2, cy - height / 2, cx + widths[i] / 2, cy + height / 2)
            cost = sum(overlap(box, other) for j, other in enumerate(boxes) if j != i)
            if best_cost is None or cost < best_cost:
                best, best_cost = (name, box), cost
            if cost == 0:
                break
        places[i] = best[0]
        boxes.append(best[1])
    return places


def _method_zh(result: FunnelResult) -> str:
    if result.adjusted:
        return (
            f"控制限已按学校间差异放宽（过度离散 φ = {result.phi:.1f}）：越出 99.8% 控制限的学校值得进一步了解，"
            "不是排名 / limits widened for between-school variation; a point outside is a reason to look, not a rank"
        )
    return "精确控制限（未发现过度离散）；越出 99.8% 控制限的学校值得进一步了解，不是排名 / exact limits; not a ranking"


def estimate_points(
    frame: pd.DataFrame,
    *,
    x: str,
    y: str = "proportion",
    colour: str | None = None,
    title: str,
    y_title: str,
    x_title: str | None = None,
    percent: bool = True,
) -> go.Figure:
    """Estimates with their intervals (``low``, ``high``) as points and whiskers, one colour per group.

    For screen-positive rates by grade or gender (:func:`psychanalytics.screening.prevalence`,
    ``y="proportion"``) or mean scores (:func:`psychanalytics.screening.mean_scores`,
    ``y="mean"``, ``percent=False``). Groups with ``low_coverage`` are drawn
    hollow; blanked rows (a leader view) are left out.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"grade": [7, 8], "proportion": [0.1, 0.12], "low": [0.08, 0.1], "high": [0.12, 0.15]})
    >>> fig = estimate_points(frame, x="grade", title="t", y_title="y")
    >>> fig.data[0].y.tolist(), fig.data[0].error_y.array.tolist()
    ([10.0, 12.0], [2.0, 3.0])
    """
    _require(frame, [x, y, "low", "high", *([colour] if colour else [])], "estimate_points")
    scale = 100 if percent else 1
    fig = _figure(title, x_title or axis_title(x), y_title, empty=frame.empty)
    groups = [None] if colour is None else list(dict.fromkeys(frame[colour]))
    shown, low = _shown(frame), _low_coverage(frame)
    for i, group in enumerate(groups):
        rows = shown & (np.ones(len(frame), bool) if group is None else (frame[colour] == group).to_numpy())
        part = frame[rows]
        value = part[y].to_numpy(dtype=float) * scale
        hollow = low[rows]
        c = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        fig.add_scatter(
            x=[_tick(x, v) for v in part[x]], y=value, mode="markers",
            name=group_name(colour, group) if colour else y_title.split(" <")[0],
            showlegend=colour is not None,
            marker=dict(size=10, color=["white" if h else c for h in hollow], line=dict(color=c, width=2)),
            error_y=dict(
                type="data", symmetric=False, array=part["high"].to_numpy(dtype=float) * scale - value,
                arrayminus=value - part["low"].to_numpy(dtype=float) * scale, color=c, thickness=1.5,
            ),
            hovertemplate="%{x}: %{y:.1f}" + ("%" if percent else "") + "<extra></extra>",
        )  # fmt: skip
    fig.update_layout(scattermode="group", scattergap=0.6)  # groups side by side, whiskers apart
    if low[shown].any():
        _note(
            fig, "空心点：筛查覆盖率不足，估计可能偏离实际 / hollow: low coverage, the estimate may be biased"
        )
    if percent:
        fig.update_yaxes(ticksuffix="%", rangemode="tozero")
    return fig


def band_share_bars(
    frame: pd.DataFrame, *, x: str, title: str | None = None, x_title: str | None = None
) -> go.Figure:
    """The share of each score band per group, side by side, each bar with its confidence interval.

    ``frame``: :func:`psychanalytics.screening.band_shares` of one instrument
    scale with ``instrument`` and ``scale`` columns added (or a leader view of
    it). Band names and colours come from the spec.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"wave": ["W1", "W1"], "instrument": "phq9", "scale": "total",
    ...                       "band": ["minimal", "severe"], "band_rank": [0, 4], "proportion": [0.9, 0.02],
    ...                       "low": [0.88, 0.01], "high": [0.92, 0.03]})
    >>> [(t.name, t.marker.color) for t in band_share_bars(frame, x="wave").data]
    [('无或极轻微', '#ffffb2'), ('重度', '#bd0026')]
    """
    _require(
        frame, [x, "instrument", "scale", "band", "band_rank", "proportion", "low", "high"], "band_share_bars"
    )
    fig = _figure(
        title or bilingual("风险等级占比（含95%置信区间）", "share of each band, with 95% intervals"),
        x_title or axis_title(x),
        bilingual("占比", "share"),
        empty=frame.empty,
    )
    if frame.empty:
        return fig
    instrument, scale = frame[["instrument", "scale"]].iloc[0]
    palette = band_colours(instrument, scale)
    shown = _shown(frame)
    for (rank, band), part in frame[shown].groupby(["band_rank", "band"], sort=True):
        value = part["proportion"].to_numpy(dtype=float) * 100
        fig.add_bar(
            x=[_tick(x, v) for v in part[x]], y=value,
            name=band_label(band, instrument=instrument, scale=scale),
            marker=dict(color=palette[int(rank)], line=dict(color="#666", width=0.6)),
            error_y=dict(
                type="data", symmetric=False, array=part["high"].to_numpy(dtype=float) * 100 - value,
                arrayminus=value - part["low"].to_numpy(dtype=float) * 100, color="#333", thickness=1.2,
            ),
            hovertemplate=f"{band_label(band, instrument=instrument, scale=scale)} "
            f"{band_label(band, instrument=instrument, scale=scale, english=True)}<br>%{{x}}: %{{y:.1f}}%<extra></extra>",
        )  # fmt: skip
    fig.update_layout(barmode="group", legend_font_size=12)
    fig.update_yaxes(ticksuffix="%", rangemode="tozero")
    return fig


def score_histogram(
    frame: pd.DataFrame, *, instrument: str, colour: str | None = None, title: str | None = None
) -> go.Figure:
    """Share of sheets at each raw score (one line of bars per group), with the screen-positive cut-off marked.

    ``frame``: :func:`psychanalytics.screening.score_distribution` (``raw``,
    ``proportion``; ``colour`` the group column).

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"raw": [0.0, 10.0], "proportion": [0.8, 0.2]})
    >>> fig = score_histogram(frame, instrument="phq9")
    >>> fig.data[0].y.tolist(), fig.layout.shapes[0].x0
    ([80.0, 20.0], 9.5)
    """
    _require(frame, ["raw", "proportion", *([colour] if colour else [])], "score_histogram")
    spec = instruments.get(instrument)
    fig = _figure(
        title or bilingual(f"{spec.abbreviation} 得分分布", f"{spec.abbreviation} score distribution"),
        bilingual("得分", "score"),
        bilingual("占比", "share"),
        empty=frame.empty,
    )
    groups = [None] if colour is None else list(dict.fromkeys(frame[colour]))
    shown = _shown(frame)
    lines = len(groups) > 2  # bars side by side for one or two groups; beyond that, lines stay readable
    for i, group in enumerate(groups):
        rows = shown & (np.ones(len(frame), bool) if group is None else (frame[colour] == group).to_numpy())
        part = frame[rows]
        style = dict(
            x=part["raw"], y=part["proportion"].to_numpy(dtype=float) * 100,
            name=group_name(colour, group) if colour else spec.abbreviation, showlegend=colour is not None,
            hovertemplate="%{x:g} 分: %{y:.1f}%<extra></extra>",
        )  # fmt: skip
        colour_i = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        if lines:
            fig.add_scatter(
                **style, mode="lines+markers", line=dict(color=colour_i, width=2), marker=dict(size=5)
            )
        else:
            fig.add_bar(**style, marker_color=colour_i)
    rule = spec.screen_positive
    if rule is not None and rule.scale is not None and rule.metric == "raw":
        band_sets = [b for b in spec.scale(rule.scale).bands if b.metric == "raw"]
        cut = min(b.lower for bs in band_sets for b in bs.bands if b.code == rule.band)
        half = 0.5 if spec.whole_scores(rule.scale) else 0.0
        fig.add_vline(x=cut - half, line=dict(color="#D55E00", dash="dash", width=2))
        fig.add_annotation(
            x=cut - half, y=1, yref="paper", xanchor="left", showarrow=False, font=dict(size=11, color="#D55E00"),
            text=f"筛查阳性界值 ≥{cut:g} / cut-off",
        )  # fmt: skip
    fig.update_layout(barmode="group", bargap=0.1)
    fig.update_xaxes(type="linear")
    fig.update_yaxes(ticksuffix="%", rangemode="tozero")
    return fig


def trend_lines(result: TrendResult, *, title: str | None = None) -> go.Figure:
    """Each group's estimate per wave as a line, its confidence interval as a shaded band.

    ``result``: :func:`psychanalytics.screening.trend`. Groups (stage ×
    gender) are named in Chinese; a rate is drawn in per cent.

    Examples
    --------
    >>> import pandas as pd
    >>> from psychanalytics.screening import TrendResult
    >>> waves = pd.DataFrame({"gender": ["F", "F"], "wave": ["W1", "W2"], "students": [300, 310],
    ...                       "schools": [20, 20], "estimate": [0.2, 0.18], "low": [0.17, 0.15], "high": [0.23, 0.21]})
    >>> fig = trend_lines(TrendResult(waves, pd.DataFrame(), "rate", "m"))
    >>> [t.name for t in fig.data]
    ['女生 95%区间', '女生']
    """
    waves = result.waves
    keys = [c for c in waves.columns if c not in ("wave", "students", "schools", "estimate", "low", "high")]
    rate = result.kind == "rate"
    scale = 100 if rate else 1
    what = ("筛查阳性率", "screen-positive rate") if rate else ("平均分", "mean score")
    fig = _figure(
        title
        or bilingual(f"{what[0]}变化趋势（含95%置信区间）", f"{what[1]} over waves, with 95% intervals"),
        bilingual("普测批次", "screening wave"),
        bilingual(f"{what[0]}（%）" if rate else what[0], what[1]),
        empty=waves.empty,
    )
    groups = waves.groupby(keys, sort=True) if keys else [((), waves)]
    for i, (key, part) in enumerate(groups):
        key = key if isinstance(key, tuple) else (key,)
        name = "".join(group_name(k, v) for k, v in zip(keys, key, strict=True)) or "全区"
        colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        x = [_tick("wave", w) for w in part["wave"]]
        fig.add_scatter(
            x=x + x[::-1], y=list(part["high"] * scale) + list(part["low"] * scale)[::-1], fill="toself", mode="lines",
            fillcolor=_transparent(colour), line=dict(width=0), name=f"{name} 95%区间", legendgroup=name,
            showlegend=False, hoverinfo="skip",
        )  # fmt: skip
        fig.add_scatter(
            x=x, y=part["estimate"] * scale, mode="lines+markers", name=name, legendgroup=name,
            line=dict(color=colour, width=2.5), marker=dict(size=8, color=colour),
            hovertemplate=f"{name} %{{x}}: %{{y:.1f}}{'%' if rate else ''}<extra></extra>",
        )  # fmt: skip
    if rate:
        fig.update_yaxes(ticksuffix="%", rangemode="tozero")
    return fig


def _transparent(colour: str, alpha: float = 0.18) -> str:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def transition_heatmap(
    transitions: pd.DataFrame, *, instrument: str, scale: str = "total", title: str | None = None
) -> go.Figure:
    """Band-to-band transitions between two waves: each row (band before) sums to 100 %.

    ``transitions``: :attr:`psychanalytics.screening.CohortResult.transitions`
    of one pair of waves (and one group), or a leader view of it (a blanked
    cell shows its ``marker``). Cells show the row share and the number of
    students; a single-hue blue scale (colour-blind safe, readable in
    greyscale).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"band_from": ["minimal", "minimal"], "band_rank_from": [0, 0], "band_to": ["minimal", "mild"],
    ...                   "band_rank_to": [0, 1], "count": [80, 20], "n": [100, 100], "proportion": [0.8, 0.2]})
    >>> fig = transition_heatmap(t, instrument="phq9")
    >>> fig.data[0].x, list(fig.data[0].text[0])
    (('无或极轻微', '轻度'), ['80%<br>80 人', '20%<br>20 人'])
    """
    _require(
        transitions,
        ["band_from", "band_rank_from", "band_to", "band_rank_to", "count", "proportion"],
        "transition_heatmap",
    )
    if (
        "wave_from" in transitions.columns
        and transitions[["wave_from", "wave_to"]].drop_duplicates().shape[0] > 1
    ):
        raise ValueError(
            "transition_heatmap: one pair of waves per figure; filter wave_from and wave_to first"
        )
    rows = transitions[["band_rank_from", "band_from"]].drop_duplicates().sort_values("band_rank_from")
    cols = transitions[["band_rank_to", "band_to"]].drop_duplicates().sort_values("band_rank_to")
    cells = transitions.assign(
        text=[
            f"{p:.0%}<br>{int(c):,} 人" if pd.notna(p) and pd.notna(c) else shown_text(c, m)
            for p, c, m in zip(
                transitions["proportion"], transitions["count"],
                transitions["marker"] if "marker" in transitions.columns else [""] * len(transitions), strict=True,
            )
        ]
    )  # fmt: skip
    table = cells.pivot(index="band_from", columns="band_to", values="proportion").astype(float)
    text = cells.pivot(index="band_from", columns="band_to", values="text")
    table = table.reindex(index=rows["band_from"], columns=cols["band_to"])
    text = text.reindex(index=rows["band_from"], columns=cols["band_to"]).fillna("")

    def name(band: str) -> str:
        return band_label(band, instrument=instrument, scale=scale)

    waves = ""
    if "wave_from" in transitions.columns and len(transitions):
        first = transitions.iloc[0]
        waves = f"：{group_name('wave', first['wave_from'])} → {group_name('wave', first['wave_to'])}"
    fig = _figure(
        title
        or bilingual(
            f"风险等级转移（同一批学生前后两次普测{waves}）", "band transitions of the same students"
        ),
        bilingual("后一次普测的等级", "band at the later wave"),
        bilingual("前一次普测的等级", "band at the earlier wave"),
        height=480,
        empty=transitions.empty,
    )
    fig.add_heatmap(
        z=table.to_numpy(dtype=float) * 100, x=[name(b) for b in table.columns], y=[name(b) for b in table.index],
        text=text.to_numpy(), texttemplate="%{text}", colorscale="Blues", zmin=0, zmax=100,
        colorbar=dict(title=dict(text="行占比 %"), ticksuffix="%"),
        hovertemplate="%{y} → %{x}: %{z:.1f}%<extra></extra>",
    )  # fmt: skip
    if "marker" in transitions.columns and transitions["marker"].fillna("").ne("").any():
        _note(
            fig,
            "标「<…」的格子人数过少不显示，标「*」的格子为防止推算一并隐藏 / cells marked “<…” rest on too few "
            "students, cells marked “*” are hidden so that those cannot be worked out",
        )
    fig.update_yaxes(autorange="reversed", type="category", title_standoff=16)
    fig.update_xaxes(type="category", side="bottom")
    fig.update_layout(margin=dict(l=150))  # room for the band names and the axis title beside them
    return fig


def action_bars(
    frame: pd.DataFrame, *, x: str = "wave", within_days: int | None = None, title: str | None = None
) -> go.Figure:
    """Screening → action: the share of flagged students that reached each follow-up step, per group.

    ``frame``: :func:`psychanalytics.screening.screening_action` (``step``,
    ``step_zh``, ``proportion``, ``low``, ``high``, ``count``, ``n``);
    ``within_days`` (the window the counts were made with) is stated in a footnote.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"wave": ["W1"] * 3, "step": ["raised", "confirmed", "referred"],
    ...                       "step_zh": ["建立危机个案", "完成访谈确认", "转介"], "step_en": ["a", "b", "c"],
    ...                       "count": [30, 20, 5], "n": [100] * 3, "proportion": [0.3, 0.2, 0.05],
    ...                       "low": [0.22, 0.13, 0.02], "high": [0.4, 0.29, 0.11]})
    >>> [t.name for t in action_bars(frame).data]
    ['建立危机个案', '完成访谈确认', '转介']
    """
    _require(frame, [x, "step", "step_zh", "count", "n", "proportion", "low", "high"], "action_bars")
    fig = _figure(
        title or bilingual("筛查阳性学生的后续跟进", "follow-up of screen-positive students"),
        axis_title(x),
        bilingual("占筛查阳性学生的比例", "share of students flagged"),
        empty=frame.empty,
    )
    shown = _shown(frame)
    for i, (_, part) in enumerate(frame[shown].groupby("step", sort=False)):
        value = part["proportion"].to_numpy(dtype=float) * 100
        fig.add_bar(
            x=[_tick(x, v) for v in part[x]], y=value, name=part["step_zh"].iloc[0],
            marker_color=SERIES_COLOURS[i], customdata=np.stack([part["count"], part["n"]], axis=1),
            error_y=dict(
                type="data", symmetric=False, array=part["high"].to_numpy(dtype=float) * 100 - value,
                arrayminus=value - part["low"].to_numpy(dtype=float) * 100, color="#333", thickness=1.2,
            ),
            hovertemplate="%{x}: %{y:.1f}%（%{customdata[0]} / %{customdata[1]} 人）<extra></extra>",
        )  # fmt: skip
    if within_days is not None:
        _note(
            fig,
            f"分母：该批次筛查阳性学生；只计普测开始至结束后 {within_days} 天内发生的跟进 / denominator: students "
            f"flagged; follow-up counted from the wave's first day to {within_days} days after its last",
        )
    fig.update_layout(barmode="group")
    fig.update_yaxes(ticksuffix="%", rangemode="tozero")
    return fig


def share_bars(
    frame: pd.DataFrame,
    *,
    x: str,
    title: str,
    y_title: str,
    unit: str,
    colour: str = SERIES_COLOURS[0],
    template: str = "{:.0f}%",
) -> go.Figure:
    """A share per group as bars, each labelled with the share and ``count/n`` and ``unit`` (人, 份).

    ``frame``: ``x``, ``count``, ``n``, ``proportion`` (a leader view: a
    blanked share leaves no bar and its label reads the row's ``marker``), for
    coverage (students screened of those enrolled) or invalid sheets (of the
    sheets handed in).

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"wave_label": ["2025年秋季普测"], "count": [2850], "n": [3000], "proportion": [0.95]})
    >>> fig = share_bars(frame, x="wave_label", title="t", y_title="y", unit="人")
    >>> fig.data[0].y, fig.data[0].text
    ((95.0,), ('95%<br>2,850/3,000人',))
    >>> hidden = frame.assign(count=pd.array([pd.NA], "Int64"), proportion=[float("nan")], marker=["<10"])
    >>> [a.text for a in share_bars(hidden, x="wave_label", title="t", y_title="y", unit="人").layout.annotations]
    ['<10']
    """
    _require(frame, [x, "count", "n", "proportion"], "share_bars")
    fig = _figure(title, axis_title(x) if x in AXIS_WORDS else bilingual("普测批次", "screening wave"), y_title,
                  empty=frame.empty)  # fmt: skip
    if frame.empty:
        return fig
    ticks, texts = [tick_label(v, width=8) for v in frame[x].astype(str)], _share_of_n(frame, unit, template)
    fig.add_bar(
        x=ticks, y=_values(frame["proportion"], scale=100),
        text=texts, textposition="outside", constraintext="none",
        marker_color=colour, hovertemplate="%{x}: %{text}<extra></extra>", cliponaxis=False, name=y_title,
    )  # fmt: skip
    for label, text, value in zip(ticks, texts, frame["proportion"], strict=True):
        if pd.isna(value):  # no bar: its marker (「<10」, 「*」) stands at the foot of where it would be
            fig.add_annotation(x=label, y=0, text=text, yanchor="bottom", showarrow=False, font=dict(size=13))
    top = float(np.nanmax(_values(frame["proportion"], scale=100) + [0.0]))
    fig.update_yaxes(ticksuffix="%", range=[0, max(top * 1.25, 1.0)])
    return fig
