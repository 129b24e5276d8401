"""The 「干预成效」 page and its mart tables: policy, numbers drawn from the views, the filters, an empty store."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from test_dashboards import _figures, _html
from test_dashboards_crisis import MIN_CELL, assert_policy, plotted, published

from psychanalytics import mart, outcomes, reports, store
from psychanalytics.dashboards import build_outcomes
from psychanalytics.mart import outcomes as outcomes_mart


@pytest.fixture(scope="module")
def demo_mart(demo_db, tmp_path_factory) -> Path:
    return published(demo_db, tmp_path_factory.mktemp("outcomes_mart"))


@pytest.fixture
def page(demo_mart):
    return build_outcomes(demo_mart)


def test_title_filters_and_views(page):
    text = _html(page)
    assert "干预成效" in text and "演示数据" in text and "怎么看" in text
    assert [f.description for f in page.filters] == ["干预类型", "学年", "学段", "城乡"]
    assert [label for label, _ in page.filters[0].options] == ["团体心理辅导", "心理健康课程"]
    assert len(page.views["effects"]) and len(page.views["reliable_change"])


def test_views_show_nothing_under_min_cell(page):
    effects = page.views["effects"]
    assert_policy(effects, estimates=outcomes_mart.EFFECTS)
    assert_policy(page.views["reliable_change"])
    # an effect size is shown only where the group and its comparison arm both hold min_cell students
    shown = effects["d"].notna()
    assert (effects.loc[shown, "n"] >= MIN_CELL).all() and (effects.loc[shown, "count"] >= MIN_CELL).all()
    assert effects["d"].isna().any()  # counselling groups of under 10 exist in the demo: hidden


def test_charts_draw_only_numbers_of_the_views(page):
    effects = page.views["effects"]
    counselling = effects[effects["kind"] == "group_counselling"]
    forest = _figures(page)[0]
    assert sorted(plotted(forest, "x")) == pytest.approx(sorted(counselling["d"].dropna()))
    assert "不显示效应量的项目" in _html(page)  # the hidden ones are listed, not drawn
    page.filters[0].value = "curriculum"
    forest, change = _figures(page)
    curriculum = effects[effects["kind"] == "curriculum"]
    assert sorted(plotted(forest, "x")) == pytest.approx(sorted(curriculum["d"].dropna()))
    cells = page.views["reliable_change"]
    cells = cells[(cells["kind"] == "curriculum") & cells["count"].notna()]
    shares = sorted((cells["count"] / cells["n"] * 100).astype(float))
    assert sorted(plotted(change, "x")) == pytest.approx(shares) and shares


def test_kind_dropdown_redraws(page):
    before = _figures(page)[0]
    kind = page.filters[0]
    kind.value = "curriculum"
    after = _figures(page)[0]
    assert plotted(after, "x") != plotted(before, "x")
    assert "心理健康课程" in after["layout"]["title"]["text"]


def test_year_filter_chooses_published_rows(page):
    year = page.filters[1]
    chosen = year.options[1][1]
    year.value = chosen
    rows = page.views["effects"]
    rows = rows[(rows["kind"] == "group_counselling") & (rows["school_year"] == chosen)]
    drawn = plotted(_figures(page)[0], "x") if _figures(page) else []
    assert sorted(drawn) == pytest.approx(sorted(rows["d"].dropna()))
    page.filters[0].value = "curriculum"
    if not (
        page.views["effects"]["kind"].eq("curriculum") & page.views["effects"]["school_year"].eq(chosen)
    ).any():
        assert "暂无数据" in _html(page) and not _figures(page)


def test_empty_store_says_no_data(sqlite_engine, tmp_path, capsys):
    mart.publish(sqlite_engine, tmp_path / "empty.sqlite")
    page = build_outcomes(tmp_path / "empty.sqlite")
    assert "暂无数据" in _html(page) and not _figures(page)
    assert "Traceback" not in capsys.readouterr().err


def test_reliable_change_groups_are_protected_within_their_arm(demo_mart):
    cells = mart.Mart(demo_mart).table(outcomes_mart.RELIABLE_CHANGE.name)
    for key, arm in cells.groupby(["intervention_id", "arm"]):
        blanks = arm["count"].isna()
        assert blanks.sum() != 1, key  # one hidden category alone would be the arm minus the others
        if arm["n"].notna().all() and blanks.any():
            assert arm["n"].iloc[0] - arm.loc[~blanks, "count"].sum() >= MIN_CELL, key
        if arm["n"].notna().all() and not blanks.any():
            assert arm["count"].sum() == arm["n"].iloc[0], key


def test_group_sizes_and_reliable_change_match_the_store(demo_db, demo_mart):
    """Arm sizes by SQL on the store, one reliable-change count recomputed with the library."""
    effects = mart.Mart(demo_mart).table(outcomes_mart.EFFECT_SIZES.name)
    cells = mart.Mart(demo_mart).table(outcomes_mart.RELIABLE_CHANGE.name)
    # an intervention whose treatment arm shows a reliable-change count (privacy.linked hides some arms whole)
    visible = cells.loc[(cells["arm"] == "treatment") & cells["count"].notna(), "intervention_id"]
    curriculum = effects[(effects["kind"] == "curriculum") & effects["intervention_id"].isin(visible)]
    row = curriculum.iloc[0]
    engine = store.connect_existing(demo_db, read_only=True)
    try:
        with engine.connect() as conn:
            sizes = dict(
                conn.execute(
                    sa.text(
                        "SELECT arm, COUNT(*) FROM participant WHERE intervention_id = :i AND pre_score IS NOT NULL "
                        "AND post_score IS NOT NULL GROUP BY arm"
                    ),
                    {"i": row["intervention_id"]},
                ).all()
            )
        participants = store.load_participants(engine, kinds=("curriculum",))
        participants = participants[participants["intervention_id"] == row["intervention_id"]]
        (pretest,) = reports.pretest_reliabilities(engine, participants)
    finally:
        engine.dispose()
    assert (row["n"], row["count"]) == (sizes["treatment"], sizes["comparison"])
    done = participants.dropna(subset=["pre", "post"])
    treated = done[done["arm"] == "treatment"]
    change = outcomes.reliable_change(
        treated["pre"], treated["post"], reliability=pretest.reliability, sd_pre=pretest.sd, better="lower"
    )
    counts = change.subjects["category"].value_counts()
    mine = cells[(cells["intervention_id"] == row["intervention_id"]) & (cells["arm"] == "treatment")]
    shown = mine[mine["count"].notna()]
    assert len(shown)
    for category, count in zip(shown["category"], shown["count"], strict=True):
        assert count == counts[category]
