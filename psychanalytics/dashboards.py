"""Leader dashboards: widget trees for Voila pages, and the server that shows them.

A dashboard notebook in ``dashboards/`` holds a ``parameters`` cell, one
``build_*`` call and a short narrative; everything else lives here. Builders
read small aggregate frames (:mod:`psychanalytics.store.queries`), pass every
number through small-cell suppression
(:func:`~psychanalytics.privacy.suppression.suppress_small_cells`), draw them
with :mod:`psychanalytics.viz` and return an :mod:`ipywidgets` tree. Charts are
plotly mime bundles rendered by the ``jupyterlab-plotly`` extension that Voila
serves itself, so nothing loads from a CDN.

:func:`serve` runs Voila standalone on one notebook, bound to 127.0.0.1
(``privacy_security.md`` §4): no directory listing, no Jupyter contents or
kernels API, sources stripped, tracebacks hidden.

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
from pathlib import Path

import ipywidgets as widgets
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import sqlalchemy as sa

import psychanalytics
from psychanalytics import store, viz
from psychanalytics.config import Settings
from psychanalytics.privacy.suppression import suppress_complementary, suppress_small_cells
from psychanalytics.store import queries

__all__ = ["OVERVIEW_TITLE", "build_overview", "dashboards_dir", "figure_widget", "serve"]

OVERVIEW_TITLE = "钟楼区学生心理健康总览"
HIGH_RISK_RANK = 2
"""PHQ-9 ``band_rank`` 2 = moderate (total >= 10), the cut for probable depression."""

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


def _unavailable() -> widgets.VBox:
    """The page shown when the database cannot be read: what to do, in Chinese first; no detail leaks."""
    return widgets.VBox(
        [
            _header(None, readable=False),
            widgets.HTML(
                '<div style="border:2px solid #b02a37;border-radius:6px;padding:12px 16px;margin-top:12px;'
                'background:#fdf2f2;font-size:18px">暂时无法读取数据，本页没有显示任何数字。请联系数据管理员检查数据库。'
                f"<br>{_en('The data cannot be read right now, so no figure is shown. Please ask the data administrator to check the database.')}"
                "</div>"
            ),
        ],
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


def _cards(
    screened: pd.DataFrame, elevated: pd.DataFrame, staffing: pd.DataFrame, min_cell: int
) -> widgets.HTML:
    def text(value: object, template: str = "{:,}") -> str:
        return viz.suppressed_text(value, template=template, min_cell=min_cell)

    cards = (
        _latest_card(
            "最近一次普测人数",
            "students screened, latest wave",
            screened,
            lambda last: text(last["n"]),
            lambda last: f"{last['wave_label']} · 全区在册 {text(last['enrolled'])} 人",
            empty="暂无普测 / no wave yet",
        ),
        _latest_card(
            "PHQ-9 ≥10 占比",
            "作答 PHQ-9 的学生中 · of PHQ-9 takers, score ≥ 10",
            elevated,
            lambda last: text(last["share"], template="{:.1%}"),
            lambda last: f"{text(last['n'])} / {text(last['total'])} 人 · {last['wave_label']}",
            empty="暂无 PHQ-9 数据 / no PHQ-9 scores",
        ),
        _latest_card(
            "专职心理教师配备率",
            "schools with a full-time psychology teacher",
            staffing,
            lambda last: text(last["share"], template="{:.0%}"),
            lambda last: f"{text(last['n'])} / {text(last['schools'])} 所学校 · {last['school_year']} 学年",
            empty="暂无数据 / no data",
        ),
    )
    return widgets.HTML(f'<div style="display:flex;gap:12px;margin:8px 0">{"".join(cards)}</div>')


def _footer(min_cell: int) -> widgets.HTML:
    english = (
        f"Cells resting on fewer than {min_cell} students are suppressed; no individual is shown. "
        "PHQ-9 bands 0-4 minimal, 5-9 mild, 10-14 moderate, 15-19 moderately severe, 20-27 severe."
    )
    return widgets.HTML(
        f'<div style="font-size:13px;color:#555;margin-top:4px">少于 {min_cell} 人的数据不显示（标为「&lt;{min_cell}」），'
        "本页不显示任何个人信息。PHQ-9 风险等级：0–4 无、5–9 轻度、10–14 中度、15–19 中重度、20–27 重度。"
        f"<br>{_en(english)}</div>"
    )


def _suppress(frame: pd.DataFrame, min_cell: int, *passes: tuple[str, tuple[str, ...]]) -> pd.DataFrame:
    for count, dependent in passes:
        frame = suppress_small_cells(frame, count=count, dependent=dependent, min_cell=min_cell)
    return frame


def build_overview(db: str | Path | sa.Engine | None = None, *, min_cell: int | None = None) -> widgets.VBox:
    """The 「总览」 page for district leaders.

    Banner 「演示数据」 when any school is synthetic; title and data-as-of
    date; three headline numbers (students screened in the latest wave, share
    with PHQ-9 >= 10, share of schools with a full-time psychology teacher),
    each with its denominator; then three charts (screened per wave, PHQ-9 band
    distribution per wave, staffing coverage per school year).

    Parameters
    ----------
    db : str, Path, sqlalchemy.Engine, optional
        SQLite path, SQLAlchemy URL or engine; default ``PSYCHANALYTICS_DB``.
    min_cell : int, optional
        Small-cell threshold; default ``PSYCHANALYTICS_MIN_CELL`` (10).

    Returns
    -------
    ipywidgets.VBox
        Children in page order: [banner], header, headline cards, chart row, footer.

        A database that is missing (never created: a dashboard creates nothing) or
        cannot be read (a damaged file, a server that is down) gives a page saying
        so — in Chinese first, with no path or error text; the detail goes to the
        server's terminal (the kernel's own standard error, not the page).
    """
    min_cell = Settings.from_env().min_cell if min_cell is None else min_cell
    engine = None
    try:
        engine = db if isinstance(db, sa.Engine) else store.connect_existing(db, read_only=True)
        screened = queries.screened_per_wave(engine)
        bands = queries.band_distribution(engine, instrument="phq9", scale="total")
        elevated = queries.share_at_or_above(
            engine, instrument="phq9", scale="total", min_rank=HIGH_RISK_RANK
        )
        staffing = queries.staffing_coverage(engine)
        as_of = queries.data_as_of(engine)
        synthetic = queries.is_synthetic(engine)
    except (store.StoreNotFoundError, sa.exc.DBAPIError) as exc:
        print(f"数据库无法读取 / the database cannot be read: {exc}", file=sys.__stderr__, flush=True)
        return _unavailable()
    finally:
        if engine is not None and engine is not db:
            engine.dispose()

    screened = _suppress(screened, min_cell, ("n", ()), ("enrolled", ()))
    bands = _suppress(bands, min_cell, ("n", ("share",)), ("total", ("n", "share")))
    bands = suppress_complementary(bands, by=["wave_id"], dependent=("share",))
    elevated = _suppress(elevated, min_cell, ("n", ("share",)), ("total", ("n", "share")))
    # the headline n is another margin of the band cells: a wave with a blanked band at or above the
    # cut-off has its headline blanked too, or that band could be recovered by subtraction
    hidden = bands.loc[bands["suppressed"] & (bands["band_rank"] >= HIGH_RISK_RANK), "wave_id"]
    elevated = elevated.assign(
        n=elevated["n"].mask(elevated["wave_id"].isin(hidden)),
        share=elevated["share"].mask(elevated["wave_id"].isin(hidden)),
        suppressed=elevated["suppressed"] | elevated["wave_id"].isin(hidden),
    )
    # The unit here is the school, not the student: whether a school has a full-time psychology
    # teacher is a public institutional fact, so only an empty denominator is blanked.
    staffing = _suppress(staffing, 1, ("schools", ("n", "share")))

    phq_title = viz.bilingual("PHQ-9 抑郁风险等级分布", "PHQ-9 score bands per wave")
    charts = widgets.HBox(
        [
            widgets.Box(
                [figure_widget(viz.screened_bars(screened, min_cell=min_cell))],
                layout=widgets.Layout(width="32%", min_width="400px"),
            ),
            widgets.Box(
                [figure_widget(viz.band_bars(bands, title=phq_title, min_cell=min_cell))],
                layout=widgets.Layout(width="36%", min_width="400px"),
            ),
            widgets.Box(
                [figure_widget(viz.staffing_bars(staffing))],
                layout=widgets.Layout(width="32%", min_width="400px"),
            ),
        ],
        layout=widgets.Layout(width="100%", flex_flow="row wrap"),  # narrow screens: charts wrap
    )
    children = [
        _header(as_of),
        _cards(screened, elevated, staffing, min_cell),
        charts,
        _footer(min_cell),
    ]
    if synthetic:
        children.insert(0, _banner())
    return widgets.VBox(children, layout=widgets.Layout(width="100%"))


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
