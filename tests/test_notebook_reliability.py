"""Execute notebooks/02_psychometrics_reliability.ipynb top to bottom on the demo district and check what it computed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

papermill = pytest.importorskip("papermill")

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "02_psychometrics_reliability.ipynb"


@pytest.mark.notebook
@pytest.mark.slow
def test_reliability_notebook_runs_on_demo_db(demo_db, tmp_path):
    out = tmp_path / "reliability.out.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK), str(out), parameters={"db": str(demo_db)}, kernel_name="python3", progress_bar=False
    )
    cells = json.loads(out.read_text(encoding="utf-8"))["cells"]
    errors = [o for c in cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    (summary_cell,) = [c for c in cells if "summary" in c.get("metadata", {}).get("tags", [])]
    text = "".join(
        o["text"] if isinstance(o["text"], str) else "".join(o["text"])
        for o in summary_cell["outputs"]
        if o.get("output_type") == "stream"
    )
    summary = json.loads(text)
    phq9 = {key: value for key, value in summary["alpha"].items() if key.startswith("phq9/total/")}
    assert len(phq9) >= 2
    assert all(0.7 < value < 0.99 for value in phq9.values())
    assert summary["norm_rows"] > 0
    assert summary["invariance_gender_df"] == [54, 62, 70]
