"""Mart tables of the 「危机预警」 page: the funnel and the days between stages per school year, open cases by stage.

Crisis cases are few (about 90 a school year in the demo district), so every
table is counted from :func:`psychanalytics.crisis.case_histories` of the whole
store and protected like any other: counts under ``min_cell`` hidden, and the
medians between stages hidden with the cases they rest on (``estimates=``).
Each margin comes from one table only: the funnel per school year (no
all-years row beside it), open cases per stage for the district (no split by
waiting time beside it), so no hidden cell is the difference of two shown ones.

Examples
--------
>>> from psychanalytics.mart import TABLES
>>> TABLES["crisis_stage_times"].policy["estimates"]
('median', 'median_low', 'median_high')
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import sqlalchemy as sa

if TYPE_CHECKING:  # annotations only
    from psychanalytics import crisis

from psychanalytics.mart._registry import MartTable, register
from psychanalytics.store.queries import crisis as crisis_queries

MEDIANS = ("median", "median_low", "median_high")
"""The Kaplan-Meier median days between two stages and its interval: estimates from the row's cases."""
FUNNEL_COLUMNS = ["school_year", "crisis_stage", "from_stage", "count", "n", "proportion"]
TIMES_COLUMNS = ["school_year", "from_stage", "to_stage", "count", "n", *MEDIANS]
OPEN_COLUMNS = ["as_of", "position", "count", "n", "proportion"]
LEVEL_COLUMNS = ["school_year", "level", "count", "n", "proportion"]


def case_histories(engine: sa.Engine) -> crisis.CaseHistories | None:
    """Every crisis case of the store with its stage times, as of the latest event; ``None`` without a case.

    >>> from psychanalytics import store
    >>> engine = store.connect("sqlite://")
    >>> store.create_all(engine)
    >>> case_histories(engine) is None
    True
    """
    from psychanalytics import crisis  # imported on use: a page reading this table's name does not load it

    events = crisis_queries.crisis_events(engine)
    as_of = crisis_queries.crisis_as_of(engine)
    if events.empty or as_of is None:
        return None
    return crisis.case_histories(
        events, as_of=pd.Timestamp(as_of), sessions=crisis_queries.crisis_sessions(engine)
    )


def funnel_per_year(engine: sa.Engine) -> pd.DataFrame:
    """:func:`psychanalytics.crisis.funnel` per school year of the warning (rows stand alone, nested)."""
    from psychanalytics import crisis  # imported on use: a page reading this table's name does not load it

    histories = case_histories(engine)
    if histories is None:
        return pd.DataFrame(columns=FUNNEL_COLUMNS)
    return crisis.funnel(histories.cases, by="school_year")[FUNNEL_COLUMNS]


def stage_times_per_year(engine: sa.Engine) -> pd.DataFrame:
    """:func:`psychanalytics.crisis.stage_times` per school year: median days between stages, open cases censored.

    ``count``: cases that reached the later stage; ``n``: cases at risk. The
    Kaplan-Meier curves are not published: each step of a curve is one case.
    """
    from psychanalytics import crisis  # imported on use: a page reading this table's name does not load it

    histories = case_histories(engine)
    if histories is None:
        return pd.DataFrame(columns=TIMES_COLUMNS)
    times = crisis.stage_times(histories.cases, as_of=histories.as_of, by="school_year")
    return times.summary[TIMES_COLUMNS]


def open_by_stage(engine: sa.Engine) -> pd.DataFrame:
    """Every case by where it is at the data's date: ``closed`` or the open stage it waits at (district).

    :func:`psychanalytics.crisis.open_cases` summed over its waiting bands:
    one row per position, the positions of all cases add up to ``n``;
    ``as_of`` is the date of the latest crisis event.
    """
    from psychanalytics import crisis  # imported on use: a page reading this table's name does not load it

    histories = case_histories(engine)
    if histories is None:
        return pd.DataFrame(columns=OPEN_COLUMNS)
    cells = crisis.open_cases(histories.cases, as_of=histories.as_of)
    out = cells.groupby("position", sort=False).agg(count=("count", "sum"), n=("n", "first")).reset_index()
    out.insert(0, "as_of", histories.as_of.strftime("%Y-%m-%d"))
    out["proportion"] = out["count"] / out["n"]
    return out[OPEN_COLUMNS]


def raised_by_level(engine: sa.Engine) -> pd.DataFrame:
    """Warnings of each school year by the level of the network that raised them (班级 or 学校 …).

    The level is the one recorded on the case's ``raised`` event (the first,
    should a case hold two). Levels that never raised a warning in the store
    are left out (a row of zeros would hide its neighbours); the levels of a
    school year add up to its warnings, ``n``.
    """
    from psychanalytics import crisis  # imported on use: a page reading this table's name does not load it

    histories = case_histories(engine)
    if histories is None:
        return pd.DataFrame(columns=LEVEL_COLUMNS)
    events = crisis_queries.crisis_events(engine)
    raised = events[events["crisis_stage"] == "raised"].drop_duplicates("case_id")[["case_id", "level"]]
    cases = histories.cases[["case_id", "school_year"]].merge(raised, on="case_id", how="inner")
    levels = [code for code in crisis.codes("levels") if code in set(cases["level"])]
    counts = cases.groupby(["school_year", "level"]).size()
    years = sorted(cases["school_year"].dropna().unique())
    out = pd.MultiIndex.from_product([years, levels], names=["school_year", "level"]).to_frame(index=False)
    out["count"] = [int(counts.get(key, 0)) for key in zip(out["school_year"], out["level"], strict=True)]
    out["n"] = out.groupby("school_year")["count"].transform("sum")
    out["proportion"] = out["count"] / out["n"]
    return out[LEVEL_COLUMNS]


def _open(frame: pd.DataFrame) -> pd.Series:
    return frame["position"] != "closed"


FUNNEL = register(
    MartTable(
        "crisis_funnel",
        "各学年危机预警个案到达各阶段的人数（占前一阶段）",
        "crisis warnings reaching each stage, per school year",
        funnel_per_year,
        {"labels": ("crisis_stage", "from_stage")},
    )
)
STAGE_TIMES = register(
    MartTable(
        "crisis_stage_times",
        "各学年危机个案各阶段间用时中位数（天，含 95% 区间）",
        "median days between crisis stages with 95% intervals, per school year",
        stage_times_per_year,
        {"labels": ("from_stage", "to_stage"), "estimates": MEDIANS},
    )
)
RAISED_BY_LEVEL = register(
    MartTable(
        "crisis_raised_by_level",
        "各学年危机预警由班级、学校哪一级发现上报",
        "crisis warnings per school year by the level of the network that raised them",
        raised_by_level,
        {"by": ("school_year",), "labels": ("level",)},
    )
)
OPEN_BY_STAGE = register(
    MartTable(
        "crisis_open_by_stage",
        "截至数据日期未结案危机个案停在各阶段的人数（全区）",
        "open crisis cases by the stage they wait at, on the data's date (district)",
        open_by_stage,
        {"by": ("as_of",), "labels": ("position",)},
        headline=_open,
    )
)
