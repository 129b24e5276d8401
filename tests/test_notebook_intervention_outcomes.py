"""notebooks/04_intervention_outcomes runs top to bottom on the demo district and answers in a researcher's terms."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import openpyxl
import papermill
import pytest

from psychanalytics import store, synth

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "04_intervention_outcomes.ipynb"
PLOTLY = "application/vnd.plotly.v1+json"


@pytest.mark.notebook
@pytest.mark.slow
def test_notebook_evaluates_group_counselling_and_the_curriculum(demo_db, tmp_path):
    out, workbook = tmp_path / "outcomes.ipynb", tmp_path / "outcomes.xlsx"
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(out),
        parameters={"db": str(demo_db), "xlsx": str(workbook)},
        kernel_name="python3",
        cwd=str(tmp_path),
        progress_bar=False,
    )
    executed = nbformat.read(out, as_version=4)
    outputs = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    figures = [o.data[PLOTLY] for o in outputs if PLOTLY in o.get("data", {})]
    assert len(figures) == 6  # two forests, two slope charts, two reliable change scatters
    text = "".join(o.get("text", "") for o in outputs)
    # the answer in a results section's words, Chinese first
    assert "七彩积极品格培养心育特色课程（" in text and "控制前测的协方差分析" in text and "班级 ICC" in text
    assert "ANCOVA adjusting for the pre-test" in text and "random-effects d = " in text
    assert "区间覆盖真值 / intervals covering the truth" in text
    (summary_cell,) = [c for c in executed.cells if "summary" in c.get("metadata", {}).get("tags", [])]
    summary = json.loads("".join(o["text"] for o in summary_cell.outputs if o.output_type == "stream"))
    engine = store.connect_existing(demo_db, read_only=True)
    truth = synth.planted_effects(engine)
    engine.dispose()
    assert summary["interventions"] == len(truth)
    assert summary["kinds"] == ["curriculum", "group_counselling"]
    assert summary["curriculum_unit"] == "class"
    planted = truth.loc[truth["kind"] == "curriculum", "effect_d"].iloc[0]
    low, high = summary["curriculum_d"][1:]
    assert low <= -planted <= high
    assert all("Cronbach α" in basis and "普测 / wave" in basis for basis in summary["reliability_basis"])
    # matched DiD: the matched covariates balance better after matching; the estimate recovers the truth
    before, after = summary["balance_before"], summary["balance_after"]
    matched_on = [i for i, name in enumerate(summary["balance_covariates"]) if not name.startswith("grade/")]
    assert summary["balance_covariates"][0].startswith("pre/")
    assert after[0] < before[0] and after[0] < 0.1
    assert max(after[i] for i in matched_on) < max(before[i] for i in matched_on)
    effect = truth.loc[truth["kind"] == "curriculum", "effect_points"].iloc[0]
    did, did_low, did_high = summary["did"]
    assert did < 0 and did_low <= effect <= did_high
    assert summary["did_clusters"] >= 2
    assert "双重差分" in text and "Difference-in-differences: participants changed" in text
    # for whom: each subgroup's effect with its interval, the interaction test and the warning
    assert set(summary["subgroups"]) == {"gender", "grade"}
    for by, found in summary["subgroups"].items():
        assert len(found["levels"]) >= 2 and 0 <= found["interaction_p"] <= 1, by
        for difference, low, high in found["intervals"]:
            assert low < difference < high
    assert "交互作用 F(" in text and "interaction F(" in text
    notes = "".join(c.source for c in executed.cells if c.cell_type == "markdown")
    assert "多重比较" in notes and "Multiple comparisons" in notes
    sheet = openpyxl.load_workbook(workbook).worksheets[0]
    assert sheet.cell(1, 1).value == "项目编号" and sheet.cell(2, 1).value == "intervention"
    assert sheet.max_row == 2 + summary["interventions"]
