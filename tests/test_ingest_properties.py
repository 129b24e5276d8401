"""Properties of the importer on generated files (hypothesis): conservation against an independent
model of which lines are stored, duplicated or refused; arbitrary bytes raise only IngestError."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from psychanalytics import ingest, store
from psychanalytics.privacy.pseudonym import pseudonymise
from psychanalytics.store import schema

KEY = b"property test key: 32 bytes long!"
HEADER = ["学籍号", "姓名", "性别", *[f"Q{i}" for i in range(1, 10)]]
VALID_ITEMS = {"", "0", "1", "2", "3"}
VALID_GENDERS = {"", "男", "女", "M", "F"}

numbers = st.sampled_from(["G1", "G2", "00123", "123", ""])
items = st.lists(st.sampled_from(["", "0", "1", "2", "3", "4", "x"]), min_size=9, max_size=9)
rows = st.tuples(
    numbers, st.sampled_from(["甲", "NA", "王 五"]), st.sampled_from(["男", "女", "F", "?"]), items
)
lines = st.one_of(
    rows.map(lambda r: ",".join([r[0], r[1], r[2], *r[3]])),
    st.just(""),
    rows.map(lambda r: ",".join([r[0], r[1], r[2], *r[3][:-1]])),  # short row
)


def _looks_like_option_numbers(data_lines: list[str]) -> bool:
    """No item cell of a whole row holds 0 while one holds 4: the file is refused as option numbers 1-4."""
    answers = [a for line in data_lines if len(line.split(",")) == len(HEADER) for a in line.split(",")[3:]]
    return "0" not in answers and "4" in answers


def _model(data_lines: list[str]) -> tuple[int, int, int, int, set[str]]:
    """Independent account: (rows_read, stored, quarantined, duplicates, stored numbers)."""
    seen: dict[str, str] = {}
    read = stored = quarantined = duplicates = 0
    for line in data_lines:
        if not line.strip(","):
            continue
        read += 1
        fields = line.split(",")
        if len(fields) != len(HEADER):
            quarantined += 1
            continue
        number, _, gender, *answers = fields
        if not number or gender not in VALID_GENDERS or any(a not in VALID_ITEMS for a in answers):
            quarantined += 1
        elif number not in seen:
            seen[number] = line
            stored += 1
        elif seen[number] == line:
            duplicates += 1
        else:
            quarantined += 1
    return read, stored, quarantined, duplicates, set(seen)


def _import(content: bytes, tmp: Path):
    engine = store.connect(tmp / "p.sqlite")
    store.create_all(engine)
    path = tmp / "f.csv"
    path.write_bytes(content)
    try:
        return engine, ingest.import_file(
            engine, "screening", path, key=KEY, wave="2025-autumn", instrument="phq9", score=False
        )
    except BaseException:
        engine.dispose()
        raise


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data_lines=st.lists(lines, min_size=1, max_size=25),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gbk"]),
)
def test_conservation_matches_an_independent_model(data_lines, encoding):
    content = ("\r\n".join([",".join(HEADER), *data_lines]) + "\r\n").encode(encoding)
    read, stored, refused, duplicates, numbers_stored = _model(data_lines)
    if read == 0:  # only blank lines: refused whole, nothing written
        with tempfile.TemporaryDirectory() as tmp, pytest.raises(ingest.IngestError, match="no data rows"):
            _import(content, Path(tmp))
        return
    if _looks_like_option_numbers(data_lines):
        with tempfile.TemporaryDirectory() as tmp, pytest.raises(ingest.IngestError, match="选项序号"):
            _import(content, Path(tmp))
        return
    with tempfile.TemporaryDirectory() as tmp:
        engine, result = _import(content, Path(tmp))
        with engine.connect() as conn:
            pids = set(conn.execute(sa.select(schema.response.c.pid)).scalars())
            quarantined = conn.execute(sa.select(sa.func.count()).select_from(schema.quarantine)).scalar_one()
            batch = conn.execute(sa.select(schema.import_batch)).one()
        engine.dispose()
    assert (result.rows_read, result.stored, result.quarantined, result.duplicates) == (
        read,
        stored,
        refused,
        duplicates,
    )
    assert (batch.rows_read, batch.stored, batch.quarantined, batch.duplicates) == (
        read,
        stored,
        refused,
        duplicates,
    )
    assert quarantined == refused
    assert pids == set(pseudonymise(sorted(numbers_stored), KEY))


@settings(max_examples=60, deadline=None)
@given(
    content=st.one_of(
        st.binary(max_size=400),
        st.binary(max_size=400).map(lambda b: ",".join(HEADER).encode() + b"\n" + b),
        st.text(max_size=200).map(lambda t: (",".join(HEADER) + "\n" + t).encode("utf-8")),
    )
)
def test_arbitrary_bytes_raise_only_the_importers_error(content):
    with tempfile.TemporaryDirectory() as tmp:
        try:
            engine, result = _import(content, Path(tmp))
        except ingest.IngestError:
            return
        engine.dispose()
    assert result.rows_read == result.stored + result.quarantined + result.duplicates


@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_row_order_does_not_change_the_stored_set(data):
    valid_items = st.lists(st.sampled_from(sorted(VALID_ITEMS)), min_size=9, max_size=9)
    unique = data.draw(
        st.lists(
            st.tuples(st.sampled_from(["G1", "G2", "G3", "G4"]), valid_items),
            min_size=1,
            max_size=4,
            unique_by=lambda r: r[0],
        )
    )
    body = [",".join([n, "甲", "女", *answers]) for n, answers in unique]
    shuffled = data.draw(st.permutations(body))
    stored = []
    for order in (body, shuffled):
        with tempfile.TemporaryDirectory() as tmp:
            engine, _ = _import(("\n".join([",".join(HEADER), *order]) + "\n").encode(), Path(tmp))
            with engine.connect() as conn:
                stored.append(
                    set(conn.execute(sa.select(schema.response.c.pid, schema.response.c["items"])).all())
                )
            engine.dispose()
    assert stored[0] == stored[1] and len(stored[0]) == len(unique)
