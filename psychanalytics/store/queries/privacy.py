"""What the store holds about people, who consented to what, and who took what out: the facts a PIPL
Art. 55 impact assessment asks for (docs/privacy.md §1), as small frames.

Counts only: no row-level value leaves these functions.
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import sqlalchemy as sa

from psychanalytics.store.reads import read_frame
from psychanalytics.store.schema import audit_log, consent, data_release, erasure, metadata, student

OUTBOUND_ACTIONS = ("export", "publish", "backup", "restore", "erasure")
"""Audit actions by which data left the store, or a copy of it came back, or a student was erased."""


def personal_data_inventory(engine: sa.Engine) -> pd.DataFrame:
    """One row per table holding personal or sensitive columns (DESIGN.md decision 3).

    Columns: ``table``, ``rows``, ``students`` (distinct pids; missing for tables without one),
    ``personal`` and ``sensitive`` (the column names of each class, comma-separated).

    Examples
    --------
    >>> from psychanalytics import store
    >>> engine = store.connect("sqlite://")
    >>> store.create_all(engine)
    >>> inventory = personal_data_inventory(engine)
    >>> inventory.set_index("table").loc["score", "sensitive"]
    'raw, band, band_rank'
    """
    rows = []
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            classes = {
                level: [c.name for c in table.columns if c.info.get("sensitivity") == level]
                for level in ("personal", "sensitive")
            }
            if not any(classes.values()):
                continue
            count = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            students = (
                conn.execute(sa.select(sa.func.count(sa.distinct(table.c.pid)))).scalar_one()
                if "pid" in table.c
                else None
            )
            rows.append(
                {
                    "table": table.name,
                    "rows": count,
                    "students": students,
                    "personal": ", ".join(classes["personal"]),
                    "sensitive": ", ".join(classes["sensitive"]),
                }
            )
    return pd.DataFrame(rows).astype({"students": "Int64"})


def students_by_age(engine: sa.Engine, *, year: int) -> pd.DataFrame:
    """``count`` of students under 14 in ``year`` (by birth year), 14 and over, and of unknown age; ``n`` all.

    All personal information of a child under 14 is sensitive under PIPL Art. 28, and needs guardian
    consent (Art. 31).
    """
    age = year - student.c.birth_year
    group = sa.case(
        (student.c.birth_year.is_(None), "unknown"), (age < 14, "under_14"), else_="14_and_over"
    ).label("age_group")
    frame = read_frame(engine, sa.select(group, sa.func.count().label("count")).group_by(group))
    frame["n"] = int(frame["count"].sum()) if len(frame) else 0
    return frame.sort_values("age_group").reset_index(drop=True)


def consent_coverage(engine: sa.Engine, *, on: dt.date) -> pd.DataFrame:
    """Per consent purpose: students ``asked`` (a row), ``refused``, ``withdrawn`` by ``on``, ``active``
    on ``on``; ``n`` is every student in the store and ``proportion`` = active / n.

    Examples
    --------
    >>> import datetime as dt
    >>> from psychanalytics import store
    >>> engine = store.connect("sqlite://")
    >>> store.create_all(engine)
    >>> consent_coverage(engine, on=dt.date(2025, 1, 1)).columns.tolist()
    ['purpose', 'asked', 'refused', 'withdrawn', 'active', 'n', 'proportion']
    """
    c = consent.c
    withdrawn = sa.and_(c.withdrawn_on.is_not(None), c.withdrawn_on <= on)
    active = sa.and_(c.guardian_consent.is_(True), c.granted_on <= on, sa.not_(withdrawn))

    def count(condition):
        return sa.func.sum(sa.case((condition, 1), else_=0))

    frame = read_frame(
        engine,
        sa.select(
            c.purpose,
            sa.func.count().label("asked"),
            count(c.guardian_consent.is_(False)).label("refused"),
            count(sa.and_(c.guardian_consent.is_(True), withdrawn)).label("withdrawn"),
            count(active).label("active"),
        )
        .group_by(c.purpose)
        .order_by(c.purpose),
    )
    with engine.connect() as conn:
        n = conn.execute(sa.select(sa.func.count()).select_from(student)).scalar_one()
    frame = frame.astype({"asked": int, "refused": int, "withdrawn": int, "active": int})
    frame["n"] = n
    frame["proportion"] = frame["active"] / n if n else float("nan")
    return frame


def outbound_events(engine: sa.Engine) -> pd.DataFrame:
    """Audit rows of exports, publications, backups, restores and erasures, oldest first.

    Columns ``seq, at, actor, action, resource`` and the detail's ``project``, ``purpose``, ``wave``,
    ``file``, ``rows`` and ``students`` (erased) where the row has them.
    """
    frame = read_frame(
        engine,
        sa.select(
            audit_log.c.seq,
            audit_log.c.at,
            audit_log.c.actor,
            audit_log.c.action,
            audit_log.c.resource,
            audit_log.c.detail,
        )
        .where(audit_log.c.action.in_(OUTBOUND_ACTIONS))
        .order_by(audit_log.c.seq),
    )
    details = [json.loads(text) for text in frame.pop("detail")]
    for key in ("project", "purpose", "wave", "file", "rows"):
        frame[key] = [d.get(key) for d in details]
    frame["students"] = [len(d["pids"]) if "pids" in d else None for d in details]
    return frame


def erasure_count(engine: sa.Engine) -> int:
    """Students erased at a request (tombstones kept)."""
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(erasure)).scalar_one()


def stale_releases(engine: sa.Engine) -> pd.DataFrame:
    """Releases an erasure made out of date: ``kind, name, project, built_at, stale_since, stale_reason``."""
    r = data_release.c
    return read_frame(
        engine,
        sa.select(r.kind, r.name, r.project, r.built_at, r.stale_since, r.stale_reason)
        .where(r.stale_since.is_not(None))
        .order_by(r.release_id),
    )
