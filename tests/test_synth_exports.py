"""Sample export files written from the demo district (``psychanalytics.synth.exports``)."""

from __future__ import annotations

import ast
import zipfile
from pathlib import Path

import psychanalytics
from psychanalytics.synth import exports

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
XLSX_SAVE_TIME = "docProps/core.xml"  # openpyxl writes the time of saving there


def _xlsx_members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist() if name != XLSX_SAVE_TIME}


def test_samples_are_reproducible_from_the_generator(demo_db, tmp_path):
    """The committed files are what the generator writes from the session's demo district (seed 7, 3,000)."""
    written = exports.write_samples(tmp_path, seed=exports.SEED, students=exports.STUDENTS, db=demo_db)
    assert sorted(p.name for p in written) == sorted(p.name for p in SAMPLES.iterdir())
    stale = "is out of date: run python -m psychanalytics.synth.exports data/samples"
    for path in written:
        if path.suffix == ".xlsx":
            assert _xlsx_members(path) == _xlsx_members(SAMPLES / path.name), f"{path.name} {stale}"
        else:
            assert path.read_bytes() == (SAMPLES / path.name).read_bytes(), f"{path.name} {stale}"
        assert path.stat().st_size < 300_000


def test_the_importer_does_not_depend_on_the_demo():
    """ingest reads real files; the demo's exports depend on it, never the other way round."""
    package = Path(psychanalytics.__file__).parent / "ingest"
    imported = set()
    for module in package.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
                imported.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
    assert not {name for name in imported if name.startswith("psychanalytics.synth")}
