"""What counts as screen-positive is defined once, in each instrument's spec (issue #11, item 7).

A contract test over every registered instrument, and the declared rules against the cut-offs of the
instruments' papers and manuals (``tests/reference/screening/screen_positive_cutoffs.json``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_instruments import _minimal

from psychanalytics import instruments, scoring
from psychanalytics.instruments import SpecError
from psychanalytics.instruments._spec import spec_from_dict

REFERENCE = json.loads(
    (Path(__file__).parent / "reference" / "screening" / "screen_positive_cutoffs.json").read_text("utf-8")
)["entries"]
ALL = instruments.available()


@pytest.mark.parametrize("code", ALL)
def test_every_instrument_defines_screen_positive_with_its_source(code):
    spec = instruments.get(code)
    rule = spec.screen_positive
    assert rule is not None and rule.source.strip()
    assert rule.scale is not None or rule.flags
    if rule.scale is not None:
        bands = spec.positive_bands()
        assert bands and rule.band == bands[0]
        for band_set in spec.scale(rule.scale).bands:
            if band_set.metric == rule.metric:  # the positive bands are the top of every band set
                assert band_set.codes[-len([c for c in band_set.codes if c in bands]) :] == tuple(
                    c for c in band_set.codes if c in bands
                )
    assert set(rule.flags) <= {f.name for f in spec.flags}
    assert [e for e in REFERENCE if e["instrument"] == code], "every instrument has a reference entry"


@pytest.mark.parametrize(
    "entry", REFERENCE, ids=lambda e: f"{e['instrument']}-{e.get('informant') or e.get('norm') or ''}"
)
def test_the_rule_reproduces_the_published_cut_off(entry):
    spec = instruments.get(entry["instrument"])
    rule = spec.screen_positive
    assert list(rule.flags) == entry["flags"]
    assert rule.scale == entry["scale"]
    if entry["scale"] is None:
        return
    assert rule.metric == entry.get("metric", "raw")
    band_set = spec.scale(rule.scale).band_set(
        informant=entry.get("informant"), norm=entry.get("norm") or spec.default_norm, metric=rule.metric
    )
    lowest = min(b.lower for b in band_set.bands if b.code in spec.positive_bands())
    assert lowest == entry["at_least"]


@pytest.mark.parametrize("code", ["phq9", "gad7", "cesd", "scl90", "mssmhs", "sdq"])
def test_scored_sheets_are_positive_exactly_by_the_rule(code):
    """Score random answers and apply the rule: positive iff a positive band or a rule flag (and only then)."""
    spec = instruments.get(code)
    rng = np.random.default_rng(11)
    weights = 0.35 ** np.arange(len(spec.item_values))  # mostly low answers, a few high sheets
    answers = pd.DataFrame(
        rng.choice(spec.item_values, size=(400, spec.n_items), p=weights / weights.sum()),
        columns=list(spec.item_columns),
    )
    answers.iloc[:40] = spec.item_values[-1]  # some sheets at the top
    scored = scoring.score(answers, code, informant="self" if spec.informants else None)
    rule = spec.screen_positive
    positive = np.zeros(len(scored), dtype=bool)
    if rule.scale is not None:
        positive |= scored[f"{rule.scale}_band"].isin(spec.positive_bands()).to_numpy()
        cut = min(
            b.lower
            for b in spec.scale(rule.scale).band_set(informant="self" if spec.informants else None).bands
            if b.code in spec.positive_bands()
        )
        assert (positive == (scored[rule.scale] >= cut).to_numpy()).all()
    for flag in rule.flags:
        positive |= scored[f"flag_{flag}"].fillna(False).to_numpy(dtype=bool)
    assert 0 < positive.sum() < len(scored)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"scale": "total", "band": "high"}, r"missing keys \['source'\]"),
        ({"scale": "total", "band": "high", "source": " "}, "a source is required"),
        ({"scale": "total", "source": "s"}, "scale and band go together"),
        ({"source": "s"}, "needs a scale and band, flags, or both"),
        ({"flags": ["nope"], "source": "s"}, r"unknown flag\(s\) \['nope'\]"),
        ({"scale": "nope", "band": "high", "source": "s"}, "unknown scale 'nope'"),
        ({"scale": "total", "band": "middle", "source": "s"}, "band 'middle' must be in every raw band set"),
        ({"scale": "total", "band": "high", "metric": "percentile", "source": "s"}, "metric 'percentile'"),
        ({"scale": "total", "band": "high", "source": "s", "colour": "red"}, r"unknown keys \['colour'\]"),
    ],
)
def test_malformed_screen_positive_entries_are_rejected(rule, message):
    with pytest.raises(SpecError, match=message):
        spec_from_dict(_minimal() | {"screen_positive": rule})


def test_a_minimal_rule_loads():
    spec = spec_from_dict(_minimal() | {"screen_positive": {"scale": "total", "band": "high", "source": "s"}})
    assert spec.positive_bands() == ("high",) and spec.screen_positive.flags == ()
