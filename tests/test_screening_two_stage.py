"""Screen-positive rates against true prevalence: Rogan-Gladen, two-phase estimates, yield.

References in ``tests/reference/screening/``: ``true_prevalence.json`` (J. Reiczigel's R function
for Lang & Reiczigel 2014, and epiR's documented example) and ``two_phase_survey.json`` (R survey).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from psychanalytics import instruments, screening
from psychanalytics.instruments import Accuracy

REF = Path(__file__).parent / "reference" / "screening"


def _load(name: str) -> dict:
    return json.loads((REF / name).read_text(encoding="utf-8"))


def _accuracy(case: dict, *, counts: bool = True) -> Accuracy:
    return Accuracy(
        scale="total",
        at_least=10,
        sensitivity=case["sensitivity"],
        specificity=case["specificity"],
        condition="major depression",
        reference_standard="interview",
        population="test",
        source="test",
        n_cases=case.get("n_cases") if counts else None,
        n_noncases=case.get("n_noncases") if counts else None,
    )


@pytest.mark.parametrize(
    "case", _load("true_prevalence.json")["lang_reiczigel"]["cases"], ids=lambda c: f"{c['count']}/{c['n']}"
)
def test_rogan_gladen_interval_matches_reiczigel_script(case):
    result = screening.true_prevalence(case["count"], case["n"], accuracy=_accuracy(case), ci=case["ci"])
    assert result.method == "rogan_gladen_lang_reiczigel"
    assert result.raw_estimate == pytest.approx(case["rogan_gladen"], abs=1e-14)
    assert result.estimate == pytest.approx(min(max(case["rogan_gladen"], 0), 1), abs=1e-14)
    assert result.ci == pytest.approx((case["low"], case["high"]), abs=1e-12)
    assert result.ci[0] <= result.estimate <= result.ci[1]
    assert ("collapses to 0" in result.note) == (case["high"] == 0)


def test_known_accuracy_matches_epir_documented_example():
    example = _load("true_prevalence.json")["epir_example"]
    result = screening.true_prevalence(
        example["count"], example["n"], accuracy=_accuracy(example, counts=False), method="exact"
    )
    rounded = [round(x, example["decimals"]) for x in (result.estimate, *result.ci)]
    assert rounded == [example["estimate"], example["low"], example["high"]]
    assert result.method == "rogan_gladen_known_accuracy"
    assert result.raw_estimate < 0 and "reported as 0" in result.note
    assert "treated as exact" in result.note


def test_result_states_its_basis_and_label():
    cutoff = instruments.get("phq9").accuracy_at("total", 10)
    result = screening.true_prevalence(600, 2400, accuracy=cutoff)
    assert "Kroenke" in result.basis and "0.88" in result.basis
    assert result.apparent == 0.25 and result.n == 2400
    assert "估计患病率" in result.label_zh and "不是筛查阳性率" in result.label_zh
    assert "not the screen-positive rate" in result.label_en
    gad = screening.true_prevalence(600, 2400, accuracy=instruments.get("gad7").accuracy_at("total", 10))
    assert gad.method == "rogan_gladen_known_accuracy" and "Spitzer" in gad.basis


def test_true_prevalence_refuses_bad_input():
    cutoff = instruments.get("phq9").accuracy_at("total", 10)
    with pytest.raises(ValueError, match=r"count \(30\) is larger than n \(20\)"):
        screening.true_prevalence(30, 20, accuracy=cutoff)
    with pytest.raises(ValueError, match="n must be >= 1"):
        screening.true_prevalence(0, 0, accuracy=cutoff)
    with pytest.raises(TypeError, match="instruments.Accuracy"):
        screening.true_prevalence(3, 20, accuracy=(0.88, 0.88))
    with pytest.raises(KeyError, match=r"no published sensitivity and specificity for total >= 15"):
        instruments.get("phq9").accuracy_at("total", 15)


@pytest.mark.parametrize(
    "case", _load("two_phase_survey.json")["cases"], ids=lambda c: f"{c['positive']}+{c['negative']}"
)
def test_two_phase_matches_r_survey(case):
    kwargs = {
        k: case[k]
        for k in ("positive_interviewed", "positive_confirmed", "negative_interviewed", "negative_confirmed")
    }
    result = screening.two_phase_prevalence(case["positive"], case["negative"], method="exact", **kwargs)
    assert result.estimate == pytest.approx(case["estimate"], abs=1e-14)
    assert result.ci == pytest.approx((case["low"], case["high"]), rel=1e-10)
    # survey's "full" phase-2 variance differs from "approx" in the 4th significant digit
    assert case["se"] == pytest.approx(case["se_full"], rel=1e-3)
    assert result.method == "two_phase" and "interviews of" in result.basis


def test_two_phase_with_no_case_found_keeps_a_real_interval():
    result = screening.two_phase_prevalence(
        50, 950, positive_interviewed=20, positive_confirmed=0, negative_interviewed=40, negative_confirmed=0
    )
    assert result.estimate == 0 and result.ci[0] == 0 and result.ci[1] > 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"positive_interviewed": 400}, "positive_interviewed is larger than positive"),
        ({"negative_confirmed": 200}, "negative_confirmed is larger than negative_interviewed"),
        ({"positive_interviewed": 1}, "positive_interviewed must be >= 2"),
        ({"negative_confirmed": 2.5}, "negative_confirmed must be a whole number"),
    ],
)
def test_two_phase_refuses_bad_input(kwargs, message):
    args = (
        dict(positive_interviewed=120, positive_confirmed=54, negative_interviewed=150, negative_confirmed=3)
        | kwargs
    )
    with pytest.raises(ValueError, match=message):
        screening.two_phase_prevalence(300, 2100, **args)


def test_screening_yield_by_instrument_and_cutoff():
    counts = pd.DataFrame(
        {
            "instrument": ["phq9"] * 4,
            "cutoff": [10, 10, 15, 15],
            "school": ["A", "B", "A", "B"],
            "n": [1200, 1200, 1200, 1200],
            "count": [170, 142, 66, 54],
            "interviewed": [60, 60, 40, 40],
            "confirmed": [25, 29, 23, 26],
        }
    )
    out = screening.screening_yield(counts)
    assert out[["cutoff", "n", "count", "interviewed", "confirmed"]].values.tolist() == [
        [10, 2400, 312, 120, 54],
        [15, 2400, 120, 80, 49],
    ]
    assert out["proportion"].tolist() == [0.13, 0.05]
    low, high = screening.proportion_ci(out["confirmed"], out["interviewed"])
    np.testing.assert_allclose(out["ppv_low"], low)
    np.testing.assert_allclose(out["ppv_high"], high)
    assert (out["design_effect"] >= 1).all()
    without = screening.screening_yield(counts.drop(columns=["interviewed", "confirmed"]))
    assert "ppv" not in without.columns


def test_screening_yield_refuses_more_confirmed_than_interviewed():
    counts = pd.DataFrame(
        {
            "instrument": ["phq9"],
            "cutoff": [10],
            "n": [100],
            "count": [20],
            "interviewed": [5],
            "confirmed": [6],
        }
    )
    with pytest.raises(ValueError, match="confirmed = 6 is larger than interviewed = 5"):
        screening.screening_yield(counts, cluster=None)


def test_two_phase_estimate_is_unbiased_in_simulation():
    """Across simulated two-phase surveys the estimate centres on the truth and the interval covers it."""
    rng = np.random.default_rng(3)
    truth, sens, spec, n = 0.08, 0.85, 0.9, 3000
    covered, estimates = 0, []
    for _ in range(300):
        case = rng.random(n) < truth
        positive = np.where(case, rng.random(n) < sens, rng.random(n) > spec)
        pos_idx, neg_idx = np.flatnonzero(positive), np.flatnonzero(~positive)
        asked_pos, asked_neg = (
            rng.choice(pos_idx, 100, replace=False),
            rng.choice(neg_idx, 150, replace=False),
        )
        result = screening.two_phase_prevalence(
            len(pos_idx), len(neg_idx),
            positive_interviewed=100, positive_confirmed=int(case[asked_pos].sum()),
            negative_interviewed=150, negative_confirmed=int(case[asked_neg].sum()),
        )  # fmt: skip
        estimates.append(result.estimate)
        covered += result.ci[0] <= truth <= result.ci[1]
    assert abs(np.mean(estimates) - truth) < 0.003
    assert 0.9 <= covered / 300 <= 0.99
