"""Benchmark: the leader dashboard's page against a bare one-cell Voila notebook served the same way.

Voila executes a notebook on the server when its page is requested (``voila.json`` in ``dashboards/``
leaves ``progressive_rendering`` off), so the time from sending ``GET /voila/render/overview.ipynb`` to the last byte of the
response is the whole render: a new kernel, the notebook's cells, the HTML. Ours is the page
``psychanalytics serve`` shows; the baseline is a notebook holding one ``print`` cell served by
``python -m voila`` on 127.0.0.1. Server start-up is not timed; each request is timed on its own.
Peak memory is the server's and its largest kernel's ``VmHWM`` (``/proc``), read after the requests.

Usage::

    .venv/bin/python benchmarks/bench_dashboard.py --db data/demo.sqlite --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

try:
    from benchmarks import _measure
except ImportError:  # run as a script: benchmarks/ is on sys.path
    import _measure


OVERVIEW = "/voila/render/overview.ipynb"
"""The overview page's path on ``psychanalytics serve`` (``/`` is the landing page of cards)."""


def dashboard_command(db: str | Path, port: int) -> list[str]:
    """How the dashboard is served: the one place to change when ``serve`` changes (a ``--mart`` …)."""
    return [sys.executable, "-m", "psychanalytics.cli", "serve", "--db", str(db), "--port", str(port)]


def bare_command(notebook: Path, port: int) -> list[str]:
    """How the bare notebook is served: the Voila command ``psychanalytics serve`` itself runs."""
    from psychanalytics.dashboards import _voila_command

    return _voila_command(notebook, port, open_browser=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _bare_notebook(folder: Path) -> Path:
    cell = {
        "cell_type": "code",
        "execution_count": None,
        "metadata": {},
        "outputs": [],
        "source": "print('ok')",
    }
    notebook = {
        "cells": [cell],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path = folder / "bare.ipynb"
    path.write_text(json.dumps(notebook))
    return path


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=300) as response:
        return response.read()


def _wait_up(url: str, port: int, process: subprocess.Popen, timeout: float = 120) -> None:
    """Wait until the server answers anything on its port (a static path, not the page)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with status {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def _hwm_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def serve_and_time(
    command: list[str], port: int, repeat: int, *, must_contain: str, path: str = "/"
) -> tuple[list[float], float]:
    """Start ``command``, time ``repeat`` requests of ``path`` (each to its last byte); (seconds, peak MB)."""
    url = f"http://127.0.0.1:{port}{path}"
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        _wait_up(url, port, process)
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            body = _get(url)
            times.append(time.perf_counter() - start)
            if must_contain not in body.decode("utf-8", "replace"):
                raise AssertionError(f"{url}: the page does not contain {must_contain!r}")
        tree = _tree(process.pid)
        peaks = sorted((_hwm_mb(p) for p in tree), reverse=True)
        return times, sum(peaks[:2])  # the server (or its wrapper) and the largest kernel
    finally:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()


def dashboard_row(db: str | Path, repeat: int = 3, *, size: str | None = None) -> dict:
    """Table row ``dashboard``: the overview page served by ``psychanalytics serve`` against bare Voila.

    Parameters
    ----------
    db : path
        A store (the demo district) for the dashboard to read.
    repeat : int
        Requests timed on each server.
    size : str, optional
        How big the store is, in words, for the table (default: the file's name).

    Returns
    -------
    dict
        One row of ``benchmarks/run.py``'s table.

    Examples
    --------
    >>> dashboard_command("demo.sqlite", 8866)[-4:]
    ['--db', 'demo.sqlite', '--port', '8866']
    """
    port = _free_port()
    ours, ours_mb = serve_and_time(
        dashboard_command(db, port), port, repeat, must_contain="application/vnd.jupyter.widget-view+json", path=OVERVIEW
    )
    with tempfile.TemporaryDirectory() as tmp:
        port = _free_port()
        base, base_mb = serve_and_time(
            bare_command(_bare_notebook(Path(tmp)), port), port, repeat, must_contain="ok"
        )
    return _measure.row(
        "dashboard",
        f"overview page: GET {OVERVIEW} until the last byte (kernel start + cells + HTML), psychanalytics serve",
        "bare one-cell notebook, python -m voila",
        ours, base, ours_mb=ours_mb, base_mb=base_mb, size=size or f"store {Path(str(db)).name}",
        rss="VmHWM of the server and its largest kernel (/proc), after the requests",
    )  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="the store the dashboard reads")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    print(json.dumps(dashboard_row(args.db, args.repeat), indent=2))


if __name__ == "__main__":
    main()
