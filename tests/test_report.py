"""The annual survey report: rendered by the CLI to HTML and PDF, read back with a PDF text extractor."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import openpyxl
import pandas as pd
import pypdf
import pytest

from psychanalytics import mart, plan, reports, store
from psychanalytics.privacy import LeaderView
from psychanalytics.privacy.shapes import looks_personal
from psychanalytics.store import queries

YEAR = "2024-2025"
pytestmark = [pytest.mark.slow]


def _text(page: pypdf.PageObject) -> str:
    """A page's text as a reader would search it (full-width punctuation as NFKC reads it: 「：」 → ":")."""
    return unicodedata.normalize("NFKC", page.extract_text())


@pytest.fixture(scope="module")
def rendered(demo_db, tmp_path_factory):
    work = tmp_path_factory.mktemp("report")
    db = work / "demo.sqlite"
    shutil.copy(demo_db, db)
    out = work / "annual.html"
    cli = Path(sys.executable).parent / "psychanalytics"
    done = subprocess.run(
        [cli, "report", "annual", "--db", str(db), "--year", YEAR, "--out", str(out), "--pdf"],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    engine = store.connect_existing(db, read_only=True)
    schools = pd.read_sql("SELECT school_id, name FROM school ORDER BY school_id", engine)
    engine.dispose()
    return {"html": out, "pdf": out.with_suffix(".pdf"), "stdout": done.stdout, "schools": schools}


@pytest.mark.browser
def test_pdf_has_every_section_and_one_annex_page_per_school(rendered):
    reader = pypdf.PdfReader(rendered["pdf"])
    texts = [_text(page) for page in reader.pages]
    whole = "\n".join(texts)
    headings = [unicodedata.normalize("NFKC", h) for h in reports.SECTIONS]  # 「：」 reads back as ":"
    for heading in headings:
        assert heading in whole, heading
    assert "演示数据" in texts[0] and "督导调研报告(2024-2025学年)" in texts[0]
    annex = next(i for i, text in enumerate(texts) if headings[-1] in text)
    schools = rendered["schools"]
    assert len(reader.pages) == annex + len(schools)  # the front pages, then one page per school
    assert 3 <= annex <= 7
    for offset, school in enumerate(schools.itertuples()):
        page = texts[annex + offset]
        assert school.school_id in page and school.name in page, (school.school_id, annex + offset)
        assert "年终督导五项检查" in page and "目标对照" in page
    for number, text in enumerate(texts, start=1):
        assert f"— {number} —" in text  # page numbers from the stylesheet
    assert sorted(s for s in reports.SECTIONS[:5] if s in "".join(texts[:annex])) == sorted(
        reports.SECTIONS[:5]
    )


@pytest.mark.browser
def test_pdf_text_reads_as_ideographs_not_radicals(rendered):
    """Chromium writes 心 as the radical ⼼ (U+2F3C) that shares its glyph; the report's PDF is searchable."""
    raw = "".join(page.extract_text() for page in pypdf.PdfReader(rendered["pdf"]).pages)
    assert not [c for c in raw if "\u2e80" <= c <= "\u2fdf"]
    assert "中小学生心理健康服务工作" in raw and "成长指导中心" in raw
    assert not looks_personal(raw)


@pytest.mark.browser
def test_pdf_embeds_the_chinese_glyphs_as_outlines_with_their_text(rendered):
    """Chromium embeds the CJK (CFF) glyphs as Type 3 outline fonts: vector, sharp, with a ToUnicode map."""
    reader = pypdf.PdfReader(rendered["pdf"])
    fonts = [f.get_object() for page in reader.pages for f in page["/Resources"]["/Font"].values()]
    assert any(f["/Subtype"] == "/Type3" for f in fonts)
    assert all("/ToUnicode" in f for f in fonts)  # every glyph can be searched and copied
    assert not any(p.images for p in reader.pages)  # charts are vector drawings, not bitmaps


def test_html_is_one_self_contained_file(rendered):
    page = rendered["html"].read_text(encoding="utf-8")
    markup = re.sub(r"<script[^>]*>.*?</script>", "", page, flags=re.S)  # plotly.js's own code names URLs
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", markup)  # nothing loaded from outside
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", page)  # no external script, sheet or image
    assert "Plotly.newPlot" in page and page.count("plotly.js v") >= 1
    assert "Traceback" not in markup and "Error" not in markup
    assert not looks_personal(markup)  # nothing shaped like a 学籍号, an ID card, a phone or an address
    assert "report (HTML)" in rendered["stdout"] and "report (PDF)" in rendered["stdout"]
    for heading in reports.SECTIONS:
        assert heading in page


def test_every_table_of_the_report_passes_the_leader_policy(demo_mart):
    report = reports.annual_report(demo_mart, school_year=YEAR)
    sections = [report.head(), report.summary(), report.achievements(), report.gaps(), report.problems(),
                report.recommendations(), report.annex()]  # fmt: skip
    assert all(s.data for s in sections)
    expected = {"summary_status", "district_targets", "school_targets", "staffing_standards", "rooms_share",
                "activities", "problems", "annex_targets", "annex_checks"}  # fmt: skip
    assert expected <= set(report.views) and all(isinstance(v, LeaderView) for v in report.views.values())
    assert any(name.startswith("room_matrix_") for name in report.views)
    assert report.min_cell == 10  # the mart's, stated in the report's head


def test_the_report_reads_the_mart_and_needs_no_store(demo_db, tmp_path):
    """Rendered from a mart whose store is gone: the report never reaches row-level data (issue #15)."""
    shutil.copy(demo_db, tmp_path / "store.sqlite")
    published = mart.publish_beside(tmp_path / "store.sqlite")
    assert published == tmp_path / "store-mart.sqlite"
    (tmp_path / "store.sqlite").unlink()
    done = reports.render_annual(mart=published, school_year=YEAR, out=tmp_path / "from_mart.html")
    page = done.html.read_text(encoding="utf-8")
    assert all(heading in page for heading in reports.SECTIONS)
    assert "汇总数据发布于" in page and "数据截至" in page
    with pytest.raises(mart.MartNotFoundError, match="not a published mart"):
        reports.annual_report(demo_db, school_year=YEAR)  # a store is not a mart


def test_publish_beside_publishes_again_only_when_the_store_changed(demo_db, tmp_path):
    shutil.copy(demo_db, tmp_path / "store.sqlite")
    first = mart.publish_beside(tmp_path / "store.sqlite")
    stamp = first.stat().st_mtime_ns
    assert mart.publish_beside(tmp_path / "store.sqlite").stat().st_mtime_ns == stamp  # current: kept
    assert mart.publish_beside(tmp_path / "store.sqlite", min_cell=11).stat().st_mtime_ns != stamp
    assert mart.Mart(first).manifest["min_cell"] == 11


def test_an_unknown_school_year_is_a_clear_error(demo_mart, tmp_path):
    with pytest.raises(reports.ReportError, match=r"not '2030-2031'"):
        reports.render_annual(mart=demo_mart, school_year="2030-2031", out=tmp_path / "x.html")
    assert not (tmp_path / "x.html").exists()


# --- the supervision scorecard: one command -----------------------------------------------------------


def test_the_scorecard_command_writes_every_schools_five_checks(demo_db, demo_mart, tmp_path):
    out = tmp_path / "scorecard.xlsx"
    cli = Path(sys.executable).parent / "psychanalytics"
    done = subprocess.run(
        [cli, "report", "scorecard", "--mart", str(demo_mart), "--year", YEAR, "--out", str(out)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    engine = store.connect_existing(demo_db, read_only=True)
    expected = plan.evaluate(queries.plan_inputs(engine), school_year=YEAR).scorecard  # from the store
    engine.dispose()
    rows = list(openpyxl.load_workbook(out).worksheets[0].values)
    assert rows[0][:6] == ("学校编号", "学校", "学段", "城乡", "检查项", "结论") and rows[1][0] == "school id"
    body = pd.DataFrame(rows[2:], columns=rows[1])
    assert len(body) == len(expected) == 5 * expected["school_id"].nunique()
    ours = body.set_index(["school id", "check"])["result"].sort_index()
    theirs = expected.set_index(["school_id", "name_zh"])["status_zh"].sort_index()
    assert ours.tolist() == theirs.tolist() and ours.index.tolist() == theirs.index.tolist()
    assert (
        body.groupby("school id")["check"]
        .apply(list)
        .map(lambda c: c == [v[0] for v in plan.CHECKS.values()])
        .all()
    )
    failed = body[body["result"] == "未达标"]
    assert len(failed) and failed["what is missing"].notna().all()  # every failed check says what is missing
    for zh, _ in plan.CHECKS.values():
        passing = int((theirs.xs(zh, level="name_zh") == "达标").sum())
        assert f"{zh}：达标 {passing}，" in done.stdout
    assert "scorecard (XLSX)" in done.stdout
    assert not looks_personal(" ".join(str(cell) for row in rows for cell in row if cell is not None))


def test_the_scorecard_command_names_a_missing_mart(tmp_path, capsys):
    from psychanalytics import cli

    code = cli.main(["report", "scorecard", "--mart", str(tmp_path / "none.sqlite"), "--year", YEAR,
                     "--out", str(tmp_path / "x.xlsx")])  # fmt: skip
    assert code == 2 and "mart not found" in capsys.readouterr().err
    assert not (tmp_path / "x.xlsx").exists()
