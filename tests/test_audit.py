"""The audit log is hash-chained: any edit, deletion or reordering is detected."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from psychanalytics.store import audit
from psychanalytics.store.schema import audit_log


def _three_rows(engine):
    with engine.begin() as conn:
        for i in range(3):
            audit.append(
                conn,
                action="import",
                resource=f"sha256:{i}",
                detail={"stored": i},
                actor="tester",
                at=dt.datetime(2025, 10, 1, 9, i),
            )


def test_intact_log_verifies(engine):
    _three_rows(engine)
    with engine.connect() as conn:
        assert audit.verify(conn) == []
        rows = conn.execute(sa.select(audit_log).order_by(audit_log.c.seq)).all()
    assert [r.seq for r in rows] == [1, 2, 3]
    assert rows[0].prev_hash == audit.GENESIS and rows[1].prev_hash == rows[0].row_hash


@pytest.mark.parametrize(
    ("change", "broken"),
    [
        (sa.update(audit_log).where(audit_log.c.seq == 2).values(detail='{"stored": 99}'), [2]),
        (sa.update(audit_log).where(audit_log.c.seq == 1).values(actor="someone else"), [1]),
        (sa.delete(audit_log).where(audit_log.c.seq == 2), [3]),
        (sa.update(audit_log).where(audit_log.c.seq == 3).values(at=dt.datetime(2030, 1, 1)), [3]),
    ],
    ids=["edit-detail", "edit-actor", "delete-row", "edit-time"],
)
def test_tampering_is_detected(engine, change, broken):
    _three_rows(engine)
    with engine.begin() as conn:
        conn.execute(change)
    with engine.connect() as conn:
        assert audit.verify(conn) == broken
