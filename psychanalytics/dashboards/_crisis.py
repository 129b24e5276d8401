"""The 「危机预警」 page: the crisis funnel and the days between stages per school year, open cases by stage."""

from __future__ import annotations

import html
from pathlib import Path

import ipywidgets as widgets
import pandas as pd

from psychanalytics import crisis
from psychanalytics.dashboards import _card  # the overview's card (this module is imported after it)
from psychanalytics.dashboards._page import LeaderPage, chart, chart_row, dropdown, english, leader_page
from psychanalytics.mart import Mart
from psychanalytics.mart import crisis as crisis_mart
from psychanalytics.privacy import shown_text
from psychanalytics.viz import crisis as crisis_viz

CRISIS_TITLE = ("危机预警", "Crisis warning: the pathway and time between stages")
NO_DATA = ("暂无数据", "no data")


def no_data(what_zh: str, what_en: str) -> widgets.HTML:
    """The notice a page shows in place of charts when the mart holds no row for them: 「暂无数据」."""
    return widgets.HTML(
        '<div style="border:1px solid #ccc;border-radius:6px;padding:12px 16px;margin:12px 0;font-size:18px;'
        f'background:#fafafa">{NO_DATA[0]}：{html.escape(what_zh)} {english(f"{NO_DATA[1]}: {what_en}")}</div>'
    )


def cards(items: list[tuple[str, str, str, str]]) -> widgets.HTML:
    """Headline numbers side by side, as on the overview: ``(label, label in English, value, detail)`` each."""
    body = "".join(_card(*item) for item in items)
    return widgets.HTML(f'<div style="display:flex;gap:12px;margin:6px 0">{body}</div>')


def _stage_row(funnel: pd.DataFrame, stage: str) -> pd.Series | None:
    rows = funnel[funnel["crisis_stage"] == stage]
    return None if rows.empty else rows.iloc[0]


def _cases(value, marker: str) -> str:
    """``34 例``, or the marker alone where the policy hid the number (「<10」 reads as fewer than ten).

    >>> _cases(34, ""), _cases(pd.NA, "*")
    ('34 例', '*')
    """
    return shown_text(value, marker) + ("" if pd.isna(value) else " 例")


def _levels_text(levels: pd.DataFrame) -> str:
    """``班级上报 13 例（15%）· 学校上报 73 例（85%）``: who raised the year's warnings, or the markers."""
    return " · ".join(
        f"{crisis.name('levels', row['level'])}上报 {_cases(row['count'], row['marker'])}"
        + ("" if pd.isna(row["proportion"]) else f"（{row['proportion']:.0%}）")
        for _, row in levels.iterrows()
    )


def _year_cards(
    funnel: pd.DataFrame, levels: pd.DataFrame, open_headline: pd.DataFrame, year: str
) -> widgets.HTML:
    raised, closed = _stage_row(funnel, "raised"), _stage_row(funnel, "closed")
    items = []
    if raised is not None:
        items.append(
            ("本学年预警个案", "crisis warnings raised this school year",
             _cases(raised["count"], raised["marker"]),
             _levels_text(levels) or f"{year} 学年（9月至次年8月）发现上报")
        )  # fmt: skip
    if closed is not None:
        items.append(
            ("其中已结案", "of them closed",
             shown_text(closed["proportion"], closed["marker"], template="{:.0%}"),
             f"{shown_text(closed['count'], closed['marker'])} / {shown_text(closed['n'], closed['marker'])} 例")
        )  # fmt: skip
    if not open_headline.empty:
        last = open_headline.iloc[-1]
        as_of = "{}年{}月{}日".format(*str(last["as_of"]).split("-"))
        items.append(
            ("全区目前未结案", "open cases on the data's date, all years",
             _cases(last["count"], last["marker"]),
             f"截至 {as_of} · 历年个案共 {_cases(last['n'], last['marker'])}")
        )  # fmt: skip
    return cards(items)


def _notes() -> list[tuple[str, str]]:
    stages = "→".join(crisis.name("stages", s) for s in crisis.PATHWAY)
    levels = "—".join(crisis.name("levels", s) for s in crisis.codes("levels"))
    return [
        (
            f"怎么看这一页：{levels}三级预警网络中，每个危机个案由班级或学校发现上报，依次经过「{stages}」；"
            "需要时转介到社会一级（家庭、心理卫生机构、医院）。"
            "上方选择学年（按发现上报的日期）；漏斗图看每一阶段到达了多少个案、占前一阶段多少；"
            "用时图看从一个阶段到下一个阶段一般要多少天；未结案图为截至数据日期全区所有学年尚未结案的个案停在哪一阶段。",
            "How to read this page: every crisis case passes raised → confirmed → intervention → (referred) → "
            "closed. Choose a school year (of the warning): the funnel shows the cases reaching each stage; the "
            "medians how many days each step takes; the last chart where the district's open cases wait today.",
        ),
        (
            "用时为 Kaplan–Meier 中位数：尚未到达下一阶段的个案按删失处理；「未达到」表示随访期内不到一半的个案到达下一阶段"
            "（如大多数个案不需要转介）。本页只显示汇总数，不显示任何个案。",
            "Medians are Kaplan–Meier medians with cases not yet at the next stage censored; 「未达到」: fewer than "
            "half reached it (most cases need no referral). Aggregates only: no case is shown.",
        ),
    ]


def _charts(views: dict[str, pd.DataFrame], year: str) -> list[widgets.Widget]:
    funnel = views["funnel"][views["funnel"]["school_year"] == year]
    times = views["stage_times"][views["stage_times"]["school_year"] == year]
    levels = views["levels"][views["levels"]["school_year"] == year]
    funnel_fig = crisis_viz.stage_funnel(funnel)
    funnel_fig.update_layout(title_text=funnel_fig.layout.title.text + f"（{year} 学年）")
    return [
        _year_cards(funnel, levels, views["open_headline"], year),
        chart_row(
            [
                chart(
                    funnel_fig,
                    "每一行是一个阶段，条越长个案越多；右侧百分比是占前一阶段的比例，比例低说明个案在这一步停住了。",
                    "one bar per stage; the share is of the stage before it",
                    width="58%",
                ),
                chart(
                    crisis_viz.open_case_bars(views["open"]),
                    "截至数据日期尚未结案的个案停在哪一阶段（全区、各学年合计），不随学年筛选变化。",
                    "open cases on the data's date by stage (district, all years); not filtered by year",
                    width="42%",
                ),
            ]
        ),
        chart(
            crisis_viz.stage_time_medians(times),
            "菱形是中位数（一半个案在这么多天内到达下一阶段），横线是 95% 区间；横轴为对数刻度。",
            "diamonds: median days; bars: 95% interval; log scale",
        ),
    ]


def _crisis_body(mart: Mart):
    views = {
        "funnel": mart.table(crisis_mart.FUNNEL.name),
        "stage_times": mart.table(crisis_mart.STAGE_TIMES.name),
        "levels": mart.table(crisis_mart.RAISED_BY_LEVEL.name),
        "open": mart.table(crisis_mart.OPEN_BY_STAGE.name),
        "open_headline": mart.table(crisis_mart.OPEN_BY_STAGE.name + "__headline"),
    }
    extras = {"notes": _notes()}
    if not views["open_headline"].empty:  # crisis cases run to their own date, not the last wave's
        extras["as_of"] = str(views["open_headline"].iloc[-1]["as_of"])[:10]
    years = sorted(views["funnel"]["school_year"].dropna().unique(), reverse=True)
    if not years:
        return [no_data("还没有危机预警个案的记录", "no crisis case recorded")], views, extras
    box = widgets.VBox(_charts(views, years[0]), layout=widgets.Layout(width="100%"))

    def redraw(year):
        box.children = _charts(views, year)

    year = dropdown([(f"{y} 学年", y) for y in years], "学年", redraw)
    filters = widgets.HBox([year, widgets.HTML(english("school year of the warning"))])
    return [filters, box], views, {**extras, "filters": (year,), "charts": box}


def build_crisis(mart: str | Path | Mart | None = None) -> LeaderPage:
    """The 「危机预警」 page for district leaders, read from the published mart (aggregates only).

    A school-year filter (the year of the warning, latest first) redraws: three
    headline numbers (warnings raised, with the level of the 班级—学校—社会
    network that raised them; the share closed with its denominator;
    the district's open cases on the data's date), the funnel of the crisis
    pathway (:func:`psychanalytics.viz.crisis.stage_funnel`: cases reaching
    each stage, as a share of the stage before), open cases by stage
    (district, all years) and the Kaplan-Meier median days between stages with
    their 95% intervals. Every number is a cell of the mart's
    ``crisis_funnel``, ``crisis_stage_times``, ``crisis_raised_by_level`` and ``crisis_open_by_stage``
    (:mod:`psychanalytics.mart.crisis`), protected when published: counts under
    ``min_cell`` read 「<10」, medians resting on fewer cases are not drawn.

    Parameters
    ----------
    mart : str, Path or Mart, optional
        The published mart; default ``PSYCHANALYTICS_MART``.

    Returns
    -------
    LeaderPage
        ``views``: ``funnel``, ``stage_times``, ``levels``, ``open``, ``open_headline``;
        ``filters``: the school-year dropdown; ``charts``: the box it redraws.
        A mart without crisis cases gives a page saying 「暂无数据」.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from psychanalytics import mart, store
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> engine = store.connect(folder / "store.sqlite")
    >>> store.create_all(engine)
    >>> _ = mart.publish(engine, folder / "mart.sqlite")
    >>> page = build_crisis(folder / "mart.sqlite")
    >>> "暂无数据" in page.children[1].value
    True
    """
    return leader_page(mart, *CRISIS_TITLE, _crisis_body)
