"""Timing and peak memory for the benchmark rows (``benchmarks/run.py``).

Peak memory is the process's high-water resident set (``VmHWM`` in ``/proc/self/status``), reset
before each side by writing ``5`` to ``/proc/self/clear_refs`` (Linux), so ours and the baseline each
get their own peak within one process; it includes the input data the process already holds. A side
that runs in child processes reports the children's ``ru_maxrss`` instead. Where ``clear_refs``
cannot be written, the peak is ``ru_maxrss`` of the whole process (not reset) and :data:`RSS_METHOD`
says so.
"""

from __future__ import annotations

import resource
import statistics
import time
from collections.abc import Callable
from pathlib import Path

_STATUS = Path("/proc/self/status")
_CLEAR = Path("/proc/self/clear_refs")


def _can_reset() -> bool:
    try:
        _CLEAR.write_text("5")
    except OSError:
        return False
    return _STATUS.is_file()


RSS_METHOD = (
    "VmHWM reset per side (/proc/self/clear_refs)"
    if _can_reset()
    else "ru_maxrss of the whole process (not reset)"
)


def reset_peak() -> None:
    """Start a new high-water mark of resident memory (no-op where Linux's clear_refs is unavailable)."""
    try:
        _CLEAR.write_text("5")
    except OSError:
        pass


def peak_mb() -> float:
    """Peak resident memory of this process since the last :func:`reset_peak`, in MB (2**20 bytes)."""
    if _STATUS.is_file():
        for line in _STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def children_peak_mb() -> float:
    """The largest peak resident memory of any child process waited for so far, in MB."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def timed(fn: Callable[[], object], repeat: int) -> tuple[list[float], float]:
    """Run ``fn`` ``repeat`` times: (seconds of each run, peak MB over the runs)."""
    reset_peak()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times, peak_mb()


def row(
    name: str,
    what: str,
    baseline: str,
    ours: list[float],
    base: list[float],
    *,
    ours_mb: float | None,
    base_mb: float | None,
    size: str,
    note: str = "",
    rss: str = RSS_METHOD,
) -> dict:
    """One line of the table: best and median seconds of each side and their ratio (ours / baseline, best)."""
    return {
        "name": name,
        "what": what,
        "baseline": baseline,
        "size": size,
        "status": "ok",
        "ours_best_s": min(ours),
        "ours_median_s": statistics.median(ours),
        "baseline_best_s": min(base),
        "baseline_median_s": statistics.median(base),
        "ratio": min(ours) / min(base),
        "repeats": len(ours),
        "ours_peak_mb": None if ours_mb is None else round(ours_mb, 1),
        "baseline_peak_mb": None if base_mb is None else round(base_mb, 1),
        "rss_method": rss,
        "note": note,
    }
