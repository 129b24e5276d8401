"""Kaplan-Meier (crisis.survival) against R survival 3.5 on its aml data and hand-made samples."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from psychanalytics.crisis import survival

REFERENCE = json.loads(
    (Path(__file__).parent / "reference" / "crisis" / "survival_aml.json").read_text("utf-8")
)
SAMPLES = REFERENCE["samples"]


def _values(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_table_and_median_match_r_survival(sample):
    expected = SAMPLES[sample]
    result = survival(expected["time"], [bool(s) for s in expected["status"]])
    assert list(result.table.columns) == ["time", "at_risk", "events", "survival", "low", "high"]
    for column, values in expected["table"].items():
        np.testing.assert_allclose(result.table[column].to_numpy(float), _values(values), rtol=0, atol=1e-10)
    got = [result.median, result.median_low, result.median_high]
    want = _values([expected["median"], expected["median_low"], expected["median_high"]])
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-10)
    assert (result.n, result.count) == (len(expected["time"]), sum(expected["status"]))


def test_the_reference_holds_a_flat_at_one_half_and_a_median_not_reached():
    assert (
        SAMPLES["flat_half_then_event"]["median"] == 2.5
    )  # midpoint of the flat, not 3 as statsmodels gives
    assert SAMPLES["aml_maintained"]["median_high"] is None
    assert "survival 3." in REFERENCE["source"] and "aml" in REFERENCE["source"]


def test_a_wider_interval_contains_the_narrower_one():
    aml = SAMPLES["aml"]
    narrow = survival(aml["time"], aml["status"], ci=0.8)
    wide = survival(aml["time"], aml["status"], ci=0.99)
    inside = narrow.table["survival"].lt(1) & narrow.table["survival"].gt(0)
    assert (wide.table.loc[inside, "low"] < narrow.table.loc[inside, "low"]).all()
    assert (wide.table.loc[inside, "high"] > narrow.table.loc[inside, "high"]).all()
    assert wide.median_low <= narrow.median_low <= narrow.median <= narrow.median_high


@pytest.mark.parametrize(
    ("durations", "ended", "message"),
    [
        ([1, 2], [1], "one length"),
        ([], [], "no durations"),
        ([1, -2], [1, 1], "positions \\[1\\] hold \\[-2.0\\]"),
        ([1, float("nan")], [1, 1], "finite"),
        ([1, 2], [1, 0.5], "True/False"),
        ([1, 2], [1, None], "True/False"),
    ],
)
def test_bad_input_is_refused_with_what_and_where(durations, ended, message):
    with pytest.raises(ValueError, match=message):
        survival(durations, ended)


def test_ci_must_be_a_probability():
    with pytest.raises(ValueError, match="ci must be between 0 and 1"):
        survival([1, 2], [1, 1], ci=95)
