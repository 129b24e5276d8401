"""Research extracts of the demo district: consent, project pseudonyms, k and l, labels read back, manifests.

Everything is read back from the files written (pyreadstat, openpyxl, pandas), never taken from the
exporter's own frame.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
from functools import partial
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
import sqlalchemy as sa
from conftest import DEMO_SEED, DEMO_STUDENTS

from psychanalytics import cli, export, instruments, store, synth
from psychanalytics.privacy.pseudonym import key_fingerprint, pseudonymise
from psychanalytics.privacy.shapes import looks_personal
from psychanalytics.store import audit, schema

PROJECT = synth.DEMO_RESEARCH_PROJECT
PROJECT_KEY = b"project key of the growth-cohort study, test only"
ON = dt.date(2026, 1, 10)
WAVE = "2025-autumn"


@pytest.fixture
def district(demo_db: Path, tmp_path: Path) -> sa.Engine:
    target = tmp_path / "demo.sqlite"
    shutil.copy(demo_db, target)
    engine = store.connect(target)
    yield engine
    engine.dispose()


@pytest.fixture
def anchors(tmp_path: Path) -> audit.AnchorFile:
    return audit.AnchorFile(tmp_path / "anchors.jsonl", synth.DEMO_KEY)


def _export(engine, out: Path, **options) -> export.ExportResult:
    settings = dict(project=PROJECT, project_key=PROJECT_KEY, wave=WAVE, on=ON) | options
    return export.export_research(engine, out, **settings)


def _consenting(engine, wave: str, purpose: str, on: dt.date) -> set[str]:
    """The pids an extract may hold, by a query written apart from the exporter's."""
    rows = store.read_frame(
        engine,
        sa.text(
            "SELECT DISTINCT r.pid FROM response r JOIN consent c ON c.pid = r.pid WHERE r.wave_id = :wave "
            "AND c.purpose = :purpose AND c.guardian_consent = 1 AND c.granted_on <= :on "
            "AND (c.withdrawn_on IS NULL OR c.withdrawn_on > :on)"
        ).bindparams(wave=wave, purpose=purpose, on=on.isoformat()),
    )
    return set(rows["pid"])


def _check_k_and_l(data: pd.DataFrame, bands: list[str], *, k: int = 5, l: int = 2) -> tuple[int, int]:  # noqa: E741
    groups = data.groupby(list(export.QUASI), dropna=False)
    assert groups.size().min() >= k
    fewest = []
    for band in bands:
        having = data[data[band].notna()].groupby(list(export.QUASI), dropna=False)[band].nunique()
        assert having.min() >= l
        fewest.append(having.min())
    return int(groups.size().min()), int(min(fewest))


def test_sav_reads_back_with_chinese_labels_and_meets_k_and_l(district, anchors, tmp_path):
    done = _export(district, tmp_path / "x.sav", purpose="抑郁与焦虑的追踪", anchors=anchors)
    data, meta = pyreadstat.read_sav(done.path, user_missing=True)
    labels = meta.column_names_to_labels
    assert labels["rpid"].startswith("研究编号") and labels["phq9_total"].startswith(
        "患者健康问卷抑郁量表（PHQ-9）"
    )
    assert labels["gender"].startswith("性别") and labels["school"].startswith("学校")
    values = meta.variable_value_labels
    bands = instruments.get("phq9").scale("total").band_set()
    assert values["phq9_band"] == {float(i): b.name_zh for i, b in enumerate(bands.bands)}
    assert values["phq9_valid"] == {1.0: "有效", 0.0: "无效"}
    for name in export.QUASI:  # every code in the file has its Chinese label
        assert set(data[name].dropna()) <= set(values[name]), name
    if done.manifest["quasi_identifiers"]["gender"]["level"] == 0:
        assert set(values["gender"].values()) <= {"女", "男", "性别不详", "不分性别"}
    assert meta.missing_ranges["school"] == [{"lo": 0.0, "hi": 0.0}]  # generalised away = user-missing
    k, l = _check_k_and_l(data, ["phq9_band", "gad7_band"])  # noqa: E741
    assert (k, l) == (done.manifest["k"]["achieved"], done.manifest["l"]["achieved"])
    assert len(data) == done.manifest["rows"] > 1000


def test_only_students_whose_consent_covers_the_project(district, tmp_path):
    done = _export(district, tmp_path / "x.csv")
    data = pd.read_csv(done.path)
    allowed = _consenting(district, WAVE, f"research:{PROJECT}", ON)
    screened = set(
        store.read_frame(district, sa.select(schema.response.c.pid).where(schema.response.c.wave_id == WAVE))[
            "pid"
        ]
    )
    allowed_rpids = set(pseudonymise(sorted(allowed), PROJECT_KEY))
    assert set(data["rpid"]) <= allowed_rpids
    assert len(data) + done.manifest["removed_rows"] == len(allowed)
    assert set(data["rpid"]).isdisjoint(pseudonymise(sorted(screened - allowed), PROJECT_KEY))
    assert done.manifest["consent"] == {
        "purpose": f"research:{PROJECT}",
        "judged_on": ON.isoformat(),
        "students_screened": len(screened),
        "students_consenting": len(allowed),
    }


def test_withdrawn_consent_excludes_the_student_from_later_extracts(district, tmp_path):
    first = pd.read_csv(_export(district, tmp_path / "before.csv").path)
    pid = next(
        p
        for p in sorted(_consenting(district, WAVE, f"research:{PROJECT}", ON))
        if pseudonymise([p], PROJECT_KEY)[0] in set(first["rpid"])
    )
    with district.begin() as conn:
        conn.execute(
            schema.consent.update()
            .where(schema.consent.c.pid == pid, schema.consent.c.purpose == f"research:{PROJECT}")
            .values(withdrawn_on=ON - dt.timedelta(days=1))
        )
    later = pd.read_csv(_export(district, tmp_path / "after.csv").path)
    assert pseudonymise([pid], PROJECT_KEY)[0] not in set(later["rpid"])


def test_a_projects_waves_link_and_two_projects_cannot_be_joined(district, tmp_path):
    autumn_2025 = pd.read_csv(_export(district, tmp_path / "a.csv").path)
    autumn_2024 = pd.read_csv(_export(district, tmp_path / "b.csv", wave="2024-autumn").path)
    linked = set(autumn_2025["rpid"]) & set(autumn_2024["rpid"])
    assert len(linked) > 0.5 * len(autumn_2024)  # the same students, the same research IDs
    # a second project with the same students' consent, under its own key
    with district.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO consent (pid, purpose, guardian_consent, granted_on, scope, withdrawn_on) "
            f"SELECT pid, 'research:other-study', guardian_consent, granted_on, scope, withdrawn_on FROM consent "
            f"WHERE purpose = 'research:{PROJECT}'"
        )
    other = pd.read_csv(
        _export(
            district,
            tmp_path / "c.csv",
            project="other-study",
            project_key=b"another project's key, 32 bytes",
        ).path
    )
    assert len(other) > 1000 and set(other["rpid"]).isdisjoint(autumn_2025["rpid"])
    pids = set(store.read_frame(district, sa.select(schema.student.c.pid))["pid"])
    assert pids.isdisjoint(autumn_2025["rpid"]) and pids.isdisjoint(other["rpid"])


def test_another_key_for_the_same_project_is_refused_before_anything_is_written(district, tmp_path):
    _export(district, tmp_path / "a.csv")
    with district.connect() as conn:
        before = audit.head(conn)
    with pytest.raises(export.ExportError, match="differs from the one its earlier extracts were made with"):
        _export(district, tmp_path / "b.csv", project_key=b"a different key for the same project!")
    assert not (tmp_path / "b.csv").exists() and not export.manifest_path(tmp_path / "b.csv").exists()
    assert not list(tmp_path.glob(".b.csv*"))
    with district.connect() as conn:
        assert audit.head(conn) == before


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"project": "nobody-asked"},
            "no student screened in 2025-autumn has consent for research:nobody-asked",
        ),
        ({"project": "Bad Name"}, "invalid project name"),
        ({"wave": "1999-autumn"}, "no screening wave '1999-autumn'"),
        ({"fmt": "sas7bdat"}, "format must be one of sav, dta, xlsx, csv"),
    ],
    ids=["no-consent", "bad-project", "unknown-wave", "unknown-format"],
)
def test_an_extract_that_cannot_be_made_is_refused(district, tmp_path, options, message):
    (tmp_path / "out").mkdir()
    with pytest.raises(export.ExportError, match=message):
        _export(district, tmp_path / "out" / "x.csv", **options)
    assert list((tmp_path / "out").iterdir()) == []


def test_every_format_holds_the_same_extract_with_its_labels(district, tmp_path):
    sav = _export(district, tmp_path / "x.sav")
    data, _ = pyreadstat.read_sav(sav.path, user_missing=True)
    dta, dta_meta = pyreadstat.read_dta(_export(district, tmp_path / "x.dta").path)
    assert dta_meta.column_names_to_labels["phq9_band"] == "PHQ-9 风险分级"
    assert sav.manifest["quasi_identifiers"]["gender"]["level"] == 0  # the demo's 2025 wave keeps gender
    assert dta_meta.variable_value_labels["gender"] == {1: "女", 2: "男"}
    csv = pd.read_csv(_export(district, tmp_path / "x.csv").path)
    sheets = pd.read_excel(_export(district, tmp_path / "x.xlsx").path, sheet_name=None)
    assert list(sheets) == ["数据 data", "变量说明 codebook", "说明 about"]
    shown = sheets["数据 data"]
    assert shown.columns[0].startswith("研究编号") and "性别 / gender" in shown.columns
    assert set(
        shown["患者健康问卷抑郁量表（PHQ-9）：风险分级 / Patient Health Questionnaire-9: risk band"].dropna()
    ) <= {b.name_zh for b in instruments.get("phq9").scale("total").band_set().bands}
    for other in (dta, csv):
        assert list(other["rpid"]) == list(data["rpid"])
        pd.testing.assert_series_equal(other["phq9_total"], data["phq9_total"], check_names=False)
    assert list(shown.iloc[:, 0]) == list(data["rpid"])
    about = dict(zip(sheets["说明 about"].iloc[:, 0], sheets["说明 about"].iloc[:, 1], strict=True))
    assert about["项目密钥指纹 / project key fingerprint"] == key_fingerprint(PROJECT_KEY)


def test_no_identifier_leaves_in_any_file(district, tmp_path):
    people = synth.population(seed=DEMO_SEED, students=DEMO_STUDENTS)
    pids = store.read_frame(district, sa.select(schema.student.c.pid))["pid"]
    for fmt in export.FORMATS:
        done = _export(district, tmp_path / f"x.{fmt}")
        columns = set(done.manifest["columns"][i]["name"] for i in range(len(done.manifest["columns"])))
        assert columns.isdisjoint({"pid", "class_no", "birth_year", "cohort", "student_number", "name"})
        for path in (done.path, done.manifest_path):
            if fmt == "xlsx" and path == done.path:  # a zip: read its cells
                text = "\n".join(
                    frame.to_csv() for frame in pd.read_excel(path, sheet_name=None, dtype=str).values()
                )
            else:
                text = path.read_bytes().decode("utf-8", errors="replace")
            assert not any(number in text for number in people["student_number"])
            assert not any(pid in text for pid in pids)
        if fmt in (
            "csv",
            "xlsx",
        ):  # every cell but the research id: nothing shaped like an ID, a phone, an address
            read = pd.read_csv if fmt == "csv" else partial(pd.read_excel, sheet_name=0)
            cells = read(done.path, dtype=str)
            assert list(cells.iloc[:, 0]) == list(done.extract.data["rpid"])  # the research id comes first
            values = cells.iloc[:, 1:].stack()
            assert len(values) > 100 and not [v for v in values if looks_personal(str(v))], fmt


def test_the_manifest_records_purpose_date_columns_k_l_key_and_an_anchor_that_verifies(
    district, anchors, tmp_path
):
    done = _export(district, tmp_path / "x.sav", purpose="抑郁与焦虑的追踪", anchors=anchors)
    written = json.loads(done.manifest_path.read_text("utf-8"))
    assert written == done.manifest
    assert (
        written["purpose"] == "抑郁与焦虑的追踪" and written["project"] == PROJECT and written["wave"] == WAVE
    )
    assert dt.datetime.fromisoformat(written["created_utc"]).date() == dt.datetime.now(dt.UTC).date()
    assert [c["name"] for c in written["columns"]][:6] == ["rpid", "wave", *export.QUASI]
    assert written["k"]["required"] == 5 and written["k"]["achieved"] >= 5
    assert written["l"]["required"] == 2 and written["l"]["achieved"] >= 2
    assert written["project_key_fingerprint"] == key_fingerprint(PROJECT_KEY)
    assert written["sensitive"] == ["gad7_band", "phq9_band"]
    assert written["file_sha256"] == hashlib.sha256(done.path.read_bytes()).hexdigest()
    anchor = audit.Anchor.from_dict(written["audit_anchor"])
    with district.connect() as conn:
        assert audit.check(conn, key=synth.DEMO_KEY, anchors=[anchor]).ok
        row = conn.execute(
            sa.select(schema.audit_log).where(schema.audit_log.c.seq == written["audit_seq"])
        ).one()
    detail = json.loads(row.detail)
    assert (
        row.action == "export"
        and detail["purpose"] == "抑郁与焦虑的追踪"
        and detail["file_sha256"] == written["file_sha256"]
    )
    releases = store.list_releases(district)
    assert releases[["kind", "name", "project", "audit_seq"]].values.tolist() == [
        ["extract", "x.sav", PROJECT, written["audit_seq"]]
    ]


def test_the_command_exports_and_keeps_the_project_key_outside_the_database(
    district, tmp_path, monkeypatch, capsys
):
    key_file = tmp_path / "demo.key"
    key_file.write_bytes(synth.DEMO_KEY)
    monkeypatch.setenv("PSYCHANALYTICS_KEY_FILE", str(key_file))
    db = str(district.url.database)
    out = tmp_path / "out.sav"
    code = cli.main(
        ["export", "research", "--db", db, "--out", str(out), "--project", PROJECT, "--purpose", "追踪"]
    )
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "研究数据已导出 / research extract written" in printed.out and "k = " in printed.out
    fingerprint = json.loads(export.manifest_path(out).read_text())["project_key_fingerprint"]
    created = Path(os.environ["PSYCHANALYTICS_PROJECT_KEYS"]) / f"{PROJECT}.key"
    assert oct(created.stat().st_mode & 0o777) == "0o600" and fingerprint == key_fingerprint(
        created.read_bytes()
    )
    # a store that knows the project's key refuses to make a new one
    created.unlink()
    code = cli.main(
        ["export", "research", "--db", db, "--out", str(tmp_path / "again.sav"), "--project", PROJECT]
    )
    assert code == 2 and "the key file of project growth-cohort is missing" in capsys.readouterr().err
    assert not created.exists()
