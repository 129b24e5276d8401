"""notebooks/01_district_overview runs top to bottom on the demo district (file hygiene: test_notebook_files)."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import papermill
import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "01_district_overview.ipynb"
PLOTLY = "application/vnd.plotly.v1+json"


@pytest.mark.notebook
@pytest.mark.slow
def test_notebook_runs_on_the_demo_district(demo_db, tmp_path):
    db = tmp_path / "demo.sqlite"
    shutil.copy(demo_db, db)
    out = tmp_path / "01_district_overview.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(out),
        parameters={"db": str(db), "min_cell": 10},
        kernel_name="python3",
        cwd=str(tmp_path),
    )
    executed = nbformat.read(out, as_version=4)
    outputs = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    figures = [o.data[PLOTLY] for o in outputs if PLOTLY in o.get("data", {})]
    assert len(figures) == 4
    by_grade = figures[2]
    assert {t["name"] for t in by_grade["data"]} == {"无或极轻微", "轻度", "中度", "中重度", "重度"}
    assert any(v is not None for t in by_grade["data"] for v in t["y"])
    # the finest table has blanks, each labelled with the policy's marker
    labels = [label for t in by_grade["data"] for label in t["text"]]
    assert "<10" in labels and all(label in ("<10", "*") or label.endswith("%") for label in labels)
    text = "".join(o.get("text", "") for o in outputs)
    assert "演示数据" in text
    assert "PHQ-9 风险等级：0–4 无或极轻微、5–9 轻度、10–14 中度、15–19 中重度、20–27 重度" in text
    tables = "".join(o.get("data", {}).get("text/html", "") for o in outputs)
    assert "suppressed" in tables and "marker" in tables
