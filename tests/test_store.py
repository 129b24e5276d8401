"""The store on a real SQLite file and a real PostgreSQL server."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from store_support import AUTUMN_2024

from psychanalytics import store
from psychanalytics.store import migrations, schema

SCHOOL = dict(school_id="S01", name="示例实验小学", stage="primary", location="urban", is_synthetic=True)
CASE = dict(case_id="C1", pid="a" * 32, school_id="S01", source="screening")


def _seed_minimal(conn: sa.Connection) -> None:
    store.upsert(conn, schema.school, [SCHOOL])
    store.upsert(conn, schema.student, [dict(pid="a" * 32, gender="F", birth_year=2013, cohort=2019)])
    store.upsert(conn, schema.screening_wave, [AUTUMN_2024])


def test_every_table_is_created_and_the_schema_revision_recorded(engine):
    assert set(sa.inspect(engine).get_table_names()) == {*schema.metadata.tables, "alembic_version"}
    with engine.connect() as conn:
        assert migrations.current(conn) == migrations.head()


def test_every_column_has_a_sensitivity_class():
    untagged = [
        f"{table.name}.{column.name}"
        for table in schema.metadata.tables.values()
        for column in table.columns
        if column.info.get("sensitivity") not in schema.SENSITIVITY
    ]
    assert untagged == []


def test_health_data_is_tagged_sensitive():
    for table, column in [
        ("response", "items"),
        ("score", "raw"),
        ("score", "band"),
        ("crisis_event", "stage"),
        ("archive_category", "category"),
    ]:
        assert schema.metadata.tables[table].c[column].info["sensitivity"] == "sensitive"


def test_round_trip_keeps_types(engine):
    items = np.array([[1, 0, np.nan, 1], [0, 0, 1, 1]])
    with engine.begin() as conn:
        _seed_minimal(conn)
        store.upsert(conn, schema.student, [dict(pid="b" * 32, gender="M", birth_year=2012, cohort=2018)])
        store.write_responses(
            conn,
            items,
            pids=["a" * 32, "b" * 32],
            wave_id="2024-autumn",
            instrument="demo4",
            instrument_version="1",
            seconds=[300, None],
        )
        store.upsert(
            conn,
            schema.crisis_case,
            [{**CASE, "severity": 2, "local_label": "二级预警"}],
        )
        store.upsert(
            conn,
            schema.crisis_event,
            [
                dict(
                    case_id="C1",
                    seq=1,
                    stage="raised",
                    level="class",
                    occurred_at=dt.datetime(2024, 10, 2, 9, 30),
                )
            ],
        )
    with engine.connect() as conn:
        wave = conn.execute(sa.select(schema.screening_wave)).mappings().one()
        blobs = (
            conn.execute(sa.select(schema.response.c["items"]).order_by(schema.response.c.pid))
            .scalars()
            .all()
        )
        event = conn.execute(sa.select(schema.crisis_event)).mappings().one()
        synthetic = conn.execute(sa.select(schema.school.c.is_synthetic)).scalar_one()
    assert wave["window_start"] == dt.date(2024, 9, 21)
    assert wave["label"] == "2024年秋季普测"
    assert event["occurred_at"] == dt.datetime(2024, 10, 2, 9, 30)
    assert synthetic is True
    np.testing.assert_array_equal(store.unpack_items(blobs, 4), items)


def test_upsert_keeps_columns_it_was_not_given(engine):
    """ON CONFLICT DO UPDATE, not INSERT OR REPLACE: unsupplied columns survive."""
    with engine.begin() as conn:
        _seed_minimal(conn)
        store.upsert(
            conn,
            schema.crisis_case,
            [{**CASE, "severity": 3, "local_label": "三级"}],
        )
        store.upsert(
            conn,
            schema.crisis_case,
            [{**CASE, "severity": 2}],
        )
    with engine.connect() as conn:
        row = conn.execute(sa.select(schema.crisis_case)).mappings().one()
    assert (row["severity"], row["local_label"]) == (2, "三级")


@pytest.mark.parametrize(
    ("table", "row"),
    [
        ("enrolment", dict(pid="a" * 32, school_year="2024-2025", school_id="S01", grade=13, class_no=1)),
        ("enrolment", dict(pid="a" * 32, school_year="2024", school_id="S01", grade=4, class_no=1)),
        ("enrolment", dict(pid="a" * 32, school_year="2024-2025", school_id="NOPE", grade=4, class_no=1)),
        ("enrolment", dict(pid="z" * 32, school_year="2024-2025", school_id="S01", grade=4, class_no=1)),
        ("student", dict(pid="c" * 32, gender="X")),
        (
            "crisis_event",
            dict(
                case_id="missing", seq=1, stage="raised", level="class", occurred_at=dt.datetime(2024, 1, 1)
            ),
        ),
    ],
    ids=["grade-13", "bad-school-year", "unknown-school", "unknown-student", "bad-gender", "orphan-event"],
)
def test_constraints_refuse_bad_rows(engine, table, row):
    with engine.begin() as conn:
        _seed_minimal(conn)
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(schema.metadata.tables[table].insert(), [row])


def test_sqlite_tables_are_strict(sqlite_engine):
    """A STRICT table refuses text in an INTEGER column instead of storing it."""
    with sqlite_engine.begin() as conn:
        _seed_minimal(conn)
    with pytest.raises(sa.exc.DBAPIError, match="cannot store TEXT value in INTEGER column"):
        with sqlite_engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO enrolment (pid, school_year, school_id, grade, class_no) "
                f"VALUES ('{'a' * 32}', '2024-2025', 'S01', 'abc', 1)"
            )


def test_sqlite_pragmas(sqlite_engine):
    with sqlite_engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000


def test_a_read_only_engine_reads_and_the_database_refuses_its_writes(engine):
    """Dashboards and notebooks read through it: a write fails in the database, not by convention."""
    school = dict(school_id="S01", name="示例实验小学", stage="primary", location="urban")
    with engine.begin() as conn:
        store.upsert(conn, schema.school, [school])
    reader = store.connect_existing(engine.url, read_only=True)
    try:
        with reader.connect() as conn:
            assert conn.execute(sa.select(schema.school.c.name)).scalar_one() == "示例实验小学"
        with pytest.raises(sa.exc.DBAPIError, match="read-only|readonly"), reader.begin() as conn:
            conn.execute(schema.school.delete())
    finally:
        reader.dispose()
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.school)).scalar_one() == 1


def test_read_only_keeps_the_postgresql_options_already_given(pg_engine):
    url = pg_engine.url.update_query_dict({"options": "-c application_name=psychanalytics-test"})
    reader = store.connect(url, read_only=True)
    try:
        with reader.connect() as conn:
            assert conn.exec_driver_sql("SHOW application_name").scalar_one() == "psychanalytics-test"
            assert conn.exec_driver_sql("SHOW default_transaction_read_only").scalar_one() == "on"
    finally:
        reader.dispose()


def test_read_only_needs_a_database_file():
    with pytest.raises(ValueError, match="SQLite file"):
        store.connect("sqlite://", read_only=True)


def test_write_scores_splits_the_wide_frame(engine):
    scored = pd.DataFrame(
        {
            "total": [12.0, np.nan],
            "total_band": pd.Categorical(
                ["moderate", None], categories=["minimal", "mild", "moderate"], ordered=True
            ),
            "valid": [True, False],
            "flag_item9": [True, False],
            "spec_version": ["1.0", "1.0"],
        }
    )
    with engine.begin() as conn:
        _seed_minimal(conn)
        store.upsert(conn, schema.student, [dict(pid="b" * 32)])
        store.write_scores(conn, scored, pids=["a" * 32, "b" * 32], wave_id="2024-autumn", instrument="phq9")
    with engine.connect() as conn:
        scores = pd.read_sql(sa.select(schema.score).order_by(schema.score.c.pid), conn)
        flags = pd.read_sql(sa.select(schema.score_flag).order_by(schema.score_flag.c.pid), conn)
    assert scores["raw"].iloc[0] == 12.0 and pd.isna(scores["raw"].iloc[1])
    assert scores["band"].tolist()[0] == "moderate" and scores["band_rank"].iloc[0] == 2
    assert flags["value"].astype(bool).tolist() == [True, False]


def test_resolve_url_reads_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("PSYCHANALYTICS_DB", str(tmp_path / "x.sqlite"))
    assert store.resolve_url() == f"sqlite:///{tmp_path / 'x.sqlite'}"


def test_rescoring_replaces_a_flag_that_became_undetermined(engine):
    """A corrected sheet with item 9 blank must not keep the earlier item-9 flag."""
    first = pd.DataFrame({"total": [12.0], "valid": [True], "flag_item9": [True], "spec_version": ["1.0"]})
    corrected = first.assign(total=np.nan, valid=False, flag_item9=pd.array([pd.NA], dtype="boolean"))
    with engine.begin() as conn:
        _seed_minimal(conn)
        for scored in (first, corrected):
            store.write_scores(conn, scored, pids=["a" * 32], wave_id="2024-autumn", instrument="phq9")
    with engine.connect() as conn:
        value = conn.execute(sa.select(schema.score_flag.c.value)).scalar_one()
    assert value is None
