"""Trends across waves (GEE, exchangeable within schools) against R geepack.

Reference: ``tests/reference/screening/trend_geepack.json`` and ``trend_data.csv``, made by
``make_trend.R`` (geepack 1.3.9): coefficients, robust errors, and the marginal (standardised) wave
estimates and changes with delta-method errors computed in R from geeglm's robust covariance.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from psychanalytics import screening

REF = Path(__file__).parent / "reference" / "screening"
Z95 = norm.isf(0.025)
# geepack and statsmodels estimate a binary outcome's exchangeable correlation with different
# divisors (alpha 0.004900 vs 0.004913 on these data); that moves rates by ~2e-6. For a
# continuous outcome (the same moment estimators) they agree to 1e-9.
BINARY_ALPHA_CONVENTION = 1e-5


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return pd.read_csv(REF / "trend_data.csv")


@pytest.fixture(scope="module")
def ref() -> dict:
    return json.loads((REF / "trend_geepack.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("key", "kind", "outcome", "covariates", "tolerance"),
    [
        ("rate", "rate", "positive", (), BINARY_ALPHA_CONVENTION),
        ("rate_gender", "rate", "positive", ("gender",), BINARY_ALPHA_CONVENTION),
        ("mean", "mean", "score", ("gender",), 1e-8),
    ],
)
def test_trend_matches_geepack(data, ref, key, kind, outcome, covariates, tolerance):
    expected = ref[key]
    result = screening.trend(data, outcome=outcome, kind=kind, by=(), covariates=covariates)
    assert result.waves["wave"].tolist() == expected["waves"]
    np.testing.assert_allclose(result.waves["estimate"], expected["marginal"], atol=tolerance)
    changes = result.changes
    assert changes["wave_from"].tolist() == ["W1", "W1"] and changes["wave_to"].tolist() == ["W2", "W3"]
    np.testing.assert_allclose(changes["change"], expected["change"], atol=tolerance)
    np.testing.assert_allclose(
        (changes["high"] - changes["low"]) / (2 * Z95), expected["change_se"], atol=tolerance
    )
    np.testing.assert_allclose(
        changes["p_value"],
        2 * norm.sf(np.abs(np.array(expected["change"]) / expected["change_se"])),
        atol=100 * tolerance,
    )
    if kind == "mean":
        se = np.array(expected["marginal_se"])
        np.testing.assert_allclose(result.waves["high"] - result.waves["low"], 2 * Z95 * se, atol=1e-8)
    else:  # intervals on the logit scale
        p, se = np.array(expected["marginal"]), np.array(expected["marginal_se"])
        logit = np.log(p / (1 - p))
        np.testing.assert_allclose(
            result.waves["low"], 1 / (1 + np.exp(-(logit - Z95 * se / (p * (1 - p))))), atol=tolerance
        )


def test_counts_and_words_per_stage_and_gender(data):
    staged = data.assign(stage=np.where(data["school"] < "S08", "junior", "primary"))
    result = screening.trend(staged, outcome="positive")
    groups = result.waves[["stage", "gender"]].drop_duplicates().values.tolist()
    assert groups == [["junior", "F"], ["junior", "M"], ["primary", "F"], ["primary", "M"]]
    girls = staged[(staged["stage"] == "junior") & (staged["gender"] == "F")]
    first = result.waves.iloc[0]
    assert first["students"] == girls.loc[girls["wave"] == "W1", "pid"].nunique()
    assert first["schools"] == girls["school"].nunique()
    zh, en = result.changes["sentence_zh"].iloc[0], result.changes["sentence_en"].iloc[0]
    assert zh.startswith("初中女生筛查阳性率由W1的") and "患病率" not in zh and "个百分点" in zh
    assert en.startswith("Junior secondary, girls: the screen-positive rate went from")
    assert "only 7 clusters" in result.note
    assert "logistic GEE" in result.model and "exchangeable within each school" in result.model


def test_sentence_says_when_the_interval_includes_zero():
    rng = np.random.default_rng(5)
    rows = [
        (f"s{s}p{i}", w, f"s{s}", int(rng.random() < 0.1))
        for s in range(25)
        for i in range(30)
        for w in ("A", "B")
    ]
    flat = pd.DataFrame(rows, columns=["pid", "wave", "school", "positive"])
    change = screening.trend(flat, outcome="positive", by=()).changes.iloc[0]
    assert change["low"] < 0 < change["high"]
    assert "不能确定有变化" in change["sentence_zh"] and "not certain" in change["sentence_en"]


def test_wave_order_and_reference_follow_waves(data):
    result = screening.trend(data, outcome="score", kind="mean", by=(), waves=["W3", "W1", "W2"])
    assert result.changes["wave_from"].tolist() == ["W3", "W3"]
    assert result.waves["wave"].tolist() == ["W3", "W1", "W2"]


def test_clustering_on_students_alone_when_no_school(data):
    result = screening.trend(data, outcome="score", kind="mean", by=(), cluster=None)
    assert "exchangeable within each pid" in result.model
    assert result.waves["schools"].iloc[0] > 100  # clusters are then students


def test_a_fit_that_fails_is_an_error_naming_the_group():
    """Each student answers alike in both waves and schools differ only by students: no usable fit."""
    rows = [
        (f"s{s}p{i}", w, f"s{s}", int((i + s) % 10 == 0))
        for s in range(25)
        for i in range(30)
        for w in ("A", "B")
    ]
    flat = pd.DataFrame(rows, columns=["pid", "wave", "school", "positive"]).assign(stage="junior")
    with pytest.raises(ValueError, match="junior secondary: the GEE fit failed"):
        screening.trend(flat, outcome="positive", by="stage")


@pytest.mark.parametrize(
    ("edit", "kwargs", "message"),
    [
        (lambda d: d.assign(positive=d["positive"].where(d.index != 5, 2)), {}, "a rate needs 0/1 outcomes"),
        (
            lambda d: d.assign(score=d["score"].where(d.index != 7)),
            {"outcome": "score", "kind": "mean"},
            r"row 7, column 'score' is missing",
        ),
        (lambda d: pd.concat([d, d.iloc[[0]]]), {}, "appears twice in wave"),
        (lambda d: d[d["wave"] == "W1"], {}, "at least two waves"),
        (lambda d: d, {"waves": ["W1", "W2"]}, r"waves \['W3'\] in data are not in waves"),
        (lambda d: d.drop(columns="school"), {}, r"missing column\(s\) \['school'\]"),
    ],
)
def test_trend_refuses_bad_input(data, edit, kwargs, message):
    with pytest.raises((ValueError, KeyError), match=message):
        screening.trend(edit(data), **({"outcome": "positive", "by": ()} | kwargs))
