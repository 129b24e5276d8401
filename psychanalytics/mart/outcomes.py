"""Mart tables of the 「干预成效」 page: each intervention's effect size and its students' reliable change.

Both come from one :func:`psychanalytics.outcomes.intervention_report` of the
store (ANCOVA d over the pooled pre-test SD with its interval, the treatment
arm's own pre-post d_av; Jacobson-Truax reliable change with the pre-test
wave's alpha), one row per intervention, labelled with its school's stage and
location for the page's filters.

The effect table's ``n`` is the group (treatment-arm students with both
scores) and its ``count`` the comparison arm's: the policy blanks a row's
effect sizes when either is under ``min_cell``, since the effect rests on
both. The same two numbers are the arms' denominators in the reliable-change
table, so neither table shows a margin the other hides.

Examples
--------
>>> from psychanalytics.mart import TABLES
>>> TABLES["intervention_reliable_change"].policy["by"]
('intervention_id', 'arm')
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from psychanalytics import outcomes, reports, store
from psychanalytics.mart._registry import MartTable, register
from psychanalytics.store.queries._common import frame_of
from psychanalytics.store.schema import school

EFFECTS = ("d", "d_low", "d_high", "d_change", "d_change_low", "d_change_high")
"""Estimates of each intervention: d (ANCOVA difference / pooled pre SD) and the treatment arm's d_av."""
DESCRIBED = ("intervention_id", "title", "kind", "school_name", "school_year", "stage", "location")
"""What names an intervention on the page (labels, never numbers of people)."""
ARMS = ("treatment", "comparison")
EFFECT_COLUMNS = [*DESCRIBED, "instrument", "scale", "unit", "count", "n", *EFFECTS]
CHANGE_COLUMNS = [*DESCRIBED, "arm", "category", "count", "n"]


def _report(engine: sa.Engine) -> pd.DataFrame | None:
    """The per-intervention table with each school's stage and location; ``None`` without participants."""
    participants = store.load_participants(engine)
    if participants.empty:
        return None
    report = outcomes.intervention_report(
        participants, reliability=reports.pretest_reliabilities(engine, participants)
    )
    places = frame_of(
        engine, sa.select(school.c.school_id.label("school"), school.c.stage, school.c.location)
    )
    schools = participants[["intervention_id", "school"]].drop_duplicates("intervention_id")
    where = schools.merge(places, on="school", how="left").drop(columns="school")
    return report.table.merge(where, on="intervention_id", how="left")


def effects(engine: sa.Engine) -> pd.DataFrame:
    """One row per intervention: its effect sizes, ``n`` the group's students, ``count`` the comparison arm's.

    >>> from psychanalytics import store
    >>> engine = store.connect("sqlite://")
    >>> store.create_all(engine)
    >>> effects(engine).columns.tolist()[-8:]
    ['count', 'n', 'd', 'd_low', 'd_high', 'd_change', 'd_change_low', 'd_change_high']
    """
    table = _report(engine)
    if table is None:
        return pd.DataFrame(columns=EFFECT_COLUMNS)
    out = table.rename(columns={"n_treatment": "n", "n_comparison": "count"})
    return out.reindex(columns=EFFECT_COLUMNS).astype({"count": "int64", "n": "int64"})


def reliable_change(engine: sa.Engine) -> pd.DataFrame:
    """Students of each intervention and arm by reliable change category (Jacobson-Truax), parts of the arm.

    >>> from psychanalytics import store
    >>> engine = store.connect("sqlite://")
    >>> store.create_all(engine)
    >>> reliable_change(engine).columns.tolist()[-4:]
    ['arm', 'category', 'count', 'n']
    """
    table = _report(engine)
    if table is None:
        return pd.DataFrame(columns=CHANGE_COLUMNS)
    categories = [c for c in outcomes.CATEGORY_LABELS if f"{c}_treatment" in table.columns]
    rows = [
        table[list(DESCRIBED)].assign(arm=arm, category=category, count=table[f"{category}_{arm}"])
        for arm in ARMS
        for category in categories
    ]
    out = pd.concat(rows, ignore_index=True)
    out["n"] = out.groupby(["intervention_id", "arm"])["count"].transform("sum")
    out = out.sort_values("intervention_id", kind="stable")  # then arm and category, in the order built
    return out[CHANGE_COLUMNS].astype({"count": "int64", "n": "int64"}).reset_index(drop=True)


_LABELS = ("intervention_id", "title", "kind", "school_name", "location")

EFFECT_SIZES = register(
    MartTable(
        "intervention_effects",
        "各干预项目的效应量 d 与 95% 置信区间（n：干预组人数，count：对照组人数）",
        "effect size d per intervention with 95% CI (n: the group's students, count: the comparison arm's)",
        effects,
        {"labels": (*_LABELS, "unit"), "estimates": EFFECTS},
    )
)
RELIABLE_CHANGE = register(
    MartTable(
        "intervention_reliable_change",
        "各干预项目干预组、对照组可靠改善、无变化、可靠恶化的人数",
        "students reliably improved, unchanged, deteriorated per intervention and arm",
        reliable_change,
        {"by": ("intervention_id", "arm"), "labels": (*_LABELS, "arm", "category")},
    )
)
