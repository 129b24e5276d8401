"""Leader dashboards: widget trees for Voila pages read from the published mart, and the server that shows them.

A dashboard notebook in ``dashboards/`` holds a ``parameters`` cell and one
``build_*`` call; everything else lives here. Builders read the small
protected tables of the published mart (:mod:`psychanalytics.mart`: suppressed
by the one leader-output policy when published), never the row-level store;
draw them with :mod:`psychanalytics.viz`; and return a :class:`LeaderPage`:
the :mod:`ipywidgets` tree Voila shows, and the mart tables every number on it
comes from (``tests/test_dashboards.py`` checks every ``build_*`` here).
Instrument names, cut-offs and band ranges come from the instrument specs.
Charts are plotly mime bundles rendered by the ``jupyterlab-plotly`` extension
that Voila serves itself, so nothing loads from a CDN.

:func:`serve` runs Voila on the ``dashboards/`` folder, bound to 127.0.0.1
(``docs/privacy.md``, Voila security): a landing page of the six dashboards
(:data:`PAGES`) instead of a file list, no Jupyter contents or kernels API,
sources stripped, tracebacks hidden.

Examples
--------
>>> import tempfile, pathlib
>>> from psychanalytics import mart, store
>>> from psychanalytics.dashboards import build_overview
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> engine = store.connect(folder / "store.sqlite")
>>> store.create_all(engine)
>>> _ = mart.publish(engine, folder / "mart.sqlite")
>>> page = build_overview(folder / "mart.sqlite")
>>> "钟楼区学生心理健康总览" in page.children[0].value
True
"""

from __future__ import annotations

import html
import ipaddress
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import ipywidgets as widgets
import pandas as pd
import sqlalchemy as sa

import psychanalytics
from psychanalytics import instruments, store, viz
from psychanalytics import mart as mart_
from psychanalytics.dashboards._page import LeaderPage, chart, chart_row, english, figure_widget, leader_page
from psychanalytics.dashboards._static import StaticViewError, static_html
from psychanalytics.mart import Mart
from psychanalytics.mart.overview import HIGH_RISK_BAND, OVERVIEW_INSTRUMENT, OVERVIEW_SCALE
from psychanalytics.privacy import shown_text

__all__ = [
    "OVERVIEW_TITLE",
    "PAGES",
    "Dashboard",
    "LeaderPage",
    "build_crisis",
    "build_outcomes",
    "build_overview",
    "build_plan",
    "build_staffing",
    "build_screening",
    "dashboards_dir",
    "figure_widget",
    "landing_html",
    "serve",
    "static_html",
    "StaticViewError",
]


@dataclass(frozen=True)
class Dashboard:
    """One leader page: its notebook in ``dashboards/`` and what the landing page says of it."""

    notebook: str
    title_zh: str
    title_en: str
    about_zh: str
    about_en: str


PAGES = (
    Dashboard(
        "overview",
        "总览",
        "Overview",
        "全区一页看懂：普测人数与覆盖、筛查阳性率及趋势、师资与心理辅导室达标、危机个案",
        "the district at a glance",
    ),
    Dashboard(
        "screening",
        "心理普测",
        "Screening",
        "各次普测的风险等级分布（学段、年级、性别）、趋势、学校漏斗图、覆盖率与无效问卷",
        "distributions, trends, school funnel, coverage",
    ),
    Dashboard(
        "staffing",
        "师资与阵地",
        "Staffing and facilities",
        "各标准下专职心理教师缺口与招聘预测、心理辅导室、课程与活动",
        "staffing gaps, rooms, courses and activities",
    ),
    Dashboard(
        "crisis",
        "危机预警",
        "Crisis warning",
        "班级—学校—社会三级预警的漏斗与各环节用时（仅汇总数）",
        "the crisis funnel and time between stages",
    ),
    Dashboard(
        "outcomes",
        "干预成效",
        "Intervention outcomes",
        "团体辅导与积极心理品质课程的效果量（含置信区间）与可靠变化",
        "effect sizes with intervals, reliable change",
    ),
    Dashboard(
        "plan",
        "三年计划",
        "Three-year plan",
        "行动计划各项目标、达成情况与年度督导评分概要",
        "targets, attainment and the supervision scorecard",
    ),
)
"""The six leader dashboards in landing-page order (one home for their names and descriptions)."""

PAGE_ROUTE = "page"
"""A page's static view is at ``<base_url>page/<notebook>`` (where the landing page links); its live page,
where the filters work, at ``<base_url>voila/render/<notebook>.ipynb`` (DESIGN.md, decision 95)."""

OVERVIEW_TITLE = "钟楼区学生心理健康总览"
OVERVIEW_RISK = ("抑郁风险", "depression risk")
"""What the overview instrument's bands grade, in the page's words (Chinese, English)."""


def _card(label: str, label_en: str, value: str, detail: str) -> str:
    return (
        '<div style="flex:1;border:1px solid #ddd;border-radius:8px;padding:8px 16px;background:#fafafa">'
        f'<div style="font-size:16px">{html.escape(label)}</div><div style="line-height:1">{english(label_en)}</div>'
        f'<div style="font-size:32px;font-weight:bold;color:#0b3d91;line-height:1.3">{html.escape(value)}</div>'
        f'<div style="font-size:13px;color:#444">{html.escape(detail)}</div></div>'
    )


def _latest_card(label: str, label_en: str, frame: pd.DataFrame, value, detail, *, empty: str) -> str:
    """A headline card of the last row of ``frame`` (``value(row)``, ``detail(row)``), or ``—`` with ``empty``."""
    if frame.empty:
        return _card(label, label_en, "—", empty)
    last = frame.iloc[-1]
    return _card(label, label_en, value(last), detail(last))


def _text(row: pd.Series, column: str, template: str = "{:,}") -> str:
    return shown_text(row[column], row["marker"], template=template)


def _open_cases_card(by_stage: pd.DataFrame, total: pd.DataFrame) -> str:
    """Open crisis cases of the district at the data's date, and the stage each is waiting at."""
    from psychanalytics import crisis

    if total.empty:
        return _card("未结案危机个案", "open crisis cases", "—", "暂无危机个案记录 / no case recorded")
    last = total.iloc[-1]
    stages = by_stage[by_stage["position"] != "closed"]
    detail = " · ".join(
        f"{crisis.name('stages', row.position)} {shown_text(row.count, row.marker)}"
        for row in stages.itertuples()
    )
    return _card(
        "未结案危机个案",
        "open crisis cases, by the stage they are at",
        _text(last, "count") + " 例",
        f"{detail} · 截至 {str(last['as_of'])[:10]}",
    )


def _cards(
    screened: pd.DataFrame, headline: pd.DataFrame, staffing: pd.DataFrame, open_cases: str
) -> widgets.HTML:
    spec = instruments.get(OVERVIEW_INSTRUMENT)
    cut = spec.scale(OVERVIEW_SCALE).band(HIGH_RISK_BAND).lower
    cards = (
        _latest_card(
            "最近一次普测人数",
            "students screened, latest wave",
            screened,
            lambda last: _text(last, "count"),
            lambda last: f"{last['wave_label']} · 全区在册 {_text(last, 'n')} 人",
            empty="暂无普测 / no wave yet",
        ),
        _latest_card(
            f"{spec.abbreviation} ≥{cut:g} 占比",
            f"作答 {spec.abbreviation} 的学生中 · of {spec.abbreviation} takers, score ≥ {cut:g}",
            headline,
            lambda last: _text(last, "proportion", "{:.1%}"),
            lambda last: f"{_text(last, 'count')} / {_text(last, 'n')} 人 · {last['wave_label']}",
            empty=f"暂无 {spec.abbreviation} 数据 / no {spec.abbreviation} scores",
        ),
        _latest_card(
            "专职心理教师配备率",
            "schools with a full-time psychology teacher",
            staffing,
            lambda last: _text(last, "proportion", "{:.0%}"),
            lambda last: f"{_text(last, 'count')} / {_text(last, 'n')} 所学校 · {last['school_year']} 学年",
            empty="暂无数据 / no data",
        ),
        open_cases,
    )
    return widgets.HTML(f'<div style="display:flex;gap:12px;margin:6px 0">{"".join(cards)}</div>')


def _overview_guide() -> widgets.HTML:
    """「怎么看这一页」 in one line under the title, above the fold."""
    spec = instruments.get(OVERVIEW_INSTRUMENT)
    band = spec.scale(OVERVIEW_SCALE).band(HIGH_RISK_BAND)
    risk_zh, risk_en = OVERVIEW_RISK
    zh = (
        f"怎么看这一页：四个数字是最近一次普测的人数、{spec.abbreviation} 总分 ≥{band.lower:g}"
        f"（{band.name_zh}及以上{risk_zh}）的学生占比、配备专职心理教师的学校占比和尚未结案的危机个案，"
        "下面三张图是前三项的历年变化。"
        "筛查提示“需要进一步关注”，不是诊断。"
    )
    en = (
        f"Screened; {spec.abbreviation} >= {band.lower:g} ({band.name_en.lower()} or higher {risk_en}); schools with a "
        "full-time psychology teacher; open crisis cases. A screen is a flag, not a diagnosis."
    )
    return widgets.HTML(
        f'<div style="font-size:14px;color:#333;margin:2px 0">{html.escape(zh)} {english(en)}</div>'
    )


def _overview_body(mart: Mart):
    tables = mart_.overview
    screened, bands, staffing = tables.SCREENED.name, tables.BANDS.name, tables.STAFFING.name
    open_cases, rooms = mart_.crisis.OPEN_BY_STAGE.name, mart_.staffing.ROOMS.name
    names = (screened, bands, bands + "__headline", staffing, rooms, open_cases, open_cases + "__headline")
    views = {name: mart.table(name) for name in names}
    abbreviation, (risk_zh, _) = instruments.get(OVERVIEW_INSTRUMENT).abbreviation, OVERVIEW_RISK
    band_title = viz.bilingual(f"{abbreviation} {risk_zh}等级分布", f"{abbreviation} score bands per wave")
    charts = chart_row(
        [
            chart(
                viz.screened_bars(views[screened]),
                "柱高是每次普测的受测人数；把鼠标移到柱上可看全区在册人数。",
                "bars: students screened per wave; hover for those enrolled",
                width="32%",
            ),
            chart(
                viz.band_bars(views[bands], title=band_title, at_least=HIGH_RISK_BAND),
                "每根柱子是一次普测，颜色越深风险越高；柱顶是中度及以上的占比，看它是否逐年下降。",
                "one column per wave, darker is higher risk; on top: the share at moderate or above",
                width="36%",
            ),
            chart(
                viz.staffing_bars(views[staffing], rooms=views[rooms]),
                "各学年配备专职心理教师、心理辅导室达标的学校占比；虚线是计划目标：每所学校都达到。",
                "schools with a full-time psychology teacher and with a standard counselling room; dashed: the target",
                width="32%",
            ),
        ]
    )
    open_card = _open_cases_card(views[open_cases], views[open_cases + "__headline"])
    cards = _cards(views[screened], views[bands + "__headline"], views[staffing], open_card)
    legend = (
        viz.band_legend(OVERVIEW_INSTRUMENT, OVERVIEW_SCALE),
        viz.band_legend(OVERVIEW_INSTRUMENT, OVERVIEW_SCALE, english=True),
    )
    return [_overview_guide(), cards, charts], views, {"notes": [legend], "specs": (OVERVIEW_INSTRUMENT,)}


def build_overview(mart: str | Path | Mart | None = None) -> LeaderPage:
    """The 「总览」 page for district leaders, read from the published mart.

    Banner 「演示数据」 on synthetic data; title and data-as-of date; three
    headline numbers (students screened in the latest wave, share at or above
    the overview instrument's high-risk band — PHQ-9 >= 10 —, share of schools
    with a full-time psychology teacher), each with its denominator; three
    charts with a 「怎么看」 hint each; a footer with the reading guide, the
    suppression markers, the data snapshot and the scoring-spec versions.

    Parameters
    ----------
    mart : str, Path or Mart, optional
        The published mart (a SQLite file or PostgreSQL URL); default
        ``PSYCHANALYTICS_MART`` (set by ``psychanalytics serve``).

    Returns
    -------
    LeaderPage
        ``views``: the mart tables shown, by name (``screened_per_wave``,
        ``phq9_bands_per_wave`` and its ``__headline``, ``staffing_coverage``). A mart that is missing or cannot be read gives
        a page saying so, in Chinese first, with no path, error text or number;
        the detail goes to the server's terminal.
    """
    return leader_page(
        mart, OVERVIEW_TITLE, "Zhonglou District student mental health overview", _overview_body
    )


def dashboards_dir() -> Path:
    """The ``dashboards/`` folder of the checkout this package is installed from (editable install)."""
    return Path(psychanalytics.__file__).resolve().parents[1] / "dashboards"


def landing_html(*, base_url: str = "/") -> str:
    """The landing page: the six dashboards as cards, in Chinese first, and nothing else (self-contained HTML).

    >>> "心理普测" in landing_html()
    True
    """
    cards = "".join(
        f'<a class="card" href="{base_url}{PAGE_ROUTE}/{page.notebook}">'
        f"<h2>{html.escape(page.title_zh)} <small>{html.escape(page.title_en)}</small></h2>"
        f"<p>{html.escape(page.about_zh)}</p><p class=en>{html.escape(page.about_en)}</p></a>"
        for page in PAGES
    )
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>钟楼区学生心理健康数据看板</title>'
        "<style>body{font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;margin:24px 40px;color:#222}"
        "h1{font-size:28px;margin:0}.sub{color:#666;font-size:14px;margin-bottom:16px}"
        ".grid{display:grid;grid-template-columns:repeat(3,1fr);gap:16px}"
        ".card{display:block;border:1px solid #ccc;border-radius:8px;padding:12px 16px;text-decoration:none;color:#222;"
        "background:#fafafa}.card:hover{border-color:#0b3d91;background:#f0f4fb}"
        ".card h2{font-size:22px;margin:0 0 6px 0;color:#0b3d91}.card small{font-size:13px;color:#777}"
        ".card p{margin:2px 0;font-size:15px}.card p.en{font-size:12px;color:#777}</style></head><body>"
        "<h1>钟楼区学生心理健康数据看板</h1>"
        '<div class="sub">Zhonglou District student mental health dashboards · 只读，全部数字来自已发布的汇总数据（小于 10 人不显示）'
        "</div>"
        f'<div class="grid">{cards}</div></body></html>'
    )


def _template_dir(folder: Path) -> Path:
    """Voila's templates for ``serve``: ``zhonglou`` from ``dashboards/share``, its tree page the landing page."""
    source = dashboards_dir() / "share" / "jupyter"
    shutil.copytree(source, folder, dirs_exist_ok=True)
    landing = landing_html(base_url="{{ base_url }}")
    for name in ("tree.html", "tree-lab.html"):  # Voila's lab and classic file lists
        (folder / "voila" / "templates" / "zhonglou" / name).write_text(landing, "utf-8")
    return folder


def _is_loopback(ip: str) -> bool:
    return ip == "localhost" or ipaddress.ip_address(ip).is_loopback


def _voila_command(folder: Path, port: int, open_browser: bool, ip: str = "127.0.0.1") -> list[str]:
    """Voila's command line (the token, when one is needed, goes through the environment, not argv)."""
    return [
        sys.executable,
        "-m",
        "psychanalytics.dashboards._voila_app",
        str(folder),
        f"--port={port}",
        f"--Voila.ip={ip}",
        "--VoilaConfiguration.strip_sources=True",
        "--VoilaConfiguration.show_tracebacks=False",
        *([] if open_browser else ["--no-browser"]),
    ]


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def serve(
    *,
    mart: str | Path | None = None,
    db: str | Path | None = None,
    port: int = 8866,
    ip: str = "127.0.0.1",
    token: str | None = None,
    open_browser: bool = False,
) -> int:
    """Serve the leader dashboards with Voila on http://``ip``:``port``/ until interrupted.

    Runs Voila on the ``dashboards/`` folder with its ``voila.json`` and the
    template ``zhonglou`` (Voila's lab template without CDN stylesheets, its
    file list replaced by the landing page of :data:`PAGES`). The pages read
    ``mart`` only (``PSYCHANALYTICS_MART``); given ``db`` instead, the mart
    beside the store (``<name>-mart.sqlite``) is published first unless it is
    current, so the kernels never see the row-level store. Ctrl+C or SIGTERM
    stops Voila and returns 0; otherwise Voila's exit code is returned.
    Returns 2 with a message on standard error when the dashboards folder, the
    mart or the store is missing.

    Bound to 127.0.0.1 by default. Bound to any other address (``ip``), the
    pages ask for a token: ``token``, else ``PSYCHANALYTICS_SERVE_TOKEN``, else a
    new random one, printed once in the URL to give to leaders
    (docs/privacy.md, Voila security).
    """
    folder = dashboards_dir()
    if not (folder / "overview.ipynb").is_file():
        print(
            f"找不到仪表盘 / dashboard notebooks not found in {folder}\n"
            "serve needs an editable install from the repository (pip install -e .)",
            file=sys.stderr,
        )
        return 2
    try:
        target = mart_.publish_beside(db) if mart is None else mart
        Mart(target).close()
    except (store.StoreNotFoundError, mart_.MartNotFoundError) as exc:
        print(exc, file=sys.stderr)
        return 2
    except sa.exc.DBAPIError as exc:  # the page says the data cannot be read; the detail is for this terminal
        print(f"数据无法读取 / the data cannot be read: {exc.orig or exc}", file=sys.stderr)
        target = mart
    with tempfile.TemporaryDirectory(prefix="psychanalytics-voila-") as runtime:
        templates = str(_template_dir(Path(runtime)))
        jupyter_path = os.pathsep.join(p for p in (templates, os.environ.get("JUPYTER_PATH")) if p)
        env = {**os.environ, "PSYCHANALYTICS_MART": str(target), "JUPYTER_PATH": jupyter_path}
        env.pop("PSYCHANALYTICS_DB", None)  # the kernels get the mart, never the store
        query = ""
        if not _is_loopback(ip):
            token = token or os.environ.get("PSYCHANALYTICS_SERVE_TOKEN") or secrets.token_urlsafe(24)
            env["PSYCHANALYTICS_SERVE_TOKEN"], query = token, f"?token={token}"
        print(
            f"钟楼区学生心理健康数据看板 已启动，请在浏览器打开 / dashboards serving at: http://{ip}:{port}/{query}",
            flush=True,
        )
        print("按 Ctrl+C 停止 / press Ctrl+C to stop", flush=True)
        process = subprocess.Popen(_voila_command(folder, port, open_browser, ip), cwd=folder, env=env)
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


_BUILDERS = {
    "build_crisis": "_crisis",
    "build_outcomes": "_outcomes",
    "build_plan": "_plan",
    "build_screening": "_screening_page",
    "build_staffing": "_staffing",
}
"""Each page's builder, imported on first use: a page's kernel loads its own page and no other."""


def __getattr__(name: str):
    import importlib

    if name in _BUILDERS:
        return getattr(importlib.import_module(f"{__name__}.{_BUILDERS[name]}"), name)
    if name == "screening":  # the researchers' explorer (notebook 03)
        return importlib.import_module(f"{__name__}.screening")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
