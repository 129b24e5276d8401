"""Reports: the annual survey report (调研报告) and the supervision scorecard from the mart; research reports.

Leaders' reports (the annual report, :func:`supervision_scorecard`) read the published mart only; the
research report :func:`intervention_outcomes` (the per-intervention table of :mod:`psychanalytics.outcomes`)
reads the store through a read-only connection. Files and databases stay here, statistics in the domain
modules; :func:`write_xlsx` saves a table as a bilingual workbook.

:func:`render_annual` executes the report notebook shipped with the package
(``psychanalytics/reports/annual_report.ipynb``, paired with ``annual_report.md``) with papermill,
converts its outputs to one self-contained HTML file (nbconvert, inputs hidden, plotly.js inline: it
opens offline) and, when asked, prints that file to PDF with headless Chromium. The notebook is thin:
it calls :func:`annual_report` once and each section of :class:`AnnualReport` in turn.

The report reads the published mart only (:func:`annual_report`, through
:func:`psychanalytics.mart.plan.plan_results`): its notebook's kernel is given the mart, never the store.
Given a store, :func:`render_annual` publishes the mart beside it first unless it is current.

Examples
--------
From the shell::

    psychanalytics report annual --db data/demo.sqlite --year 2024-2025 --out report.html --pdf
    psychanalytics report annual --mart data/demo-mart.sqlite --year 2024-2025 --out report.html
    psychanalytics report scorecard --db data/demo.sqlite --year 2024-2025 --out scorecard.xlsx
"""

from __future__ import annotations

import html
import subprocess
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from psychanalytics.reports._annual import (
    FIGURE_WIDTH,
    SECTIONS,
    AnnualReport,
    annual_report,
    stylesheet,
)
from psychanalytics.reports._outcomes import intervention_outcomes, pretest_reliabilities
from psychanalytics.reports._pdf_text import searchable_text
from psychanalytics.reports._scorecard import SupervisionScorecard, supervision_scorecard, write_scorecard
from psychanalytics.reports._xlsx import write_xlsx

__all__ = [
    "CHROMIUM",
    "FIGURE_WIDTH",
    "SECTIONS",
    "AnnualReport",
    "ReportError",
    "ReportFiles",
    "SupervisionScorecard",
    "annual_notebook",
    "annual_report",
    "intervention_outcomes",
    "pretest_reliabilities",
    "print_pdf",
    "render_annual",
    "render_scorecard",
    "searchable_text",
    "stylesheet",
    "supervision_scorecard",
    "write_scorecard",
    "write_xlsx",
]

CHROMIUM = "/usr/bin/chromium"
"""Debian's Chromium (``.ci/system-deps`` installs it), used headless to print the PDF."""


class ReportError(RuntimeError):
    """The report could not be rendered (the notebook failed, or Chromium did not print)."""


@dataclass(frozen=True)
class ReportFiles:
    """What :func:`render_annual` wrote."""

    html: Path
    pdf: Path | None


def annual_notebook() -> Path:
    """Path of the report notebook inside the installed package.

    >>> annual_notebook().name
    'annual_report.ipynb'
    """
    return Path(str(resources.files("psychanalytics.reports").joinpath("annual_report.ipynb")))


def _html_document(body: str, title: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width"><title>{html.escape(title)}</title></head>'
        f"<body>{body}</body></html>\n"
    )


def print_pdf(html_path: Path, pdf_path: Path, *, chromium: str = CHROMIUM, timeout: float = 300) -> Path:
    """Print an HTML file to PDF with headless Chromium (A4 and margins from the page's ``@page`` rule).

    Chromium is given time for the page's scripts (plotly draws the charts) before it prints
    (``--virtual-time-budget``); its own header and footer are off, the page numbers come from the CSS.
    The text layer is then made searchable (:func:`searchable_text`: 心理, not the radical ⼼ that shares
    its glyph).
    """
    if not Path(chromium).exists():
        raise ReportError(f"Chromium not found at {chromium}: install Debian's chromium (make system-deps)")
    pdf_path = Path(pdf_path).resolve()
    pdf_path.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="psychanalytics-chromium-") as profile:
        command = [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-extensions",
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            "--run-all-compositor-stages-before-draw",
            "--virtual-time-budget=30000",
            f"--print-to-pdf={pdf_path}",
            Path(html_path).resolve().as_uri(),
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    if not pdf_path.exists() or pdf_path.stat().st_size == 0:
        raise ReportError(
            f"Chromium did not print {html_path} (exit {done.returncode}): {done.stderr[-2000:]}"
        )
    searchable_text(pdf_path)
    return pdf_path


def render_annual(
    db=None,
    *,
    mart=None,
    school_year: str,
    out: str | Path,
    pdf: bool = False,
    min_cell: int | None = None,
    chromium: str = CHROMIUM,
) -> ReportFiles:
    """Render the annual survey report of ``school_year`` to ``out`` (HTML) and, with ``pdf``, beside it as PDF.

    Parameters
    ----------
    db : str, Path or None
        The store (SQLite path or SQLAlchemy URL; default ``PSYCHANALYTICS_DB``) whose mart the report
        reads: the mart beside it (``<name>-mart.sqlite``), published first unless it is current
        (:func:`psychanalytics.mart.publish_beside`). Ignored when ``mart`` is given.
    mart : str or Path, optional
        A published mart to read instead (SQLite file or PostgreSQL URL of the reader role).
    school_year : str
        e.g. ``2024-2025``.
    out : str or Path
        The HTML file to write (its suffix becomes ``.html``); the PDF gets the same name with ``.pdf``.
    pdf : bool
        Also print the PDF (headless Chromium).
    min_cell : int, optional
        Small-cell threshold of the leader-output policy (default ``PSYCHANALYTICS_MIN_CELL`` when the
        mart is published here, else the one ``mart`` was published under).

    Returns
    -------
    ReportFiles

    Raises
    ------
    ReportError
        If the notebook fails (its error message is included) or Chromium does not print.
    """
    import nbformat
    import papermill
    from nbconvert import HTMLExporter

    from psychanalytics import mart as mart_

    if mart is None:
        mart = mart_.publish_beside(db, min_cell=min_cell)
    html_path = Path(out).with_suffix(".html").resolve()
    html_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="psychanalytics-report-") as work:
        executed = Path(work) / "annual_report.ipynb"
        try:
            papermill.execute_notebook(
                str(annual_notebook()),
                str(executed),
                parameters={"mart": str(mart), "school_year": school_year, "min_cell": min_cell},
                kernel_name="python3",
                progress_bar=False,
                cwd=work,
            )
        except papermill.PapermillExecutionError as exc:
            raise ReportError(f"报告未生成 / report not rendered: {exc.ename}: {exc.evalue}") from None
        notebook = nbformat.read(executed, as_version=4)
    exporter = HTMLExporter(template_name="basic")
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    exporter.exclude_markdown = True
    body, _ = exporter.from_notebook_node(notebook)
    title = f"钟楼区中小学生心理健康服务工作督导调研报告（{school_year}学年）"
    html_path.write_text(_html_document(body, title), encoding="utf-8")
    pdf_path = print_pdf(html_path, html_path.with_suffix(".pdf"), chromium=chromium) if pdf else None
    return ReportFiles(html=html_path, pdf=pdf_path)


def render_scorecard(
    db=None, *, mart=None, school_year: str, out: str | Path
) -> tuple[Path, SupervisionScorecard]:
    """Write the supervision scorecard of ``school_year`` to ``out`` (XLSX) from the published mart.

    ``db`` and ``mart`` as in :func:`render_annual`: given a store, the mart beside it is published first
    unless it is current.

    Returns
    -------
    path : pathlib.Path
        The workbook written (suffix ``.xlsx``).
    card : SupervisionScorecard
        What it holds.
    """
    from psychanalytics import mart as mart_

    if mart is None:
        mart = mart_.publish_beside(db)
    card = supervision_scorecard(mart, school_year=school_year)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    return write_scorecard(card, out), card
