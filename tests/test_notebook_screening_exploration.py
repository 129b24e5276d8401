"""notebooks/03_screening_exploration runs top to bottom on the demo district and says 筛查阳性率, never 患病率."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import papermill
import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "03_screening_exploration.ipynb"
PLOTLY = "application/vnd.plotly.v1+json"
WIDGET = "application/vnd.jupyter.widget-view+json"


@pytest.mark.notebook
@pytest.mark.slow
def test_screening_notebook_runs_on_the_demo_district(demo_db, tmp_path):
    db = tmp_path / "demo.sqlite"
    shutil.copy(demo_db, db)
    out = tmp_path / "03_screening_exploration.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK), str(out), parameters={"db": str(db), "min_cell": 10}, kernel_name="python3",
        cwd=str(tmp_path), progress_bar=False,
    )  # fmt: skip
    executed = nbformat.read(out, as_version=4)
    outputs = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any(WIDGET in o.get("data", {}) for o in outputs)  # the explorer's widgets
    figures = [o.data[PLOTLY] for o in outputs if PLOTLY in o.get("data", {})]
    titles = [f["layout"]["title"]["text"] for f in figures]
    assert len(figures) == 6, titles
    assert "学校漏斗图" in titles[0] and "风险等级占比" in titles[2] and "变化趋势" in titles[3]
    assert "风险等级转移" in titles[4] and "后续跟进" in titles[5]
    for funnel in figures[:2]:
        assert {t["name"] for t in funnel["data"]} >= {"99.8% 控制限", "95% 控制限", "在控制限内"}
    # the case-mix funnel is centred on a ratio of 1, not on the district's rate
    centre = next(
        t
        for t in figures[1]["data"]
        if t["name"] not in {"99.8% 控制限", "95% 控制限"} and t.get("mode") == "lines"
    )
    assert set(centre["y"]) == {1.0}, titles[1]
    text = "".join(o.get("text", "") for o in outputs)
    assert "演示数据" in text and "筛查阳性 / screen-positive: PHQ-9 抑郁总分 ≥10" in text
    assert "标量等值" in text  # the comparison states its invariance before (or instead of) a difference
    assert "筛查阳性率由" in text  # the trend's sentences
    shown = str(figures) + text
    assert "患病率" not in str(
        figures
    )  # figures say 筛查阳性率; only the labelled research estimate says 估计患病率
    assert "估计患病率（据筛查结果推算的估计值，不是筛查阳性率）" in shown
