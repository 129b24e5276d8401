"""Pseudonymous item responses as partitioned Parquet, the layout a province keeps for a distributed engine.

One file per wave × instrument × school, hive-style::

    OUT/wave=2025-autumn/instrument=phq9/school=Z0001/part.parquet
    OUT/manifest.json

Each file holds one row per sheet: ``pid`` (the store's pseudonym, never a 学籍号 or a name),
``grade`` and ``gender`` (the enrolment of the wave's school year), ``platform_flag`` (the platform's
validity code) and ``q1 … qK`` (int8 codes, null = missing). The instrument sits in the path because
instruments have different items. Students without an enrolment that year are in
``school=__HIVE_DEFAULT_PARTITION__`` (the hive convention for a null key). The export is recorded in
the audit log and registered as a release (an erasure marks it stale); ``manifest.json`` names the
pseudonym key's fingerprint, the snapshot (audit head before the export), the spec version of each
instrument, the columns, and every file with its rows and SHA-256 (DESIGN.md, decision 77).
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

from psychanalytics import __version__, instruments
from psychanalytics.export._research import _sha256
from psychanalytics.store import audit, get_meta, list_waves, register_release
from psychanalytics.store.meta import PSEUDONYM_KEY
from psychanalytics.store.packing import MISSING_CODE
from psychanalytics.store.schema import enrolment, response, screening_wave, student, validity

NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"
"""The directory name of a missing school (hive's, which pyarrow and Spark read as null)."""

KEY_COLUMNS = ("pid", "grade", "gender", "platform_flag")
"""The columns before the items in every file."""

_FETCH = 50_000


class ParquetExportError(ValueError):
    """An export that cannot be written as asked; nothing is written or audited."""


@dataclass(frozen=True)
class ParquetExport:
    """A written export: its folder, the manifest's path and content."""

    out: Path
    manifest_path: Path
    manifest: dict


def _sheets(wave_id: str, instrument: str) -> sa.Select:
    """One wave's sheets of one instrument with school, grade, gender and platform flag, by school."""
    w = screening_wave
    frm = (
        response.join(w, w.c.wave_id == response.c.wave_id)
        .outerjoin(enrolment, sa.and_(enrolment.c.pid == response.c.pid, enrolment.c.school_year == w.c.school_year))
        .outerjoin(student, student.c.pid == response.c.pid)
        .outerjoin(validity, sa.and_(validity.c.wave_id == response.c.wave_id, validity.c.pid == response.c.pid,
                                     validity.c.instrument == response.c.instrument))
    )  # fmt: skip
    return (
        sa.select(
            enrolment.c.school_id,
            response.c.pid,
            enrolment.c.grade,
            student.c.gender,
            validity.c.platform_flag,
            response.c["items"],
        )  # fmt: skip
        .select_from(frm)
        .where(response.c.wave_id == wave_id, response.c.instrument == instrument)
        .order_by(enrolment.c.school_id, response.c.pid)
    )


def _table(rows: list, n_items: int) -> pa.Table:
    codes = np.frombuffer(b"".join(bytes(r.items) for r in rows), dtype=np.int8).reshape(len(rows), n_items)
    columns = {
        "pid": pa.array([r.pid for r in rows], pa.string()),
        "grade": pa.array([r.grade for r in rows], pa.int16()),
        "gender": pa.array([r.gender for r in rows], pa.string()),
        "platform_flag": pa.array([r.platform_flag for r in rows], pa.int16()),
    }
    for j in range(n_items):
        column = codes[:, j]
        columns[f"q{j + 1}"] = pa.array(column, pa.int8(), mask=column == MISSING_CODE)
    return pa.table(columns)


def _write(rows: list, folder: Path, n_items: int) -> dict:
    folder.mkdir(parents=True)
    path = folder / "part.parquet"
    pq.write_table(_table(rows, n_items), path, compression="zstd")
    return {"path": path.as_posix(), "rows": len(rows), "sha256": _sha256(path)}


def _instruments(conn: sa.Connection, wave_id: str) -> list[str]:
    found = conn.execute(
        sa.select(response.c.instrument)
        .where(response.c.wave_id == wave_id)
        .distinct()
        .order_by(response.c.instrument)
    )
    return list(found.scalars())


def _export_wave(conn: sa.Connection, out: Path, wave_id: str, instrument: str) -> list[dict]:
    """Stream one wave × instrument ordered by school, writing a file whenever the school changes."""
    n_items = instruments.get(instrument).n_items
    files, pending, school = [], [], None
    result = conn.execution_options(stream_results=True, yield_per=_FETCH).execute(
        _sheets(wave_id, instrument)
    )
    for row in result:
        if pending and row.school_id != school:
            files.append(_write(pending, _folder(out, wave_id, instrument, school), n_items))
            pending = []
        school = row.school_id
        pending.append(row)
    if pending:
        files.append(_write(pending, _folder(out, wave_id, instrument, school), n_items))
    return files


def _folder(out: Path, wave_id: str, instrument: str, school: str | None) -> Path:
    return out / f"wave={wave_id}" / f"instrument={instrument}" / f"school={school or NULL_PARTITION}"


def export_parquet(
    engine: sa.Engine,
    out: str | Path,
    *,
    key_fingerprint: str,
    wave: str | None = None,
    actor: str | None = None,
) -> ParquetExport:
    """Write the pseudonymous item responses of one wave (or all) as Parquet partitions; audit it.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The store.
    out : path
        A new (or empty) folder.
    key_fingerprint : str
        Fingerprint of the pseudonym key the caller checked against the store
        (:func:`psychanalytics.privacy.pseudonym.key_fingerprint`); must match the store's.
    wave : str, optional
        One screening wave (default: every wave).
    actor : str, optional
        Who exports (default: the operating-system user).

    Returns
    -------
    ParquetExport

    Raises
    ------
    ParquetExportError
        ``out`` holds files, the wave is unknown, the store has no responses, or the fingerprint is
        not the store's. Nothing is audited then.

    Examples
    --------
    >>> import tempfile
    >>> from psychanalytics import store, synth
    >>> from psychanalytics.privacy.pseudonym import key_fingerprint
    >>> engine = store.connect("sqlite://")
    >>> _ = synth.build_demo(engine, seed=1, students=600)
    >>> done = export_parquet(engine, tempfile.mkdtemp(), key_fingerprint=key_fingerprint(synth.DEMO_KEY),
    ...                       wave="2025-autumn", actor="doc")
    >>> sorted(done.manifest["instruments"]), done.manifest["columns"][:4]
    (['gad7', 'mht', 'phq9'], ['pid', 'grade', 'gender', 'platform_flag'])
    """
    out = Path(out).expanduser().resolve()
    if out.exists() and any(out.iterdir()):
        raise ParquetExportError(f"{out} is not empty: an export never overwrites files")
    waves = list(list_waves(engine)["wave_id"])
    if wave is not None and wave not in waves:
        raise ParquetExportError(
            f"no screening wave {wave!r} in the store (waves: {', '.join(waves) or 'none'})"
        )
    chosen = [wave] if wave is not None else waves
    actor = actor or getpass.getuser()
    with engine.connect() as conn:
        known = get_meta(conn, PSEUDONYM_KEY)
        if known is not None and known != key_fingerprint:
            raise ParquetExportError(f"key fingerprint {key_fingerprint} is not the store's ({known})")
        snapshot = audit.head(conn)
        per_wave = {w: _instruments(conn, w) for w in chosen}
        if not any(per_wave.values()):
            raise ParquetExportError("the store holds no item responses to export")
        out.mkdir(parents=True, exist_ok=True)
        files = []
        for w, codes in per_wave.items():
            for code in codes:
                for f in _export_wave(conn, out, w, code):
                    files.append(
                        {"wave": w, "instrument": code, **f, "path": str(Path(f["path"]).relative_to(out))}
                    )
    used = sorted({f["instrument"] for f in files})
    specs = {code: instruments.get(code).version for code in used}
    created = dt.datetime.now(dt.UTC).replace(microsecond=0)
    detail = {
        "format": "parquet",
        "folder": out.name,
        "waves": chosen,
        "instruments": specs,
        "files": len(files),
        "rows": sum(f["rows"] for f in files),
        "key_fingerprint": key_fingerprint,
        "snapshot_seq": None if snapshot is None else snapshot[0],
    }
    with engine.begin() as conn:
        seq = audit.append(conn, action="export", resource=f"parquet:{out.name}", detail=detail, actor=actor)
        register_release(conn, kind="extract", name=out.name, audit_seq=seq)
    manifest = {
        "kind": "parquet_partitions",
        "layout": "wave=<wave>/instrument=<instrument>/school=<school_id>/part.parquet",
        "created_utc": created.isoformat(),
        "created_by": actor,
        "pseudonymous": True,
        "key_fingerprint": key_fingerprint,
        "snapshot": None if snapshot is None else {"audit_seq": snapshot[0], "audit_hash": snapshot[1]},
        "audit_seq": seq,
        "waves": chosen,
        "instruments": {
            code: {"spec_version": v, "items": instruments.get(code).n_items} for code, v in specs.items()
        },
        "columns": [*KEY_COLUMNS, "q1 … qK"],
        "rows": detail["rows"],
        "files": files,
        "software": f"psychanalytics {__version__}",
    }
    path = out / "manifest.json"
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", "utf-8")
    return ParquetExport(out, path, manifest)
