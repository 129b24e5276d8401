"""Screening counts pushed down into the database: small frames for :mod:`psychanalytics.screening`.

Every function runs aggregate SQL (SQLAlchemy Core, the same on SQLite and
PostgreSQL) and returns a small tidy frame of counts in the project's role
names — ``count`` a numerator, ``n`` its denominator — grouped by any of
:data:`GROUP_KEYS`. No student-level row leaves the database; the statistics
(intervals, design effects, funnels, transitions) are computed from these
frames by the pure functions of :mod:`psychanalytics.screening`.

Which sheets count
------------------
A *sheet* is one student's answers to one instrument in one wave. It is
**valid** when its ``validity`` row says so and the platform did not mark it
invalid (``platform_flag`` 99); invalid sheets (an MHT lie score of 7 or more,
an unscoreable scale, the platform's 无效) are counted by
:func:`coverage_counts` and left out of every distribution. Group keys are
taken from the student's enrolment in the wave's school year; a student
without one is grouped under a missing key, never dropped.

What counts as **screen-positive** comes from the instrument's spec
(:attr:`psychanalytics.instruments.InstrumentSpec.screen_positive`): a band
of a scale or above, or a flag (PHQ-9: total 10 or more, or item 9 of 1 or
more). A sheet whose result cannot be determined (a flag left undetermined by
a missing item, and no positive part) is in neither ``count`` nor ``n``.

Examples
--------
>>> from psychanalytics import store
>>> from psychanalytics.store.queries import screening as sq
>>> engine = store.connect("sqlite://")
>>> store.create_all(engine)
>>> sq.screen_positive_counts(engine, instrument="phq9", by=("wave", "school")).columns.tolist()
['wave', 'school', 'n', 'count']
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd
import sqlalchemy as sa

from psychanalytics import instruments
from psychanalytics.store.schema import (
    crisis_case,
    crisis_event,
    enrolment,
    response,
    school,
    score,
    score_flag,
    screening_wave,
    student,
    validity,
)

__all__ = [
    "GROUP_KEYS",
    "band_counts",
    "cohort_counts",
    "coverage_counts",
    "cutoff_counts",
    "score_histogram",
    "school_names",
    "screen_positive_students",
    "score_summary",
    "screen_positive_counts",
    "screening_action_counts",
]

GROUP_KEYS = ("wave", "school_year", "school", "stage", "location", "grade", "gender")
"""Keys every query here groups by (``by=``): the wave (its id), the wave's school year, and the
student's school, the school's stage and location (urban / township), grade and gender that year."""

PLATFORM_INVALID = 99
"""The platforms' validity code for an invalid sheet (无效; docs/instruments.md §2.11)."""


def _frame(engine: sa.Engine, stmt: sa.Select, *, rows: str | None = None) -> pd.DataFrame:
    """The result as a frame. ``rows`` names a ``count(*)`` column: an aggregate without groups returns
    one row even when nothing matched, which is dropped (no group, no row)."""
    with engine.connect() as conn:
        result = conn.execute(stmt)
        frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    if rows is not None:
        frame = frame[frame[rows].fillna(0) > 0].reset_index(drop=True)
    return frame


def _by(by: str | Sequence[str], allowed: Sequence[str] = GROUP_KEYS) -> tuple[str, ...]:
    out = (by,) if isinstance(by, str) else tuple(by)
    unknown = [k for k in out if k not in allowed]
    if unknown:
        raise ValueError(f"by: unknown grouping column(s) {unknown}; choose from {list(allowed)}")
    if len(set(out)) != len(out):
        raise ValueError(f"by: repeated grouping column in {out!r}")
    return out


class _Context:
    """One wave's enrolment, school and student joined to a pid: the columns the group keys name."""

    def __init__(
        self,
        pid: sa.ColumnElement,
        wave: sa.FromClause,
        *,
        suffix: str = "",
        roll: sa.FromClause | None = None,
    ):
        self.pid, self.wave, self.roll = pid, wave, roll is not None
        self.enrolment = roll if roll is not None else enrolment.alias(f"enrolment{suffix}")
        self.school = school.alias(f"school{suffix}")
        self.student = student.alias(f"student{suffix}")

    def join(self, frm: sa.FromClause) -> sa.FromClause:
        """``frm`` (holding ``pid`` and ``wave``) with the enrolment that year (unless it is the roll itself)."""
        e = self.enrolment
        if not self.roll:
            frm = frm.outerjoin(e, sa.and_(e.c.pid == self.pid, e.c.school_year == self.wave.c.school_year))
        return frm.outerjoin(self.school, self.school.c.school_id == e.c.school_id).outerjoin(
            self.student, self.student.c.pid == self.pid
        )

    def column(self, key: str) -> sa.ColumnElement:
        return {
            "wave": self.wave.c.wave_id,
            "school_year": self.wave.c.school_year,
            "school": self.enrolment.c.school_id,
            "stage": self.school.c.stage,
            "location": self.school.c.location,
            "grade": self.enrolment.c.grade,
            "gender": self.student.c.gender,
        }[key]

    def columns(self, by: Sequence[str], suffix: str = "") -> list[sa.Label]:
        return [self.column(k).label(f"{k}{suffix}") for k in by]


def _valid(v: sa.FromClause) -> sa.ColumnElement[bool]:
    flag = v.c.platform_flag
    return sa.and_(v.c.valid.is_(True), sa.or_(flag.is_(None), flag != PLATFORM_INVALID))


def _rule(instrument: str):
    """The instrument's screen-positive rule, refused when the store cannot apply it."""
    spec = instruments.get(instrument)
    rule = spec.screen_positive
    if rule is None:
        raise ValueError(f"{spec.code}: the spec defines no screen_positive rule")
    if rule.metric != "raw":
        raise ValueError(
            f"{spec.code}: screen-positive is defined on {rule.metric} scores ({rule.scale} band {rule.band!r} or "
            "above), which the store does not compute from raw answers (the norm tables are not public; "
            "DESIGN.md decision 6): no screen-positive count can be given"
        )
    return spec, rule


class _Sheets:
    """Valid sheets of one instrument (optionally one wave), with their band and screen-positive state.

    ``frm`` joins ``validity`` (the base: one row per sheet) to the screen-positive
    scale's score and one row of each rule flag; ``positive`` and ``determined``
    are SQL booleans, ``band``/``band_rank`` the scale's band.
    """

    def __init__(self, instrument: str, *, wave_id: str | None = None, name: str = ""):
        spec, rule = _rule(instrument)
        self.spec, self.rule = spec, rule
        v = validity.alias(f"validity{name}")
        self.validity = v
        frm: sa.FromClause = v
        conditions = [v.c.instrument == spec.code, _valid(v)]
        if wave_id is not None:
            conditions.append(v.c.wave_id == wave_id)
        self.score = None
        parts_positive, parts_known = [], []
        if rule.scale is not None:
            s = score.alias(f"score{name}")
            self.score = s
            frm = frm.join(
                s,
                sa.and_(
                    s.c.wave_id == v.c.wave_id,
                    s.c.pid == v.c.pid,
                    s.c.instrument == v.c.instrument,
                    s.c.scale == rule.scale,
                ),
            )
            parts_positive.append(s.c.band.in_(spec.positive_bands()))
            parts_known.append(s.c.band.is_not(None))
        for i, flag in enumerate(rule.flags):
            f = score_flag.alias(f"flag{name}_{i}")
            frm = frm.outerjoin(
                f,
                sa.and_(
                    f.c.wave_id == v.c.wave_id,
                    f.c.pid == v.c.pid,
                    f.c.instrument == v.c.instrument,
                    f.c.flag == flag,
                ),
            )
            parts_positive.append(f.c.value.is_(True))
            parts_known.append(f.c.value.is_not(None))
        self.positive = sa.or_(*parts_positive)
        self.determined = sa.or_(self.positive, sa.and_(*parts_known))
        self.band = self.score.c.band if self.score is not None else sa.null()
        self.band_rank = self.score.c.band_rank if self.score is not None else sa.null()
        self.frm, self.where = frm, sa.and_(*conditions)
        self.pid = v.c.pid
        self.wave_id = v.c.wave_id


def _count(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.sum(sa.case((condition, 1), else_=0))


def _as_int(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    return frame.astype({c: "int64" for c in columns})


def _sorted(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Rows in key order (missing keys last), index reset: queries return groups in a fixed order."""
    if not columns or frame.empty:
        return frame.reset_index(drop=True)
    return frame.sort_values(list(columns), na_position="last", kind="stable").reset_index(drop=True)


def _scored(instrument: str, scale: str) -> tuple[_Context, sa.FromClause, sa.ColumnElement]:
    """Valid sheets with a raw score on ``scale``, joined to their wave and the group keys' tables."""
    spec = instruments.get(instrument)
    spec.scale(scale)  # a KeyError naming the scales when unknown
    v = validity
    frm = score.join(
        v,
        sa.and_(v.c.wave_id == score.c.wave_id, v.c.pid == score.c.pid, v.c.instrument == score.c.instrument),
    ).join(screening_wave, screening_wave.c.wave_id == score.c.wave_id)
    context = _Context(score.c.pid, screening_wave)
    where = sa.and_(
        score.c.instrument == spec.code, score.c.scale == scale, score.c.raw.is_not(None), _valid(v)
    )
    return context, context.join(frm), where


def score_summary(
    engine: sa.Engine, *, instrument: str, scale: str = "total", by: str | Sequence[str] = ("wave",)
) -> pd.DataFrame:
    """Valid sheets, the sum of their raw scores and of the squares, per group: the inputs of a mean.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The store (SQLite or PostgreSQL).
    instrument, scale : str
        Which scores (``score.instrument``, ``score.scale``).
    by : str or sequence of str
        Any of :data:`GROUP_KEYS`.

    Returns
    -------
    pandas.DataFrame
        One row per group, in key order: the ``by`` columns, ``n`` (valid sheets
        with a score), ``total`` (sum of raw scores) and ``total_sq`` (sum of
        squared raw scores) — the input of
        :func:`psychanalytics.screening.mean_scores`.
    """
    by = _by(by)
    context, frm, where = _scored(instrument, scale)
    raw = score.c.raw
    columns = context.columns(by)
    stmt = (
        sa.select(
            *columns,
            sa.func.count().label("n"),
            sa.func.sum(raw).label("total"),
            sa.func.sum(raw * raw).label("total_sq"),
        )
        .select_from(frm)
        .where(where)
        .group_by(*columns)
    )
    out = _as_int(_frame(engine, stmt, rows="n"), ["n"]).astype({"total": float, "total_sq": float})
    return _sorted(out, by)


def score_histogram(
    engine: sa.Engine, *, instrument: str, scale: str = "total", by: str | Sequence[str] = ("wave",)
) -> pd.DataFrame:
    """How many valid sheets have each raw score, per group.

    Returns
    -------
    pandas.DataFrame
        One row per group and raw score present, in key order: the ``by``
        columns, ``raw``, ``count`` (sheets with that score) and ``n`` (valid
        sheets with a score in the group; the counts of a group add up to it).

    Examples
    --------
    >>> from psychanalytics import store
    >>> engine = store.connect("sqlite://")
    >>> store.create_all(engine)
    >>> score_histogram(engine, instrument="gad7", by=("wave", "gender")).columns.tolist()
    ['wave', 'gender', 'raw', 'count', 'n']
    """
    by = _by(by)
    context, frm, where = _scored(instrument, scale)
    columns = context.columns(by)
    stmt = (
        sa.select(*columns, score.c.raw, sa.func.count().label("count"))
        .select_from(frm)
        .where(where)
        .group_by(*columns, score.c.raw)
    )
    out = _as_int(_frame(engine, stmt), ["count"]).astype({"raw": float})
    out["n"] = (
        out.groupby(list(by), dropna=False)["count"].transform("sum").astype("int64")
        if by
        else (out["count"].sum())
    )
    return _sorted(out, [*by, "raw"])


def band_counts(
    engine: sa.Engine, *, instrument: str, scale: str = "total", by: str | Sequence[str] = ("wave",)
) -> pd.DataFrame:
    """Valid sheets in each band of a scale, per group; every band seen appears in every group.

    Returns
    -------
    pandas.DataFrame
        One row per group and band, in key and band order: the ``by`` columns,
        ``band``, ``band_rank``, ``count`` (sheets in the band; 0 where none)
        and ``n`` (banded valid sheets of the group: the counts add up to it).
    """
    by = _by(by)
    context, frm, where = _scored(instrument, scale)
    columns = context.columns(by)
    stmt = (
        sa.select(*columns, score.c.band, score.c.band_rank, sa.func.count().label("count"))
        .select_from(frm)
        .where(where, score.c.band.is_not(None))
        .group_by(*columns, score.c.band, score.c.band_rank)
    )
    counts = _frame(engine, stmt)
    if counts.empty:
        return pd.DataFrame(columns=[*by, "band", "band_rank", "count", "n"])
    bands = counts[["band", "band_rank"]].drop_duplicates().sort_values("band_rank")
    groups = counts[list(by)].drop_duplicates() if by else pd.DataFrame(index=[0])
    cells = groups.merge(bands, how="cross")
    out = cells.merge(counts, on=[*by, "band", "band_rank"], how="left")
    out["count"] = out["count"].fillna(0).astype("int64")
    out["band_rank"] = out["band_rank"].astype("int64")
    out["n"] = out.groupby(list(by), dropna=False)["count"].transform("sum") if by else out["count"].sum()
    return _sorted(_as_int(out, ["n"]), [*by, "band_rank"])


def screen_positive_counts(
    engine: sa.Engine, *, instrument: str, by: str | Sequence[str] = ("wave", "school")
) -> pd.DataFrame:
    """Screen-positive students per group, by the instrument's spec (cut-off band, or a flag).

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The store (SQLite or PostgreSQL).
    instrument : str
        An instrument whose spec defines ``screen_positive`` on raw scores
        (every registered one except MHT, whose cut-off is on standard scores:
        refused with the reason).
    by : str or sequence of str
        Any of :data:`GROUP_KEYS`.

    Returns
    -------
    pandas.DataFrame
        One row per group, in key order: the ``by`` columns, ``n`` (valid sheets
        whose result is determined) and ``count`` (screen-positive among them):
        the input of :func:`psychanalytics.screening.prevalence` and
        :func:`psychanalytics.screening.funnel`.
    """
    by = _by(by)
    sheets = _Sheets(instrument)
    wave = screening_wave
    context = _Context(sheets.pid, wave)
    columns = context.columns(by)
    frm = context.join(sheets.frm.join(wave, wave.c.wave_id == sheets.wave_id))
    stmt = (
        sa.select(
            *columns,
            _count(sheets.determined).label("n"),
            _count(sheets.positive).label("count"),
            sa.func.count().label("sheets"),
        )
        .select_from(frm)
        .where(sheets.where)
        .group_by(*columns)
    )
    out = _frame(engine, stmt, rows="sheets").drop(columns="sheets")
    return _sorted(_as_int(out, ["n", "count"]), by)


def screen_positive_students(engine: sa.Engine, *, instrument: str) -> pd.DataFrame:
    """One row per student and wave with a determined valid sheet: the input of a trend model.

    Not a count: a model of repeated measures (:func:`psychanalytics.screening.trend`,
    GEE clustered on schools) needs each student's result at each wave. For
    researchers' models only; nothing here may be shown to leaders as it is.

    Returns
    -------
    pandas.DataFrame
        ``pid``, ``wave``, the other :data:`GROUP_KEYS` of the wave's school year
        and ``positive`` (1 screen-positive by the spec, else 0), ordered by
        wave and pid.
    """
    sheets = _Sheets(instrument)
    wave = screening_wave
    context = _Context(sheets.pid, wave)
    frm = context.join(sheets.frm.join(wave, wave.c.wave_id == sheets.wave_id))
    stmt = (
        sa.select(
            sheets.pid.label("pid"),
            *context.columns(GROUP_KEYS),
            sa.case((sheets.positive, 1), else_=0).label("positive"),
        )
        .select_from(frm)
        .where(sheets.where, sheets.determined)
        .order_by(wave.c.window_start, sheets.pid)
    )
    out = _frame(engine, stmt)
    return out.astype({"positive": "int64", "grade": "Int64"})


def cutoff_counts(
    engine: sa.Engine,
    *,
    instrument: str,
    scale: str = "total",
    cutoffs: Sequence[float],
    by: str | Sequence[str] = ("wave",),
) -> pd.DataFrame:
    """Valid sheets at or above each of several cut-offs of a raw score, per group: yield by cut-off.

    Returns
    -------
    pandas.DataFrame
        One row per group and cut-off: the ``by`` columns, ``instrument``,
        ``scale``, ``cutoff``, ``n`` (valid sheets with a score) and ``count``
        (those with ``raw >= cutoff``): the input of
        :func:`psychanalytics.screening.screening_yield`.
    """
    by = _by(by)
    cutoffs = [float(c) for c in cutoffs]
    if not cutoffs or len(set(cutoffs)) != len(cutoffs):
        raise ValueError(f"cutoffs: give one or more distinct values, got {cutoffs}")
    context, frm, where = _scored(instrument, scale)
    columns = context.columns(by)
    sums = [_count(score.c.raw >= c).label(f"at_least_{i}") for i, c in enumerate(cutoffs)]
    stmt = (
        sa.select(*columns, sa.func.count().label("n"), *sums)
        .select_from(frm)
        .where(where)
        .group_by(*columns)
    )
    wide = _frame(engine, stmt, rows="n")
    long = wide.melt(
        id_vars=[*by, "n"], value_vars=[f"at_least_{i}" for i in range(len(cutoffs))], value_name="count"
    )
    long["cutoff"] = long["variable"].str.removeprefix("at_least_").astype(int).map(dict(enumerate(cutoffs)))
    long = long.assign(instrument=instruments.get(instrument).code, scale=scale)
    out = _as_int(long, ["n", "count"])[[*by, "instrument", "scale", "cutoff", "n", "count"]]
    return _sorted(out, [*by, "cutoff"])


def coverage_counts(
    engine: sa.Engine,
    *,
    instrument: str,
    by: str | Sequence[str] = ("wave", "school"),
    grades: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Students enrolled, screened and with an invalid sheet, per group: the coverage of a wave.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The store (SQLite or PostgreSQL).
    instrument : str
        The instrument screened.
    by : str or sequence of str
        Any of :data:`GROUP_KEYS`; ``wave`` (or ``school_year``) belongs in it
        unless the store holds one wave.
    grades : sequence of int, optional
        The grades the instrument was meant for. Default: in each wave, the
        grades in which anyone in the district answered it (PHQ-9 from grade 7
        in the demo), so a school that skipped a grade the district screened
        shows as uncovered.

    Returns
    -------
    pandas.DataFrame
        One row per group (enrolled or screened), in key order: the ``by``
        columns, ``enrolled`` (students enrolled that school year in the
        screened grades), ``screened`` (students with a sheet, valid or not)
        and ``invalid`` (sheets scored invalid or marked 无效 by the platform).
        A student screened without an enrolment that year is in ``screened``
        under missing keys. The input of :func:`psychanalytics.screening.coverage`.
    """
    by = _by(by)
    spec = instruments.get(instrument)
    wave = screening_wave
    screened_context = _Context(response.c.pid, wave)
    v = validity
    sheets = response.outerjoin(
        v,
        sa.and_(
            v.c.wave_id == response.c.wave_id,
            v.c.pid == response.c.pid,
            v.c.instrument == response.c.instrument,
        ),
    ).join(wave, wave.c.wave_id == response.c.wave_id)
    invalid = sa.or_(v.c.valid.is_(False), v.c.platform_flag == PLATFORM_INVALID)
    columns = screened_context.columns(by)
    screened = (
        sa.select(*columns, sa.func.count().label("screened"), _count(invalid).label("invalid"))
        .select_from(screened_context.join(sheets))
        .where(response.c.instrument == spec.code)
        .group_by(*columns)
    )
    roll = _Context(enrolment.c.pid, wave, suffix="_roll", roll=enrolment)
    frm = roll.join(enrolment.join(wave, wave.c.school_year == enrolment.c.school_year))
    if grades is None:
        e2 = enrolment.alias("answered_enrolment")
        eligible = (
            sa.select(response.c.wave_id, e2.c.grade)
            .select_from(
                response.join(wave, wave.c.wave_id == response.c.wave_id).join(
                    e2, sa.and_(e2.c.pid == response.c.pid, e2.c.school_year == wave.c.school_year)
                )
            )
            .where(response.c.instrument == spec.code)
            .distinct()
            .subquery("eligible")
        )
        frm = frm.join(
            eligible, sa.and_(eligible.c.wave_id == wave.c.wave_id, eligible.c.grade == enrolment.c.grade)
        )
        grade_filter = sa.true()
    else:
        grade_filter = enrolment.c.grade.in_([int(g) for g in grades])
    roll_columns = roll.columns(by)
    enrolled = (
        sa.select(*roll_columns, sa.func.count().label("enrolled"))
        .select_from(frm)
        .where(grade_filter)
        .group_by(*roll_columns)
    )
    a, b = _frame(engine, enrolled, rows="enrolled"), _frame(engine, screened, rows="screened")
    if by:
        out = a.merge(b, on=list(by), how="outer")
    else:
        out = pd.concat([a, b], axis=1)
    out = out.fillna({"enrolled": 0, "screened": 0, "invalid": 0})
    out = _as_int(out, ["enrolled", "screened", "invalid"])[[*by, "enrolled", "screened", "invalid"]]
    return _sorted(out, by)


def cohort_counts(
    engine: sa.Engine,
    *,
    instrument: str,
    by: str | Sequence[str] = (),
    waves: Sequence[tuple[str, str]] | None = None,
) -> pd.DataFrame:
    """The same students (``pid``) in two waves: their band and screen-positive state at each, counted.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The store (SQLite or PostgreSQL).
    instrument : str
        An instrument with a screen-positive rule on a banded scale (the states
        are that scale's bands).
    by : str or sequence of str
        Keys (any of :data:`GROUP_KEYS` but ``wave`` and ``school_year``), each
        returned twice: ``<key>_from`` at the earlier wave, ``<key>_to`` at the
        later one (``stage_from = "junior"``, ``stage_to = "senior"``: a stage
        transition).
    waves : sequence of (str, str), optional
        Pairs of wave ids; default each wave with the next in date order.

    Returns
    -------
    pandas.DataFrame
        One row per combination present: ``wave_from``, ``wave_to``, the
        ``by`` columns at both ends, ``state_from`` and ``state_to``, ``band_from``,
        ``band_rank_from``, ``positive_from``, ``band_to``, ``band_rank_to``,
        ``positive_to`` (band and 0/1 screen-positive where the state is
        ``"screened"``, else missing), ``moved`` (1 when both enrolments exist
        and the school differs, 0 when the same school, missing otherwise) and
        ``count`` (students). Every student with a determined valid sheet in
        either wave is counted once per pair. A state is ``"screened"`` (a
        determined valid sheet), ``"not_screened"`` (enrolled that school year
        without one: absent, no consent, invalid sheet, a grade not screened),
        ``"not_enrolled"`` (no enrolment that year) or, at the later wave only,
        ``"graduated"`` (not enrolled, and in grade 12 at the earlier wave).
        The input of :func:`psychanalytics.screening.cohorts`.
    """
    by = _by(by, [k for k in GROUP_KEYS if k not in ("wave", "school_year")])
    spec, rule = _rule(instrument)
    if rule.scale is None:
        raise ValueError(f"{spec.code}: screen-positive is a flag only; cohorts need a banded scale")
    order = _frame(engine, sa.select(screening_wave.c.wave_id).order_by(screening_wave.c.window_start))
    ids = order["wave_id"].tolist()
    pairs = list(zip(ids, ids[1:], strict=False)) if waves is None else [tuple(p) for p in waves]
    unknown = sorted({w for p in pairs for w in p} - set(ids))
    if unknown:
        raise ValueError(f"waves: unknown wave id(s) {unknown}; waves in the store: {ids}")
    frames = [_pair(engine, spec.code, by, a, b) for a, b in pairs]
    columns = _cohort_columns(by)
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    return out[columns]


def _cohort_columns(by: Sequence[str]) -> list[str]:
    ends = [f"{k}{e}" for e in ("_from", "_to") for k in by]
    states = [f"{c}{e}" for e in ("_from", "_to") for c in ("state", "band", "band_rank", "positive")]
    return ["wave_from", "wave_to", *ends, *states, "moved", "count"]


def _state_subquery(instrument: str, wave_id: str, name: str) -> sa.Subquery:
    sheets = _Sheets(instrument, wave_id=wave_id, name=name)
    return (
        sa.select(
            sheets.pid.label("pid"),
            sheets.band.label("band"),
            sheets.band_rank.label("band_rank"),
            sa.case((sheets.positive, 1), else_=0).label("positive"),
        )
        .select_from(sheets.frm)
        .where(sheets.where, sheets.determined)
        .subquery(f"state{name}")
    )


def _pair(engine: sa.Engine, instrument: str, by: tuple[str, ...], wave_a: str, wave_b: str) -> pd.DataFrame:
    """Both directions of one pair of waves: students screened at ``wave_a``, then those only at ``wave_b``."""
    w_a, w_b = screening_wave.alias("wave_a"), screening_wave.alias("wave_b")
    s_a, s_b = _state_subquery(instrument, wave_a, "_a"), _state_subquery(instrument, wave_b, "_b")
    out = []
    for base, other in ((s_a, s_b), (s_b, s_a)):
        pid = base.c.pid
        ctx_a, ctx_b = _Context(pid, w_a, suffix="_a"), _Context(pid, w_b, suffix="_b")
        frm = base.join(w_a, w_a.c.wave_id == wave_a).join(w_b, w_b.c.wave_id == wave_b)
        frm = ctx_b.join(ctx_a.join(frm)).outerjoin(other, other.c.pid == pid)
        first, second = (base, other) if base is s_a else (other, base)
        e_a, e_b = ctx_a.enrolment, ctx_b.enrolment
        state_a = sa.case(
            (first.c.pid.is_not(None), "screened"),
            (e_a.c.pid.is_not(None), "not_screened"),
            else_="not_enrolled",
        )
        state_b = sa.case(
            (second.c.pid.is_not(None), "screened"),
            (e_b.c.pid.is_not(None), "not_screened"),
            (e_a.c.grade == 12, "graduated"),
            else_="not_enrolled",
        )
        moved = sa.case(
            (sa.or_(e_a.c.pid.is_(None), e_b.c.pid.is_(None)), sa.null()),
            (e_a.c.school_id != e_b.c.school_id, 1),
            else_=0,
        )
        columns = [
            *ctx_a.columns(by, "_from"),
            *ctx_b.columns(by, "_to"),
            state_a.label("state_from"),
            first.c.band.label("band_from"),
            first.c.band_rank.label("band_rank_from"),
            first.c.positive.label("positive_from"),
            state_b.label("state_to"),
            second.c.band.label("band_to"),
            second.c.band_rank.label("band_rank_to"),
            second.c.positive.label("positive_to"),
            moved.label("moved"),
        ]
        stmt = sa.select(*columns, sa.func.count().label("count")).select_from(frm).group_by(*columns)
        if base is s_b:
            stmt = stmt.where(other.c.pid.is_(None))  # students screened at both are counted once, above
        out.append(_frame(engine, stmt))
    frame = pd.concat(out, ignore_index=True).assign(wave_from=wave_a, wave_to=wave_b)
    frame = frame.astype(
        {
            "count": "int64",
            **{
                c: "Int64"
                for c in ("band_rank_from", "band_rank_to", "positive_from", "positive_to", "moved")
            },
        }
    )
    return frame


def screening_action_counts(
    engine: sa.Engine,
    *,
    instrument: str = "phq9",
    within_days: int = 14,
    by: str | Sequence[str] = ("wave", "school"),
) -> pd.DataFrame:
    """Of the students a wave flagged, how many entered the crisis system, were interviewed, referred.

    A student is *flagged* when screen-positive by the instrument's spec (PHQ-9:
    total 10 or more, or item 9 of 1 or more however low the total). Follow-up
    is read from the crisis records: a ``crisis_case`` of the student whose
    ``raised`` event falls in the **follow-up window** — from the wave's first
    day to ``within_days`` days after its last — counts as *raised*; its
    ``confirmed`` event (the interview that confirmed the risk) or ``referred``
    event in the same window as *confirmed* or *referred*. A case need not be
    linked to the wave: a flagged student a teacher reported in the same weeks
    was followed up all the same.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The store (SQLite or PostgreSQL).
    instrument : str
        The screening instrument (default PHQ-9).
    within_days : int
        Days after the wave's last day that still count as timely (default 14).
    by : str or sequence of str
        Any of :data:`GROUP_KEYS`.

    Returns
    -------
    pandas.DataFrame
        One row per group and reason, in key order: the ``by`` columns,
        ``reason`` (``"cutoff"``: the band reached the cut-off, with or without
        a flag; ``"flag"``: a flag alone, e.g. item 9 with a total under 10),
        ``n`` (students flagged), ``raised``, ``confirmed`` and ``referred``
        (of them, with a case, an interview, a referral in the window): the
        input of :func:`psychanalytics.screening.screening_action`.

    Examples
    --------
    >>> from psychanalytics import store
    >>> engine = store.connect("sqlite://")
    >>> store.create_all(engine)
    >>> screening_action_counts(engine).columns.tolist()
    ['wave', 'school', 'reason', 'n', 'raised', 'confirmed', 'referred']
    """
    by = _by(by)
    if isinstance(within_days, bool) or not isinstance(within_days, int) or within_days < 0:
        raise ValueError(f"within_days must be a whole number of days >= 0, got {within_days!r}")
    sheets = _Sheets(instrument)
    wave = screening_wave
    windows = _frame(engine, sa.select(wave.c.wave_id, wave.c.window_start, wave.c.window_end))
    columns = [*by, "reason", "n", "raised", "confirmed", "referred"]
    if windows.empty:
        return pd.DataFrame(columns=columns)
    start = sa.case(
        {
            w: sa.literal(_midnight(s), sa.DateTime)
            for w, s in zip(windows["wave_id"], windows["window_start"], strict=True)
        },
        value=wave.c.wave_id,
    )
    end = sa.case(
        {
            w: sa.literal(_midnight(e) + dt.timedelta(days=within_days + 1), sa.DateTime)
            for w, e in zip(windows["wave_id"], windows["window_end"], strict=True)
        },
        value=wave.c.wave_id,
    )
    ev = crisis_event

    def first(stage: str) -> sa.Label:
        return sa.func.min(sa.case((ev.c.stage == stage, ev.c.occurred_at))).label(stage)

    cases = (
        sa.select(crisis_case.c.pid, first("raised"), first("confirmed"), first("referred"))
        .select_from(crisis_case.join(ev, ev.c.case_id == crisis_case.c.case_id))
        .group_by(crisis_case.c.case_id, crisis_case.c.pid)
        .subquery("cases")
    )
    context = _Context(sheets.pid, wave)
    keys = context.columns(by)
    if sheets.score is not None:
        reason = sa.case((sheets.score.c.band.in_(sheets.spec.positive_bands()), "cutoff"), else_="flag")
    else:
        reason = sa.literal("flag")
    in_window = sa.and_(cases.c.raised >= start, cases.c.raised < end)
    frm = context.join(sheets.frm.join(wave, wave.c.wave_id == sheets.wave_id)).outerjoin(
        cases, sa.and_(cases.c.pid == sheets.pid, in_window)
    )
    # one row per flagged student first (a student may have two cases in the window), then per group
    students = (
        sa.select(
            *keys,
            reason.label("reason"),
            sa.func.max(sa.case((cases.c.raised.is_not(None), 1), else_=0)).label("raised"),
            sa.func.max(sa.case((cases.c.confirmed < end, 1), else_=0)).label("confirmed"),
            sa.func.max(sa.case((cases.c.referred < end, 1), else_=0)).label("referred"),
        )
        .select_from(frm)
        .where(sheets.where, sheets.positive)
        .group_by(sheets.wave_id, sheets.pid, *keys, reason)
        .subquery("flagged")
    )
    outer = [students.c[k] for k in (*by, "reason")]
    stmt = sa.select(
        *outer,
        sa.func.count().label("n"),
        *(sa.func.sum(students.c[k]).label(k) for k in ("raised", "confirmed", "referred")),
    ).group_by(*outer)
    out = _as_int(_frame(engine, stmt, rows="n"), ["n", "raised", "confirmed", "referred"])
    return _sorted(out[columns], [*by, "reason"])


def school_names(engine: sa.Engine) -> pd.DataFrame:
    """The schools (public facts, for labels): ``school``, ``name``, ``stage``, ``location``, in id order.

    Examples
    --------
    >>> from psychanalytics import store
    >>> engine = store.connect("sqlite://")
    >>> store.create_all(engine)
    >>> school_names(engine).columns.tolist()
    ['school', 'name', 'stage', 'location']
    """
    s = school.c
    stmt = sa.select(s.school_id.label("school"), s.name, s.stage, s.location).order_by(s.school_id)
    return _frame(engine, stmt)


def _midnight(day) -> dt.datetime:
    day = pd.Timestamp(day).date()
    return dt.datetime(day.year, day.month, day.day)
