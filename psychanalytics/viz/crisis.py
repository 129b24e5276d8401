"""Figures of the crisis pathway and the classified archives: funnel, time to each stage, open cases, coverage.

Builders take the tables of :mod:`psychanalytics.crisis`, for leaders after
:func:`psychanalytics.privacy.leader_view` (its ``cells``), and draw only what
they are given: a blanked value is no bar (or no curve) and reads its row's
``marker``. Stage, source and archive names and the warning colours come from
``crisis/conventions.yaml`` (:mod:`psychanalytics.crisis`).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from psychanalytics import crisis
from psychanalytics.viz import THEME, _figure, _require, _share_of_n, _texts, _values, bilingual, tick_label

__all__ = [
    "archive_coverage_bars",
    "open_case_ageing",
    "open_case_bars",
    "stage_funnel",
    "stage_time_curves",
    "stage_time_medians",
]

_REACHED = "#56B4E9"
_STALLED = "#D55E00"
_WITHIN = ("#c6dbef", "#6baed6", "#2171b5")
_PAST = ("#fdae6b", "#e6550d", "#a63603")
_UNKNOWN = "#bdbdbd"
"""Waiting bands, shortest first: blues within the limit, oranges past it; grey for an unknown wait."""


_MEDIANS = ("median", "median_low", "median_high")


def _stage(code: str) -> str:
    return bilingual(crisis.name("stages", code), crisis.name("stages", code, english=True))


def _rows_shown(frame: pd.DataFrame) -> pd.Series:
    """Rows whose count and denominator are shown (not blanked by the leader view)."""
    shown = frame["count"].notna() & frame["n"].notna()
    return shown & ~frame["suppressed"].astype(bool) if "suppressed" in frame.columns else shown


def stage_funnel(
    funnel: pd.DataFrame, *, stalled: pd.DataFrame | None = None, limit_days: int = 30
) -> go.Figure:
    """The crisis-warning funnel: cases that reached each stage, with the share of the stage before it.

    Parameters
    ----------
    funnel : pandas.DataFrame
        One group's rows of :func:`psychanalytics.crisis.funnel`
        (``crisis_stage, from_stage, count, n, proportion``; ``marker`` when a leader view).
    stalled : pandas.DataFrame, optional
        ``position, count`` (``marker``): open cases at each stage without
        contact for more than ``limit_days`` (the past-limit rows of
        :func:`psychanalytics.crisis.open_cases` with ``ages=(limit_days,)``),
        drawn in red over the stage's bar: where warnings stall.
    limit_days : int
        The limit ``stalled`` was counted with (for its label).

    Examples
    --------
    >>> funnel = pd.DataFrame({"crisis_stage": ["raised", "confirmed"], "from_stage": ["raised", "raised"],
    ...                        "count": [120, 110], "n": [120, 120], "proportion": [1.0, 110 / 120]})
    >>> fig = stage_funnel(funnel, stalled=pd.DataFrame({"position": ["raised"], "count": [6]}))
    >>> fig.data[0].x, fig.data[1].x
    ((120.0, 110.0), (6.0, nan))
    """
    _require(funnel, ["crisis_stage", "from_stage", "count", "n", "proportion"], "stage_funnel")
    stages = [_stage(s) for s in funnel["crisis_stage"]]
    shares = _texts(funnel, "proportion", "{:.1%}")
    counts = _texts(funnel, "count")
    text = [
        f"{c} 例" if stage == base else f"{c} 例 · {share}（占{crisis.name('stages', base)}）"
        for c, share, stage, base in zip(
            counts, shares, funnel["crisis_stage"], funnel["from_stage"], strict=True
        )
    ]
    if stalled is not None:
        _require(stalled, ["position", "count"], "stage_funnel (stalled)")
        waiting = stalled.set_index("position").reindex(funnel["crisis_stage"])
        said = _texts(waiting, "count")
        text = [
            f'{t} · <span style="color:{_STALLED}">停滞 {k}</span>'
            if stage in stalled["position"].values
            else t
            for t, k, stage in zip(text, said, funnel["crisis_stage"], strict=True)
        ]
    fig = _figure(
        bilingual("危机预警各阶段个案数", "crisis warnings reaching each stage"),
        bilingual("个案数", "cases"),
        "",
        empty=funnel.empty,
        height=420,
    )
    fig.add_bar(
        y=stages,
        x=_values(funnel["count"]),
        orientation="h",
        text=text,
        textposition="outside",
        cliponaxis=False,
        marker_color=_REACHED,
        name=bilingual("到达此阶段", "reached the stage"),
        hovertemplate="%{y}<br>%{text}<extra></extra>",
    )
    if stalled is not None:
        fig.add_bar(
            y=stages,
            x=_values(waiting["count"]),
            orientation="h",
            width=0.4,
            marker_color=_STALLED,
            name=bilingual(
                f"停在此阶段、超过 {limit_days} 天未跟进", f"waiting here, no contact > {limit_days} days"
            ),
            customdata=said,
            hovertemplate=f"%{{y}}<br>停滞超过 {limit_days} 天：%{{customdata}} 例<extra></extra>",
        )
    fig.update_layout(barmode="overlay", margin=dict(l=230, r=290))
    fig.update_xaxes(type="linear", rangemode="tozero")
    fig.update_yaxes(autorange="reversed", type="category", gridcolor="rgba(0,0,0,0)")
    return fig


def _median_text(row, unit: str = "天") -> str:
    """``2.6 天（95% CI 2.2–3.0）``, ``未达到``, or the row's marker when blanked."""
    if pd.isna(row["median"]):
        return row.get("marker") or "未达到"
    upper = "上限未达到" if pd.isna(row["median_high"]) else f"{row['median_high']:.1f}"
    return f"{row['median']:.1f} {unit}（95% CI {row['median_low']:.1f}–{upper}）"


def _interval_title(rows: pd.DataFrame, group: str | None) -> str:
    first = rows.iloc[0]
    title = f"{crisis.name('stages', first['from_stage'])} → {crisis.name('stages', first['to_stage'])}"
    if group is None:
        return f"{title}<br>中位数 {_median_text(first)}"
    medians = "、".join(
        f"{_group_name(group, row[group])} {_median_text(row).split('（')[0]}" for _, row in rows.iterrows()
    )
    return f"{title}<br>中位数：{medians}"


def _group_colour(group: str | None, value, position: int) -> str:
    if group == "severity":
        return crisis.warning_scale().level(int(value)).line_colour
    return THEME.layout.colorway[position % len(THEME.layout.colorway)]


def _translucent(colour: str, alpha: float = 0.18) -> str:
    """``#rrggbb`` as an ``rgba`` with ``alpha``.

    >>> _translucent("#0072B2")
    'rgba(0, 114, 178, 0.18)'
    """
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r}, {g}, {b}, {alpha})"


def _group_name(group: str | None, value) -> str:
    if group == "severity":
        return crisis.warning_scale().label(int(value))
    if group == "source":
        return crisis.name("sources", value)
    return str(value)


def stage_time_curves(
    curves: pd.DataFrame, summary: pd.DataFrame, *, group: str | None = None, columns: int = 2
) -> go.Figure:
    """Share of cases that reached the next stage by each day after the last one (1 − Kaplan-Meier), per interval.

    One panel per interval (``from_stage → to_stage``) with its median and
    interval in the panel title; open cases are censored, so a curve that
    levels off below 100 % holds cases still waiting. Only curves whose
    ``summary`` row is shown are drawn (a blanked row keeps its panel, with its marker).

    Parameters
    ----------
    curves : pandas.DataFrame
        :attr:`psychanalytics.crisis.StageTimes.curves`.
    summary : pandas.DataFrame
        :attr:`~psychanalytics.crisis.StageTimes.summary`, for leaders its
        :func:`~psychanalytics.privacy.leader_view` cells (``estimates=("median",
        "median_low", "median_high")``).
    group : str, optional
        A grouping column of both (e.g. ``severity``: one curve per warning level).
    columns : int
        Panels per row.

    Examples
    --------
    >>> curves = pd.DataFrame({"from_stage": "raised", "to_stage": "confirmed", "time": [0.5, 2.0, 4.0],
    ...                        "at_risk": [5, 4, 3], "events": 1, "survival": [0.8, 0.6, 0.4],
    ...                        "low": [0.2, 0.13, 0.05], "high": [0.97, 0.89, 0.78]})
    >>> summary = pd.DataFrame({"from_stage": ["raised"], "to_stage": ["confirmed"], "count": [3], "n": [5],
    ...                         "median": [4.0], "median_low": [0.5], "median_high": [float("nan")]})
    >>> fig = stage_time_curves(curves, summary)
    >>> fig.data[-1].y[-1], fig.layout.annotations[0].text
    (60.0, '发现上报 → 评估确认<br>中位数 4.0 天（95% CI 0.5–上限未达到）')
    """
    keys = ["from_stage", "to_stage", *([group] if group else [])]
    _require(summary, [*keys, "count", "n", "median", "median_low", "median_high"], "stage_time_curves")
    _require(curves, [*keys, "time", "survival", "low", "high"], "stage_time_curves")
    if group == "severity":  # most severe first, in the legend and the titles
        summary = summary.sort_values(group, ascending=False, kind="stable")
    intervals = list(dict.fromkeys(zip(summary["from_stage"], summary["to_stage"], strict=True)))
    rows = max(1, -(-len(intervals) // columns))
    of = {
        key: summary[(summary["from_stage"] == key[0]) & (summary["to_stage"] == key[1])] for key in intervals
    }
    titles = [_interval_title(of[key], group) for key in intervals]
    fig = make_subplots(rows=rows, cols=columns, subplot_titles=titles or None, vertical_spacing=0.25)
    fig.update_layout(
        template=THEME,
        height=330 * rows + 120,
        margin=dict(t=150),
        legend=dict(y=1.12 if rows == 1 else 1.08),
        title_text=bilingual("从上一阶段到下一阶段所用天数", "days from one stage to the next"),
    )
    for i, key in enumerate(intervals):
        row, col = i // columns + 1, i % columns + 1
        shown = of[key][_rows_shown(of[key])]
        for k, line in enumerate(shown.itertuples(index=False)):
            value = getattr(line, group) if group else None
            picked = (curves["from_stage"] == key[0]) & (curves["to_stage"] == key[1])
            if group:
                picked &= curves[group] == value
            curve = curves[picked].sort_values("time")
            time = [0.0, *curve["time"]]
            colour = _group_colour(group, value, k) if group else "#0072B2"
            name = _group_name(group, value) if group else "全区"
            if group is None:  # the interval as a band between two steps; left out when curves overlap
                for bound, fill in ((curve["high"], None), (curve["low"].fillna(0), "tonexty")):
                    fig.add_scatter(x=time, y=[0.0, *((1 - bound) * 100)], mode="lines",
                                    line=dict(width=0, shape="hv"), fill=fill, fillcolor=_translucent(colour),
                                    hoverinfo="skip", showlegend=False, row=row, col=col)  # fmt: skip
            fig.add_scatter(
                x=time,
                y=[0.0, *((1 - curve["survival"]) * 100)],
                mode="lines",
                line=dict(color=colour, width=2.5, shape="hv"),
                name=name,
                legendgroup=name,
                showlegend=group is not None and i == 0,
                hovertemplate=f"{name}<br>第 %{{x:.1f}} 天：%{{y:.0f}}% 已到达<extra></extra>",
                row=row,
                col=col,
            )
        fig.add_hline(y=50, line=dict(color="#999", dash="dot", width=1), row=row, col=col)
        fig.update_xaxes(
            title_text=bilingual("天", "days"), type="linear", rangemode="tozero", row=row, col=col
        )
        fig.update_yaxes(range=[0, 100], ticksuffix="%", row=row, col=col)
    fig.update_yaxes(title_text=bilingual("已到达的个案", "cases reached"), col=1)
    fig.update_annotations(font_size=13)
    return fig


def _waiting_names(codes: Sequence[str]) -> dict[str, str]:
    names = {}
    for code in codes:
        if code == "unknown":
            names[code] = "时间不明"
        elif code.endswith("+"):
            names[code] = f"{code[:-1]} 天以上"
        else:
            names[code] = f"{code.replace('-', '–')} 天"
    return names


def open_case_ageing(cells: pd.DataFrame, *, limit_days: int = 30) -> go.Figure:
    """Open cases by the stage they wait at, stacked by days since their last contact (past the limit in orange).

    Parameters
    ----------
    cells : pandas.DataFrame
        One group's rows of :func:`psychanalytics.crisis.open_cases`
        (``position, waited, past_limit, count, n``; ``marker`` when a leader
        view). Closed cases are left out of the figure.
    limit_days : int
        The limit the table was made with (for the title).

    Examples
    --------
    >>> cells = pd.DataFrame({"position": ["closed", "raised", "raised"], "waited": ["", "0-30", "31+"],
    ...                       "past_limit": [False, False, True], "count": [50, 3, 4], "n": 57})
    >>> [trace.name for trace in open_case_ageing(cells).data]
    ['0–30 天', '31 天以上']
    """
    _require(cells, ["position", "waited", "past_limit", "count", "n"], "open_case_ageing")
    waiting = cells[cells["position"] != "closed"]
    bands = list(dict.fromkeys(waiting["waited"]))
    names = _waiting_names(bands)
    past = set(waiting.loc[waiting["past_limit"].astype(bool), "waited"])
    within = [b for b in bands if b not in past and b != "unknown"]
    palette = {b: _WITHIN[i % len(_WITHIN)] for i, b in enumerate(within)}
    palette |= {b: _PAST[i % len(_PAST)] for i, b in enumerate(b for b in bands if b in past)}
    palette["unknown"] = _UNKNOWN
    fig = _figure(
        bilingual(
            "未结案个案停在哪一阶段、多久未跟进", "open cases: where they wait, days since last contact"
        ),
        bilingual("所处阶段", "stage waiting at"),
        bilingual("个案数", "cases"),
        empty=waiting.empty,
        height=420,
    )
    stages = list(dict.fromkeys(waiting["position"]))
    for band in bands:
        rows = waiting[waiting["waited"] == band].set_index("position").reindex(stages).reset_index()
        fig.add_bar(
            x=[tick_label(crisis.name("stages", s)) for s in stages],
            y=_values(rows["count"]),
            name=names[band],
            marker=dict(color=palette[band], line=dict(color="#666", width=0.5)),
            text=_texts(rows, "count"),
            textposition="inside",
            hovertemplate=f"%{{x}}：{names[band]}未跟进 %{{text}} 例<extra></extra>",
        )
    hidden = (
        waiting[waiting["count"].isna() & waiting["marker"].astype(bool)]
        if "marker" in waiting
        else waiting[:0]
    )
    if len(hidden):  # blanked bands have no bar: say so above each stage's stack
        tops = waiting.groupby("position", sort=False)["count"].sum(min_count=0).reindex(stages).fillna(0)
        notes = hidden.groupby("position", sort=False).apply(
            lambda r: (
                f"各时段均 {r['marker'].iloc[0]}"
                if len(r) == len(bands) and r["marker"].nunique() == 1
                else "<br>".join(f"{names[w]} {m}" for w, m in zip(r["waited"], r["marker"], strict=True))
            ),
            include_groups=False,
        )
        fig.add_scatter(
            x=[tick_label(crisis.name("stages", s)) for s in notes.index],
            y=tops.reindex(notes.index).astype(float).tolist(),
            text=notes.tolist(),
            mode="text",
            textposition="top center",
            showlegend=False,
            hoverinfo="skip",
            cliponaxis=False,
        )
        lines = int(notes.str.count("<br>").max()) + 1
        fig.update_yaxes(range=[0, max(float(tops.max()), 1.0) * (1 + 0.12 * lines)])
    fig.update_layout(
        barmode="stack",
        legend=dict(traceorder="normal", title_text=f"距上次跟进（超过 {limit_days} 天为停滞）"),
    )
    fig.update_yaxes(rangemode="tozero")
    return fig


def archive_coverage_bars(cells: pd.DataFrame, *, x: str = "school_year") -> go.Figure:
    """Share of enrolled students with an archive record (每生一档), per school year or school.

    ``cells``: :func:`psychanalytics.crisis.archive_coverage` rows (``x,
    count, n, proportion``; ``marker`` when a leader view); a dashed line
    marks the plan's target of every student.

    >>> cells = pd.DataFrame({"school_year": ["2024-2025"], "count": [950], "n": [1000], "proportion": [0.95]})
    >>> archive_coverage_bars(cells).data[0].text
    ('95.0%<br>950/1,000人',)
    """
    _require(cells, [x, "count", "n", "proportion"], "archive_coverage_bars")
    text = _share_of_n(cells, "人", "{:.1f}%")
    fig = _figure(
        bilingual(
            "心理档案建档率（虚线：每生一档）", "students with an archive record (dashed: every student)"
        ),
        bilingual(
            "学年" if x == "school_year" else "学校", "school year" if x == "school_year" else "school"
        ),
        bilingual("占在籍学生", "share of enrolled students"),
        empty=cells.empty,
    )
    fig.add_bar(
        x=cells[x].astype(str).tolist()
        if x == "school_year"
        else [tick_label(v) for v in cells[x].astype(str)],
        y=_values(cells["proportion"], scale=100),
        text=text,
        textposition="inside",
        insidetextanchor="end",
        textfont=dict(color="white"),
        constraintext="none",
        cliponaxis=False,
        marker_color="#009E73",
        hovertemplate="%{x}: %{text}<extra></extra>",
        name="建档率",
    )
    blank = cells["proportion"].isna().to_numpy()
    if blank.any():  # no bar to hold the label: the marker stands on the axis
        fig.add_scatter(x=[t for t, b in zip(fig.data[0].x, blank, strict=True) if b], y=[0] * int(blank.sum()),
                        text=[t for t, b in zip(text, blank, strict=True) if b], mode="text",
                        textposition="top center", showlegend=False, hoverinfo="skip")  # fmt: skip
    fig.add_hline(y=100, line=dict(color="#888", dash="dash"))
    fig.update_yaxes(range=[0, 105], ticksuffix="%", dtick=20)
    return fig


def open_case_bars(cells: pd.DataFrame) -> go.Figure:
    """Open cases by the stage they wait at, each bar labelled with its count and the share of all cases.

    Parameters
    ----------
    cells : pandas.DataFrame
        ``position, count, n, proportion`` (``marker`` when a leader view): every
        case by where it is, ``closed`` or an open stage (the published
        ``crisis_open_by_stage``). Closed cases are left out of the figure.

    Examples
    --------
    >>> cells = pd.DataFrame({"position": ["closed", "raised", "confirmed"], "count": [40, 12, pd.NA],
    ...                       "n": [60, 60, 60], "proportion": [0.67, 0.2, None], "marker": ["", "", "<10"]})
    >>> fig = open_case_bars(cells)
    >>> fig.data[0].y, fig.data[0].text
    ((12.0, nan), ('12 例', '<10'))
    """
    _require(cells, ["position", "count", "n", "proportion"], "open_case_bars")
    waiting = cells[cells["position"] != "closed"]
    counts = _texts(waiting, "count")
    text = [c if pd.isna(v) else f"{c} 例" for c, v in zip(counts, waiting["count"], strict=True)]
    fig = _figure(
        bilingual("未结案个案停在哪一阶段", "open cases by the stage they wait at"),
        bilingual("所处阶段", "stage waiting at"),
        bilingual("个案数", "cases"),
        empty=waiting.empty,
        height=380,
    )
    fig.add_bar(
        x=[tick_label(crisis.name("stages", s)) for s in waiting["position"]],
        y=_values(waiting["count"]),
        text=text,
        textposition="outside",
        cliponaxis=False,
        marker_color=_STALLED,
        hovertemplate="%{x}：%{text}<extra></extra>",
        name=bilingual("未结案", "open"),
    )
    blank = waiting["count"].isna().to_numpy()
    if blank.any():  # no bar to hold the marker: it stands on the axis
        fig.add_scatter(x=[x for x, b in zip(fig.data[0].x, blank, strict=True) if b], y=[0] * int(blank.sum()),
                        text=[t for t, b in zip(text, blank, strict=True) if b], mode="text",
                        textposition="top center", showlegend=False, hoverinfo="skip")  # fmt: skip
    fig.update_yaxes(rangemode="tozero")
    fig.update_layout(showlegend=False, margin=dict(t=70))
    return fig


def _interval_name(start: str, end: str) -> str:
    return f"{crisis.name('stages', start)} → {crisis.name('stages', end)}"


def stage_time_medians(summary: pd.DataFrame) -> go.Figure:
    """Median days between stages with their intervals, one row per interval (days on a log scale).

    Parameters
    ----------
    summary : pandas.DataFrame
        One group's rows of :attr:`psychanalytics.crisis.StageTimes.summary`,
        for leaders its :func:`~psychanalytics.privacy.leader_view` cells
        (``estimates=("median", "median_low", "median_high")``): a blanked row
        has no point and reads its marker; a median not reached (fewer than
        half the cases reached the next stage) reads 「未达到」.

    Examples
    --------
    >>> summary = pd.DataFrame({"from_stage": ["raised", "raised"], "to_stage": ["confirmed", "closed"],
    ...                         "count": [80, 60], "n": [90, 85], "median": [2.5, 104.0],
    ...                         "median_low": [2.0, 90.0], "median_high": [3.1, float("nan")]})
    >>> fig = stage_time_medians(summary)
    >>> fig.data[0].x, fig.data[0].error_x.array
    ((2.5, 104.0), (0.6000000000000001, nan))
    """
    _require(summary, ["from_stage", "to_stage", "count", "n", *_MEDIANS], "stage_time_medians")
    names = [_interval_name(a, b) for a, b in zip(summary["from_stage"], summary["to_stage"], strict=True)]
    cases = _texts(summary, "n")
    labels = [
        f"{_median_text(row)}<br>{row_cases} 例中 {count} 例已到达"
        if pd.notna(row["n"]) and pd.notna(row["count"])
        else _median_text(row)
        for (_, row), row_cases, count in zip(
            summary.iterrows(), cases, _texts(summary, "count"), strict=True
        )
    ]
    fig = _figure(
        bilingual(
            "各阶段间用时中位数（天，横线为 95% 区间）", "median days between stages (bars: 95% interval)"
        ),
        bilingual("天（对数刻度）", "days (log scale)"),
        "",
        empty=summary.empty,
        height=120 + 70 * max(len(summary), 1),
    )
    median = _values(summary["median"])
    fig.add_scatter(
        x=median,
        y=names,
        mode="markers",
        marker=dict(size=12, color="#0072B2", symbol="diamond"),
        error_x=dict(
            type="data",
            symmetric=False,
            array=(summary["median_high"].astype(float) - summary["median"].astype(float)).tolist(),
            arrayminus=(summary["median"].astype(float) - summary["median_low"].astype(float)).tolist(),
            color="#0072B2",
            thickness=2,
        ),
        customdata=labels,
        hovertemplate="%{y}<br>%{customdata}<extra></extra>",
        showlegend=False,
    )
    fig.add_scatter(  # each interval's median in words at the right-hand edge
        x=[0.0] * len(names), y=names, xaxis="x2", mode="text", text=labels, textposition="middle right",
        showlegend=False, hoverinfo="skip", cliponaxis=False,
    )  # fmt: skip
    fig.update_layout(
        xaxis=dict(type="log", domain=[0, 0.62], tickvals=[1, 2, 5, 10, 20, 50, 100, 200], range=[-0.3, 2.5]),
        xaxis2=dict(domain=[0.64, 1.0], range=[0, 1], visible=False, anchor="y"),
        margin=dict(l=150, r=10),
    )
    fig.update_yaxes(autorange="reversed", type="category", gridcolor="rgba(0,0,0,0)")
    return fig
