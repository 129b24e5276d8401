"""The leader-output policy (privacy.leader_view): suppression, the headline rule and markers.

The rules are those of docs/privacy.md (small-cell suppression), after CDC WONDER
("suppress counts and rates from fewer than 10 observations"; suppressed cells
have been recovered by subtracting totals, hence complementary suppression) and
UK LLC ("threshold 10 including zero"; at least two suppressed cells per row).
The worked examples below are counted by hand (see the comments); the properties
are checked on random tables.
"""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from psychanalytics import store
from psychanalytics.privacy import PROTECTED_MARKER, leader_view, marker_note, small_marker
from psychanalytics.store import queries


def _bands(groups: dict[str, list[int]]) -> pd.DataFrame:
    """One row per wave x band; the bands of a wave add up to its n."""
    rows = [
        dict(wave_id=wave, band=f"b{rank}", band_rank=rank, count=count, n=sum(counts))
        for wave, counts in groups.items()
        for rank, count in enumerate(counts)
    ]
    return pd.DataFrame(rows).assign(proportion=lambda f: f["count"] / f["n"].where(f["n"] > 0))


# --- worked examples ---------------------------------------------------------------------------


def test_one_small_band_takes_the_smallest_shown_band_with_it():
    # W1: 480 + 40 + 30 + 4 = 554. The 4 alone would be 554 - 480 - 40 - 30; blanking 30 too leaves 34
    # for two cells. W2 has nothing small and is shown whole.
    view = leader_view(
        _bands({"W1": [480, 40, 30, 4], "W2": [300, 200, 100, 50]}), by=("wave_id",), min_cell=10
    )
    cells = view.cells
    assert cells["count"].tolist()[:4] == [480, 40, pd.NA, pd.NA]
    assert cells["marker"].tolist()[:4] == ["", "", PROTECTED_MARKER, "<10"]
    assert cells["count"].tolist()[4:] == [300, 200, 100, 50] and not cells["suppressed"][4:].any()
    assert cells["proportion"].isna().tolist()[:4] == [False, False, True, True]


def test_blanks_that_hold_fewer_than_min_cell_together_take_a_partner():
    # 500 + 60 + 3 + 0: the 3 and the 0 are both blanked (two blanks), but 563 - 500 - 60 = 3 would say
    # that both are small; the 60 is blanked too, so the three blanks hold 63.
    view = leader_view(_bands({"W": [500, 60, 3, 0]}), by=("wave_id",), min_cell=10)
    assert view.cells["marker"].tolist() == ["", PROTECTED_MARKER, "<10", "<10"]
    # and zeros alone: 12 students all in one band would show that every other band is empty
    view = leader_view(_bands({"W": [12, 0, 0, 0]}), by=("wave_id",), min_cell=10)
    assert view.cells["suppressed"].all() and view.cells["n"].tolist() == [12] * 4


def test_headline_is_blanked_with_any_band_it_sums():
    groups = {"W1": [400, 100, 60, 40, 3], "W2": [400, 100, 60, 40, 30], "W3": [500, 3, 60, 40, 30]}
    table = _bands(groups)
    view = leader_view(table, by=("wave_id",), headline=table["band_rank"] >= 2, min_cell=10)
    top = view.headline.set_index("wave_id")
    # W1: severe (3) is blanked with moderately severe (40): the headline would give 3 = 103 - 60 - 40
    assert pd.isna(top.loc["W1", "count"]) and top.loc["W1", "marker"] == PROTECTED_MARKER
    assert top.loc["W1", "n"] == 603 and pd.isna(top.loc["W1", "proportion"])
    # W2: nothing blanked: 60 + 40 + 30
    assert top.loc["W2", "count"] == 130 and top.loc["W2", "proportion"] == pytest.approx(130 / 630)
    # W3: the small band (mild, 3) and its partner (severe, 30): the headline sums severe, so it goes too
    assert view.cells.query("wave_id == 'W3'")["marker"].tolist() == ["", "<10", "", "", PROTECTED_MARKER]
    assert pd.isna(top.loc["W3", "count"])


def test_a_small_headline_or_group_is_marked_small():
    table = _bands({"W1": [500, 40, 5], "W2": [6, 2, 0]})
    view = leader_view(table, by=("wave_id",), headline=table["band_rank"] == 2, min_cell=10)
    top = view.headline.set_index("wave_id")
    assert top["marker"].tolist() == ["<10", "<10"]
    assert pd.isna(top.loc["W2", "n"])  # a group of 8 students: its size is not shown either
    assert view.cells.query("wave_id == 'W2'")["n"].isna().all()


def test_rows_that_stand_alone_get_no_complementary_pass():
    screened = pd.DataFrame({"wave_id": ["W1", "W2", "W3"], "count": [2850, 7, 40], "n": [3000, 3000, 8]})
    cells = leader_view(screened, min_cell=10).cells
    assert cells["count"].tolist() == [2850, pd.NA, 40]  # 40 screened is true, whatever the roster says
    assert cells["n"].tolist() == [3000, 3000, pd.NA]  # 40 of 8 enrolled: the denominator is small
    assert cells["marker"].tolist() == ["", "<10", "<10"]


def test_counts_of_schools_are_shown_whole():
    staffing = pd.DataFrame({"school_year": ["2024-2025"], "count": [3], "n": [4], "proportion": [0.75]})
    view = leader_view(staffing, unit="school", min_cell=10)
    assert view.cells["count"].tolist() == [3] and view.cells["proportion"].tolist() == [0.75]
    assert not view.cells["suppressed"].any() and view.cells["marker"].tolist() == [""]


def test_threshold_comes_from_the_environment(monkeypatch):
    table = _bands({"W": [100, 6]})
    monkeypatch.setenv("PSYCHANALYTICS_MIN_CELL", "5")
    assert leader_view(table, by=("wave_id",)).min_cell == 5
    assert not leader_view(table, by=("wave_id",)).cells["suppressed"].any()
    monkeypatch.delenv("PSYCHANALYTICS_MIN_CELL")
    assert leader_view(table, by=("wave_id",)).cells["marker"].tolist() == [PROTECTED_MARKER, "<10"]


def test_markers_and_note_name_the_threshold():
    assert small_marker(5) == "<5"
    zh, en = marker_note(5)
    assert "少于 5 人" in zh and "「<5」" in zh and f"「{PROTECTED_MARKER}」" in zh
    assert "fewer than 5 students" in en


# --- bad input ---------------------------------------------------------------------------------


def test_a_column_that_may_count_people_is_refused():
    table = _bands({"W": [50, 20]}).assign(unbanded=3)
    with pytest.raises(ValueError, match=r"\['unbanded'\].*own view"):
        leader_view(table, by=("wave_id",))
    assert (
        "school_name"
        in leader_view(
            table.drop(columns="unbanded").assign(school_name="示例中学"),
            by=("wave_id",),
            labels=("school_name",),
        ).cells
    )


@pytest.mark.parametrize(
    ("edit", "kwargs", "error", "message"),
    [
        (lambda f: f.drop(columns="n"), {}, KeyError, r"lacks column\(s\) \['n'\]"),
        (lambda f: f.assign(n=f["n"] + 1), {"by": ("wave_id",)}, ValueError, r"'wave_id': 'W'.*add up to 70"),
        (lambda f: f.assign(count=[50.5, 20]), {}, ValueError, r"column 'count'.*whole number, got 50.5"),
        (lambda f: f.assign(n=[-1, 70]), {}, ValueError, r"column 'n'.*>= 0, got -1"),
        (lambda f: f, {"headline": pd.Series([True, False])}, ValueError, "give the group's columns in by="),
        (lambda f: f, {"by": ("wave_id",), "headline": pd.Series([1, 0])}, ValueError, "boolean Series"),
        (lambda f: f, {"unit": "class"}, ValueError, "unit must be one of"),
        (lambda f: f, {"min_cell": 0}, ValueError, "min_cell must be >= 1"),
    ],
)
def test_bad_input_names_what_and_where(edit, kwargs, error, message):
    with pytest.raises(error, match=message):
        leader_view(edit(_bands({"W": [50, 20]})), **kwargs)


def test_input_is_not_modified():
    table = _bands({"W": [50, 3, 20]})
    before = table.copy()
    leader_view(table, by=("wave_id",), headline=table["band_rank"] > 0, min_cell=10)
    pd.testing.assert_frame_equal(table, before)


# --- properties --------------------------------------------------------------------------------

_GROUPS = st.lists(st.lists(st.integers(0, 80), min_size=2, max_size=6), min_size=1, max_size=5).map(
    lambda groups: {f"W{i}": counts for i, counts in enumerate(groups)}
)


@settings(deadline=None)
@given(groups=_GROUPS, min_cell=st.integers(1, 30), cut=st.integers(0, 6))
def test_property_nothing_shown_rests_on_few_students_or_gives_a_blank_away(groups, min_cell, cut):
    table = _bands(groups)
    mask = table["band_rank"] >= cut
    view = leader_view(table, by=("wave_id",), headline=mask, min_cell=min_cell)
    cells = view.cells
    shown = ~cells["suppressed"]
    # shown numbers are the true ones, and none is small
    assert (cells.loc[shown, "count"] == table.loc[shown, "count"]).all()
    assert (table.loc[shown, "count"] >= min_cell).all()
    assert (cells["n"].dropna() >= min_cell).all()
    assert cells.loc[cells["count"].isna() | cells["n"].isna(), "proportion"].isna().all()
    # markers: 「<k」 exactly where the cell or its group is small, 「*」 on the other blanks
    small = (table["count"] < min_cell) | (table["n"] < min_cell)
    assert (cells["marker"] == small_marker(min_cell)).tolist() == small.tolist()
    assert (cells["marker"] == PROTECTED_MARKER).tolist() == (cells["suppressed"] & ~small).tolist()
    for wave, group in cells.groupby("wave_id"):
        raw = table.loc[group.index, "count"]
        blanks = group["suppressed"]
        if group["n"].notna().all() and blanks.any():
            assert blanks.sum() >= 2, wave
            assert raw[blanks].sum() >= min_cell, wave  # n - shown cells: not a small number either
        # one partner at most, and one more outside a hidden headline (else the headline is n minus the rest)
        partners = group["marker"] == PROTECTED_MARKER
        assert (partners & mask[group.index]).sum() <= 1 and (partners & ~mask[group.index]).sum() <= 1
        headline_hidden = group.loc[mask[group.index], "suppressed"].any()
        if headline_hidden and group["n"].notna().all() and raw[~mask[group.index]].gt(0).any():
            assert group.loc[~mask[group.index], "suppressed"].any(), wave
    for _, top in view.headline.iterrows():
        parts = cells[(cells["wave_id"] == top["wave_id"]) & mask]
        if not top["suppressed"]:
            assert not parts["suppressed"].any()
            assert top["count"] == table.loc[parts.index, "count"].sum() >= min_cell


@settings(deadline=None)
@given(
    counts=st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), min_size=1, max_size=8),
    min_cell=st.integers(1, 30),
)
def test_property_rows_that_stand_alone(counts, min_cell):
    table = pd.DataFrame({"wave_id": [f"W{i}" for i in range(len(counts))], "count": [c for c, _ in counts],
                          "n": [n for _, n in counts]})  # fmt: skip
    cells = leader_view(table, min_cell=min_cell).cells
    small_count, small_n = table["count"] < min_cell, table["n"] < min_cell
    assert cells["count"].isna().tolist() == small_count.tolist()
    assert cells["n"].isna().tolist() == small_n.tolist()
    assert cells.loc[~small_count, "count"].tolist() == table.loc[~small_count, "count"].tolist()
    assert (cells["marker"] == small_marker(min_cell)).tolist() == (small_count | small_n).tolist()


# --- the demo district -------------------------------------------------------------------------


def test_demo_headline_equals_the_raw_count_at_or_above_the_cut(demo_db):
    engine = store.connect(demo_db, read_only=True)
    try:
        bands = queries.band_distribution(engine, instrument="phq9", scale="total")
        raw = pd.read_sql_table("score", engine)
    finally:
        engine.dispose()
    phq = raw.query("instrument == 'phq9' and scale == 'total'").dropna(subset=["band_rank"])
    expected = (phq["band_rank"] >= 2).groupby(phq["wave_id"]).agg(["sum", "size"])
    table = bands.drop(columns="unbanded")
    view = leader_view(table, by=("wave_id", "wave_label"), headline=table["band_rank"] >= 2, min_cell=1)
    top = view.headline.set_index("wave_id")
    assert top["count"].tolist() == expected.loc[top.index, "sum"].tolist()
    assert top["n"].tolist() == expected.loc[top.index, "size"].tolist()
    assert not top["suppressed"].any()


def test_a_group_whose_students_all_share_one_band_is_hidden_with_its_n_and_headline():
    # W1: all 45 students in b2 (attribute disclosure: the band of every one of them); W2 is mixed
    table = _bands({"W1": [0, 0, 45], "W2": [30, 20, 10]})
    view = leader_view(
        table, by=("wave_id",), headline=table["band_rank"] >= 1, hide_uniform=True, min_cell=10
    )
    w1 = view.cells.query("wave_id == 'W1'")
    assert w1["count"].isna().all() and w1["n"].isna().all() and w1["proportion"].isna().all()
    assert w1["marker"].tolist() == ["<10", "<10", PROTECTED_MARKER]
    assert view.headline["count"].isna().tolist() == [True, False] and pd.isna(view.headline["n"][0])
    shown = leader_view(table, by=("wave_id",), min_cell=10).cells  # without the option, as before
    assert shown.query("wave_id == 'W1'")["n"].tolist() == [45] * 3
    with pytest.raises(ValueError, match="hide_uniform looks at the cells of a group"):
        leader_view(table, hide_uniform=True)
