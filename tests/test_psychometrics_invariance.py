"""Multi-group CFA invariance against lavaan's published HolzingerSwineford1939 results and semopy."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import semopy
from semopy.examples import holzinger39

from psychanalytics import psychometrics as pm

REF = json.loads(
    (Path(__file__).parent / "reference" / "psychometrics" / "lavaan_holzinger.json").read_text()
)
MODEL = REF["source"]["model"]


@pytest.fixture(scope="module")
def holzinger() -> pd.DataFrame:
    return holzinger39.get_data()


@pytest.fixture(scope="module")
def by_school(holzinger):
    return pm.measurement_invariance(holzinger, holzinger["school"], model=MODEL)


def _as_printed(value: float, printed: str) -> str:
    """``value`` rounded to as many decimals as ``printed`` shows."""
    return f"{value:.{len(printed.split('.')[1])}f}"


@pytest.mark.parametrize("level", ["configural", "metric", "scalar"])
def test_invariance_matches_lavaan_and_semtools_printed_output(by_school, level):
    """lavaan/semTools output quoted verbatim in the reference file, compared to the decimals printed."""
    published = REF["invariance_by_school"][level]
    row = by_school.table.loc[level]
    ours = {
        "chisq": row["chisq"],
        "cfi": row["cfi"],
        "rmsea": row["rmsea"],
        "delta_chisq": row["delta_chisq"],
        "abs_delta_cfi": abs(row["delta_cfi"]),  # semTools prints absolute differences
        "abs_delta_rmsea": abs(row["delta_rmsea"]),
    }
    assert row["df"] == published["df"]
    for name, printed in published.items():
        if name != "df":
            assert _as_printed(ours[name], printed) == printed, name


def test_configural_equals_sum_of_separate_semopy_fits(holzinger, by_school):
    total = 0.0
    for school in by_school.groups.index:
        model = semopy.Model(MODEL)
        model.fit(holzinger[holzinger["school"] == school])
        total += semopy.calc_stats(model)["chi2"].iloc[0]
    assert by_school.table.at["configural", "chisq"] == pytest.approx(total, abs=1e-3)


def test_single_group_cfa_matches_lavaan_tutorial(holzinger):
    # The public API needs two groups. Two identical copies of the sample give a configural model
    # whose chi-square and df are exactly twice those of the single-group CFA, with the same CFI/TLI.
    doubled = pd.concat([holzinger, holzinger], ignore_index=True)
    groups = np.repeat(["a", "b"], len(holzinger))
    res = pm.measurement_invariance(doubled, groups, model=MODEL)
    cfa = REF["cfa"]
    row = res.table.loc["configural"]
    assert row["df"] == 2 * cfa["df"]
    assert row["chisq"] / 2 == pytest.approx(cfa["chisq"], abs=0.001)
    assert row["cfi"] == pytest.approx(cfa["cfi"], abs=0.0005)
    assert row["tli"] == pytest.approx(cfa["tli"], abs=0.0005)
    # lavaan's multi-group RMSEA carries sqrt(G); with G = 2 and N doubled it equals the single-group value
    assert row["rmsea"] == pytest.approx(cfa["rmsea"], abs=0.0005)


def _simulated(shift: float, seed: int = 2, n: int = 600) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    groups = np.repeat(["F", "M"], n // 2)
    factor = rng.normal(size=n)
    loadings = np.array([1.0, 0.8, 0.7, 0.9, 0.6])
    items = factor[:, None] * loadings + rng.normal(scale=0.6, size=(n, 5))
    items[groups == "M", 2] += shift
    return pd.DataFrame(items, columns=[f"q{i}" for i in range(1, 6)]), groups


def test_invariant_data_pass_and_intercept_shift_fails_scalar():
    items, groups = _simulated(shift=0.0)
    ok = pm.measurement_invariance(items, groups).table
    assert ok["delta_cfi"].abs().max() < 0.01
    items, groups = _simulated(shift=1.0)
    shifted = pm.measurement_invariance(items, groups).table
    assert shifted.at["scalar", "delta_cfi"] < -0.01
    assert shifted.at["scalar", "delta_pvalue"] < 1e-6
    assert shifted.at["metric", "delta_pvalue"] > 1e-3


def test_invariance_refuses_missing_values_and_single_group():
    items, groups = _simulated(shift=0.0)
    items.iloc[4, 2] = np.nan
    with pytest.raises(ValueError, match=r"row 4, column 'q3': value is missing"):
        pm.measurement_invariance(items, groups)
    with pytest.raises(ValueError, match="at least 2 groups"):
        pm.measurement_invariance(items.dropna(), np.repeat("F", len(items) - 1))
    with pytest.raises(ValueError, match="not in items"):
        pm.measurement_invariance(items.dropna(), groups[:-1], model="f =~ q1 + zz")
