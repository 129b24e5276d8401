"""Proportion intervals, design effects and screen-positive rates against published values.

References in ``tests/reference/screening/``: R ``binom`` (as stored in statsmodels' test
results), Newcombe (1998) Table I, R ``qbeta`` for Jeffreys, R ``aov`` for the ICC.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from psychanalytics import screening

REF = Path(__file__).parent / "reference" / "screening"


def _load(name: str) -> dict:
    return json.loads((REF / name).read_text(encoding="utf-8"))


# --- proportion_ci ----------------------------------------------------------------


@pytest.mark.parametrize(
    "case",
    _load("proportion_ci_published.json")["r_binom"]["cases"],
    ids=lambda c: f"{c['method']}-{c['count']}/{c['n']}",
)
def test_proportion_ci_matches_r_binom(case):
    low, high = screening.proportion_ci(case["count"], case["n"], method=case["method"])
    assert (low, high) == pytest.approx((max(case["low"], 0), min(case["high"], 1)), abs=1e-7)


@pytest.mark.parametrize(
    "case",
    _load("proportion_ci_published.json")["newcombe_1998"]["cases"],
    ids=lambda c: f"{c['method']}-{c['count']}/{c['n']}",
)
def test_proportion_ci_matches_newcombe_1998_table_1(case):
    low, high = screening.proportion_ci(case["count"], case["n"], method=case["method"])
    assert (round(low, 4), round(high, 4)) == (case["low"], case["high"])


@pytest.mark.parametrize("case", _load("proportion_ci_jeffreys.json")["cases"], ids=lambda c: f"ci={c['ci']}")
def test_jeffreys_matches_r_qbeta_with_the_boundary_rule(case):
    low, high = screening.proportion_ci(case["count"], case["n"], method="jeffreys", ci=case["ci"])
    np.testing.assert_allclose(low, case["low"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(high, case["high"], rtol=1e-9, atol=1e-12)


def test_proportion_ci_returns_floats_for_scalars_and_arrays_for_arrays():
    low, high = screening.proportion_ci(3, 40)
    assert type(low) is float and type(high) is float
    lows, highs = screening.proportion_ci(np.array([[0, 3], [5, 40]]), 40)
    assert lows.shape == highs.shape == (2, 2)
    assert lows[0, 1] == pytest.approx(low) and highs[1, 1] == 1.0


@pytest.mark.parametrize("method", ["wilson", "jeffreys", "exact"])
def test_zero_cases_give_a_real_interval_never_zero_width(method):
    low, high = screening.proportion_ci(0, 250, method=method)
    assert low == 0.0
    assert high > 0.001


@pytest.mark.parametrize(
    ("count", "n", "kwargs", "message"),
    [
        (5, 0, {}, "n must be > 0"),
        (12, 10, {}, "count must be <= n"),
        (-1, 10, {}, "count must be >= 0"),
        (float("nan"), 10, {}, "count must be finite"),
        (1, 10, {"method": "wald"}, "method must be one of"),
        (1, 10, {"ci": 95}, "ci must be a confidence level"),
        ("3", 10, {}, "count must be numeric"),
        (True, 10, {}, "count must be numeric"),
    ],
)
def test_proportion_ci_refuses_bad_input(count, n, kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        screening.proportion_ci(count, n, **kwargs)


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=5000),
    share=st.floats(min_value=0, max_value=1),
    method=st.sampled_from(["wilson", "jeffreys", "exact"]),
    ci=st.sampled_from([0.8, 0.9, 0.95, 0.99]),
)
def test_interval_contains_the_estimate_and_widens_as_n_shrinks(n, share, method, ci):
    count = round(share * n)
    low, high = screening.proportion_ci(count, n, method=method, ci=ci)
    assert 0 <= low <= count / n <= high <= 1
    assert high > low
    # the same proportion on four times the students: a narrower interval
    low4, high4 = screening.proportion_ci(4 * count, 4 * n, method=method, ci=ci)
    assert high4 - low4 < high - low
    # a higher confidence level: a wider interval
    wide_low, wide_high = screening.proportion_ci(count, n, method=method, ci=0.999)
    assert wide_low <= low and wide_high >= high


# --- design effect and prevalence ------------------------------------------------------


@pytest.fixture(scope="module")
def aov():
    return _load("design_effect_aov.json")


def test_design_effect_matches_r_aov(aov):
    data = pd.DataFrame(aov["data"])
    district = screening.design_effect(data).iloc[0]
    by_gender = screening.design_effect(data, by="gender").set_index("gender")
    for row, expected in [
        (district, aov["groups"]["district"]),
        *((by_gender.loc[g], aov["groups"][g]) for g in "FM"),
    ]:
        assert row["n"] == expected["n"] and row["count"] == expected["count"]
        assert row["icc"] == pytest.approx(expected["icc"], rel=1e-9)
        assert row["cluster_size"] == pytest.approx(expected["cluster_size"], rel=1e-12)
        assert row["design_effect"] == pytest.approx(expected["design_effect"], rel=1e-9)
    assert by_gender.loc["M", "icc"] < 0 and by_gender.loc["M", "design_effect"] == 1.0


def test_district_interval_uses_the_design_effect_as_in_r(aov):
    data = pd.DataFrame(aov["data"])
    district = screening.prevalence(data, by=()).iloc[0]
    expected = aov["groups"]["district"]
    assert (district["low"], district["high"]) == pytest.approx((expected["low"], expected["high"]), rel=1e-9)
    by_gender = screening.prevalence(data, by="gender").set_index("gender")
    for g in "FM":
        assert (by_gender.loc[g, "low"], by_gender.loc[g, "high"]) == pytest.approx(
            (aov["groups"][g]["low"], aov["groups"][g]["high"]), rel=1e-9
        )
    independent = screening.prevalence(data, by=(), cluster=None).iloc[0]
    assert independent["design_effect"] == 1.0 and np.isnan(independent["icc"])
    assert independent["high"] - independent["low"] < district["high"] - district["low"]


def test_a_known_icc_replaces_the_estimate(aov):
    data = pd.DataFrame(aov["data"])
    effect = screening.design_effect(data, icc=0.01).iloc[0]
    assert effect["icc"] == 0.01
    assert effect["design_effect"] == pytest.approx(
        1 + (aov["groups"]["district"]["cluster_size"] - 1) * 0.01
    )


def test_one_school_or_no_variation_has_no_icc_and_no_inflation():
    one = pd.DataFrame({"school": ["A", "A"], "grade": [7, 8], "n": [100, 120], "count": [10, 13]})
    assert screening.design_effect(one).iloc[0][["clusters", "design_effect"]].tolist() == [1, 1.0]
    assert np.isnan(screening.design_effect(one).iloc[0]["icc"])
    none = pd.DataFrame({"school": ["A", "B"], "n": [100, 120], "count": [0, 0]})
    row = screening.prevalence(none, by=()).iloc[0]
    assert np.isnan(row["icc"]) and row["design_effect"] == 1.0 and row["high"] > 0


def test_prevalence_per_school_with_flags():
    counts = pd.DataFrame(
        {
            "school": ["B", "A", "A", "C", "D"],
            "grade": [7, 7, 8, 7, 7],
            "n": [180, 100, 140, 25, 0],
            "count": [0, 10, 14, 5, 0],
            "enrolled": [230, 110, 140, 25, 12],
        }
    )
    before = counts.copy()
    out = screening.prevalence(counts)
    pd.testing.assert_frame_equal(counts, before)
    assert out["school"].tolist() == ["A", "B", "C", "D"]
    assert out.columns.tolist() == [
        "school", "n", "count", "proportion", "low", "high", "icc", "design_effect",
        "enrolled", "coverage", "small_n", "low_coverage",
    ]  # fmt: skip
    a = out.iloc[0]
    assert (a["n"], a["count"], a["enrolled"]) == (240, 24, 250)
    assert (a["low"], a["high"]) == pytest.approx(screening.proportion_ci(24, 240))
    assert out["small_n"].tolist() == [False, False, True, True]
    assert out["low_coverage"].tolist() == [False, True, False, True]
    b = out.iloc[1]
    assert b["proportion"] == 0 and b["low"] == 0 and b["high"] > 0
    d = out.iloc[3]
    assert d["n"] == 0 and np.isnan(d["proportion"]) and np.isnan(d["low"]) and d["coverage"] == 0


def test_low_coverage_is_unknown_without_enrolment():
    counts = pd.DataFrame({"school": ["A"], "n": [40], "count": [4]})
    out = screening.prevalence(counts)
    assert out["low_coverage"].isna().all() and str(out["low_coverage"].dtype) == "boolean"
    assert "coverage" not in out.columns


@pytest.mark.parametrize(
    ("frame", "kwargs", "error", "message"),
    [
        (
            pd.DataFrame({"gender": ["F"], "n": [10], "count": [1]}),
            {"by": "gender"},
            KeyError,
            "cluster=None",
        ),
        (pd.DataFrame({"school": ["A"], "n": [10]}), {}, KeyError, r"missing column\(s\) \['count'\]"),
        (
            pd.DataFrame({"school": ["A", "B"], "n": [10, 5], "count": [1, 6]}),
            {},
            ValueError,
            "row 1: count = 6 is larger than n = 5",
        ),
        (pd.DataFrame({"school": ["A"], "n": [10.5], "count": [1]}), {}, ValueError, "not a whole number"),
        (
            pd.DataFrame({"school": ["A"], "n": [10], "count": [None]}),
            {},
            ValueError,
            "column 'count'.*is missing",
        ),
        (pd.DataFrame({"school": [None], "n": [10], "count": [1]}), {}, ValueError, "group key is missing"),
        (
            pd.DataFrame({"school": ["A"], "n": [10], "count": [1], "enrolled": [8]}),
            {},
            ValueError,
            "n = 10 is larger than enrolled = 8",
        ),
        (pd.DataFrame({"school": ["A"], "n": [10], "count": [1]}), {"icc": 1.5}, ValueError, "icc must be"),
    ],
)
def test_prevalence_refuses_bad_input(frame, kwargs, error, message):
    with pytest.raises(error, match=message):
        screening.prevalence(frame, **({"by": ()} if "icc" in kwargs else {}) | kwargs)
