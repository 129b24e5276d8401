"""The annual survey report: rendered by the CLI to HTML and PDF, read back with a PDF text extractor."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pandas as pd
import pypdf
import pytest

from psychanalytics import reports, store
from psychanalytics.privacy import LeaderView
from psychanalytics.store import queries

YEAR = "2024-2025"
pytestmark = [pytest.mark.slow]


# Chromium's PDF maps a glyph shared by an ideograph and a radical to the radical's code point (⼩ for 小,
# ⻘ for 青): NFKC undoes the Kangxi radicals, this table the simplified-form radicals the report uses.
_RADICALS = str.maketrans(
    "⻘⻓⻚⻛⻝⻔⻋⻢⻅⻉⻬⻦⻥⻩⻨⻜⻮⻙⻄⻆", "青长页风食门车马见贝齐鸟鱼黄麦飞齿韦西角"
)


def _text(page: pypdf.PageObject) -> str:
    """A page's text as a reader would search it (see ``_RADICALS``)."""
    return unicodedata.normalize("NFKC", page.extract_text()).translate(_RADICALS)


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
    assert "report (HTML)" in rendered["stdout"] and "report (PDF)" in rendered["stdout"]
    for heading in reports.SECTIONS:
        assert heading in page


def test_every_table_of_the_report_passes_the_leader_policy(demo_db):
    report = reports.annual_report(demo_db, school_year=YEAR, min_cell=10)
    sections = [report.head(), report.summary(), report.achievements(), report.gaps(), report.problems(),
                report.recommendations(), report.annex()]  # fmt: skip
    assert all(s.data for s in sections)
    expected = {"summary_status", "district_targets", "school_targets", "staffing_standards", "rooms_share",
                "activities", "problems", "annex_targets", "annex_checks"}  # fmt: skip
    assert expected <= set(report.views) and all(isinstance(v, LeaderView) for v in report.views.values())
    assert any(name.startswith("room_matrix_") for name in report.views)


def test_the_report_reads_only_through_plan_inputs(demo_db):
    """The one read the report makes returns aggregates only: no pid, no teacher id (ready for the mart)."""
    engine = store.connect_existing(demo_db, read_only=True)
    inputs = queries.plan_inputs(engine)
    engine.dispose()
    for name in ("staff", "rooms", "lessons", "activities", "school_rows", "funding", "counselling"):
        columns = set(getattr(inputs, name).columns)
        assert not columns & {"pid", "staff_id", "session_id"}, name


def test_an_unknown_school_year_is_a_clear_error(demo_db, tmp_path):
    with pytest.raises(reports.ReportError, match="no school reports '2030-2031'"):
        reports.render_annual(demo_db, school_year="2030-2031", out=tmp_path / "x.html")
    assert not (tmp_path / "x.html").exists()
