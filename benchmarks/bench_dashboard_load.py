"""Benchmark: leaders opening the overview at once, on one ``psychanalytics serve`` (issue #16's load target).

``--leaders`` threads open the overview at the same moment, each timed to the last byte of what it
fetches, twice on the same server: first the static view the landing page links to (DESIGN.md,
decision 95: ``/page/overview`` and the plotly.js it loads from our server, as a first visit), then the
live page a leader reaches through 「调整筛选」 (``/voila/render/overview.ipynb``: a kernel, the
notebook's cells, the HTML; the charts' widget models then reach the browser over the kernel's
websocket, which this script does not open). One untimed request first waits for the static view's
drawing after start-up. While the leaders wait, the resident memory of the server and all its
processes is summed every half second; after the live pages, the script waits for every kernel to be
culled (``voila.json``: disconnected kernels idle 30 s) and reports how long that took. Not a test: run
by hand, on a quiet machine.

Usage::

    .venv/bin/python benchmarks/bench_dashboard_load.py --db data/demo.sqlite --leaders 20
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench_dashboard import OVERVIEW, STATIC, _free_port, _get, _tree, _wait_up


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _kernels(pid: int) -> list[int]:
    return [p for p in _tree(pid) if b"ipykernel_launcher" in _cmdline(p)]


def _burst(base: str, paths: tuple[str, ...], leaders: int, server: int) -> dict:
    """``leaders`` threads fetching ``paths`` at once: p50, p95, max seconds and the server's peak MB."""
    times, peak, done = [], [0.0], threading.Event()

    def watch():
        while not done.is_set():
            peak[0] = max(peak[0], sum(_rss_mb(p) for p in _tree(server)))
            time.sleep(0.5)

    def leader():
        start = time.perf_counter()
        for path in paths:
            _get(base + path)
        times.append(time.perf_counter() - start)

    watcher = threading.Thread(target=watch)
    watcher.start()
    threads = [threading.Thread(target=leader) for _ in range(leaders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    watcher.join()
    times.sort()
    return {
        "leaders": leaders,
        "fetched": " + ".join(paths),
        "p50_s": round(statistics.median(times), 2),
        "p95_s": round(times[max(0, int(0.95 * len(times)) - 1)], 2),
        "max_s": round(times[-1], 2),
        "server_peak_mb": round(peak[0]),
    }


def load(db: str | Path, leaders: int) -> dict:
    """Serve a copy of ``db``'s mart, open the overview ``leaders`` times at once, static then live."""
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "store.sqlite"
        shutil.copy(db, store)
        port = _free_port()
        command = [
            sys.executable,
            "-m",
            "psychanalytics.cli",
            "serve",
            "--db",
            str(store),
            "--port",
            str(port),
        ]
        process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_up(base + "/", port, process, timeout=300)
            start = time.perf_counter()
            _get(base + STATIC[0])
            drawn = time.perf_counter() - start
            static = {
                **_burst(base, STATIC, leaders, process.pid),
                "first_request_after_start_s": round(drawn, 2),
            }
            live = _burst(base, (OVERVIEW,), leaders, process.pid)
            finished, left = time.perf_counter(), len(_kernels(process.pid))
            while _kernels(process.pid) and time.perf_counter() - finished < 180:
                time.sleep(1)
            live |= {
                "kernels_after_pages": left,
                "kernels_released_s": round(time.perf_counter() - finished, 1),
                "all_released": not _kernels(process.pid),
            }
            return {"static": static, "live": live}
        finally:
            os.killpg(process.pid, 15)
            process.wait(timeout=60)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="a store (the demo district); a copy is served")
    parser.add_argument("--leaders", type=int, default=20)
    args = parser.parse_args(argv)
    print(json.dumps(load(args.db, args.leaders), indent=2))


if __name__ == "__main__":
    main()
