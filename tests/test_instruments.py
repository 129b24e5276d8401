"""The instrument registry: every spec loads, is internally consistent and matches docs/instruments.md."""

from __future__ import annotations

import dataclasses
import itertools
import json
from pathlib import Path

import pytest
import yaml

from psychanalytics import instruments
from psychanalytics.instruments import SpecError
from psychanalytics.instruments._spec import spec_from_dict

CODES = ("mht", "mssmhs", "scl90", "phq9", "phqa", "gad7", "sdq", "scared", "dsrsc", "cesd", "cesdc")
ALL = instruments.available()
REFERENCE = Path(__file__).parent / "reference" / "scoring"


def _implied_range(spec, scale) -> tuple[float, float]:
    lo, hi = spec.item_values[0], spec.item_values[-1]
    if scale.of_scales:
        parts = [_implied_range(spec, spec.scale(c)) for c in scale.of_scales]
        return sum(p[0] for p in parts), sum(p[1] for p in parts)
    n = len(scale.items)
    if scale.aggregate == "mean":
        return lo, hi
    if scale.aggregate == "count":
        return 0, n
    return lo * n, hi * n


def test_available_lists_required_instruments():
    assert set(CODES) <= set(ALL)
    assert list(ALL) == sorted(ALL)


def test_get_is_case_insensitive_and_unknown_code_names_the_choices():
    assert instruments.get("GAD7") is instruments.get("gad7")
    with pytest.raises(KeyError, match="unknown instrument 'bdi'.*phq9"):
        instruments.get("bdi")


@pytest.mark.parametrize("code", ALL)
def test_spec_identity_and_provenance(code):
    spec = instruments.get(code)
    assert spec.code == code
    assert spec.version and len(spec.version) <= 16  # fits score.spec_version
    assert spec.name_zh and spec.name_en and spec.sources and spec.licence.status
    assert spec.item_columns == tuple(f"q{i}" for i in range(1, spec.n_items + 1))
    assert all(isinstance(v, int) for v in spec.item_values)
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.version = "x"


@pytest.mark.parametrize("code", ALL)
def test_scales_have_names_items_and_the_range_their_items_imply(code):
    spec = instruments.get(code)
    for scale in spec.scales:
        assert scale.name_zh and scale.name_en
        assert scale.items and all(1 <= i <= spec.n_items for i in scale.items)
        assert len(set(scale.items)) == len(scale.items)
        assert tuple(scale.range) == _implied_range(spec, scale), scale.code


@pytest.mark.parametrize("code", ALL)
def test_bands_start_at_the_scale_minimum_and_rise(code):
    spec = instruments.get(code)
    for scale in spec.scales:
        for band_set in scale.bands:
            lowers = band_set.lowers
            assert all(a < b for a, b in itertools.pairwise(lowers))
            assert band_set.source and band_set.metric in ("raw", "standard")
            if band_set.metric == "raw":
                assert lowers[0] == scale.range[0]
                assert lowers[-1] <= scale.range[1]


@pytest.mark.parametrize("code", ALL)
def test_every_band_has_a_chinese_and_an_english_name(code):
    """Leaders read name_zh, researchers name_en; both come from the spec, never from a table elsewhere."""
    spec = instruments.get(code)
    assert spec.abbreviation and spec.abbreviation in spec.name_zh
    for scale in spec.scales:
        for band_set in scale.bands:
            for band in band_set.bands:
                assert any("\u4e00" <= ch <= "\u9fff" for ch in band.name_zh), (scale.code, band.code)
                assert band.name_en and band.name_en.isascii(), (scale.code, band.code)
                named = scale.band(band.code)  # one name per code within a scale
                assert (named.name_zh, named.name_en) == (band.name_zh, band.name_en)


@pytest.mark.parametrize("code", ALL)
def test_band_ranges_cover_every_band_in_order(code):
    spec = instruments.get(code)
    for scale in spec.scales:
        for band_set in scale.bands:
            options = dict(informant=band_set.informant, norm=band_set.norm, metric=band_set.metric)
            ranges = spec.band_ranges(scale.code, **options)
            assert [r.band for r in ranges] == list(band_set.bands)
            assert all(r.text for r in ranges)


@pytest.mark.parametrize("reference", ["phq9_kroenke2001.json", "gad7_spitzer2006.json"])
def test_band_ranges_match_the_published_severity_ranges(reference):
    published = json.loads((REFERENCE / reference).read_text(encoding="utf-8"))
    for code in published["instruments"]:
        ranges = instruments.get(code).band_ranges("total")
        assert [(r.band.code, r.text) for r in ranges] == [
            (b["band"], f"{b['min']}–{b['max']}") for b in published["bands"]
        ]


def test_band_ranges_of_mean_scales_and_standard_scores_are_half_open():
    assert [r.text for r in instruments.get("mssmhs").band_ranges("depression")] == [
        "<2", "2–<3", "3–<4", "4–<5", "5",
    ]  # fmt: skip
    assert [r.text for r in instruments.get("mht").band_ranges("phobia", metric="standard")] == [
        "<4", "4–<8", "≥8",
    ]  # fmt: skip
    assert instruments.get("sdq").whole_scores("total")  # prorated, then rounded half up
    with pytest.raises(KeyError, match="no raw bands"):
        instruments.get("mht").band_ranges("phobia")


def test_a_band_code_is_looked_up_by_scale_and_an_unknown_one_is_named():
    phq9 = instruments.get("phq9").scale("total")
    assert (phq9.band("minimal").name_zh, phq9.band("minimal").name_en) == ("无或极轻微", "Minimal")
    with pytest.raises(KeyError, match="no band 'none'.*minimal"):
        phq9.band("none")


def _partition(spec, codes):
    items = sorted(i for c in codes for i in spec.scale(c).items)
    return items


def test_scl90_factors_are_the_published_non_consecutive_map():
    spec = instruments.get("scl90")
    factors = [s.code for s in spec.scales if s.aggregate == "mean"]
    assert len(factors) == 10  # nine factors + additional items
    assert _partition(spec, factors) == list(range(1, 91))  # every item in exactly one
    assert spec.scale("somatization").items == (1, 4, 12, 27, 40, 42, 48, 49, 52, 53, 56, 58)
    assert spec.scale("additional").items == (19, 44, 59, 60, 64, 66, 89)
    assert spec.scale("additional").bands == ()
    assert spec.item_values == (1, 2, 3, 4, 5)


def test_mssmhs_factors_partition_the_sixty_items():
    spec = instruments.get("mssmhs")
    factors = [s.code for s in spec.scales if s.code != "total"]
    assert len(factors) == 10
    assert _partition(spec, factors) == list(range(1, 61))
    assert all(s.aggregate == "mean" for s in spec.scales)


def test_mht_content_scales_lie_scale_and_raw_total():
    spec = instruments.get("mht")
    content = [s.code for s in spec.scales if s.code != "total"]
    assert content == [
        "learning_anxiety",
        "social_anxiety",
        "loneliness",
        "self_blame",
        "sensitivity",
        "somatic",
        "phobia",
        "impulsivity",
    ]
    assert spec.scale("impulsivity").items == tuple(range(81, 100, 2))
    assert spec.lie.items == tuple(range(82, 101, 2)) and spec.lie.invalid_at == 7
    assert sorted(_partition(spec, content) + list(spec.lie.items)) == list(range(1, 101))
    total = spec.scale("total")
    assert total.range == (0, 90)
    # no raw bands (standard scores are not invented); the published cut-offs live on the standard metric
    assert all(s.band_set() is None for s in spec.scales)
    assert spec.scale("phobia").band_set(metric="standard").lowers == (1, 4, 8)
    assert total.band_set(metric="standard").lowers == (0, 65)
    assert "standard" in total.note


def test_scared_and_sdq_factors_partition_their_items():
    scared = instruments.get("scared")
    assert _partition(scared, [s.code for s in scared.scales if s.code != "total"]) == list(range(1, 42))
    sdq = instruments.get("sdq")
    assert _partition(sdq, ["emotional", "conduct", "hyperactivity", "peer", "prosocial"]) == list(
        range(1, 26)
    )
    assert sdq.reverse_items == (7, 11, 14, 21, 25)
    assert [sdq.item_keys[i - 1] for i in sdq.reverse_items] == [
        "obeys",
        "friend",
        "popular",
        "reflect",
        "attends",
    ]
    assert sdq.scale("total").of_scales == ("emotional", "conduct", "hyperactivity", "peer")


def test_sdq_licence_forbids_rendering_items_and_bands_need_an_informant():
    sdq = instruments.get("sdq")
    assert sdq.licence.render_items is False
    assert sdq.informants == ("self", "parent", "teacher")
    total = sdq.scale("total")
    assert total.band_set(informant=None) is None
    assert total.band_set(informant="teacher").lowers == (0, 12, 16, 19)


def test_phqa_item_order_differs_from_phq9():
    phq9, phqa = instruments.get("phq9"), instruments.get("phqa")
    assert sorted(phq9.item_keys) == sorted(phqa.item_keys)
    assert phq9.item_keys[:2] == ("anhedonia", "depressed")
    assert phqa.item_keys[:2] == ("depressed", "anhedonia")
    assert phq9.item_keys[8] == phqa.item_keys[8] == "self_harm"
    assert [f.any_of[0].item for f in phqa.flags if f.name == "item9"] == [9]


def test_norm_specific_bands():
    scared = instruments.get("scared").scale("total")
    assert scared.band_set(norm="original").lowers == (0, 25, 30)
    assert scared.band_set(norm="chinese_urban").lowers == (0, 23)
    dsrsc = instruments.get("dsrsc")
    assert [dsrsc.scale("total").band_set(norm=n).lowers[1] for n in dsrsc.norms] == [13, 14, 15]


def test_dsrsc_marks_its_unverified_rules():
    dsrsc = instruments.get("dsrsc")
    rules = {u.rule: u for u in dsrsc.uncertain}
    assert {"reverse_items", "chinese_urban_cutoff"} <= set(rules)
    assert rules["reverse_items"].norm is None and rules["chinese_urban_cutoff"].norm == "chinese_urban"
    assert dsrsc.version.startswith("0.")


def _minimal() -> dict:
    return yaml.safe_load(
        """
        code: demo
        version: "1"
        name_zh: 示例
        name_en: Demo
        abbreviation: DEMO
        n_items: 2
        item_values: [0, 1]
        licence: {status: test, render_items: false}
        sources: [test]
        scales:
          - code: total
            name_zh: 总分
            name_en: Total
            items: [[1, 2]]
            range: [0, 2]
            bands:
              - source: test
                bands: [{code: low, name_zh: 低, name_en: Low, lower: 0}, {code: high, name_zh: 高, name_en: High, lower: 1}]
        """
    )


def test_minimal_spec_loads():
    spec = spec_from_dict(_minimal())
    assert spec.scale("total").items == (1, 2)
    assert spec.scale("total").min_answered == 2  # default: every item required


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update(colour="red"), "unknown keys"),
        (lambda d: d["scales"][0].update(items=[1, 3]), "outside 1..2"),
        (lambda d: d["scales"][0]["bands"][0]["bands"].reverse(), "band lowers"),
        (lambda d: d["scales"][0].update(aggregate="median"), "aggregate"),
        (lambda d: d["scales"][0].update(min_answered=3), "min_answered"),
        (lambda d: d["scales"][0]["bands"][0].update(informant="self"), "informant"),
        (lambda d: d.update(item_values=[1, 0]), "ascending"),
        (lambda d: d["scales"][0]["bands"][0].update(metric="percentile"), "metric"),
        (lambda d: d["scales"][0]["bands"][0]["bands"][0].update(lower=-1), "scale minimum"),
        (lambda d: d["scales"][0]["bands"][0]["bands"][0].pop("name_en"), r"missing keys \['name_en'\]"),
        (lambda d: d.pop("abbreviation"), r"missing keys \['abbreviation'\]"),
        (
            lambda d: d["scales"][0]["bands"].append(
                {
                    "source": "x",
                    "informant": None,
                    "bands": [{"code": "low", "name_zh": "少", "name_en": "Low", "lower": 0}],
                }
            ),
            "named both",
        ),
    ],
)
def test_malformed_specs_are_rejected(edit, message):
    data = _minimal()
    edit(data)
    with pytest.raises(SpecError, match=message):
        spec_from_dict(data)


# --- published screening accuracy (screening.true_prevalence) -------------------------------

_ACCURACY = dict(
    scale="total", at_least=1, sensitivity=0.88, specificity=0.88, condition="c",
    reference_standard="r", population="p", source="s",
)  # fmt: skip


@pytest.mark.parametrize("code", ALL)
def test_every_accuracy_entry_names_its_source_and_a_scale(code):
    spec = instruments.get(code)
    for entry in spec.accuracy:
        assert entry.scale in spec.scale_codes
        assert entry.source and entry.condition and entry.reference_standard and entry.population
        assert 0.5 < entry.sensitivity <= 1 and 0.5 < entry.specificity <= 1
        assert spec.accuracy_at(entry.scale, entry.at_least) is entry


def test_published_accuracy_values():
    phq9_10, phq9_11 = (
        instruments.get("phq9").accuracy_at("total", 10),
        instruments.get("phq9").accuracy_at("total", 11),
    )
    assert (phq9_10.sensitivity, phq9_10.specificity, phq9_10.n_cases, phq9_10.n_noncases) == (
        0.88,
        0.88,
        41,
        539,
    )
    assert "Kroenke" in phq9_10.source
    assert (phq9_11.sensitivity, phq9_11.specificity, phq9_11.n_cases) == (0.895, 0.775, None)
    assert "Richardson" in phq9_11.source and "13-17" in phq9_11.population
    gad7 = instruments.get("gad7").accuracy_at("total", 10)
    assert (gad7.sensitivity, gad7.specificity, gad7.n_cases) == (0.89, 0.82, None)
    with pytest.raises(KeyError, match=r"phq9: no published sensitivity and specificity for total >= 15"):
        instruments.get("phq9").accuracy_at("total", 15)


def test_accuracy_entry_loads():
    spec = spec_from_dict(_minimal() | {"accuracy": [_ACCURACY | {"n_cases": 40, "n_noncases": 500}]})
    assert spec.accuracy_at("total", 1) == instruments.Accuracy(**_ACCURACY, n_cases=40, n_noncases=500)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"sensitivity": 0.4, "specificity": 0.5}, "add up to more than 1"),
        ({"scale": "nope"}, "unknown scale 'nope'"),
        ({"n_cases": 0}, "whole numbers >= 1"),
        ({"colour": "red"}, r"unknown keys \['colour'\]"),
    ],
)
def test_malformed_accuracy_entries_are_rejected(edit, message):
    with pytest.raises(SpecError, match=message):
        spec_from_dict(_minimal() | {"accuracy": [_ACCURACY | edit]})


def test_two_accuracy_entries_for_one_cutoff_are_rejected():
    with pytest.raises(SpecError, match="two accuracy entries for one cut-off"):
        spec_from_dict(_minimal() | {"accuracy": [_ACCURACY, _ACCURACY | {"sensitivity": 0.9}]})
