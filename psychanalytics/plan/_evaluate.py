"""Everything the plan's pages and the annual report show for one school year, computed once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import pandas as pd

from psychanalytics import activities, facilities, staffing
from psychanalytics._rules import school_year_of, year_start
from psychanalytics.plan._attainment import attainment
from psychanalytics.plan._indicators import Parts, indicators
from psychanalytics.plan._scorecard import PART_TIME_CERTIFIED_SHARE, scorecard
from psychanalytics.plan._targets import targets

PROJECTION_YEARS_AFTER = 2
"""How far past the judged year the hiring line is drawn when a standard's deadline has already come."""


@dataclass(frozen=True)
class PlanResults:
    """The result of :func:`evaluate` (every frame covers all school years up to ``school_year`` unless said).

    Attributes
    ----------
    school_year : str
    schools : pandas.DataFrame
        ``school_id, school_name, stage, location``.
    profile, school_gaps, district_gaps : pandas.DataFrame
        :func:`psychanalytics.staffing.profile`, :func:`~psychanalytics.staffing.gaps`,
        :func:`~psychanalytics.staffing.district_gaps`.
    projections : dict of str to Projection
        Teachers still needed under each standard with a deadline, projected at the pace so far to its
        deadline (or :data:`PROJECTION_YEARS_AFTER` years on when the deadline has come).
    room_compliance, room_status, room_share : pandas.DataFrame
        :mod:`psychanalytics.facilities` results (``room_status`` with ``inspected``).
    lessons, events, parents, lectures, coverage, governance, funding, counselling : pandas.DataFrame
        :mod:`psychanalytics.activities` results.
    indicators : pandas.DataFrame
        :func:`psychanalytics.plan.indicators`.
    attainment : pandas.DataFrame
        :func:`psychanalytics.plan.attainment` of every plan asked for, in the judged year.
    scorecard : pandas.DataFrame
        :func:`psychanalytics.plan.scorecard` in the judged year.
    standards, room_rule, rules, full_time_hours :
        The rule data applied.
    synthetic : bool
        The data are the demo district's.
    """

    school_year: str
    schools: pd.DataFrame
    profile: pd.DataFrame
    school_gaps: pd.DataFrame
    district_gaps: pd.DataFrame
    projections: dict
    room_compliance: pd.DataFrame
    room_status: pd.DataFrame
    room_share: pd.DataFrame
    lessons: pd.DataFrame
    events: pd.DataFrame
    parents: pd.DataFrame
    lectures: pd.DataFrame
    coverage: pd.DataFrame
    governance: pd.DataFrame
    funding: pd.DataFrame
    counselling: pd.DataFrame
    indicators: pd.DataFrame
    attainment: pd.DataFrame
    scorecard: pd.DataFrame
    standards: tuple
    room_rule: facilities.RoomRule
    rules: activities.ActivityRules
    synthetic: bool
    full_time_hours: float


def _upto(frame: pd.DataFrame, school_year: str) -> pd.DataFrame:
    return frame[frame["school_year"].map(year_start) <= year_start(school_year)].reset_index(drop=True)


def projections(district_gaps: pd.DataFrame, standards_used, *, school_year: str) -> dict:
    """Teachers still needed under each standard with a deadline, projected at the pace of the years so far.

    The line runs to the standard's deadline, or :data:`PROJECTION_YEARS_AFTER` years past
    ``school_year`` when the deadline has come; a standard with fewer than two years of history is left out.

    Parameters
    ----------
    district_gaps : pandas.DataFrame
        :func:`psychanalytics.staffing.district_gaps` (``school_year, standard, teachers_needed``) up to
        ``school_year``.
    standards_used : sequence of Standard
        The standards judged; those without a deadline are skipped.
    school_year : str
        The year judged.

    Returns
    -------
    dict of str to Projection
        :func:`psychanalytics.staffing.projection` per standard code.

    Examples
    --------
    >>> from psychanalytics import staffing
    >>> gaps = pd.DataFrame({"school_year": ["2022-2023", "2023-2024"], "standard": "zhonglou_2024",
    ...                      "teachers_needed": [10.0, 6.0]})
    >>> ahead = projections(gaps, staffing.standards("zhonglou_2024"), school_year="2023-2024")
    >>> ahead["zhonglou_2024"].deadline, ahead["zhonglou_2024"].current
    ('2024-2025', 6.0)
    """
    out = {}
    for standard in standards_used:
        if standard.deadline is None:
            continue
        history = district_gaps.loc[
            district_gaps["standard"] == standard.code, ["school_year", "teachers_needed"]
        ]
        if len(history) < 2:
            continue
        horizon = max(year_start(standard.deadline), year_start(school_year) + PROJECTION_YEARS_AFTER)
        horizon = (
            year_start(standard.deadline)
            if year_start(standard.deadline) > year_start(school_year)
            else horizon
        )
        out[standard.code] = staffing.projection(
            history.rename(columns={"teachers_needed": "value"}), target=0, deadline=school_year_of(horizon)
        )
    return out


def evaluate(
    inputs,
    *,
    school_year: str,
    standards_used: Sequence[staffing.Standard] | None = None,
    room_rule: facilities.RoomRule | None = None,
    rules: activities.ActivityRules | None = None,
    plans: Sequence[str] = ("zhonglou", "national_2023"),
    full_time_hours: float = staffing.FULL_TIME_WEEKLY_HOURS,
    part_time_certified_share: float = PART_TIME_CERTIFIED_SHARE,
) -> PlanResults:
    """Compute every staffing, facilities and activity result, the indicators, attainment and scorecard.

    Parameters
    ----------
    inputs : PlanInputs
        As from :func:`psychanalytics.store.queries.plan_inputs` (or any object with the same frames,
        such as a future mart reader's).
    school_year : str
        The year judged; later years in ``inputs`` are ignored.
    standards_used : sequence of Standard, optional
        Staffing standards (default: every shipped one). ``zhonglou_2024`` and ``national_2023`` feed the
        plan's indicators and are added when missing.
    room_rule, rules : optional
        :func:`psychanalytics.facilities.room_rule`, :func:`psychanalytics.activities.activity_rules`.
    plans : sequence of str
        Target sets to judge (:func:`psychanalytics.plan.plans`).
    full_time_hours, part_time_certified_share : float
        See :func:`psychanalytics.staffing.profile` and :func:`psychanalytics.plan.scorecard`.

    Returns
    -------
    PlanResults

    Raises
    ------
    ValueError
        If ``school_year`` is not among the years the store reports.
    """
    if school_year not in inputs.school_years:
        raise ValueError(
            f"plan.evaluate: no school reports {school_year!r}; the store holds {list(inputs.school_years)}"
        )
    chosen = tuple(staffing.standards() if standards_used is None else standards_used)
    codes = {s.code for s in chosen}
    chosen += tuple(s for s in staffing.standards("zhonglou_2024", "national_2023") if s.code not in codes)
    room_rule = facilities.room_rule() if room_rule is None else room_rule
    rules = activities.activity_rules() if rules is None else rules
    years = [y for y in inputs.school_years if year_start(y) <= year_start(school_year)]

    profile = staffing.profile(_upto(inputs.staff, school_year), full_time_hours=full_time_hours)
    school_gaps = staffing.gaps(profile, standards_used=chosen)
    district_gaps = staffing.district_gaps(school_gaps, standards_used=chosen)
    rooms = _upto(inputs.rooms, school_year)
    compliance = facilities.room_compliance(rooms, rule=room_rule)
    status = facilities.room_status(compliance)
    inspected = compliance[compliance["requirement"] == "inspection"][["school_year", "school_id", "met"]]
    status = status.merge(
        inspected.rename(columns={"met": "inspected"}), on=["school_year", "school_id"], how="left"
    )
    school_rows = _upto(inputs.school_rows, school_year)
    lessons = activities.lesson_delivery(_upto(inputs.lessons, school_year), rules=rules)
    events = activities.event_days(
        inputs.activities, school_years=years, schools=list(inputs.schools["school_id"]), rules=rules
    )
    events = events[
        events["school_id"].isna()
        | events.set_index(["school_year", "school_id"]).index.isin(
            school_rows.set_index(["school_year", "school_id"]).index
        )
    ].reset_index(drop=True)
    parents = activities.parent_classes(inputs.activities, school_rows, rules=rules)
    lectures = activities.lecture_months(inputs.activities, school_years=years, rules=rules)
    coverage = activities.coverage(school_rows)
    governance = activities.governance(school_rows)
    funding = activities.funding_growth(_upto(inputs.funding, school_year), school_rows)
    counselling = activities.counselling_regularity(inputs.counselling, school_rows, rules=rules)
    parts = Parts(
        school_gaps=school_gaps,
        room_status=status,
        lessons=lessons,
        events=events,
        parents=parents,
        lectures=lectures,
        coverage=coverage,
        governance=governance,
        funding=funding,
    )
    values = indicators(parts)
    judged = pd.concat(
        [attainment(values, targets(p), school_year=school_year) for p in plans], ignore_index=True
    )
    card = scorecard(
        school_year=school_year,
        schools=school_rows.loc[school_rows["school_year"] == school_year, "school_id"],
        profile=profile,
        rooms=rooms,
        lessons=lessons,
        counselling=counselling,
        governance=governance,
        min_open_hours_week=room_rule.min_hours_week,
        part_time_certified_share=part_time_certified_share,
    )
    return PlanResults(
        school_year=school_year,
        schools=inputs.schools,
        profile=profile,
        district_gaps=district_gaps,
        projections=projections(district_gaps, chosen, school_year=school_year),
        room_compliance=compliance,
        room_share=facilities.compliance_share(status, rule=room_rule),
        counselling=counselling,
        **{f.name: getattr(parts, f.name) for f in fields(parts)},
        indicators=values,
        attainment=judged,
        scorecard=card,
        standards=chosen,
        room_rule=room_rule,
        rules=rules,
        synthetic=inputs.synthetic,
        full_time_hours=full_time_hours,
    )
