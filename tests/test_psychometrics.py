"""Alpha, item statistics, omega and norms against published outputs of trusted software."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from scipy.stats import norm as normal
from scipy.stats import percentileofscore

from psychanalytics import psychometrics as pm

REF = Path(__file__).parent / "reference" / "psychometrics"


def _load(name: str) -> dict:
    return json.loads((REF / name).read_text(encoding="utf-8"))


def _pingouin_data(case: dict) -> pd.DataFrame:
    data = pg.read_dataset(case["dataset"])
    if case["format"] == "long":
        return data.pivot(index="Subj", columns="Items", values="Scores")
    if case["format"] == "wide_median_imputed":
        return data.fillna(data.median())
    return data


# --- alpha ----------------------------------------------------------------------


@pytest.mark.parametrize("case", _load("alpha_pingouin.json")["cases"], ids=lambda c: c["call"])
def test_alpha_matches_pingouin_documented_examples(case):
    res = pm.cronbach_alpha(_pingouin_data(case), nan_policy=case["nan_policy"])
    assert res.alpha == pytest.approx(case["alpha"], abs=1e-12)
    if "ci_differs" not in case:  # the listwise interval: see the next test
        assert np.round(res.ci, 3) == pytest.approx(case["ci"], abs=1e-12)


def test_alpha_listwise_ci_uses_complete_rows_unlike_pingouin():
    """Feldt's n under listwise is the complete rows (9 of 12), where pingouin keeps all 12.

    Ours equals pingouin's interval for the complete rows alone; pingouin's
    documented listwise interval is narrower, as its n is larger.
    """
    case = next(c for c in _load("alpha_pingouin.json")["cases"] if c["nan_policy"] == "listwise")
    data = _pingouin_data(case)
    res = pm.cronbach_alpha(data, nan_policy="listwise")
    complete = data.dropna()
    alpha_pg, ci_pg = pg.cronbach_alpha(complete)
    assert (res.n, len(complete), len(data)) == (9, 9, 12)
    assert res.alpha == pytest.approx(alpha_pg, abs=1e-12)
    assert np.round(res.ci, 3) == pytest.approx(ci_pg, abs=1e-12)
    documented = case["ci"]
    assert res.ci[0] < documented[0] and res.ci[1] > documented[1]


def test_alpha_pairwise_ci_uses_all_rows_like_pingouin():
    data = pg.read_dataset("cronbach_wide_missing")
    res = pm.cronbach_alpha(data)
    _, ci_pg = pg.cronbach_alpha(data)
    assert res.n == len(data) == 12
    assert np.round(res.ci, 3) == pytest.approx(ci_pg, abs=1e-12)


@pytest.mark.parametrize(
    ("with_nan", "rows", "items", "order"),
    [
        (False, 2_000, 12, "F"),
        (True, 2_000, 12, "F"),
        (False, 400_003, 12, "F"),  # the multi-threaded path, with a shorter last block
        (False, 400_003, 3, "C"),  # C-ordered rows; few items, so many sub-blocks per block
        (False, 3_001, 600, "F"),  # more than 500 items: blocks are not split
    ],
)
def test_alpha_agrees_with_pingouin_on_random_data(with_nan, rows, items, order):
    rng = np.random.default_rng(3)
    latent = rng.normal(size=(rows, 1))
    values = np.asarray(np.clip(np.round(latent + rng.normal(size=(rows, items)) + 2), 0, 4), order=order)
    data = pd.DataFrame(values, copy=False)
    assert data.to_numpy().flags[f"{order}_CONTIGUOUS"]
    if with_nan:
        data = data.mask(rng.random(data.shape) < 0.05)
    ours = pm.cronbach_alpha(data)
    theirs, _ = pg.cronbach_alpha(data)
    assert ours.alpha == pytest.approx(theirs, abs=1e-9)


def test_alpha_item_table_matches_pingouin_without_each_item():
    data = pg.read_dataset("cronbach_wide_missing")
    res = pm.cronbach_alpha(data)
    for item in data.columns:
        expected, _ = pg.cronbach_alpha(data.drop(columns=item))
        assert res.items.at[item, "alpha_if_dropped"] == pytest.approx(expected, abs=1e-12)


def test_alpha_r_drop_is_correlation_with_rest_score():
    data = _pingouin_data({"dataset": "cronbach_alpha", "format": "long"})
    res = pm.cronbach_alpha(data)
    for item in data.columns:
        rest = data.drop(columns=item).sum(axis=1)
        assert res.items.at[item, "r_drop"] == pytest.approx(data[item].corr(rest), abs=1e-12)


def test_alpha_ci_level_widens_interval():
    data = pg.read_dataset("cronbach_wide_missing")
    narrow = pm.cronbach_alpha(data, ci=0.90).ci
    wide = pm.cronbach_alpha(data, ci=0.99).ci
    assert wide[0] < narrow[0] < narrow[1] < wide[1]


def test_alpha_refuses_text_naming_row_column_value():
    data = pd.DataFrame({"q1": [1, 2, 3], "q2": [1, "x", 2]}, index=["a", "b", "c"])
    with pytest.raises(ValueError, match=r"row 'b', column 'q2': value 'x'"):
        pm.cronbach_alpha(data)


def test_alpha_refuses_infinite_and_bad_options():
    data = pd.DataFrame({"q1": [1.0, 2.0, np.inf], "q2": [1.0, 2.0, 2.0]})
    with pytest.raises(ValueError, match="row 2, column 'q1'"):
        pm.cronbach_alpha(data)
    with pytest.raises(ValueError, match="nan_policy"):
        pm.cronbach_alpha(data.iloc[:2], nan_policy="drop")
    with pytest.raises(ValueError, match="ci"):
        pm.cronbach_alpha(data.iloc[:2], ci=95)


def test_alpha_refuses_undefined_pairwise_covariance():
    data = pd.DataFrame({"q1": [1, 2, np.nan, np.nan], "q2": [np.nan, np.nan, 1, 2], "q3": [1, 2, 2, 1]})
    with pytest.raises(ValueError, match="'q1' and 'q2'"):
        pm.cronbach_alpha(data)


# --- item statistics ---------------------------------------------------------------


def test_item_statistics_columns_and_values():
    data = pg.read_dataset("cronbach_wide_missing")
    stats = pm.item_statistics(data, item_range=(0, 1))
    alpha = pm.cronbach_alpha(data)
    assert stats["missing_share"].to_numpy() == pytest.approx(data.isna().mean().to_numpy())
    assert stats["difficulty"].to_numpy() == pytest.approx(data.mean().to_numpy())
    assert stats["discrimination"].to_numpy() == pytest.approx(alpha.items["r_drop"].to_numpy())
    assert stats["n"].tolist() == data.notna().sum().tolist()


def test_item_statistics_refuses_codes_outside_range():
    data = pd.DataFrame({"q1": [0, 1, 4], "q2": [0, 1, 1]})
    with pytest.raises(ValueError, match=r"row 2, column 'q1': value 4.0 outside item_range"):
        pm.item_statistics(data, item_range=(0, 3))


# --- omega ---------------------------------------------------------------------------


def test_omega_matches_psych_on_thurstone():
    ref = _load("omega_thurstone.json")
    r = pd.DataFrame(ref["matrix"], index=ref["variables"], columns=ref["variables"])
    res = pm.omega(r, n_factors=3)
    published = ref["published"]
    assert res.omega_h == pytest.approx(published["omega_h"], abs=0.005)
    assert res.omega_t == pytest.approx(published["omega_t"], abs=0.005)
    assert res.alpha == pytest.approx(published["alpha"], abs=0.005)
    assert list(res.loadings.columns) == ["g", "F1*", "F2*", "F3*", "h2", "u2"]


def test_omega_matches_psych_on_harman74_to_five_decimals():
    """psych's own printed output (str(lst)) for omega(Harman74.cor), quoted verbatim in the reference file."""
    ref = _load("omega_harman74.json")
    r = pd.DataFrame(ref["matrix"], index=ref["variables"], columns=ref["variables"])
    res = pm.omega(r, n_factors=3)
    published = ref["published"]
    assert res.omega_h == pytest.approx(published["omega_h"], abs=5e-6)
    assert res.omega_t == pytest.approx(published["omega_t"], abs=5e-6)
    assert res.alpha == pytest.approx(published["alpha"], abs=5e-6)


@pytest.mark.parametrize("name", ["harman74", "thurstone"])
def test_minres_loadings_match_psych_fa(name):
    """The hand-written minres step against psych::fa(fm="minres", rotate="none") (make_minres_psych.R)."""
    from psychanalytics.psychometrics._omega import _minres

    ref = _load("minres_psych.json")[name]
    loadings = _minres(np.array(ref["matrix"], dtype=float), 3)
    loadings = loadings * np.where(loadings.sum(axis=0) < 0, -1.0, 1.0)  # psych's column signs
    # psych stops its L-BFGS-B search about 1e-5 from the minimum (its default factr)
    assert loadings == pytest.approx(np.array(ref["minres_loadings"]), abs=2e-5)


@pytest.mark.parametrize("name, tolerance", [("harman74", 1e-6), ("thurstone", 1e-6), ("gad7_demo", 1e-3)])
def test_omega_matches_psych_unrounded(name, tolerance):
    """gad7_demo is nearly one-dimensional: the oblimin rotation has several optima, and psych's
    (from a varimax start) gives omega_h 0.873 where a start from the unrotated loadings gives 0.06-0.14.
    Its tolerance is wider because psych stops short of the flat minres minimum (see the JSON)."""
    ref = _load("minres_psych.json")[name]
    res = pm.omega(np.array(ref["matrix"], dtype=float), n_factors=3)
    assert res.omega_h == pytest.approx(ref["omega_h"], abs=tolerance)
    assert res.omega_t == pytest.approx(ref["omega_t"], abs=tolerance)
    assert res.alpha == pytest.approx(ref["alpha"], abs=1e-12)


def test_omega_alpha_is_standardised_alpha_of_pingouin():
    rng = np.random.default_rng(5)
    g = rng.normal(size=(3_000, 1))
    groups = np.repeat(rng.normal(size=(3_000, 3)), 3, axis=1)
    data = pd.DataFrame(0.6 * g + 0.5 * groups + rng.normal(size=(3_000, 9)))
    res = pm.omega(data)
    standardised = (data - data.mean()) / data.std()
    assert res.alpha == pytest.approx(pg.cronbach_alpha(standardised)[0], abs=1e-9)
    assert res.omega_h < res.omega_t < 1


def test_omega_raw_items_equal_their_correlation_matrix():
    rng = np.random.default_rng(6)
    data = pd.DataFrame(rng.normal(size=(500, 1)) + rng.normal(size=(500, 9)))
    assert pm.omega(data).omega_t == pytest.approx(pm.omega(data.corr()).omega_t, abs=1e-12)


def test_omega_refuses_bad_matrix_and_too_few_factors():
    r = np.eye(9)
    r[0, 1] = 0.5
    with pytest.raises(ValueError, match="not symmetric"):
        pm.omega(pd.DataFrame(r, index=list("abcdefghi"), columns=list("abcdefghi")))
    with pytest.raises(ValueError, match="at least 3"):
        pm.omega(np.eye(9), n_factors=2)


# --- norms ---------------------------------------------------------------------------


def _scores(seed=1, n=400):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "wave_id": rng.choice(["2024-autumn", "2025-spring"], size=n),
            "grade": rng.choice([7, 8], size=n),
            "gender": rng.choice(["F", "M"], size=n),
            "total": rng.poisson(6, size=n).astype(float),
        }
    )


def test_norms_percentile_is_scipy_mean_rank_and_t_is_normalised():
    scores = _scores()
    res = pm.norms(scores, reference_wave="2024-autumn", instrument="phq9")
    ref = scores[scores["wave_id"] == "2024-autumn"]
    for (grade, gender), cell in res.table.groupby(["grade", "gender"]):
        raw = ref.loc[(ref["grade"] == grade) & (ref["gender"] == gender), "total"]
        expected = [percentileofscore(raw, x, kind="mean") for x in cell["raw"]]
        assert cell["percentile"].to_numpy() == pytest.approx(expected, abs=1e-10)
        assert cell["t_score"].to_numpy() == pytest.approx(50 + 10 * normal.ppf(np.array(expected) / 100))
        assert (cell["n"] == len(raw)).all()
    assert set(res.table["reference_wave"]) == {"2024-autumn"}
    assert list(res.table.columns) == [
        "instrument",
        "scale",
        "reference_wave",
        "grade",
        "gender",
        "raw",
        "n",
        "percentile",
        "t_score",
    ]


def test_norms_refuses_small_cells_with_reason():
    scores = _scores()
    scores.loc[(scores["grade"] == 8) & (scores["gender"] == "M"), "grade"] = 9
    scores = pd.concat([scores, scores.iloc[:3].assign(grade=10, wave_id="2024-autumn")], ignore_index=True)
    res = pm.norms(scores, reference_wave="2024-autumn", instrument="phq9")
    assert 10 not in set(res.table["grade"])
    assert "< min_n = 30" in " ".join(res.refused["reason"])
    assert set(res.refused["grade"]) == {10}
    none = pm.norms(scores, reference_wave="2024-autumn", instrument="phq9", min_n=10_000)
    assert none.table.empty and none.table.dtypes.equals(res.table.dtypes)
    assert len(none.refused) == len(res.refused) + res.table.groupby(["grade", "gender"]).ngroups


def test_norms_refuses_missing_values_and_unknown_wave():
    scores = _scores()
    row = scores.index[scores["wave_id"] == "2024-autumn"][0]
    scores.loc[row, "total"] = np.nan
    with pytest.raises(ValueError, match=rf"row {row}, column 'total'"):
        pm.norms(scores, reference_wave="2024-autumn", instrument="phq9")
    with pytest.raises(ValueError, match="no rows"):
        pm.norms(scores, reference_wave="1999-autumn", instrument="phq9")


def test_concurrent_threaded_alpha_leaves_the_blas_thread_setting_as_it_was():
    """The BLAS limit is process-wide: overlapping calls must not leave it at one thread."""
    import threading

    from threadpoolctl import threadpool_info

    data = pd.DataFrame(np.random.default_rng(3).integers(0, 4, (250_000, 8)).astype(float))
    before = sorted((i["internal_api"], i["num_threads"]) for i in threadpool_info())
    values = []
    callers = [
        threading.Thread(target=lambda: values.extend(pm.cronbach_alpha(data).alpha for _ in range(4)))
        for _ in range(2)
    ]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    assert sorted((i["internal_api"], i["num_threads"]) for i in threadpool_info()) == before
    assert len(values) == 8 and len(set(values)) == 1
