"""Filters of the pages whose mart tables are cut by school year, 学段 and 城乡 (``all`` for a margin): the
dropdowns choose a published row, never add rows up."""

from __future__ import annotations

import html
from collections.abc import Callable, MutableMapping

import ipywidgets as widgets
import pandas as pd

from psychanalytics.dashboards._page import dropdown, english
from psychanalytics.mart._evaluated import ALL
from psychanalytics.viz.screening import group_name

KEYS = ("school_year", "stage", "location")
WORDS = {"stage": ("全部学段", "all stages"), "location": ("城区和乡镇", "urban and township")}


def group_filters(
    frame: pd.DataFrame, state: MutableMapping, redraw: Callable[[], None]
) -> tuple[widgets.Dropdown, ...]:
    """Dropdowns 学年 (latest first), 学段, 城乡 over the values ``frame`` publishes; each change sets
    ``state[key]`` and calls ``redraw()``. ``state`` is set to the first option of each."""
    years = sorted(set(frame["school_year"]), reverse=True)
    options = {"school_year": [(f"{year} 学年", year) for year in years]}
    for key in ("stage", "location"):
        values = [v for v in dict.fromkeys(frame[key]) if v != ALL]
        options[key] = [(WORDS[key][0], ALL), *[(group_name(key, v), v) for v in values]]
    out = []
    for key, description in zip(KEYS, ("学年", "学段", "城乡"), strict=True):
        state[key] = options[key][0][1]

        def change(value, key=key):
            state[key] = value
            redraw()

        out.append(dropdown(options[key], description, change))
    return tuple(out)


def picked(frame: pd.DataFrame, state: MutableMapping, keys=KEYS) -> pd.DataFrame:
    """The published rows of the chosen year and group (``keys`` of ``state`` the frame has)."""
    mask = pd.Series(True, index=frame.index)
    for key in keys:
        if key in frame.columns:
            mask &= frame[key] == state[key]
    return frame[mask].reset_index(drop=True)


def group_words(state: MutableMapping) -> str:
    """The chosen group in words, e.g. 「2024-2025 学年 · 小学 · 城区」."""
    parts = [f"{state['school_year']} 学年"]
    for key in ("stage", "location"):
        parts.append(WORDS[key][0] if state[key] == ALL else group_name(key, state[key]))
    return " · ".join(parts)


def titled(chinese: str, english_text: str, state: MutableMapping) -> str:
    """A chart title on one line: Chinese with the chosen stage and location, then English in small type
    (the school year is the dropdown's)."""
    group = " · ".join(group_words(state).split(" · ")[1:])
    return f'{chinese}（{group}） <span style="font-size:11px;color:#777">{english_text}</span>'


def filter_bar(filters) -> widgets.Box:
    """The filters in one row, with a line saying what they choose."""
    hint = widgets.HTML(
        '<div style="font-size:13px;color:#333;padding-top:6px">筛选：学段、城乡只改变分学校统计的图表；标「全区」的数字不随之变化 '
        f"{english('filters: stage and location apply to the school-level charts; district figures stay')}</div>"
    )
    return widgets.Box(
        [*filters, hint],
        layout=widgets.Layout(flex_flow="row wrap", align_items="flex-start", margin="6px 0"),
    )


def no_data(what_zh: str = "暂无数据", what_en: str = "no data yet") -> widgets.HTML:
    """The block shown instead of charts when the mart holds no row for the page."""
    return widgets.HTML(
        '<div style="border:1px solid #ccc;border-radius:6px;padding:16px;margin:12px 0;font-size:20px;'
        f'background:#fafafa">{html.escape(what_zh)} {english(what_en)}</div>'
    )


def filtered_body(
    views: dict,
    rows: str,
    charts: Callable[[dict, MutableMapping], list[widgets.Widget]],
    *,
    notes: list[tuple[str, str]],
    empty: tuple[str, str],
    after: tuple[widgets.Widget, ...] = (),
):
    """A page body (for :func:`~psychanalytics.dashboards._page.leader_page`): the filters over the table
    ``views[rows]`` and the box ``charts(views, state)`` is drawn into, redrawn on every change; the block
    ``empty`` (Chinese, English) instead when that table has no row."""
    if views[rows].empty:
        return [no_data(*empty)], views, {"notes": notes}
    box = widgets.VBox(layout=widgets.Layout(width="100%"))
    state: dict = {}

    def redraw():
        box.children = charts(views, state)

    filters = group_filters(views[rows], state, redraw)
    redraw()
    return [filter_bar(filters), box, *after], views, {"notes": notes, "filters": filters, "charts": box}
