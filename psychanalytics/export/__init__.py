"""Data leaving the store for researchers: de-identified research extracts with their manifests.

The outbound twin of :mod:`psychanalytics.ingest`: it reads through :mod:`psychanalytics.store`, passes
everything through :mod:`psychanalytics.privacy` (project pseudonyms, k-anonymity and l-diversity) and
writes files (SPSS, Stata, XLSX, CSV) with a manifest, auditing each export (DESIGN.md, decision 59).

Examples
--------
>>> from psychanalytics import export
>>> export.FORMATS
('sav', 'dta', 'xlsx', 'csv')
"""

from psychanalytics.export._research import (
    FORMATS,
    PROJECT_KEY_META,
    QUASI,
    ExportError,
    ExportResult,
    Extract,
    Variable,
    build_extract,
    check_project,
    export_research,
    manifest_path,
    project_key_fingerprint,
    write_data,
)

__all__ = [
    "FORMATS",
    "PROJECT_KEY_META",
    "QUASI",
    "ExportError",
    "ExportResult",
    "Extract",
    "Variable",
    "build_extract",
    "check_project",
    "export_research",
    "manifest_path",
    "project_key_fingerprint",
    "write_data",
]
