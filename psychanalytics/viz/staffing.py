"""Figures for staffing, counselling rooms and the plan: gap bars, the hiring projection, the compliance matrix.

Builders only place and label what they are given (:mod:`psychanalytics.staffing`,
:mod:`psychanalytics.facilities` results); they compute nothing. Chinese first, English in grey.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from psychanalytics.viz import THEME, _figure, _require, _texts, _values, bilingual

__all__ = ["compliance_matrix", "gap_bars", "hiring_projection", "share_bars", "status_bars", "status_grid"]

_MET, _UNMET = "#CFE8DF", "#D55E00"


def gap_bars(district_gaps: pd.DataFrame, *, title: str | None = None, height: int = 420) -> go.Figure:
    """Teachers still needed in the district under each standard (one school year), with schools meeting it.

    Parameters
    ----------
    district_gaps : pandas.DataFrame
        Rows of :func:`psychanalytics.staffing.district_gaps` for one school year: ``standard, name_zh,
        count, n, teachers_needed`` (standards in the order to draw, top first).

    Examples
    --------
    >>> frame = pd.DataFrame({"standard": ["a", "b"], "name_zh": ["区计划", "1:1000"], "count": [7, 5],
    ...                       "n": [8, 8], "teachers_needed": [1.0, 4.0]})
    >>> fig = gap_bars(frame)
    >>> fig.data[0].y, fig.data[0].x  # the first standard is drawn on top
    (('1:1000', '区计划'), (4.0, 1.0))
    >>> fig.data[0].text
    ('缺 4 名｜达标 5/8 校', '缺 1 名｜达标 7/8 校')
    """
    _require(district_gaps, ["standard", "name_zh", "count", "n", "teachers_needed"], "gap_bars")
    frame = district_gaps.iloc[::-1]  # plotly draws the first category at the bottom
    fig = _figure(
        title or bilingual("各标准下尚缺心理教师人数", "teachers still needed under each standard"),
        bilingual("尚缺人数（FTE 标准按全职当量）", "teachers needed"),
        "",
        empty=frame.empty,
        height=height,
    )
    needed = frame["teachers_needed"].astype(float)
    text = [
        f"缺 {v:,.{0 if float(v).is_integer() else 1}f} 名｜达标 {c}/{n} 校"
        for v, c, n in zip(needed, frame["count"], frame["n"], strict=True)
    ]
    fig.add_bar(
        y=frame["name_zh"].tolist(),
        x=needed.tolist(),
        orientation="h",
        text=text,
        textposition="outside",
        cliponaxis=False,
        marker_color="#0072B2",
        hovertemplate="%{y}<br>%{text}<extra></extra>",
        name="尚缺",
    )
    fig.update_xaxes(
        type="linear", rangemode="tozero", range=[0, max(1.0, needed.max() if len(needed) else 1) * 1.45]
    )
    fig.update_yaxes(type="category", automargin=True, gridcolor="rgba(0,0,0,0)")
    fig.update_layout(margin=dict(l=20, r=30, t=70, b=60), showlegend=False)
    return fig


def hiring_projection(
    table: pd.DataFrame, *, deadline: str, title: str | None = None, ci: float = 0.8, height: int = 380
) -> go.Figure:
    """Teachers still needed by school year: observed, then projected at the current pace with its band.

    Parameters
    ----------
    table : pandas.DataFrame
        :attr:`psychanalytics.staffing.Projection.table`: ``school_year, kind, value, low, high``.
    deadline : str
        The standard's deadline school year, marked by a vertical line.
    ci : float
        Level of the band, for its legend.

    Examples
    --------
    >>> table = pd.DataFrame({"school_year": ["2023-2024", "2024-2025", "2025-2026"],
    ...     "kind": ["observed", "observed", "projected"], "value": [4.0, 3.0, 2.0],
    ...     "low": [4.0, 3.0, 1.0], "high": [4.0, 3.0, 3.0]})
    >>> [trace.name for trace in hiring_projection(table, deadline="2025-2026").data]
    ['预测区间 80%', '实际', '按当前进度预测']
    """
    _require(table, ["school_year", "kind", "value", "low", "high"], "hiring_projection")
    fig = _figure(
        title or bilingual("尚缺专职心理教师：实际与预测", "teachers still needed: observed and projected"),
        bilingual("学年", "school year"),
        bilingual("尚缺人数", "teachers needed"),
        empty=table.empty,
        height=height,
    )
    observed = table[table["kind"] == "observed"]
    ahead = pd.concat([observed.tail(1), table[table["kind"] == "projected"]])
    band = ahead.dropna(subset=["low", "high"])
    years = table["school_year"].tolist()
    fig.add_scatter(
        x=[*band["school_year"], *band["school_year"][::-1]],
        y=[*band["high"], *band["low"][::-1]],
        fill="toself",
        mode="lines",
        fillcolor="rgba(230,159,0,0.25)",
        line=dict(width=0),
        name=f"预测区间 {ci:.0%}",
        hoverinfo="skip",
    )
    fig.add_scatter(
        x=observed["school_year"].tolist(),
        y=observed["value"].tolist(),
        mode="lines+markers+text",
        text=[f"{v:,.0f}" for v in observed["value"]],
        textposition="top center",
        line=dict(color="#0072B2", width=3),
        name="实际",
    )
    fig.add_scatter(
        x=ahead["school_year"].tolist(),
        y=ahead["value"].tolist(),
        mode="lines+markers",
        line=dict(color="#E69F00", width=3, dash="dash"),
        name="按当前进度预测",
    )
    if deadline in years:
        fig.add_vline(x=years.index(deadline), line=dict(color="#D55E00", dash="dot", width=2))
        fig.add_annotation(
            x=deadline, y=1, yref="paper", text=f"期限 {deadline}", showarrow=False, yanchor="top",
            xanchor="left", xshift=4, font=dict(color="#D55E00", size=12), bgcolor="rgba(255,255,255,0.8)",
        )  # fmt: skip
    fig.update_xaxes(categoryorder="array", categoryarray=years)
    top = float(pd.concat([table["value"], table["high"]]).max()) if len(table) else 1.0
    fig.update_yaxes(range=[0, max(1.0, top) * 1.2])
    return fig


def compliance_matrix(
    compliance: pd.DataFrame, school_names: pd.Series | None = None, *, title: str | None = None
) -> go.Figure:
    """Schools × requirements of one school year: ✓ met, ✗ not met (colour and symbol, colour-blind safe).

    Cells are drawn as vector rectangles (not a heatmap image), so they stay sharp in print.

    Parameters
    ----------
    compliance : pandas.DataFrame
        Rows of :func:`psychanalytics.facilities.room_compliance` for one school year: ``school_id,
        requirement, name_zh, met``; rows and columns keep their order (schools by id: never ranked).
    school_names : pandas.Series, optional
        School names indexed by ``school_id`` for the row labels.

    Examples
    --------
    >>> frame = pd.DataFrame({"school_id": ["S1", "S1", "S2", "S2"], "requirement": ["room", "mailbox"] * 2,
    ...                       "name_zh": ["心理辅导室", "心理信箱"] * 2, "met": [True, False, True, True]})
    >>> fig = compliance_matrix(frame)
    >>> fig.data[0].text, [shape.fillcolor for shape in fig.layout.shapes][:2]
    (('✓', '✗', '✓', '✓'), ['#CFE8DF', '#D55E00'])
    """
    _require(compliance, ["school_id", "requirement", "name_zh", "met"], "compliance_matrix")
    columns = list(dict.fromkeys(compliance["requirement"]))
    names = dict(zip(compliance["requirement"], compliance["name_zh"], strict=False))
    schools = list(dict.fromkeys(compliance["school_id"]))
    grid = compliance.pivot(index="school_id", columns="requirement", values="met").reindex(
        index=schools, columns=columns
    )
    labels = [school_names.get(s, s) if school_names is not None else s for s in schools]
    longest = max((len(n) for n in names.values()), default=1)
    fig = go.Figure()
    fig.update_layout(
        template=THEME,
        height=60 + 16 * longest + 28 * len(schools),
        title_text=title or bilingual("心理辅导室达标情况", "counselling rooms against the guide"),
        margin=dict(l=10, r=10, t=50 + 16 * longest, b=10),
        showlegend=False,
    )
    xs, ys, marks, hover = [], [], [], []
    for row, school in enumerate(schools):
        for col, requirement in enumerate(columns):
            met = bool(grid.loc[school, requirement])
            fig.add_shape(
                type="rect", x0=col - 0.46, x1=col + 0.46, y0=row - 0.44, y1=row + 0.44,
                fillcolor=_MET if met else _UNMET, line=dict(width=0), layer="below",
            )  # fmt: skip
            xs.append(col)
            ys.append(row)
            marks.append("✓" if met else "✗")
            hover.append(f"{labels[row]}<br>{names[requirement]}")
    fig.add_scatter(
        x=xs, y=ys, mode="text", text=marks, textfont=dict(size=14),
        customdata=hover, hovertemplate="%{customdata}: %{text}<extra></extra>",
    )  # fmt: skip
    fig.update_xaxes(
        type="linear", side="top", tickmode="array", tickvals=list(range(len(columns))),
        ticktext=["<br>".join(names[c]) for c in columns],  # Chinese names stacked one character a line
        range=[-0.55, len(columns) - 0.45], showline=False, showgrid=False, zeroline=False, tickfont=dict(size=11),
    )  # fmt: skip
    fig.update_yaxes(
        type="linear", tickmode="array", tickvals=list(range(len(schools))), ticktext=labels,
        range=[len(schools) - 0.5, -0.5], showgrid=False, zeroline=False, automargin=True, tickfont=dict(size=11),
    )  # fmt: skip
    return fig


def share_bars(
    frame: pd.DataFrame, *, title: str, label: str = "name_zh", unit: str = "校", height: int | None = None
) -> go.Figure:
    """Share of each row's ``n`` that ``count`` makes (a requirement met, lessons given), one bar a row.

    Bars are labelled 「75%｜6/8 校」 (the row's ``unit_zh`` when the frame has one, else ``unit``); a
    blanked value shows its row's ``marker``. Rows keep their order, the first on top: never ranked.

    Parameters
    ----------
    frame : pandas.DataFrame
        ``label`` (the bar's name), ``count``, ``n``, ``proportion``; optional ``unit_zh``, ``marker``.
    title : str
        The figure's title (see :func:`psychanalytics.viz.bilingual`).

    Examples
    --------
    >>> frame = pd.DataFrame({"name_zh": ["心理辅导室", "心理信箱"], "count": [8, 6], "n": [8, 8],
    ...                       "proportion": [1.0, 0.75]})
    >>> fig = share_bars(frame, title="辅导室")
    >>> fig.data[0].y, fig.data[0].x, fig.data[0].text
    (('心理信箱', '心理辅导室'), (75.0, 100.0), ('75%｜6/8 校', '100%｜8/8 校'))
    """
    _require(frame, [label, "count", "n", "proportion"], "share_bars")
    rows = frame.iloc[::-1]  # plotly draws the first category at the bottom
    units = rows["unit_zh"] if "unit_zh" in rows.columns else pd.Series(unit, index=rows.index)
    shares, counts, totals = (_texts(rows, c, t, scale=s) for c, t, s in
                              (("proportion", "{:.0f}%", 100), ("count", "{:,}", 1), ("n", "{:,}", 1)))  # fmt: skip
    text = [f"{p}｜{c}/{n} {u}" for p, c, n, u in zip(shares, counts, totals, units, strict=True)]
    fig = _figure(
        title, bilingual("占比", "share"), "", empty=rows.empty, height=height or 90 + 34 * max(3, len(rows))
    )
    fig.add_bar(
        y=rows[label].tolist(), x=_values(rows["proportion"], scale=100), orientation="h", text=text,
        textposition="outside", cliponaxis=False, marker_color="#009E73", name="占比",
        hovertemplate="%{y}<br>%{text}<extra></extra>",
    )  # fmt: skip
    fig.update_xaxes(type="linear", range=[0, 160], tickvals=[0, 25, 50, 75, 100], ticksuffix="%")
    fig.update_yaxes(type="category", automargin=True, gridcolor="rgba(0,0,0,0)")
    fig.update_layout(margin=dict(l=20, r=20, t=60, b=50), showlegend=False)
    return fig


def status_bars(
    frame: pd.DataFrame, styles: dict, *, title: str, key: str, label: str = "name_zh", unit: str = "校"
) -> go.Figure:
    """Schools per status of each ``key`` (a target, a check): one stacked bar per key, a segment per status.

    Each segment is labelled with the status's symbol and its count (「✓ 6」), and the legend names each
    status in words, so the colour is never the only cue (Okabe-Ito colours from ``styles``).

    Parameters
    ----------
    frame : pandas.DataFrame
        ``key``, ``label``, ``status``, ``count`` (and ``n``): one row per key and status.
    styles : dict
        ``status -> (Chinese, English, symbol, colour)`` in stacking order, e.g.
        :data:`psychanalytics.plan.STATUS_LABELS`.

    Examples
    --------
    >>> frame = pd.DataFrame({"target": ["t"] * 2, "name_zh": ["课程"] * 2, "status": ["met", "missed"],
    ...                       "count": [6, 2], "n": [8, 8]})
    >>> styles = {"met": ("已达成", "met", "✓", "#009E73"), "missed": ("未达成", "missed", "✗", "#D55E00")}
    >>> fig = status_bars(frame, styles, title="分校目标", key="target")
    >>> [(t.name, t.x, t.text) for t in fig.data]
    [('✓ 已达成', (6.0,), ('✓ 6',)), ('✗ 未达成', (2.0,), ('✗ 2',))]
    """
    _require(frame, [key, label, "status", "count"], "status_bars")
    keys = list(dict.fromkeys(frame[key]))[::-1]  # the first key on top
    names = dict(zip(frame[key], frame[label], strict=False))
    fig = _figure(title, bilingual(f"学校数（{unit}）", "schools"), "", empty=frame.empty,
                  height=110 + 36 * max(3, len(keys)))  # fmt: skip
    for status, (zh, _en, symbol, colour) in styles.items():
        rows = frame[frame["status"] == status].set_index(key).reindex(keys)
        if rows["count"].fillna(0).eq(0).all():
            continue
        counts = _values(rows["count"])
        fig.add_bar(
            y=[names[k] for k in keys], x=counts, orientation="h", name=f"{symbol} {zh}", marker_color=colour,
            text=["" if not c else f"{symbol} {c:.0f}" for c in counts], textposition="inside",
            insidetextanchor="middle", hovertemplate=f"%{{y}}<br>{zh}：%{{x}} {unit}<extra></extra>",
        )  # fmt: skip
    fig.update_layout(
        barmode="stack", margin=dict(l=20, r=20, t=100, b=50), legend=dict(y=1.0, traceorder="normal")
    )
    fig.update_xaxes(type="linear", rangemode="tozero", dtick=1 if frame["n"].max() <= 12 else None)
    fig.update_yaxes(type="category", automargin=True, gridcolor="rgba(0,0,0,0)")
    return fig


def status_grid(frame: pd.DataFrame, styles: dict, *, title: str) -> go.Figure:
    """Targets × school years: each cell coloured by status and labelled with its symbol and word.

    Parameters
    ----------
    frame : pandas.DataFrame
        ``target, name_zh, school_year, status`` (one row per target and year; targets in plan order).
    styles : dict
        ``status -> (Chinese, English, symbol, colour)`` (:data:`psychanalytics.plan.STATUS_LABELS`).

    Examples
    --------
    >>> frame = pd.DataFrame({"target": ["a", "a"], "name_zh": ["专职教师"] * 2,
    ...                       "school_year": ["2023-2024", "2024-2025"], "status": ["at_risk", "met"]})
    >>> styles = {"met": ("已达成", "met", "✓", "#009E73"), "at_risk": ("存在风险", "at risk", "!", "#E69F00")}
    >>> status_grid(frame, styles, title="历年").data[0].text
    ('! 存在风险', '✓ 已达成')
    """
    _require(frame, ["target", "name_zh", "school_year", "status"], "status_grid")
    targets = list(dict.fromkeys(frame["target"]))
    years = sorted(set(frame["school_year"]))
    names = dict(zip(frame["target"], frame["name_zh"], strict=False))
    fig = go.Figure()
    fig.update_layout(template=THEME, title_text=title, height=110 + 34 * max(3, len(targets)),
                      margin=dict(l=10, r=10, t=80, b=10), showlegend=False)  # fmt: skip
    xs, ys, marks = [], [], []
    for _, row in frame.iterrows():
        col, line = years.index(row["school_year"]), targets.index(row["target"])
        zh, _en, symbol, colour = styles[row["status"]]
        fig.add_shape(
            type="rect", x0=col - 0.47, x1=col + 0.47, y0=line - 0.42, y1=line + 0.42, fillcolor=colour,
            opacity=0.35, line=dict(width=1, color=colour), layer="below",
        )  # fmt: skip
        xs.append(col)
        ys.append(line)
        marks.append(f"{symbol} {zh}")
    fig.add_scatter(x=xs, y=ys, mode="text", text=marks, textfont=dict(size=13), hoverinfo="skip")
    fig.update_xaxes(
        type="linear", side="top", tickmode="array", tickvals=list(range(len(years))), ticktext=years,
        range=[-0.55, len(years) - 0.45], showline=False, showgrid=False, zeroline=False,
    )  # fmt: skip
    fig.update_yaxes(
        type="linear", tickmode="array", tickvals=list(range(len(targets))),
        ticktext=[names[t] for t in targets], range=[len(targets) - 0.5, -0.5], showgrid=False, zeroline=False,
        automargin=True, tickfont=dict(size=12),
    )  # fmt: skip
    if frame.empty:
        fig.add_annotation(text=bilingual("暂无数据", "no data"), x=0.5, y=0.5, xref="paper", yref="paper",
                           showarrow=False, font=dict(size=18))  # fmt: skip
    return fig
