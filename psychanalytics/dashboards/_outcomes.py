"""The 「干预成效」 page: effect sizes with intervals and reliable change of group counselling and the curriculum."""

from __future__ import annotations

import html
from pathlib import Path

import ipywidgets as widgets
import pandas as pd

from psychanalytics.dashboards._crisis import no_data
from psychanalytics.dashboards._page import LeaderPage, chart, dropdown, english, leader_page
from psychanalytics.mart import Mart
from psychanalytics.mart import outcomes as outcomes_mart
from psychanalytics.viz import bilingual
from psychanalytics.viz import outcomes as outcomes_viz
from psychanalytics.viz.screening import group_name

OUTCOMES_TITLE = ("干预成效", "Intervention outcomes: group counselling and the curriculum")
KINDS = ("group_counselling", "curriculum")
"""The kinds of intervention the page chooses between, in the dropdown's order."""
ALL = "__all__"
_FILTERS = (
    ("school_year", "学年", "全部学年"),
    ("stage", "学段", "全部学段"),
    ("location", "城乡", "全部城乡"),
)
"""Row filters: column, the dropdown's name, the option that keeps every row."""


def _kind_name(kind: str) -> str:
    return outcomes_viz.KIND_LABELS.get(kind, (kind,))[0]


def _label(frame: pd.DataFrame) -> pd.Series:
    """How an intervention is named on the axes: school year and title, or school when the titles repeat."""
    named = frame["school_year"] + " " + frame["title"]
    if named.nunique() < frame["intervention_id"].nunique():
        named = frame["school_year"] + " " + frame["school_name"]
    return named


def _chosen(frame: pd.DataFrame, choice: dict) -> pd.DataFrame:
    keep = frame["kind"] == choice["kind"]
    for column, _, _ in _FILTERS:
        if choice[column] != ALL:
            keep &= frame[column] == choice[column]
    return frame[keep]


def _forest(effects: pd.DataFrame, min_cell: int) -> widgets.Widget:
    shown = effects[effects["d"].notna()]
    hidden = effects[effects["d"].isna()]
    sizes = "（干预组 " + shown["n"].astype(str) + " 人，对照组 " + shown["count"].astype(str) + " 人）"
    table = shown.assign(label=_label(shown) + sizes, n_treatment=shown["n"], n_comparison=shown["count"])
    kind = _kind_name(effects["kind"].iloc[0])
    fig = outcomes_viz.effect_forest(
        table, title=bilingual(f"{kind}：各项目的效应量 d（95% 置信区间）", "effect size d per intervention")
    )
    fig.update_yaxes(automargin=True)
    fig.update_layout(margin_l=120)
    parts = [
        chart(
            fig,
            "方块是效应量 d，横线是 95% 置信区间；在 0 左侧表示干预组比对照组改善更多，横线跨过 0 表示尚不能确定有效；"
            "空心方块：某组不足两个班，无法给出区间。",
            "squares: d; lines: 95% CI; left of 0 favours the intervention; across 0: not conclusive; open: under two classes "
            "in an arm, no interval",
        )
    ]
    if len(hidden):
        names = "；".join(
            f"{t}（{s} · {y}）"
            for t, s, y in zip(hidden["title"], hidden["school_name"], hidden["school_year"], strict=True)
        )
        parts.append(
            widgets.HTML(
                f'<div style="font-size:13px;color:#555;margin:0 8px 8px 8px">干预组或对照组不足 '
                f"{min_cell} 人、不显示效应量的项目 {len(hidden)} 个：{html.escape(names)} "
                f"{english('interventions with an arm under the minimum: no effect size shown')}</div>"
            )
        )
    return widgets.VBox(parts, layout=widgets.Layout(width="100%"))


def _change(change: pd.DataFrame, min_cell: int) -> list[widgets.Widget]:
    """The reliable-change chart of the arms with a shown category; the arms with none, counted in a line."""
    arm = change.groupby(["intervention_id", "arm"], sort=False)["count"]
    some = arm.transform(lambda counts: counts.notna().any())
    shown, blank = change[some], change[~some].drop_duplicates(["intervention_id", "arm"])
    parts = []
    if len(shown):
        parts.append(
            chart(
                outcomes_viz.reliable_change_bars(shown.assign(label=_label(shown))),
                "每条是一个组：绿色为前后测变化超过测量误差的可靠改善，橙色为可靠恶化，灰色为变化在测量误差之内；右侧为本组人数和因人数少未显示的类别。",
                "one bar per arm: green reliably improved, grey within measurement error, orange reliably deteriorated",
            )
        )
    if len(blank):
        parts.append(
            widgets.HTML(
                f'<div style="font-size:14px;margin:4px 8px 8px 8px">可靠变化：另有 {len(blank)} 个组（干预组或对照组）'
                f"各类人数都少于 {min_cell} 人或须一并隐藏，不显示。"
                f"{english(f'reliable change: {len(blank)} arms have every category hidden')}</div>"
            )
        )
    return parts


def _charts(views: dict[str, pd.DataFrame], choice: dict, min_cell: int) -> list[widgets.Widget]:
    effects = _chosen(views["effects"], choice)
    if effects.empty:
        return [no_data("所选条件下没有干预项目", "no intervention matches the filters")]
    return [_forest(effects, min_cell), *_change(_chosen(views["reliable_change"], choice), min_cell)]


def _notes() -> list[tuple[str, str]]:
    return [
        (
            "怎么看这一页：先选干预类型，再按学年、学段、城乡筛选项目。效应量 d = 控制前测后两组后测的差异 ÷ 前测标准差"
            "（约 0.2 为小、0.5 为中等、0.8 为大）；量表分数越低越好，d 为负表示干预组改善更多。"
            "可靠变化按 Jacobson–Truax 方法判断每名学生前后测的变化是否超过测量误差（测量误差取自前测批次全区答卷的信度）。",
            "How to read this page: choose the kind of intervention, then filter by year, stage, location. d = the "
            "ANCOVA difference / pooled pre-test SD (0.2 small, 0.5 medium, 0.8 large); lower scores are better, "
            "negative d favours the intervention. Reliable change: Jacobson–Truax, with the pre-test wave's reliability.",
        ),
        (
            "团体心理辅导每组 10–15 人，单个小组的区间很宽；任一组不足 10 人的项目不显示效应量，可靠变化各类人数少于 10 人的不显示。",
            "Counselling groups hold 10-15 students: single-group intervals are wide; an intervention with an arm under "
            "10 shows no effect size, and reliable-change categories under 10 are hidden.",
        ),
    ]


def _outcomes_body(mart: Mart):
    views = {
        "effects": mart.table(outcomes_mart.EFFECT_SIZES.name),
        "reliable_change": mart.table(outcomes_mart.RELIABLE_CHANGE.name),
    }
    extras = {"notes": _notes()}
    effects = views["effects"]
    kinds = [k for k in KINDS if k in set(effects["kind"])]
    if not kinds:
        return [no_data("还没有团体心理辅导或课程的前后测记录", "no intervention recorded")], views, extras
    choice = {"kind": kinds[0], **{column: ALL for column, _, _ in _FILTERS}}
    min_cell = mart.manifest["min_cell"]
    box = widgets.VBox(_charts(views, choice, min_cell), layout=widgets.Layout(width="100%"))

    def chooser(column):
        def change(value):
            choice[column] = value
            box.children = _charts(views, choice, min_cell)

        return change

    widgets_ = [dropdown([(_kind_name(k), k) for k in kinds], "干预类型", chooser("kind"))]
    for column, name, every in _FILTERS:
        values = sorted(effects[column].dropna().unique())
        words = [(v if column == "school_year" else group_name(column, v)) for v in values]
        widgets_.append(dropdown([(every, ALL), *zip(words, values, strict=True)], name, chooser(column)))
    for widget in widgets_:
        widget.layout.width = "230px"
        widget.style.description_width = "64px"
    filters = widgets.HBox(widgets_, layout=widgets.Layout(flex_flow="row wrap"))
    return [filters, box], views, {**extras, "filters": tuple(widgets_), "charts": box}


def build_outcomes(mart: str | Path | Mart | None = None) -> LeaderPage:
    """The 「干预成效」 page for district leaders, read from the published mart.

    Filters (the kind of intervention — group counselling or the curriculum —,
    school year, the school's stage 学段 and location 城乡) choose among the
    published interventions and redraw: a forest plot of each intervention's
    effect size d with its 95% interval (:func:`psychanalytics.viz.outcomes.effect_forest`)
    and each arm's students by Jacobson-Truax reliable change
    (:func:`psychanalytics.viz.outcomes.reliable_change_bars`). Every number is
    a cell of the mart's ``intervention_effects`` and
    ``intervention_reliable_change`` (:mod:`psychanalytics.mart.outcomes`):
    an intervention with an arm under ``min_cell`` has no effect size, and is
    listed as such; reliable-change categories are protected within their arm.

    Parameters
    ----------
    mart : str, Path or Mart, optional
        A SQLite mart file or the reader role's PostgreSQL URL, or an opened
        :class:`~psychanalytics.mart.Mart`; default ``PSYCHANALYTICS_MART``.

    Returns
    -------
    LeaderPage
        ``views``: ``effects``, ``reliable_change``; ``filters``: kind, school
        year, stage, location; ``charts``: the box they redraw. A mart without
        interventions gives a page saying 「暂无数据」.

    Examples
    --------
    A mart that cannot be read gives the page that says so, and no number:

    >>> page = build_outcomes("/nonexistent/mart.sqlite")
    >>> "暂时无法读取数据" in page.children[1].value, dict(page.views)
    (True, {})
    """
    return leader_page(mart, *OUTCOMES_TITLE, _outcomes_body)
