"""A leader page's widget tree as one static HTML document: its default view, drawn without a kernel.

Each widget becomes the HTML its ipywidgets view would draw: ``HTML`` its value, boxes flex ``div``\\ s with
their layout, an ``Output`` holding a plotly figure the figure (plotly.js served by our own server), a
dropdown its current choice, disabled, beside a link to the live page where it can be changed. A widget
of any other kind raises :class:`StaticViewError`: such a page is served live, never half drawn
(DESIGN.md, decision 95).
"""

from __future__ import annotations

import html
from collections.abc import Callable

import ipywidgets as widgets
import plotly.io as pio

PLOTLY_MIME = "application/vnd.plotly.v1+json"
LIVE_LINK = "调整筛选（启动交互页面）"
"""The words of the link from a static page's filters to its live page."""

_STYLE = (
    "body{margin:0;padding:20px 15px;color:rgba(0,0,0,.87);font-size:13px;"
    "font-family:system-ui,-apple-system,'Segoe UI',Helvetica,Arial,'Noto Sans CJK SC',sans-serif}"
    ".w{box-sizing:border-box;margin:2px;overflow:visible}"
    ".box{box-sizing:border-box;display:flex;margin:0;overflow:auto}"
    ".html{line-height:28px}"
    ".control{display:flex;align-items:baseline;height:28px;line-height:28px;width:300px}"
    ".control label{width:80px;text-align:right;margin-right:8px;flex-shrink:0}"
    ".control select{flex:1 1 148px;min-width:0;height:28px;font-size:13px;border:1px solid #9e9e9e;"
    "background:#fff;color:rgba(0,0,0,.87);opacity:.6}"
    ".live{align-self:center;margin:2px 8px;padding:3px 12px;border:1px solid #0b3d91;border-radius:4px;"
    "background:#0b3d91;color:#fff;font-size:14px;line-height:20px;text-decoration:none;white-space:nowrap}"
    ".live:hover{background:#1a56c4}"
    "details.w{border:1px solid #bdbdbd}details.w>summary{padding:4px 8px;background:#eee;cursor:pointer}"
)


class StaticViewError(TypeError):
    """A widget the static view cannot draw (the page is then served live)."""


def layout_css(widget: widgets.Widget) -> str:
    """The CSS of a widget's ``layout``: each set trait as its CSS property, as ipywidgets' views apply it.

    >>> import ipywidgets as widgets
    >>> layout_css(widgets.Box(layout=widgets.Layout(width="32%", flex_flow="row wrap")))
    'flex-flow:row wrap;width:32%'
    """
    layout = getattr(widget, "layout", None)
    if layout is None:
        return ""
    names = sorted(name for name in layout.keys if not name.startswith("_"))
    return ";".join(
        f"{name.replace('_', '-')}:{getattr(layout, name)}" for name in names if getattr(layout, name)
    )


def _div(css_class: str, widget: widgets.Widget, inner: str, extra_css: str = "") -> str:
    style = ";".join(part for part in (extra_css, layout_css(widget)) if part)
    return f'<div class="{css_class}" style="{html.escape(style)}">{inner}</div>'


def figure_html(out: widgets.Output) -> str:
    """The plotly figures an ``Output`` holds, as divs drawn by plotly.js (loaded once by the document).

    >>> import plotly.graph_objects as go
    >>> from psychanalytics.dashboards import figure_widget
    >>> "Plotly.newPlot" in figure_html(figure_widget(go.Figure(go.Bar(x=["甲"], y=[1]))))
    True
    """
    parts = []
    for output in out.outputs:
        figure = output.get("data", {}).get(PLOTLY_MIME)
        if figure is None:
            raise StaticViewError(f"an Output holds something other than a plotly figure: {list(output)}")
        height = figure.get("layout", {}).get("height")
        parts.append(
            pio.to_html(
                {"data": figure["data"], "layout": figure.get("layout", {})},
                config=figure.get("config"),
                full_html=False,
                include_plotlyjs=False,
                validate=False,
                default_height=f"{height}px" if height else "450px",
            )
        )
    return "".join(parts)


def control_html(control: widgets.Dropdown) -> str:
    """A dropdown as its label and current choice, disabled (choosing is the live page's work).

    >>> import ipywidgets as widgets
    >>> control_html(widgets.Dropdown(options=[("2024-2025 学年", 1)], description="学年"))
    '<div class="w control" style=""><label>学年</label><select disabled><option selected>2024-2025 学年</option></select></div>'
    """
    width = getattr(control.style, "description_width", "") or ""
    label_style = f' style="width:{html.escape(width)}"' if width else ""
    choice = html.escape(str(control.label if control.label is not None else "—"))
    return _div(
        "w control",
        control,
        f"<label{label_style}>{html.escape(control.description)}</label>"
        f"<select disabled><option selected>{choice}</option></select>",
    )


def live_link(url: str) -> str:
    """The button from a static page's filters to its live page, where the filters work."""
    return f'<a class="live" href="{html.escape(url)}">{LIVE_LINK}</a>'


def _box(box: widgets.Box, draw: Callable[[widgets.Widget], str], live_url: str) -> str:
    inner = "".join(draw(child) for child in box.children)
    if any(isinstance(child, widgets.Dropdown) for child in box.children):
        inner += live_link(live_url)
    direction = "column" if isinstance(box, widgets.VBox) else "row"
    return _div("box", box, inner, f"flex-direction:{direction}")


def _accordion(accordion: widgets.Accordion, draw: Callable[[widgets.Widget], str]) -> str:
    sections = []
    for index, child in enumerate(accordion.children):
        title = accordion.titles[index] if index < len(accordion.titles) else ""
        opened = " open" if accordion.selected_index == index else ""
        sections.append(
            f'<details class="w"{opened}><summary>{html.escape(title or "")}</summary>{draw(child)}</details>'
        )
    return _div("box", accordion, "".join(sections), "flex-direction:column")


def widget_html(widget: widgets.Widget, *, live_url: str) -> str:
    """The HTML a widget tree draws in its current state (:class:`StaticViewError` for a kind it cannot).

    Parameters
    ----------
    widget : ipywidgets.Widget
        ``HTML``, a box (``Box``, ``HBox``, ``VBox`` and subclasses such as
        :class:`~psychanalytics.dashboards.LeaderPage`), ``Accordion``, ``Output``
        holding plotly figures, ``Dropdown``; boxes hold any of these.
    live_url : str
        Where the link beside a box's dropdowns goes: the live page.

    Returns
    -------
    str
        An HTML fragment; its figures need plotly.js on the page.

    Examples
    --------
    >>> import ipywidgets as widgets
    >>> widget_html(widgets.VBox([widgets.HTML("<b>总览</b>")]), live_url="x")
    '<div class="box" style="flex-direction:column"><div class="w html" style=""><b>总览</b></div></div>'
    >>> widget_html(widgets.IntSlider(), live_url="x")
    Traceback (most recent call last):
    ...
    psychanalytics.dashboards._static.StaticViewError: no static view of a IntSlider widget
    """

    def draw(child: widgets.Widget) -> str:
        return widget_html(child, live_url=live_url)

    if isinstance(widget, widgets.HTML):
        return _div("w html", widget, widget.value)
    if isinstance(widget, widgets.Output):
        return _div("w output", widget, figure_html(widget))
    if isinstance(widget, widgets.Dropdown):
        return control_html(widget)
    if isinstance(widget, widgets.Accordion):
        return _accordion(widget, draw)
    if isinstance(widget, widgets.VBox) or type(widget) in (widgets.Box, widgets.HBox):
        return _box(widget, draw, live_url)
    raise StaticViewError(f"no static view of a {type(widget).__name__} widget")


def static_html(page: widgets.Widget, *, title: str, live_url: str, plotly_js: str) -> str:
    """A page's widget tree as one HTML document, drawn as the live page first shows it, with no kernel.

    Parameters
    ----------
    page : ipywidgets.Widget
        The page (a :class:`~psychanalytics.dashboards.LeaderPage`), in its default state.
    title : str
        The browser tab's title.
    live_url : str
        The live page (its filters work there): the link beside the disabled filters.
    plotly_js : str
        Where the browser loads plotly.js from: our own server, never a CDN.

    Returns
    -------
    str
        A self-contained HTML document but for plotly.js.

    Raises
    ------
    StaticViewError
        When the tree holds a widget with no static view.

    Examples
    --------
    >>> import ipywidgets as widgets
    >>> page = widgets.VBox([widgets.HTML("<h1>总览</h1>")])
    >>> doc = static_html(page, title="总览", live_url="/voila/render/overview.ipynb", plotly_js="plotly.min.js")
    >>> doc.startswith('<!DOCTYPE html><html lang="zh-CN">'), "<h1>总览</h1>" in doc
    (True, True)
    """
    body = widget_html(page, live_url=live_url)
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style>"
        f'<script src="{html.escape(plotly_js)}"></script></head><body>{body}</body></html>'
    )
