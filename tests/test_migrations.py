"""Schema revisions: a district's store survives upgrades (real SQLite files, the real PostgreSQL server).

District stores made before versioning are rebuilt here from the DDL that ``create_all`` issued then
(``tests/reference/store/schema_0001.json``), filled with a small synthetic district, and upgraded.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from conftest import DEMO_SEED, DEMO_STUDENTS
from store_support import empty_database

from psychanalytics import cli, store, synth
from psychanalytics.store import audit, migrations, schema
from psychanalytics.synth import exports as samples

PG_URL = os.environ.get("PSYCHANALYTICS_TEST_PG")
SNAPSHOT = json.loads((Path(__file__).parent / "reference" / "store" / "schema_0001.json").read_text("utf-8"))
CLI = Path(sys.executable).parent / "psychanalytics"
BASELINE_SOURCES = {"head_teacher": "observation", "teacher": "observation", "class_committee": "peer"}
"""Crisis sources revision 0006 added, as the baseline store merged them."""

# --- helpers --------------------------------------------------------------------------------------


def build_unversioned(url: str) -> None:
    """A store as psychanalytics made it before versioning: the DDL create_all issued then, run as it ran."""
    engine = store.connect(url)
    with engine.begin() as conn:
        for statement in SNAPSHOT[conn.dialect.name]:
            conn.exec_driver_sql(statement)
    engine.dispose()


def apply_revisions(url: str, revision: str) -> None:
    """Run the revisions up to ``revision`` on an empty database (Alembic's own upgrade command)."""
    settings = migrations.config()
    with migrations.migration_connection(url) as conn:
        settings.attributes["connection"] = conn
        command.upgrade(settings, revision)


def copy_rows(source: sa.Engine, url: str) -> None:
    """Every row of ``source`` into the store at ``url``, through the models' types, in the tables and columns
    it has; the demo's planted effects go where the baseline kept them (``intervention.true_effect_d``), and
    the crisis sources revision 0006 split are written as the baseline merged them."""
    target = store.connect(url)
    with source.connect() as read, target.begin() as write:
        present = _columns(write)
        for table in schema.metadata.sorted_tables:
            if table.name not in present:  # a table a later revision adds (the planted effects: below)
                continue
            columns = [column for column in table.columns if column.name in present[table.name]]
            rows = [dict(row) for row in read.execute(sa.select(*columns)).mappings()]
            if table.name == "crisis_case":
                rows = [{**row, "source": BASELINE_SOURCES.get(row["source"], row["source"])} for row in rows]
            if rows:  # an empty list would execute one INSERT … DEFAULT VALUES
                write.execute(table.insert(), rows)
        if "true_effect_d" in present["intervention"]:
            planted = read.execute(
                sa.select(schema.demo_planted_effect.c["intervention_id", "effect_d"])
            ).all()
            write.execute(
                sa.text(
                    "UPDATE intervention SET true_effect_d = :effect_d WHERE intervention_id = :intervention_id"
                ),
                [row._asdict() for row in planted],
            )
    target.dispose()


def still_modelled(columns: dict[str, list[str]]) -> dict[str, list[str]]:
    """The tables and columns of ``columns`` that the models (``schema.py``) still have."""
    models = schema.metadata.tables
    return {
        name: [column for column in names if column in models[name].c]
        for name, names in columns.items()
        if name in models
    }


def _columns(conn: sa.Connection) -> dict[str, list[str]]:
    inspector = sa.inspect(conn)
    return {
        name: [column["name"] for column in inspector.get_columns(name)]
        for name in inspector.get_table_names()
        if name != "alembic_version"
    }


def columns_of(url: str) -> dict[str, list[str]]:
    """Table → its column names, as the database has them."""
    engine = store.connect(url)
    with engine.connect() as conn:
        columns = _columns(conn)
    engine.dispose()
    return columns


def content(url: str, columns: dict[str, list[str]]) -> dict[str, list[tuple]]:
    """Every row of every table (in ``columns``' columns), as the database returns them, in a fixed order."""
    engine = store.connect(url)
    with engine.connect() as conn:
        rows = {
            name: conn.execute(
                sa.select(*map(sa.column, names)).select_from(sa.table(name)).order_by(*map(sa.column, names))
            ).all()
            for name, names in columns.items()
        }
    engine.dispose()
    return rows


def catalog(url: str) -> dict[str, dict]:
    """What the database says about each table's structure (columns in order, keys, checks, indexes, options)."""
    engine = store.connect(url)
    with engine.connect() as conn:
        inspector = sa.inspect(conn)

        def by_name(items):
            return sorted(items, key=lambda item: item["name"])

        described = {
            name: {
                "columns": [
                    (
                        c["name"],
                        str(c["type"].compile(conn.dialect)),
                        c["nullable"],
                        c["default"],
                        c.get("comment"),
                    )
                    for c in inspector.get_columns(name)
                ],
                "primary_key": inspector.get_pk_constraint(name),
                "foreign_keys": by_name(inspector.get_foreign_keys(name)),
                "unique": by_name(inspector.get_unique_constraints(name)),
                "indexes": by_name(inspector.get_indexes(name)),
                "checks": by_name(inspector.get_check_constraints(name)),
                "options": inspector.get_table_options(name),
            }
            for name in inspector.get_table_names()
            if name != "alembic_version"
        }
    engine.dispose()
    return described


def sqlite_master(path: Path) -> list[tuple]:
    """The DDL a SQLite file keeps, statement by statement, as written."""
    engine = store.connect(path)
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name != 'alembic_version' ORDER BY rowid"
        ).all()
    engine.dispose()
    return rows


def revision_of(url: str) -> str | None:
    engine = store.connect(url)
    with engine.connect() as conn:
        revision = migrations.current(conn)
    engine.dispose()
    return revision


def has_version_table(url: str) -> bool:
    engine = store.connect(url)
    found = sa.inspect(engine).has_table("alembic_version")
    engine.dispose()
    return found


def audit_breaks(url: str) -> list[int]:
    engine = store.connect(url)
    with engine.connect() as conn:
        broken = audit.verify(conn)
    engine.dispose()
    return broken


def backups(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.before-*.sqlite"))


def upgrade_cli(url: str, capsys) -> tuple[int, str, str]:
    code = cli.main(["upgrade", "--db", url])
    out = capsys.readouterr()
    return code, out.out, out.err


NOTE_REVISION = '''"""Test only: every student gets a note (SQLite rebuilds the table: the hard path)."""

import sqlalchemy as sa
from alembic import op

revision = "9001_note"
down_revision = {head!r}
branch_labels = None
depends_on = None


def _recreate():
    return "always" if op.get_bind().dialect.name == "sqlite" else "auto"


def upgrade():
    with op.batch_alter_table("student", recreate=_recreate()) as batch:
        batch.add_column(sa.Column("test_only_note", sa.Text(), server_default="none", nullable=False))


def downgrade():
    with op.batch_alter_table("student", recreate=_recreate()) as batch:
        batch.drop_column("test_only_note")
'''

ORPHANS_REVISION = '''"""Test only: adds a column, then deletes a school its students' enrolments still name."""

import sqlalchemy as sa
from alembic import op

revision = "9002_orphans"
down_revision = {head!r}
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("school", sa.Column("motto", sa.Text(), nullable=True))
    op.execute("DELETE FROM school WHERE school_id = (SELECT min(school_id) FROM enrolment)")


def downgrade():
    op.drop_column("school", "motto")
'''


def write_revision(folder: Path, name: str, template: str) -> Path:
    """A folder holding one revision after this version's head: Alembic reads it after the package's own."""
    folder.mkdir()
    (folder / f"{name}.py").write_text(template.format(head=migrations.head()), "utf-8")
    return folder


# --- fixtures -------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def district(tmp_path_factory) -> sa.Engine:
    """A small synthetic district with an import (a batch, quarantined lines, audit rows), an erasure (a
    tombstone) and a backup (a release): every table filled (norms need grade × gender cells of 30 valid
    sheets: 3,000 students have them)."""
    folder = tmp_path_factory.mktemp("district")
    engine = store.connect(folder / "district.sqlite")
    synth.build_demo(engine, seed=DEMO_SEED, students=DEMO_STUDENTS)
    samples.import_error_sample(engine, seed=DEMO_SEED, students=DEMO_STUDENTS)
    store.forget(engine, [store.read_frame(engine, sa.select(schema.student.c.pid).limit(1))["pid"][0]])
    store.backup(engine, folder / "district-backup.sqlite")
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def blank(request, tmp_path) -> str:
    """The URL of an empty database: a SQLite file not yet created, then the PostgreSQL test database."""
    if request.param == "sqlite":
        yield store.resolve_url(tmp_path / "store.sqlite")
        return
    if not PG_URL:
        pytest.skip("PostgreSQL not configured: set PSYCHANALYTICS_TEST_PG (.ci/run does)")
    engine = store.connect(PG_URL)
    empty_database(engine)
    engine.dispose()
    yield PG_URL
    engine = store.connect(PG_URL)
    empty_database(engine)  # leave the shared database as the other tests' fixtures expect it
    engine.dispose()


@pytest.fixture
def unversioned(blank, district) -> str:
    """A district store as psychanalytics made it before versioning, filled: its URL."""
    build_unversioned(blank)
    copy_rows(district, blank)
    return blank


def _sqlite_folder(url: str) -> Path | None:
    parsed = sa.make_url(url)
    return Path(parsed.database).parent if parsed.get_backend_name() == "sqlite" else None


# --- the baseline and the models ------------------------------------------------------------------


def test_the_district_fills_every_table(district):
    # but the demo's planted schools: too few schools screen PHQ-9 in a district this small to plant any
    assert [name for name, n in store.table_counts(district).items() if n == 0] == ["demo_planted_school"]


def test_revisions_form_one_line_from_the_baseline():
    scripts = list(ScriptDirectory.from_config(migrations.config()).walk_revisions())
    assert scripts[-1].revision == migrations.BASELINE and scripts[-1].down_revision is None
    assert scripts[0].revision == migrations.head()
    for script in scripts:
        assert Path(script.path).name.startswith(f"{script.revision}_")


def test_baseline_revision_is_exactly_the_schema_before_versioning(blank, tmp_path):
    build_unversioned(blank)
    before = catalog(blank)
    if _sqlite_folder(blank):
        written = sqlite_master(Path(sa.make_url(blank).database))
        assert [row.sql for row in written if row.sql] == SNAPSHOT["sqlite"]
        other = store.resolve_url(tmp_path / "baseline.sqlite")
        store.connect(other).dispose()
        apply_revisions(other, migrations.BASELINE)
        assert (
            sqlite_master(Path(sa.make_url(other).database)) == written
        )  # the same text, statement by statement
    else:
        engine = store.connect(blank)
        empty_database(engine)
        engine.dispose()
        other = blank
        apply_revisions(other, migrations.BASELINE)
    assert catalog(other) == before
    assert revision_of(other) == migrations.BASELINE


def test_the_migrations_make_the_schema_the_models_describe(blank):
    """``upgrade head`` on an empty database = ``create_all``; Alembic's autogenerate finds nothing to add.

    When this fails after a change of ``schema.py``, the change needs a revision (DESIGN.md, decision 21).
    """
    store.connect(blank).dispose()
    apply_revisions(blank, "head")
    migrated = catalog(blank)
    engine = store.connect(blank)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        assert compare_metadata(context, schema.metadata) == []
    empty_database(engine)
    store.create_all(engine)
    engine.dispose()
    assert catalog(blank) == migrated
    assert revision_of(blank) == migrations.head()


# --- upgrading a district's store -------------------------------------------------------------------


def test_unversioned_store_upgrades_with_every_row_intact(unversioned, capsys):
    columns = columns_of(unversioned)
    kept = still_modelled(columns)  # a column a revision moves elsewhere is compared where it went
    before, whole = content(unversioned, kept), content(unversioned, columns)
    planted = content(unversioned, {"intervention": ["intervention_id", "true_effect_d"]})["intervention"]
    assert revision_of(unversioned) is None and audit_breaks(unversioned) == []

    code, out, err = upgrade_cli(unversioned, capsys)
    assert code == 0, err
    assert f"已升级 / upgraded: 结构版本 / schema revision 未版本化，即基线 {migrations.BASELINE}" in out
    assert out.rstrip().splitlines()[1].endswith(f"→ {migrations.head()}")
    assert revision_of(unversioned) == migrations.head()
    assert content(unversioned, kept) == before
    moved = content(unversioned, {"demo_planted_effect": ["intervention_id", "effect_d"]})
    assert moved["demo_planted_effect"] == planted and len(planted) == len(before["intervention"])
    assert audit_breaks(unversioned) == []
    after = store.table_counts(store.connect(unversioned))
    assert {name: len(rows) for name, rows in before.items()} == {n: after[n] for n in before}
    new = {n: after[n] for n in set(after) - set(before) - {"demo_planted_effect"}}
    assert new == dict.fromkeys(new, 0)  # tables later revisions add start empty

    folder = _sqlite_folder(unversioned)
    if folder:
        (copy,) = backups(folder)
        assert f"升级前的副本 / copy taken before the upgrade: {copy}" in out
        assert copy.name.startswith("store.before-unversioned-")
        assert revision_of(store.resolve_url(copy)) is None
        assert content(store.resolve_url(copy), columns) == whole
        original = Path(sa.make_url(unversioned).database)
        assert stat.S_IMODE(copy.stat().st_mode) == stat.S_IMODE(original.stat().st_mode)
    else:
        assert "copy taken" not in out

    code, out, err = upgrade_cli(unversioned, capsys)
    assert code == 0 and "已是最新结构版本" in out and "nothing changed" in out
    assert content(unversioned, kept) == before
    if folder:
        assert len(backups(folder)) == 1
    store.connect_existing(unversioned).dispose()  # the rest of psychanalytics accepts it now


def test_the_demo_truth_moves_out_of_intervention_and_back(unversioned):
    """Revision 0002: ``intervention.true_effect_d`` becomes ``demo_planted_effect``; a downgrade restores it."""
    planted = content(unversioned, {"intervention": ["intervention_id", "true_effect_d"]})
    migrations.upgrade(unversioned)
    assert "true_effect_d" not in columns_of(unversioned)["intervention"]
    migrations.downgrade(unversioned, migrations.BASELINE)
    assert "demo_planted_effect" not in columns_of(unversioned)
    assert content(unversioned, {"intervention": ["intervention_id", "true_effect_d"]}) == planted


def test_the_crisis_sources_split_upgrades_and_goes_back(unversioned):
    """Revision 0006: an old store accepts 班主任, 任课教师 and 心理委员 after the upgrade, keeping its rows'
    codes; a downgrade merges them back as the baseline did (head teacher and teacher into observation)."""
    sources = {"crisis_case": ["case_id", "source"]}
    old = dict(content(unversioned, sources)["crisis_case"])
    assert set(old.values()) <= {"screening", "observation", "self_referral", "parent", "peer"}
    first, second, third = sorted(old)[:3]
    engine = store.connect(unversioned)
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:  # the baseline refuses them
        conn.execute(
            sa.text("UPDATE crisis_case SET source = 'head_teacher' WHERE case_id = :c"), {"c": first}
        )
    engine.dispose()

    migrations.upgrade(unversioned)
    assert dict(content(unversioned, sources)["crisis_case"]) == old
    engine = store.connect(unversioned)
    with engine.begin() as conn:
        for case, code in ((first, "head_teacher"), (second, "teacher"), (third, "class_committee")):
            conn.execute(
                sa.text("UPDATE crisis_case SET source = :s WHERE case_id = :c"), {"s": code, "c": case}
            )
    engine.dispose()
    assert dict(content(unversioned, sources)["crisis_case"])[third] == "class_committee"

    migrations.downgrade(unversioned, "0005_extracts")
    back = dict(content(unversioned, sources)["crisis_case"])
    assert (back[first], back[second], back[third]) == ("observation", "observation", "peer")
    assert {k: v for k, v in back.items() if k not in (first, second, third)} == {
        k: v for k, v in old.items() if k not in (first, second, third)
    }


def test_a_later_revision_applies_with_data_intact_and_goes_back(unversioned, tmp_path):
    """A test-only revision after the head, in a folder of its own: SQLite rebuilds ``student``,
    which every student's row in other tables refers to (``ON DELETE CASCADE``)."""
    migrations.upgrade(unversioned)
    columns = columns_of(unversioned)
    before, shape = content(unversioned, columns), catalog(unversioned)
    versions = [write_revision(tmp_path / "later", "9001_note", NOTE_REVISION)]

    done = migrations.upgrade(unversioned, versions=versions)
    assert (done.before, done.after) == (migrations.head(), "9001_note")
    assert content(unversioned, columns) == before
    notes = content(unversioned, {"student": ["test_only_note"]})["student"]
    assert len(notes) == len(before["student"]) and set(notes) == {("none",)}
    assert audit_breaks(unversioned) == []
    after = catalog(unversioned)
    assert after["student"]["checks"] == shape["student"]["checks"]  # gender IN ('F', 'M') kept
    assert after["student"]["options"] == shape["student"]["options"]  # WITHOUT ROWID, STRICT kept
    engine = store.connect(unversioned)  # foreign keys enforced again
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(schema.enrolment.insert(), [{**before["enrolment"][0]._asdict(), "pid": "f" * 32}])
    engine.dispose()

    # this psychanalytics does not know 9001_note: it refuses the store and changes nothing
    with pytest.raises(store.StoreVersionError, match="9001_note is unknown"):
        migrations.upgrade(unversioned)
    with pytest.raises(store.StoreVersionError, match="9001_note is unknown"):
        store.connect_existing(unversioned)
    assert revision_of(unversioned) == "9001_note"

    done = migrations.downgrade(unversioned, migrations.head(), versions=versions)
    assert (done.before, done.after) == ("9001_note", migrations.head())
    assert catalog(unversioned) == shape
    assert content(unversioned, columns) == before
    assert audit_breaks(unversioned) == []


def test_a_migration_that_breaks_a_foreign_key_is_rolled_back_whole(tmp_path, district):
    url = store.resolve_url(tmp_path / "store.sqlite")
    build_unversioned(url)
    copy_rows(district, url)
    columns = columns_of(url)
    before, shape = content(url, columns), catalog(url)
    versions = [write_revision(tmp_path / "later", "9002_orphans", ORPHANS_REVISION)]

    with pytest.raises(store.StoreVersionError, match="break a foreign key.*enrolment.*rolled back"):
        migrations.upgrade(url, versions=versions)
    assert revision_of(url) is None and not has_version_table(url)  # not even stamped
    assert catalog(url) == shape  # the column added before the delete is gone too: DDL is in the transaction
    assert content(url, columns) == before


# --- what upgrade refuses -------------------------------------------------------------------------


def test_upgrade_never_creates_a_database(tmp_path, capsys):
    missing = tmp_path / "typo" / "stroe.sqlite"
    code, out, err = upgrade_cli(str(missing), capsys)
    assert code == 2 and "数据库不存在 / database not found" in err and "Traceback" not in err
    assert not missing.parent.exists()


@pytest.mark.parametrize(
    "setup",
    [
        pytest.param([], id="empty-file"),
        pytest.param(["CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"], id="another-application"),
    ],
)
def test_upgrade_refuses_a_database_without_psychanalytics_tables(tmp_path, capsys, setup):
    path = tmp_path / "other.sqlite"
    path.touch()
    engine = store.connect(path)
    with engine.begin() as conn:
        for statement in setup:
            conn.exec_driver_sql(statement)
    engine.dispose()
    code, out, err = upgrade_cli(str(path), capsys)
    assert code == 2 and "not a psychanalytics store" in err
    assert not has_version_table(store.resolve_url(path)) and backups(tmp_path) == []


@pytest.mark.postgres
def test_upgrade_refuses_an_empty_postgresql_database(capsys):
    if not PG_URL:
        pytest.skip("PostgreSQL not configured: set PSYCHANALYTICS_TEST_PG (.ci/run does)")
    engine = store.connect(PG_URL)
    empty_database(engine)
    code, out, err = upgrade_cli(PG_URL, capsys)
    assert code == 2 and "not a psychanalytics store" in err
    assert sa.inspect(engine).get_table_names() == []
    engine.dispose()


def test_upgrade_refuses_an_unversioned_store_whose_tables_differ_from_the_baseline(tmp_path, capsys):
    url = store.resolve_url(tmp_path / "store.sqlite")
    build_unversioned(url)
    engine = store.connect(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE school ADD COLUMN motto TEXT")
        conn.exec_driver_sql("DROP TABLE funding")
    engine.dispose()
    code, out, err = upgrade_cli(url, capsys)
    assert code == 2 and "unrecognised schema, nothing changed" in err
    assert "funding: missing" in err and "school: columns" in err and "'motto'" in err
    assert not has_version_table(url) and backups(tmp_path) == []


# --- create_all, init and the rest of psychanalytics ---------------------------------------------------


def test_init_makes_a_store_at_the_head(tmp_path):
    db = tmp_path / "new.sqlite"
    result = subprocess.run(
        [CLI, "init", "--db", str(db)], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert revision_of(store.resolve_url(db)) == migrations.head()
    assert store.table_counts(store.connect(db))["school"] == 0


def test_an_unversioned_store_is_refused_until_upgraded(tmp_path, capsys):
    url = store.resolve_url(tmp_path / "store.sqlite")
    build_unversioned(url)
    with pytest.raises(store.StoreVersionError, match="psychanalytics upgrade"):
        store.connect_existing(url)
    with pytest.raises(store.StoreVersionError, match="psychanalytics upgrade"):
        store.create_all(store.connect(url))
    assert cli.main(["init", "--db", url]) == 2
    assert "psychanalytics upgrade" in capsys.readouterr().err
    assert revision_of(url) is None

    result = subprocess.run(  # the installed command, run from a folder with no alembic.ini
        [CLI, "upgrade", "--db", url], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    store.connect_existing(url).dispose()
    store.create_all(store.connect(url))  # at the head: nothing to do
    assert revision_of(url) == migrations.head()
