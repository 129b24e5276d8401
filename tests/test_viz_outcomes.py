"""Figures of intervention outcomes draw what the report computed, and nothing else."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from psychanalytics import instruments, reports, viz

PROGRAMME = ("kind", "title", "school_year")


@pytest.fixture(scope="module")
def demo(demo_read_only) -> sa.Engine:
    return demo_read_only


@pytest.fixture(scope="module")
def report(demo_outcomes):
    return demo_outcomes


def _students(report, intervention_id: str) -> pd.DataFrame:
    scales = report.table.set_index("intervention_id")[["instrument", "scale"]]
    students = report.students.join(scales, on="intervention_id")
    return students[students["intervention_id"] == intervention_id]


def test_slopes_draw_every_student_and_the_arm_means_of_the_table(report):
    row = report.table.set_index("intervention_id").loc["GC202301"]
    students = _students(report, "GC202301")
    fig = viz.prepost_slopes(students, row)
    means = {trace.name: trace.y for trace in fig.data if trace.name.endswith("均值 mean")}
    assert means == {
        "干预组均值 mean": (row["pre_mean_treatment"], row["post_mean_treatment"]),
        "对照组均值 mean": (row["pre_mean_comparison"], row["post_mean_comparison"]),
    }
    lines = [trace for trace in fig.data if trace.showlegend is False]
    drawn = sum(sum(y is not None for y in trace.y) for trace in lines) // 2
    assert drawn == len(students)  # one pre-post line per student
    assert fig.layout.xaxis.title.text.startswith("<b>干预组</b> treatment（n = ")
    assert "PHQ-9 抑郁总分（越低越好）" in fig.layout.yaxis.title.text


def test_the_rci_scatter_draws_the_band_the_report_used_and_each_category(report):
    row = report.table.set_index("intervention_id").loc["GC202301"]
    students = _students(report, "GC202301")
    fig = viz.rci_scatter(students, rci_points=row["rci_points"], cutoff=10)
    diagonal, below, above, *cutoff = fig.layout.shapes
    assert (diagonal.y0 - diagonal.x0, below.y0 - below.x0, above.y0 - above.x0) == pytest.approx(
        (0, -row["rci_points"], row["rci_points"])
    )
    assert (diagonal.x1, diagonal.y1) == (27, 27)  # PHQ-9's range, from its spec
    assert [(shape.x0, shape.y0) for shape in cutoff] == [(10, 0), (0, 10)]
    points = sum(len(trace.x) for trace in fig.data)
    assert points == len(students)
    assert {trace.name for trace in fig.data} >= {"干预组 · 无可靠变化"}
    assert f"前后相差不到 {row['rci_points']:.1f} 分" in fig.layout.annotations[-1].text


def test_the_forest_has_a_row_per_intervention_with_its_interval_and_pools_apart(report, demo):
    pooled = reports.intervention_outcomes(demo, kinds=("curriculum",), by=PROGRAMME).table
    table = pd.concat(
        [
            report.table.assign(label=report.table["intervention_id"], pooled=False),
            pooled.assign(label="七彩积极品格课程 合计", pooled=True),
        ],
        ignore_index=True,
    )
    fig = viz.effect_forest(table, summary="pooled")
    shown = {y: (x, trace) for trace in fig.data for x, y in zip(trace.x, trace.y, strict=True)}
    assert set(shown) == set(table["label"])
    for row in table.itertuples():
        x, trace = shown[row.label]
        assert x == pytest.approx(row.d)
        if pd.notna(row.d_low):
            i = list(trace.y).index(row.label)
            assert trace.error_x.arrayminus[i] == pytest.approx(row.d - row.d_low)
            assert trace.error_x.array[i] == pytest.approx(row.d_high - row.d)
        else:
            assert trace.error_x.array is None and "无区间" in trace.name
    (diamond,) = [trace for trace in fig.data if trace.marker.symbol == "diamond"]
    assert diamond.y == ("七彩积极品格课程 合计",)
    order = list(fig.layout.yaxis.categoryarray)[::-1]
    # the pooled row comes right after its kind's rows
    assert order.index("七彩积极品格课程 合计") == 1 + max(
        order.index(i) for i in table["label"] if i.startswith("CU")
    )
    assert "← 有利于干预组" in fig.layout.annotations[0].text


def test_figures_refuse_two_scales_and_say_when_empty(report):
    students = report.students.join(
        report.table.set_index("intervention_id")[["instrument", "scale"]], on="intervention_id"
    )
    assert set(students["instrument"]) > {"phq9"}
    with pytest.raises(ValueError, match="one instrument scale per figure"):
        viz.rci_scatter(students, rci_points=5)
    with pytest.raises(KeyError, match=r"lacks column\(s\) \['category'\]"):
        viz.rci_scatter(students.drop(columns="category"), rci_points=5)
    empty = viz.effect_forest(report.table.iloc[:0].assign(label=""))
    assert "暂无数据" in empty.layout.annotations[0].text


def test_scale_names_come_from_the_specs():
    spec = instruments.get("mht")
    assert viz.outcomes.score_title("mht", "total").startswith(
        f"{spec.abbreviation} {spec.scale('total').name_zh}"
    )
    assert "越高越好" in viz.outcomes.score_title("mht", "total", better="higher")
