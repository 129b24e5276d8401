"""Benchmark (by hand): request to the last chart drawn, in headless Chromium, for the overview and bare Voila.

``bench_dashboard.py`` times the server to the last byte; a leader waits until the browser has drawn
the charts. This script opens each page in a fresh browser context (empty cache, as a first visit) and
stops the clock when the page is complete: the overview's three plotly charts drawn (``.main-svg``
inside each chart), or the bare notebook's ``ok`` printed. Pages: the overview's static view
(``/page/overview``), its live page (``/voila/render/overview.ipynb``) and the bare one-cell notebook
served by the same Voila command, each ``--repeat`` times; best and median. Needs Debian's Chromium and
playwright (dev extra). Not in ``make benchmark``: its figures go to docs/performance.md §4.

Usage::

    .venv/bin/python benchmarks/bench_dashboard_browser.py --db data/demo.sqlite --repeat 3
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

try:
    from benchmarks.bench_dashboard import (
        _bare_notebook,
        _free_port,
        _wait_up,
        bare_command,
        dashboard_command,
    )
except ImportError:  # run as a script: benchmarks/ is on sys.path
    from bench_dashboard import _bare_notebook, _free_port, _wait_up, bare_command, dashboard_command

CHROMIUM = "/usr/bin/chromium"
BARE = "/"
"""The bare notebook's page (Voila serving one notebook)."""
CHARTS = 3
"""Charts on the overview."""


def _drawn(page, path: str) -> None:
    if path == BARE:
        page.wait_for_selector("text=ok", timeout=120_000)
    else:
        page.wait_for_function(
            f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= {CHARTS}", timeout=120_000
        )


def time_pages(base: str, paths: list[str], repeat: int) -> dict[str, list[float]]:
    """Seconds from navigation to the page complete, per path, ``repeat`` fresh visits each (interleaved)."""
    from playwright.sync_api import sync_playwright

    times: dict[str, list[float]] = {path: [] for path in paths}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        for _ in range(repeat):
            for path in paths:
                context = browser.new_context(viewport={"width": 1366, "height": 768})
                page = context.new_page()
                start = time.perf_counter()
                page.goto(base + path, wait_until="commit", timeout=300_000)
                _drawn(page, path)
                times[path].append(time.perf_counter() - start)
                context.close()
        browser.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="the store; its mart is published beside it if stale")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bare = _bare_notebook(Path(tmp))
        port, bare_port = _free_port(), _free_port()
        servers = [
            subprocess.Popen(
                dashboard_command(args.db, port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            ),
            subprocess.Popen(
                bare_command(bare, bare_port), cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            ),
        ]
        try:
            _wait_up(f"http://127.0.0.1:{port}", port, servers[0], timeout=600)
            _wait_up(f"http://127.0.0.1:{bare_port}", bare_port, servers[1])
            time_pages(f"http://127.0.0.1:{port}", ["/page/overview"], 1)  # the static views are drawn
            served = time_pages(
                f"http://127.0.0.1:{port}", ["/page/overview", "/voila/render/overview.ipynb"], args.repeat
            )
            served |= time_pages(f"http://127.0.0.1:{bare_port}", [BARE], args.repeat)
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=30)
    baseline = min(served[BARE])
    print("| page | best s | median s | best / bare |\n|---|---|---|---|")
    for path, times in served.items():  # the bare notebook's row is the baseline (1.00×)
        print(
            f"| {path} | {min(times):.2f} | {statistics.median(times):.2f} | {min(times) / baseline:.2f}× |"
        )


if __name__ == "__main__":
    main()
