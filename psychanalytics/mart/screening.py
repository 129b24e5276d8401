"""Mart tables of the 「心理普测」 page: PHQ-9 bands, screen-positive rates, the funnel of schools, coverage.

Each quantity is published at four **levels**, one table each (:data:`LEVELS`):
the district, by stage (学段, the school's), by urban / township (城乡, the
school's location: 乡镇中心 counts as 乡镇) and by both; every wave in each.
The page's filters choose one level's rows and never add cells up
(docs/privacy.md §2.5: fixed, pre-computed slices). A table has one set of
dimensions, and each declares its cells in one universe, students with a
PHQ-9 sheet (:func:`~psychanalytics.mart._registry.sheets`; DESIGN.md decision
80): the district and its parts, valid and invalid sheets, a school and its
stage are then sums the mart's linked pass
(:func:`~psychanalytics.privacy.linked.suppress_linked`) protects, so no hidden
part is recovered as a total minus the shown parts. Students without an
enrolment that year are the stage and location :data:`UNKNOWN`.

Screen-positive follows the instrument's spec (PHQ-9: total >= 10 or item 9 >=
1; :func:`psychanalytics.store.queries.screening.screen_positive_counts`); its
rate carries a Wilson interval widened by the design effect of students
clustered in schools (:func:`psychanalytics.screening.prevalence`). Schools are
compared on a funnel plot only (:func:`psychanalytics.screening.funnel`): a
school's rate and position are published only when its counts pass the policy.

Examples
--------
>>> from psychanalytics.mart import TABLES
>>> TABLES["screening_funnel"].policy["estimates"]
('ll95', 'ul95', 'll998', 'ul998', 'outlier')
>>> sorted(name for name in TABLES if name.startswith("screening_bands"))
['screening_bands', 'screening_bands_location', 'screening_bands_stage', 'screening_bands_stage_location']
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import pandas as pd

from psychanalytics import screening
from psychanalytics.mart._registry import MartTable, register, sheets
from psychanalytics.privacy.linked import Population
from psychanalytics.store import queries
from psychanalytics.store.queries import screening as sq

SCREENING_INSTRUMENT = "phq9"
"""The page's one instrument: its bands, screen-positive rule, coverage and invalid sheets."""
SCREENING_SCALE = "total"
SLICE_ALL = "all"
"""The page's value of ``stage`` or ``location`` for a table that does not split by it (全部)."""
UNKNOWN = "unknown"
"""The stage and location of students the store has no enrolment for that year."""
LEVELS = {"": (), "_stage": ("stage",), "_location": ("location",), "_stage_location": ("stage", "location")}
"""Table-name suffix → the columns a level splits by."""
DISTRICT_ONLY = {"": ()}
"""The levels of the grade and gender tables: the district only. A grade by stage is not a dimension set
nested in the stage levels' (nor the reverse), so those sums would need tables of their own (decision 80)."""
LOCATION_GROUPS = {"urban": "urban", "township_central": "township", "township": "township"}
"""城乡 as the page's filter has it: a school's location, 乡镇中心 with 乡镇."""
FUNNEL_OVERDISPERSION_FROM = 3
"""Schools needed before the funnel estimates overdispersion (as the researchers' explorer does)."""
OUTLIER = {"below": -1, "within": 0, "above": 1}
"""A school's funnel position as the number published (blanked with its counts, as its rate is)."""
SLICE = ("stage", "location")
WAVE = ("wave_id", "wave_label", "window_start")
LIMITS = ("ll95", "ul95", "ll998", "ul998")


def _waves(engine) -> pd.DataFrame:
    """Wave id, label and first day (the page's order), from the store's waves."""
    return queries.screened_per_wave(engine)[["wave_id", "wave_label", "window_start"]]


def _located(frame: pd.DataFrame, level: tuple[str, ...]) -> pd.DataFrame:
    """``frame``'s ``level`` columns as the page has them: 城乡 grouped, a missing one :data:`UNKNOWN`."""
    out = frame.copy()
    if "location" in level:
        out["location"] = out["location"].map(LOCATION_GROUPS)
    for column in level:
        out[column] = out[column].fillna(UNKNOWN)
    return out


def _with_waves(waves: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (a ``wave`` column) with the wave's id, label and first day (:func:`_waves`), in wave order."""
    out = waves.merge(frame.rename(columns={"wave": "wave_id"}), on="wave_id", how="inner")
    return out.reset_index(drop=True)


def _band_source(engine) -> pd.DataFrame:
    """Valid PHQ-9 sheets per band in the finest cells every band table sums (one query per publication)."""
    return sq.band_counts(
        engine,
        instrument=SCREENING_INSTRUMENT,
        scale=SCREENING_SCALE,
        by=("wave", "stage", "location", "grade", "gender"),
    )


def _bands(source, waves, *, level: tuple[str, ...], by: tuple[str, ...] = ()) -> pd.DataFrame:
    """Valid sheets in each band per wave, ``level`` and ``by``: the counts of a group add up to its ``n``."""
    columns = [*WAVE, *level, *by, "instrument", "scale", "band", "band_rank", "count", "n", "proportion"]
    if source.empty:
        return pd.DataFrame(columns=columns)
    keys = ["wave", *level, *by]
    cells = _located(source, level).groupby([*keys, "band", "band_rank"], dropna=False)["count"].sum()
    cells = cells.reset_index()
    cells["n"] = cells.groupby(keys, dropna=False)["count"].transform("sum")
    cells = cells.assign(
        instrument=SCREENING_INSTRUMENT,
        scale=SCREENING_SCALE,
        proportion=cells["count"] / cells["n"].where(cells["n"] > 0),
    )
    return _with_waves(waves, cells)[columns]


def _positive_source(engine) -> pd.DataFrame:
    """Screen-positive students (the spec's rule) per wave and school, with the school's stage and location."""
    return sq.screen_positive_counts(
        engine, instrument=SCREENING_INSTRUMENT, by=("wave", "school", "stage", "location")
    )


def _positive(source, waves, *, level: tuple[str, ...]) -> pd.DataFrame:
    """Screen-positive and screen-negative students per wave and ``level``, the rates with Wilson intervals.

    Both parts of each group are rows (``result``), so the students *not*
    screen-positive are protected as the positive are (a group where nearly
    everyone screened positive).
    """
    columns = [*WAVE, *level, "result", "count", "n", "proportion", "low", "high"]
    if source.empty:
        return pd.DataFrame(columns=columns)
    cells = _located(source, level).assign(school=source["school"].fillna(UNKNOWN))  # unenrolled: a cluster
    rates = screening.prevalence(cells, by=("wave", *level), cluster="school", method="wilson")
    rates = rates[rates["n"] > 0]
    positive = rates[["wave", *level, "count", "n", "proportion", "low", "high"]].assign(result="positive")
    negative = positive.assign(
        result="negative",
        count=positive["n"] - positive["count"],
        proportion=1 - positive["proportion"],
        low=1 - positive["high"],
        high=1 - positive["low"],
    )
    both = pd.concat([positive, negative], ignore_index=True).sort_values(["wave", *level, "result"])
    return _with_waves(waves, both)[columns]


def _funnels(engine) -> list[tuple[str, pd.DataFrame, screening.FunnelResult]]:
    """Per wave: its schools' counts (nobody screened: left out) and their funnel."""
    counts = sq.screen_positive_counts(engine, instrument=SCREENING_INSTRUMENT, by=("wave", "school"))
    counts = counts.dropna(subset=["school"])
    counts = counts[counts["n"] > 0]
    return [
        (
            wave,
            schools,
            screening.funnel(
                schools[["school", "count", "n"]],
                numerator="count",
                denominator="n",
                overdispersion=len(schools) >= FUNNEL_OVERDISPERSION_FROM,
            ),
        )
        for wave, schools in counts.groupby("wave", sort=True)
    ]


def _funnel(engine) -> pd.DataFrame:
    """Each school's screen-positive rate against the funnel limits around the district rate, per wave.

    The limits, the district rate and the position come from
    :func:`psychanalytics.screening.funnel` over every school of the wave; the
    position is published as :data:`OUTLIER` (an estimate, blanked with the
    school's counts, as its rate is).
    """
    columns = [*WAVE, "school", "school_name", *SLICE, "count", "n", "proportion", *LIMITS, "outlier"]
    frames = [
        result.table.rename(columns={"value": "proportion"}).assign(
            wave=wave, outlier=result.table["position"].astype(str).map(OUTLIER)
        )
        for wave, _, result in _funnels(engine)
    ]
    if not frames:
        return pd.DataFrame(columns=columns)
    names = sq.school_names(engine).rename(columns={"name": "school_name"})  # a school's, never a student's
    out = pd.concat(frames, ignore_index=True).merge(names, on="school", how="left")
    out = out.assign(location=out["location"].map(LOCATION_GROUPS))
    return _with_waves(_waves(engine), out)[columns]


def _funnel_district(engine) -> pd.DataFrame:
    """Per wave, the funnel's centre line (the rate over the schools' students) and its overdispersion."""
    columns = [*WAVE, "count", "n", "proportion", "phi", "tau2", "adjusted", "schools"]
    rows = [
        {
            "wave": wave,
            "count": int(schools["count"].sum()),
            "n": int(schools["n"].sum()),
            "proportion": result.target,
            "phi": result.phi,
            "tau2": result.tau2 if result.adjusted else 0.0,
            "adjusted": result.adjusted,
            "schools": len(schools),
        }
        for wave, schools, result in _funnels(engine)
    ]
    if not rows:
        return pd.DataFrame(columns=columns)
    return _with_waves(_waves(engine), pd.DataFrame(rows))[columns]


def _coverage_source(engine) -> pd.DataFrame:
    """Students enrolled (grades screened), screened and with an invalid PHQ-9 sheet, per wave, stage, location."""
    return sq.coverage_counts(engine, instrument=SCREENING_INSTRUMENT, by=("wave", "stage", "location"))


def _coverage(source, waves, *, level: tuple[str, ...], part: str) -> pd.DataFrame:
    """``part="screened"``: students with a sheet of those enrolled in the grades screened; ``"invalid"``:
    invalid or unscoreable sheets (lie scale, unscoreable, the platform's 无效) of those sheets."""
    columns = [*WAVE, *level, "count", "n", "proportion"]
    if source.empty:
        return pd.DataFrame(columns=columns)
    parts = ["enrolled", "screened", "invalid"]
    cells = _located(source, level).groupby(["wave", *level], dropna=False)[parts].sum().reset_index()
    numerator, denominator = {"screened": ("screened", "enrolled"), "invalid": ("invalid", "screened")}[part]
    cells = cells.assign(count=cells[numerator], n=cells[denominator])
    cells["proportion"] = cells["count"] / cells["n"].where(cells["n"] > 0)
    return _with_waves(waves, cells)[columns]


def _level_table(make, source, engine, *, level: tuple[str, ...]) -> pd.DataFrame:
    return make(source(engine), _waves(engine), level=level)


def _register_levels(
    name: str,
    title_zh: str,
    title_en: str,
    make,
    source,
    population: Callable[[tuple[str, ...]], dict[str, Population]],
    *,
    by: tuple[str, ...] | None,
    labels: tuple[str, ...] = (),
    levels: dict[str, tuple[str, ...]] = LEVELS,
) -> dict[str, MartTable]:
    """One table of a quantity per level (:data:`LEVELS`); returns them by suffix.

    ``population(columns)`` says what a level's ``count`` and ``n`` count,
    ``columns`` the level's split columns and ``by``'s: the levels are cells
    of one universe, so the mart's linked pass relates each total to its
    parts across the tables (:func:`~psychanalytics.privacy.linked.suppress_linked`).
    ``by`` splits every level further (grade) and groups its cells.
    """
    tables = {}
    for suffix, level in levels.items():
        words = {
            (): ("", ""),
            ("stage",): ("按学段", "by stage"),
            ("location",): ("按城乡", "by urban / township"),
        }
        zh, en = words.get(level, ("按学段与城乡", "by stage and urban / township"))
        policy = {"labels": (*labels, *(("location",) if "location" in level else ()))}
        if by is not None:
            policy["by"] = ("wave_id", *level, *by)
        tables[suffix] = register(
            MartTable(
                f"{name}{suffix}",
                f"{title_zh}{'（' + zh + '）' if zh else ''}",
                f"{title_en}{', ' + en if en else ''}",
                partial(_level_table, make, source, level=level),
                policy,
                population=population((*level, *(by or ()))),
            )
        )
    return tables


def _valid(*dimensions: str, **given) -> Population:
    """Students with a valid PHQ-9 sheet in a wave (banded), in the cell ``dimensions`` name."""
    return sheets(SCREENING_INSTRUMENT, "wave_id", *dimensions, sheet="valid", **given)


def _band_cells(columns: tuple[str, ...]) -> dict[str, Population]:
    return {"count": _valid(*columns, "band"), "n": _valid(*columns)}


def _result_cells(columns: tuple[str, ...]) -> dict[str, Population]:
    return {"count": _valid(*columns, "result"), "n": _valid(*columns)}


def _screened_cells(columns: tuple[str, ...]) -> dict[str, Population]:
    return {
        "count": sheets(SCREENING_INSTRUMENT, "wave_id", *columns),
        "n": Population(f"{SCREENING_INSTRUMENT} enrolled, grades screened", ("wave_id", *columns)),
    }


def _invalid_cells(columns: tuple[str, ...]) -> dict[str, Population]:
    return {
        "count": sheets(SCREENING_INSTRUMENT, "wave_id", *columns, sheet="invalid"),
        "n": sheets(SCREENING_INSTRUMENT, "wave_id", *columns),
    }


BANDS = _register_levels(
    "screening_bands",
    "各次普测 PHQ-9 风险等级人数",
    "PHQ-9 score bands per wave",
    _bands,
    _band_source,
    _band_cells,
    by=(),
)
GRADE_BANDS = _register_levels(
    "screening_grade_bands",
    "各次普测各年级 PHQ-9 风险等级人数",
    "PHQ-9 score bands per wave and grade",
    partial(_bands, by=("grade",)),
    _band_source,
    _band_cells,
    by=("grade",),
    levels=DISTRICT_ONLY,
)
GENDER_BANDS = _register_levels(
    "screening_gender_bands",
    "各次普测分性别 PHQ-9 风险等级人数",
    "PHQ-9 score bands per wave and gender",
    partial(_bands, by=("gender",)),
    _band_source,
    _band_cells,
    by=("gender",),
    levels=DISTRICT_ONLY,
)
POSITIVE = _register_levels(
    "screening_positive",
    "各次普测 PHQ-9 筛查阳性与阴性人数、筛查阳性率（含置信区间）",
    "PHQ-9 screen-positive and negative students per wave, rate with interval",
    _positive,
    _positive_source,
    _result_cells,
    by=(),
    labels=("result",),
)
COVERAGE = _register_levels(
    "screening_coverage",
    "各次普测 PHQ-9 受测人数与应测人数",
    "students screened with PHQ-9 of those enrolled in the grades screened",
    partial(_coverage, part="screened"),
    _coverage_source,
    _screened_cells,
    by=None,
)
INVALID = _register_levels(
    "screening_invalid",
    "各次普测 PHQ-9 无效问卷份数",
    "invalid or unscoreable PHQ-9 sheets per wave",
    partial(_coverage, part="invalid"),
    _coverage_source,
    _invalid_cells,
    by=None,
)
IN_SCHOOL = {"in_school": True}
"""The funnel's students: those of a school (unenrolled students are in the levels' tables, not the funnel's)."""
FUNNEL = register(
    MartTable(
        "screening_funnel",
        "各校 PHQ-9 筛查阳性率与漏斗图控制限",
        "schools' PHQ-9 screen-positive rates and funnel limits",
        _funnel,
        {"labels": ("school_name", "location"), "estimates": (*LIMITS, "outlier")},
        population={
            "count": _valid("school", *SLICE, result="positive", **IN_SCHOOL),
            "n": _valid("school", *SLICE, **IN_SCHOOL),
        },
    )
)
FUNNEL_DISTRICT = register(
    MartTable(
        "screening_funnel_district",
        "漏斗图中心线：各校学生合计的筛查阳性率与学校间离散度",
        "the funnel's centre line (rate over the schools' students) and overdispersion",
        _funnel_district,
        {"labels": ("adjusted", "schools"), "estimates": ("phi", "tau2")},
        population={"count": _valid(result="positive", **IN_SCHOOL), "n": _valid(**IN_SCHOOL)},
    )
)
