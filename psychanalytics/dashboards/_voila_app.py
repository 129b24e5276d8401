"""Voila as ``psychanalytics serve`` runs it: the dashboards folder, with only the leader pages reachable.

Serving a folder, Voila also answers ``/voila/api/contents`` (a JSON list of the folder's files, for its
JupyterLab-style file browser) and renders any notebook under ``/voila/render/``. Here the contents API is
not routed at all and ``/voila/render/`` accepts the notebooks of :data:`psychanalytics.dashboards.PAGES`
only; the file list pages (``/``, ``/voila/tree/…``) show the landing page (the template's ``tree.html``).
Each page's default view is also served without a kernel at ``/page/<notebook>`` (where the landing page
links), drawn once per publication of the mart by :mod:`~psychanalytics.dashboards._prerender`
(DESIGN.md, decision 95). Run as ``python -m psychanalytics.dashboards._voila_app FOLDER [voila options]``.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

import tornado.ioloop
import tornado.web
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.utils import url_path_join
from voila.app import Voila

from psychanalytics.dashboards import PAGE_ROUTE, PAGES
from psychanalytics.dashboards._prerender import PLOTLY_ROUTE, live_path, mart_key


def _only_pages(handlers: list, notebooks: list[str]) -> list:
    allowed = "|".join(re.escape(f"{name}.ipynb") for name in notebooks)
    kept = []
    for pattern, *rest in handlers:
        if "/voila/api/contents" in pattern:
            continue
        if pattern.endswith("/voila/render/(.*)"):
            pattern = pattern.replace("/voila/render/(.*)", f"/voila/render/({allowed})")
        kept.append((pattern, *rest))
    return kept


class StaticViews:
    """The pages' static views for the mart's current publication, drawn again when the mart file changes.

    Drawing runs ``python -m psychanalytics.dashboards._prerender`` (the mart only, in a process of its
    own); requests arriving meanwhile wait for it, and one drawing serves them all. A page without a
    static view, or a mart that is not a file (PostgreSQL), gives None: the page is served live.
    """

    def __init__(self, mart: str | None):
        self.mart = mart
        self.key: str | None = None
        self.pages: dict[str, str] = {}
        self._lock = asyncio.Lock()

    async def refresh(self) -> str | None:
        """Draw the pages unless they were drawn from the mart as it is now; the mart's key."""
        key = mart_key(self.mart)
        if key is not None and key != self.key:
            async with self._lock:
                if key != self.key:
                    self.pages, self.key = await _draw(self.mart), key
        return key

    async def page(self, notebook: str) -> str | None:
        """The static view of ``notebook`` for the mart as it is now, or None (serve it live)."""
        return self.pages.get(notebook) if await self.refresh() is not None else None


async def _draw(mart: str) -> dict[str, str]:
    folder = Path(tempfile.mkdtemp(prefix="psychanalytics-static-"))
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "psychanalytics.dashboards._prerender", mart, str(folder)
        )
        await process.wait()
        return {path.stem: path.read_text("utf-8") for path in folder.glob("*.html")}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class StaticPageHandler(JupyterHandler):
    """``/page/<notebook>``: the page's static view, or a redirect to its live page when it has none."""

    def initialize(self, views: StaticViews):
        self.views = views

    @tornado.web.authenticated
    async def get(self, notebook: str):
        document = await self.views.page(notebook)
        if document is None:
            self.redirect(url_path_join(self.base_url, live_path(notebook)))
            return
        self.set_header("Cache-Control", "no-cache")
        self.finish(document)


def _static_handlers(base_url: str, notebooks: list[str], views: StaticViews) -> list:
    import plotly

    allowed = "|".join(re.escape(name) for name in notebooks)
    plotly_js = str(Path(plotly.__file__).parent / "package_data")  # the plotly.min.js plotly.py ships
    folder, name = PLOTLY_ROUTE.rsplit("/", 1)
    return [
        (url_path_join(base_url, PAGE_ROUTE, f"({allowed})"), StaticPageHandler, {"views": views}),
        (url_path_join(base_url, folder, f"({re.escape(name)})"), tornado.web.StaticFileHandler, {"path": plotly_js}),
    ]  # fmt: skip


class LeaderVoila(Voila):
    """Voila with the contents API closed and only the leader pages renderable.

    The token (``PSYCHANALYTICS_SERVE_TOKEN``, set by ``serve`` when it binds
    beyond loopback) comes through the environment, never the command line,
    where any user of the machine could read it in the process list.
    """

    def initialize(self, argv=None):
        token = os.environ.get("PSYCHANALYTICS_SERVE_TOKEN")
        if token:
            self.token = token
        super().initialize(argv)

    def init_handlers(self) -> list:
        notebooks = [page.notebook for page in PAGES]
        views = StaticViews(os.environ.get("PSYCHANALYTICS_MART"))
        tornado.ioloop.IOLoop.current().add_callback(views.refresh)  # drawn before the first leader asks
        static = _static_handlers(self.server_url, notebooks, views)
        return static + _only_pages(super().init_handlers(), notebooks)


if __name__ == "__main__":
    LeaderVoila.launch_instance()
