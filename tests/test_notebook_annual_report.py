"""notebooks/08_annual_report renders the package's annual report on the demo district and previews it."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import papermill
import pytest

from psychanalytics import reports

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "08_annual_report.ipynb"


@pytest.mark.notebook
@pytest.mark.slow
def test_annual_report_notebook_renders_the_report_of_the_year(demo_db, tmp_path):
    db = tmp_path / "demo.sqlite"
    shutil.copy(demo_db, db)
    out = tmp_path / "08_annual_report.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK), str(out), parameters={"db": str(db), "school_year": "2024-2025"},
        kernel_name="python3", cwd=str(tmp_path), progress_bar=False,
    )  # fmt: skip
    outputs = [o for c in nbformat.read(out, as_version=4).cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs)
    assert all(section in text for section in reports.SECTIONS)
    report = (tmp_path / "annual_report.html").read_text(encoding="utf-8")
    assert "（2024-2025学年）" in report and "二、目标达成情况" in report
    assert '<script src="http' not in report  # opens offline: plotly.js inline
    previews = [o for o in outputs if "text/html" in o.get("data", {}) and "<iframe" in o.data["text/html"]]
    assert len(previews) == 1 and 'src="annual_report.html"' in previews[0].data["text/html"]
