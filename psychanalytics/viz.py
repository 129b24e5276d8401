"""Plotly figure builders: one theme, Chinese labels first, a colour-blind-safe risk palette.

Builders take the small frames of :mod:`psychanalytics.store.queries` (after
:func:`~psychanalytics.privacy.suppression.suppress_small_cells`) and return a
:class:`plotly.graph_objects.Figure`. They never compute a statistic: they
only place, label and colour the numbers they are given. A suppressed cell
(value missing) is drawn as no bar and labelled 「<10」 (``min_cell`` of the builder).

Labels read Chinese first with the English in smaller grey type for
researchers, e.g. ``人数 students``.

Examples
--------
>>> import pandas as pd
>>> from psychanalytics import viz
>>> frame = pd.DataFrame({"school_year": ["2024-2025"], "n": [9], "schools": [12], "share": [0.75],
...                       "suppressed": [False]})
>>> fig = viz.staffing_bars(frame)
>>> fig.data[0].y
(75.0,)
>>> viz.band_label("moderately_severe")
'中重度'
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

__all__ = [
    "BAND_LABELS",
    "FONT_FAMILY",
    "THEME",
    "band_bars",
    "band_label",
    "bilingual",
    "risk_colours",
    "screened_bars",
    "staffing_bars",
    "suppressed_text",
    "tick_label",
]

FONT_FAMILY = (
    '"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", sans-serif'
)
"""Chinese-capable fonts first (Debian's fonts-noto-cjk provides Noto Sans CJK SC)."""

THEME = go.layout.Template(
    layout=go.Layout(
        font=dict(family=FONT_FAMILY, size=14, color="#222"),
        # the title sits at the top edge so that a legend wrapping to two rows grows into the margin
        title=dict(font=dict(size=18), x=0, xanchor="left", y=0.985, yanchor="top", yref="container"),
        paper_bgcolor="white",
        plot_bgcolor="white",
        colorway=["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00"],
        xaxis=dict(showgrid=False, linecolor="#888", type="category", tickangle=0, tickfont=dict(size=12)),
        yaxis=dict(gridcolor="#e5e5e5", zerolinecolor="#888", rangemode="tozero"),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="left", x=0),
        margin=dict(l=60, r=20, t=100, b=60),
        hoverlabel=dict(font=dict(family=FONT_FAMILY)),
        separators=".,",
    )
)
"""The one theme of every figure (Okabe-Ito colourway for series that are not risk bands)."""

_RISK_PALETTES = {
    2: ("#fecc5c", "#e31a1c"),
    3: ("#ffeda0", "#feb24c", "#f03b20"),
    4: ("#ffffb2", "#fecc5c", "#fd8d3c", "#e31a1c"),
    5: ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"),
    6: ("#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026"),
}

BAND_LABELS = {
    "minimal": ("无", "minimal"),
    "mild": ("轻度", "mild"),
    "moderate": ("中度", "moderate"),
    "moderately_severe": ("中重度", "moderately severe"),
    "severe": ("重度", "severe"),
}
"""Chinese and English names of the score bands of PHQ-9/PHQ-A and GAD-7."""


def bilingual(chinese: str, english: str) -> str:
    """A plotly label: Chinese, then English in smaller grey type.

    >>> bilingual("人数", "students")
    '人数 <span style="font-size:11px;color:#777">students</span>'
    """
    return f'{chinese} <span style="font-size:11px;color:#777">{english}</span>'


def band_label(band: str, *, english: bool = False) -> str:
    """Display name of a band code (the code itself when it has no registered name).

    >>> band_label("minimal"), band_label("minimal", english=True)
    ('无', 'minimal')
    """
    names = BAND_LABELS.get(band, (band, band))
    return names[1] if english else names[0]


def risk_colours(n_bands: int) -> tuple[str, ...]:
    """Colours for ``n_bands`` ordered risk bands, lowest risk first.

    ColorBrewer 2.0 ``YlOrRd`` (Brewer, Pennsylvania State University), a
    sequential scheme ColorBrewer marks colour-blind safe: lightness falls
    monotonically with risk, so the order survives any colour-vision deficiency
    and greyscale printing.

    >>> risk_colours(4)
    ('#ffffb2', '#fecc5c', '#fd8d3c', '#e31a1c')
    """
    if n_bands not in _RISK_PALETTES:
        raise ValueError(f"risk_colours: {n_bands} bands; palettes exist for {sorted(_RISK_PALETTES)}")
    return _RISK_PALETTES[n_bands]


def suppressed_text(value: object, *, template: str = "{:,}", min_cell: int = 10) -> str:
    """Format a value for display, 「<min_cell」 when it was suppressed (missing).

    >>> suppressed_text(1234), suppressed_text(pd.NA), suppressed_text(0.1234, template="{:.1%}")
    ('1,234', '<10', '12.3%')
    """
    return f"<{min_cell}" if pd.isna(value) else template.format(value)


def tick_label(label: object, *, width: int = 6) -> str:
    """An axis label broken in two when longer than ``width`` characters, so ticks stay horizontal.

    >>> tick_label("2025年秋季普测"), tick_label("初一")
    ('2025年<br>秋季普测', '初一')
    """
    text = str(label)
    if len(text) <= width:
        return text
    middle = (len(text) + 1) // 2
    return f"{text[:middle]}<br>{text[middle:]}"


def _require(frame: pd.DataFrame, columns: Sequence[str], builder: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise KeyError(f"{builder}: frame lacks column(s) {missing}; it has {list(frame.columns)}")


def _figure(title: str, x_title: str, y_title: str, *, empty: bool, height: int = 380) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(template=THEME, title_text=title, height=height)
    fig.update_xaxes(title_text=x_title)
    fig.update_yaxes(title_text=y_title)
    if empty:
        fig.add_annotation(
            text=bilingual("暂无数据", "no data"),
            x=0.5,
            y=0.5,
            xref="paper",
            yref="paper",
            showarrow=False,
            font=dict(size=18),
        )
    return fig


def screened_bars(frame: pd.DataFrame, *, min_cell: int = 10) -> go.Figure:
    """Students screened per wave: bars labelled with the count and hovering the enrolment.

    ``frame``: columns ``wave_label, n, enrolled`` (as from
    :func:`~psychanalytics.store.queries.screened_per_wave`), one row per wave.

    >>> frame = pd.DataFrame({"wave_label": ["2024年秋季普测"], "n": [2850], "enrolled": [3000]})
    >>> screened_bars(frame).data[0].text
    ('2,850',)
    """
    _require(frame, ["wave_label", "n", "enrolled"], "screened_bars")
    fig = _figure(
        bilingual("各批次普测人数", "students screened per wave"),
        bilingual("普测批次", "screening wave"),
        bilingual("人数", "students"),
        empty=frame.empty,
    )
    fig.add_bar(
        x=[tick_label(v) for v in frame["wave_label"]],
        y=frame["n"].astype("Float64").fillna(float("nan")).tolist(),
        text=[suppressed_text(v, min_cell=min_cell) for v in frame["n"]],
        textposition="outside",
        constraintext="none",
        customdata=[suppressed_text(v, min_cell=min_cell) for v in frame["enrolled"]],
        hovertemplate="%{x}<br>普测 %{text} 人 / 在册 %{customdata} 人<extra></extra>",
        marker_color="#0072B2",
        name="普测人数",
        cliponaxis=False,
    )
    return fig


def band_bars(
    frame: pd.DataFrame,
    *,
    x: str = "wave_label",
    x_title: str | None = None,
    facet: str | None = None,
    title: str | None = None,
    min_cell: int = 10,
) -> go.Figure:
    """Stacked shares of score bands (100 % per bar), lowest risk at the bottom.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns ``band, band_rank, n, total, share`` plus ``x`` (and ``facet``)
        as from :func:`~psychanalytics.store.queries.band_distribution`; a
        missing ``share`` (suppressed) leaves a gap and its hover reads 「<10」.
    x : str
        Column along the horizontal axis (``wave_label``; or e.g. ``grade``).
    x_title, title : str, optional
        Axis and figure titles (bilingual defaults).
    facet : str, optional
        Column splitting the figure into side-by-side panels (e.g. ``gender``).
    min_cell : int
        Threshold the frame was suppressed at, for the 「<min_cell」 labels.

    Examples
    --------
    >>> frame = pd.DataFrame({"wave_label": ["2024年秋季普测"] * 2, "band": ["minimal", "severe"],
    ...                       "band_rank": [0, 4], "n": [950, 50], "total": [1000, 1000],
    ...                       "share": [0.95, 0.05]})
    >>> [trace.name for trace in band_bars(frame).data]
    ['无', '重度']
    """
    _require(frame, [x, "band", "band_rank", "n", "total", "share", *([facet] if facet else [])], "band_bars")
    bands = frame[["band", "band_rank"]].drop_duplicates().sort_values("band_rank")["band"].tolist()
    colours = dict(zip(bands, risk_colours(len(bands)) if bands else (), strict=True))
    panels = [None] if facet is None else list(dict.fromkeys(frame[facet]))
    fig = _figure(
        title or bilingual("风险等级分布", "score-band distribution"),
        x_title or bilingual("普测批次", "screening wave"),
        bilingual("占比", "share"),
        empty=frame.empty,
        height=420,
    )
    if facet is not None:
        domain = 1 / len(panels)
        axis_title = x_title or bilingual("普测批次", "screening wave")
        for i, panel in enumerate(panels):
            fig.layout["xaxis" if i == 0 else f"xaxis{i + 1}"] = dict(
                domain=[i * domain + 0.02, (i + 1) * domain - 0.02],
                anchor="y",
                type="category",
                title=dict(text=f"<b>{panel}</b> · {axis_title}"),
            )
    for band in bands:
        for i, panel in enumerate(panels):
            rows = frame[frame["band"] == band]
            if panel is not None:
                rows = rows[rows[facet] == panel]
            share = rows["share"].astype("Float64") * 100
            fig.add_bar(
                x=[tick_label(v) for v in rows[x].astype(str)],
                y=share.fillna(float("nan")).tolist(),
                xaxis="x" if i == 0 else f"x{i + 1}",
                name=band_label(band),
                legendgroup=band,
                showlegend=i == 0,
                marker=dict(color=colours[band], line=dict(color="#666", width=0.6)),
                text=[suppressed_text(v, template="{:.1f}%", min_cell=min_cell) for v in share],
                textposition="inside",
                insidetextanchor="middle",
                customdata=[
                    [suppressed_text(n, min_cell=min_cell), suppressed_text(t, min_cell=min_cell)]
                    for n, t in zip(rows["n"], rows["total"], strict=True)
                ],
                hovertemplate=(
                    f"{band_label(band)} {band_label(band, english=True)}<br>"
                    "%{x}: %{text}（%{customdata[0]} / %{customdata[1]} 人）<extra></extra>"
                ),
            )
    fig.update_layout(barmode="stack", uniformtext=dict(minsize=10, mode="hide"))
    fig.update_yaxes(range=[0, 100], ticksuffix="%")
    return fig


def staffing_bars(frame: pd.DataFrame, *, min_cell: int = 10) -> go.Figure:
    """Share of schools with a full-time psychology teacher per school year, labelled ``n/schools``.

    ``frame``: columns ``school_year, n, schools, share`` as from
    :func:`~psychanalytics.store.queries.staffing_coverage`.

    >>> frame = pd.DataFrame({"school_year": ["2024-2025"], "n": [9], "schools": [12], "share": [0.75]})
    >>> staffing_bars(frame).data[0].text
    ('75%<br>9/12校',)
    """
    _require(frame, ["school_year", "n", "schools", "share"], "staffing_bars")
    share = frame["share"].astype("Float64") * 100
    text = [
        f"<{min_cell}" if pd.isna(s) else f"{s:.0f}%<br>{n}/{k}校"
        for s, n, k in zip(share, frame["n"], frame["schools"], strict=True)
    ]
    fig = _figure(
        bilingual("专职心理教师配备率", "schools with a full-time psychology teacher"),
        bilingual("学年", "school year"),
        bilingual("占比", "share of schools"),
        empty=frame.empty,
    )
    fig.add_bar(
        x=frame["school_year"].tolist(),
        y=share.fillna(float("nan")).tolist(),
        text=text,
        textposition="outside",
        constraintext="none",
        marker_color="#009E73",
        hovertemplate="%{x}: %{text}<extra></extra>",
        name="配备率",
        cliponaxis=False,
    )
    fig.update_yaxes(range=[0, 105], ticksuffix="%")
    return fig


NOTEBOOK_RENDERER = "plotly_mimetype+notebook"
"""Live plotly output in JupyterLab plus plotly.js embedded once, so a notebook exported to HTML
(``jupyter nbconvert --to html``) still shows its charts, offline (no CDN)."""


def use_notebook_renderer() -> None:
    """Make :data:`NOTEBOOK_RENDERER` the default for figures a notebook displays."""
    pio.renderers.default = NOTEBOOK_RENDERER
