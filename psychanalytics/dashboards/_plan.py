"""The 「三年计划」 page: the plans' targets, where the district stands on each, schools per status of each
school target, and the year-end supervision scorecard, read from the published mart (:mod:`psychanalytics.mart.plan`)."""

from __future__ import annotations

import html
from pathlib import Path

import ipywidgets as widgets
import pandas as pd

from psychanalytics import plan, viz
from psychanalytics.dashboards._groups import filtered_body, group_words, no_data, picked, titled
from psychanalytics.dashboards._page import LeaderPage, chart, chart_row, english, leader_page
from psychanalytics.mart import Mart
from psychanalytics.mart import plan as tables
from psychanalytics.viz.staffing import status_bars, status_grid

PLAN_TITLE = "三年计划"
CHECK_STYLES = {
    check: (plan.CHECK_STATUS[check], en, *plan.STATUS_LABELS[status][2:])
    for check, en, status in (
        ("pass", "pass", "met"),
        ("fail", "fail", "missed"),
        ("no_data", "no data", "no_data"),
    )
}
"""The scorecard's words (:data:`psychanalytics.plan.CHECK_STATUS`: 达标、未达标、缺数据) with the symbol and
colour of the matching attainment status: a check is never told by colour alone."""

_CELL = 'style="border-bottom:1px solid #e5e5e5;padding:4px 6px;vertical-align:top"'


def _badge(status: str) -> str:
    zh, _, symbol, colour = plan.STATUS_LABELS[status]
    return (
        f'<span style="display:inline-block;min-width:84px;border:2px solid {colour};border-radius:4px;'
        f'padding:1px 6px;font-weight:bold;background:#fff">{symbol} {html.escape(zh)}</span>'
    )


def _tally(rows: pd.DataFrame) -> str:
    counts = rows["status"].value_counts()
    return "　".join(
        f"{_badge(status)} {int(counts[status])} 项" for status in plan.STATUSES if counts.get(status, 0)
    )


def _district_table(rows: pd.DataFrame, year: str) -> widgets.HTML:
    """The district's targets in the chosen year, in plan order: a traffic light with its word and symbol."""
    head = ["工作项", "目标", "期限", "本年情况", "状态", "较上年", "说明"]
    widths = [8, 28, 10, 17, 12, 6, 19]
    parts = [
        f'<div style="font-size:18px;font-weight:bold;margin:10px 0 4px 0">全区目标达成情况（{html.escape(year)} 学年）'
        f" {english('district targets')}</div>",
        f'<div style="margin:4px 0 6px 0;font-size:14px">{_tally(rows)}</div>',
    ]
    for code, group in rows.groupby("plan", sort=False):
        parts.append(
            f'<div style="font-size:15px;font-weight:bold;margin-top:8px">《{html.escape(plan.targets(code).name_zh)}》</div>'
        )
        header = "".join(
            f'<th style="text-align:left;width:{w}%;padding:4px 6px">{h}</th>'
            for h, w in zip(head, widths, strict=True)
        )
        body = "".join(
            "<tr>" + "".join(f"<td {_CELL}>{cell}</td>" for cell in (
                html.escape(r.item), html.escape(r.name_zh), html.escape(r.deadline or "每年"), html.escape(r.text),
                _badge(r.status), html.escape(r.trend or "—"), f'<span style="font-size:12px;color:#555">{html.escape(r.note)}</span>',
            )) + "</tr>"
            for r in group.fillna({"deadline": "", "trend": "", "note": ""}).itertuples()
        )  # fmt: skip
        parts.append(
            '<table style="border-collapse:collapse;width:100%;font-size:14px;table-layout:fixed">'
            f'<tr style="background:#f0f4fb">{header}</tr>{body}</table>'
        )
    parts.append(
        '<div style="font-size:13px;color:#333;margin:4px 8px">怎么看：每行一项全区目标，状态用符号和文字标出（不只靠颜色）；'
        "“较上年”↑ 为改善，↓ 为下降。按计划顺序排列，不是排名。"
        f"{english('one row per district target; status in symbol and words; plan order, not a ranking')}</div>"
    )
    return widgets.HTML("".join(parts))


def _targets_list(targets: pd.DataFrame) -> widgets.Accordion:
    head = ["计划", "工作项", "目标", "层级", "期限", "理解说明"]
    rows = "".join(
        "<tr>" + "".join(f"<td {_CELL}>{html.escape(str(cell))}</td>" for cell in (
            r.plan_name_zh, r.item, r.name_zh, "全区" if r.level == "district" else "各校", r.deadline or "每年",
            r.uncertain or "",
        )) + "</tr>"
        for r in targets.fillna({"deadline": "", "uncertain": ""}).itertuples()
    )  # fmt: skip
    table = widgets.HTML(
        '<table style="border-collapse:collapse;width:100%;font-size:13px">'
        f'<tr style="background:#f0f4fb">{"".join(f"<th style=text-align:left>{h}</th>" for h in head)}</tr>{rows}</table>'
    )
    box = widgets.Accordion(children=[table], layout=widgets.Layout(width="100%"))
    box.set_title(0, f"查看全部目标（{len(targets)} 项） all targets")
    box.selected_index = None
    return box


def _charts(views, state) -> list[widgets.Widget]:
    year, where = state["school_year"], group_words(state)
    attainment = views["attainment"]
    district = attainment[attainment["school_year"] == year]
    history = attainment[attainment["school_year"] <= year]
    schools = picked(views["schools"], state)
    card = picked(views["scorecard"], state)
    if district.empty and schools.empty:
        return [no_data(f"{where}：暂无数据", "no data for this choice")]
    return [
        _district_table(district, year),
        chart_row(
            [
                chart(
                    status_grid(
                        history,
                        plan.STATUS_LABELS,
                        title=viz.bilingual("全区目标历年状态", "district targets, year by year"),
                    ),
                    "每行一项全区目标，每列一个学年；看右侧各列是否由 ✗ / ! 变为 ✓。",
                    "one row per target, one column per school year",
                )
            ]
        ),  # fmt: skip
        chart_row(
            [
                chart(
                    status_bars(
                        schools,
                        plan.STATUS_LABELS,
                        key="target",
                        title=titled("分校目标：各状态学校数", "schools per status", state),
                    ),
                    "每行一项分校目标，各段是处于该状态的学校数（✓ 已达成、✗ 未达成等）；只看数量，不排名学校。",
                    "one row per school target: schools in each status",
                    width="50%",
                ),
                chart(
                    status_bars(
                        card,
                        CHECK_STYLES,
                        key="check",
                        title=titled("年终督导五项检查", "supervision checks", state),
                    ),
                    "每行一项督导检查，各段是达标、未达标、缺数据的学校数；缺数据不算达标。",
                    "one row per check: schools passing, failing, without data",
                    width="50%",
                ),
            ]
        ),  # fmt: skip
    ]


def _notes() -> list[tuple[str, str]]:
    legend = "、".join(f"{symbol} {zh}" for zh, _, symbol, _ in plan.STATUS_LABELS.values())
    return [
        (
            f"状态：{legend}。“按期可达”“存在风险”按近年进度的直线判断；期限已到仍未达到为“未达成”。"
            "目标及其理解（标“可调”）来自计划文本（plan/targets），学校数为公开的机构信息，如实显示。",
            "Status: met, on track, at risk, missed, no data; on track / at risk from the line through the years. "
            "Counts of schools are institutional facts, shown whole.",
        )
    ]


PLAN_VIEWS = {
    "targets": tables.TARGETS,
    "attainment": tables.ATTAINMENT,
    "schools": tables.SCHOOL_STATUS,
    "scorecard": tables.SCORECARD,
}
"""The page's views and the mart table each is."""


def _body(mart: Mart):
    views = {key: mart.table(table.name) for key, table in PLAN_VIEWS.items()}
    return filtered_body(
        views, "schools", _charts, notes=_notes(), empty=("暂无数据：尚无学校报送计划相关情况", "no plan data yet"),
        after=(_targets_list(views["targets"]),),
    )  # fmt: skip


def build_plan(mart: str | Path | Mart | None = None) -> LeaderPage:
    """The 「三年计划」 page for district leaders, read from the published mart.

    Filters 学年, 学段, 城乡 (choosing among published rows); the district's targets in the chosen year
    as a table of traffic lights (symbol and word, never colour alone) with this year's value and the
    change from last year; their status year by year; schools per status of each school-level target and
    of each year-end supervision check; the list of every target. The footer comes from the page shell.

    Parameters
    ----------
    mart : str, Path or Mart, optional
        The published mart; default ``PSYCHANALYTICS_MART`` (set by ``psychanalytics serve``).

    Returns
    -------
    LeaderPage
        ``views``: ``targets``, ``attainment``, ``schools``, ``scorecard`` (the mart tables of
        :mod:`psychanalytics.mart.plan`). A mart without plan rows gives a page saying 暂无数据.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from psychanalytics import mart, store
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> engine = store.connect(folder / "store.sqlite")
    >>> store.create_all(engine)
    >>> _ = mart.publish(engine, folder / "mart.sqlite")
    >>> page = build_plan(folder / "mart.sqlite")
    >>> "暂无数据" in page.children[1].value
    True
    """
    return leader_page(mart, PLAN_TITLE, "Three-year plan: targets, attainment, supervision", _body)
