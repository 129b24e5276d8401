"""Voila as ``psychanalytics serve`` runs it: the dashboards folder, with only the leader pages reachable.

Serving a folder, Voila also answers ``/voila/api/contents`` (a JSON list of the folder's files, for its
JupyterLab-style file browser) and renders any notebook under ``/voila/render/``. Here the contents API is
not routed at all and ``/voila/render/`` accepts the notebooks of :data:`psychanalytics.dashboards.PAGES`
only; the file list pages (``/``, ``/voila/tree/…``) show the landing page (the template's ``tree.html``).
Run as ``python -m psychanalytics.dashboards._voila_app FOLDER [voila options]``.
"""

from __future__ import annotations

import os
import re

from voila.app import Voila


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
        from psychanalytics.dashboards import PAGES

        return _only_pages(super().init_handlers(), [page.notebook for page in PAGES])


if __name__ == "__main__":
    LeaderVoila.launch_instance()
