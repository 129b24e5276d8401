"""Staffing: profile, gaps under each standard (hand-worked answers), switchable standards, the projection
against R, and the counts in SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from plan_support import Y2, write_district

from psychanalytics import staffing
from psychanalytics.store.queries import staffing as staffing_queries

REFERENCE = json.loads((Path(__file__).parent / "reference" / "staffing" / "projection_r.json").read_text())

# the hand-made district of plan_support in 2024-2025
COUNTS = pd.DataFrame(
    {
        "school_year": Y2,
        "school_id": list("ABCD"),
        "stage": ["primary", "junior", "nine_year", "senior"],
        "enrolment": [800, 2400, 1200, 300],
        "boarders": [0, 0, 250, 0],
        "full_time": [1, 1, 0, 0],
        "part_time": [0, 2, 1, 0],
        "part_time_hours": [0.0, 8.0, 4.0, 0.0],
    }
)

# (standard, per-school gaps A-D, schools it applies to, schools meeting it), worked out by hand
EXPECTED_GAPS = [
    ("zhonglou_2024", [0, 0, 1, 1], 4, 2),  # one full-timer each
    ("national_2023", [0, 0, 0, 1], 4, 3),  # one full- or part-timer each
    ("national_2012_stage", [0, 0, 2, 1], 4, 2),  # the nine-year school has two stages
    ("ratio_1000", [0, 2, 2, 1], 4, 1),  # ceil(800/1000)=1, ceil(2400/1000)=3, ceil(1200/1000)=2, 1
    ("size_boarding", [0, 0, 1, 0], 2, 1),  # B by size, C by its 250 boarders; A and D exempt
    ("asca_250", [2.2, 8.1, 4.55, 1.2], 4, 0),  # FTE: 3.2-1, 9.6-1.5, 4.8-0.25, 1.2-0
    ("nasp_500", [0.6, 3.3, 2.15, 0.6], 4, 0),
]


@pytest.fixture
def school_gaps():
    return staffing.gaps(staffing.profile(COUNTS))


def test_profile_counts_part_timers_by_their_share_of_a_full_load():
    profile = staffing.profile(COUNTS)
    assert profile["fte"].tolist() == [1.0, 1.5, 0.25, 0.0]
    assert profile["teachers"].tolist() == [1.0, 3.0, 1.0, 0.0]
    assert profile["students_per_full_time"].iloc[:2].tolist() == [800.0, 2400.0]
    assert profile["students_per_full_time"].iloc[2:].isna().all()  # no full-timer: missing, not infinite
    assert staffing.profile(COUNTS, full_time_hours=8.0)["fte"].tolist() == [1.0, 2.0, 0.5, 0.0]


@pytest.mark.parametrize(
    ("code", "gaps", "applies", "meeting"), EXPECTED_GAPS, ids=[g[0] for g in EXPECTED_GAPS]
)
def test_gaps_per_school_and_district_under_each_standard(school_gaps, code, gaps, applies, meeting):
    rows = school_gaps[school_gaps["standard"] == code]
    assert rows["gap"].to_numpy() == pytest.approx(gaps)
    district = staffing.district_gaps(school_gaps)
    row = district[district["standard"] == code].iloc[0]
    assert (row["n"], row["count"]) == (applies, meeting)
    assert row["teachers_needed"] == pytest.approx(sum(gaps))


def test_standards_are_switchable_and_custom_ones_apply_alike():
    proposal = staffing.Standard(
        code="proposal_800", name_zh="1:800", name_en="1:800", counts="full_time", minimum=1, per_students=800
    )
    chosen = (*staffing.standards("zhonglou_2024"), proposal)
    school_gaps = staffing.gaps(staffing.profile(COUNTS), standards_used=chosen)
    assert list(dict.fromkeys(school_gaps["standard"])) == ["zhonglou_2024", "proposal_800"]
    assert school_gaps.loc[school_gaps["standard"] == "proposal_800", "gap"].tolist() == [0, 2, 2, 1]
    district = staffing.district_gaps(school_gaps, standards_used=chosen)
    assert district["teachers_needed"].tolist() == [2.0, 5.0]
    with pytest.raises(KeyError, match="proposal_800"):
        staffing.district_gaps(school_gaps)  # the shipped list does not know it


def test_every_shipped_standard_cites_its_source_and_deadlines_come_with_targets():
    for standard in staffing.standards():
        assert standard.source.startswith("docs/policy.md")
        assert (standard.deadline is None) == (standard.target_share is None)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (dict(counts="head"), "counts must be one of"),
        (dict(minimum=0), "needs a minimum or per_students"),
        (dict(target_share=0.9), "target_share and deadline together"),
        (dict(target_share=1.2, deadline="2025-2026"), "target_share must be in"),
        (dict(target_share=0.9, deadline="2025"), "expected YYYY-YYYY"),
    ],
)
def test_a_malformed_standard_is_refused(fields, message):
    base = dict(code="x", name_zh="x", name_en="x", counts="full_time", minimum=1)
    with pytest.raises(ValueError, match=message):
        staffing.Standard(**{**base, **fields})


def test_unknown_standard_and_bad_counts_are_named():
    with pytest.raises(KeyError, match="nope"):
        staffing.standards("nope")
    with pytest.raises(KeyError, match="part_time_hours"):
        staffing.profile(COUNTS.drop(columns="part_time_hours"))
    bad = COUNTS.assign(full_time=[1, -1, 0, 0])
    with pytest.raises(ValueError, match=r"row 1 .*'B'"):
        staffing.profile(bad)


@pytest.mark.parametrize("series", ["gap", "share"])
@pytest.mark.parametrize("level", [0.8, 0.95])
def test_projection_matches_r_lm_prediction_intervals(series, level):
    ref = REFERENCE[series]
    expected = ref[f"level_{level}"]
    history = pd.DataFrame({"school_year": [f"{y}-{y + 1}" for y in ref["year"]], "value": ref["value"]})
    deadline = f"{ref['future'][-1]}-{ref['future'][-1] + 1}"
    result = staffing.projection(
        history, target=0 if series == "gap" else 1.0, deadline=deadline, ci=level, floor=None
    )
    ahead = result.table[result.table["kind"] == "projected"]
    np.testing.assert_allclose(ahead["value"], expected["fit"], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(ahead["low"], expected["lwr"], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(ahead["high"], expected["upr"], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(
        [result.pace, result.pace_low, result.pace_high],
        [expected["slope"], expected["slope_lwr"], expected["slope_upr"]],
        rtol=1e-9,
    )


def test_projection_probability_needed_pace_and_floor():
    history = pd.DataFrame(
        {"school_year": ["2021-2022", "2022-2023", "2023-2024", "2024-2025"], "value": [10, 9, 6, 5]}
    )
    near = staffing.projection(history, target=0, deadline="2025-2026")
    far = staffing.projection(history, target=0, deadline="2027-2028")
    assert near.probability < far.probability  # more years at the same pace: likelier to close the gap
    assert near.needed_per_year == -5.0 and far.needed_per_year == pytest.approx(-5 / 3)
    assert (far.table["low"] >= 0).all()  # a count of teachers never projected below zero
    assert not near.reached and near.falling
    # the same line judged as of 2022-2023 ignores the later years
    early = staffing.projection(history, target=0, deadline="2025-2026", as_of="2022-2023")
    assert (
        early.current == 9 and early.pace == pytest.approx(-1) and np.isnan(early.probability)
    )  # 2 years: no band
    assert early.table["kind"].tolist() == ["observed"] * 2 + ["projected"] * 3


def test_projection_when_the_deadline_has_passed_or_the_target_is_met():
    history = pd.DataFrame({"school_year": ["2022-2023", "2023-2024", "2024-2025"], "value": [3, 2, 0]})
    done = staffing.projection(history, target=0, deadline="2023-2024")
    assert done.reached and done.years_left == 0 and done.needed_per_year == 0
    assert np.isnan(done.projected) and (done.table["kind"] == "observed").all()
    rising = staffing.projection(
        pd.DataFrame({"school_year": ["2022-2023", "2023-2024", "2024-2025"], "value": [0.5, 0.6, 0.7]}),
        target=0.95,
        deadline="2026-2027",
    )
    assert not rising.falling and rising.needed_per_year == pytest.approx(0.125)
    assert rising.projected == pytest.approx(0.9) and 0 < rising.probability < 0.5


@pytest.mark.parametrize(
    ("history", "message"),
    [
        (pd.DataFrame({"school_year": ["2024-2025"], "value": [3]}), "at least two observed years"),
        (pd.DataFrame({"school_year": ["2024-2025", "2024-2025"], "value": [3, 2]}), "repeated"),
        (pd.DataFrame({"school_year": ["2023-2024", "2024-2025"], "value": [3, None]}), "missing value"),
        (pd.DataFrame({"school_year": ["2023-24", "2024-2025"], "value": [3, 2]}), "expected YYYY-YYYY"),
    ],
)
def test_projection_refuses_what_it_cannot_project(history, message):
    with pytest.raises(ValueError, match=message):
        staffing.projection(history, target=0, deadline="2026-2027")


def test_staff_counts_are_counted_in_the_database(engine):
    write_district(engine)
    counts = staffing_queries.staff_counts(engine)
    now = counts[counts["school_year"] == Y2].set_index("school_id")
    assert now["full_time"].tolist() == [1, 1, 0, 0]
    assert now["part_time"].tolist() == [0, 2, 1, 0]
    assert now["part_time_hours"].tolist() == [0.0, 8.0, 4.0, 0.0]
    assert now["full_time_qualified"].tolist() == [1, 1, 0, 0]  # A by degree, B by certificate
    assert now["part_time_certified"].tolist() == [0, 1, 0, 0]
    assert now["full_time_in_role"].tolist() == [1, 0, 0, 0]
    assert now.loc["C", ["location", "boarders"]].tolist() == ["township_central", 250]
    assert len(counts) == 8  # every reporting school and year, with or without teachers
    gaps = staffing.gaps(staffing.profile(counts[counts["school_year"] == Y2]))
    expected = staffing.gaps(staffing.profile(COUNTS))
    pd.testing.assert_frame_equal(gaps.reset_index(drop=True), expected, check_dtype=False)
