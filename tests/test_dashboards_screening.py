"""The 「心理普测」 leader page and its mart tables: policy, numbers drawn from the mart, filters, empty store."""

from __future__ import annotations

import base64
import json
import math
import re

import numpy as np
import pandas as pd
import pytest
from test_dashboards import _figures, _html  # the overview's helpers: walk a page's widgets

from psychanalytics import mart, screening, store, synth
from psychanalytics.dashboards import LeaderPage, build_screening
from psychanalytics.dashboards._screening_page import _rows
from psychanalytics.mart import screening as ms
from psychanalytics.privacy import PROTECTED_MARKER, small_marker
from psychanalytics.store.queries import screening as sq

MIN_CELL = 10
SCREENING_TABLES = sorted(name for name in mart.TABLES if name.startswith("screening_"))


def _numbers(values) -> list[float]:
    """A trace's values as floats, missing ones left out (plotly sends numpy arrays as typed base64)."""
    if isinstance(values, dict):
        values = np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).tolist()
    return [float(v) for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]


@pytest.fixture(scope="module")
def small_district(tmp_path_factory):
    """The smallest synthetic district (500 students a year): many PHQ-9 cells under 10."""
    folder = tmp_path_factory.mktemp("screening-small")
    engine = store.connect(folder / "small.sqlite")
    synth.build_demo(engine, seed=3, students=synth.MIN_STUDENTS)
    engine.dispose()
    mart.publish(folder / "small.sqlite", folder / "mart.sqlite", min_cell=MIN_CELL)
    return folder / "small.sqlite", folder / "mart.sqlite"


# --- mart tables ---------------------------------------------------------------------------


def test_every_screening_table_keeps_the_policy(small_district):
    _, path = small_district
    published = mart.Mart(path)
    hidden = 0
    for name in SCREENING_TABLES:
        frame = published.table(name)
        assert (frame["count"].dropna() >= MIN_CELL).all(), name
        assert (frame["n"].dropna() >= MIN_CELL).all(), name
        blanked = frame["count"].isna() | frame["n"].isna()
        assert frame.loc[blanked, "marker"].isin([small_marker(MIN_CELL), PROTECTED_MARKER]).all(), name
        for estimate in ("proportion", "low", "high", *ms.LIMITS, "outlier"):
            if estimate in frame:  # an estimate is never shown beside a blanked count
                assert frame.loc[frame["count"].isna(), estimate].isna().all(), (name, estimate)
        by = mart.TABLES[name].policy.get("by")
        if by:
            for key, group in frame.groupby(list(by), dropna=False):
                blanks = group["count"].isna()
                if group["n"].notna().all() and blanks.any():
                    assert blanks.sum() >= 2, (name, key)
                    assert group["n"].iloc[0] - group.loc[~blanks, "count"].sum() >= MIN_CELL, (name, key)
        hidden += int(blanked.sum())
    assert hidden > 0  # the small district has small cells: the check saw suppression at work
    published.close()


FAMILIES = {
    "bands": (("screening_bands", "screening_grade_bands", "screening_gender_bands"), ("band",)),
    "positive": (("screening_positive",), ("result",)),
    "screened": (("screening_coverage",), ()),
    "invalid": (("screening_invalid",), ()),
}
SPLITS = ("stage", "location", "grade", "gender")


def _determined(frames: list[pd.DataFrame], inner: tuple[str, ...]) -> list[tuple]:
    """The hidden cells an attacker can solve for exactly from every sum among ``frames`` (linear algebra).

    Unknowns: the hidden counts. Equations: each total (a row lacking a split column) is the sum of the rows
    of the finer tables that agree with it on everything else; each group's shown ``n`` is the sum of its
    cells. A hidden cell is determined when its unit vector lies in the row space of the equations.
    """
    known = [
        f.assign(**{c: f[c].astype(object).where(f[c].notna(), "?") for c in SPLITS if c in f})
        for f in frames
    ]
    rows = pd.concat(known, ignore_index=True)  # an unknown grade is a group ("?"); an absent column a total
    rows[[c for c in SPLITS if c not in rows]] = np.nan
    splits = [c for c in SPLITS if c in rows.columns]
    labels = (
        rows[["wave_id", *splits, *inner]].astype(object).where(rows[["wave_id", *splits, *inner]].notna())
    )
    present = [tuple(c for c in splits if pd.notna(r[c])) for _, r in labels.iterrows()]
    hidden = rows.index[rows["count"].isna()].tolist()
    if not hidden:
        return []
    column = {row: i for i, row in enumerate(hidden)}
    equations = []
    keyed = {}
    for i in rows.index:
        keyed.setdefault(present[i], []).append(i)
    for fine, fine_rows in keyed.items():
        for coarse, coarse_rows in keyed.items():
            if not set(coarse) < set(fine):
                continue
            on = ["wave_id", *coarse, *inner]
            inside = {}
            for f in fine_rows:
                inside.setdefault(tuple(labels.loc[f, on]), []).append(f)
            for c in coarse_rows:
                parts = inside.get(tuple(labels.loc[c, on]))
                if parts:
                    equations.append({c: -1, **{f: 1 for f in parts}})
    if inner:
        for _, group in rows.groupby(
            [rows["n"].astype(str), *[labels[k].astype(str) for k in ("wave_id", *splits)]]
        ):
            if group["n"].notna().all():
                equations.append({i: 1 for i in group.index})
    matrix = np.array([[eq.get(h, 0) for h in hidden] for eq in equations if any(h in eq for h in hidden)])
    if not len(matrix):
        return []
    rank = np.linalg.matrix_rank(matrix)
    found = []
    for h, j in column.items():
        unit = np.zeros(len(hidden))
        unit[j] = 1
        if np.linalg.matrix_rank(np.vstack([matrix, unit])) == rank:
            found.append(tuple(labels.loc[h].dropna()))
    return found


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_no_hidden_cell_can_be_solved_from_the_published_sums(family, demo_mart, small_district):
    """Across the four levels (and grade, gender) of one population, every hidden count stays unknown: the
    district's invalid sheets minus the urban ones once gave the township's 7; 58 severe minus junior and
    senior urban ones gave the township's 6."""
    names, inner = FAMILIES[family]
    for path in (demo_mart, small_district[1]):
        published = mart.Mart(path)
        for wave in published.table(names[0])["wave_id"].unique():
            frames = []
            for name in names:
                for suffix in ms.LEVELS:
                    if name + suffix in mart.TABLES:
                        frame = published.table(name + suffix)
                        frames.append(frame[frame["wave_id"] == wave])
            assert _determined(frames, inner) == [], (family, path.parent.name, wave)
        published.close()


def test_screened_valid_and_invalid_never_leave_one_unknown(small_district, demo_mart):
    """Students screened = valid sheets (the bands' n) + invalid sheets: with the other two shown, a hidden
    one is their sum or difference. The three are cells of one universe, so the linked pass sees the sum."""
    checked = 0
    for path in (demo_mart, small_district[1]):
        published = mart.Mart(path)
        for suffix, level in ms.LEVELS.items():
            keys = ["wave_id", *level]
            screened = published.table("screening_coverage" + suffix).set_index(keys)["count"]
            invalid = published.table("screening_invalid" + suffix).set_index(keys)["count"]
            valid = published.table("screening_bands" + suffix).groupby(keys)["n"].first()
            hidden = pd.concat([screened, valid, invalid], axis=1).reindex(screened.index).isna().sum(axis=1)
            assert not (hidden == 1).any(), (path, suffix, hidden[hidden == 1])
            checked += int(invalid.isna().sum())
        published.close()
    assert checked > 0


def test_each_level_table_has_one_set_of_dimensions(demo_mart):
    published = mart.Mart(demo_mart)
    for suffix, level in ms.LEVELS.items():
        frame = published.table(f"screening_bands{suffix}")
        assert [c for c in ms.SLICE if c in frame.columns] == list(level)
        if level:
            assert not frame[list(level)].isin([ms.SLICE_ALL]).any().any()
    published.close()


def test_screen_positive_rate_matches_the_store(demo_db, demo_mart):
    engine = store.connect_existing(demo_db, read_only=True)
    counts = sq.screen_positive_counts(engine, instrument="phq9", by=("wave", "school"))
    coverage = sq.coverage_counts(engine, instrument="phq9", by=("wave",))
    engine.dispose()
    latest = sorted(counts["wave"].unique())[-1]
    expected = screening.prevalence(
        counts[counts["wave"] == latest].fillna({"school": "?"}), by=(), cluster="school"
    ).iloc[0]
    published = mart.Mart(demo_mart)
    positive = published.table("screening_positive")
    row = positive[(positive["wave_id"] == latest) & (positive["result"] == "positive")].iloc[0]
    assert (int(row["count"]), int(row["n"])) == (int(expected["count"]), int(expected["n"]))
    assert row["low"] == pytest.approx(expected["low"]) and row["high"] == pytest.approx(expected["high"])
    cover = published.table("screening_coverage")
    cover = cover[cover["wave_id"] == latest].iloc[0]
    truth = coverage[coverage["wave"] == latest].iloc[0]
    assert (int(cover["count"]), int(cover["n"])) == (int(truth["screened"]), int(truth["enrolled"]))
    invalid = published.table("screening_invalid")
    assert int(invalid.loc[invalid["wave_id"] == latest, "count"].iloc[0]) == int(truth["invalid"])
    published.close()


def test_funnel_table_is_the_library_funnel(demo_db, demo_mart):
    engine = store.connect_existing(demo_db, read_only=True)
    counts = sq.screen_positive_counts(engine, instrument="phq9", by=("wave", "school"))
    engine.dispose()
    latest = sorted(counts["wave"].unique())[-1]
    schools = counts[(counts["wave"] == latest) & (counts["n"] > 0)].dropna(subset=["school"])
    result = screening.funnel(schools, numerator="count", denominator="n", overdispersion=len(schools) >= 3)
    published = mart.Mart(demo_mart)
    funnel = published.table("screening_funnel")
    funnel = funnel[funnel["wave_id"] == latest].set_index("school")
    compared = 0
    for _, row in result.table.iterrows():
        shown = funnel.loc[row["school"]]
        if pd.isna(shown["count"]):  # hidden (its own policy or the mart's linked pass): no rate, no position
            assert pd.isna(shown["proportion"]) and pd.isna(shown["outlier"])
            continue
        assert shown["proportion"] == pytest.approx(row["value"])
        assert shown["ul998"] == pytest.approx(row["ul998"])
        assert shown["outlier"] == ms.OUTLIER[row["position"]]
        compared += 1
    assert compared > 0
    district = published.table("screening_funnel_district")
    assert district.loc[district["wave_id"] == latest, "proportion"].iloc[0] == pytest.approx(result.target)
    published.close()


# --- the page -------------------------------------------------------------------------------


def test_page_on_the_demo_mart(demo_mart):
    page = build_screening(demo_mart)
    assert isinstance(page, LeaderPage)
    text = _html(page)
    assert "心理普测" in text and "演示数据" in text
    for label in (
        "PHQ-9 筛查阳性率",
        "受测覆盖率",
        "无效问卷",
        "怎么看",
        "漏斗图",
        "不是患病率",
        "20–27 重度",
    ):
        assert label in text
    assert [f.description for f in page.filters] == ["普测批次", "学段", "城乡"]
    figures = _figures(page)
    assert len(figures) == 6
    for figure in figures:
        assert any(_numbers(trace.get("y", [])) for trace in figure["data"]), figure["layout"]["title"]


def _allowed(page) -> set[float]:
    """Every number the page's views let it draw: counts, and shares as percentages."""
    allowed = set()
    for frame in page.views.values():
        for column in ("count", "n", "proportion", "low", "high"):
            if column in frame:
                scale = 100 if column in ("proportion", "low", "high") else 1
                allowed |= {round(float(v) * scale, 6) for v in frame[column].dropna()}
    return allowed


def _check_drawn(page) -> int:
    """Every plotted value comes from the views; limit curves come from the published centre line."""
    allowed, checked = _allowed(page), 0
    district = page.views["screening_funnel_district"]["proportion"]
    centre = {round(float(v) * 100, 6) for v in district.dropna()}
    for figure in _figures(page):
        for trace in figure["data"]:
            name = trace.get("name") or ""
            if "控制限" in name:
                continue  # curves of the limits over a grid of school sizes, from the published centre line
            values = _numbers(trace.get("y", []))
            target = centre if re.fullmatch(r"全区 [\d.]+%", name) else allowed  # the funnel's centre line
            for value in values:
                assert round(value, 6) in target, (name, value)
                checked += 1
            if trace.get("mode") == "markers+text":  # a school: drawn at its published number screened
                assert set(_numbers(trace["x"])) <= {
                    float(v) for v in page.views["screening_funnel"]["n"].dropna()
                }
    return checked


def test_every_drawn_number_is_published(demo_mart, small_district):
    # the demo district draws many numbers; the 500-student district, where the linked pass hides most
    # of each wave, still some (33 at min_cell 10): either way the check saw the page's numbers
    for path, at_least in ((demo_mart, 50), (small_district[1], 20)):
        page = build_screening(path)
        assert _check_drawn(page) > at_least
        for stage in [v for _, v in page.filters[1].options][1:]:
            page.filters[1].value = stage
            assert _check_drawn(page) > 0


def test_small_schools_are_not_drawn(small_district):
    page = build_screening(small_district[1])
    funnel = page.views["screening_funnel"]
    hidden = funnel[funnel["count"].isna()]
    assert len(hidden), "the small district has schools with fewer than 10 screen-positive students"
    assert hidden[["proportion", "outlier"]].isna().all().all()
    names = set(hidden["school_name"])
    for wave in [v for _, v in page.filters[0].options]:
        page.filters[0].value = wave
        figure = _figures(page)[3]
        drawn = {t for trace in figure["data"] if trace.get("mode") == "markers+text" for t in trace["text"]}
        shown = funnel[(funnel["wave_id"] == wave) & funnel["count"].notna()]
        assert drawn == set(shown["school_name"])
        assert not drawn & (names - set(shown["school_name"]))


def test_filters_redraw_the_charts(demo_mart):
    page = build_screening(demo_mart)
    before = _figures(page)
    stage = [v for _, v in page.filters[1].options if v != ms.SLICE_ALL][0]
    page.filters[1].value = stage
    after = _figures(page)
    assert after[0]["data"] != before[0]["data"]  # the bands per wave of that stage only
    assert "全区" not in after[0]["layout"]["title"]["text"]
    page.filters[1].value = ms.SLICE_ALL
    page.filters[2].value = "township"
    assert _figures(page)[3]["data"] != before[3]["data"]  # the funnel keeps the township schools only
    waves = [v for _, v in page.filters[0].options]
    page.filters[0].value = waves[-1]
    assert _figures(page)[2]["layout"]["title"]["text"].startswith(vs_wave(waves[-1]))


def vs_wave(wave: str) -> str:
    from psychanalytics.viz import screening as vs

    return vs.group_name("wave", wave)


def test_empty_store_says_no_data(sqlite_engine, tmp_path):
    mart.publish(sqlite_engine, tmp_path / "mart.sqlite")
    page = build_screening(tmp_path / "mart.sqlite")
    text = _html(page)
    assert "心理普测" in text and "暂无数据" in text and "暂时无法读取数据" not in text
    figures = _figures(page)
    assert len(figures) == 6
    for figure in figures:
        notes = [a["text"] for a in figure["layout"].get("annotations", [])]
        assert any("暂无数据" in note for note in notes)


def test_a_mart_published_before_the_page_gives_the_unavailable_page(sqlite_engine, tmp_path):
    path = tmp_path / "old.sqlite"
    mart.publish(sqlite_engine, path)
    engine = store.connect(f"sqlite:///{path}")
    with engine.begin() as conn:  # as a mart published before the screening tables were registered
        listed = [name for name in mart.Mart(path).manifest["tables"] if not name.startswith("screening_")]
        conn.exec_driver_sql("UPDATE mart_manifest SET value = ? WHERE key = 'tables'", (json.dumps(listed),))
    engine.dispose()
    text = _html(build_screening(path))
    assert "暂时无法读取数据" in text and "Traceback" not in text and "screening_" not in text


def test_views_are_the_mart_tables_and_rows_are_chosen_not_summed(demo_mart):
    page = build_screening(demo_mart)
    assert set(page.views) == set(SCREENING_TABLES)
    rows = _rows(dict(page.views))["bands"]
    assert set(rows["stage"]) >= {ms.SLICE_ALL} and set(rows["location"]) >= {ms.SLICE_ALL, "urban"}
    # one published row per wave, slice and band: the page never needs to add cells up
    assert not rows.duplicated(["wave_id", "stage", "location", "band"]).any()
    assert len(rows) == sum(len(page.views[t.name]) for t in ms.BANDS.values())
