"""Each leader page's default view drawn once per publication of the mart, for the server to hand to every
leader without a kernel (DESIGN.md, decision 95).

The server (:mod:`psychanalytics.dashboards._voila_app`) runs ``python -m
psychanalytics.dashboards._prerender MART FOLDER`` when it starts and again when the mart file changes: a
process of its own, reading the mart only (as a page's kernel does), that writes ``FOLDER/<page>.html``
for every page with a static view and exits, so the server never holds pandas, plotly or the mart.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from psychanalytics.dashboards import PAGES

PLOTLY_ROUTE = "static-views/plotly.min.js"
"""Where the server serves the plotly.js shipped in the ``plotly`` package (no page loads it from a CDN)."""


def live_path(notebook: str) -> str:
    """A page's live Voila path, relative to the server's base URL.

    >>> live_path("overview")
    'voila/render/overview.ipynb'
    """
    return f"voila/render/{notebook}.ipynb"


def mart_key(mart: str | Path | None) -> str | None:
    """What identifies one publication of a SQLite mart (its file's inode, time and size), or None.

    ``publish`` moves a finished SQLite mart into place, so each publication is a new file. None when
    there is no such file (a PostgreSQL mart, a missing one): its pages are then served live.

    >>> mart_key("postgresql://reader@host/db") is None, mart_key("/no/such/mart.sqlite") is None
    (True, True)
    """
    if mart is None or "://" in str(mart):
        return None
    try:
        stat = os.stat(mart)
    except OSError:
        return None
    return f"{stat.st_ino}-{stat.st_mtime_ns}-{stat.st_size}"


def page_html(notebook: str, mart: str | Path) -> str:
    """The static view of one page (:data:`~psychanalytics.dashboards.PAGES`) built from ``mart``.

    Links are relative to ``<base_url>page/``, so the document does not depend on the server's base URL.

    Raises
    ------
    StaticViewError
        When the page holds a widget with no static view.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from psychanalytics import mart, store
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> engine = store.connect(folder / "store.sqlite")
    >>> store.create_all(engine)
    >>> _ = mart.publish(engine, folder / "mart.sqlite")
    >>> doc = page_html("overview", folder / "mart.sqlite")
    >>> "钟楼区学生心理健康总览" in doc, "../static-views/plotly.min.js" in doc
    (True, True)
    """
    from psychanalytics import dashboards
    from psychanalytics.dashboards._static import static_html

    page = getattr(dashboards, f"build_{notebook}")(mart)
    title = next(p.title_zh for p in PAGES if p.notebook == notebook)
    return static_html(
        page,
        title=f"{title} · 钟楼区学生心理健康",
        live_url=f"../{live_path(notebook)}",
        plotly_js=f"../{PLOTLY_ROUTE}",  # both relative to the static page
    )


def render_pages(mart: str | Path, folder: Path) -> list[str]:
    """Write ``folder/<notebook>.html`` for every page with a static view; the notebooks written.

    A page holding a widget with no static view is left out (it is served live) and named on standard
    error.
    """
    from psychanalytics.dashboards._static import StaticViewError

    written = []
    for dashboard in PAGES:
        try:
            document = page_html(dashboard.notebook, mart)
        except StaticViewError as exc:
            print(f"{dashboard.notebook}: 以交互页面提供 / served live: {exc}", file=sys.stderr, flush=True)
            continue
        (folder / f"{dashboard.notebook}.html").write_text(document, "utf-8")
        written.append(dashboard.notebook)
    return written


if __name__ == "__main__":
    render_pages(sys.argv[1], Path(sys.argv[2]))
