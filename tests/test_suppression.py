"""The two suppression passes behind privacy.leader_view: primary and complementary.

The rule under test is the one adopted in docs/privacy.md §2 from CDC WONDER
("suppress counts and rates from fewer than 10 observations") and the UK LLC
guidebook ("threshold 10 including zero"): a cell of 9 is blanked, a cell of
10 is shown, a cell of 0 is blanked.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from psychanalytics.privacy.suppression import suppress_complementary, suppress_small_cells


def _frame(counts, totals=None) -> pd.DataFrame:
    counts = list(counts)
    totals = [1000] * len(counts) if totals is None else list(totals)
    return pd.DataFrame(
        {"group": [f"g{i}" for i in range(len(counts))], "count": counts, "n": totals},
        index=pd.Index([f"r{i}" for i in range(len(counts))], name="cell"),
    ).assign(proportion=lambda f: f["count"] / f["n"])


def test_boundary_nine_suppressed_ten_shown_zero_suppressed():
    out = suppress_small_cells(_frame([9, 10, 0, 11]), count="count", dependent=("proportion",), min_cell=10)
    assert out["suppressed"].tolist() == [True, False, True, False]
    assert out["count"].isna().tolist() == [True, False, True, False]
    assert out["proportion"].isna().tolist() == [True, False, True, False]
    assert out.loc["r1", "count"] == 10 and out.loc["r3", "proportion"] == pytest.approx(0.011)


def test_rows_are_marked_never_dropped_and_input_untouched():
    frame = _frame([3, 50, 7])
    before = frame.copy()
    out = suppress_small_cells(frame, count="count", min_cell=10)
    pd.testing.assert_frame_equal(frame, before)
    assert out.index.tolist() == frame.index.tolist()
    assert out["group"].tolist() == frame["group"].tolist()
    assert out["n"].tolist() == frame["n"].tolist()  # not dependent: kept
    assert out["proportion"].tolist() == frame["proportion"].tolist()


def test_default_threshold_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("PSYCHANALYTICS_MIN_CELL", "5")
    assert suppress_small_cells(_frame([4, 5]))["suppressed"].tolist() == [True, False]
    monkeypatch.delenv("PSYCHANALYTICS_MIN_CELL")
    assert suppress_small_cells(_frame([9, 10]))["suppressed"].tolist() == [True, False]


def test_passes_accumulate_numerator_then_denominator():
    frame = _frame([30, 2, 12], totals=[400, 8, 500])
    first = suppress_small_cells(frame, count="count", dependent=("proportion",), min_cell=10)
    second = suppress_small_cells(first, count="n", dependent=("count", "proportion"), min_cell=10)
    assert second["suppressed"].tolist() == [False, True, False]
    assert second["n"].isna().tolist() == [False, True, False]
    assert second["count"].isna().tolist() == [False, True, False]


def test_denominator_pass_blanks_a_large_numerator_of_a_small_total():
    frame = _frame([12], totals=[9])
    out = suppress_small_cells(frame, count="n", dependent=("count", "proportion"), min_cell=10)
    assert out["count"].isna().all() and out["proportion"].isna().all() and out["suppressed"].all()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (np.nan, r"row 'r1', column 'count': count is missing"),
        (-1, r"row 'r1', column 'count'.*>= 0, got -1"),
        (2.5, r"row 'r1', column 'count'.*whole number, got 2.5"),
    ],
)
def test_bad_counts_name_row_column_and_value(value, message):
    frame = _frame([20, 20]).astype({"count": "float64"})
    frame.loc["r1", "count"] = value
    with pytest.raises(ValueError, match=message):
        suppress_small_cells(frame, count="count", min_cell=10)


def test_missing_columns_and_bad_threshold():
    with pytest.raises(KeyError, match="'total'"):
        suppress_small_cells(_frame([20]), count="total")
    with pytest.raises(KeyError, match="'rate'"):
        suppress_small_cells(_frame([20]), dependent=("rate",))
    with pytest.raises(ValueError, match="min_cell must be >= 1"):
        suppress_small_cells(_frame([20]), min_cell=0)


@settings(deadline=None)  # no timed unit tests: speed is for benchmarks
@given(
    counts=st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=40),
    min_cell=st.integers(min_value=1, max_value=50),
)
def test_property_no_small_count_survives_and_large_counts_are_unchanged(counts, min_cell):
    frame = _frame(counts)
    out = suppress_small_cells(frame, count="count", dependent=("proportion",), min_cell=min_cell)
    assert len(out) == len(frame)
    small = np.array(counts) < min_cell
    assert out["suppressed"].to_numpy().tolist() == small.tolist()
    shown = out.loc[~out["suppressed"], "count"]
    assert (shown >= min_cell).all()
    assert shown.astype("int64").tolist() == [c for c in counts if c >= min_cell]
    assert out.loc[out["suppressed"], ["count", "proportion"]].isna().all().all()


@settings(deadline=None)  # no timed unit tests: speed is for benchmarks
@given(
    groups=st.lists(
        st.lists(st.integers(min_value=0, max_value=60), min_size=2, max_size=6), min_size=1, max_size=5
    )
)
def test_no_blanked_cell_can_be_recovered_from_the_group_total(groups):
    """After secondary suppression a group never has exactly one blanked cell, and its blanked cells
    hold 10 or more together, so n - shown gives away neither a cell nor a small sum (docs/privacy.md §2)."""
    cells = pd.DataFrame(
        [
            {"group": g, "band": b, "count": c, "n": sum(counts)}
            for g, counts in enumerate(groups)
            for b, c in enumerate(counts)
        ]
    )
    primary = suppress_small_cells(suppress_small_cells(cells, min_cell=10), count="n", min_cell=10)
    out = suppress_complementary(primary, by=["group"], min_cell=10)
    for _, group in out[out["n"].notna()].groupby("group"):
        blanked = cells.loc[group.index[group["suppressed"]], "count"]
        assert len(blanked) != 1
        assert blanked.empty or blanked.sum() >= 10
    shown = out[~out["suppressed"]]
    assert (shown["count"].to_numpy() == cells.loc[shown.index, "count"].to_numpy()).all()
    assert (cells.loc[shown.index, "count"] >= 10).all()


def test_complementary_partner_is_the_smallest_shown_cell_of_the_group():
    cells = pd.DataFrame(
        {"wave": ["A"] * 4 + ["B"] * 2, "count": [40, 15, 11, 3, 30, 20], "n": [69] * 4 + [50] * 2}
    )
    out = suppress_complementary(suppress_small_cells(cells, min_cell=10), by=["wave"], min_cell=10)
    assert out["suppressed"].tolist() == [False, False, True, True, False, False]


def test_a_group_whose_blanks_hold_fewer_than_min_cell_gets_a_partner():
    # 60 + 4 + 3: two blanks, but 67 - 60 = 7 would say both are small
    cells = pd.DataFrame({"wave": ["A"] * 3, "count": [60, 4, 3], "n": [67] * 3})
    out = suppress_complementary(suppress_small_cells(cells, min_cell=10), by=["wave"], min_cell=10)
    assert out["suppressed"].all()
