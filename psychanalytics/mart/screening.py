"""Mart tables of the 「心理普测」 page: PHQ-9 bands, screen-positive rates, the funnel of schools, coverage.

Each quantity is published at four **levels**, one table each (:data:`LEVELS`):
the district, by stage (学段, the school's), by urban / township (城乡, the
school's location: 乡镇中心 counts as 乡镇) and by both; every wave in each.
The page's filters choose one level's rows and never add cells up
(docs/privacy.md §2.5: fixed, pre-computed slices). A table has one set of
dimensions, so the district and its parts are cells of different tables of one
population (DESIGN.md decision 80): what the mart's linked pass needs to stop a
hidden part being recovered as total minus the shown parts. Students without
an enrolment that year are the stage and location :data:`UNKNOWN`.

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

from dataclasses import dataclass, replace
from functools import partial

import pandas as pd

from psychanalytics import screening
from psychanalytics.mart._registry import MartTable, register
from psychanalytics.privacy import PROTECTED_MARKER, LeaderView
from psychanalytics.privacy.suppression import suppress_complementary
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


def _with_waves(engine, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (a ``wave`` column) with the wave's id, label and first day, in wave order."""
    out = _waves(engine).merge(frame.rename(columns={"wave": "wave_id"}), on="wave_id", how="inner")
    return out.reset_index(drop=True)


def _bands(engine, *, level: tuple[str, ...], by: tuple[str, ...] = ()) -> pd.DataFrame:
    """Valid sheets in each band per wave, ``level`` and ``by``: the counts of a group add up to its ``n``."""
    counts = sq.band_counts(
        engine, instrument=SCREENING_INSTRUMENT, scale=SCREENING_SCALE, by=("wave", *level, *by)
    )
    columns = [*WAVE, *level, *by, "instrument", "scale", "band", "band_rank", "count", "n", "proportion"]
    if counts.empty:
        return pd.DataFrame(columns=columns)
    keys = ["wave", *level, *by]
    cells = _located(counts, level).groupby([*keys, "band", "band_rank"], dropna=False)["count"].sum()
    cells = cells.reset_index()
    cells["n"] = cells.groupby(keys, dropna=False)["count"].transform("sum")
    cells = cells.assign(
        instrument=SCREENING_INSTRUMENT,
        scale=SCREENING_SCALE,
        proportion=cells["count"] / cells["n"].where(cells["n"] > 0),
    )
    return _with_waves(engine, cells)[columns]


def _positive(engine, *, level: tuple[str, ...]) -> pd.DataFrame:
    """Screen-positive and screen-negative students per wave and ``level``, the rates with Wilson intervals.

    Both parts of each group are rows (``result``), so the students *not*
    screen-positive are protected as the positive are (a group where nearly
    everyone screened positive).
    """
    counts = sq.screen_positive_counts(engine, instrument=SCREENING_INSTRUMENT, by=("wave", "school", *level))
    columns = [*WAVE, *level, "result", "count", "n", "proportion", "low", "high"]
    if counts.empty:
        return pd.DataFrame(columns=columns)
    cells = _located(counts, level).assign(school=counts["school"].fillna(UNKNOWN))  # unenrolled: one cluster
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
    return _with_waves(engine, both)[columns]


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
    columns = [*WAVE, "school", "name", *SLICE, "count", "n", "proportion", *LIMITS, "outlier"]
    frames = [
        result.table.rename(columns={"value": "proportion"}).assign(
            wave=wave, outlier=result.table["position"].astype(str).map(OUTLIER)
        )
        for wave, _, result in _funnels(engine)
    ]
    if not frames:
        return pd.DataFrame(columns=columns)
    out = pd.concat(frames, ignore_index=True).merge(sq.school_names(engine), on="school", how="left")
    out = out.assign(location=out["location"].map(LOCATION_GROUPS))
    return _with_waves(engine, out)[columns]


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
    return _with_waves(engine, pd.DataFrame(rows))[columns]


def _coverage(engine, *, level: tuple[str, ...], part: str) -> pd.DataFrame:
    """``part="screened"``: students with a sheet of those enrolled in the grades screened; ``"invalid"``:
    invalid or unscoreable sheets (lie scale, unscoreable, the platform's 无效) of those sheets."""
    counts = sq.coverage_counts(engine, instrument=SCREENING_INSTRUMENT, by=("wave", *level))
    columns = [*WAVE, *level, "count", "n", "proportion"]
    if counts.empty:
        return pd.DataFrame(columns=columns)
    parts = ["enrolled", "screened", "invalid"]
    cells = _located(counts, level).groupby(["wave", *level], dropna=False)[parts].sum().reset_index()
    numerator, denominator = {"screened": ("screened", "enrolled"), "invalid": ("invalid", "screened")}[part]
    cells = cells.assign(count=cells[numerator], n=cells[denominator])
    cells["proportion"] = cells["count"] / cells["n"].where(cells["n"] > 0)
    return _with_waves(engine, cells)[columns]


@dataclass(frozen=True)
class PartsTable(MartTable):
    """A mart table whose rows are also the parts of totals other tables publish (a stage of the district).

    ``relations`` lists, for each such total, the columns naming it: the rows
    sharing their values add up to a count published elsewhere (assumed known,
    whether shown there or not). After the table's own policy, the
    complementary pass of :mod:`psychanalytics.privacy.suppression` runs on
    each relation and on the table's ``by`` groups until nothing changes, so a
    hidden part is never the only unknown of a sum (nor are the unknowns fewer
    than ``min_cell`` together). Interim: the mart's linked pass over every
    table (``privacy.linked``) supersedes it once these tables declare their
    populations (DESIGN.md decision 80).
    """

    relations: tuple[tuple[str, ...], ...] = ()

    def view(self, frame: pd.DataFrame, *, min_cell: int) -> LeaderView | None:
        view = super().view(frame, min_cell=min_cell)
        cells = view.cells
        estimates = ("proportion", "low", "high", *self.policy.get("estimates", ()))
        dependent = [c for c in estimates if c in cells.columns]
        passes = [*((keys, frame.groupby(list(keys), dropna=False)["count"].transform("sum")) for keys in
                    self.relations), *(((view.by, frame["n"]),) if view.by else ())]  # fmt: skip
        hidden = -1
        while hidden != int(cells["suppressed"].sum()):
            hidden = int(cells["suppressed"].sum())
            for keys, total in passes:
                cells = suppress_complementary(
                    cells.assign(total_=total.to_numpy()), by=keys, total="total_", min_cell=min_cell,
                    dependent=dependent,
                ).drop(columns="total_")  # fmt: skip
        marker = cells["marker"].mask(cells["suppressed"] & cells["marker"].eq(""), PROTECTED_MARKER)
        return replace(view, cells=cells.assign(marker=marker))


def _register_levels(
    name: str,
    title_zh: str,
    title_en: str,
    build,
    *,
    by: tuple[str, ...] | None,
    inner: tuple[str, ...],
    labels: tuple[str, ...] = (),
) -> dict[str, MartTable]:
    """One table of a quantity per level (:data:`LEVELS`); returns them by level suffix.

    ``by`` splits every level further (grade), ``inner`` names the columns of
    a cell within its group (band); each split column makes the rows parts of
    a total published by a coarser table (:class:`PartsTable`).
    """
    tables = {}
    for suffix, level in LEVELS.items():
        words = {
            (): ("", ""),
            ("stage",): ("按学段", "by stage"),
            ("location",): ("按城乡", "by urban / township"),
        }
        zh, en = words.get(level, ("按学段与城乡", "by stage and urban / township"))
        policy = {"labels": (*labels, *(("location",) if "location" in level else ()))}
        if by is not None:
            policy["by"] = ("wave_id", *level, *by)
        cell = ("wave_id", *level, *(by or ()), *inner)
        split = (*level, *(by or ()))
        tables[suffix] = register(
            PartsTable(
                f"{name}{suffix}",
                f"{title_zh}{'（' + zh + '）' if zh else ''}",
                f"{title_en}{', ' + en if en else ''}",
                partial(build, level=level),
                policy,
                relations=tuple(tuple(c for c in cell if c != column) for column in split),
            )
        )
    return tables


BANDS = _register_levels(
    "screening_bands",
    "各次普测 PHQ-9 风险等级人数",
    "PHQ-9 score bands per wave",
    _bands,
    by=(),
    inner=("band",),
)
GRADE_BANDS = _register_levels(
    "screening_grade_bands",
    "各次普测各年级 PHQ-9 风险等级人数",
    "PHQ-9 score bands per wave and grade",
    partial(_bands, by=("grade",)),
    by=("grade",),
    inner=("band",),
)
GENDER_BANDS = _register_levels(
    "screening_gender_bands",
    "各次普测分性别 PHQ-9 风险等级人数",
    "PHQ-9 score bands per wave and gender",
    partial(_bands, by=("gender",)),
    by=("gender",),
    inner=("band",),
)
POSITIVE = _register_levels(
    "screening_positive",
    "各次普测 PHQ-9 筛查阳性与阴性人数、筛查阳性率（含置信区间）",
    "PHQ-9 screen-positive and negative students per wave, rate with interval",
    _positive,
    by=(),
    inner=("result",),
    labels=("result",),
)
COVERAGE = _register_levels(
    "screening_coverage",
    "各次普测 PHQ-9 受测人数与应测人数",
    "students screened with PHQ-9 of those enrolled in the grades screened",
    partial(_coverage, part="screened"),
    by=None,
    inner=(),
)
INVALID = _register_levels(
    "screening_invalid",
    "各次普测 PHQ-9 无效问卷份数",
    "invalid or unscoreable PHQ-9 sheets per wave",
    partial(_coverage, part="invalid"),
    by=None,
    inner=(),
)
FUNNEL = register(
    PartsTable(
        "screening_funnel",
        "各校 PHQ-9 筛查阳性率与漏斗图控制限",
        "schools' PHQ-9 screen-positive rates and funnel limits",
        _funnel,
        {"labels": ("name", "location"), "estimates": (*LIMITS, "outlier")},
        relations=(("wave_id",), ("wave_id", "stage"), ("wave_id", "location"), ("wave_id", *SLICE)),
    )
)
FUNNEL_DISTRICT = register(
    MartTable(
        "screening_funnel_district",
        "漏斗图中心线：各校学生合计的筛查阳性率与学校间离散度",
        "the funnel's centre line (rate over the schools' students) and overdispersion",
        _funnel_district,
        {"labels": ("adjusted", "schools"), "estimates": ("phi", "tau2")},
    )
)
