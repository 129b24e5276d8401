"""Mart tables of the 「三年计划」 page: the plans' targets, their attainment per school year, schools per
status of each school-level target, and the year-end supervision scorecard summed over schools.

Attainment is :func:`psychanalytics.plan.attainment` as :func:`psychanalytics.plan.evaluate` judges it in
each school year (the status a target had that year). Its values count schools, teachers, classes,
grade-terms, months and days, never students (:func:`psychanalytics.plan.indicators`), so the targets and
the district's attainment are published without the policy (``no_people``); the counts of schools per
status go through it with ``unit="school"``, cut by 学段 × 城乡 like the 「师资与阵地」 tables.
"""

from __future__ import annotations

import pandas as pd

from psychanalytics import plan
from psychanalytics.mart._evaluated import by_group, evaluated, latest
from psychanalytics.mart._registry import MartTable, register
from psychanalytics.mart.staffing import GROUP

PLANS = ("zhonglou", "national_2023")
"""The target sets judged (as :func:`psychanalytics.plan.evaluate` judges them by default)."""

_TARGET_COLUMNS = [
    "plan", "plan_name_zh", "target", "item", "name_zh", "name_en", "indicator", "level", "target_value",
    "comparison", "deadline", "uncertain",
]  # fmt: skip


def _targets(engine) -> pd.DataFrame:
    rows = []
    for code in PLANS:
        chosen = plan.targets(code)
        rows += [
            [t.plan, chosen.name_zh, t.code, t.item, t.name_zh, t.name_en, t.indicator, t.level, t.target,
             t.comparison, t.deadline, t.uncertain]
            for t in chosen.targets
        ]  # fmt: skip
    return pd.DataFrame(rows, columns=_TARGET_COLUMNS)


_ATTAINMENT_COLUMNS = [
    "school_year", "plan", "target", "item", "name_zh", "name_en", "value", "text", "target_value",
    "comparison", "deadline", "status", "status_zh", "symbol", "change", "trend", "projected", "count", "n",
    "note",
]  # fmt: skip


def _attainment(engine) -> pd.DataFrame:
    _, results = evaluated(engine)
    parts = [judged.attainment[judged.attainment["level"] == "district"] for judged in results.values()]
    if not parts:
        return pd.DataFrame(columns=_ATTAINMENT_COLUMNS)
    return pd.concat(parts, ignore_index=True)[_ATTAINMENT_COLUMNS]


_STATUS_COLUMNS = [*GROUP, "target", "name_zh", "status", "count", "n"]


def _per_status(frame: pd.DataFrame, key: str, name: str, statuses) -> pd.DataFrame:
    """Schools per status of each ``key`` (a target, a check) and year; every status listed, zero included."""
    keys = frame[["school_year", key, name]].drop_duplicates()
    full = keys.merge(pd.DataFrame({"status": list(statuses)}), how="cross")
    counts = frame.groupby(["school_year", key, "status"], sort=False).size().rename("count").reset_index()
    out = full.merge(counts, on=["school_year", key, "status"], how="left").fillna({"count": 0})
    out["count"] = out["count"].astype("int64")
    out["n"] = out.groupby(["school_year", key])["count"].transform("sum")
    return out


def _school_status(engine) -> pd.DataFrame:
    _, results = evaluated(engine)
    if not results:
        return pd.DataFrame(columns=_STATUS_COLUMNS)
    judged = [
        r.attainment[(r.attainment["level"] == "school") & r.attainment["school_id"].notna()]
        for r in results.values()
    ]
    rows = pd.concat(judged, ignore_index=True)
    schools = next(iter(results.values())).schools
    return by_group(
        rows, schools, lambda part: _per_status(part, "target", "name_zh", plan.STATUSES), _STATUS_COLUMNS
    )[_STATUS_COLUMNS]  # fmt: skip


_CHECK_COLUMNS = [*GROUP, "check", "name_zh", "status", "status_zh", "count", "n"]


def _scorecard(engine) -> pd.DataFrame:
    _, results = evaluated(engine)
    if not results:
        return pd.DataFrame(columns=_CHECK_COLUMNS)
    cards = pd.concat([r.scorecard for r in results.values()], ignore_index=True)
    schools = next(iter(results.values())).schools
    out = by_group(
        cards, schools, lambda part: _per_status(part, "check", "name_zh", plan.CHECK_STATUS), _CHECK_COLUMNS
    )  # fmt: skip
    out["status_zh"] = out["status"].map(plan.CHECK_STATUS)
    return out[_CHECK_COLUMNS]


TARGETS = register(
    MartTable(
        "plan_targets",
        "三年行动计划与国家专项行动的目标",
        "the plans' targets",
        _targets,
        None,
        no_people="targets of the plans: values to reach and deadlines, no count",
    )
)
ATTAINMENT = register(
    MartTable(
        "plan_attainment",
        "全区目标的达成情况（各学年）",
        "attainment of the district's targets, per school year",
        _attainment,
        None,
        no_people=(
            "the district's plan indicators count schools, teachers, classes, grade-terms, months and days "
            "(psychanalytics.plan.indicators): no student counted"
        ),
    )
)
SCHOOL_STATUS = register(
    MartTable(
        "plan_school_status",
        "分校目标：各状态的学校数（各学年、学段、城乡）",
        "schools per status of each school-level target",
        _school_status,
        {"unit": "school", "by": ("school_year", "stage", "location", "target"),
         "labels": ("target", "name_zh", "status")},
    )
)  # fmt: skip
SCORECARD = register(
    MartTable(
        "scorecard_summary",
        "年终督导五项检查：达标、未达标、缺数据的学校数（各学年、学段、城乡）",
        "year-end supervision checks: schools passing, failing, without data",
        _scorecard,
        {"unit": "school", "by": ("school_year", "stage", "location", "check"),
         "labels": ("check", "name_zh", "status", "status_zh")},
    )
)  # fmt: skip


# --- the plan's results whole, for the annual report -------------------------------------------------------

RESULT_FRAMES = (
    "schools", "profile", "school_gaps", "district_gaps", "room_compliance", "room_status", "room_share",
    "lessons", "events", "parents", "lectures", "coverage", "governance", "funding", "counselling",
    "indicators",
)  # fmt: skip
"""Frames of :class:`psychanalytics.plan.PlanResults` that cover every school year (published from the last
judged year's results; a year's results are these frames up to that year)."""
JUDGED_FRAMES = ("attainment", "scorecard")
"""Frames judged in one year (published for every judged year, told apart by ``school_year``)."""
RESULTS_PREFIX = "plan_results_"
_INSTITUTIONAL = (
    "institutional facts of each school and the district (schools, teachers and their posts and "
    "qualifications, classes, lessons, months, event days, rooms, budgets, a school's roll), as the year-end "
    "supervision reports them per school: no student is counted by any attribute"
)


def _result_frame(field: str):
    def build(engine) -> pd.DataFrame:
        _, results = evaluated(engine)
        if not results:
            return pd.DataFrame()
        if field in JUDGED_FRAMES:
            return pd.concat([getattr(r, field) for r in results.values()], ignore_index=True)
        return getattr(latest(engine), field)

    return build


def _result_columns(engine) -> pd.DataFrame:
    rows = [
        (f"{RESULTS_PREFIX}{field}", column, str(dtype))
        for field in (*RESULT_FRAMES, *JUDGED_FRAMES)
        for column, dtype in _result_frame(field)(engine).dtypes.items()
    ]
    return pd.DataFrame(rows, columns=["mart_table", "column_name", "dtype"])


RESULTS = {
    field: register(
        MartTable(
            f"{RESULTS_PREFIX}{field}",
            f"年度督导与调研报告的依据：{field}",
            f"the plan's results for the annual report: {field}",
            _result_frame(field),
            None,
            no_people=_INSTITUTIONAL,
        )
    )
    for field in (*RESULT_FRAMES, *JUDGED_FRAMES)
}
RESULT_COLUMNS = register(
    MartTable(
        f"{RESULTS_PREFIX}columns",
        "年度报告依据表的列类型",
        "column types of the plan_results_ tables",
        _result_columns,
        None,
        no_people="the names and types of other tables' columns",
    )
)


def _restored(frame: pd.DataFrame, dtypes: dict[str, str]) -> pd.DataFrame:
    """``frame`` read back from the mart with the column types it was published with."""
    out = frame.copy()
    for column, dtype in dtypes.items():
        if dtype == "bool":
            out[column] = out[column].astype("int64").astype(bool)
        elif dtype == "object":  # text with gaps: the gaps are None, as pandas leaves them
            values = out[column].astype(object)
            out[column] = values.where(values.notna(), None)
        else:
            out[column] = out[column].astype(dtype)
    return out[list(dtypes)]


def plan_results(mart, *, school_year: str) -> plan.PlanResults:
    """The plan's results of ``school_year`` as published in ``mart``: what :func:`psychanalytics.plan.evaluate`
    computed from the store when the mart was published, without reaching the store.

    The rule data (staffing standards, the room rule, activity rules, full-time hours) are the package's
    defaults, as publishing used them; the hiring projections are recomputed from the published district
    gaps (:func:`psychanalytics.plan.projections`).

    Parameters
    ----------
    mart : str, Path or Mart
        A published mart (:func:`psychanalytics.mart.open_mart`).
    school_year : str
        A school year the store reported when the mart was published.

    Returns
    -------
    psychanalytics.plan.PlanResults

    Raises
    ------
    ValueError
        If the mart holds no results of ``school_year`` (the message names the years it holds).
    KeyError
        If the mart was published before these tables existed (publish it again).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from psychanalytics import store, synth
    >>> from psychanalytics.mart import publish
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> engine = store.connect(folder / "store.sqlite")
    >>> store.create_all(engine)
    >>> _ = synth.build_demo(engine, seed=1, students=600)
    >>> _ = publish(engine, folder / "mart.sqlite", tables=[*RESULTS.values(), RESULT_COLUMNS])
    >>> results = plan_results(folder / "mart.sqlite", school_year="2024-2025")
    >>> results.school_year, sorted(results.scorecard["check"].unique())[:2]
    ('2024-2025', ['counselling', 'courses'])
    """
    from psychanalytics import activities, facilities, staffing
    from psychanalytics._rules import year_start
    from psychanalytics.mart._read import open_mart

    reader = open_mart(mart)
    columns = reader.table(RESULT_COLUMNS.name)
    types = {
        table: dict(zip(part["column_name"], part["dtype"], strict=True))
        for table, part in columns.groupby("mart_table", sort=False)
    }

    def read(field: str) -> pd.DataFrame:
        name = f"{RESULTS_PREFIX}{field}"
        return _restored(reader.table(name), types[name])

    judged = {field: read(field) for field in JUDGED_FRAMES}
    years = list(dict.fromkeys(judged["scorecard"]["school_year"]))
    if school_year not in years:
        raise ValueError(f"the mart {reader.name} holds the plan's results of {years}, not {school_year!r}")
    frames = {}
    for field in RESULT_FRAMES:
        frame = read(field)
        if "school_year" in frame.columns:
            frame = frame[frame["school_year"].map(year_start) <= year_start(school_year)]
        frames[field] = frame.reset_index(drop=True)
    for field, frame in judged.items():
        frames[field] = frame[frame["school_year"] == school_year].reset_index(drop=True)
    standards = staffing.standards(*dict.fromkeys(frames["district_gaps"]["standard"]))
    return plan.PlanResults(
        school_year=school_year,
        **frames,
        projections=plan.projections(frames["district_gaps"], standards, school_year=school_year),
        standards=standards,
        room_rule=facilities.room_rule(),
        rules=activities.activity_rules(),
        synthetic=bool(reader.manifest["snapshot"]["synthetic"]),
        full_time_hours=staffing.FULL_TIME_WEEKLY_HOURS,
    )


__all__ = [
    "ATTAINMENT",
    "JUDGED_FRAMES",
    "PLANS",
    "RESULTS",
    "RESULT_COLUMNS",
    "RESULT_FRAMES",
    "SCHOOL_STATUS",
    "SCORECARD",
    "TARGETS",
    "plan_results",
]
