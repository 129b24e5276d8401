"""Benchmark: the leader dashboard's overview, static and live, against a bare one-cell Voila notebook.

What a leader gets first is the overview's static view (DESIGN.md, decision 95): ``GET /page/overview``
and the plotly.js it loads from our server (``GET /static-views/plotly.min.js``), both to the last byte,
as a first visit with an empty browser cache fetches them. The live page, where the filters work,
still executes the notebook on the server for each request (``voila.json`` leaves
``progressive_rendering`` off): ``GET /voila/render/overview.ipynb`` to the last byte is the whole render,
a new kernel, the notebook's cells, the HTML. Both are timed on one ``psychanalytics serve``, in one run;
the baseline is a notebook holding one ``print`` cell served by the Voila command ``serve`` runs.
Server start-up is not timed, nor is the static view's drawing when the server starts (one untimed
request waits for it; its time is in the row's note); each request is timed on its own. Peak memory is
the server's and its largest kernel's ``VmHWM`` (``/proc``), read after each side's requests.

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
"""The overview's live page on ``psychanalytics serve`` (``/`` is the landing page of cards)."""
STATIC = ("/page/overview", "/static-views/plotly.min.js")
"""What a leader's browser fetches on a first visit to the overview's static view (the landing page's link)."""


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


def _timed_gets(base: str, paths: tuple[str, ...], repeat: int, must_contain: str) -> list[float]:
    """Seconds to fetch every one of ``paths`` in turn, each to its last byte, ``repeat`` times."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        bodies = [_get(base + path) for path in paths]
        times.append(time.perf_counter() - start)
        if must_contain not in bodies[0].decode("utf-8", "replace"):
            raise AssertionError(f"{base}{paths[0]}: the page does not contain {must_contain!r}")
    return times


def _peak_mb(pid: int) -> float:
    """The server (or its wrapper) and its largest kernel: their peak resident memory, in MB."""
    peaks = sorted((_hwm_mb(p) for p in _tree(pid)), reverse=True)
    return sum(peaks[:2])


def serve_and_time(
    command: list[str], port: int, repeat: int, sides: dict[str, tuple[tuple[str, ...], str]]
) -> dict[str, tuple[list[float], float, float]]:
    """Start ``command`` and time each side (name: paths, text the first must hold) in turn.

    Returns, by side: the seconds of each timed fetch, the peak MB after them, and the seconds of one
    untimed fetch before them (where the static view waits for its drawing after start-up).
    """
    base = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        _wait_up(base + "/", port, process)
        out = {}
        for name, (paths, must_contain) in sides.items():
            warm_up = _timed_gets(base, paths, 1, must_contain)
            out[name] = (_timed_gets(base, paths, repeat, must_contain), _peak_mb(process.pid), warm_up[0])
        return out
    finally:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()


def dashboard_rows(db: str | Path, repeat: int = 3, *, size: str | None = None) -> list[dict]:
    """Table rows ``dashboard`` (the static overview) and ``dashboard_live``, against bare Voila.

    Parameters
    ----------
    db : path
        A store (the demo district) for the dashboard to read.
    repeat : int
        Requests timed on each side.
    size : str, optional
        How big the store is, in words, for the table (default: the file's name).

    Returns
    -------
    list of dict
        Two rows of ``benchmarks/run.py``'s table.

    Examples
    --------
    >>> dashboard_command("demo.sqlite", 8866)[-4:]
    ['--db', 'demo.sqlite', '--port', '8866']
    """
    port = _free_port()
    ours = serve_and_time(
        dashboard_command(db, port),
        port,
        repeat,
        {
            "static": (STATIC, "Plotly.newPlot"),
            "live": ((OVERVIEW,), "application/vnd.jupyter.widget-view+json"),
        },
    )
    with tempfile.TemporaryDirectory() as tmp:
        port = _free_port()
        bare = serve_and_time(
            bare_command(_bare_notebook(Path(tmp)), port), port, repeat, {"bare": (("/",), "ok")}
        )
    base, base_mb, _ = bare["bare"]
    size = size or f"store {Path(str(db)).name}"
    (static, static_mb, drawn), (live, live_mb, _) = ours["static"], ours["live"]
    rss = "VmHWM of the server and its largest kernel (/proc), after the side's requests"
    return [
        _measure.row(
            "dashboard",
            f"overview static view: GET {' + '.join(STATIC)} until the last byte (a first visit), psychanalytics serve",
            "bare one-cell notebook, python -m voila", static, base, ours_mb=static_mb, base_mb=base_mb,
            size=size, rss=rss, note=f"first request after start-up, waiting for the drawing: {drawn:.2f} s",
        ),
        _measure.row(
            "dashboard_live",
            f"overview live page (after 调整筛选): GET {OVERVIEW} until the last byte (kernel start + cells + HTML)",
            "bare one-cell notebook, python -m voila", live, base, ours_mb=live_mb, base_mb=base_mb,
            size=size, rss=rss,
        ),
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="the store the dashboard reads")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    print(json.dumps(dashboard_rows(args.db, args.repeat), indent=2))


if __name__ == "__main__":
    main()
