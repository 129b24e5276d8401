"""Invariance first: two groups' means are compared only where the scale measures the same thing in both."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ttest_ind
from semopy.examples import holzinger39

from psychanalytics import outcomes, screening

LAVAAN = json.loads(
    (Path(__file__).parent / "reference" / "psychometrics" / "lavaan_holzinger.json").read_text("utf-8")
)
MODEL = LAVAAN["source"]["model"]
ITEMS = [f"x{i}" for i in range(1, 10)]


def test_lavaan_holzinger_by_school_reaches_metric_not_scalar():
    """lavaan's printed fit (semTools) read with Chen's criteria: loadings hold (ΔCFI -0.002), intercepts do not
    (ΔCFI -0.038), the conclusion of the lavaan tutorial on these data."""
    printed = LAVAAN["invariance_by_school"]
    levels = ("configural", "metric", "scalar")
    table = pd.DataFrame(
        {
            "cfi": [float(printed[lv]["cfi"]) for lv in levels],
            "rmsea": [float(printed[lv]["rmsea"]) for lv in levels],
            "delta_cfi": [
                np.nan,
                -float(printed["metric"]["abs_delta_cfi"]),
                -float(printed["scalar"]["abs_delta_cfi"]),
            ],
            "delta_rmsea": [
                np.nan,
                -float(printed["metric"]["abs_delta_rmsea"]),
                float(printed["scalar"]["abs_delta_rmsea"]),
            ],
        },
        index=list(levels),
    )
    assert printed  # the source of the numbers above
    assert screening.invariance_level(table) == "metric"
    strict = screening.InvarianceCriteria(max_rmsea=0.08)  # the configural RMSEA 0.097 is mediocre
    assert screening.invariance_level(table, criteria=strict) == "none"


@pytest.fixture(scope="module")
def holzinger():
    return holzinger39.get_data()


def test_means_are_not_compared_where_scalar_invariance_fails(holzinger):
    result = screening.compare_groups(
        holzinger[ITEMS].sum(axis=1), holzinger["school"], items=holzinger[ITEMS], model=MODEL,
        scale_name=("能力测验总分", "ability test total"),
    )  # fmt: skip
    assert result.invariance == "metric" and result.needs == "scalar" and not result.holds
    assert np.isnan(result.difference) and np.isnan(result.effect) and np.isnan(result.p_value)
    assert result.groups["group"].tolist() == ["Grant-White", "Pasteur"]
    assert result.groups["n"].tolist() == [145, 156]  # each group's own mean is still described
    assert "只达到度量等值" in result.sentence_zh and "未达到比较所需的标量等值" in result.sentence_zh
    assert "不能直接比较" in result.sentence_zh and "ΔCFI = -0.0" in result.sentence_zh
    assert "short of the scalar invariance" in result.sentence_en
    slopes = screening.compare_groups(
        holzinger[ITEMS].sum(axis=1), holzinger["school"], items=holzinger[ITEMS], model=MODEL, needs="metric"
    )
    assert slopes.holds and np.isfinite(slopes.difference)


def _simulated(shift_item: float, seed: int = 3):
    rng = np.random.default_rng(seed)
    gender = np.repeat(["F", "M"], 400)
    trait = rng.normal(size=800) + 0.4 * (gender == "F")
    loadings = [1.0, 0.9, 0.8, 0.85, 0.7]
    items = pd.DataFrame(
        {f"q{i}": trait * w + rng.normal(scale=0.6, size=800) for i, w in enumerate(loadings, 1)}
    )
    items["q1"] += shift_item * (gender == "M")  # boys read item 1 differently: an intercept difference
    return items, gender


def test_when_invariance_holds_the_difference_is_welch_and_hedges_g():
    items, gender = _simulated(0.0)
    scores = items.sum(axis=1)
    result = screening.compare_groups(scores, gender, items=items)
    assert result.invariance == "scalar" and result.holds
    girls, boys = scores[gender == "F"], scores[gender == "M"]
    welch = ttest_ind(girls, boys, equal_var=False)
    assert result.difference == pytest.approx(girls.mean() - boys.mean())
    assert (result.low, result.high) == pytest.approx(tuple(welch.confidence_interval(0.95)))
    assert result.p_value == pytest.approx(welch.pvalue)
    g = outcomes.effect_size(girls.to_numpy(), boys.to_numpy(), kind="hedges_g")
    assert (result.effect, result.effect_low, result.effect_high) == pytest.approx((g.value, g.low, g.high))
    assert result.sentence_zh.startswith("量表得分在F与M之间达到标量等值") and "相差 +" in result.sentence_zh


def test_an_item_read_differently_by_one_group_stops_the_comparison():
    items, gender = _simulated(1.0)
    result = screening.compare_groups(items.sum(axis=1), gender, items=items)
    assert result.invariance == "metric" and not result.holds and np.isnan(result.difference)
    assert result.invariance_table.loc["scalar", "delta_cfi"] < -0.01


def test_compare_groups_refuses_bad_input():
    items, gender = _simulated(0.0)
    scores = items.sum(axis=1)
    with pytest.raises(ValueError, match="exactly two groups"):
        screening.compare_groups(
            scores, np.where(np.arange(800) < 300, "a", np.where(np.arange(800) < 600, "b", "c")), items=items
        )
    with pytest.raises(ValueError, match="one row per student"):
        screening.compare_groups(scores[:10], gender, items=items)
    with pytest.raises(ValueError, match="needs must be one of"):
        screening.compare_groups(scores, gender, items=items, needs="strict")
    with pytest.raises(ValueError, match="scores: row 4 is missing"):
        screening.compare_groups(scores.where(scores.index != 4), gender, items=items)
    with pytest.raises(ValueError, match="expected an invariance fit table"):
        screening.invariance_level(pd.DataFrame({"cfi": [0.9]}))
