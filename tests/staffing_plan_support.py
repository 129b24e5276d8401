"""Helpers of the 「师资与阵地」 and 「三年计划」 page tests: a published mart of the demo district, the widgets
and figures of a page, and the numbers its views allow it to draw."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import ipywidgets as widgets
import pandas as pd

from psychanalytics import mart, store

PLOTLY = "application/vnd.plotly.v1+json"


def publish_copy(demo_db: Path, folder: Path, *, min_cell: int = 10) -> Path:
    """The mart of a copy of the demo store (publishing appends an audit row: the shared store stays as it is)."""
    db = folder / "store.sqlite"
    shutil.copy(demo_db, db)
    target = folder / "mart.sqlite"
    mart.publish(db, target, min_cell=min_cell, actor="test")
    return target


def publish_empty(folder: Path) -> Path:
    engine = store.connect(folder / "empty.sqlite")
    store.create_all(engine)
    target = folder / "empty-mart.sqlite"
    mart.publish(engine, target, actor="test")
    engine.dispose()
    return target


def walk(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from walk(child)


def page_html(page) -> str:
    return "\n".join(w.value for w in walk(page) if isinstance(w, widgets.HTML))


def figures(page) -> list[dict]:
    return [
        output["data"][PLOTLY]
        for w in walk(page)
        if isinstance(w, widgets.Output)
        for output in w.outputs
        if PLOTLY in output["data"]
    ]


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if math.isnan(value) else round(float(value), 6)


def allowed_numbers(views) -> set[float]:
    """Every number the views hold, and each share as a percentage (as the charts draw it)."""
    numbers = set()
    for frame in views.values():
        for column in frame.columns:
            values = pd.to_numeric(frame[column], errors="coerce").dropna()
            if values.empty or frame[column].dtype == bool:
                continue
            numbers |= {round(float(v), 6) for v in values}
            numbers |= {round(float(v) * 100, 6) for v in values}
    return numbers


def plotted_numbers(figure: dict) -> list[float]:
    """The numbers a figure plots (bar lengths, line values); text traces place labels and are left out."""
    out = []
    for trace in figure["data"]:
        if trace.get("mode") == "text":
            continue
        for axis in ("x", "y"):
            out += [n for n in map(_number, trace.get(axis, [])) if n is not None]
    return out


def assert_student_counts_protected(frame: pd.DataFrame, min_cell: int) -> None:
    """No shown count or denominator of students under ``min_cell``; every hidden one marked."""
    assert (frame["count"].dropna() >= min_cell).all()
    assert (frame["n"].dropna() >= min_cell).all()
    hidden = frame["count"].isna() | frame["n"].isna()
    assert frame.loc[hidden, "marker"].isin([f"<{min_cell}", "*"]).all()
    assert frame.loc[hidden, "proportion"].isna().all()
