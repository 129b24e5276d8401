"""Exploring a district's screening by wave, school, grade and gender: the figures behind the notebook's widgets.

:func:`exploration_data` fetches the pushed-down counts once (wave × school ×
grade × gender: small frames); :func:`exploration_figure` turns a choice of
wave, grouping and view into one figure, computing the statistic with
:mod:`psychanalytics.screening`, passing the counts through the one leader-output
policy (:func:`psychanalytics.privacy.leader_view`: groups under ``min_cell``
are not drawn) and drawing with :mod:`psychanalytics.viz.screening`.
:func:`explorer` binds it to three dropdowns (ipywidgets) for the notebook
``notebooks/03_screening_exploration.py``, which itself holds no function.

Examples
--------
>>> from psychanalytics import store
>>> from psychanalytics.dashboards.screening import VIEWS, exploration_data, exploration_figure
>>> engine = store.connect("sqlite://")
>>> store.create_all(engine)
>>> data = exploration_data(engine, instrument="phq9")
>>> list(VIEWS)
['rate', 'bands', 'mean', 'histogram', 'funnel']
>>> exploration_figure(data, wave=None, by="grade", view="rate").layout.annotations[0].text
'暂无数据 <span style="font-size:11px;color:#777">no data</span>'
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import ipywidgets as widgets
import pandas as pd
import plotly.graph_objects as go
import sqlalchemy as sa

from psychanalytics import screening
from psychanalytics.dashboards import figure_widget
from psychanalytics.privacy import leader_view
from psychanalytics.store.queries import screening as sq
from psychanalytics.viz import bilingual
from psychanalytics.viz import screening as vs

__all__ = ["BY", "VIEWS", "ExplorationData", "exploration_data", "exploration_figure", "explorer"]

CELLS = ("wave", "school", "grade", "gender")
"""The finest cells fetched: every grouping the explorer offers is a sum of them (stage and location are
attributes of the school)."""

BY = {"grade": "年级", "gender": "性别", "stage": "学段", "location": "城乡"}
"""The groupings offered, with their Chinese names. Not schools: schools are compared on the funnel view only,
never side by side in a row of bars or points that a reader would rank."""

VIEWS = {
    "rate": "筛查阳性率",
    "bands": "风险等级占比",
    "mean": "平均分",
    "histogram": "得分分布",
    "funnel": "学校漏斗图",
}
"""The views offered, with their Chinese names (a rate of screen-positive students is 筛查阳性率)."""


@dataclass(frozen=True)
class ExplorationData:
    """The small frames the explorer draws from (one instrument; counts by wave × school × grade × gender)."""

    instrument: str
    positive: pd.DataFrame
    bands: pd.DataFrame
    summary: pd.DataFrame
    histogram: pd.DataFrame
    coverage: pd.DataFrame
    schools: pd.DataFrame
    waves: list[str]
    min_cell: int | None


def exploration_data(
    engine: sa.Engine, *, instrument: str = "phq9", min_cell: int | None = None
) -> ExplorationData:
    """Fetch the counts once: screen-positive, bands, score sums, histogram and coverage by the finest cells."""
    schools = sq.school_names(engine)
    attributes = schools[["school", "stage", "location"]]

    def cells(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.merge(attributes, on="school", how="left")

    coverage = sq.coverage_counts(engine, instrument=instrument, by=CELLS)
    positive = sq.screen_positive_counts(engine, instrument=instrument, by=CELLS)
    return ExplorationData(
        instrument=instrument,
        positive=cells(positive),
        bands=cells(sq.band_counts(engine, instrument=instrument, by=CELLS)),
        summary=cells(sq.score_summary(engine, instrument=instrument, by=CELLS)),
        histogram=cells(sq.score_histogram(engine, instrument=instrument, by=CELLS)),
        coverage=cells(coverage),
        schools=schools,
        waves=sorted(positive["wave"].dropna().unique().tolist()),
        min_cell=min_cell,
    )


def _shown_groups(frame: pd.DataFrame, by: str, min_cell: int | None) -> pd.DataFrame:
    """``frame`` (one row per group, ``count`` and ``n``) with the policy's ``suppressed`` flag."""
    view = leader_view(frame[[by, "count", "n"]], labels=(by,), min_cell=min_cell)
    return frame.assign(suppressed=view.cells["suppressed"].to_numpy() | view.cells["n"].isna().to_numpy())


def exploration_figure(data: ExplorationData, *, wave: str | None, by: str, view: str) -> go.Figure:
    """One figure of the explorer: ``view`` of ``wave`` (``None``: the latest) grouped by ``by``.

    Every group under the policy's ``min_cell`` is left out of the figure
    (the funnel keeps it in the limits); coverage is carried beside every
    group (hollow points where it is low). ``view="funnel"`` compares schools
    whatever ``by`` says.
    """
    if by not in BY:
        raise ValueError(f"by must be one of {list(BY)}, got {by!r}")
    if view not in VIEWS:
        raise ValueError(f"view must be one of {list(VIEWS)}, got {view!r}")
    wave = wave if wave is not None else (data.waves[-1] if data.waves else None)
    key = "school" if view == "funnel" else by  # schools: the funnel, whatever ``by`` says
    pick = {
        name: getattr(data, name)[getattr(data, name)["wave"] == wave]
        for name in ("positive", "bands", "summary", "histogram", "coverage")
    }
    cover = screening.coverage(pick["coverage"], by=key) if len(pick["coverage"]) else None
    names = dict(zip(data.schools["school"], data.schools["name"], strict=True))
    label = vs.group_name("wave", wave) if wave else ""
    title = f"{label} {VIEWS[view]}（按{BY[key]}）" if view != "funnel" else f"{label} {VIEWS[view]}"
    if view == "funnel":
        counts = pick["positive"].groupby("school", as_index=False)[["n", "count"]].sum()
        counts = counts[counts["n"] > 0]
        if counts.empty:
            return vs.funnel_plot(
                screening.funnel(
                    pd.DataFrame({"school": ["-"], "n": [1], "count": [0]}),
                    numerator="count",
                    denominator="n",
                )
            )
        result = screening.funnel(counts, numerator="count", denominator="n", overdispersion=len(counts) >= 3)
        table = _shown_groups(result.table, "school", data.min_cell)
        table = screening.with_coverage(table, cover)
        return vs.funnel_plot(
            replace(result, table=table), names=names, title=bilingual(title, "funnel plot of schools"),
            note=f"筛查阳性：{vs.screen_positive_rule(data.instrument)}",
        )  # fmt: skip
    if view == "rate":
        rates = screening.prevalence(pick["positive"], by=key) if len(pick["positive"]) else pd.DataFrame()
        if rates.empty:
            return vs.estimate_points(
                pd.DataFrame(columns=[key, "proportion", "low", "high"]), x=key, title=title, y_title=""
            )
        rates = screening.with_coverage(
            _shown_groups(rates.drop(columns="low_coverage"), key, data.min_cell), cover
        )
        return vs.estimate_points(
            rates, x=key, title=bilingual(title, f"screen-positive rate by {key}, with 95% intervals"),
            y_title=bilingual("筛查阳性率", "screen-positive rate"),
        )  # fmt: skip
    if view == "bands":
        shares = screening.band_shares(pick["bands"], by=key, coverage=cover)
        shown = _shown_groups(
            shares.groupby(key, as_index=False)[["n"]].first().assign(count=lambda f: f["n"]),
            key,
            data.min_cell,
        )
        shares = shares.merge(shown[[key, "suppressed"]], on=key, how="left")
        return vs.band_share_bars(
            shares.assign(instrument=data.instrument, scale="total"), x=key,
            title=bilingual(title, f"share of each band by {key}, with 95% intervals"),
        )  # fmt: skip
    if view == "mean":
        means = screening.mean_scores(pick["summary"], by=key, coverage=cover)
        means = means.merge(
            _shown_groups(means.assign(count=means["n"]), key, data.min_cell)[[key, "suppressed"]], on=key
        )
        return vs.estimate_points(
            means, x=key, y="mean", percent=False, title=bilingual(title, f"mean score by {key}, with 95% intervals"),
            y_title=bilingual("平均分", "mean score"),
        )  # fmt: skip
    hist = screening.score_distribution(pick["histogram"], by=key)
    groups = hist.groupby(key, as_index=False)["n"].first()
    shown = _shown_groups(groups.assign(count=groups["n"]), key, data.min_cell)
    hist = hist.merge(shown[[key, "suppressed"]], on=key)
    return vs.score_histogram(
        hist, instrument=data.instrument, colour=key, title=bilingual(title, f"score distribution by {key}")
    )


def explorer(data: ExplorationData) -> widgets.VBox:
    """Three dropdowns (wave, grouping, view) above the figure they choose (:func:`exploration_figure`).

    Examples
    --------
    >>> from psychanalytics import store
    >>> engine = store.connect("sqlite://")
    >>> store.create_all(engine)
    >>> [w.description for w in explorer(exploration_data(engine)).children[0].children]
    ['批次', '分组', '图表']
    """
    wave = widgets.Dropdown(
        options=[(vs.group_name("wave", w), w) for w in data.waves], value=data.waves[-1] if data.waves else None,
        description="批次",
    )  # fmt: skip
    by = widgets.Dropdown(
        options=[(name, key) for key, name in BY.items()], value="grade", description="分组"
    )
    view = widgets.Dropdown(
        options=[(name, key) for key, name in VIEWS.items()], value="rate", description="图表"
    )
    shown = widgets.VBox()

    def draw(_=None) -> None:
        shown.children = (
            figure_widget(exploration_figure(data, wave=wave.value, by=by.value, view=view.value)),
        )

    for control in (wave, by, view):
        control.observe(draw, names="value")
    draw()
    return widgets.VBox([widgets.HBox([wave, by, view]), shown])
