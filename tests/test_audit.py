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


# --- anchors outside the database -----------------------------------------------------------------

KEY = b"the store's pseudonym key, test only"


def _rewrite_whole(engine, detail: str) -> None:
    """What someone who can write to the database can do: a new chain that verifies on its own."""
    with engine.begin() as conn:
        rows = conn.execute(sa.select(audit_log).order_by(audit_log.c.seq)).all()
        conn.execute(audit_log.delete())
        for row in rows:
            audit.append(
                conn,
                action=row.action,
                resource=row.resource,
                detail={"stored": detail},
                actor=row.actor,
                at=row.at,
            )


def test_a_chain_rewritten_whole_is_caught_by_its_anchor(engine, tmp_path):
    _three_rows(engine)
    anchors = audit.AnchorFile(tmp_path / "anchors.jsonl", KEY)
    anchor = anchors.record(engine)
    assert anchor.seq == 3 and anchors.read() == [anchor]
    _rewrite_whole(engine, "forged")
    with engine.connect() as conn:
        assert audit.verify(conn) == []  # the chain alone cannot tell
        found = audit.check(conn, key=KEY, anchors=anchors.read())
    assert not found.ok and found.anchors_checked == 1
    assert found.problems == (
        (3, f"row 3 differs from its anchor made {anchor.at} (the chain was rewritten)"),
    )


def test_rows_cut_from_the_end_are_caught_by_an_anchor(sqlite_engine, tmp_path):
    engine = sqlite_engine
    _three_rows(engine)
    anchors = audit.AnchorFile(tmp_path / "anchors.jsonl", KEY)
    anchors.record(engine)
    with engine.begin() as conn:
        conn.execute(sa.delete(audit_log).where(audit_log.c.seq == 3))
    with engine.connect() as conn:
        assert audit.verify(conn) == []
        (problem,) = audit.check(conn, key=KEY, anchors=anchors.read()).problems
    assert problem[0] == 3 and "the log ends at row 2 (rows removed)" in problem[1]


def test_an_anchor_cannot_be_forged_or_edited_without_the_key(sqlite_engine, tmp_path):
    engine = sqlite_engine
    _three_rows(engine)
    with engine.begin() as conn:
        genuine = audit.anchor_head(conn, KEY)
        forged = audit.anchor_head(conn, b"somebody else's key, 32 bytes!!")
        edited = audit.Anchor.from_dict({**genuine.as_dict(), "seq": 2})
        assert audit.check(conn, key=KEY, anchors=[genuine]).ok
        for anchor in (forged, edited):
            (problem,) = audit.check(conn, key=KEY, anchors=[anchor]).problems
            assert "its MAC is not this key's (forged or edited)" in problem[1]


def test_an_anchored_store_whose_anchors_are_withheld_fails(sqlite_engine, tmp_path):
    engine = sqlite_engine
    _three_rows(engine)
    audit.AnchorFile(tmp_path / "anchors.jsonl", KEY).record(engine)
    with engine.connect() as conn:
        (problem,) = audit.check(conn, key=KEY, anchors=[]).problems
        assert "none of its anchors was given" in problem[1]
        assert audit.check(conn).ok  # without the key only the chain is checked


def test_a_restore_makes_later_anchors_part_of_an_abandoned_history(sqlite_engine, tmp_path):
    engine = sqlite_engine
    _three_rows(engine)
    anchors = audit.AnchorFile(tmp_path / "anchors.jsonl", KEY)
    anchors.record(engine)
    with engine.begin() as conn:
        audit.append(conn, action="export", resource="extract:1", actor="tester")
    anchors.record(engine)
    with engine.begin() as conn:  # the store as a backup taken at row 3 gives it back
        conn.execute(sa.delete(audit_log).where(audit_log.c.seq == 4))
    with engine.connect() as conn:
        assert not audit.check(conn, key=KEY, anchors=anchors.read()).ok
    anchors.record(engine, kind="restore")
    with engine.begin() as conn:
        audit.append(conn, action="restore", resource="backup:x", actor="tester")
    anchors.record(engine)
    with engine.connect() as conn:
        found = audit.check(conn, key=KEY, anchors=anchors.read())
    assert found.ok and (found.anchors_checked, found.anchors_superseded) == (3, 1)


def test_audit_verify_names_the_first_broken_row_and_says_when_anchors_went_unchecked(
    tmp_path, capsys, monkeypatch
):
    from psychanalytics import cli, store

    db = tmp_path / "store.sqlite"
    engine = store.connect(db)
    store.create_all(engine)
    _three_rows(engine)
    key_file = tmp_path / "store.key"
    key_file.write_bytes(KEY)
    anchor_file = tmp_path / "anchors.jsonl"
    audit.AnchorFile(anchor_file, KEY).record(engine)
    verify = [
        "audit",
        "verify",
        "--db",
        str(db),
        "--key-file",
        str(key_file),
        "--anchor-file",
        str(anchor_file),
    ]

    assert cli.main(verify) == 0
    out = capsys.readouterr().out
    assert "审计链完整 / audit chain intact: 3 行" in out and "1 个核对一致 / verified" in out

    assert cli.main(["audit", "verify", "--db", str(db), "--key-file", str(tmp_path / "missing.key")]) == 3
    assert "anchors not checked" in capsys.readouterr().err

    _rewrite_whole(engine, "forged")
    assert cli.main(verify) == 1
    assert "第一处 / first: row 3 differs from its anchor" in capsys.readouterr().out

    with engine.begin() as conn:
        conn.execute(sa.update(audit_log).where(audit_log.c.seq == 2).values(actor="someone else"))
    assert cli.main(verify) == 1
    assert "第一处 / first: row 2: its content does not match its hash (edited)" in capsys.readouterr().out
    engine.dispose()
