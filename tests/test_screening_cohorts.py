"""Cohorts and screening → action on hand-made counts whose answers can be worked out on paper."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from psychanalytics import screening


def _row(state_from, band_from, state_to, band_to, count, *, moved=None, stage=("junior", "junior")):
    rank = {"low": 0, "mid": 1, "high": 2, None: None}
    positive = {"low": 0, "mid": 0, "high": 1, None: None}
    return dict(
        wave_from="W1", wave_to="W2", stage_from=stage[0], stage_to=stage[1],
        state_from=state_from, band_from=band_from, band_rank_from=rank[band_from],
        positive_from=positive[band_from], state_to=state_to, band_to=band_to, band_rank_to=rank[band_to],
        positive_to=positive[band_to], moved=moved, count=count,
    )  # fmt: skip


# 200 junior students screened in W1: 150 low, 30 mid, 20 high.
# In W2: low -> 120 low, 10 mid, 5 high, 10 not screened, 5 left;  mid -> 10 low, 12 mid, 6 high, 2 graduated...
# high -> 4 low, 6 mid, 8 high (2 of them moved), 2 left.  Plus 7 students first screened in W2 (3 high).
COUNTS = pd.DataFrame(
    [
        _row("screened", "low", "screened", "low", 120, moved=0),
        _row("screened", "low", "screened", "mid", 10, moved=0),
        _row("screened", "low", "screened", "high", 5, moved=0),
        _row("screened", "low", "not_screened", None, 10, moved=0),
        _row("screened", "low", "not_enrolled", None, 5, stage=("junior", None)),
        _row("screened", "mid", "screened", "low", 10, moved=0),
        _row("screened", "mid", "screened", "mid", 12, moved=0),
        _row("screened", "mid", "screened", "high", 6, moved=1, stage=("junior", "senior")),
        _row("screened", "mid", "graduated", None, 2, stage=("junior", None)),
        _row("screened", "high", "screened", "low", 4, moved=0),
        _row("screened", "high", "screened", "mid", 6, moved=0),
        _row("screened", "high", "screened", "high", 6, moved=0),
        _row("screened", "high", "screened", "high", 2, moved=1, stage=("junior", "senior")),
        _row("screened", "high", "not_enrolled", None, 2, stage=("junior", None)),
        _row("not_enrolled", None, "screened", "high", 3, stage=(None, "junior")),
        _row("not_screened", None, "screened", "low", 4),
    ]
)


def test_transition_matrix_rows_are_the_students_screened_at_both():
    result = screening.cohorts(COUNTS)
    matrix = result.transitions.set_index(["band_from", "band_to"])
    assert matrix.loc[("low", "low"), "count"] == 120 and matrix.loc[("low", "low"), "n"] == 135
    assert matrix.loc[("high", "high"), "count"] == 8 and matrix.loc[("high", "high"), "n"] == 18
    assert matrix.loc[("mid", "high"), "proportion"] == pytest.approx(6 / 28)
    assert len(result.transitions) == 9  # every band pair, zeros included
    sums = result.transitions.groupby("band_from")["proportion"].sum()
    assert np.allclose(sums, 1.0)


def test_persistence_new_cases_and_follow_up():
    result = screening.cohorts(COUNTS)
    persistence = result.persistence.set_index("positive_from")
    assert (persistence.loc[1, "count"], persistence.loc[1, "n"]) == (8, 18)  # risk persisted in 8 of 18
    assert (persistence.loc[0, "count"], persistence.loc[0, "n"]) == (
        11,
        163,
    )  # 5 + 6 new among 163 negatives
    assert persistence.loc[1, "low"] < 8 / 18 < persistence.loc[1, "high"]
    new = result.new_cases.iloc[0]
    assert (new["count"], new["persistent"], new["new"], new["first_screened"]) == (22, 8, 11, 3)
    follow = result.follow_up.set_index("state_to")
    assert follow["n"].unique().tolist() == [200]
    assert follow["count"].to_dict() == {
        "screened": 181,
        "not_screened": 10,
        "not_enrolled": 7,
        "graduated": 2,
    }
    assert follow.loc["screened", "moved"] == 8  # the stage transitions to senior school


def test_stage_transitions_are_kept_apart_by_the_keys_at_both_ends():
    result = screening.cohorts(COUNTS, by=("stage_from", "stage_to"))
    to_senior = result.transitions[
        (result.transitions["stage_to"] == "senior") & (result.transitions["count"] > 0)
    ]
    assert to_senior[["band_from", "band_to", "count"]].values.tolist() == [
        ["mid", "high", 6],
        ["high", "high", 2],
    ]


def test_cohorts_refuse_unknown_states():
    with pytest.raises(ValueError, match="'lost' is not one of"):
        screening.cohorts(COUNTS.assign(state_to="lost"))
    with pytest.raises(KeyError, match=r"missing column\(s\) \['school_from'\]"):
        screening.cohorts(COUNTS, by="school_from")


def test_screening_action_sums_reasons_and_keeps_steps_in_order():
    counts = pd.DataFrame(
        {
            "wave": ["W1"] * 4, "school": ["A", "A", "B", "B"], "reason": ["cutoff", "flag"] * 2,
            "n": [40, 12, 0, 0], "raised": [30, 4, 0, 0], "confirmed": [28, 4, 0, 0], "referred": [6, 1, 0, 0],
        }
    )  # fmt: skip
    table = screening.screening_action(counts)
    a = table[table["school"] == "A"]
    assert a["step"].tolist() == ["raised", "confirmed", "referred"]
    assert a["count"].tolist() == [34, 32, 7] and a["n"].tolist() == [52] * 3
    assert a["step_zh"].tolist() == ["建立危机个案", "完成访谈确认", "转介"]
    b = table[table["school"] == "B"]
    assert b["proportion"].isna().all()  # nobody flagged: no share, not 0 %
    by_reason = screening.screening_action(counts, by=("school", "reason"))
    item_only = by_reason[(by_reason["school"] == "A") & (by_reason["reason"] == "flag")]
    assert item_only["count"].tolist() == [4, 4, 1]


def test_screening_action_refuses_more_followed_up_than_flagged():
    counts = pd.DataFrame({"school": ["A"], "n": [3], "raised": [4], "confirmed": [0], "referred": [0]})
    with pytest.raises(ValueError, match="raised = 4 is larger than n = 3"):
        screening.screening_action(counts, by="school")
