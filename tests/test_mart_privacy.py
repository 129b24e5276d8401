"""The published mart holds nothing a leader could use to single a student out (issue #15, items 1 and 2).

Attacks (``tests/mart_attacks.py``, written apart from the defender in
``psychanalytics.privacy.linked``) run on the published file: sums of shown
cells against their total, one population shown in one table and hidden in
another, the equations of the whole mart solved together, and each hidden cell's
minimum and maximum by linear programming with the markers' bounds. Each attack
is first shown to find something when the publication-wide pass is switched
off, so each test can fail.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mart_attacks import attack, scenario_tables

from psychanalytics import cli, mart, store, synth
from psychanalytics.mart import _publish
from psychanalytics.mart._registry import MartTable
from psychanalytics.privacy.linked import Population
from psychanalytics.privacy.policy import ESTIMATES, LABEL_COLUMNS
from psychanalytics.store import schema

MIN_CELL = 10


def _publish_to(db: Path, target: Path, tables=None, *, linked: bool = True) -> mart.Mart:
    engine = store.connect_existing(db)
    try:
        if linked:
            mart.publish(engine, target, tables=tables, min_cell=MIN_CELL)
        else:
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(_publish, "suppress_linked", lambda linked, min_cell, report=None: {})
                mart.publish(engine, target, tables=tables, min_cell=MIN_CELL)
    finally:
        engine.dispose()
    return mart.Mart(target)


@pytest.fixture(scope="module")
def district(demo_db, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("mart-privacy")
    shutil.copy(demo_db, folder / "demo.sqlite")
    return folder / "demo.sqlite"


@pytest.fixture(scope="module")
def linked_tables():
    return [*mart.TABLES.values(), *scenario_tables()]


@pytest.fixture(scope="module")
def published(district, linked_tables) -> mart.Mart:
    """The registered tables and a screening page's cuts of the same students, published with every pass."""
    return _publish_to(district, district.with_name("mart.sqlite"), linked_tables)


@pytest.fixture(scope="module")
def unlinked(district, linked_tables) -> mart.Mart:
    """The same tables, each protected alone (the publication-wide pass switched off)."""
    return _publish_to(district, district.with_name("unlinked.sqlite"), linked_tables, linked=False)


@pytest.fixture(scope="module")
def findings(published, linked_tables, district):
    engine = store.connect_existing(district, read_only=True)
    yield attack(published, linked_tables, engine, min_cell=MIN_CELL)
    engine.dispose()


@pytest.fixture(scope="module")
def findings_unlinked(unlinked, linked_tables, district):
    engine = store.connect_existing(district, read_only=True)
    yield attack(unlinked, linked_tables, engine, min_cell=MIN_CELL, lp=False)
    engine.dispose()


# --- (a) nothing student-level in the file ------------------------------------------------------


def test_the_mart_file_holds_only_labelled_aggregates(district, tmp_path):
    path = tmp_path / "mart.sqlite"
    published = _publish_to(district, path)
    listed = published.tables().set_index("name")
    with sqlite3.connect(path) as conn:
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert tables == {*published.manifest["tables"], "mart_tables", "mart_manifest"}
        assert not conn.execute("SELECT name FROM sqlite_master WHERE type IN ('view', 'trigger')").fetchall()
        for name in published.manifest["tables"]:
            columns = [row[1] for row in conn.execute(f'PRAGMA table_info("{name}")')]
            policy = json.loads(listed.at[name, "policy"])
            allowed = {
                *LABEL_COLUMNS,
                *ESTIMATES,
                *policy.get("labels", ()),
                *policy.get("estimates", ()),
                *policy.get("by", ()),
                "count",
                "n",
                "suppressed",
                "marker",
                mart.ROW_COLUMN,
            }
            assert not [c for c in columns if "pid" in c.lower() or c.lower() in {"student_number", "name"}]
            if "no_people" not in policy:  # a table of no people (targets, teachers) names its own columns
                assert set(columns) <= allowed, (name, set(columns) - allowed)
            labels = [
                c
                for c in columns
                if c not in {"count", "n", "suppressed", "marker", mart.ROW_COLUMN, *ESTIMATES}
            ]
            assert columns[-1] == mart.ROW_COLUMN
            frame = pd.read_sql_query(f'SELECT * FROM "{name}"', conn)
            assert not frame.duplicated(subset=labels).any(), name  # one row per cell, never per student
    with store.connect_existing(district, read_only=True).connect() as conn:
        students = conn.execute(sa.select(sa.func.count()).select_from(schema.student)).scalar_one()
    listed = published.tables()
    of_students = [
        rows for rows, policy in zip(listed["rows"], listed["policy"], strict=True)
        if "no_people" not in json.loads(policy) and json.loads(policy).get("unit") != "school"
    ]  # fmt: skip
    assert max(of_students) < students / 10  # tables of students hold cells, never a row per student


def test_the_manifest_names_snapshot_specs_and_rule(published):
    m = published.manifest
    assert m["snapshot"]["data_as_of"] and m["spec_versions"]["phq9"] and m["min_cell"] == MIN_CELL
    assert "attribute disclosure" in m["rule"] and "across every table" in m["rule"]
    policy = json.loads(published.tables().set_index("name").at["phq9_bands_per_wave", "policy"])
    assert policy["hide_uniform"] is True
    assert policy["population"]["n"] == {
        "universe": "phq9 sheets",
        "dimensions": ["wave_id"],
        "given": {"sheet": "valid"},
    }


# --- (b) sums, (c) differencing across tables and filters ------------------------------------------


def test_without_the_linked_pass_the_attacks_recover_cells(findings_unlinked):
    # the attacks are real: each table protected alone gives cells away to sums across tables
    assert findings_unlinked.one_hidden and findings_unlinked.solved


def test_no_group_with_a_shown_total_has_exactly_one_hidden_part(findings, published):
    assert findings.hidden > 100 and findings.relations > 300  # the attack had something to work on
    assert findings.one_hidden == []
    assert published.tables()["linked_hidden"].sum() > 0


def test_no_population_is_shown_in_one_table_and_hidden_in_another(findings):
    assert findings.inconsistent == []


def test_the_whole_mart_solves_for_no_hidden_cell(findings):
    assert findings.solved == [] and findings.pinned == []


def _people(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["wave_id", "school_id", "stage", "grade", "gender", "band"])


def _cells(people: pd.DataFrame, group: tuple[str, ...], keep=None) -> pd.DataFrame:
    """Counts of every band in every group present, ``n`` the group's size (as band_distribution gives them)."""
    columns = [*group, "band", "band_rank", "count", "n", "proportion"]
    if people.empty:
        return pd.DataFrame(columns=columns)
    bands = sorted(people["band"].unique())
    counts = people.groupby([*group, "band"]).size().rename("count").reset_index()
    cells = people[list(group)].drop_duplicates().merge(pd.DataFrame({"band": bands}), how="cross")
    out = cells.merge(counts, on=[*group, "band"], how="left").fillna({"count": 0})
    out["count"] = out["count"].astype("int64")
    out["n"] = out.groupby(list(group))["count"].transform("sum").astype("int64")
    out["band_rank"] = out["band"].map({b: int(b[1:]) for b in bands}).astype("int64")
    out["proportion"] = out["count"] / out["n"]
    if keep is not None:
        out = out[keep(out)]
    return out[columns].reset_index(drop=True)


CUTS = {
    "bands": (("wave_id",), None),
    "by_grade": (("wave_id", "grade"), None),
    "by_gender": (("wave_id", "gender"), None),
    "by_grade_gender": (("wave_id", "grade", "gender"), None),
    "by_stage": (("wave_id", "stage"), None),
    "by_school": (("wave_id", "stage", "school_id"), None),
    "girls_by_grade": (("wave_id", "grade", "gender"), lambda f: f["gender"] == "F"),
}


def _tables(people: pd.DataFrame) -> list[MartTable]:
    out = []
    for name, (group, keep) in CUTS.items():
        out.append(
            MartTable(
                name,
                name,
                name,
                lambda engine, group=group, keep=keep: _cells(people, group, keep),
                {"by": group},
                headline=(lambda f: f["band_rank"] >= 1) if name == "bands" else None,
                population={
                    "count": Population("risk", (*group, "band")),
                    "n": Population("risk", group),
                },
            )
        )
    return out


def _empty_store(folder: Path) -> Path:
    engine = store.connect(folder / "store.sqlite")
    store.create_all(engine)
    engine.dispose()
    return folder / "store.sqlite"


def _before_and_after(folder: Path, people: pd.DataFrame, names: tuple[str, ...]):
    """The attack on ``names`` published each alone, then with the linked pass; and the second mart."""
    tables = [t for t in _tables(people) if t.name in names]
    db = _empty_store(folder)
    engine = store.connect_existing(db, read_only=True)
    try:
        before = attack(_publish_to(db, folder / "alone.sqlite", tables, linked=False), tables, engine)
        published = _publish_to(db, folder / "linked.sqlite", tables)
        return before, attack(published, tables, engine), published
    finally:
        engine.dispose()


def test_a_margin_minus_a_shown_part_is_not_left_pointing_at_a_small_cell(tmp_path):
    # wave W: 200 mild + 23 severe. By gender: girls 95 mild + 4 severe, boys 105 + 19. Alone, the gender table
    # hides the 4 and the 95; but 23 - 19 = 4 (severe girls) and 200 - 105 = 95 from the district table.
    people = _people(
        [("W", "S1", "junior", 7, "F", "b0")] * 95
        + [("W", "S1", "junior", 7, "F", "b1")] * 4
        + [("W", "S1", "junior", 7, "M", "b0")] * 105
        + [("W", "S1", "junior", 7, "M", "b1")] * 19
    )
    before, after, published = _before_and_after(tmp_path, people, ("bands", "by_gender"))
    assert [k for k in before.one_hidden if ("gender", "F") in k[0][1] and ("band", "b1") in k[0][1]]
    assert after.recoverable == []
    assert published.table("by_gender")["count"].isna().all()  # the boys' cells went too: 23 - 19 = 4


def test_two_filters_whose_difference_is_a_few_students_are_not_both_shown(tmp_path):
    # grade 8 has 60 girls and 6 boys. The page's "girls only" filter shows the girls' bands; the grade table shows
    # the whole grade: grade minus girls is the 6 boys, a group nobody published.
    people = _people(
        [("W", "S1", "junior", 8, "F", "b0")] * 45
        + [("W", "S1", "junior", 8, "F", "b1")] * 15
        + [("W", "S1", "junior", 8, "M", "b0")] * 4
        + [("W", "S1", "junior", 8, "M", "b1")] * 2
        + [("W", "S1", "junior", 7, "F", "b0")] * 40
        + [("W", "S1", "junior", 7, "M", "b0")] * 30
        + [("W", "S1", "junior", 7, "M", "b1")] * 20
    )
    before, after, published = _before_and_after(tmp_path, people, ("by_grade", "girls_by_grade"))
    assert [k for k, _ in before.one_hidden if k[0] == "rest"]  # 66 - 60 = 6 boys, 49 - 45 = 4 ...
    assert after.recoverable == []
    grade8 = published.table("by_grade").query("grade == 8")
    assert grade8["n"].isna().all() or published.table("girls_by_grade").query("grade == 8")["n"].isna().all()


def test_a_group_whose_students_all_share_one_band_is_hidden_whole(tmp_path):
    people = _people(
        [("W", "S1", "junior", 7, "F", "b0")] * 30
        + [("W", "S1", "junior", 8, "F", "b0")] * 20
        + [("W", "S1", "junior", 8, "F", "b1")] * 25
    )
    tables = [t for t in _tables(people) if t.name == "by_grade"]
    published = _publish_to(_empty_store(tmp_path), tmp_path / "m.sqlite", tables)
    cells = published.table("by_grade")
    grade7 = cells.query("grade == 7")
    assert grade7["count"].isna().all() and grade7["n"].isna().all()  # all 30 in b0: l = 1
    assert cells.query("grade == 8")["count"].tolist() == [20, 25]


# --- (d) random districts -----------------------------------------------------------------------

_SCHOOLS = {"S1": "primary", "S2": "primary", "S3": "junior"}


@st.composite
def districts(draw):
    waves = draw(st.sampled_from([["W1"], ["W1", "W2"]]))
    weights = draw(st.lists(st.integers(1, 8), min_size=3, max_size=3))
    bands = [f"b{i}" for i, w in enumerate(weights) for _ in range(w)]
    student = st.tuples(
        st.sampled_from(waves),
        st.sampled_from(sorted(_SCHOOLS)),
        st.sampled_from([7, 8]),
        st.sampled_from(["F", "M"]),
        st.sampled_from(bands),
    )
    rows = draw(st.lists(student, max_size=140))
    return _people([(w, s, _SCHOOLS[s], g, x, b) for w, s, g, x, b in rows])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(people=districts())
def test_no_cell_of_a_random_district_is_recoverable(people):
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        tables = _tables(people)
        db = _empty_store(folder)
        published = _publish_to(db, folder / "m.sqlite", tables)
        engine = store.connect_existing(db, read_only=True)
        try:
            found = attack(published, tables, engine, min_cell=MIN_CELL)
        finally:
            engine.dispose()
            published.close()
        assert found.recoverable == [], found.counts()
        for table in tables:
            shown = published.table(table.name)
            assert (shown["count"].dropna() >= MIN_CELL).all() and (shown["n"].dropna() >= MIN_CELL).all()


# --- (e) erasure marks the mart stale, (f) the publish anchor is verified ---------------------------


@pytest.fixture
def keyed(demo_db, tmp_path, monkeypatch) -> Path:
    key = tmp_path / "demo.key"
    key.write_bytes(synth.DEMO_KEY)
    monkeypatch.setenv("PSYCHANALYTICS_KEY_FILE", str(key))
    shutil.copy(demo_db, tmp_path / "demo.sqlite")
    return tmp_path / "demo.sqlite"


def test_forget_after_publish_marks_the_mart_stale_and_the_report_says_so(keyed, tmp_path, capsys):
    db = str(keyed)
    assert cli.main(["publish", "--db", db, "--mart", str(tmp_path / "mart.sqlite")]) == 0
    releases = store.list_releases(store.connect_existing(keyed, read_only=True))
    assert releases["kind"].tolist()[-1] == "mart" and releases["stale_since"].isna().all()
    engine = store.connect_existing(keyed, read_only=True)
    pid = store.read_frame(engine, sa.select(schema.student.c.pid).order_by(schema.student.c.pid).limit(1))[
        "pid"
    ][0]
    engine.dispose()
    number = synth.population(seed=7, students=3_000).set_index("pid").loc[pid, "student_number"]
    assert cli.main(["forget", "--db", db, "--student-number", number]) == 0
    assert "marked stale" in capsys.readouterr().out
    releases = store.list_releases(store.connect_existing(keyed, read_only=True))
    mart_row = releases[releases["kind"] == "mart"].iloc[-1]
    assert mart_row["name"] == "mart.sqlite" and pd.notna(mart_row["stale_since"])
    assert "erasure of 1 student" in mart_row["stale_reason"]
    assert cli.main(["privacy", "report", "--db", db]) == 0
    report = capsys.readouterr().out
    assert any(line.strip().startswith("mart") and "mart.sqlite" in line for line in report.splitlines())


def test_audit_verify_checks_the_anchor_in_the_publish_manifest(keyed, tmp_path, capsys):
    db, target = str(keyed), tmp_path / "mart.sqlite"
    assert cli.main(["publish", "--db", db, "--mart", str(target)]) == 0
    manifest_path = target.with_name("mart.sqlite.manifest.json")
    manifest = json.loads(manifest_path.read_text("utf-8"))
    anchor = manifest["audit_anchor"]
    assert anchor["seq"] == manifest["audit_seq"] and anchor["mac"]
    assert mart.Mart(target).manifest["audit_anchor"] == anchor
    capsys.readouterr()
    assert cli.main(["audit", "verify", "--db", db, "--manifest", str(manifest_path)]) == 0
    assert "核对一致 / verified" in capsys.readouterr().out

    edited = tmp_path / "edited.manifest.json"
    edited.write_text(
        json.dumps({**manifest, "audit_anchor": {**anchor, "row_hash": "0" * 64}}, ensure_ascii=False),
        "utf-8",
    )
    assert cli.main(["audit", "verify", "--db", db, "--manifest", str(edited)]) == 1
    assert "forged or edited" in capsys.readouterr().out


# --- PostgreSQL: the mart is a schema the reader role reaches, and nothing else -----------------------


@pytest.mark.postgres
def test_the_reader_role_reads_the_mart_and_nothing_row_level(pg_engine):
    import os

    synth.build_demo(pg_engine, seed=3, students=600)
    url = pg_engine.url.render_as_string(hide_password=False)
    done = mart.publish(pg_engine, url, min_cell=MIN_CELL)
    assert "phq9_bands_per_wave" in done.rows
    reader = pg_engine.url.set(
        username=mart.READER_ROLE, password=os.environ.get("PSYCHANALYTICS_READER_PASSWORD", mart.READER_ROLE)
    )
    published = mart.Mart(reader.render_as_string(hide_password=False))
    try:
        bands = published.table("phq9_bands_per_wave")
        assert len(bands) == done.rows["phq9_bands_per_wave"] and (bands["count"].dropna() >= MIN_CELL).all()
        assert published.manifest["min_cell"] == MIN_CELL
        denied = []
        for table in schema.metadata.sorted_tables:
            with published.engine.connect() as conn:
                try:
                    conn.execute(sa.text(f'SELECT 1 FROM public."{table.name}" LIMIT 1'))
                except sa.exc.ProgrammingError as exc:
                    assert "permission denied" in str(exc.orig)
                    denied.append(table.name)
        assert denied == [t.name for t in schema.metadata.sorted_tables]
        assert {"school", "student", "response", "score", "audit_log"} <= set(denied)
        for statement in (
            'CREATE TABLE mart."x" (a int)',
            'DELETE FROM mart."phq9_bands_per_wave"',
            "CREATE TABLE public.x (a int)",
        ):
            with (
                published.engine.connect() as conn,
                pytest.raises(sa.exc.ProgrammingError, match="permission denied"),
            ):
                conn.execute(sa.text(statement))
    finally:
        published.close()
