"""Reads for the crisis pathway and the classified archives (SQLite and PostgreSQL alike).

Crisis cases are few (about 1 % of students a year), so their events come back
one row per event, pseudonymous, for :func:`psychanalytics.crisis.case_histories`;
everything proportional to enrolment (archive coverage, changes of school) is
counted here and comes back as small frames of counts. What a leader may see
of any of it is decided by the caller through :func:`psychanalytics.privacy.leader_view`;
case-level rows reach school staff only through :func:`psychanalytics.crisis.school_cases`.

Examples
--------
>>> from psychanalytics import store
>>> from psychanalytics.store.queries import crisis
>>> engine = store.connect("sqlite://")
>>> store.create_all(engine)
>>> crisis.crisis_events(engine).columns.tolist()
['case_id', 'pid', 'school', 'source', 'severity', 'local_label', 'wave_id', 'seq', 'crisis_stage', 'level', 'occurred_at']
>>> crisis.crisis_as_of(engine) is None
True
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import sqlalchemy as sa

from psychanalytics.store.packing import unpack_items
from psychanalytics.store.reads import read_frame
from psychanalytics.store.schema import (
    ARCHIVE_CATEGORIES,
    archive_category,
    archive_transfer,
    counselling_session,
    crisis_case,
    crisis_event,
    enrolment,
    response,
    score,
    score_flag,
    screening_wave,
)

__all__ = [
    "archive_categories",
    "crisis_as_of",
    "crisis_events",
    "crisis_sessions",
    "flagged_students",
    "item_answers",
    "school_moves",
]

NO_ARCHIVE = "none"
"""``category`` of enrolled students without an archive record that school year."""

_BATCH = 500
"""pids per ``IN`` list (well under SQLite's parameter limit)."""


def crisis_events(engine: sa.Engine, *, school: str | None = None) -> pd.DataFrame:
    """Every stage event with its case, one row per event, pseudonymous (``pid``), optionally of one school.

    Returns
    -------
    pandas.DataFrame
        ``case_id, pid, school, source, severity, local_label, wave_id, seq,
        crisis_stage, level, occurred_at``, ordered by case and ``seq``.
    """
    c, e = crisis_case.c, crisis_event.c
    stmt = (
        sa.select(
            c.case_id,
            c.pid,
            c.school_id.label("school"),
            c.source,
            c.severity,
            c.local_label,
            c.wave_id,
            e.seq,
            e.stage.label("crisis_stage"),
            e.level,
            e.occurred_at,
        )
        .select_from(crisis_case.join(crisis_event, e.case_id == c.case_id))
        .order_by(c.case_id, e.seq)
    )
    if school is not None:
        stmt = stmt.where(c.school_id == school)
    out = read_frame(engine, stmt)
    out["occurred_at"] = pd.to_datetime(out["occurred_at"])
    return out.astype({"severity": "int64", "seq": "int64"})


def crisis_sessions(engine: sa.Engine, *, school: str | None = None) -> pd.DataFrame:
    """Counselling sessions of students with a crisis case, at the school of a case: ``pid, school, held_on, kind``."""
    s = counselling_session.c
    has_case = sa.exists().where(crisis_case.c.pid == s.pid, crisis_case.c.school_id == s.school_id)
    stmt = (
        sa.select(s.pid, s.school_id.label("school"), s.held_on, s.kind)
        .where(has_case)
        .order_by(s.pid, s.held_on, s.session_id)
    )
    if school is not None:
        stmt = stmt.where(s.school_id == school)
    out = read_frame(engine, stmt)
    out["held_on"] = pd.to_datetime(out["held_on"])
    return out


def crisis_as_of(engine: sa.Engine, *, now: dt.datetime | None = None) -> dt.datetime | None:
    """The latest crisis event up to ``now`` (default: the clock), ``None`` without one: a default as-of time.

    An event dated after ``now`` is a typing error (a year typed 2035), not the data's as-of time.
    """
    now = dt.datetime.now() if now is None else now
    stmt = sa.select(sa.func.max(crisis_event.c.occurred_at)).where(crisis_event.c.occurred_at <= now)
    with engine.connect() as conn:
        latest = conn.execute(stmt).scalar_one()
    return None if latest is None else pd.Timestamp(latest).to_pydatetime()


def archive_categories(engine: sa.Engine) -> pd.DataFrame:
    """Enrolled students per school year and school by archive category, those without a record included.

    Returns
    -------
    pandas.DataFrame
        ``school_year, school, category`` (``general``, ``attention``, ``key``,
        ``crisis`` or :data:`NO_ARCHIVE`), ``count, n`` (students enrolled at the
        school that year; the categories of a school year and school add up to
        it), ``proportion``; every category in every group, in the store's
        category order. Archive records of students not enrolled that year are
        not counted.

    Examples
    --------
    >>> from psychanalytics import store
    >>> engine = store.connect("sqlite://")
    >>> store.create_all(engine)
    >>> archive_categories(engine).columns.tolist()
    ['school_year', 'school', 'category', 'count', 'n', 'proportion']
    """
    category = sa.func.coalesce(archive_category.c.category, NO_ARCHIVE)
    stmt = (
        sa.select(
            enrolment.c.school_year,
            enrolment.c.school_id.label("school"),
            category.label("category"),
            sa.func.count().label("count"),
        )
        .select_from(
            enrolment.outerjoin(
                archive_category,
                sa.and_(
                    archive_category.c.pid == enrolment.c.pid,
                    archive_category.c.school_year == enrolment.c.school_year,
                ),
            )
        )
        .group_by(enrolment.c.school_year, enrolment.c.school_id, category)
    )
    counts = read_frame(engine, stmt)
    columns = ["school_year", "school", "category", "count", "n", "proportion"]
    if counts.empty:
        return pd.DataFrame(columns=columns)
    order = [*ARCHIVE_CATEGORIES, NO_ARCHIVE]
    groups = counts[["school_year", "school"]].drop_duplicates()
    cells = groups.merge(pd.DataFrame({"category": order}), how="cross")
    out = cells.merge(counts, on=["school_year", "school", "category"], how="left")
    out["count"] = out["count"].fillna(0).astype("int64")
    out["n"] = out.groupby(["school_year", "school"])["count"].transform("sum").astype("int64")
    out["proportion"] = out["count"] / out["n"]
    out["rank"] = out["category"].map(order.index)
    return out.sort_values(["school_year", "school", "rank"])[columns].reset_index(drop=True)


def school_moves(engine: sa.Engine) -> pd.DataFrame:
    """Changes of school between consecutive school years, with the archive transfer that followed, counted.

    A move is a student enrolled at one school in a school year and at another
    the next. Its transfer is the ``archive_transfer`` row of the same student
    from the old school to the new one (the earliest, when there are several:
    ``transfers`` says how many).

    Returns
    -------
    pandas.DataFrame
        One row per ``school_year`` (of the new school), ``from_school,
        to_school, transferred_on`` (``NaT``: no transfer recorded),
        ``complete`` (``<NA>`` without a transfer), ``transfers`` and ``count``
        (moves alike in all of these).

    Examples
    --------
    >>> from psychanalytics import store
    >>> engine = store.connect("sqlite://")
    >>> store.create_all(engine)
    >>> school_moves(engine).columns.tolist()
    ['school_year', 'from_school', 'to_school', 'transferred_on', 'complete', 'transfers', 'count']
    """
    t = archive_transfer.c
    received = (
        sa.select(
            t.pid,
            t.from_school_id,
            t.to_school_id,
            sa.func.min(t.transferred_on).label("first_on"),
            sa.func.count().label("transfers"),
        )
        .group_by(t.pid, t.from_school_id, t.to_school_id)
        .subquery()
    )
    first = archive_transfer.alias("first")
    years = [
        y
        for (y,) in read_frame(engine, sa.select(enrolment.c.school_year).distinct()).itertuples(index=False)
    ]
    frames = []
    for before, after in zip(sorted(years), sorted(years)[1:], strict=False):
        if int(after[:4]) != int(before[:4]) + 1:
            continue
        old, new = enrolment.alias("old"), enrolment.alias("new")
        moved = old.join(new, sa.and_(new.c.pid == old.c.pid, new.c.school_id != old.c.school_id))
        moved = moved.outerjoin(
            received,
            sa.and_(
                received.c.pid == old.c.pid,
                received.c.from_school_id == old.c.school_id,
                received.c.to_school_id == new.c.school_id,
            ),
        ).outerjoin(
            first,
            sa.and_(
                first.c.pid == received.c.pid,
                first.c.from_school_id == received.c.from_school_id,
                first.c.to_school_id == received.c.to_school_id,
                first.c.transferred_on == received.c.first_on,
            ),
        )
        stmt = (
            sa.select(
                new.c.school_year,
                old.c.school_id.label("from_school"),
                new.c.school_id.label("to_school"),
                received.c.first_on.label("transferred_on"),
                first.c.complete,
                sa.func.coalesce(received.c.transfers, 0).label("transfers"),
                sa.func.count().label("count"),
            )
            .select_from(moved)
            .where(old.c.school_year == before, new.c.school_year == after)
            .group_by(
                new.c.school_year, old.c.school_id, new.c.school_id, received.c.first_on, first.c.complete,
                received.c.transfers,
            )
        )  # fmt: skip
        frames.append(read_frame(engine, stmt))
    columns = ["school_year", "from_school", "to_school", "transferred_on", "complete", "transfers", "count"]
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    out["transferred_on"] = pd.to_datetime(out["transferred_on"])
    out["complete"] = out["complete"].astype("boolean")
    out = out.astype({"transfers": "int64", "count": "int64"})
    return out.sort_values(columns[:4], na_position="last").reset_index(drop=True)[columns]


def flagged_students(
    engine: sa.Engine, *, wave: str, school: str, min_band_rank: Mapping[str, int]
) -> pd.DataFrame:
    """The students of ``school`` a screening wave flagged, with what flagged them, pseudonymous.

    A student is flagged by a total score in a band of rank ``min_band_rank[instrument]``
    or above, or by any item flag the scoring set true (``score_flag``: PHQ-9
    item 9 however low the total). School and class are the student's
    enrolment in the wave's school year.

    Returns
    -------
    pandas.DataFrame
        One row per student and finding: ``pid, grade, class_no, instrument,
        finding`` (``band`` or ``flag``), ``code`` (the band or flag name),
        ``band_rank, raw`` (of the total: also on flag rows, missing when the
        total is).

    Examples
    --------
    >>> from psychanalytics import store
    >>> engine = store.connect("sqlite://")
    >>> store.create_all(engine)
    >>> flagged_students(engine, wave="2025-autumn", school="S1", min_band_rank={"phq9": 2}).columns.tolist()
    ['pid', 'grade', 'class_no', 'instrument', 'finding', 'code', 'band_rank', 'raw']
    """
    at_school = sa.and_(
        enrolment.c.pid == score.c.pid,
        enrolment.c.school_year == screening_wave.c.school_year,
        enrolment.c.school_id == school,
    )
    base = score.join(screening_wave, screening_wave.c.wave_id == score.c.wave_id).join(enrolment, at_school)
    total = sa.and_(score.c.wave_id == wave, score.c.scale == "total")
    by_band = sa.or_(
        sa.false(),
        *(sa.and_(score.c.instrument == i, score.c.band_rank >= rank) for i, rank in min_band_rank.items()),
    )
    columns = [enrolment.c.grade, enrolment.c.class_no, score.c.instrument]
    bands = sa.select(
        score.c.pid, *columns, sa.literal("band").label("finding"), score.c.band.label("code"),
        score.c.band_rank, score.c.raw,
    ).select_from(base).where(total, by_band)  # fmt: skip
    flag_of = sa.and_(
        score_flag.c.wave_id == score.c.wave_id,
        score_flag.c.pid == score.c.pid,
        score_flag.c.instrument == score.c.instrument,
    )
    flags = (
        sa.select(
            score.c.pid, *columns, sa.literal("flag").label("finding"), score_flag.c.flag.label("code"),
            score.c.band_rank, score.c.raw,
        )
        .select_from(base.join(score_flag, flag_of))
        .where(total, score_flag.c.value.is_(True))
    )  # fmt: skip
    out = read_frame(engine, sa.union_all(bands, flags).subquery().select())
    out = out.sort_values(["grade", "class_no", "pid", "instrument", "finding"]).reset_index(drop=True)
    return out.astype({"grade": "int64", "class_no": "int64", "band_rank": "Int64"})


def item_answers(
    engine: sa.Engine, *, wave: str, instrument: str, items: Sequence[int], pids: Sequence[str]
) -> pd.DataFrame:
    """Answers of some students to some items of one instrument in one wave: ``pid, q<i> …`` (NaN: missing).

    Examples
    --------
    >>> from psychanalytics import store
    >>> engine = store.connect("sqlite://")
    >>> store.create_all(engine)
    >>> item_answers(engine, wave="2025-autumn", instrument="phq9", items=[9], pids=["p1"]).columns.tolist()
    ['pid', 'q9']
    """
    rows = []
    pids = list(dict.fromkeys(pids))
    for start in range(0, len(pids), _BATCH):
        stmt = sa.select(response.c.pid, response.c["items"]).where(
            response.c.wave_id == wave,
            response.c.instrument == instrument,
            response.c.pid.in_(pids[start : start + _BATCH]),
        )
        with engine.connect() as conn:
            rows += [(r.pid, bytes(r.items)) for r in conn.execute(stmt)]
    columns = [f"q{i}" for i in items]
    if not rows:
        return pd.DataFrame({"pid": pd.Series(dtype=object), **{c: pd.Series(dtype=float) for c in columns}})
    width = max(items)
    short = [pid for pid, blob in rows if len(blob) < width]
    if short:
        raise ValueError(f"item_answers: {instrument} responses of {short[:3]} hold fewer than {width} items")
    matrix = unpack_items([blob[:width] for _, blob in rows], width)
    answers = matrix[:, np.asarray(items) - 1]
    return pd.DataFrame({"pid": [pid for pid, _ in rows], **dict(zip(columns, answers.T, strict=True))})
