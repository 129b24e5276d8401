"""Courses, activities, governance, coverage, funding and counselling per school and year."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from psychanalytics._rules import (
    date_in_school_year,
    missing_as_none,
    rule_from_data,
    school_years_of,
    year_start,
)


@dataclass(frozen=True)
class ActivityRules:
    """The thresholds of the everyday indicators (``rules.yaml``; the module docstring says where each is from).

    ``lessons_per_term``: psychology lessons each grade needs a term; ``lecture_months`` and
    ``counselling_months``: the teaching months (1-12) a lecture and a counselling session are due in;
    ``event_days``: ``MM-DD`` of the event days, counted when an activity of ``event_kinds`` falls within
    ``event_window_days`` of the day; ``parent_classes_per_year``: parent classes a school holds a year.
    """

    code: str
    name_zh: str
    name_en: str
    lessons_per_term: int
    lecture_months: tuple[int, ...]
    event_days: tuple[str, ...]
    event_window_days: int
    event_kinds: tuple[str, ...]
    parent_classes_per_year: int
    counselling_months: tuple[int, ...]
    source: str = ""
    uncertain: str = ""

    def __post_init__(self):
        months = [*self.lecture_months, *self.counselling_months]
        if self.lessons_per_term < 1 or any(not 1 <= m <= 12 for m in months) or self.event_window_days < 0:
            raise ValueError(f"activity rules {self.code!r}: lessons >= 1, months 1-12, window >= 0")
        for day in self.event_days:
            pd.Timestamp(f"2000-{day}")  # raises on a malformed MM-DD


_TUPLES = ("lecture_months", "event_days", "event_kinds", "counselling_months")


def activity_rules(code: str = "zhonglou", **changes) -> ActivityRules:
    """A shipped rule set, optionally with fields changed (e.g. ``lessons_per_term=10``).

    >>> activity_rules().lessons_per_term, activity_rules(lessons_per_term=10).lessons_per_term
    (9, 10)
    """
    return rule_from_data(
        ActivityRules, "psychanalytics.activities", "rules.yaml", code, changes, tuples=_TUPLES
    )


def _require(frame: pd.DataFrame, columns: Sequence[str], where: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise KeyError(f"activities.{where}: frame lacks column(s) {missing}; it has {list(frame.columns)}")


def _month_names(months) -> str:
    return "、".join(f"{m}月" for m in months)


def lesson_delivery(lessons: pd.DataFrame, *, rules: ActivityRules | None = None) -> pd.DataFrame:
    """Grade-terms given their psychology lessons in full, per school and year.

    Each row of ``lessons`` is one grade's term: it is *in full* when ``lessons_delivered >=
    rules.lessons_per_term`` (Changzhou: one lesson every two weeks; the school's own plan does not
    lower the bar).

    Parameters
    ----------
    lessons : pandas.DataFrame
        As from :func:`psychanalytics.store.queries.activities.lesson_rows`: ``school_year, school_id,
        term, grade, lessons_delivered``.
    rules : ActivityRules, optional
        Default :func:`activity_rules`.

    Returns
    -------
    pandas.DataFrame
        One row per school and year: ``school_year, school_id, count`` (grade-terms in full), ``n``
        (grade-terms), ``proportion``, ``lessons_required``, ``lessons_delivered`` and ``short_zh`` (the
        grade-terms short, e.g. 「9年级第2学期」).
    """
    rules = activity_rules() if rules is None else rules
    _require(lessons, ["school_year", "school_id", "term", "grade", "lessons_delivered"], "lesson_delivery")
    if lessons["lessons_delivered"].isna().any() or lessons["lessons_delivered"].lt(0).any():
        bad = lessons.index[lessons["lessons_delivered"].isna() | lessons["lessons_delivered"].lt(0)][0]
        raise ValueError(f"activities.lesson_delivery: lessons_delivered missing or negative in row {bad}")
    rows = lessons.assign(
        in_full=lessons["lessons_delivered"] >= rules.lessons_per_term,
        required=rules.lessons_per_term,
        label=lessons["grade"].astype(str) + "年级第" + lessons["term"].astype(str) + "学期",
    )
    keys = ["school_year", "school_id"]
    out = rows.groupby(keys, sort=True).agg(
        count=("in_full", "sum"),
        n=("in_full", "size"),
        lessons_required=("required", "sum"),
        lessons_delivered=("lessons_delivered", "sum"),
    )
    short = rows[~rows["in_full"]].groupby(keys)["label"].agg("、".join).rename("short_zh")
    out = out.join(short).reset_index().fillna({"short_zh": ""})
    out = out.astype({c: "int64" for c in ("count", "n", "lessons_required", "lessons_delivered")})
    out["proportion"] = out["count"] / out["n"]
    return out[[*keys, "count", "n", "proportion", "lessons_required", "lessons_delivered", "short_zh"]]


def _in_year(activities: pd.DataFrame) -> pd.DataFrame:
    _require(activities, ["held_on", "school_id", "kind"], "activities")
    return activities.assign(
        school_year=school_years_of(activities["held_on"]),
        month=pd.to_datetime(activities["held_on"]).dt.month,
    )


def lecture_months(
    activities: pd.DataFrame, *, school_years: Sequence[str], rules: ActivityRules | None = None
) -> pd.DataFrame:
    """Teaching months in which the district lecture (a district ``lecture`` activity) was held.

    Returns one row per school year: ``school_year, count`` (months held), ``n`` (teaching months),
    ``proportion`` and ``missing_zh`` (the months without one, e.g. 「11月」).

    >>> acts = pd.DataFrame({"held_on": pd.to_datetime(["2024-09-12", "2024-10-15", "2024-10-30"]),
    ...                      "school_id": None, "kind": "lecture"})
    >>> lecture_months(acts, school_years=["2024-2025"], rules=activity_rules(lecture_months=[9, 10, 11]))
      school_year  count  n  proportion missing_zh
    0   2024-2025      2  3    0.666667        11月
    """
    rules = activity_rules() if rules is None else rules
    acts = _in_year(activities)
    lectures = acts[acts["school_id"].isna() & (acts["kind"] == "lecture")]
    rows = []
    for school_year in school_years:
        year_start(school_year)
        held = set(lectures.loc[lectures["school_year"] == school_year, "month"])
        missing = [m for m in rules.lecture_months if m not in held]
        due = len(rules.lecture_months)
        rows.append((school_year, due - len(missing), due, (due - len(missing)) / due, _month_names(missing)))
    return pd.DataFrame(rows, columns=["school_year", "count", "n", "proportion", "missing_zh"])


def event_days(
    activities: pd.DataFrame,
    *,
    school_years: Sequence[str],
    schools: Sequence[str] = (),
    rules: ActivityRules | None = None,
) -> pd.DataFrame:
    """Whether each event day was marked, by the district and by each school, per school year.

    A day is held by the district when a district activity of ``rules.event_kinds`` falls within
    ``rules.event_window_days`` of it, and by a school when one of its own does.

    Returns
    -------
    pandas.DataFrame
        One row per school year, unit (``school_id`` missing for the district, then each of
        ``schools``) and day: ``school_year, school_id, day`` (``MM-DD``), ``held``.

    Examples
    --------
    >>> acts = pd.DataFrame({"held_on": pd.to_datetime(["2025-03-22", "2025-05-25"]),
    ...                      "school_id": [None, "S1"], "kind": "carnival"})
    >>> days = event_days(acts, school_years=["2024-2025"], schools=["S1"])
    >>> days.assign(unit=days["school_id"].fillna("district")).pivot(index="day", columns="unit", values="held")
    unit   S1  district
    day
    03-20  False      True
    05-25   True     False
    10-10  False     False
    """
    rules = activity_rules() if rules is None else rules
    acts = _in_year(activities)
    acts = acts[acts["kind"].isin(rules.event_kinds)]
    rows = []
    for school_year in school_years:
        for unit in [None, *schools]:
            own = acts[acts["school_id"].isna()] if unit is None else acts[acts["school_id"] == unit]
            for day in rules.event_days:
                date = date_in_school_year(day, school_year)
                near = (own["held_on"] - date).abs() <= pd.Timedelta(days=rules.event_window_days)
                rows.append((school_year, unit, day, bool(near.any())))
    out = pd.DataFrame(rows, columns=["school_year", "school_id", "day", "held"])
    return out.assign(school_id=missing_as_none(out["school_id"]))


def parent_classes(
    activities: pd.DataFrame, school_rows: pd.DataFrame, *, rules: ActivityRules | None = None
) -> pd.DataFrame:
    """Parent classes (家长课堂) each school held in each school year it reports.

    Returns ``school_year, school_id, classes`` (held that school year) and ``meets`` (at least
    ``rules.parent_classes_per_year``).
    """
    rules = activity_rules() if rules is None else rules
    _require(school_rows, ["school_year", "school_id"], "parent_classes")
    acts = _in_year(activities)
    held = acts[acts["kind"] == "parent_class"].groupby(["school_year", "school_id"]).size().rename("classes")
    out = school_rows[["school_year", "school_id"]].join(held, on=["school_year", "school_id"])
    out["classes"] = out["classes"].fillna(0).astype("int64")
    out["meets"] = out["classes"] >= rules.parent_classes_per_year
    return out.reset_index(drop=True)


def coverage(school_rows: pd.DataFrame) -> pd.DataFrame:
    """Classes with a 心理委员 and teachers who are mentors, per school and year.

    Returns ``school_year, school_id, committee_classes, classes, committee_share, mentors,
    teachers, mentor_share``; a share is missing where the school did not report its counts.
    A count above its total is refused.

    >>> rows = pd.DataFrame({"school_year": ["2024-2025"], "school_id": ["S1"], "n_classes": [20],
    ...     "classes_with_committee": [15], "n_teachers": [80], "n_mentors": [80]})
    >>> coverage(rows)[["committee_share", "mentor_share"]].iloc[0].tolist()
    [0.75, 1.0]
    """
    _require(
        school_rows,
        ["school_year", "school_id", "n_classes", "classes_with_committee", "n_teachers", "n_mentors"],
        "coverage",
    )
    for part, whole in (("classes_with_committee", "n_classes"), ("n_mentors", "n_teachers")):
        over = school_rows[part] > school_rows[whole]
        if over.any():
            row = school_rows[over].iloc[0]
            raise ValueError(
                f"activities.coverage: {part} ({row[part]}) exceeds {whole} ({row[whole]}) for "
                f"{row['school_id']} in {row['school_year']}"
            )
    out = school_rows[["school_year", "school_id"]].copy()
    out["committee_classes"] = school_rows["classes_with_committee"].astype("Float64")
    out["classes"] = school_rows["n_classes"].astype("Float64")
    out["committee_share"] = (out["committee_classes"] / out["classes"].where(out["classes"] > 0)).astype(
        float
    )
    out["mentors"] = school_rows["n_mentors"].astype("Float64")
    out["teachers"] = school_rows["n_teachers"].astype("Float64")
    out["mentor_share"] = (out["mentors"] / out["teachers"].where(out["teachers"] > 0)).astype(float)
    return out.reset_index(drop=True)


def governance(school_rows: pd.DataFrame) -> pd.DataFrame:
    """Leadership group, leadership meetings and a three-year school plan, per school and year.

    Returns ``school_year, school_id, leadership_group, meetings, three_year_plan`` (nullable: not
    reported stays missing) and ``meeting_held`` (at least one meeting).
    """
    _require(
        school_rows,
        ["school_year", "school_id", "has_leadership_group", "special_meetings", "has_three_year_plan"],
        "governance",
    )
    out = school_rows[["school_year", "school_id"]].copy()
    out["leadership_group"] = school_rows["has_leadership_group"].astype("boolean")
    out["meetings"] = school_rows["special_meetings"].astype("Int64")
    out["three_year_plan"] = school_rows["has_three_year_plan"].astype("boolean")
    out["meeting_held"] = out["meetings"].ge(1)
    return out.reset_index(drop=True)


def funding_growth(funding: pd.DataFrame, school_rows: pd.DataFrame) -> pd.DataFrame:
    """The budget line per school and year, per student, and its growth over the year before.

    ``growth = budget / budget of the previous school year − 1`` (missing in a school's first year
    or after a year without a budget line); ``per_student = budget / enrolment``.

    >>> funding = pd.DataFrame({"school_year": ["2023-2024", "2024-2025"], "school_id": "S1",
    ...                         "budget_yuan": [40_000.0, 36_000.0]})
    >>> rows = pd.DataFrame({"school_year": ["2023-2024", "2024-2025"], "school_id": "S1", "enrolment": [800, 800]})
    >>> funding_growth(funding, rows)[["per_student", "growth"]].round(3).values.tolist()
    [[50.0, nan], [45.0, -0.1]]
    """
    _require(funding, ["school_year", "school_id", "budget_yuan"], "funding_growth")
    _require(school_rows, ["school_year", "school_id", "enrolment"], "funding_growth")
    if funding["budget_yuan"].isna().any() or funding["budget_yuan"].lt(0).any():
        raise ValueError("activities.funding_growth: budget_yuan missing or negative")
    out = funding[["school_year", "school_id", "budget_yuan"]].merge(
        school_rows[["school_year", "school_id", "enrolment"]], on=["school_year", "school_id"], how="left"
    )
    out["per_student"] = out["budget_yuan"] / out["enrolment"].where(out["enrolment"] > 0)
    out["start"] = out["school_year"].map(year_start)
    previous = out[["school_id", "start", "budget_yuan"]].assign(start=out["start"] + 1)
    out = out.merge(previous, on=["school_id", "start"], how="left", suffixes=("", "_before"))
    out["growth"] = out["budget_yuan"] / out["budget_yuan_before"].where(out["budget_yuan_before"] > 0) - 1
    return out.sort_values(["school_year", "school_id"], ignore_index=True)[
        ["school_year", "school_id", "budget_yuan", "per_student", "growth"]
    ]


def counselling_regularity(
    counselling: pd.DataFrame, school_rows: pd.DataFrame, *, rules: ActivityRules | None = None
) -> pd.DataFrame:
    """Teaching months with at least one counselling session recorded, per school and year.

    Parameters
    ----------
    counselling : pandas.DataFrame
        As from :func:`psychanalytics.store.queries.activities.counselling_months`: ``school_id, year,
        month, count``.
    school_rows : pandas.DataFrame
        ``school_year, school_id``: the schools and years to report (none left out for lack of sessions).

    Returns
    -------
    pandas.DataFrame
        ``school_year, school_id, count`` (teaching months with a session), ``n`` (teaching months),
        ``proportion`` and ``missing_zh`` (the months without).
    """
    rules = activity_rules() if rules is None else rules
    _require(counselling, ["school_id", "year", "month", "count"], "counselling_regularity")
    held = counselling[counselling["count"] > 0]
    start = held["year"] - (held["month"] < 9)
    held = held.assign(school_year=start.astype(str) + "-" + (start + 1).astype(str))
    months = held.groupby(["school_year", "school_id"])["month"].agg(set)
    due = len(rules.counselling_months)
    rows = []
    for school_year, school_id in school_rows[["school_year", "school_id"]].itertuples(index=False):
        seen = months.get((school_year, school_id), set())
        missing = [m for m in rules.counselling_months if m not in seen]
        rows.append((school_year, school_id, due - len(missing), due, _month_names(missing)))
    out = pd.DataFrame(rows, columns=["school_year", "school_id", "count", "n", "missing_zh"])
    out["proportion"] = out["count"] / out["n"] if due else np.nan
    return out[["school_year", "school_id", "count", "n", "proportion", "missing_zh"]]
