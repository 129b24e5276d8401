"""Funnel plots and indirect standardisation against FunnelPlotR, R qbeta and PHE's workbook.

References in ``tests/reference/screening/``: ``funnel_funnelplotr.json`` (``make_funnel.R``:
FunnelPlotR 0.5.0 on synthetic schools, and the values FunnelPlotR's own tests assert) and
``expected_counts_phe.json`` (Public Health England's indirect standardisation workbook).
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
LIMITS = ("ll95", "ul95", "ll998", "ul998")
# FunnelPlotR writes the normal quantiles as 1.959964 and 3.090232 (7 digits); ours are exact,
# which moves overdispersed limits by up to 3e-7.
FUNNELPLOTR_Z_ROUNDING = 1e-6


@pytest.fixture(scope="module")
def ref() -> dict:
    return json.loads((REF / "funnel_funnelplotr.json").read_text(encoding="utf-8"))


def _frame(block: dict, numerator: str, denominator: str) -> pd.DataFrame:
    return pd.DataFrame(
        {"school": block["school"], numerator: block["numerator"], denominator: block["denominator"]}
    )


def test_exact_poisson_limits_match_funnelplotr_tests(ref):
    published = ref["funnelplotr_tests"]
    limits = screening.funnel_limits(published["expected"], kind="ratio", target=1)
    for column in LIMITS:
        decimals = 7 if column.startswith("ll") else 6
        assert np.round(limits[column], decimals).tolist() == pytest.approx(published[column], abs=1e-12)


def test_ratio_funnel_without_overdispersion_matches_funnelplotr(ref):
    block = ref["ratio_unadjusted"]
    result = screening.funnel(
        _frame(block, "observed", "expected"), numerator="observed", denominator="expected", kind="ratio"
    )
    assert not result.adjusted and np.isnan(result.phi) and result.target == 1
    for column in LIMITS:
        np.testing.assert_allclose(result.table[column], block[column], rtol=1e-12)
    np.testing.assert_allclose(result.table["value"], block["value"], rtol=1e-12)
    assert (result.table["position"] != "within").astype(int).tolist() == block["outlier"]


def test_proportion_funnel_with_overdispersion_matches_funnelplotr(ref):
    block = ref["proportion"]
    result = screening.funnel(
        _frame(block, "count", "n"), numerator="count", denominator="n", overdispersion=True
    )
    assert result.target == pytest.approx(block["target"], rel=1e-14)
    assert result.phi == pytest.approx(block["phi"], rel=1e-12)
    assert result.tau2 == pytest.approx(block["tau2"], rel=1e-12)
    assert result.adjusted
    for column in LIMITS:
        np.testing.assert_allclose(result.table[column], block[f"od_{column}"], atol=FUNNELPLOTR_Z_ROUNDING)
    assert (result.table["position"] != "within").astype(int).tolist() == block["outlier"]
    assert result.table.loc[result.table["school"] == "S05", "position"].item() == "above"


def test_ratio_funnel_with_overdispersion_squares_funnelplotr_cqc_limits_back(ref):
    """FunnelPlotR's CQC limits stay on the square-root scale (its issue #33); ours are their squares."""
    block = ref["ratio"]
    result = screening.funnel(
        _frame(block, "observed", "expected"),
        numerator="observed",
        denominator="expected",
        kind="ratio",
        overdispersion=True,
    )
    assert result.phi == pytest.approx(block["phi"], rel=1e-12)
    assert result.tau2 == pytest.approx(block["tau2"], rel=1e-12)
    for column in LIMITS:
        np.testing.assert_allclose(
            result.table[column],
            np.clip(block[f"od_{column}"], 0, None) ** 2,
            atol=5 * FUNNELPLOTR_Z_ROUNDING,
        )
    # wider than FunnelPlotR's unsquared limits: every school it leaves inside stays inside
    theirs = np.array(block["outlier"], dtype=bool)
    ours = (result.table["position"] != "within").to_numpy()
    assert not (ours & ~theirs).any()
    assert {"S03", "S22"} <= set(result.table.loc[ours, "school"])


def test_proportion_limits_without_overdispersion_match_r_qbeta(ref):
    block = ref["exact_binomial"]
    limits = screening.funnel_limits(block["n"], kind="proportion", target=block["target"])
    for column in LIMITS:
        np.testing.assert_allclose(limits[column], block[column], rtol=1e-10)


def test_overdispersion_keeps_a_little_difference_everywhere_from_flagging_half_the_schools():
    rng = np.random.default_rng(7)
    n = rng.integers(300, 1500, size=40)
    rate = 1 / (1 + np.exp(-(np.log(0.12 / 0.88) + rng.normal(0, 0.25, size=40))))
    schools = pd.DataFrame(
        {"school": [f"S{i:02d}" for i in range(40)], "n": n, "count": rng.binomial(n, rate)}
    )
    plain = screening.funnel(schools, numerator="count", denominator="n")
    adjusted = screening.funnel(schools, numerator="count", denominator="n", overdispersion=True)
    flagged = (plain.table["position"] != "within").sum()
    assert flagged >= 10
    assert adjusted.adjusted and adjusted.phi > 2
    assert (adjusted.table["position"] != "within").sum() <= 2


def test_no_overdispersion_detected_keeps_the_exact_limits():
    schools = pd.DataFrame(
        {"school": list("ABCDEFGHIJ"), "n": [400] * 10, "count": [40, 41, 39, 40, 42, 38, 40, 41, 39, 40]}
    )
    result = screening.funnel(schools, numerator="count", denominator="n", overdispersion=True)
    assert result.phi < 1 and not result.adjusted
    exact = screening.funnel(schools, numerator="count", denominator="n")
    pd.testing.assert_frame_equal(result.table, exact.table)
    assert "no overdispersion" in result.method


def test_table_is_sorted_by_school_never_by_value_and_limits_redraw():
    schools = pd.DataFrame({"school": ["C", "A", "B"], "n": [300, 200, 250], "count": [60, 10, 30]})
    result = screening.funnel(schools, numerator="count", denominator="n")
    assert result.table["school"].tolist() == ["A", "B", "C"]
    assert result.table.columns.tolist() == ["school", "count", "n", "value", *LIMITS, "position"]
    curve = result.limits([200, 250, 300])
    np.testing.assert_allclose(curve["ul998"], result.table["ul998"])


@settings(max_examples=100, deadline=None)
@given(
    kind=st.sampled_from(["proportion", "ratio"]),
    target=st.floats(min_value=0.02, max_value=0.6),
    tau2=st.sampled_from([0.0, 0.0005, 0.01]),
    size=st.floats(min_value=5, max_value=5000),
)
def test_limits_widen_as_the_denominator_shrinks(kind, target, tau2, size):
    limits = screening.funnel_limits([size / 2, size], kind=kind, target=target, tau2=tau2)
    small, large = limits.iloc[0], limits.iloc[1]
    assert (
        small["ll998"]
        <= large["ll998"]
        <= large["ll95"]
        <= target
        <= large["ul95"]
        <= large["ul998"]
        <= small["ul998"]
    )
    assert small["ll95"] <= large["ll95"] and small["ul95"] >= large["ul95"]
    if kind == "proportion":
        assert 0 <= small["ll998"] and small["ul998"] <= 1


@pytest.mark.parametrize(
    ("frame", "kwargs", "message"),
    [
        (
            pd.DataFrame({"school": ["A", "A"], "n": [10, 20], "count": [1, 2]}),
            {},
            "several rows for one unit",
        ),
        (pd.DataFrame({"school": ["A", "B"], "n": [10, 0], "count": [1, 0]}), {}, "row 1: n is 0"),
        (pd.DataFrame({"school": ["A"], "n": [10], "count": [11]}), {}, "count = 11 is larger than n = 10"),
        (pd.DataFrame({"school": ["A"], "n": [10], "count": [1]}), {"kind": "rank"}, "kind must be one of"),
        (
            pd.DataFrame({"school": ["A"], "n": [10], "count": [1]}),
            {"target": 1.5},
            r"target of a proportion funnel must be in \(0, 1\)",
        ),
        (pd.DataFrame({"school": ["A"], "n": [10.5], "count": [1]}), {}, "not a whole number"),
    ],
)
def test_funnel_refuses_bad_input(frame, kwargs, message):
    with pytest.raises(ValueError, match=message):
        screening.funnel(frame, numerator="count", denominator="n", **kwargs)


# --- indirect standardisation -----------------------------------------------------------


def test_expected_counts_match_phe_workbook():
    ref = json.loads((REF / "expected_counts_phe.json").read_text(encoding="utf-8"))
    # PHE sums observed counts with na.rm = TRUE: its one blank count is a 0 here, said explicitly.
    counts = (
        pd.DataFrame(ref["counts"]).rename(columns={"pop": "n"}).fillna({"count": 0}).astype({"count": int})
    )
    reference = pd.DataFrame(ref["reference"]).rename(columns={"refpop": "n", "refcount": "count"})
    out = screening.expected_counts(counts, by="area", strata="ageband", reference=reference)
    expected = ref["results"]
    assert out["area"].tolist() == expected["area"]
    assert out["observed"].tolist() == expected["observed"]
    np.testing.assert_allclose(out["expected"], expected["expected"], rtol=1e-12)
    np.testing.assert_allclose(out["observed"] / out["expected"], expected["smr"], rtol=1e-12)


def test_district_standardised_ratios_average_to_one_and_feed_the_ratio_funnel():
    counts = pd.DataFrame(
        {
            "school": ["A"] * 4 + ["B"] * 4 + ["C"] * 4,
            "grade": [7, 7, 8, 8] * 3,
            "gender": ["F", "M"] * 6,
            "n": [100, 110, 90, 95, 40, 45, 200, 210, 150, 140, 20, 25],
            "count": [12, 8, 15, 9, 3, 2, 30, 20, 20, 11, 4, 1],
        }
    )
    out = screening.expected_counts(counts)
    assert out["observed"].sum() == counts["count"].sum()
    assert out["expected"].sum() == pytest.approx(counts["count"].sum())
    result = screening.funnel(out, numerator="observed", denominator="expected", kind="ratio")
    assert result.target == 1 and len(result.table) == 3


def test_expected_counts_refuse_a_stratum_the_reference_lacks():
    counts = pd.DataFrame({"school": ["A", "A"], "grade": [7, 9], "n": [10, 12], "count": [1, 2]})
    reference = pd.DataFrame({"grade": [7], "n": [1000], "count": [90]})
    with pytest.raises(
        ValueError, match=r"stratum \{'grade': 9\} of \{'school': 'A'\} has no students in the reference"
    ):
        screening.expected_counts(counts, strata="grade", reference=reference)


@pytest.mark.parametrize(
    ("numerator", "denominator", "message"),
    [
        ([5], [50], "of one length >= 2"),
        ([5, 6], [50], "of one length >= 2"),
        ([5, 60], [50, 50], "cannot exceed its denominator"),
        ([5, 6], [50, 0], "every denominator must be finite and > 0"),
    ],
)
def test_overdispersion_estimate_refuses_bad_input(numerator, denominator, message):
    with pytest.raises(ValueError, match=message):
        screening.overdispersion_estimate(numerator, denominator, kind="proportion", target=0.1)
