"""The plan's targets, their attainment, and the year-end supervision scorecard.

Targets are data (``targets/zhonglou.yaml`` for the district plan, ``targets/national_2023.yaml`` for
the national 2023-2025 plan): indicator, level (school or district), value, deadline. Pure functions:

* :func:`targets` — a plan's :class:`TargetSet`; :func:`plans` — the shipped plans;
* :func:`indicators` — every indicator per school and for the district, per year;
* :func:`attainment` — per target (and school), value, target, status (met / on track / at risk /
  missed / no data) and trend, as traffic lights in the plan's order — never a league table;
* :func:`scorecard` — the five year-end supervision checks per school, with evidence and what is missing;
* :func:`evaluate` — all of the above and the staffing, room and activity results for one school year,
  from :func:`psychanalytics.store.queries.plan_inputs`.

Examples
--------
>>> from psychanalytics import plan, store, synth
>>> from psychanalytics.store import queries
>>> engine = store.connect("sqlite://")
>>> _ = synth.build_demo(engine, seed=1, students=600)
>>> results = plan.evaluate(queries.plan_inputs(engine), school_year="2024-2025")
>>> district = results.attainment[(results.attainment["target"] == "full_time_teacher")]
>>> district[["name_zh", "status_zh"]].iloc[0].tolist()
['每校配备专职心理教师', '未达成']
"""

from psychanalytics.plan._attainment import STATUS_LABELS, STATUSES, attainment
from psychanalytics.plan._evaluate import PROJECTION_YEARS_AFTER, PlanResults, evaluate, projections
from psychanalytics.plan._indicators import INDICATORS, Parts, indicators
from psychanalytics.plan._scorecard import CHECK_STATUS, CHECKS, PART_TIME_CERTIFIED_SHARE, scorecard
from psychanalytics.plan._targets import Target, TargetSet, plans, targets

__all__ = [
    "CHECKS",
    "CHECK_STATUS",
    "INDICATORS",
    "PART_TIME_CERTIFIED_SHARE",
    "PROJECTION_YEARS_AFTER",
    "STATUSES",
    "STATUS_LABELS",
    "Parts",
    "PlanResults",
    "Target",
    "TargetSet",
    "attainment",
    "evaluate",
    "indicators",
    "plans",
    "projections",
    "scorecard",
    "targets",
]
