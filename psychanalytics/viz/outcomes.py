"""Figures of intervention outcomes: pre/post slopes, the reliable change scatter, a forest plot of effects.

The builders draw what :func:`psychanalytics.outcomes.intervention_report` computed (its ``table`` and
``students``); they compute nothing. Instrument and scale names come from the instrument specs, the
reliable change categories' names from :data:`psychanalytics.outcomes.CATEGORY_LABELS`. These are research
figures: they show students' scores (as points, never with a name or a pseudonym) and groups of 10-15,
which a page for leaders would not.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from psychanalytics import instruments
from psychanalytics.outcomes import CATEGORY_LABELS
from psychanalytics.viz import THEME, bilingual

ARM_COLOURS = {"treatment": "#0072B2", "comparison": "#E69F00"}
ARM_LABELS = {"treatment": ("干预组", "treatment"), "comparison": ("对照组", "comparison")}
CATEGORY_COLOURS = {
    "recovered": "#0072B2",
    "improved": "#009E73",
    "unchanged": "#AAAAAA",
    "deteriorated": "#E69F00",
    "harmed": "#D55E00",
}
"""Okabe-Ito colours: better changes blue-green, worse orange-red, no reliable change grey."""
KIND_LABELS = {
    "group_counselling": ("团体心理辅导", "group counselling"),
    "curriculum": ("心理健康课程", "curriculum"),
    "individual_counselling": ("个别辅导", "individual counselling"),
    "parent_class": ("家长课堂", "parent class"),
}
"""Display names of the intervention kinds the importer knows (``ingest``: 干预类型)."""
_NO_DATA = bilingual("暂无数据", "no data")


def _require(frame: pd.DataFrame, columns, builder: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise KeyError(f"{builder}: frame lacks column(s) {missing}; it has {list(frame.columns)}")


def _one_scale(frame: pd.DataFrame, builder: str) -> tuple[str, str]:
    scales = frame[["instrument", "scale"]].drop_duplicates()
    if len(scales) != 1:
        raise ValueError(f"{builder}: one instrument scale per figure, got {scales.to_dict('records')}")
    return tuple(scales.iloc[0])


def score_title(instrument: str, scale: str, *, better: str = "lower") -> str:
    """An axis title naming the scale from its spec and which way is better.

    >>> score_title("phq9", "total")
    'PHQ-9 抑郁总分（越低越好）<br><span style="font-size:11px;color:#777">total score, lower is better</span>'
    """
    spec = instruments.get(instrument)
    named = spec.scale(scale)
    word = "低" if better == "lower" else "高"
    chinese, english = (
        f"{spec.abbreviation} {named.name_zh}（越{word}越好）",
        f"{named.name_en.lower()}, {better} is better",
    )
    return bilingual(chinese, english).replace(
        " <span", "<br><span", 1
    )  # two lines: a long title fits an axis


def _by_category(students: pd.DataFrame):
    """``(category, rows)`` in the order of :data:`~psychanalytics.outcomes.CATEGORY_LABELS` (best first)."""
    for category in CATEGORY_LABELS:
        rows = students[students["category"].astype(str) == category]
        if len(rows):
            yield category, rows


def _faded(colour: str, alpha: float) -> str:
    """``#RRGGBB`` as ``rgba(…, alpha)``."""
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"


def _empty(fig: go.Figure) -> go.Figure:
    fig.add_annotation(text=_NO_DATA, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False, font_size=18)
    return fig


def prepost_slopes(
    students: pd.DataFrame, means: pd.Series, *, better: str = "lower", title: str | None = None
) -> go.Figure:
    """Each student's pre and post score joined by a line, coloured by reliable change; the arm means bold.

    Parameters
    ----------
    students : pandas.DataFrame
        One intervention's (or programme's) completers, as ``report.students``:
        ``arm, pre, post, category``, with ``instrument`` and ``scale`` (one of each).
    means : pandas.Series
        Its row of ``report.table``: ``pre_mean_treatment, post_mean_treatment,
        pre_mean_comparison, post_mean_comparison, n_treatment, n_comparison``.
    better : {"lower", "higher"}
        Which way the scale is better (named on the axis).
    title : str, optional
        Figure title (a bilingual default).

    Examples
    --------
    >>> students = pd.DataFrame({"arm": ["treatment", "comparison"], "pre": [12.0, 11.0], "post": [6.0, 10.0],
    ...                          "category": ["improved", "unchanged"], "instrument": "phq9", "scale": "total"})
    >>> means = pd.Series({"pre_mean_treatment": 12.0, "post_mean_treatment": 6.0, "pre_mean_comparison": 11.0,
    ...                    "post_mean_comparison": 10.0, "n_treatment": 1, "n_comparison": 1})
    >>> fig = prepost_slopes(students, means)
    >>> [trace.name for trace in fig.data if trace.showlegend is not False]
    ['可靠改善 reliably improved', '干预组均值 mean', '无可靠变化 no reliable change', '对照组均值 mean']
    """
    _require(students, ["arm", "pre", "post", "category", "instrument", "scale"], "prepost_slopes")
    fig = go.Figure()
    fig.update_layout(
        template=THEME, height=460, title_text=title or bilingual("前后测变化", "pre and post scores")
    )
    if students.empty:
        return _empty(fig)
    instrument, scale = _one_scale(students, "prepost_slopes")
    x_labels = ["前测 pre", "后测 post"]
    panels = [arm for arm in ARM_LABELS if (students["arm"] == arm).any()]
    width = 1 / len(panels)
    shown = set()
    many = len(students) > 400  # a curriculum's thousands of lines would hide the means: faint lines
    for i, arm in enumerate(panels):
        axis = "x" if i == 0 else f"x{i + 1}"
        zh, en = ARM_LABELS[arm]
        fig.layout["xaxis" if i == 0 else f"xaxis{i + 1}"] = dict(
            domain=[i * width + 0.03, (i + 1) * width - 0.03],
            anchor="y",
            type="category",
            title=dict(text=f"<b>{zh}</b> {en}（n = {int(means[f'n_{arm}'])}）"),
        )
        own = students[students["arm"] == arm]
        for category, rows in _by_category(own):
            xs, ys = [], []
            for pre, post in zip(rows["pre"], rows["post"], strict=True):
                xs += [*x_labels, None]
                ys += [pre, post, None]
            colour = CATEGORY_COLOURS[category]
            fig.add_scatter(
                x=xs,
                y=ys,
                xaxis=axis,
                mode="lines" if many else "lines+markers",
                line=dict(color=_faded(colour, 0.12 if many else 0.75), width=0.8 if many else 1.4),
                marker=dict(size=5, color=colour),
                name=CATEGORY_LABELS[category][0],
                legendgroup=category,
                showlegend=False,
                hoverinfo="skip",
            )
            if category not in shown:  # a legend entry in full colour, however faint the lines
                fig.add_scatter(
                    x=[None],
                    y=[None],
                    mode="lines",
                    line=dict(color=colour, width=3),
                    name=f"{CATEGORY_LABELS[category][0]} {CATEGORY_LABELS[category][1]}",
                    legendgroup=category,
                    legendrank=list(CATEGORY_LABELS).index(category),
                )
            shown.add(category)
        fig.add_scatter(
            x=x_labels,
            y=[means[f"pre_mean_{arm}"], means[f"post_mean_{arm}"]],
            xaxis=axis,
            mode="lines+markers+text",
            line=dict(color="#111", width=4),
            marker=dict(size=10, color=ARM_COLOURS[arm], line=dict(color="#111", width=2)),
            text=[f"{means[f'pre_mean_{arm}']:.1f}", f"{means[f'post_mean_{arm}']:.1f}"],
            textposition="top center",
            textfont=dict(size=14, color="#111"),
            name=f"{zh}均值 mean",
            legendrank=10 + i,
            hovertemplate=f"{zh}均值 {en} mean<br>%{{x}}: %{{y:.2f}}<extra></extra>",
        )
    fig.update_xaxes(range=[-0.25, 1.25])
    fig.update_yaxes(title_text=score_title(instrument, scale, better=better), rangemode="normal")
    fig.update_layout(margin=dict(l=90))
    return fig


def rci_scatter(
    students: pd.DataFrame,
    *,
    rci_points: float,
    cutoff: float | None = None,
    better: str = "lower",
    title: str | None = None,
) -> go.Figure:
    """Post against pre score per student, with the Jacobson-Truax band of no reliable change.

    Points on the diagonal did not change; between the two dashed lines
    (``post = pre ± rci_points``) a change is within measurement error; below
    the band (when lower is better) a student improved reliably, above it
    deteriorated. With a clinical ``cutoff`` its vertical and horizontal lines
    mark the clinical and functional ranges (recovered: from the clinical side
    to the functional one). Treatment students are filled circles, comparison
    students open ones; colours are the categories.

    Parameters
    ----------
    students : pandas.DataFrame
        ``arm, pre, post, category, instrument, scale`` (one instrument scale),
        as ``report.students``.
    rci_points : float
        ``1.96 × S_diff``: the table's ``rci_points`` (one value: one pre-test wave).
    cutoff : float, optional
        The clinical cutoff the report used.

    Examples
    --------
    >>> students = pd.DataFrame({"arm": ["treatment", "comparison"], "pre": [12.0, 11.0], "post": [5.0, 10.0],
    ...                          "category": ["improved", "unchanged"], "instrument": "phq9", "scale": "total"})
    >>> fig = rci_scatter(students, rci_points=4.9)
    >>> [shape.line.dash for shape in fig.layout.shapes]
    ['solid', 'dash', 'dash']
    """
    _require(students, ["arm", "pre", "post", "category", "instrument", "scale"], "rci_scatter")
    fig = go.Figure()
    fig.update_layout(
        template=THEME,
        height=640,
        width=820,
        title_text=title or bilingual("可靠变化指数（Jacobson-Truax）", "reliable change"),
    )
    if students.empty:
        return _empty(fig)
    instrument, scale = _one_scale(students, "rci_scatter")
    low, high = instruments.get(instrument).scale(scale).range
    fig.add_shape(
        type="line", x0=low, y0=low, x1=high, y1=high, line=dict(color="#555", width=1, dash="solid")
    )
    for offset in (-rci_points, rci_points):
        fig.add_shape(
            type="line",
            x0=low,
            y0=low + offset,
            x1=high,
            y1=high + offset,
            line=dict(color="#555", width=1.2, dash="dash"),
        )
    span = high - low
    improved, worse = ("可靠改善 ↘<br>reliably improved", "↖ 可靠恶化<br>reliably deteriorated")
    if better == "higher":
        improved, worse = (
            worse.replace("恶化", "改善").replace("deteriorated", "improved"),
            improved.replace("改善", "恶化").replace("improved", "deteriorated"),
        )
    for (x, y), text in (
        ((high - 0.12 * span, low + 0.08 * span), improved),
        ((low + 0.14 * span, high - 0.08 * span), worse),
    ):
        fig.add_annotation(x=x, y=y, text=text, showarrow=False, font=dict(size=12, color="#444"))
    if cutoff is not None:
        for kind in ("x", "y"):
            fig.add_shape(
                type="line",
                **{f"{kind}0": cutoff, f"{kind}1": cutoff},
                **{f"{'y' if kind == 'x' else 'x'}{end}": value for end, value in ((0, low), (1, high))},
                line=dict(color="#CC79A7", width=1.2, dash="dot"),
            )
    for arm in ARM_LABELS:
        own = students[students["arm"] == arm]
        for category, rows in _by_category(own):
            fig.add_scatter(
                x=rows["pre"],
                y=rows["post"],
                mode="markers",
                marker=dict(
                    size=7,
                    color=CATEGORY_COLOURS[category] if arm == "treatment" else "white",
                    line=dict(color=CATEGORY_COLOURS[category], width=1.5),
                    symbol="circle",
                ),
                opacity=0.7,
                name=f"{ARM_LABELS[arm][0]} · {CATEGORY_LABELS[category][0]}",
                hovertemplate=f"{ARM_LABELS[arm][0]} · {CATEGORY_LABELS[category][0]}<br>前测 %{{x}} → 后测 %{{y}}<extra></extra>",
            )
    # one scale on both axes (the band's edges run at 45°), the wider one shrinking its domain, not its range
    fig.update_xaxes(
        title_text=bilingual("前测", "pre"),
        type="linear",
        range=[low, high],
        constrain="domain",
        showgrid=True,
    )
    fig.update_yaxes(
        title_text=bilingual("后测", "post"),
        range=[low, high],
        scaleanchor="x",
        scaleratio=1,
        constrain="domain",
        rangemode="normal",
    )
    scale_name = score_title(instrument, scale, better=better).split("<br>")[0]
    band = f"虚线之间：前后相差不到 {rci_points:.1f} 分，在测量误差之内 / between the dashed lines: within measurement error"
    fig.add_annotation(
        text=f"{scale_name}<br>{band}",
        x=0,
        y=-0.2,
        xref="paper",
        yref="paper",
        showarrow=False,
        xanchor="left",
        align="left",
        font=dict(size=11, color="#555"),
    )
    fig.update_layout(
        legend=dict(orientation="v", x=1.02, y=1, yanchor="top", xanchor="left"), margin=dict(r=200, b=130)
    )
    return fig


def _forest_trace(part: pd.DataFrame, label: str, *, name: str, colour: str, symbol: str, size) -> go.Scatter:
    n = part["n_treatment"] + part["n_comparison"]
    interval = part["d_low"].notna().all()
    return go.Scatter(
        x=part["d"].tolist(),
        y=part[label].astype(str).tolist(),
        mode="markers",
        marker=dict(symbol=symbol, size=size, color=colour, line=dict(color=colour, width=1.5)),
        error_x=dict(
            type="data",
            symmetric=False,
            array=(part["d_high"] - part["d"]).tolist(),
            arrayminus=(part["d"] - part["d_low"]).tolist(),
            color=colour,
            thickness=1.6,
        )
        if interval
        else None,
        name=name,
        customdata=list(zip(part["d_low"], part["d_high"], n, strict=True)),
        hovertemplate=(
            "%{y}<br>d = %{x:.2f} [%{customdata[0]:.2f}, %{customdata[1]:.2f}], n = %{customdata[2]}<extra></extra>"
            if interval
            else "%{y}<br>d = %{x:.2f}（每组少于2个班，无区间 / too few classes, no interval）<extra></extra>"
        ),
    )


def effect_forest(
    table: pd.DataFrame,
    *,
    label: str = "label",
    summary: str | None = None,
    better: str = "lower",
    title: str | None = None,
) -> go.Figure:
    """Each intervention's standardised effect d with its interval, one row each, grouped by kind.

    Parameters
    ----------
    table : pandas.DataFrame
        Rows of ``report.table`` (several reports' rows may be concatenated, e.g.
        each intervention and the pooled programme): ``d, d_low, d_high, kind,
        n_treatment, n_comparison`` and the ``label`` column naming each row.
        Squares grow with the students a row rests on. A row without an
        interval (one class against one) is an open square, and says so.
    label : str
        Column with each row's name on the vertical axis.
    summary : str, optional
        Boolean column marking pooled rows (a programme over its schools), drawn
        as black diamonds below their kind's rows.
    better : {"lower", "higher"}
        Which way the scale is better: names the side of zero that favours the
        intervention.

    Examples
    --------
    >>> table = pd.DataFrame({"label": ["GC1", "GC2"], "kind": "group_counselling", "d": [-0.3, -0.1],
    ...                       "d_low": [-0.8, -0.5], "d_high": [0.2, 0.3], "n_treatment": [12, 10],
    ...                       "n_comparison": [12, 11]})
    >>> fig = effect_forest(table)
    >>> fig.data[0].x, fig.data[0].error_x.array
    ((-0.3, -0.1), (0.5, 0.4))
    """
    _require(table, [label, "kind", "d", "d_low", "d_high", "n_treatment", "n_comparison"], "effect_forest")
    fig = go.Figure()
    fig.update_layout(
        template=THEME,
        height=max(340, 150 + 30 * len(table)),
        title_text=title or bilingual("各干预项目的效应量 d（95% CI）", "effect size d per intervention"),
    )
    if table.empty:
        return _empty(fig)
    pooled = table[summary].astype(bool) if summary else pd.Series(False, index=table.index)
    kinds = list(dict.fromkeys(table["kind"]))
    # each kind's rows, then its pooled rows: the axis runs top to bottom in this order
    ordered = [table[(table["kind"] == kind) & (pooled == last)] for kind in kinds for last in (False, True)]
    names = [name for part in ordered for name in part[label].astype(str)]
    largest = (table["n_treatment"] + table["n_comparison"]).max()
    colours = dict(zip(kinds, ["#0072B2", "#009E73", "#CC79A7", "#56B4E9"], strict=False))
    for kind in kinds:
        own = table[(table["kind"] == kind) & ~pooled]
        kind_name = KIND_LABELS.get(kind, (kind,))[0]
        for interval, part in own.groupby(own["d_low"].notna(), sort=False):
            n = part["n_treatment"] + part["n_comparison"]
            fig.add_trace(
                _forest_trace(
                    part,
                    label,
                    name=kind_name if interval else f"{kind_name} · 无区间 no interval",
                    colour=colours[kind],
                    symbol="square" if interval else "square-open",
                    size=(7 + 13 * (n / largest) ** 0.5).tolist(),
                )
            )
        summed = table[(table["kind"] == kind) & pooled]
        if len(summed):
            fig.add_trace(
                _forest_trace(
                    summed, label, name=f"{kind_name} · 合计 pooled", colour="#111", symbol="diamond", size=16
                )
            )
    fig.add_vline(x=0, line=dict(color="#555", width=1))
    sides = ("有利于干预组 favours intervention", "有利于对照组 favours comparison")
    left, right = sides if better == "lower" else sides[::-1]
    for anchor, arrow in (("right", f"← {left}"), ("left", f"{right} →")):
        fig.add_annotation(
            x=0,
            y=1,
            xref="x",
            yref="paper",
            yanchor="bottom",
            xanchor=anchor,
            xshift=-8 if anchor == "right" else 8,
            text=arrow,
            showarrow=False,
            font=dict(size=12, color="#444"),
        )
    fig.update_xaxes(
        title_text=bilingual(
            "效应量 d = 协方差分析差异 ÷ 前测合并标准差", "ANCOVA difference / pooled pre SD"
        ),
        type="linear",
        zeroline=False,
        showgrid=True,
        gridcolor="#eee",
    )
    fig.update_yaxes(
        type="category", categoryorder="array", categoryarray=names[::-1], rangemode="normal", showgrid=False
    )
    fig.update_layout(margin=dict(l=260, t=130), legend=dict(y=1.08))
    return fig


def reliable_change_bars(cells: pd.DataFrame, *, label: str = "label") -> go.Figure:
    """Students of each intervention and arm by reliable change category, as shares of the arm (stacked bars).

    Parameters
    ----------
    cells : pandas.DataFrame
        ``label, arm, category, count, n`` (``marker`` when a leader view):
        one row per intervention (named by ``label``), arm and category, the
        categories of an arm adding up to its ``n``. A blanked count is no bar
        segment; the arm's row says which categories are hidden, with their markers.
    label : str
        Column naming each intervention.

    Examples
    --------
    >>> cells = pd.DataFrame({"label": "GC1", "arm": "treatment", "category": ["improved", "unchanged",
    ...                       "deteriorated"], "count": [pd.NA, 30, pd.NA], "n": 50, "marker": ["*", "", "<10"]})
    >>> fig = reliable_change_bars(cells)
    >>> [trace.name for trace in fig.data][:3], fig.data[1].x, fig.layout.annotations[0].text
    (['可靠改善', '无可靠变化', '可靠恶化'], (60.0,), '共 50 人 · 未显示：可靠改善*、可靠恶化<10')
    """
    _require(cells, [label, "arm", "category", "count", "n"], "reliable_change_bars")
    markers = cells["marker"] if "marker" in cells.columns else pd.Series("", index=cells.index)
    rows = list(dict.fromkeys(zip(cells[label], cells["arm"], strict=True)))
    names = [f"{name} · {ARM_LABELS[arm][0]}" for name, arm in rows]
    fig = go.Figure()
    fig.update_layout(
        template=THEME,
        height=max(300, 170 + 34 * len(rows)),
        title_text=bilingual(
            "可靠变化：各组学生中可靠改善、无变化、可靠恶化的比例", "reliable change per arm"
        ),
        barmode="stack",
    )
    if cells.empty:
        return _empty(fig)
    for category in [c for c in CATEGORY_LABELS if c in set(cells["category"])]:
        own = cells[cells["category"] == category].set_index([label, "arm"]).reindex(rows)
        count = own["count"].astype("Float64")
        share = (count / own["n"].astype("Float64") * 100).to_numpy(dtype=float, na_value=float("nan"))
        counts = count.to_numpy(dtype=float, na_value=float("nan"))
        fig.add_bar(
            x=share.tolist(),
            y=names,
            orientation="h",
            name=CATEGORY_LABELS[category][0],
            marker=dict(color=CATEGORY_COLOURS[category], line=dict(color="#666", width=0.5)),
            text=["" if pd.isna(c) else f"{c:,.0f}人" for c in counts],
            textposition="inside",
            insidetextanchor="middle",
            hovertemplate=f"%{{y}}<br>{CATEGORY_LABELS[category][0]}：%{{text}}（%{{x:.0f}}%）<extra></extra>",
        )
    said = []
    for name, arm in rows:
        mine = (cells[label] == name) & (cells["arm"] == arm)
        blanks = [
            f"{CATEGORY_LABELS[c][0]}{m}"
            for c, v, m in zip(
                cells.loc[mine, "category"], cells.loc[mine, "count"], markers[mine], strict=True
            )
            if pd.isna(v)
        ]
        arm_n = cells.loc[mine, "n"].iloc[0]
        total = f"共 {arm_n:,} 人" if pd.notna(arm_n) else f"人数{markers[mine].iloc[0]}"
        said.append(total + (f" · 未显示：{'、'.join(blanks)}" if blanks else ""))
    for name, text in zip(names, said, strict=True):  # beside each bar: its arm's size and what is hidden
        fig.add_annotation(x=1.01, xref="paper", xanchor="left", y=name, yref="y", text=text, showarrow=False,
                           font=dict(size=12, color="#444"))  # fmt: skip
    fig.update_xaxes(
        type="linear", range=[0, 100], ticksuffix="%", title_text=bilingual("占本组人数", "share of the arm")
    )
    fig.update_yaxes(autorange="reversed", type="category", showgrid=False, automargin=True)
    fig.update_layout(
        margin=dict(l=120, r=330, t=120),
        legend=dict(orientation="h", y=1.0, yanchor="bottom", x=0, traceorder="normal"),
    )
    return fig
