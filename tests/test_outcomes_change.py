"""Pre/post tests, effect sizes, reliable change and adjusted p values against published values.

References (tests/reference/outcomes/, each with its source and generating script):
Lakens (2013) movie ratings; R effectsize 0.8.3; pingouin 0.7.0's documented examples; R
t.test / wilcox.test; R clinicalsignificance 3.0.0 run on generated data; R p.adjust.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import nct, norm

from psychanalytics import outcomes
from psychanalytics.outcomes._effect import hedges_correction, noncentral_t_interval

REF = Path(__file__).parent / "reference" / "outcomes"


def _load(name: str) -> dict:
    return json.loads((REF / name).read_text(encoding="utf-8"))


LAKENS = _load("lakens2013.json")


# --- effect sizes ----------------------------------------------------------------


def test_effect_sizes_reproduce_lakens_2013_movie_example():
    x, y = LAKENS["movie_1"], LAKENS["movie_2"]
    independent, paired = LAKENS["independent"], LAKENS["paired"]
    d = outcomes.effect_size(x, y)
    assert (d.kind, round(d.value, 2)) == ("cohen_d", independent["cohen_d"])
    assert [round(b, 2) for b in d.ci] == independent["cohen_d_ci"]
    assert round(outcomes.effect_size(x, y, kind="hedges_g").value, 2) == independent["hedges_g"]
    assert round(outcomes.effect_size(x, y, paired=True, kind="cohen_dz").value, 2) == paired["cohen_dz"]
    assert round(outcomes.effect_size(x, y, paired=True, kind="hedges_g").value, 2) == paired["hedges_g"]
    dav = outcomes.effect_size(x, y, paired=True)
    assert dav.kind == "cohen_dav"
    assert [round(b, 2) for b in dav.ci] == paired["cohen_dav_ci"]


@pytest.mark.parametrize("case", _load("effectsize_r.json")["cases"], ids=lambda c: c["name"])
def test_effect_size_matches_r_effectsize(case):
    res = outcomes.effect_size(
        case["x"], case["y"], paired=case["paired"], kind=case["kind"], ci=case["ci_level"]
    )
    assert res.value == pytest.approx(case["value"], abs=1e-12)
    # effectsize's root finder (uniroot) stops at about 1e-7, and at about 3e-5 for t near -24 (large_dz):
    # there P(T <= t | df, ncp) at its upper bound is 0.0250136 by quadrature in mpmath, at ours 0.0250000
    tolerance = 1e-4 if case["name"] == "large_dz" else 1e-6
    assert res.low == pytest.approx(case["low"], abs=tolerance)
    assert res.high == pytest.approx(case["high"], abs=tolerance)
    assert (res.kind, res.confidence) == (case["kind"], case["ci_level"])


@pytest.mark.parametrize("case", _load("pingouin_effsize.json")["cases"], ids=lambda c: c["call"])
def test_effect_size_matches_pingouin_examples(case):
    res = outcomes.effect_size(case["x"], case["y"], paired=case["paired"], kind=case["kind"])
    if case["kind"] == "hedges_g":
        # pingouin multiplies d_av by 1 - 3 / (4 (nx + ny) - 9); we use Hedges' exact J(nx + ny - 2)
        n = len(case["x"]) + len(case["y"])
        approximate = 1 - 3 / (4 * n - 9)
        assert res.value == pytest.approx(case["value"] * hedges_correction(n - 2) / approximate, rel=1e-12)
        assert res.value == pytest.approx(case["value"], rel=5e-4)
    else:
        assert res.value == pytest.approx(case["value"], rel=1e-12)


def test_hedges_exact_correction_approaches_the_usual_approximation():
    assert hedges_correction(18) == pytest.approx(1 - 3 / (4 * 18 - 1), rel=2e-4)
    assert hedges_correction(4000) == pytest.approx(1 - 3 / (4 * 4000 - 1), rel=1e-8)


@pytest.mark.parametrize(("t", "df"), [(2.52, 18), (-3.1, 7), (0.2, 40), (12.0, 9), (45.0, 30)])
def test_noncentral_t_interval_inverts_the_distribution(t, df):
    low, high = noncentral_t_interval(t, df, 0.95)
    assert nct.cdf(t, df, low) == pytest.approx(0.975, abs=1e-9)
    assert nct.cdf(t, df, high) == pytest.approx(0.025, abs=1e-9)


@pytest.mark.parametrize(
    ("paired", "kind"), [(False, "cohen_d"), (False, "hedges_g"), (True, "cohen_dz"), (True, "cohen_dav")]
)
def test_effect_size_changes_sign_with_the_order_of_x_and_y(paired, kind):
    x, y = [3.0, 5.5, 4.0, 6.5, 5.0, 7.0], [2.0, 4.0, 4.5, 5.0, 3.0, 5.5]
    forward = outcomes.effect_size(x, y, paired=paired, kind=kind)
    backward = outcomes.effect_size(y, x, paired=paired, kind=kind)
    assert backward.value == pytest.approx(-forward.value)
    assert backward.ci == pytest.approx((-forward.high, -forward.low))


def test_effect_size_kinds_belong_to_one_design():
    x, y = [1, 2, 3, 4], [2, 4, 5, 5]
    assert outcomes.effect_size(x, y).kind == "cohen_d"
    assert outcomes.effect_size(x, y, paired=True).kind == "cohen_dav"
    with pytest.raises(ValueError, match=r"'cohen_d' needs paired=False"):
        outcomes.effect_size(x, y, paired=True, kind="cohen_d")
    with pytest.raises(ValueError, match=r"'cohen_dz' needs paired=True"):
        outcomes.effect_size(x, y, kind="cohen_dz")
    with pytest.raises(ValueError, match=r"kind must be one of"):
        outcomes.effect_size(x, y, kind="glass_delta")


def test_effect_size_refuses_missing_text_and_misaligned_input():
    with pytest.raises(ValueError, match=r"x has 1 missing value\(s\) \(rows 2\)"):
        outcomes.effect_size([1, 2, np.nan, 4], [2, 3, 4, 5])
    with pytest.raises(ValueError, match=r"y, row 1: value 'b' is not a number"):
        outcomes.effect_size([1, 2, 3], pd.Series([1, "b", 3], dtype=object))
    post = pd.Series([3.0, 4.0, 5.0], index=["s1", "s2", "s3"])
    pre = pd.Series([2.0, 4.0, 4.0], index=["s2", "s1", "s3"])
    with pytest.raises(ValueError, match=r"indexed differently"):
        outcomes.effect_size(post, pre, paired=True)
    with pytest.raises(ValueError, match=r"the SD of the differences is 0"):
        outcomes.effect_size([1, 2, 3], [2, 3, 4], paired=True, kind="cohen_dz")
    with pytest.raises(ValueError, match=r"ci must be between 0 and 1"):
        outcomes.effect_size([1, 2, 3], [2, 3, 5], ci=95)


# --- pre/post tests ----------------------------------------------------------------


@pytest.mark.parametrize("case", _load("prepost_r.json")["cases"], ids=lambda c: c["name"])
def test_pre_post_matches_r_t_test_and_wilcox_test(case):
    res = outcomes.pre_post(case["pre"], case["post"])
    assert res.value == pytest.approx(case["mean_change"], abs=1e-12)
    assert res.ci == pytest.approx((case["low"], case["high"]), abs=1e-12)
    assert (res.t, res.df) == (pytest.approx(case["t"], abs=1e-12), case["df"])
    assert res.p == pytest.approx(case["p"], rel=1e-9)
    assert res.p_wilcoxon == pytest.approx(case["p_wilcoxon"], rel=1e-9)
    n, v = case["wilcoxon_nonzero"], case["wilcoxon_v"]
    assert res.wilcoxon == min(v, n * (n + 1) / 2 - v)
    assert res.wilcoxon_method == ("exact" if "exact" in case["wilcoxon_method"] else "approx")
    assert res.table["p"].tolist() == [res.p, res.p_wilcoxon]


def test_pre_post_reproduces_lakens_paired_t():
    res = outcomes.pre_post(LAKENS["movie_2"], LAKENS["movie_1"])
    paired = LAKENS["paired"]
    assert (round(res.t, 2), res.df, round(res.p, 3)) == (paired["t"], paired["df"], paired["p"])
    assert [round(b, 2) for b in res.ci] == paired["mean_difference_ci"]


def test_pre_post_refuses_missing_post_scores_and_no_change():
    pre = pd.Series([12.0, 14.0, 9.0], index=["p1", "p2", "p3"])
    post = pd.Series([8.0, np.nan, 7.0], index=["p1", "p2", "p3"])
    with pytest.raises(ValueError, match=r"post has 1 missing value\(s\) \(rows 'p2'\).*attrition"):
        outcomes.pre_post(pre, post)
    with pytest.raises(ValueError, match=r"differ in length: 3 and 2"):
        outcomes.pre_post([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match=r"no student's score changed"):
        outcomes.pre_post([1, 2, 3], [1, 2, 3])


# --- reliable change -------------------------------------------------------------------


CLINSIG = _load("clinicalsignificance.json")
CLINSIG_CASES = CLINSIG["cases"]


def _students_with_both(outcome: str) -> pd.DataFrame:
    """Students with a pre and a post score, as the package uses them (cs_get_n: 'n_used')."""
    return pd.DataFrame(CLINSIG["data"][outcome]).set_index("id").astype(float).dropna()


def _package_cutoff(case: dict, data: pd.DataFrame) -> float | None:
    """JT 1991's cutoff of the case; b is checked apart (the package computes it otherwise)."""
    if "cutoff" not in case:
        return None
    spec = case["cutoff"]
    return outcomes.jt_cutoff(
        data["pre"].mean(),
        data["pre"].std(),
        spec.get("functional_mean"),
        spec.get("functional_sd"),
        kind=spec["kind"],
        better=case["better"],
    )


@pytest.mark.parametrize(
    "case", [c for c in CLINSIG_CASES if c.get("cutoff", {}).get("kind") != "b"], ids=lambda c: c["name"]
)
def test_reliable_change_matches_clinicalsignificance(case):
    data = _students_with_both(case["outcome"])
    assert len(data) == case["n_used"]
    cutoff = _package_cutoff(case, data)
    if cutoff is not None:
        assert cutoff == pytest.approx(case["cutoff"]["value"], rel=1e-12)
    res = outcomes.reliable_change(
        data["pre"], data["post"], reliability=case["reliability"], better=case["better"], cutoff=cutoff
    )
    assert dict(zip(res.table["category"], res.table["count"].tolist(), strict=True)) == case["counts"]
    assert (res.table["n"] == case["n_used"]).all()
    assert res.table["proportion"].sum() == pytest.approx(1)
    expected = pd.DataFrame(case["subjects"]).set_index("id")
    assert res.subjects.index.equals(data.index) and data.index.equals(expected.index.astype(float))
    np.testing.assert_allclose(res.subjects["rci"], expected["rci"], rtol=1e-12)
    assert res.subjects["category"].astype(str).tolist() == expected["category"].tolist()
    # R's critical value is qnorm(0.975) = 1.95996...; no student lies where 1.96 would decide otherwise
    between = (res.subjects["rci"].abs() > norm.ppf(0.975)) & (res.subjects["rci"].abs() <= 1.96)
    assert not between.any()


def test_every_category_occurs_in_the_reference_data():
    # the generator plants responders, no change and worsening from high and low starts: each branch is tested
    for case in CLINSIG_CASES:
        assert all(count > 0 for count in case["counts"].values()), case["name"]


def test_cutoff_b_differs_from_clinicalsignificance_by_the_sd_it_uses():
    # the package's b is functional_mean - 2 * clinical_sd; JT 1991 (and jt_cutoff) use the functional SD
    (case,) = (c for c in CLINSIG_CASES if c.get("cutoff", {}).get("kind") == "b")
    spec = case["cutoff"]
    data = _students_with_both(case["outcome"])
    assert (data["pre"].mean(), data["pre"].std()) == pytest.approx(
        (spec["clinical_mean"], spec["clinical_sd"]), rel=1e-12
    )
    package_b = outcomes.jt_cutoff(
        spec["clinical_mean"], spec["clinical_sd"], spec["functional_mean"], spec["clinical_sd"], kind="b"
    )
    assert package_b == pytest.approx(spec["value"], rel=1e-12)
    ours = outcomes.jt_cutoff(
        spec["clinical_mean"], spec["clinical_sd"], spec["functional_mean"], spec["functional_sd"], kind="b"
    )
    assert ours == pytest.approx(spec["functional_mean"] + 2 * spec["functional_sd"])
    res = outcomes.reliable_change(
        data["pre"], data["post"], reliability=case["reliability"], cutoff=package_b
    )
    assert dict(zip(res.table["category"], res.table["count"].tolist(), strict=True)) == case["counts"]


def test_jt_cutoff_b_uses_the_functional_population_and_mirrors_for_higher_is_better():
    # JT 1991: b is within two SDs of the functional mean (R clinicalsignificance uses the clinical SD)
    assert outcomes.jt_cutoff(30, 8, 10, 5, kind="b") == 20
    assert outcomes.jt_cutoff(30, 8, 10, 5, kind="a") == 14
    assert outcomes.jt_cutoff(-30, 8, -10, 5, kind="b", better="higher") == -20
    assert outcomes.jt_cutoff(-30, 8, -10, 5, kind="c", better="higher") == pytest.approx(
        -outcomes.jt_cutoff(30, 8, 10, 5, kind="c")
    )


def test_jt_cutoff_refuses_what_it_cannot_compute():
    with pytest.raises(ValueError, match=r"cutoff 'c' needs functional_mean and functional_sd"):
        outcomes.jt_cutoff(30, 8, kind="c")
    with pytest.raises(ValueError, match=r"functional_mean 35 is not better than clinical_mean 30"):
        outcomes.jt_cutoff(30, 8, 35, 5, kind="b")
    with pytest.raises(ValueError, match=r"clinical_sd must be a positive number"):
        outcomes.jt_cutoff(30, 0, kind="a")
    with pytest.raises(ValueError, match=r"kind must be 'a', 'b' or 'c'"):
        outcomes.jt_cutoff(30, 8, kind="d")


def test_reliable_change_is_strict_at_1_96():
    res = outcomes.reliable_change([0.0, 0.0], [0.0, 1.0], reliability=0.5, sd_pre=1.0)
    s_diff = res.s_diff
    pre = np.zeros(4)
    post = np.array([1.96, -1.96, 1.9601, -1.9601]) * s_diff
    assert list((post - pre) / s_diff)[:2] == [1.96, -1.96]  # the boundary is hit exactly
    res = outcomes.reliable_change(pre, post, reliability=0.5, sd_pre=1.0, better="higher")
    assert res.subjects["category"].tolist() == ["unchanged", "unchanged", "improved", "deteriorated"]


def test_reliable_change_higher_is_better_mirrors_lower_is_better():
    rng = np.random.default_rng(3)
    pre = np.rint(rng.normal(20, 5, 300))
    post = np.rint(pre - 3 + rng.normal(0, 5, 300))
    lower = outcomes.reliable_change(pre, post, reliability=0.8, cutoff=17.5)
    higher = outcomes.reliable_change(-pre, -post, reliability=0.8, cutoff=-17.5, better="higher")
    assert higher.subjects["category"].tolist() == lower.subjects["category"].tolist()
    assert set(lower.subjects["category"]) == {"recovered", "improved", "unchanged", "deteriorated", "harmed"}


def test_reliable_change_categories_follow_jacobson_truax():
    # sd_pre 5, r 0.8: S_diff = sqrt(2) * 5 * sqrt(0.2) = 3.162, reliable when |change| > 6.198 points;
    # cutoff 20, lower is better: clinical side > 20, functional side < 20, 20 itself on neither
    pre = [30, 30, 30, 16, 22, 22, 22, 20, 27]
    post = [14, 22, 28, 24, 30, 23, 12, 12, 20]
    res = outcomes.reliable_change(pre, post, reliability=0.8, sd_pre=5, cutoff=20)
    assert res.s_diff == pytest.approx(np.sqrt(2) * 5 * np.sqrt(0.2))
    assert res.subjects["category"].tolist() == [
        "recovered",  # -16: clinical -> functional
        "improved",  # -8: still clinical
        "unchanged",  # -2
        "harmed",  # +8: functional -> clinical
        "deteriorated",  # +8: was clinical already
        "unchanged",  # +1
        "recovered",  # -10
        "improved",  # -8 from the cutoff itself: not clinical before
        "improved",  # -7 to the cutoff itself: not functional after
    ]
    assert res.table["category"].tolist() == ["recovered", "improved", "unchanged", "deteriorated", "harmed"]
    assert res.table["count"].tolist() == [2, 3, 2, 1, 1]


def test_reliable_change_refuses_bad_input():
    with pytest.raises(ValueError, match=r"reliability must be at least 0 and below 1"):
        outcomes.reliable_change([1, 2], [2, 3], reliability=1.0)
    with pytest.raises(ValueError, match=r"better must be 'lower' or 'higher'"):
        outcomes.reliable_change([1, 2], [2, 3], reliability=0.8, better="down")
    with pytest.raises(ValueError, match=r"pre has 1 missing value\(s\) \(rows 1\)"):
        outcomes.reliable_change([1, np.nan, 3], [2, 3, 4], reliability=0.8)
    with pytest.raises(ValueError, match=r"sd_pre must be a positive number"):
        outcomes.reliable_change([2, 2, 2], [2, 3, 4], reliability=0.8)
    with pytest.raises(ValueError, match=r"cutoff must be a finite number"):
        outcomes.reliable_change([1, 2, 3], [2, 3, 4], reliability=0.8, cutoff=np.nan)


# --- adjusted p values ----------------------------------------------------------------


@pytest.mark.parametrize("case", _load("p_adjust_r.json")["cases"], ids=lambda c: c["name"])
@pytest.mark.parametrize("method", ["holm", "bh"])
def test_adjust_pvalues_matches_r_p_adjust(case, method):
    res = outcomes.adjust_pvalues(case["p"], method=method)
    np.testing.assert_allclose(res["p_adjusted"], case[method], rtol=1e-12, atol=1e-15)
    assert (res["reject"] == (res["p_adjusted"] <= 0.05)).all()


def test_adjust_pvalues_keeps_labels_and_refuses_bad_input():
    p = pd.Series([0.01, 0.04, 0.3], index=["grade 7", "grade 8", "grade 9"])
    res = outcomes.adjust_pvalues(p, method="bh", alpha=0.1)
    assert res.index.tolist() == ["grade 7", "grade 8", "grade 9"]
    assert res["reject"].tolist() == [True, True, False]
    with pytest.raises(ValueError, match=r"pvalues has 1 missing value"):
        outcomes.adjust_pvalues([0.01, np.nan])
    with pytest.raises(ValueError, match=r"pvalues must lie in \[0, 1\]; got 1.5 at position 1"):
        outcomes.adjust_pvalues([0.01, 1.5])
    with pytest.raises(ValueError, match=r"method must be one of \['bh', 'holm'\]"):
        outcomes.adjust_pvalues([0.01], method="bonferroni")
