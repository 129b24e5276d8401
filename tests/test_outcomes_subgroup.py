"""subgroup_effects against statsmodels' formula interface: the arm × subgroup model with cluster-robust errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from psychanalytics.outcomes import ancova, subgroup_effects


@pytest.fixture(scope="module")
def students() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 360
    school = rng.integers(0, 12, n)
    grade = rng.choice([4, 5, 6], n)
    gender = rng.choice(["F", "M"], n)
    treated = rng.random(n) < 0.5
    pre = rng.normal(30, 8, n)
    effect = np.where(gender == "M", -1.0, -3.0)
    post = 2 + 0.8 * pre + rng.normal(0, 2, 12)[school] + effect * treated + rng.normal(0, 4, n)
    return pd.DataFrame(
        {
            "pre": pre,
            "post": post,
            "arm": np.where(treated, "treatment", "comparison"),
            "school": [f"S{s:02d}" for s in school],
            "gender": gender,
            "grade": grade,
        }
    )


def _reference(students: pd.DataFrame, by: str):
    frame = students.assign(
        treated=(students["arm"] == "treatment").astype(float), g=students[by].astype(str)
    )
    groups = pd.factorize(frame["school"])[0]
    return smf.ols("post ~ pre + treated * C(g)", frame).fit(
        cov_type="cluster", cov_kwds={"groups": groups}, use_t=True
    )


def test_the_interaction_of_two_levels_is_statsmodels_formula_coefficient(students):
    res = subgroup_effects(students, "gender")
    ref = _reference(students, "gender")
    (row,) = res.interaction.to_dict("records")
    term = "treated:C(g)[T.M]"
    assert row["term"] == "treated:gender[M]"
    assert row["estimate"] == pytest.approx(ref.params[term], rel=1e-10)
    assert row["se"] == pytest.approx(ref.bse[term], rel=1e-10)
    assert row["p"] == pytest.approx(ref.pvalues[term], rel=1e-8)
    assert res.p == pytest.approx(ref.pvalues[term], rel=1e-8)  # one term: F = t²
    assert res.statistic == pytest.approx(ref.tvalues[term] ** 2, rel=1e-8)
    assert (res.df_num, res.df_denom, res.n_clusters) == (1, 11, 12)


def test_three_levels_are_tested_jointly_as_statsmodels_wald_test(students):
    res = subgroup_effects(students, "grade")
    ref = _reference(students, "grade")
    joint = ref.f_test("treated:C(g)[T.5] = 0, treated:C(g)[T.6] = 0")
    assert res.interaction["term"].tolist() == ["treated:grade[5]", "treated:grade[6]"]
    assert res.interaction["estimate"].to_numpy() == pytest.approx(
        ref.params[["treated:C(g)[T.5]", "treated:C(g)[T.6]"]].to_numpy(), rel=1e-10
    )
    assert res.statistic == pytest.approx(float(np.squeeze(joint.fvalue)), rel=1e-8)
    assert res.p == pytest.approx(float(joint.pvalue), rel=1e-8)


def test_each_level_is_the_ancova_within_it_with_holm_p(students):
    res = subgroup_effects(students, "gender")
    for row in res.table.itertuples():
        own = ancova(students[students["gender"] == row.level])
        assert (row.difference, row.low, row.high, row.p) == pytest.approx(
            (own.value, own.low, own.high, own.p)
        )
    assert res.table["p_holm"].tolist() == pytest.approx(
        np.minimum(1, np.maximum.accumulate(np.sort(res.table["p"]) * [2, 1]))[
            np.argsort(np.argsort(res.table["p"]))
        ]
    )
    # the planted effects (-3 for girls, -1 for boys) lie within their intervals
    assert res.table["low"].iloc[0] <= -3 <= res.table["high"].iloc[0]
    assert res.table["low"].iloc[1] <= -1 <= res.table["high"].iloc[1]


def test_one_level_and_missing_values_are_refused(students):
    with pytest.raises(ValueError, match="two or more"):
        subgroup_effects(students.assign(gender="F"), "gender")
    with pytest.raises(ValueError, match="gender"):
        subgroup_effects(students.assign(gender=students["gender"].where(students.index != 3)), "gender")
