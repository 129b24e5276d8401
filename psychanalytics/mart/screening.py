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

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial

import numpy as np
import pandas as pd
import sqlalchemy as sa

from psychanalytics import screening
from psychanalytics.mart._registry import TABLES, MartTable, register
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
DISTRICT_ONLY = {"": ()}
"""The levels of the grade and gender tables: the district only. By stage and location as well, their sums
across the levels let an exact solver recover hidden cells that no single relation gives away (decision 80)."""
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


@dataclass(eq=False)
class Family:
    """Tables counting one population at several levels, protected together (:class:`PartsTable`).

    ``source(engine)`` is the one query of the finest cells; each member makes
    its table from it (``members``: name → ``make(source, waves)``). A row
    whose split column (``dims``) is absent from its table is that column's
    total (「全部」); ``inner`` names a cell within its group (band, result).
    """

    name: str
    source: Callable[[sa.Engine], pd.DataFrame]
    dims: tuple[str, ...]
    inner: tuple[str, ...]
    members: dict[str, Callable] = field(default_factory=dict)
    tied: tuple[str, ...] = ()
    cache: dict = field(default_factory=dict, repr=False)

    def raw(self, engine) -> dict[str, pd.DataFrame]:
        """Every member's counts; the same frames while the store's counts stay the same."""
        source, waves = self.source(engine), _waves(engine)
        kept = self.cache.get("source")
        if kept is None or not (kept[0].equals(source) and kept[1].equals(waves)):
            made = {name: make(source, waves) for name, make in self.members.items()}
            self.cache.clear()
            self.cache["source"] = (source, waves, made)
        return self.cache["source"][2]

    def protected(self, raw: dict[str, pd.DataFrame], min_cell: int) -> dict[str, pd.DataFrame]:
        """The members' leader views, then hidden further together (:func:`_hide_together`); cached per threshold."""
        if self.cache.get("protected", (None,))[0] != min_cell:
            views = {
                name: MartTable.view(TABLES[name], frame, min_cell=min_cell) for name, frame in raw.items()
            }
            cells = _hide_together(self, raw, {name: view.cells for name, view in views.items()}, min_cell)
            self.cache["protected"] = (
                min_cell,
                {name: replace(views[name], cells=c) for name, c in cells.items()},
            )
        return self.cache["protected"][1]


def _hide_together(family: Family, raw: dict, cells: dict, min_cell: int) -> dict[str, pd.DataFrame]:
    """Hide further cells until no relation among the family's tables gives a hidden one away.

    Relations: for each split column, the parts (its values) and their total
    (the row of a coarser table, 「全部」); within each table group, the cells
    and the group's ``n``. Where a relation's total is shown and its hidden
    parts are one, or hold fewer than ``min_cell`` together, or where its total
    is hidden and every part shown (the total would be their sum), the smallest
    shown part is hidden too (the total itself when it has one part: a stage
    in one location) — until nothing changes. The same complementary
    rule as :func:`psychanalytics.privacy.suppression.suppress_complementary`,
    across tables. Interim: ``privacy.linked`` will do this for the whole mart.
    """
    columns = ["quantity_", "wave_id", *family.dims, *family.inner]
    parts = []
    for name, frame in cells.items():
        quantity = name.removesuffix(
            next(x for x in sorted(LEVELS, key=len, reverse=True) if name.endswith(x))
        )
        part = frame.assign(
            table_=name, quantity_=quantity, row_=range(len(frame)), value_=raw[name]["count"].to_numpy()
        )
        parts.append(part.assign(**{d: SLICE_ALL for d in family.dims if d not in part.columns}))
    rows = pd.concat(parts, ignore_index=True)
    if rows.empty:
        return dict(cells)
    text = rows[columns].map(_key_text)
    hidden = rows["suppressed"].to_numpy(dtype=bool).copy()
    value = rows["value_"].to_numpy(dtype=float)
    relations = []
    for d in family.dims:
        key = text.drop(columns=d).agg("|".join, axis=1)
        total = text[d].eq(SLICE_ALL)
        totals = dict(zip(key[total], rows.index[total], strict=True))
        for k, members in rows.index[~total].groupby(key[~total].to_numpy()).items():
            relations.append((members.to_numpy(), totals.get(k)))
    if family.inner:  # within a table's group: its cells add up to its n (a virtual row: known unless small)
        group = rows[["table_"]].join(text.drop(columns=list(family.inner))).agg("|".join, axis=1)
        for members in rows.index.groupby(group.to_numpy()).values():
            n = float(raw_n(rows, raw, members[0]))
            value = np.append(value, n)
            hidden = np.append(hidden, n < min_cell)
            relations.append((members.to_numpy(), len(value) - 1))
    real = len(rows)  # indices at or past it are the groups' n: shown or not, never hidden here
    ties = []
    if family.tied:
        slice_key = text.drop(columns="quantity_").agg("|".join, axis=1)
        tied = rows["quantity_"].isin(family.tied).to_numpy()
        ties = [m.to_numpy() for m in rows.index[tied].groupby(slice_key[tied].to_numpy()).values()]
    changed = True
    while changed:
        changed = False
        for members in ties:
            if hidden[members].any() and not hidden[members].all():
                hidden[members] = True
                changed = True
        for members, total in relations:
            part_hidden = hidden[members]
            if total is not None and hidden[total]:
                exposed = not part_hidden.any()  # every part shown: the hidden total is their sum
            elif part_hidden.any():
                known = value[members].sum() if total is None else value[total]
                rest = known - value[members][~part_hidden].sum()
                exposed = part_hidden.sum() == 1 or rest < min_cell
            else:
                exposed = False
            if not exposed:
                continue
            shown = members[~part_hidden]
            if len(shown):
                hidden[shown[np.argmin(value[shown])]] = True
            elif total is not None and total < real:  # the part is the total (one stage in one location)
                hidden[total] = True
            else:
                continue
            changed = True
    out = {}
    for name, frame in cells.items():
        mask = hidden[:real][rows["table_"].eq(name).to_numpy()] & ~frame["suppressed"].to_numpy(dtype=bool)
        estimates = ("proportion", "low", "high", *TABLES[name].policy.get("estimates", ()))
        blank = {c: frame[c].mask(mask) for c in ("count", *estimates) if c in frame.columns}
        marker = frame["marker"].mask(mask, PROTECTED_MARKER)
        out[name] = frame.assign(**blank, suppressed=frame["suppressed"] | mask, marker=marker)
    return out


def _key_text(value) -> str:
    """A label as text, the same in every table: grade 7 whether stored as 7 or 7.0, a missing one ``?``."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return "?"
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def raw_n(rows: pd.DataFrame, raw: dict, index: int) -> int:
    """The true ``n`` of the group of ``rows``'s row ``index`` (its table's count, not the blanked one)."""
    return raw[rows.at[index, "table_"]]["n"].iloc[rows.at[index, "row_"]]


@dataclass(frozen=True)
class PartsTable(MartTable):
    """A mart table whose rows are also the parts of totals other tables publish (a stage of the district).

    A member of a :class:`Family` is protected with its family: its counts
    and those of the other levels, hidden further together
    (:func:`_hide_together`), so a hidden cell is neither the only unknown of
    a relation nor recoverable as a sum from another level. Otherwise (the
    funnel), ``relations`` lists the columns naming totals published
    elsewhere (assumed known): after the table's policy, the complementary
    pass of :mod:`psychanalytics.privacy.suppression` runs on each and on
    the ``by`` groups until nothing changes. Interim: the mart's linked pass
    over every table (``privacy.linked``) supersedes both once these tables
    declare their populations (DESIGN.md decision 80).
    """

    relations: tuple[tuple[str, ...], ...] = ()
    family: Family | None = None

    def view(self, frame: pd.DataFrame, *, min_cell: int) -> LeaderView | None:
        if self.family is not None:
            raw = self.family.cache.get("source", (None, None, {}))[2]
            if raw.get(self.name) is frame:
                return self.family.protected(raw, min_cell)[self.name]
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


def _family_member(engine, *, family: Family, name: str) -> pd.DataFrame:
    return family.raw(engine)[name]


def _register_levels(
    family: Family,
    name: str,
    title_zh: str,
    title_en: str,
    make,
    *,
    by: tuple[str, ...] | None,
    labels: tuple[str, ...] = (),
    levels: dict[str, tuple[str, ...]] = LEVELS,
) -> dict[str, MartTable]:
    """One table of a quantity per level (:data:`LEVELS`), members of ``family``; returns them by suffix.

    ``by`` splits every level further (grade); each split column makes the
    rows parts of a total another member publishes (:class:`PartsTable`).
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
        cell = ("wave_id", *level, *(by or ()), *family.inner)
        split = (*level, *(by or ()))
        family.members[f"{name}{suffix}"] = partial(make, level=level)
        tables[suffix] = register(
            PartsTable(
                f"{name}{suffix}",
                f"{title_zh}{'（' + zh + '）' if zh else ''}",
                f"{title_en}{', ' + en if en else ''}",
                partial(_family_member, family=family, name=f"{name}{suffix}"),
                policy,
                relations=tuple(tuple(c for c in cell if c != column) for column in split),
                family=family,
            )
        )
    return tables


BAND_FAMILY = Family("bands", _band_source, ("stage", "location", "grade", "gender"), ("band",))
POSITIVE_FAMILY = Family("positive", _positive_source, SLICE, ("result",))
COVERAGE_FAMILY = Family(
    "coverage", _coverage_source, SLICE, (), tied=("screening_coverage", "screening_invalid")
)

BANDS = _register_levels(
    BAND_FAMILY,
    "screening_bands",
    "各次普测 PHQ-9 风险等级人数",
    "PHQ-9 score bands per wave",
    _bands,
    by=(),
)
GRADE_BANDS = _register_levels(
    BAND_FAMILY,
    "screening_grade_bands",
    "各次普测各年级 PHQ-9 风险等级人数",
    "PHQ-9 score bands per wave and grade",
    partial(_bands, by=("grade",)),
    by=("grade",),
    levels=DISTRICT_ONLY,
)
GENDER_BANDS = _register_levels(
    BAND_FAMILY,
    "screening_gender_bands",
    "各次普测分性别 PHQ-9 风险等级人数",
    "PHQ-9 score bands per wave and gender",
    partial(_bands, by=("gender",)),
    by=("gender",),
    levels=DISTRICT_ONLY,
)
POSITIVE = _register_levels(
    POSITIVE_FAMILY,
    "screening_positive",
    "各次普测 PHQ-9 筛查阳性与阴性人数、筛查阳性率（含置信区间）",
    "PHQ-9 screen-positive and negative students per wave, rate with interval",
    _positive,
    by=(),
    labels=("result",),
)
COVERAGE = _register_levels(
    COVERAGE_FAMILY,
    "screening_coverage",
    "各次普测 PHQ-9 受测人数与应测人数",
    "students screened with PHQ-9 of those enrolled in the grades screened",
    partial(_coverage, part="screened"),
    by=None,
)
INVALID = _register_levels(
    COVERAGE_FAMILY,
    "screening_invalid",
    "各次普测 PHQ-9 无效问卷份数",
    "invalid or unscoreable PHQ-9 sheets per wave",
    partial(_coverage, part="invalid"),
    by=None,
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
