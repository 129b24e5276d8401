"""Screening figures: what each builder draws from the numbers it is given (and nothing else)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from psychanalytics import screening
from psychanalytics.viz import screening as vs

SCHOOLS = pd.DataFrame(
    {
        "school": ["A", "B", "C", "D", "E", "F"],
        "n": [300, 320, 250, 410, 380, 90],
        "count": [30, 50, 12, 80, 41, 9],
    }
)


def _funnel():
    return screening.funnel(SCHOOLS, numerator="count", denominator="n")


def test_funnel_draws_both_limit_pairs_the_target_and_every_school_by_name():
    result = _funnel()
    fig = vs.funnel_plot(result, names={"A": "甲校", "D": "丁校"})
    lines = [t for t in fig.data if t.mode == "lines"]
    assert [t.name for t in lines] == ["99.8% 控制限"] * 2 + ["95% 控制限"] * 2 + [
        f"全区 {result.target:.1%}"
    ]
    limits = result.limits(lines[0].x)
    assert np.allclose(lines[0].y, limits["ll998"] * 100) and np.allclose(lines[3].y, limits["ul95"] * 100)
    points = {
        name: (t.name, y)
        for t in fig.data
        if t.mode == "markers+text"
        for name, y in zip(t.text, t.y, strict=True)
    }
    assert set(points) == {"甲校", "B", "C", "丁校", "E", "F"}
    assert points["丁校"] == ("高于 99.8% 控制上限", pytest.approx(80 / 410 * 100))
    assert points["C"][0] == "低于 99.8% 控制下限"


def test_low_coverage_schools_are_hollow_and_small_ones_are_counted_but_not_drawn():
    result = _funnel()
    table = result.table.assign(
        low_coverage=pd.array([False, True, False, False, False, False], dtype="boolean"),
        suppressed=[False] * 5 + [True],
    )
    fig = vs.funnel_plot(dataclasses.replace(result, table=table))
    within = next(t for t in fig.data if t.name == "在控制限内")
    assert "F" not in within.text
    colours = dict(zip(within.text, within.marker.color, strict=True))
    assert colours["B"] == "white" and colours["A"] != "white"
    note = fig.layout.annotations[-1].text
    assert "空心点" in note and "另有 1 所学校人数过少" in note


def test_label_places_keep_close_labels_apart():
    places = vs.label_places([1, 1, 1], [5, 5.05, 4.95], ["一", "二", "三"], x_range=(0, 2), y_range=(0, 10))
    assert len(set(places)) == 3


def test_estimate_points_and_band_bars_draw_the_intervals_given():
    frame = pd.DataFrame(
        {"gender": ["F", "M"], "proportion": [0.2, 0.1], "low": [0.15, 0.05], "high": [0.3, 0.16],
         "low_coverage": pd.array([True, False], dtype="boolean")}
    )  # fmt: skip
    fig = vs.estimate_points(frame, x="gender", title="t", y_title="y")
    assert list(fig.data[0].x) == ["女生", "男生"]
    assert np.allclose(fig.data[0].error_y.array, [10, 6]) and np.allclose(
        fig.data[0].error_y.arrayminus, [5, 5]
    )
    assert fig.data[0].marker.color[0] == "white"


def test_transition_heatmap_refuses_two_pairs_of_waves():
    t = pd.DataFrame(
        {"wave_from": ["W1", "W2"], "wave_to": ["W2", "W3"], "band_from": ["minimal"] * 2, "band_rank_from": [0, 0],
         "band_to": ["minimal"] * 2, "band_rank_to": [0, 0], "count": [5, 6], "proportion": [1.0, 1.0]}
    )  # fmt: skip
    with pytest.raises(ValueError, match="one pair of waves per figure"):
        vs.transition_heatmap(t, instrument="phq9")


def test_the_rule_in_words_comes_from_the_spec():
    assert vs.screen_positive_rule("gad7") == "GAD-7 焦虑总分 ≥10（中度及以上）"
    assert vs.screen_positive_rule("sdq") == "SDQ 困难总分 ≥16/17/18（高及以上）"
    assert vs.screen_positive_rule("scl90").startswith("SCL-90 筛查阳性（总分 >160")
