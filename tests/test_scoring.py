"""Scoring against reference values (tests/reference/scoring/), and its errors.

Each reference file says what it can prove (``kind``; docs/instruments.md §5): ``primary`` and
``peer_software`` values were obtained independently of our specs, so their tests check correctness;
``local_convention`` cut-offs come from the same secondary sources as the spec, so their tests
(named ``..._as_declared``) only check that the scorer applies what the spec declares.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scoring_support import answers_for, blank

from psychanalytics import instruments
from psychanalytics.scoring import ScoringInputError, UncertainRuleWarning, score

REFERENCE = Path(__file__).parent / "reference" / "scoring"
INDEPENDENT = ("primary", "peer_software")
KINDS = (*INDEPENDENT, "local_convention")


def _load(name: str, *, kind: str | tuple[str, ...] = INDEPENDENT) -> dict:
    """A reference file, checked to be of the kind the calling test relies on."""
    data = json.loads((REFERENCE / name).read_text(encoding="utf-8"))
    assert data["source"]
    assert data["kind"] in ((kind,) if isinstance(kind, str) else kind), (name, data["kind"])
    return data


def _entries_with_kind(data: dict) -> list[dict]:
    return [e for value in data.values() if isinstance(value, list) for e in value if isinstance(e, dict)]


@pytest.mark.parametrize("path", sorted(REFERENCE.glob("*.json")), ids=lambda p: p.name)
def test_every_reference_file_says_what_it_can_prove(path):
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["source"]
    if data["kind"] == "mixed":
        entries = _entries_with_kind(data)
        assert entries and all(e["kind"] in KINDS for e in entries)
        assert data["note"]
    else:
        assert data["kind"] in KINDS
        if data["kind"] == "local_convention":
            assert "consistency" in data["note"].lower()


def _totals(code: str, totals, scale: str = "total") -> pd.DataFrame:
    spec = instruments.get(code)
    return pd.DataFrame([answers_for(spec, spec.scale(scale), t) for t in totals])


def _expected_bands(table) -> tuple[list[int], list[str]]:
    totals, bands = [], []
    for row in table:
        for t in range(row["min"], row["max"] + 1):
            totals.append(t)
            bands.append(row["band"])
    return totals, bands


# --- published bands -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "code"),
    [("phq9_kroenke2001.json", "phq9"), ("phq9_kroenke2001.json", "phqa"), ("gad7_spitzer2006.json", "gad7")],
)
def test_severity_bands_at_every_total(file, code):
    ref = _load(file)
    assert code in ref["instruments"]
    totals, bands = _expected_bands(ref["bands"])
    out = score(_totals(code, totals), code)
    assert out["total"].tolist() == totals
    assert out["total_band"].astype(str).tolist() == bands
    assert list(out["total_band"].cat.categories) == [b["band"] for b in ref["bands"]]


@pytest.mark.parametrize("code", ["phq9", "phqa"])
def test_item9_flag_is_kept_apart_from_the_band(code):
    at_least = _load("phq9_kroenke2001.json")["item9_flag"]["at_least"]
    frame = pd.DataFrame({f"q{i}": [0, 0, 0, 3] for i in range(1, 10)})
    frame["q9"] = [0, at_least, np.nan, 3]
    out = score(frame, code)
    assert out["flag_item9"].tolist() == [False, True, pd.NA, True]
    assert out["total_band"].tolist()[:2] == ["minimal", "minimal"]  # the flag does not move the band


@pytest.mark.parametrize("informant", ["self", "parent", "teacher"])
def test_sdq_total_bands_by_informant(informant):
    ref = _load("sdq_informant_bands.json")
    totals, bands = _expected_bands(ref["total"][informant])
    out = score(_totals("sdq", totals), "sdq", informant=informant)
    assert out["total"].tolist() == totals
    assert out["total_band"].astype(str).tolist() == bands


@pytest.mark.parametrize("example", _load("sdq_sdqinfo_scoring.json")["examples"], ids=lambda e: e["name"])
def test_sdq_prorating_and_reverse_keys(example):
    frame = blank(instruments.get("sdq"))
    for column, value in example["answers"].items():
        frame[column] = float(value)
    out = score(frame, "sdq", informant="parent")
    got = out[example["scale"]].iloc[0]
    if example["expected"] is None:
        assert np.isnan(got)
    else:
        assert got == example["expected"]


def test_sdq_total_is_missing_when_a_difficulty_subscale_is():
    frame = blank(instruments.get("sdq"))
    frame[[f"q{i}" for i in (3, 8, 13, 5, 7, 12, 2, 10, 15)]] = [[1, 1, 1, 0, 2, 0, 1, 1, 1]]
    out = score(frame, "sdq", informant="self")
    assert out[["emotional", "conduct", "hyperactivity"]].iloc[0].tolist() == [5, 0, 5]
    assert np.isnan(out["peer"].iloc[0]) and np.isnan(out["total"].iloc[0])
    assert not out["valid"].iloc[0]


def test_scared_factor_and_total_cutoffs_by_norm():
    ref = _load("scared_cutoffs.json")
    spec = instruments.get("scared")
    for factor, cutoff in ref["factor_cutoffs"].items():
        out = score(_totals("scared", [cutoff - 1, cutoff], factor), "scared")
        assert out[f"{factor}_band"].tolist() == ["below_cutoff", "above_cutoff"], factor
    for norm, cutoffs in ref["total_cutoffs"].items():
        totals = [c + d for c in cutoffs for d in (-1, 0)]
        out = score(_totals("scared", totals), "scared", norm=norm)
        ranks = out["total_band"].cat.codes.tolist()
        assert ranks == [r for i in range(len(cutoffs)) for r in (i, i + 1)], norm
    assert spec.default_norm == "original"


def test_scl90_screen_rules_as_declared():
    """Consistency only: the 160 / 43 / 2 rule is a local convention (docs/instruments.md §2.3)."""
    ref = _load("scl90_screen_rules.json", kind="local_convention")
    spec = instruments.get("scl90")
    above = ref["total_positive_above"]
    out = score(_totals("scl90", [above, above + 1]), "scl90")
    assert out["total"].tolist() == [above, above + 1]
    assert out["total_band"].tolist() == ["normal", "positive"]
    k = ref["positive_items_positive_above"]
    # k or k + 1 items coded 2, spread so that no factor mean reaches 2
    rows = []
    for count in (k, k + 1):
        codes = {c: 1 for c in spec.item_columns}
        for i in range(1, count + 1):
            codes[f"q{i}"] = 2
        rows.append(codes)
    out = score(pd.DataFrame(rows), "scl90")
    assert out["positive_items"].tolist() == [k, k + 1]
    assert out["positive_items_band"].tolist() == ["normal", "positive"]
    assert out["flag_screen_positive"].tolist() == [False, True]
    # one factor mean at the cut-off is enough on its own
    codes = {c: 1 for c in spec.item_columns}
    hostility = spec.scale("hostility").items
    factor_at = ref["factor_mean_positive_at"]
    for i in hostility:
        codes[f"q{i}"] = factor_at
    out = score(pd.DataFrame([codes]), "scl90")
    assert out["hostility"].iloc[0] == factor_at and out["hostility_band"].iloc[0] == "positive"
    assert out["total"].iloc[0] <= above and out["positive_items"].iloc[0] <= k
    assert out["flag_screen_positive"].iloc[0]


def test_screen_flag_is_true_when_any_known_condition_holds():
    spec = instruments.get("scl90")
    low = dict.fromkeys(spec.item_columns, 1.0)
    hostile = low | {f"q{i}": 2.0 for i in spec.scale("hostility").items}
    frame = pd.DataFrame([hostile | {"q1": np.nan}, low | {"q1": np.nan}, low])
    out = score(frame, "scl90")
    assert np.isnan(out["total"].iloc[0]) and out["hostility"].iloc[0] == 2
    assert out["flag_screen_positive"].tolist() == [True, pd.NA, False]


def test_mssmhs_mean_bands_and_screen_flag_as_declared():
    """Consistency only: the bands come from secondary sources (docs/instruments.md §2.2)."""
    ref = _load("mssmhs_bands.json", kind="local_convention")
    spec = instruments.get("mssmhs")
    depression = spec.scale("depression")
    frame = _totals("mssmhs", [6, 11, 12, 17, 18, 24, 29, 30], "depression")
    out = score(frame, "mssmhs")
    means = [6 / 6, 11 / 6, 2, 17 / 6, 3, 4, 29 / 6, 5]
    np.testing.assert_allclose(out["depression"], means)
    by_mean = {}
    for row in ref["bands"]:
        for m in means:
            if m >= row["min"] and (row["below"] is None or m < row["below"]):
                by_mean[m] = row["band"]
    assert out["depression_band"].astype(str).tolist() == [by_mean[m] for m in means]
    assert out["flag_screen_positive"].tolist() == [m >= 2 for m in means]
    assert len(depression.items) == 6


@pytest.mark.parametrize(
    "case",
    _load("depression_cutoffs.json", kind="mixed")["cutoffs"],
    ids=lambda c: f"{c['instrument']}-{c['norm']}-{c['kind']}",
)
def test_depression_cutoffs_and_reverse_keys(case):
    """Correctness for ``primary`` entries; for ``local_convention`` ones (DSRSC) consistency only."""
    code, cut = case["instrument"], case["at_least"]
    spec = instruments.get(code)
    assert spec.reverse_items == tuple(case["reverse_items"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UncertainRuleWarning)
        out = score(_totals(code, [cut - 1, cut]), code, **({"norm": case["norm"]} if case["norm"] else {}))
        assert out["total_band"].cat.codes.tolist() == [0, 1]
        # every item at 0: reversed items count max_code each
        zeros = pd.DataFrame([dict.fromkeys(spec.item_columns, 0)])
        total = score(zeros, code, **({"norm": case["norm"]} if case["norm"] else {}))["total"].iloc[0]
    assert total == case["max_code"] * len(case["reverse_items"])


def test_mht_lie_scale_validity_and_raw_total_as_declared():
    """Consistency only: the lie rule comes from secondary sources, not the manual (docs/instruments.md §2.1)."""
    ref = _load("mht_validity.json", kind="local_convention")
    spec = instruments.get("mht")
    rows = []
    for lie in (ref["invalid_at"] - 1, ref["invalid_at"]):
        codes = dict.fromkeys(spec.item_columns, 1)
        for n, item in enumerate(ref["lie_items"]):
            codes[f"q{item}"] = int(n < lie)
        rows.append(codes)
    out = score(pd.DataFrame(rows, index=["ok", "retest"]), "mht")
    assert out["lie"].tolist() == [6, 7]
    assert out["valid"].tolist() == [True, False]
    assert out["total"].tolist() == [ref["raw_content_total_range"][1]] * 2
    assert not [c for c in out if c.endswith("_band")]  # standard-score cut-offs never hit raw scores
    assert out[["learning_anxiety", "impulsivity"]].iloc[0].tolist() == [15, 10]


# --- options, warnings and errors --------------------------------------------------


def _uncertain_warnings(*args, **kwargs) -> list[str]:
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        score(*args, **kwargs)
    return [str(w.message) for w in record if issubclass(w.category, UncertainRuleWarning)]


def test_uncertain_rules_warn_when_applied():
    frame = _totals("dsrsc", [10])
    urban = _uncertain_warnings(frame, "dsrsc", norm="chinese_urban")
    assert len(urban) == 2
    assert "'reverse_items'" in urban[0] and "'chinese_urban_cutoff'" in urban[1]
    rural = _uncertain_warnings(frame, "dsrsc", norm="henan_rural")
    assert len(rural) == 1 and "'reverse_items'" in rural[0]
    assert _uncertain_warnings(_totals("phq9", [3]), "phq9") == []


def test_informant_and_norm_are_checked():
    sdq = _totals("sdq", [10])
    with pytest.raises(ValueError, match="informant"):
        score(sdq, "sdq")
    with pytest.raises(ValueError, match="informant"):
        score(sdq, "sdq", informant="sibling")
    with pytest.raises(ValueError, match="no informant"):
        score(_totals("phq9", [3]), "phq9", informant="self")
    with pytest.raises(ValueError, match="norms"):
        score(_totals("scared", [3]), "scared", norm="shanghai")
    with pytest.raises(ValueError, match="no norm"):
        score(_totals("gad7", [3]), "gad7", norm="original")


def test_error_lists_at_most_twenty_offenders_with_the_count():
    frame = pd.DataFrame(
        7, index=[f"s{i}" for i in range(30)], columns=list(instruments.get("gad7").item_columns)
    )
    with pytest.raises(ScoringInputError) as err:
        score(frame, "gad7")
    message = str(err.value)
    assert "210 invalid item values (first 20 of 210)" in message
    assert "row 's0' column q1 value 7" in message
    assert message.count("row ") == 20


def test_integer_input_out_of_range_and_negative_codes_are_named():
    frame = pd.DataFrame(0, index=[10, 11], columns=list(instruments.get("phq9").item_columns), dtype=np.int8)
    frame.loc[11, "q4"] = -1
    with pytest.raises(ScoringInputError, match=r"1 invalid item values: row 11 column q4 value -1$"):
        score(frame, "phq9")


def test_infinite_values_and_non_numeric_columns_are_rejected():
    frame = _totals("gad7", [3]).astype(float)
    frame.loc[0, "q3"] = np.inf
    with pytest.raises(ScoringInputError, match="column q3 value inf"):
        score(frame, "gad7")
    text = _totals("gad7", [3]).astype({"q5": str})
    with pytest.raises(ScoringInputError, match="column q5 dtype"):
        score(text, "gad7")


def test_duplicated_item_columns_are_rejected():
    frame = _totals("gad7", [3])
    frame = pd.concat([frame, frame[["q2"]]], axis=1)
    with pytest.raises(ScoringInputError, match="more than once: q2"):
        score(frame, "gad7")


def test_accepts_a_spec_object():
    spec = instruments.get("gad7")
    pd.testing.assert_frame_equal(score(_totals("gad7", [12]), spec), score(_totals("gad7", [12]), "gad7"))


def test_scl90_worked_example_from_awell_score():
    ref = _load("scl90_awell_score.json")
    spec = instruments.get("scl90")
    shifted = pd.DataFrame([ref["answers_0_to_4"]]) + (spec.item_values[0] - ref["coding_base"])
    out = score(shifted, "scl90").iloc[0]
    for code, awell_sum in ref["expected_sums_0_to_4"].items():
        n = len(spec.scale(code).items)
        if spec.scale(code).aggregate == "mean":
            assert out[code] == pytest.approx((awell_sum + n) / n), code
        else:
            assert out[code] == awell_sum + n, code


def test_sdq_worked_example_from_awell_score():
    ref = _load("sdq_awell_score.json")
    answers = {}
    for scale, items in ref["subscale_items"].items():
        inverted = ref["awell_inverted_positions"].get(scale, [])
        for position, (item, value) in enumerate(
            zip(items, ref["awell_values"][scale], strict=True), start=1
        ):
            answers[f"q{item}"] = 2 - value if position in inverted else value
    out = score(pd.DataFrame([answers]), "sdq", informant="parent").iloc[0]
    assert {code: out[code] for code in ref["expected"]} == ref["expected"]
