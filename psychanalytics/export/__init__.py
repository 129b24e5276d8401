"""Data leaving the store: de-identified research extracts, and pseudonymous Parquet partitions for a
distributed engine (:func:`export_parquet`), each with its manifest.

The outbound twin of :mod:`psychanalytics.ingest`: it reads through :mod:`psychanalytics.store`, passes
everything through :mod:`psychanalytics.privacy` (project pseudonyms, k-anonymity and l-diversity) and
writes files (SPSS, Stata, XLSX, CSV) with a manifest, auditing each export (DESIGN.md, decision 59).

Examples
--------
>>> from psychanalytics import export
>>> export.FORMATS
('sav', 'dta', 'xlsx', 'csv')
"""

from psychanalytics.export._parquet import ParquetExport, ParquetExportError, export_parquet
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
    "ParquetExport",
    "ParquetExportError",
    "Variable",
    "build_extract",
    "check_project",
    "export_parquet",
    "export_research",
    "manifest_path",
    "project_key_fingerprint",
    "write_data",
]
