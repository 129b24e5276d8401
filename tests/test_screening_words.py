"""A leader-facing screen-positive rate says 「筛查阳性率」, never 「患病率」 (issue #11, item 7).

Two scans: every string literal of the code this issue added that can reach a reader (docstrings aside), and
every string in the figures and sentences it produces on the demo district.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from psychanalytics import screening, store
from psychanalytics.dashboards.screening import BY, VIEWS, exploration_data, exploration_figure
from psychanalytics.screening import _action, _compare
from psychanalytics.store.queries import screening as sq
from psychanalytics.viz import screening as vs

ROOT = Path(__file__).resolve().parents[1] / "psychanalytics"
SOURCES = [
    "viz/screening.py",
    "dashboards/screening.py",
    "screening/_action.py",
    "screening/_cohorts.py",
    "screening/_compare.py",
    "screening/_coverage.py",
    "screening/_distributions.py",
    "store/queries/screening.py",
]
FORBIDDEN = "患病率"


def _literals(path: Path) -> list[str]:
    """Every string constant of a module, f-string parts included, docstrings left out."""
    tree = ast.parse(path.read_text("utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
        if isinstance(
            node, ast.Assign | ast.AnnAssign
        ):  # attribute docstrings (a string after an assignment)
            pass
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


@pytest.mark.parametrize("source", SOURCES)
def test_no_string_literal_says_prevalence(source):
    literals = _literals(ROOT / source)
    assert literals  # the scan reads something
    assert [s for s in literals if FORBIDDEN in s] == []


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _strings(v)]
    return []


@pytest.fixture(scope="module")
def district(demo_db):
    engine = store.connect_existing(demo_db, read_only=True)
    yield engine
    engine.dispose()


def test_every_figure_and_sentence_says_screen_positive_rate(district):
    data = exploration_data(district, instrument="phq9", min_cell=10)
    figures = [
        exploration_figure(data, wave=w, by=b, view=v) for w in data.waves[-2:] for b in BY for v in VIEWS
    ]
    cohort = screening.cohorts(sq.cohort_counts(district, instrument="phq9", waves=[tuple(data.waves[-2:])]))
    figures.append(vs.transition_heatmap(cohort.transitions, instrument="phq9"))
    action = screening.screening_action(
        sq.screening_action_counts(district, by=("wave", "school")), by=("wave",)
    )
    figures.append(vs.action_bars(action, within_days=14))
    students = sq.screen_positive_students(district, instrument="phq9").dropna(subset=["school", "gender"])
    trends = screening.trend(students, outcome="positive", by=("gender",))
    figures.append(vs.trend_lines(trends))
    texts = [s for fig in figures for s in _strings(json.loads(fig.to_json()))]
    texts += trends.changes["sentence_zh"].tolist() + trends.changes["sentence_en"].tolist()
    texts += [w for pair in _action.STEPS.values() for w in pair]
    texts += [w for pair in _compare.LEVEL_WORDS.values() for w in pair]
    texts += [vs.screen_positive_rule(code) for code in ("phq9", "gad7", "scl90", "mssmhs", "sdq")]
    rng = np.random.default_rng(2)
    gender = np.repeat(["F", "M"], 150)
    trait = rng.normal(size=300)
    for shift in (0.0, 1.5):  # scalar invariance holds, then fails: both sentences
        items = pd.DataFrame({f"q{i}": trait + rng.normal(scale=0.6, size=300) for i in range(1, 5)})
        items["q1"] += shift * (gender == "M")
        result = screening.compare_groups(items.sum(axis=1), gender, items=items)
        texts += [result.sentence_zh, result.sentence_en]
    assert len(texts) > 500
    assert [t for t in texts if FORBIDDEN in t] == []
    assert any("筛查阳性率" in t for t in texts)
