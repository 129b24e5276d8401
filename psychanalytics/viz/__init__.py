"""Plotly figure builders: one theme, Chinese labels first, a colour-blind-safe risk palette.

Builders take the small frames of :mod:`psychanalytics.store.queries`, for
leaders after :func:`psychanalytics.privacy.leader_view` (its ``cells``), and
return a :class:`plotly.graph_objects.Figure`. They never compute a statistic:
they only place, label and colour the numbers they are given. A blanked value
is drawn as no bar and labelled with its row's ``marker`` (「<10」 or 「*」,
from the policy).

Band names, colours and score ranges come from the instrument specs
(:mod:`psychanalytics.instruments`), never from a table here. Labels read
Chinese first with the English in smaller grey type for researchers, e.g.
``人数 students``.

Examples
--------
>>> import pandas as pd
>>> from psychanalytics import viz
>>> frame = pd.DataFrame({"school_year": ["2024-2025"], "count": [9], "n": [12], "proportion": [0.75]})
>>> fig = viz.staffing_bars(frame)
>>> fig.data[0].y
(75.0,)
>>> viz.band_label("moderately_severe", instrument="phq9", scale="total")
'中重度'
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from psychanalytics import instruments
from psychanalytics.privacy import shown_text

__all__ = [
    "FONT_FAMILY",
    "archive_coverage_bars",
    "THEME",
    "band_bars",
    "band_colours",
    "band_label",
    "band_legend",
    "bilingual",
    "open_case_ageing",
    "risk_colours",
    "screened_bars",
    "stage_funnel",
    "stage_time_curves",
    "staffing_bars",
    "tick_label",
    "wan_ticks",
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


def bilingual(chinese: str, english: str) -> str:
    """A plotly label: Chinese, then English in smaller grey type.

    >>> bilingual("人数", "students")
    '人数 <span style="font-size:11px;color:#777">students</span>'
    """
    return f'{chinese} <span style="font-size:11px;color:#777">{english}</span>'


def band_label(band: str, *, instrument: str, scale: str, english: bool = False) -> str:
    """The name of a band of ``instrument``'s ``scale``, from its spec (Chinese, or English).

    Raises ``KeyError`` naming the scale's bands when the spec has no such band.

    >>> band_label("minimal", instrument="phq9", scale="total")
    '无或极轻微'
    >>> band_label("slightly_raised", instrument="sdq", scale="total", english=True)
    'Slightly raised'
    """
    named = instruments.get(instrument).scale(scale).band(band)
    return named.name_en if english else named.name_zh


def band_legend(
    instrument: str,
    scale: str,
    *,
    english: bool = False,
    informant: str | None = None,
    norm: str | None = None,
) -> str:
    """The bands of a scale with their score ranges, for a footnote or a report: ``0–4 无或极轻微、…``.

    >>> band_legend("gad7", "total")
    'GAD-7 风险等级：0–4 无或极轻微、5–9 轻度、10–14 中度、15–21 重度'
    >>> band_legend("gad7", "total", english=True)
    'GAD-7 bands: 0–4 Minimal, 5–9 Mild, 10–14 Moderate, 15–21 Severe'
    """
    spec = instruments.get(instrument)
    ranges = spec.band_ranges(scale, informant=informant, norm=norm)
    if english:
        return f"{spec.abbreviation} bands: " + ", ".join(f"{r.text} {r.band.name_en}" for r in ranges)
    return f"{spec.abbreviation} 风险等级：" + "、".join(f"{r.text} {r.band.name_zh}" for r in ranges)


def band_colours(instrument: str, scale: str) -> tuple[str, ...]:
    """One colour per ``band_rank`` of a scale (its longest band set), lowest risk first.

    The same band keeps its colour on every page, whichever bands a table holds.

    >>> len(band_colours("phq9", "total")), band_colours("cesd", "total")
    (5, ('#fecc5c', '#e31a1c'))
    """
    band_sets = instruments.get(instrument).scale(scale).bands
    if not band_sets:
        raise KeyError(f"{instrument}.{scale} has no bands")
    return risk_colours(max(len(bs.bands) for bs in band_sets))


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


def _texts(frame: pd.DataFrame, column: str, template: str = "{:,}", *, scale: float = 1) -> list[str]:
    """Each value of ``column`` formatted, or its row's ``marker`` (from the leader view) when blanked."""
    markers = frame["marker"] if "marker" in frame.columns else pd.Series("", index=frame.index)
    return [
        shown_text(v if pd.isna(v) else v * scale, m, template=template)
        for v, m in zip(frame[column], markers, strict=True)
    ]


def _share_of_n(frame: pd.DataFrame, unit: str, template: str) -> list[str]:
    """Bar labels ``75%<br>9/12校``: the share, then ``count/n`` and ``unit`` (the marker alone when blanked)."""
    return [
        f"{share}<br>{count}/{n}{unit}" if pd.notna(p) else share
        for share, count, n, p in zip(
            _texts(frame, "proportion", template, scale=100),
            _texts(frame, "count"),
            _texts(frame, "n"),
            frame["proportion"],
            strict=True,
        )
    ]


def _values(series: pd.Series, *, scale: float = 1) -> list[float]:
    """Bar heights: blanked values become ``nan`` (no bar)."""
    return (series.astype("Float64") * scale).to_numpy(dtype=float, na_value=float("nan")).tolist()


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


def wan_ticks(fig: go.Figure, top: float) -> None:
    """Counts on the y axis as a Chinese reader writes them: 5,000 · 1万 · 1.5万 (not 10k), up to ``top``.

    >>> fig = go.Figure()
    >>> wan_ticks(fig, 32000)
    >>> fig.layout.yaxis.ticktext
    ('0', '1万', '2万', '3万')
    """
    if not top or top < 10_000:
        fig.update_yaxes(tickformat=",d")
        return
    step = next(s for s in (5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 10**6) if top / s <= 6)
    values = list(range(0, int(top) + 1, step))
    fig.update_yaxes(tickvals=values, ticktext=["0" if v == 0 else f"{v / 10_000:g}万" for v in values])


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


def screened_bars(frame: pd.DataFrame) -> go.Figure:
    """Students screened per wave: bars labelled with the count and hovering the enrolment.

    ``frame``: columns ``wave_label, count`` (students screened) and ``n``
    (enrolled), as from :func:`~psychanalytics.store.queries.screened_per_wave`,
    one row per wave; ``marker`` when it is a leader view.

    >>> frame = pd.DataFrame({"wave_label": ["2024年秋季普测"], "count": [2850], "n": [3000]})
    >>> screened_bars(frame).data[0].text
    ('2,850',)
    """
    _require(frame, ["wave_label", "count", "n"], "screened_bars")
    fig = _figure(
        bilingual("各批次普测人数", "students screened per wave"),
        bilingual("普测批次", "screening wave"),
        bilingual("人数", "students"),
        empty=frame.empty,
    )
    fig.add_bar(
        x=[tick_label(v) for v in frame["wave_label"]],
        y=_values(frame["count"]),
        text=_texts(frame, "count"),
        textposition="outside",
        constraintext="none",
        customdata=_texts(frame, "n"),
        hovertemplate="%{x}<br>普测 %{text} 人 / 在册 %{customdata} 人<extra></extra>",
        marker_color="#0072B2",
        name="普测人数",
        cliponaxis=False,
    )
    wan_ticks(fig, frame["count"].max(skipna=True) if not frame.empty else 0)
    return fig


def band_bars(
    frame: pd.DataFrame,
    *,
    x: str = "wave_label",
    x_title: str | None = None,
    facet: str | None = None,
    title: str | None = None,
    at_least: str | None = None,
) -> go.Figure:
    """Stacked proportions of score bands (100 % per bar), lowest risk at the bottom.

    Band names (Chinese in the legend, both in the hover) and colours come from
    the spec of the frame's ``instrument`` and ``scale``; a band keeps its
    colour whichever bands the frame holds.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns ``instrument, scale, band, band_rank, count, n, proportion``
        plus ``x`` (and ``facet``) as from
        :func:`~psychanalytics.store.queries.band_distribution` (one instrument
        and scale); a blanked ``proportion`` leaves a gap and its label and
        hover read the row's ``marker``.
    x : str
        Column along the horizontal axis (``wave_label``; or e.g. ``grade``).
    x_title, title : str, optional
        Axis and figure titles (bilingual defaults).
    facet : str, optional
        Column splitting the figure into side-by-side panels (e.g. ``gender``).
    at_least : str, optional
        A band code: each bar is topped by the share at or above it (e.g.
        「中度及以上 13.3%」), so the thin high-risk segments need no hover; the
        sum of shown shares only, the marker when any of them is hidden.

    Examples
    --------
    >>> frame = pd.DataFrame({"wave_label": ["2024年秋季普测"] * 2, "instrument": "phq9", "scale": "total",
    ...                       "band": ["minimal", "severe"], "band_rank": [0, 4], "count": [950, 50],
    ...                       "n": [1000, 1000], "proportion": [0.95, 0.05]})
    >>> [(trace.name, trace.marker.color) for trace in band_bars(frame).data]
    [('无或极轻微', '#ffffb2'), ('重度', '#bd0026')]
    """
    required = [x, "instrument", "scale", "band", "band_rank", "count", "n", "proportion"]
    _require(frame, [*required, *([facet] if facet else [])], "band_bars")
    scales = frame[["instrument", "scale"]].drop_duplicates()
    if len(scales) > 1:
        raise ValueError(f"band_bars: one instrument scale per figure, got {scales.to_dict('records')}")
    bands = frame[["band", "band_rank"]].drop_duplicates().sort_values("band_rank")
    names, colours = {}, {}
    if not frame.empty:
        instrument, scale = scales.iloc[0]
        palette = band_colours(instrument, scale)
        for band, rank in bands.itertuples(index=False):
            names[band] = (
                band_label(band, instrument=instrument, scale=scale),
                band_label(band, instrument=instrument, scale=scale, english=True),
            )
            colours[band] = palette[rank]
    panels = [None] if facet is None else list(dict.fromkeys(frame[facet]))
    fig = _figure(
        title or bilingual("风险等级分布", "score-band distribution"),
        x_title or bilingual("普测批次", "screening wave"),
        bilingual("占比", "share"),
        empty=frame.empty,
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
    for band in bands["band"]:
        for i, panel in enumerate(panels):
            rows = frame[frame["band"] == band]
            if panel is not None:
                rows = rows[rows[facet] == panel]
            fig.add_bar(
                x=[tick_label(v) for v in rows[x].astype(str)],
                y=_values(rows["proportion"], scale=100),
                xaxis="x" if i == 0 else f"x{i + 1}",
                name=names[band][0],
                legendgroup=band,
                showlegend=i == 0,
                marker=dict(color=colours[band], line=dict(color="#666", width=0.6)),
                text=_texts(rows, "proportion", "{:.1f}%", scale=100),
                textposition="inside",
                insidetextanchor="middle",
                customdata=list(zip(_texts(rows, "count"), _texts(rows, "n"), strict=True)),
                hovertemplate=(
                    f"{names[band][0]} {names[band][1]}<br>"
                    "%{x}: %{text}（%{customdata[0]} / %{customdata[1]} 人）<extra></extra>"
                ),
            )
    # legend a little smaller than the theme's: five band names (无或极轻微 …) then fit one row at 1366 px
    fig.update_layout(barmode="stack", uniformtext=dict(minsize=10, mode="hide"), legend_font_size=12)
    fig.update_yaxes(
        range=[0, 122 if at_least and facet is None else 100],
        tickvals=[0, 20, 40, 60, 80, 100],
        ticktext=[f"{v}%" for v in (0, 20, 40, 60, 80, 100)],
    )
    if at_least and facet is None and not frame.empty:
        _label_at_least(fig, frame, x, at_least)
    return fig


def _label_at_least(fig: go.Figure, frame: pd.DataFrame, x: str, band: str) -> None:
    """Annotate each bar with the share at or above ``band``: a sum of shown shares, or the marker."""
    instrument, scale = frame[["instrument", "scale"]].iloc[0]
    rank = instruments.get(instrument).scale(scale).band_set().codes.index(band)
    name = band_label(band, instrument=instrument, scale=scale)
    for value, rows in frame[frame["band_rank"] >= rank].groupby(x, sort=False):
        hidden = rows["proportion"].isna()
        text = (
            rows.loc[hidden, "marker"].iloc[0] if hidden.any() else f"{rows['proportion'].sum() * 100:.1f}%"
        )
        fig.add_annotation(
            x=tick_label(value),
            y=100,
            yanchor="bottom",
            text=f"{name}及以上<br><b>{text}</b>",
            showarrow=False,
            font=dict(size=11),
        )


def staffing_bars(frame: pd.DataFrame, *, rooms: pd.DataFrame | None = None) -> go.Figure:
    """Share of schools with a full-time psychology teacher per school year, labelled ``count/n``.

    ``frame``: columns ``school_year, count`` (schools with one), ``n``
    (schools reporting) and ``proportion``, as from
    :func:`~psychanalytics.store.queries.staffing_coverage`. With ``rooms``
    (the same columns: schools whose counselling room meets the standard), a
    second bar per year beside it; the plan's target (every school) is the
    dashed line at 100 %.

    >>> frame = pd.DataFrame({"school_year": ["2024-2025"], "count": [9], "n": [12], "proportion": [0.75]})
    >>> staffing_bars(frame).data[0].text
    ('75%<br>9/12校',)
    """
    _require(frame, ["school_year", "count", "n", "proportion"], "staffing_bars")
    series = [(frame, "专职心理教师", "full-time psychology teacher", "#009E73")]
    if rooms is not None:
        _require(rooms, ["school_year", "count", "n", "proportion"], "staffing_bars")
        series.append((rooms, "心理辅导室达标", "standard counselling room", "#56B4E9"))
    title = (
        bilingual("专职心理教师配备率", "schools with a full-time psychology teacher")
        if rooms is None
        else bilingual("师资与心理辅导室", "schools with a teacher / a standard room")
    )
    fig = _figure(
        title, bilingual("学年", "school year"), bilingual("占比", "share of schools"), empty=frame.empty
    )
    for rows, name_zh, name_en, colour in series:
        fig.add_bar(
            x=rows["school_year"].tolist(),
            y=_values(rows["proportion"], scale=100),
            text=_share_of_n(rows, "校", "{:.0f}%"),
            textposition="outside",
            constraintext="none",
            marker_color=colour,
            hovertemplate=f"{name_zh} {name_en}<br>%{{x}}: %{{text}}<extra></extra>",
            name=name_zh,
            cliponaxis=False,
            showlegend=rooms is not None,
            textfont_size=11 if rooms is not None else None,
        )
    if rooms is not None:
        fig.add_hline(y=100, line_dash="dash", line_color="#aaa", line_width=1, layer="below")
        fig.update_layout(barmode="group", legend_font_size=12)
    fig.update_yaxes(
        range=[0, 118], tickvals=[0, 20, 40, 60, 80, 100], ticktext=[f"{v}%" for v in range(0, 101, 20)]
    )
    return fig


NOTEBOOK_RENDERER = "plotly_mimetype+notebook"
"""Live plotly output in JupyterLab plus plotly.js embedded once, so a notebook exported to HTML
(``jupyter nbconvert --to html``) still shows its charts, offline (no CDN)."""


def use_notebook_renderer() -> None:
    """Make :data:`NOTEBOOK_RENDERER` the default for figures a notebook displays."""
    pio.renderers.default = NOTEBOOK_RENDERER


# domain builders use the helpers above, so they are imported last
_LAZY = {
    "archive_coverage_bars": "crisis",
    "open_case_ageing": "crisis",
    "stage_funnel": "crisis",
    "stage_time_curves": "crisis",
    "compliance_matrix": "staffing",
    "gap_bars": "staffing",
    "hiring_projection": "staffing",
    "effect_forest": "outcomes",
    "prepost_slopes": "outcomes",
    "rci_scatter": "outcomes",
}
"""Figures of the domain modules, imported on first use: they bring statsmodels and scipy with them, which a
leader page that draws none of them should not pay for at every kernel start."""
_SUBMODULES = ("crisis", "outcomes", "screening", "staffing")

__all__ += [
    "compliance_matrix",
    "gap_bars",
    "hiring_projection",
    "effect_forest",
    "prepost_slopes",
    "rci_scatter",
]


def __getattr__(name: str):
    import importlib

    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
