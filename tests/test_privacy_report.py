"""``psychanalytics privacy report``: the facts of a PIPL Art. 55 assessment, Chinese first, from the store."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from psychanalytics import cli, export, store, synth
from psychanalytics.store import queries, schema


@pytest.fixture
def district(demo_db: Path, tmp_path: Path) -> sa.Engine:
    target = tmp_path / "demo.sqlite"
    shutil.copy(demo_db, target)
    engine = store.connect(target)
    yield engine
    engine.dispose()


def test_consent_coverage_counts_by_purpose(district):
    on = dt.date(2026, 1, 10)
    coverage = queries.consent_coverage(district, on=on).set_index("purpose")
    rows = store.read_frame(district, sa.select(schema.consent))
    research = rows[rows["purpose"] == f"research:{synth.DEMO_RESEARCH_PROJECT}"]
    withdrawn = research["withdrawn_on"].notna() & (research["withdrawn_on"] <= on)
    active = research["guardian_consent"].astype(bool) & (research["granted_on"] <= on) & ~withdrawn
    got = coverage.loc[f"research:{synth.DEMO_RESEARCH_PROJECT}"]
    assert (got["asked"], got["refused"], got["active"]) == (
        len(research),
        int((~research["guardian_consent"].astype(bool)).sum()),
        int(active.sum()),
    )
    assert (
        got["n"] == store.table_counts(district)["student"] and got["proportion"] == got["active"] / got["n"]
    )


def test_the_report_says_what_is_held_where_the_keys_are_who_exported_and_consent(
    district, tmp_path, capsys, monkeypatch
):
    key_file = tmp_path / "demo.key"
    key_file.write_bytes(synth.DEMO_KEY)
    monkeypatch.setenv("PSYCHANALYTICS_KEY_FILE", str(key_file))
    db = str(district.url.database)
    out = tmp_path / "extract.sav"
    assert (
        cli.main(
            [
                "export",
                "research",
                "--db",
                db,
                "--out",
                str(out),
                "--project",
                synth.DEMO_RESEARCH_PROJECT,
                "--purpose",
                "抑郁与焦虑的追踪分析",
            ]
        )
        == 0
    )
    pid = store.read_frame(district, sa.select(schema.student.c.pid).limit(1))["pid"][0]
    store.forget(district, [pid])
    capsys.readouterr()

    assert cli.main(["privacy", "report", "--db", db]) == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert lines[0].startswith("个人信息保护影响评估辅助报告 / ")
    for heading in ("一、存储的个人信息", "二、密钥存放", "三、数据导出", "四、同意覆盖", "五、审计链"):
        assert any(line.startswith(heading) for line in lines), heading
    assert "      敏感个人信息 / sensitive: raw, band, band_rank" in text  # score, from the column classes
    assert (
        f"化名主密钥 / pseudonym key: {key_file}  存在 / present: 是 / yes  与数据库指纹一致 / matches the store: 是 / yes"
        in text
    )
    assert (
        f"项目密钥 / project key {synth.DEMO_RESEARCH_PROJECT}" in text
        and "本库锚点 / anchors of this store: 1" in text
    )
    export_line = next(line for line in lines if " export " in line)
    assert "抑郁与焦虑的追踪分析" in export_line and "extract.sav" in export_line
    assert any(" erasure " in line for line in lines)
    assert "已按请求删除的学生（保留化名墓碑）/ students erased at a request (tombstones kept): 1" in text
    assert any(line.strip().startswith("extract") and "extract.sav" in line for line in lines)  # now stale
    assert any(
        line.strip().startswith(f"research:{synth.DEMO_RESEARCH_PROJECT}") and "%" in line for line in lines
    )
    assert "含锚点核对 / anchors checked" in text and "未通过校验" not in text
    assert pid not in text

    assert cli.main(["privacy", "report", "--db", db, "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["erased"] == 1 and facts["audit"]["problems"] == [] and facts["anchors"] == 1
    assert [e["action"] for e in facts["events"]] == ["export", "erasure"]
    assert {row["table"] for row in facts["inventory"]} >= {"student", "score", "crisis_case", "consent"}
    assert export.manifest_path(out).exists()
