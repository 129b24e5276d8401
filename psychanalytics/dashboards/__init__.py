"""Leader dashboards: widget trees for Voila pages, and the server that shows them.

A dashboard notebook in ``dashboards/`` holds a ``parameters`` cell and one
``build_*`` call; everything else lives here. Builders read small aggregate
frames (:mod:`psychanalytics.store.queries`), pass every table through the
leader-output policy (:func:`psychanalytics.privacy.leader_view`: suppression,
the headline rule, markers), draw what it allows with :mod:`psychanalytics.viz`
and return a :class:`LeaderPage`: the :mod:`ipywidgets` tree Voila shows, and
the views every number on it comes from (``tests/test_dashboards.py`` checks
the policy on every ``build_*`` here). Instrument names, cut-offs and band
ranges come from the instrument specs. Charts are plotly mime bundles rendered
by the ``jupyterlab-plotly`` extension that Voila serves itself, so nothing
loads from a CDN.

:func:`serve` runs Voila standalone on one notebook, bound to 127.0.0.1
(``docs/privacy.md``, Voila security): no directory listing, no Jupyter
contents or kernels API, sources stripped, tracebacks hidden.

Examples
--------
>>> from psychanalytics import store
>>> from psychanalytics.dashboards import build_overview
>>> engine = store.connect("sqlite://")
>>> store.create_all(engine)
>>> page = build_overview(engine)
>>> "钟楼区学生心理健康总览" in page.children[0].value
True
"""

from __future__ import annotations

import html
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import ipywidgets as widgets
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import sqlalchemy as sa

import psychanalytics
from psychanalytics import instruments, store, viz
from psychanalytics.config import Settings
from psychanalytics.privacy import LeaderView, leader_view, marker_note, shown_text
from psychanalytics.store import queries

__all__ = ["OVERVIEW_TITLE", "LeaderPage", "build_overview", "dashboards_dir", "figure_widget", "serve"]

OVERVIEW_TITLE = "钟楼区学生心理健康总览"
OVERVIEW_INSTRUMENT = "phq9"
OVERVIEW_SCALE = "total"
OVERVIEW_RISK = ("抑郁风险", "depression risk")
"""What the overview instrument's bands grade, in the page's words (Chinese, English)."""
HIGH_RISK_BAND = "moderate"
"""The headline counts students in this band of the overview's instrument or above: PHQ-9 moderate (total
>= 10, the spec's lower bound), the cut-off for probable major depression (Kroenke 2001; docs/instruments.md)."""


class LeaderPage(widgets.VBox):
    """A page for district leaders: the widget tree Voila shows, and the views its numbers come from.

    ``views`` maps a name to the :class:`~psychanalytics.privacy.LeaderView`
    behind each table, chart or card of the page (empty when the page shows no
    number), so that tests can check the policy on every page.
    """

    def __init__(self, children, *, views: Mapping[str, LeaderView], **kwargs):
        super().__init__(children, **kwargs)
        self.views = MappingProxyType(dict(views))


_SMALL = 'style="font-size:12px;color:#777;font-weight:normal"'


def _en(text: str) -> str:
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


def _banner() -> widgets.HTML:
    return widgets.HTML(
        '<div style="background:#fff3cd;border:2px solid #d39e00;border-radius:6px;padding:8px 16px;'
        'font-size:18px;font-weight:bold;color:#6b4e00">演示数据 · 本页全部为合成数据，不代表任何真实学生'
        f" {_en('demo data: synthetic, no real students')}</div>"
    )


def _header(as_of: object, *, readable: bool = True) -> widgets.HTML:
    if not readable:
        as_of_text, english = "数据暂时无法读取", "data unavailable"
    else:
        as_of_text = "暂无普测数据" if as_of is None else f"数据截至 {as_of:%Y年%m月%d日}"
        english = "data as of " + (str(as_of) if as_of else "—")
    return widgets.HTML(
        f'<h1 style="margin:4px 0 0 0;font-size:30px">{OVERVIEW_TITLE}</h1>'
        f'<div style="font-size:14px;color:#444">{_en("Zhonglou District student mental health overview")}'
        f" &nbsp;·&nbsp; {as_of_text} {_en(english)}</div>"
    )


def _unavailable() -> LeaderPage:
    """The page shown when the database cannot be read: what to do, in Chinese first; no detail leaks."""
    return LeaderPage(
        [
            _header(None, readable=False),
            widgets.HTML(
                '<div style="border:2px solid #b02a37;border-radius:6px;padding:12px 16px;margin-top:12px;'
                'background:#fdf2f2;font-size:18px">暂时无法读取数据，本页没有显示任何数字。请联系数据管理员检查数据库。'
                f"<br>{_en('The data cannot be read right now, so no figure is shown. Please ask the data administrator to check the database.')}"
                "</div>"
            ),
        ],
        views={},
        layout=widgets.Layout(width="100%"),
    )


def _card(label: str, english: str, value: str, detail: str) -> str:
    return (
        '<div style="flex:1;border:1px solid #ddd;border-radius:8px;padding:10px 16px;background:#fafafa">'
        f'<div style="font-size:16px">{html.escape(label)}</div><div style="line-height:1">{_en(english)}</div>'
        f'<div style="font-size:34px;font-weight:bold;color:#0b3d91;line-height:1.3">{html.escape(value)}</div>'
        f'<div style="font-size:13px;color:#444">{html.escape(detail)}</div></div>'
    )


def _latest_card(label: str, english: str, frame: pd.DataFrame, value, detail, *, empty: str) -> str:
    """A headline card of the last row of ``frame`` (``value(row)``, ``detail(row)``), or ``—`` with ``empty``."""
    if frame.empty:
        return _card(label, english, "—", empty)
    last = frame.iloc[-1]
    return _card(label, english, value(last), detail(last))


def _cards(screened: LeaderView, bands: LeaderView, staffing: LeaderView) -> widgets.HTML:
    spec = instruments.get(OVERVIEW_INSTRUMENT)
    cut = spec.scale(OVERVIEW_SCALE).band(HIGH_RISK_BAND).lower

    def text(row: pd.Series, column: str, template: str = "{:,}") -> str:
        return shown_text(row[column], row["marker"], template=template)

    cards = (
        _latest_card(
            "最近一次普测人数",
            "students screened, latest wave",
            screened.cells,
            lambda last: text(last, "count"),
            lambda last: f"{last['wave_label']} · 全区在册 {text(last, 'n')} 人",
            empty="暂无普测 / no wave yet",
        ),
        _latest_card(
            f"{spec.abbreviation} ≥{cut:g} 占比",
            f"作答 {spec.abbreviation} 的学生中 · of {spec.abbreviation} takers, score ≥ {cut:g}",
            bands.headline,
            lambda last: text(last, "proportion", "{:.1%}"),
            lambda last: f"{text(last, 'count')} / {text(last, 'n')} 人 · {last['wave_label']}",
            empty=f"暂无 {spec.abbreviation} 数据 / no {spec.abbreviation} scores",
        ),
        _latest_card(
            "专职心理教师配备率",
            "schools with a full-time psychology teacher",
            staffing.cells,
            lambda last: text(last, "proportion", "{:.0%}"),
            lambda last: f"{text(last, 'count')} / {text(last, 'n')} 所学校 · {last['school_year']} 学年",
            empty="暂无数据 / no data",
        ),
    )
    return widgets.HTML(f'<div style="display:flex;gap:12px;margin:8px 0">{"".join(cards)}</div>')


def _footer(min_cell: int) -> widgets.HTML:
    """Reading guide, markers and the instrument's bands (from its spec), Chinese first."""
    spec = instruments.get(OVERVIEW_INSTRUMENT)
    scale = spec.scale(OVERVIEW_SCALE)
    cut, band = scale.band(HIGH_RISK_BAND).lower, scale.band(HIGH_RISK_BAND)
    risk_zh, risk_en = OVERVIEW_RISK
    guide_zh = (
        f"怎么看这一页：上面三个数字是最近一次普测的人数、{spec.abbreviation} 总分 ≥{cut:g}"
        f"（{band.name_zh}及以上{risk_zh}）的学生占比、配备至少一名专职心理教师的学校占比；"
        "下面三张图是它们的历年变化。占比的分母写在数字下方。筛查结果提示的是“需要进一步关注”，不是诊断。"
    )
    guide_en = (
        f"How to read this page: the students screened in the latest wave, the share with {spec.abbreviation} "
        f"≥ {cut:g} ({band.name_en.lower()} or higher {risk_en}) and the share of schools with a full-time "
        "psychology teacher; the charts show them over time. Screening flags students for follow-up; it is "
        "not a diagnosis."
    )
    markers_zh, markers_en = marker_note(min_cell)
    legend_zh = viz.band_legend(OVERVIEW_INSTRUMENT, OVERVIEW_SCALE)
    legend_en = viz.band_legend(OVERVIEW_INSTRUMENT, OVERVIEW_SCALE, english=True)
    return widgets.HTML(
        f'<div style="font-size:13px;color:#555;margin-top:4px">{html.escape(markers_zh)} '
        f"{html.escape(legend_zh)}。<br>{_en(f'{markers_en} {legend_en}.')}"
        f'<div style="margin-top:6px">{html.escape(guide_zh)}<br>{_en(guide_en)}</div></div>'
    )


def build_overview(db: str | Path | sa.Engine | None = None, *, min_cell: int | None = None) -> LeaderPage:
    """The 「总览」 page for district leaders.

    Banner 「演示数据」 when any school is synthetic; title and data-as-of
    date; three headline numbers (students screened in the latest wave, share
    at or above the overview instrument's high-risk band — PHQ-9 >= 10 —,
    share of schools with a full-time psychology teacher), each with its
    denominator; three charts (screened per wave, band distribution per wave,
    staffing coverage per school year); a footer with the reading guide, the
    suppression markers and the instrument's bands from its spec. Every number
    passes :func:`~psychanalytics.privacy.leader_view`; the headline is the
    bands' own headline, blanked with any band it sums.

    Parameters
    ----------
    db : str, Path, sqlalchemy.Engine, optional
        SQLite path, SQLAlchemy URL or engine; default ``PSYCHANALYTICS_DB``.
    min_cell : int, optional
        Small-cell threshold; default ``PSYCHANALYTICS_MIN_CELL`` (10).

    Returns
    -------
    LeaderPage
        Children in page order: [banner], header, headline cards, chart row,
        footer; ``views``: ``screened``, ``bands`` (with its headline) and
        ``staffing``.

        A database that is missing (never created: a dashboard creates nothing) or
        cannot be read (a damaged file, a server that is down) gives a page saying
        so — in Chinese first, with no path or error text and no number; the detail
        goes to the server's terminal (the kernel's own standard error, not the page).
    """
    min_cell = Settings.from_env().min_cell if min_cell is None else min_cell
    engine = None
    try:
        engine = db if isinstance(db, sa.Engine) else store.connect_existing(db, read_only=True)
        screened = queries.screened_per_wave(engine)
        bands = queries.band_distribution(engine, instrument=OVERVIEW_INSTRUMENT, scale=OVERVIEW_SCALE)
        staffing = queries.staffing_coverage(engine)
        as_of = queries.data_as_of(engine)
        synthetic = queries.is_synthetic(engine)
    except (store.StoreNotFoundError, sa.exc.DBAPIError) as exc:
        print(f"数据库无法读取 / the database cannot be read: {exc}", file=sys.__stderr__, flush=True)
        return _unavailable()
    finally:
        if engine is not None and engine is not db:
            engine.dispose()

    high_risk = (
        instruments.get(OVERVIEW_INSTRUMENT).scale(OVERVIEW_SCALE).band_set().codes.index(HIGH_RISK_BAND)
    )
    bands = bands.drop(columns="unbanded")  # invalid sheets: a count of students the page does not show
    views = {
        "screened": leader_view(screened, min_cell=min_cell),
        "bands": leader_view(
            bands, by=("wave_id", "wave_label"), headline=bands["band_rank"] >= high_risk, min_cell=min_cell
        ),
        "staffing": leader_view(staffing, unit="school", min_cell=min_cell),
    }

    abbreviation, (risk_zh, _) = instruments.get(OVERVIEW_INSTRUMENT).abbreviation, OVERVIEW_RISK
    band_title = viz.bilingual(f"{abbreviation} {risk_zh}等级分布", f"{abbreviation} score bands per wave")
    charts = widgets.HBox(
        [
            widgets.Box(
                [figure_widget(viz.screened_bars(views["screened"].cells))],
                layout=widgets.Layout(width="32%", min_width="400px"),
            ),
            widgets.Box(
                [figure_widget(viz.band_bars(views["bands"].cells, title=band_title))],
                layout=widgets.Layout(width="36%", min_width="400px"),
            ),
            widgets.Box(
                [figure_widget(viz.staffing_bars(views["staffing"].cells))],
                layout=widgets.Layout(width="32%", min_width="400px"),
            ),
        ],
        layout=widgets.Layout(width="100%", flex_flow="row wrap"),  # narrow screens: charts wrap
    )
    children = [
        _header(as_of),
        _cards(views["screened"], views["bands"], views["staffing"]),
        charts,
        _footer(min_cell),
    ]
    if synthetic:
        children.insert(0, _banner())
    return LeaderPage(children, views=views, layout=widgets.Layout(width="100%"))


def dashboards_dir() -> Path:
    """The ``dashboards/`` folder of the checkout this package is installed from (editable install)."""
    return Path(psychanalytics.__file__).resolve().parents[1] / "dashboards"


def _voila_command(notebook: Path, port: int, open_browser: bool) -> list[str]:
    return [
        sys.executable,
        "-m",
        "voila",
        str(notebook),
        f"--port={port}",
        "--Voila.ip=127.0.0.1",
        "--VoilaConfiguration.strip_sources=True",
        "--VoilaConfiguration.show_tracebacks=False",
        *([] if open_browser else ["--no-browser"]),
    ]


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def serve(*, db: str | Path | None = None, port: int = 8866, open_browser: bool = False) -> int:
    """Serve the 「总览」 dashboard with Voila on http://127.0.0.1:``port``/ until interrupted.

    Runs ``voila dashboards/overview.ipynb`` standalone (one notebook, never a
    directory or a server extension) from the ``dashboards/`` folder, so its
    ``voila.json`` applies; the database reaches the kernel as
    ``PSYCHANALYTICS_DB``; its template ``zhonglou`` (Voila's lab template
    without CDN stylesheets) is found through ``JUPYTER_PATH``. Ctrl+C or SIGTERM stops Voila and returns 0;
    otherwise Voila's exit code is returned. Returns 2 with a message on
    standard error when the dashboards folder or the SQLite file is missing.
    """
    notebook = dashboards_dir() / "overview.ipynb"
    if not notebook.is_file():
        print(
            f"找不到仪表盘 / dashboard notebook not found: {notebook}\n"
            "serve needs an editable install from the repository (pip install -e .)",
            file=sys.stderr,
        )
        return 2
    url = store.resolve_url(db)
    try:
        store.connect_existing(url, read_only=True).dispose()
    except store.StoreNotFoundError as exc:
        print(exc, file=sys.stderr)
        return 2
    except sa.exc.DBAPIError as exc:  # the page says the data cannot be read; the detail is for this terminal
        print(f"数据库无法读取 / the database cannot be read: {exc.orig or exc}", file=sys.stderr)
    templates = str(notebook.parent / "share" / "jupyter")
    jupyter_path = os.pathsep.join(p for p in (templates, os.environ.get("JUPYTER_PATH")) if p)
    env = {**os.environ, "PSYCHANALYTICS_DB": url, "JUPYTER_PATH": jupyter_path}
    print(
        f"钟楼区学生心理健康总览 已启动，请在浏览器打开 / dashboard serving at: http://127.0.0.1:{port}/",
        flush=True,
    )
    print("按 Ctrl+C 停止 / press Ctrl+C to stop", flush=True)
    process = subprocess.Popen(_voila_command(notebook, port, open_browser), cwd=notebook.parent, env=env)
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _raise_interrupt) if in_main else None
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        return 0
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous)


from psychanalytics.dashboards import screening as screening  # noqa: E402  (it uses figure_widget above)
