"""One contract, every registered instrument: shape, ranges, missing data, bands, properties."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scoring_support import answers_for, blank, naive_flags, naive_scores, options, random_responses

from psychanalytics import instruments
from psychanalytics.scoring import ScoringInputError, UncertainRuleWarning, score

ALL = instruments.available()


def _score(frame, spec, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UncertainRuleWarning)
        return score(frame, spec.code, **(options(spec) | kwargs))


@pytest.fixture(params=ALL)
def spec(request):
    return instruments.get(request.param)


@pytest.fixture
def responses(spec):
    rng = np.random.default_rng(3)
    frame = pd.concat([random_responses(spec, 100, rng), random_responses(spec, 100, rng, missing=0.0)])
    frame.index = pd.Index([f"r{i:03d}" for i in range(len(frame))][::-1], name="respondent")
    frame["school"] = "S01"
    return frame


def test_output_columns_and_dtypes(spec, responses):
    out = _score(responses, spec)
    expected = []
    for s in spec.scales:
        expected.append(s.code)
        if s.band_set(informant=options(spec).get("informant"), norm=spec.default_norm):
            expected.append(f"{s.code}_band")
    expected += (["lie"] if spec.lie else []) + ["valid"] + [f"flag_{f.name}" for f in spec.flags]
    assert list(out.columns) == [*expected, "spec_version"]
    for s in spec.scales:
        assert out[s.code].dtype == np.float64
        if f"{s.code}_band" in out:
            assert isinstance(out[f"{s.code}_band"].dtype, pd.CategoricalDtype)
            assert out[f"{s.code}_band"].cat.ordered
    assert out["valid"].dtype == bool
    assert all(out[f"flag_{f.name}"].dtype == "boolean" for f in spec.flags)
    assert (out["spec_version"] == spec.version).all()


def test_input_not_mutated_and_index_kept(spec, responses):
    before = responses.copy(deep=True)
    out = _score(responses, spec)
    pd.testing.assert_frame_equal(responses, before)
    assert out.index.equals(responses.index)


def test_scores_within_declared_range(spec, responses):
    out = _score(responses, spec)
    for s in spec.scales:
        values = out[s.code].dropna()
        assert len(values), f"{s.code}: nothing scored in 200 random rows"
        assert values.between(*s.range).all(), s.code


def test_all_missing_row_gives_missing_scores(spec):
    out = _score(blank(spec, 2), spec)
    for s in spec.scales:
        assert out[s.code].isna().all()
        if f"{s.code}_band" in out:
            assert out[f"{s.code}_band"].isna().all()
    assert not out["valid"].any()
    if spec.lie:
        assert out["lie"].isna().all()
    for f in spec.flags:
        assert out[f"flag_{f.name}"].isna().all()


def _variants(spec):
    informants = spec.informants or (None,)
    norms = spec.norms or (None,)
    return [(i, n) for i in informants for n in norms]


def test_a_band_for_every_possible_score(spec):
    """Every reachable value of every banded scale, under every informant and norm, gets a band."""
    for scale in spec.scales:
        if scale.aggregate == "count" or all(b.metric != "raw" for b in scale.bands):
            continue
        lo, hi = spec.item_values[0], spec.item_values[-1]
        n = len(scale.items)
        points = range(lo * n, hi * n + 1)
        frame = pd.DataFrame([answers_for(spec, scale, p) for p in points])
        expected = np.array(points, dtype=float) / (n if scale.aggregate == "mean" else 1)
        for informant, norm in _variants(spec):
            out = _score(frame, spec, informant=informant, norm=norm)
            np.testing.assert_allclose(out[scale.code].to_numpy(), expected)
            band = out[f"{scale.code}_band"]
            assert band.notna().all(), (scale.code, informant, norm)
            assert (np.diff(band.cat.codes.to_numpy()) >= 0).all()  # monotone in the score


def test_count_scale_bands_cover_every_count():
    spec = instruments.get("scl90")
    frame = pd.DataFrame([[2] * k + [1] * (90 - k) for k in range(91)], columns=list(spec.item_columns))
    out = score(frame, "scl90")
    assert out["positive_items"].tolist() == list(range(91))
    assert out["positive_items_band"].notna().all()


def test_column_order_and_extra_columns_do_not_matter(spec, responses):
    shuffled = responses[list(np.random.default_rng(5).permutation(responses.columns))]
    shuffled.insert(0, "grade", 7)
    pd.testing.assert_frame_equal(_score(shuffled, spec), _score(responses, spec))


def test_integer_float_and_nullable_inputs_agree(spec, responses):
    complete = responses.dropna()
    as_int = complete[list(spec.item_columns)].astype(np.int8)
    as_nullable = responses[list(spec.item_columns)].astype("Int8")
    pd.testing.assert_frame_equal(_score(as_int, spec), _score(complete, spec))
    pd.testing.assert_frame_equal(_score(as_nullable, spec), _score(responses, spec))


def test_out_of_range_and_non_integer_codes_raise(spec, responses):
    bad = responses.copy()
    top = spec.item_values[-1]
    bad.loc[bad.index[4], "q2"] = top + 1
    bad.loc[bad.index[9], "q1"] = 0.5 + spec.item_values[0]
    with pytest.raises(ScoringInputError) as err:
        _score(bad, spec)
    message = str(err.value)
    assert "2 invalid item values" in message
    assert f"row '{bad.index[4]}' column q2 value {float(top + 1)!r}" in message
    assert f"row '{bad.index[9]}' column q1" in message


def test_missing_item_column_raises(spec, responses):
    with pytest.raises(ScoringInputError, match=f"missing: q{spec.n_items}$"):
        _score(responses.drop(columns=f"q{spec.n_items}"), spec)


def test_empty_frame(spec):
    out = _score(blank(spec, 0), spec)
    assert len(out) == 0 and "spec_version" in out


@st.composite
def _frames(draw):
    spec = instruments.get(draw(st.sampled_from(ALL)))
    n = draw(st.integers(min_value=1, max_value=8))
    cell = st.one_of(st.none(), st.sampled_from(spec.item_values))
    rows = draw(
        st.lists(st.lists(cell, min_size=spec.n_items, max_size=spec.n_items), min_size=n, max_size=n)
    )
    frame = pd.DataFrame(rows, columns=list(spec.item_columns), dtype=float)
    informant, norm = draw(st.sampled_from(_variants(spec)))
    return spec, frame, informant, norm


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_frames())
def test_matches_naive_oracle(case):
    spec, frame, informant, norm = case
    out = _score(frame, spec, informant=informant, norm=norm)
    for i, row in enumerate(frame.itertuples(index=False)):
        want = naive_scores(spec, list(row))
        for code, value in want.items():
            got = out[code].iloc[i]
            if value is None:
                assert np.isnan(got), (spec.code, code, i)
            else:
                assert got == pytest.approx(value, rel=1e-12), (spec.code, code, i)
        usable = all(v is not None for k, v in want.items() if k != "lie")
        if spec.lie:
            usable = usable and want["lie"] is not None and want["lie"] < spec.lie.invalid_at
        assert out["valid"].iloc[i] == usable
        for name, value in naive_flags(spec, list(row), want).items():
            got = out[f"flag_{name}"].iloc[i]
            assert (got is pd.NA) if value is None else (got is not pd.NA and bool(got) == value), (name, i)


@settings(max_examples=60, deadline=None)
@given(_frames(), st.randoms(use_true_random=False))
def test_rows_score_independently(case, random):
    spec, frame, informant, norm = case
    order = list(range(len(frame)))
    random.shuffle(order)
    whole = _score(frame, spec, informant=informant, norm=norm)
    shuffled = _score(frame.iloc[order], spec, informant=informant, norm=norm)
    pd.testing.assert_frame_equal(shuffled, whole.iloc[order])
    single = _score(frame.iloc[[0]], spec, informant=informant, norm=norm)
    pd.testing.assert_frame_equal(single, whole.iloc[[0]])
