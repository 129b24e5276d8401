"""notebooks/07_crisis_pathway runs top to bottom on the demo district (file hygiene: test_notebook_files)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest

from psychanalytics import crisis, synth

papermill = pytest.importorskip("papermill")

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "07_crisis_pathway.ipynb"
PLOTLY = "application/vnd.plotly.v1+json"


@pytest.mark.notebook
@pytest.mark.slow
def test_crisis_notebook_runs_on_the_demo_district(demo_db, tmp_path, planted_crisis_problems):
    db = tmp_path / "demo.sqlite"
    shutil.copy(demo_db, db)
    out = tmp_path / "07_crisis_pathway.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK), str(out), parameters={"db": str(db), "min_cell": 10}, kernel_name="python3",
        cwd=str(tmp_path), progress_bar=False,
    )  # fmt: skip
    executed = nbformat.read(out, as_version=4)
    outputs = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    figures = [o.data[PLOTLY] for o in outputs if PLOTLY in o.get("data", {})]
    assert len(figures) == 5  # funnel, ageing, curves, curves by severity, archive coverage
    (summary_cell,) = [c for c in executed.cells if "summary" in c.get("metadata", {}).get("tags", [])]
    summary = json.loads("".join(o["text"] for o in summary_cell.outputs if o.output_type == "stream"))
    planted = planted_crisis_problems["problem"].value_counts().to_dict()
    assert {k: v for k, v in summary["problems"].items() if v} == planted
    assert [row["crisis_stage"] for row in summary["funnel"]] == list(crisis.PATHWAY)
    assert 2.0 < summary["median_raised_confirmed"] < 3.5  # planted: 2.7 days
    assert summary["coverage"] == sorted(summary["coverage"]) and summary["coverage"][-1] > 0.98
    assert summary["school_cases"] > 0
    assert str(synth.SNAPSHOT.year) in summary["as_of"]
