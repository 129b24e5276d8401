"""End to end on the demo district: the estimators recover what the generator planted.

A synthetic district of 12,000 students (seed 7) records each intervention's planted effect in
``demo_planted_effect`` (``synth.planted_effects``): group counselling programmes of 10-15 students per
arm, and a curriculum pilot given to whole grade 4-6 classes with comparison classes in several schools,
with school and class effects. (The 3,000-student district of the other tests gives the pilot 16
classes, whose interval is as wide as the effect; 12,000 students give it about 70 classes.) The store is read as a researcher reads it
(``reports.intervention_outcomes``) and each estimate is checked against the truth:

- ANCOVA and d intervals cover the planted effect, programme by programme, as often as a 95 % interval
  should (a binomial bound), and the programmes' pooled estimate lies within its error of the truth;
- the curriculum, pooled over its schools, is recovered by ANCOVA with errors clustered by class and by
  the mixed model with school and class intercepts;
- the counts of reliably improved and deteriorated students are those the planted change distribution
  implies, given the pre scores, the rounding and the score range (a simulation of the generator's own
  school, class and student effects gives their range).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from conftest import DEMO_SEED
from scipy.stats import binom, norm

from psychanalytics import instruments, reports, store, synth

PROGRAMME = ("kind", "title", "school_year")


STUDENTS = 12_000


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> sa.Engine:
    path = tmp_path_factory.mktemp("recovery") / "district.sqlite"
    engine = store.connect(path)
    synth.build_demo(engine, seed=DEMO_SEED, students=STUDENTS)
    engine.dispose()
    engine = store.connect_existing(path, read_only=True)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def truth(demo) -> pd.DataFrame:
    return synth.planted_effects(demo).set_index("intervention_id")


@pytest.fixture(scope="module")
def per_intervention(demo):
    return reports.intervention_outcomes(demo)


@pytest.fixture(scope="module")
def curriculum(demo):
    return reports.intervention_outcomes(demo, kinds=("curriculum",), by=PROGRAMME)


def _covered(low, high, value) -> np.ndarray:
    return (np.asarray(low) <= np.asarray(value)) & (np.asarray(value) <= np.asarray(high))


def _enough(covered: np.ndarray) -> int:
    """The fewest covering intervals 95 % intervals give with probability 0.999 (binomial)."""
    return int(binom.ppf(0.001, len(covered), 0.95))


def test_every_intervention_has_a_planted_effect_and_a_row(per_intervention, truth):
    table = per_intervention.table.set_index("intervention_id")
    assert set(table.index) == set(truth.index)
    assert {"group_counselling", "curriculum"} == set(truth["kind"])
    assert (truth.loc[truth["kind"] == "curriculum", "class_sd"] > 0).all()


def test_ancova_and_d_intervals_cover_the_planted_effects(per_intervention, truth):
    table = per_intervention.table.set_index("intervention_id").join(truth[["effect_points", "effect_d"]])
    with_interval = table.dropna(subset=["difference_low"])
    assert (with_interval.index.str.startswith("GC")).sum() >= 8  # the group counselling programmes
    points = _covered(
        with_interval["difference_low"], with_interval["difference_high"], with_interval["effect_points"]
    )
    assert points.sum() >= _enough(points), with_interval[
        ["difference_low", "difference_high", "effect_points"]
    ]
    # d is the benefit with the sign of the scale: lower scores are better, so the planted d is negative here
    d = _covered(with_interval["d_low"], with_interval["d_high"], -with_interval["effect_d"])
    assert d.sum() >= _enough(d)


def test_the_group_counselling_programmes_pooled_lie_within_their_error_of_the_truth(per_intervention, truth):
    table = per_intervention.table.set_index("intervention_id").join(truth["effect_points"])
    groups = table[table["kind"] == "group_counselling"]
    se = (groups["difference_high"] - groups["difference_low"]) / (2 * 1.96)  # near enough for t on ~20 df
    weight = 1 / se**2
    pooled = (weight * groups["difference"]).sum() / weight.sum()
    pooled_truth = (weight * groups["effect_points"]).sum() / weight.sum()
    print(pooled, pooled_truth, 1 / np.sqrt(weight.sum()))
    assert abs(pooled - pooled_truth) < 3 / np.sqrt(weight.sum())


def test_the_curriculum_pooled_over_its_schools_is_recovered_by_ancova_and_the_mixed_model(curriculum, truth):
    (row,) = curriculum.table.to_dict("records")
    planted = truth[truth["kind"] == "curriculum"]
    effect = planted["effect_points"].iloc[0]
    assert row["unit"] == "class" and row["n_schools"] == len(planted) >= 3
    assert row["classes_treatment"] >= 2 and row["classes_comparison"] >= 2
    assert row["errors"] == f"class ({row['classes_treatment'] + row['classes_comparison']})"
    assert row["difference_low"] <= effect <= row["difference_high"] < 0  # recovered, and told from none
    assert row["mixed_low"] <= effect <= row["mixed_high"] < 0
    assert row["d_low"] <= -planted["effect_d"].iloc[0] <= row["d_high"]
    assert row["icc_class"] > 0
    # the pre-test SD the table standardises by is the one the generator scaled the effect by
    assert row["sd_pre"] == pytest.approx(planted["sd_pre"].iloc[0], rel=0.05)


def _simulated_counts(students: pd.DataFrame, planted: pd.Series, rng, draws: int = 2000) -> dict:
    """Counts of reliably improved / deteriorated students the generator would give, ``draws`` times.

    Given each student's pre score, the post score is ``clip(round(pre + change))`` with change =
    common + school + class + own (+ the effect in the treatment arm); a student improved reliably when
    ``post - pre < -threshold`` and deteriorated when ``post - pre > threshold``.
    """
    pre = students["pre"].to_numpy()
    threshold = students["rci_points"].to_numpy()
    top = students["top"].to_numpy()
    mean = planted["common_change"] + planted["effect_points"] * (students["arm"] == "treatment").to_numpy()
    school = pd.factorize(students["school"])[0]
    klass = pd.factorize(students["school"] + ":" + students["class"])[0]
    shared = (
        rng.normal(0, 1, (draws, school.max() + 1))[:, school] * planted["school_sd"]
        + rng.normal(0, 1, (draws, klass.max() + 1))[:, klass] * planted["class_sd"]
    )
    below = np.ceil(pre - threshold) - 1  # the highest post score that is a reliable improvement
    above = np.floor(pre + threshold) + 1  # the lowest that is a reliable deterioration
    p_improved = np.where(below >= 0, norm.cdf((below + 0.5 - pre - mean - shared) / planted["change_sd"]), 0)
    p_worse = np.where(above <= top, norm.sf((above - 0.5 - pre - mean - shared) / planted["change_sd"]), 0)
    u = rng.random(p_improved.shape)
    return {"improved": (u < p_improved).sum(axis=1), "deteriorated": (u > 1 - p_worse).sum(axis=1)}


@pytest.mark.parametrize("kind", ["group_counselling", "curriculum"])
def test_reliable_change_counts_are_those_the_planted_changes_imply(per_intervention, truth, kind):
    table = per_intervention.table.set_index("intervention_id")
    students = per_intervention.students.join(
        table[["rci_points", "instrument", "scale"]], on="intervention_id"
    )
    students = students[students["intervention_id"].isin(truth.index[truth["kind"] == kind])]
    students["top"] = [
        instruments.get(i).scale(s).range[1]
        for i, s in zip(students["instrument"], students["scale"], strict=True)
    ]
    # the pilot shares one planted effect and its schools' and classes' effects: it is simulated whole
    parts = [students] if kind == "curriculum" else [own for _, own in students.groupby("intervention_id")]
    rng = np.random.default_rng(12)
    simulated = [_simulated_counts(part, truth.loc[part["intervention_id"].iat[0]], rng) for part in parts]
    simulated = {category: sum(counts[category] for counts in simulated) for category in simulated[0]}
    assert simulated["improved"].mean() > 5  # the check has something to count
    for category in ("improved", "deteriorated"):
        observed = int((students["category"] == category).sum())
        low, high = np.quantile(simulated[category], [0.001, 0.999])
        assert low <= observed <= high, (category, observed, low, high)
