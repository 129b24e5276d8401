"""k-anonymity, l-diversity and the coarsening that reaches them (privacy.anonymity).

The measures are checked against pyCANON 1.3.6 (tests/reference/privacy/anonymity_pycanon.json); the
coarsening is checked on random frames (hypothesis): whatever goes in, what comes out meets k and l,
keeps or accounts for every row, and holds only generalisations of the values given.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from psychanalytics.privacy.anonymity import anonymise, k_anonymity, l_diversity

REFERENCE = json.loads(
    (Path(__file__).parent / "reference" / "privacy" / "anonymity_pycanon.json").read_text()
)

SCHOOLS = pd.DataFrame(
    {"school": ["S0", "S1", "S2", "S3"], "stratum": ["urban", "urban", "town", "town"], "top": ["*"] * 4},
    index=["S0", "S1", "S2", "S3"],
)
GRADES = pd.DataFrame(
    {"grade": [str(g) for g in range(7, 13)], "stage": ["junior"] * 3 + ["senior"] * 3, "top": ["*"] * 6},
    index=range(7, 13),
)
GENDERS = pd.DataFrame({"gender": ["F", "M"], "top": ["*", "*"]}, index=["F", "M"])
AGES = pd.DataFrame(
    {
        "age": [str(a) for a in range(11, 19)],
        "band": [f"{a // 2 * 2}-" for a in range(11, 19)],
        "top": ["*"] * 8,
    },
    index=range(11, 19),
)
HIERARCHIES = {"school": SCHOOLS, "grade": GRADES, "gender": GENDERS, "age": AGES}


@pytest.mark.parametrize(
    "case", REFERENCE["cases"], ids=lambda c: f"k{c['k']}-l{c['l']}-{'+'.join(c['quasi'])}"
)
def test_measures_equal_pycanon(case):
    data = pd.DataFrame(case["data"])
    assert k_anonymity(data, case["quasi"]) == case["k"]
    assert l_diversity(data, case["quasi"], case["sensitive"]) == case["l"]


def test_a_missing_sensitive_value_is_not_a_value():
    data = pd.DataFrame({"school": ["A"] * 4, "band": ["mild", None, None, "mild"]})
    assert l_diversity(data, ["school"], ["band"]) == 1
    assert l_diversity(data.assign(band=None), ["school"], ["band"]) is None


def test_the_least_coarsening_that_meets_k_and_l_is_chosen():
    # 12 students: grade × gender leaves groups of 3. Two ways to groups of 6 with two bands each: gender
    # to its top (loss 1/2 of its height 1: 0.5 on average) or grade to its stage (1 of its height 2: 0.25)
    data = pd.DataFrame(
        {
            "grade": [7] * 6 + [8] * 6,
            "gender": ["F", "M"] * 6,
            "band": ["a", "b", "a", "a", "b", "b"] * 2,
        }
    )
    quasi = {"grade": GRADES, "gender": GENDERS}
    result = anonymise(data, quasi=quasi, sensitive=["band"], k=5, l=2, max_suppression=0)
    assert result.levels == {"grade": 1, "gender": 0} and result.loss == 0.25
    assert (result.k, result.l, result.suppressed, result.removed) == (6, 2, 0, 0)
    assert set(result.frame["grade"]) == {"junior"} and set(result.frame["gender"]) == {"F", "M"}
    within = anonymise(data, quasi=quasi, sensitive=["band"], k=3, l=2, max_suppression=0)
    assert within.levels == {"grade": 0, "gender": 0} and within.loss == 0


def test_rows_of_a_failing_group_are_suppressed_or_removed():
    # grade 7: 10 students with both bands; grade 8: 2 students. Suppressing 2 of 12 (17 %) is allowed;
    # alone the two form a group of 2 < k, so they are removed
    data = pd.DataFrame({"grade": [7] * 10 + [8] * 2, "band": ["a", "b"] * 6})
    result = anonymise(data, quasi={"grade": GRADES}, sensitive=["band"], k=5, l=2, max_suppression=0.2)
    assert result.levels == {"grade": 0} and result.removed == 2 and len(result.frame) == 10
    strict = anonymise(data, quasi={"grade": GRADES}, sensitive=["band"], k=5, l=2, max_suppression=0.1)
    assert strict.levels == {"grade": 1} and strict.removed == 0 and strict.k == 12


def test_too_few_rows_keep_nothing():
    data = pd.DataFrame({"grade": [7, 8, 9], "band": ["a", "b", "a"]})
    result = anonymise(data, quasi={"grade": GRADES}, sensitive=["band"], k=5)
    assert result.frame.empty and result.removed == 3 and result.k is None


def test_bad_input_is_named():
    data = pd.DataFrame({"grade": [7, None], "band": ["a", "b"]})
    with pytest.raises(ValueError, match="'grade' has missing values"):
        anonymise(data, quasi={"grade": GRADES}, sensitive=["band"])
    with pytest.raises(ValueError, match="not in its hierarchy"):
        anonymise(pd.DataFrame({"grade": [3], "band": ["a"]}), quasi={"grade": GRADES}, sensitive=["band"])
    with pytest.raises(KeyError, match="risk"):
        anonymise(pd.DataFrame({"grade": [7]}), quasi={"grade": GRADES}, sensitive=["risk"])


_frames = st.integers(min_value=0, max_value=400).flatmap(
    lambda n: st.tuples(
        st.just(n),
        st.integers(min_value=0, max_value=2**32 - 1),
        st.sampled_from([0.0, 0.01, 0.05, 0.2]),
        st.integers(min_value=2, max_value=6),
        st.integers(min_value=1, max_value=3),
    )
)


def _random_frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    # skewed: a few large cells and many small ones, bands concentrated in the lowest
    return pd.DataFrame(
        {
            "school": rng.choice(SCHOOLS.index, n, p=[0.55, 0.3, 0.1, 0.05]),
            "grade": rng.choice(GRADES.index, n),
            "gender": rng.choice(GENDERS.index, n),
            "age": rng.choice(AGES.index, n),
            "phq9_band": rng.choice(["none", "mild", "severe", None], n, p=[0.7, 0.15, 0.05, 0.1]),
            "gad7_band": rng.choice(["none", "moderate", None], n, p=[0.6, 0.1, 0.3]),
        },
        index=[f"p{i}" for i in range(n)],
    )


@settings(max_examples=60, deadline=None)
@given(_frames)
def test_random_frames_through_the_exporter_satisfy_k_and_l(params):
    n, seed, max_suppression, k, l = params  # noqa: E741
    frame = _random_frame(n, seed)
    sensitive = ["phq9_band", "gad7_band"]
    result = anonymise(
        frame, quasi=HIERARCHIES, sensitive=sensitive, k=k, l=l, max_suppression=max_suppression
    )
    out = result.frame
    quasi = list(HIERARCHIES)
    if not out.empty:
        assert out.groupby(quasi).size().min() >= k
        for band in sensitive:
            having = out[out[band].notna()].groupby(quasi)[band].nunique()
            assert having.min() >= l if len(having) else True
        assert result.k >= k and (result.l is None or result.l >= l)
    # every row is kept or counted as removed, in its original order; suppressed rows stay
    assert len(out) + result.removed == n
    assert list(out.index) == [i for i in frame.index if i in set(out.index)]
    below_top = any(level < HIERARCHIES[name].shape[1] - 1 for name, level in result.levels.items())
    if below_top:  # only the top level may set more rows apart than the suppression limit allows
        assert result.suppressed + result.removed <= n * max_suppression
    # each value is its original's label at the chosen level, or the top label
    for name, level in result.levels.items():
        hierarchy = HIERARCHIES[name]
        expected = frame.loc[out.index, name].map(hierarchy.iloc[:, level])
        top = hierarchy.iloc[0, -1]
        assert ((out[name] == expected) | (out[name] == top)).all()
    # the sensitive values travel unchanged
    pd.testing.assert_frame_equal(out[sensitive], frame.loc[out.index, sensitive])
