"""notebooks/05_staffing_facilities and 06_plan_progress run top to bottom on the demo district."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import papermill
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
PLOTLY = "application/vnd.plotly.v1+json"


def _run(name, demo_db, tmp_path, **parameters):
    db = tmp_path / "demo.sqlite"
    shutil.copy(demo_db, db)
    out = tmp_path / name
    papermill.execute_notebook(
        str(NOTEBOOKS / name), str(out), parameters={"db": str(db), **parameters}, kernel_name="python3",
        cwd=str(tmp_path), progress_bar=False,
    )  # fmt: skip
    outputs = [o for c in nbformat.read(out, as_version=4).cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs)
    tables = "".join(o.get("data", {}).get("text/html", "") for o in outputs)
    figures = [o.data[PLOTLY] for o in outputs if PLOTLY in o.get("data", {})]
    return text, tables, figures


@pytest.mark.notebook
@pytest.mark.slow
def test_staffing_and_facilities_notebook(demo_db, tmp_path):
    text, tables, figures = _run(
        "05_staffing_facilities.ipynb",
        demo_db,
        tmp_path,
        standards=["zhonglou_2024", "national_2023", "ratio_1000"],
    )
    assert "演示数据" in text and "区计划：每校至少1名专职（2024年）: 目前缺 1 名" in text
    assert len(figures) == 3  # gap bars, the projection, the room matrix
    gap_bars = figures[0]["data"][0]
    assert list(gap_bars["y"]) == [
        "师生比 1:1000（专职，如福州）",
        "国家专项行动：每校至少1名专（兼）职，2025年95%",
        "区计划：每校至少1名专职（2024年）",
    ]
    assert {t.get("name") for t in figures[1]["data"]} >= {"实际", "按当前进度预测"}
    assert "改革建议 1:800（专职）" in tables and "proposal_800" in tables
    assert "心理信箱" in tables or "团体活动室" in tables  # what a room lacks, in words


@pytest.mark.notebook
@pytest.mark.slow
def test_plan_progress_notebook(demo_db, tmp_path):
    text, tables, _ = _run("06_plan_progress.ipynb", demo_db, tmp_path, school="SYN003")
    assert "演示数据" in text and "✓ 已达成 met" in text
    assert "每校配备专职心理教师" in tables and "未达成" in tables
    assert "组织机构到位" in tables and "心理教师专岗专用" in tables
    assert "无专职心理教师" in tables  # SYN003 is the demo's school without a full-time teacher
