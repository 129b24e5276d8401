"""The parts every leader page shares: banner, header, chart with its reading hint, footer, filters, the page
shown when the mart cannot be read. Pages (``build_*``) only choose tables of the mart and charts."""

from __future__ import annotations

import html
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType

import ipywidgets as widgets
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import sqlalchemy as sa

from psychanalytics import instruments
from psychanalytics.mart import Mart, MartNotFoundError, open_mart
from psychanalytics.privacy import marker_note

_SMALL = 'style="font-size:12px;color:#777;font-weight:normal"'


class LeaderPage(widgets.VBox):
    """A page for district leaders: the widget tree Voila shows, and the mart tables its numbers come from.

    ``views`` maps a name to the protected mart table behind each chart or card
    (empty when the page shows no number), so that tests can check every
    number on the page was published. ``filters`` holds the page's filter
    widgets and ``charts`` the box its charts are redrawn into.
    """

    def __init__(self, children, *, views: Mapping[str, pd.DataFrame], filters=(), charts=None, **kwargs):
        super().__init__(children, **kwargs)
        self.views = MappingProxyType(dict(views))
        self.filters = tuple(filters)
        self.charts = charts


def english(text: str) -> str:
    """``text`` as the small grey English line beside Chinese (HTML-escaped)."""
    return f"<span {_SMALL}>{html.escape(text)}</span>"


def figure_widget(fig: go.Figure, *, height: int | None = None) -> widgets.Output:
    """An ``Output`` widget holding ``fig`` as a plotly mime bundle (rendered offline by Voila).

    >>> import plotly.graph_objects as go
    >>> out = figure_widget(go.Figure(go.Bar(x=["甲"], y=[1])))
    >>> list(out.outputs[0]["data"])
    ['application/vnd.plotly.v1+json']
    """
    bundle = pio.renderers["plotly_mimetype"].to_mimebundle(fig)
    bundle["application/vnd.plotly.v1+json"]["config"] = {"displaylogo": False, "displayModeBar": False}
    out = widgets.Output(layout=widgets.Layout(width="100%", min_height=f"{height}px" if height else None))
    out.outputs = ({"output_type": "display_data", "data": bundle, "metadata": {}},)
    return out


def chart(fig: go.Figure, hint_zh: str, hint_en: str, *, width: str = "100%") -> widgets.VBox:
    """A chart with its one-line 「怎么看」 hint under it, ``width`` of the row it sits in."""
    hint = widgets.HTML(
        f'<div style="font-size:13px;color:#333;margin:0 8px 8px 8px">怎么看：{html.escape(hint_zh)} '
        f"{english(hint_en)}</div>"
    )
    narrower = {} if width == "100%" else {"min_width": "420px"}
    return widgets.VBox([figure_widget(fig), hint], layout=widgets.Layout(width=width, **narrower))


def chart_row(charts: Sequence[widgets.Widget]) -> widgets.Box:
    """Charts side by side, wrapping onto the next line on a narrow screen."""
    return widgets.Box(list(charts), layout=widgets.Layout(width="100%", flex_flow="row wrap"))


def banner() -> widgets.HTML:
    """The 「演示数据」 banner of a page built on synthetic data."""
    return widgets.HTML(
        '<div style="background:#fff3cd;border:2px solid #d39e00;border-radius:6px;padding:6px 16px;'
        'font-size:18px;font-weight:bold;color:#6b4e00">演示数据 · 本页全部为合成数据，不代表任何真实学生'
        f" {english('demo data: synthetic, no real students')}</div>"
    )


def header(
    title_zh: str, title_en: str, manifest: Mapping | None, *, as_of: str | None = None
) -> widgets.HTML:
    """Title and the date the data run to (or that the data cannot be read, when ``manifest`` is None).

    The date is the last screening wave's (the manifest's), or ``as_of`` (``YYYY-MM-DD``) for a page whose
    data run to another date (crisis cases).
    """
    if manifest is None:
        as_of_text, as_of_en = "数据暂时无法读取", "data unavailable"
    else:
        as_of = as_of or manifest["snapshot"]["data_as_of"]
        as_of_text = "暂无普测数据" if as_of is None else "数据截至 {}年{}月{}日".format(*as_of.split("-"))
        as_of_en = f"data as of {as_of or '—'}"
    return widgets.HTML(
        f'<h1 style="margin:4px 0 0 0;font-size:28px">{html.escape(title_zh)}</h1>'
        f'<div style="font-size:14px;color:#444">{english(title_en)} &nbsp;·&nbsp; {as_of_text} {english(as_of_en)}</div>'
    )


def footer(
    manifest: Mapping, *, notes: Sequence[tuple[str, str]] = (), specs: Sequence[str] = ()
) -> widgets.HTML:
    """Notes (Chinese, English), the markers, and the data snapshot and scoring-spec versions behind the page."""
    markers_zh, markers_en = marker_note(manifest["min_cell"])
    versions = manifest["spec_versions"]
    spec_text = "、".join(
        f"{instruments.get(code).abbreviation} {versions[code]}" for code in specs if code in versions
    )
    snapshot, published = manifest["snapshot"], manifest["published_utc"].replace("T", " ")
    row_zh = "审计记录为空" if snapshot["audit_seq"] is None else f"审计记录第 {snapshot['audit_seq']} 条"
    row_en = "empty audit log" if snapshot["audit_seq"] is None else f"audit row {snapshot['audit_seq']}"
    source_zh = f"数据快照：{row_zh}，发布于 {published}（UTC）" + (
        f"；计分规则版本：{spec_text}" if spec_text else ""
    )
    source_en = f"snapshot: {row_en}, published {published} UTC" + (
        f"; scoring specs {spec_text}" if spec_text else ""
    )
    lines = [f"{html.escape(zh)}<br>{english(en)}" for zh, en in notes]
    lines += [
        f"{html.escape(markers_zh)}<br>{english(markers_en)}",
        f"{html.escape(source_zh)}<br>{english(source_en)}",
    ]
    return widgets.HTML(
        '<div style="font-size:13px;color:#555;margin-top:6px">'
        + "".join(f'<div style="margin-top:4px">{line}</div>' for line in lines)
        + "</div>"
    )


def _unavailable(title_zh: str, title_en: str) -> LeaderPage:
    """The page shown when the mart cannot be read: what to do, in Chinese first; no detail leaks."""
    return LeaderPage(
        [
            header(title_zh, title_en, None),
            widgets.HTML(
                '<div style="border:2px solid #b02a37;border-radius:6px;padding:12px 16px;margin-top:12px;'
                'background:#fdf2f2;font-size:18px">暂时无法读取数据，本页没有显示任何数字。请联系数据管理员重新发布数据。'
                f"<br>{english('The published data cannot be read right now, so no figure is shown. Please ask the data administrator to publish them again.')}"
                "</div>"
            ),
        ],
        views={},
        layout=widgets.Layout(width="100%"),
    )


def leader_page(
    mart: str | Path | Mart | None,
    title_zh: str,
    title_en: str,
    body: Callable[[Mart], tuple[list[widgets.Widget], dict[str, pd.DataFrame], dict]],
) -> LeaderPage:
    """A page: banner on demo data, header, what ``body(mart)`` draws, footer; or the unavailable page.

    ``body`` returns ``(children, views, extras)``: the widgets between header
    and footer, the mart tables they show, and :class:`LeaderPage` options
    (``filters``, ``charts``) plus ``notes`` and ``specs`` for the footer and ``as_of`` for the header
    (the date the page's data run to, when not the last screening wave's).
    ``mart`` defaults to ``PSYCHANALYTICS_MART`` (set by ``psychanalytics serve``).
    """
    import os

    target = mart if mart is not None else os.environ.get("PSYCHANALYTICS_MART")
    opened = None
    try:
        if target is None:
            raise MartNotFoundError("no mart given and PSYCHANALYTICS_MART is not set")
        opened = open_mart(target)
        children, views, extras = body(opened)
        manifest = opened.manifest
    except (MartNotFoundError, KeyError, sa.exc.DBAPIError) as exc:
        print(f"发布库无法读取 / the mart cannot be read: {exc}", file=sys.__stderr__, flush=True)
        return _unavailable(title_zh, title_en)
    finally:
        if opened is not None and opened is not mart:
            opened.close()
    notes, specs, as_of = extras.pop("notes", ()), extras.pop("specs", ()), extras.pop("as_of", None)
    page = [
        header(title_zh, title_en, manifest, as_of=as_of),
        *children,
        footer(manifest, notes=notes, specs=specs),
    ]
    if manifest["snapshot"]["synthetic"]:
        page.insert(0, banner())
    return LeaderPage(page, views=views, layout=widgets.Layout(width="100%"), **extras)


def dropdown(options: Sequence[tuple[str, object]], description: str, on_change: Callable[[object], None]):
    """A filter: a dropdown whose change calls ``on_change(value)``."""
    widget = widgets.Dropdown(
        options=list(options), description=description, layout=widgets.Layout(width="260px")
    )
    widget.observe(lambda change: on_change(change["new"]), names="value")
    return widget
