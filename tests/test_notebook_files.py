"""Every notebook and dashboard is thin, stripped and paired with its py:percent script.

Reviewers read the ``.py``; the ``.ipynb`` must hold the same cells, no outputs,
a ``parameters`` cell first, and no function or class definitions (what is worth
keeping belongs in the library).
"""

from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted([*ROOT.glob("notebooks/*.ipynb"), *ROOT.glob("dashboards/*.ipynb")])
REPORTS = sorted(ROOT.glob("psychanalytics/reports/*.ipynb"))
"""Report notebooks ship inside the package, paired with markdown (a .py there would be imported as a module)."""


def test_there_are_notebooks_and_dashboards():
    folders = {path.parent.name for path in NOTEBOOKS}
    assert folders == {"notebooks", "dashboards"}
    assert [p.name for p in REPORTS] == ["annual_report.ipynb"]


@pytest.mark.parametrize("path", [*NOTEBOOKS, *REPORTS], ids=lambda p: f"{p.parent.name}/{p.name}")
def test_notebook_is_thin_stripped_and_paired(path):
    notebook = nbformat.read(path, as_version=4)
    paired = jupytext.read(path.with_suffix(".md" if path in REPORTS else ".py"))
    assert [c.source for c in notebook.cells] == [c.source for c in paired.cells], "run `jupytext --sync`"
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert code[0].metadata.get("tags") == ["parameters"]
    assert all(not c.outputs and c.execution_count is None for c in code), "outputs must be stripped"
    definitions = [
        line for c in code for line in c.source.splitlines() if line.lstrip().startswith(("def ", "class "))
    ]
    assert definitions == []
