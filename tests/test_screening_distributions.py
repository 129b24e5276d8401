"""Distributions by group: coverage beside every result, histograms, means (R aov and t.test), band shares."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from psychanalytics import screening

REFERENCE = Path(__file__).parent / "reference" / "screening"


@pytest.fixture(scope="module")
def r_means():
    students = pd.read_csv(REFERENCE / "mean_scores_data.csv")
    expected = json.loads((REFERENCE / "mean_scores_aov.json").read_text("utf-8"))["groups"]
    summary = (
        students.assign(sq=students["score"] ** 2)
        .groupby(["school", "gender"])
        .agg(n=("score", "size"), total=("score", "sum"), total_sq=("sq", "sum"))
        .reset_index()
    )
    return summary, expected


def test_means_with_school_clustered_intervals_match_r(r_means):
    summary, expected = r_means
    district = screening.mean_scores(summary, by=()).iloc[0]
    by_gender = screening.mean_scores(summary, by="gender").set_index("gender")
    for row, reference in [
        (district, expected["district"]),
        *((by_gender.loc[g], expected[g]) for g in "FM"),
    ]:
        assert row["n"] == reference["n"]
        assert row["mean"] == pytest.approx(reference["mean"], rel=1e-12)
        assert row["sd"] == pytest.approx(reference["sd"], rel=1e-10)
        assert row["icc"] == pytest.approx(reference["icc"], rel=1e-9)
        assert row["design_effect"] == pytest.approx(reference["design_effect"], rel=1e-9)
        assert (row["low"], row["high"]) == pytest.approx((reference["low"], reference["high"]), rel=1e-9)


def test_unclustered_means_are_r_t_test(r_means):
    summary, expected = r_means
    for by, key in (((), "district"), ("gender", "F")):
        table = screening.mean_scores(summary, by=by, cluster=None)
        row = table.iloc[0]
        assert row["design_effect"] == 1.0 and np.isnan(row["icc"])
        assert (row["low"], row["high"]) == pytest.approx(
            (expected[key]["t_test_low"], expected[key]["t_test_high"]), rel=1e-9
        )


def test_a_school_mean_has_no_design_effect_and_small_groups_are_flagged():
    summary = pd.DataFrame(
        {"school": ["A", "B"], "n": [1, 12], "total": [7.0, 60.0], "total_sq": [49.0, 400.0]}
    )
    table = screening.mean_scores(summary, by="school")
    assert table["design_effect"].tolist() == [1.0, 1.0]
    assert np.isnan(table.loc[0, "sd"]) and np.isnan(table.loc[0, "low"])  # one sheet: no spread, no interval
    assert table["small_n"].tolist() == [True, True]
    assert table["mean"].tolist() == [7.0, 5.0]


def test_means_refuse_bad_input():
    good = pd.DataFrame({"school": ["A"], "n": [3], "total": [3.0], "total_sq": [5.0]})
    with pytest.raises(KeyError, match=r"missing column\(s\) \['total_sq'\]"):
        screening.mean_scores(good.drop(columns="total_sq"), by="school")
    with pytest.raises(KeyError, match=r"missing column\(s\) \['school'\]"):
        screening.mean_scores(good.drop(columns="school"), by=())
    with pytest.raises(ValueError, match=r"row 0, column 'n': value -3 is negative"):
        screening.mean_scores(good.assign(n=-3), by="school")
    with pytest.raises(ValueError, match="icc must be"):
        screening.mean_scores(good, by=(), icc=1.5)


# --- coverage --------------------------------------------------------------------------------------


def test_coverage_and_invalid_share_with_their_flags():
    counts = pd.DataFrame(
        {
            "wave": ["W1"] * 4,
            "school": ["A", "B", "C", "D"],
            "enrolled": [400, 380, 200, 0],
            "screened": [392, 250, 200, 5],
            "invalid": [12, 10, 40, 0],
        }
    )
    table = screening.coverage(counts)
    assert table["coverage"].round(4).tolist()[:3] == [0.98, 0.6579, 1.0]
    assert np.isnan(table.loc[3, "coverage"])  # nobody enrolled: unknown, not 0 and not infinite
    assert table["low_coverage"].tolist()[:3] == [False, True, False] and table["low_coverage"].isna()[3]
    assert table["invalid_share"].round(4).tolist() == [0.0306, 0.04, 0.2, 0.0]
    assert table["high_invalid"].tolist() == [False, False, True, False]
    district = screening.coverage(counts, by="wave").iloc[0]
    assert (district["enrolled"], district["screened"], district["invalid"]) == (980, 847, 62)


def test_coverage_refuses_more_invalid_sheets_than_sheets_and_bad_thresholds():
    counts = pd.DataFrame({"school": ["A"], "enrolled": [10], "screened": [5], "invalid": [6]})
    with pytest.raises(ValueError, match="invalid = 6 is larger than screened = 5"):
        screening.coverage(counts)
    with pytest.raises(ValueError, match="min_coverage must be a share"):
        screening.coverage(counts.assign(invalid=0), min_coverage=90)


def test_every_result_carries_coverage_and_unknown_coverage_says_so():
    cover = screening.coverage(
        pd.DataFrame({"school": ["A", "B"], "enrolled": [100, 100], "screened": [97, 60], "invalid": [0, 0]})
    )
    summary = pd.DataFrame(
        {"school": ["A", "B"], "n": [97, 60], "total": [500.0, 200.0], "total_sq": [4000.0, 900.0]}
    )
    means = screening.mean_scores(summary, by="school", coverage=cover)
    assert means["low_coverage"].tolist() == [False, True]
    assert list(means.columns[-7:]) == list(screening.COVERAGE_COLUMNS)
    unknown = screening.mean_scores(summary, by="school", coverage=None)
    assert unknown["low_coverage"].isna().all() and unknown["coverage"].isna().all()
    with pytest.raises(ValueError, match="several rows for one group"):
        screening.with_coverage(
            means.drop(columns=list(screening.COVERAGE_COLUMNS)), pd.concat([cover, cover])
        )
    with pytest.raises(ValueError, match="already has coverage column"):
        screening.with_coverage(means, cover)


# --- histograms and band shares --------------------------------------------------------------------


def test_score_distribution_sums_schools_and_accumulates():
    hist = pd.DataFrame(
        {
            "wave": ["W1"] * 4,
            "school": ["A", "A", "B", "B"],
            "raw": [0.0, 3.0, 0.0, 5.0],
            "count": [10, 5, 20, 15],
        }
    )
    table = screening.score_distribution(hist, by="wave")
    assert table["raw"].tolist() == [0.0, 3.0, 5.0] and table["count"].tolist() == [30, 5, 15]
    assert table["n"].tolist() == [50, 50, 50]
    assert table["cumulative"].tolist() == [0.6, 0.7, 1.0]


def test_band_shares_are_prevalence_per_band_with_the_band_design_effect():
    counts = pd.DataFrame(
        {
            "wave": ["W1"] * 6,
            "school": ["A", "A", "B", "B", "C", "C"],
            "band": ["low", "high"] * 3,
            "band_rank": [0, 1] * 3,
            "count": [180, 20, 90, 30, 150, 10],
            "n": [200, 200, 120, 120, 160, 160],
        }
    )
    shares = screening.band_shares(counts, by="wave")
    assert shares["band"].tolist() == ["low", "high"]
    assert shares["count"].tolist() == [420, 60] and shares["n"].tolist() == [480, 480]
    high = counts[counts["band"] == "high"]
    expected = screening.prevalence(high, by="wave").iloc[0]
    assert shares.loc[1, ["low", "high", "design_effect"]].tolist() == pytest.approx(
        [expected["low"], expected["high"], expected["design_effect"]]
    )
    assert shares.loc[1, "design_effect"] > 1  # schools differ: the interval is wider than the binomial one
