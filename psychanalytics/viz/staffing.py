"""Figures for staffing, counselling rooms and the plan: gap bars, the hiring projection, the compliance matrix.

Builders only place and label what they are given (:mod:`psychanalytics.staffing`,
:mod:`psychanalytics.facilities` results); they compute nothing. Chinese first, English in grey.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from psychanalytics.viz import THEME, _figure, _require, bilingual

__all__ = ["compliance_matrix", "gap_bars", "hiring_projection"]

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
