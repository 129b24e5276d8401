"""Command line for privacy and security: ``export research``, ``forget``, ``audit verify``, ``backup``,
``restore``, ``privacy report`` (issue #15; docs/privacy.md).

Keys never enter the database: the pseudonym key (``--key-file``, ``PSYCHANALYTICS_KEY_FILE``) seals the
audit anchors (``--anchor-file``, ``PSYCHANALYTICS_ANCHOR_FILE``), and each research project has a key of
its own (``--project-key-file``, by default ``PSYCHANALYTICS_PROJECT_KEYS/<project>.key``). Exit status:
0 done, 1 the audit chain or an anchor does not verify, 2 refused (nothing changed), 3 the chain is
intact but its anchors could not be checked (no key).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from pathlib import Path

import sqlalchemy as sa

from psychanalytics.config import Settings


class Refused(Exception):
    """A command that cannot run as asked; its message is printed and nothing changes."""


def _settings() -> Settings:
    return Settings.from_env()


def _key_path(args) -> Path:
    return Path(args.key_file or _settings().key_file).expanduser()


def _existing_key(path: Path) -> bytes:
    """The pseudonym key at ``path``; never created here (a new key would match no student)."""
    if not path.is_file():
        raise Refused(
            f"密钥文件不存在 / key file not found: {path} (give the store's key with --key-file or "
            "PSYCHANALYTICS_KEY_FILE)"
        )
    key = path.read_bytes()
    if len(key) < 16:
        raise Refused(f"{path} holds {len(key)} bytes: not a pseudonym key (at least 16)")
    return key


def _store_key(engine: sa.Engine, args) -> bytes:
    """The store's pseudonym key, checked against the fingerprint the store keeps."""
    from psychanalytics import store
    from psychanalytics.privacy.pseudonym import key_fingerprint

    path = _key_path(args)
    key = _existing_key(path)
    with engine.connect() as conn:
        known = store.get_meta(conn, store.PSEUDONYM_KEY)
    if known is not None and known != key_fingerprint(key):
        raise Refused(
            f"密钥与数据库不符 / {path} is not this store's key (fingerprint {key_fingerprint(key)}, the store's "
            f"{known}): a wrong key would name other students"
        )
    return key


def _anchor_file(args, key: bytes):
    from psychanalytics.store import audit

    return audit.AnchorFile(Path(args.anchor_file or _settings().anchor_file).expanduser(), key)


def _engine(args):
    from psychanalytics import store

    return store.connect_existing(args.db)


def _run(handler, args) -> int:
    """Run ``handler``; a refusal or a store error is printed (exit 2), never a traceback."""
    from psychanalytics import export, store

    engine = None
    try:
        engine = _engine(args) if getattr(args, "needs_store", True) else None
        return handler(args, engine)
    except (
        Refused,
        export.ExportError,
        store.BackupError,
        OSError,
        ValueError,
        sa.exc.SQLAlchemyError,
    ) as exc:
        print(f"未执行 / not done: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # a fault of ours: its message may hold a student number, so it is not shown
        print(
            f"内部错误（{type(exc).__name__}），未完成 / internal error ({type(exc).__name__}): please report the command",
            file=sys.stderr,
        )
        return 2
    finally:
        if engine is not None:
            engine.dispose()


# --- export research ----------------------------------------------------------------------------


def _export_research(args, engine) -> int:
    from psychanalytics import export
    from psychanalytics.privacy.pseudonym import load_or_create_key

    export.check_project(args.project)
    key = _store_key(engine, args)
    project_key_path = Path(
        args.project_key_file or _settings().project_keys / f"{args.project}.key"
    ).expanduser()
    created = not project_key_path.exists()
    if created and export.project_key_fingerprint(engine, args.project) is not None:
        raise Refused(
            f"项目密钥文件不存在 / the key file of project {args.project} is missing: {project_key_path} (its earlier "
            "extracts were made with a key; restore that file from its backup, or give it with --project-key-file)"
        )
    project_key = load_or_create_key(project_key_path)
    done = export.export_research(
        engine,
        args.out,
        project=args.project,
        project_key=project_key,
        wave=args.wave,
        fmt=args.format,
        purpose=args.purpose,
        anchors=_anchor_file(args, key),
    )
    m = done.manifest
    print(f"研究数据已导出 / research extract written: {done.path}")
    print(f"  说明文件 / manifest: {done.manifest_path}")
    print(f"  项目 / project {m['project']} · 批次 / wave {m['wave']} · 行 / rows {m['rows']:,}")
    print(
        f"  同意 / consent {m['consent']['purpose']}: {m['consent']['students_consenting']:,} / "
        f"{m['consent']['students_screened']:,} 名受测学生 / students screened"
    )
    print(
        f"  k = {m['k']['achieved']} (≥ {m['k']['required']}) · l = {m['l']['achieved']} (≥ {m['l']['required']})"
    )
    levels = ", ".join(f"{name} → {q['as']}" for name, q in m["quasi_identifiers"].items())
    print(
        f"  泛化 / coarsened: {levels}; 隐藏 / suppressed {m['suppressed_rows']}, 删去 / removed {m['removed_rows']}"
    )
    print(f"  项目密钥 / project key: {project_key_path} (指纹 / fingerprint {m['project_key_fingerprint']})")
    if created:
        print(
            "  新建了项目密钥：与主密钥一起离线备份；丢失后本项目各批次无法再关联 / a new project key was created: back it up "
            "offline with the main key; without it this project's waves no longer link"
        )
    return 0


# --- export parquet -----------------------------------------------------------------------------


def _export_parquet(args, engine) -> int:
    from psychanalytics import export
    from psychanalytics.privacy.pseudonym import key_fingerprint

    key = _store_key(engine, args)
    done = export.export_parquet(engine, args.out, key_fingerprint=key_fingerprint(key), wave=args.wave)
    _anchor_file(args, key).record(engine)
    m = done.manifest
    print(f"Parquet 分区已导出 / Parquet partitions written: {done.out}")
    print(f"  说明文件 / manifest: {done.manifest_path}")
    print(
        f"  批次 / waves {', '.join(m['waves'])} · 文件 / files {len(m['files']):,} · 行 / rows {m['rows']:,}"
    )
    print(
        f"  仅含化名 / pseudonymous only (key fingerprint {m['key_fingerprint']}); 审计记录 / audit row {m['audit_seq']}"
    )
    return 0


# --- forget -------------------------------------------------------------------------------------

_FIELD = re.compile(r"[,\t;]")


def _numbers_from(path: Path) -> list[str]:
    """Student numbers, one a line (the first field of a CSV line); blank lines, ``#`` comments and a
    学籍号 header are skipped."""
    numbers = []
    for line in path.read_text("utf-8-sig").splitlines():
        first = _FIELD.split(line, maxsplit=1)[0].strip()
        if first and not first.startswith("#") and first != "学籍号":
            numbers.append(first)
    if not numbers:
        raise Refused(f"{path}: no student number in the file")
    return numbers


def _forget(args, engine) -> int:
    from psychanalytics import store
    from psychanalytics.privacy.pseudonym import pseudonymise
    from psychanalytics.store.erasure import student_tables

    key = _store_key(engine, args)
    anchors = _anchor_file(args, key)
    if args.scrub_only:
        return _print_scrub(store.scrub(engine, [t.name for t in student_tables()]))
    if args.reapply:
        done = store.erase_again(engine, anchors)
        if not done:
            print("无需再次删除 / nobody to erase again: every anchored erasure has its tombstone here")
            return 0
        return _print_erasure(done[0])
    numbers = list(args.student_number or []) + (_numbers_from(Path(args.file)) if args.file else [])
    if not numbers:
        raise Refused("give --student-number N (one or more) or --file FILE")
    done = store.forget(engine, pseudonymise(numbers, key), reason=args.reason)
    anchors.record(engine, pids=done.pids)
    return _print_erasure(done)


def _print_scrub(scrub) -> int:
    if scrub.complete:
        print(f"已清除残留字节 / deleted bytes scrubbed: {', '.join(scrub.steps)}")
    else:
        print(f"残留字节未能完全清除 / scrubbing incomplete: {scrub.note}", file=sys.stderr)
    return 0 if scrub.complete else 2


def _print_erasure(done) -> int:
    print(
        f"已删除 / erased: {len(done.pids)} 名学生 / students (库中有 / held {len(done.found)}, "
        f"库中无但已登记墓碑 / not held, tombstoned {len(done.pids) - len(done.found)})"
    )
    for table, count in done.rows.items():
        if count:
            print(f"  {table:<22} {count:>8,} 行 / rows")
    print(f"  审计记录 / audit row {done.audit_seq} (仅记化名 / pseudonyms only)")
    print("  以后导入含这些学生的旧文件时，其行将被拒绝 / later imports refuse these students' lines")
    if done.stale_releases:
        print(
            f"  {len(done.stale_releases)} 份此前的导出、发布或备份已标为过期（仍含被删除学生）/ earlier extracts, marts or "
            "backups marked stale (they still hold the erased students): see `psychanalytics privacy report`"
        )
    return _print_scrub(done.scrub)


# --- audit verify -------------------------------------------------------------------------------


def _manifest_anchors(paths: list[str]):
    from psychanalytics.store import audit

    anchors = []
    for path in paths or []:
        data = json.loads(Path(path).read_text("utf-8"))
        if data.get("audit_anchor"):
            anchors.append(audit.Anchor.from_dict(data["audit_anchor"]))
    return anchors


def _audit_verify(args, engine) -> int:
    from psychanalytics.store import audit

    path = _key_path(args)
    key = _store_key(engine, args) if path.is_file() else None
    anchors = [] if key is None else _anchor_file(args, key).read() + _manifest_anchors(args.manifest)
    with engine.connect() as conn:
        found = audit.check(conn, key=key, anchors=anchors)
    if not found.ok:
        print(f"审计链未通过校验 / audit chain does NOT verify: 第一处 / first: {found.problems[0][1]}")
        for _, problem in found.problems[1:]:
            print(f"  {problem}")
        return 1
    print(f"审计链完整 / audit chain intact: {found.rows:,} 行 / rows")
    if key is None:
        print(f"锚点未核对 / anchors not checked: no key at {path}", file=sys.stderr)
        return 3
    print(
        f"  锚点 / anchors: {found.anchors_checked} 个核对一致 / verified"
        + (
            f", {found.anchors_superseded} 个属于恢复前的历史 / from before a restore"
            if found.anchors_superseded
            else ""
        )
    )
    return 0


# --- publish ------------------------------------------------------------------------------------


def _publish(args, engine) -> int:
    import json

    from psychanalytics import mart

    path = _key_path(args)
    anchors = _anchor_file(args, _store_key(engine, args)) if path.is_file() else None
    done = mart.publish(engine, args.mart, min_cell=args.min_cell, anchors=anchors)
    m = done.manifest
    print(f"汇总数据已发布 / mart published: {done.target}")
    print(
        f"  {len(done.rows)} 张表 / tables · 小于 {m['min_cell']} 人不显示 / cells under {m['min_cell']} hidden · "
        f"数据截至 / data as of {m['snapshot']['data_as_of'] or '—'} · 审计记录 / audit row {m['audit_seq']}"
    )
    if "://" not in str(args.mart):
        manifest = Path(args.mart).with_name(Path(args.mart).name + ".manifest.json")
        manifest.write_text(json.dumps(m, ensure_ascii=False, indent=2) + "\n", "utf-8")
        print(f"  说明文件 / manifest: {manifest}")
    if anchors is None:
        print(f"  未记录锚点 / not anchored: no key at {path}", file=sys.stderr)
    return 0


# --- backup and restore -------------------------------------------------------------------------


def _backup(args, engine) -> int:
    from psychanalytics import store

    path = _key_path(args)
    done = store.backup(engine, args.out)
    print(
        f"备份完成 / backup written: {done.path} ({done.size / 1e6:,.1f} MB, 审计记录 / audit row {done.audit_seq})"
    )
    if path.is_file():
        _anchor_file(args, _store_key(engine, args)).record(engine)
    else:
        print(f"  未记录锚点 / not anchored: no key at {path}", file=sys.stderr)
    print(
        "  备份含敏感个人信息，按同等级别保管；化名密钥须另行离线备份 / the backup holds sensitive data: keep it as safe as "
        "the store; back the pseudonym key up separately, offline"
    )
    return 0


def _restore(args, _engine) -> int:
    from psychanalytics import store

    path = _key_path(args)
    anchors = _anchor_file(args, _existing_key(path)) if path.is_file() else None
    done = store.restore(args.source, args.db, replace=args.replace, anchors=anchors)
    print(f"已恢复 / restored: {done.database} (备份的审计记录至 / backup's audit log up to row {done.head})")
    for erasure in done.erasures:
        print(
            f"  备份后删除的 {len(erasure.pids)} 名学生已再次删除 / students erased after the backup erased again"
        )
    if done.needs_upgrade:
        print(
            "  备份的数据库结构较旧：请运行 psychanalytics upgrade，再运行 psychanalytics forget --reapply / the backup's "
            "schema is older: run `psychanalytics upgrade`, then `psychanalytics forget --reapply`",
            file=sys.stderr,
        )
    if anchors is None:
        print(
            f"  未核对锚点，也未再次删除 / anchors not recorded, erasures not re-applied: no key at {path}",
            file=sys.stderr,
        )
    return 0


# --- privacy report -----------------------------------------------------------------------------


def _key_fact(role: str, path: Path, fingerprint: str | None):
    from psychanalytics.privacy.assessment import KeyFact
    from psychanalytics.privacy.pseudonym import key_fingerprint

    exists = path.is_file()
    matches = None if not exists or fingerprint is None else key_fingerprint(path.read_bytes()) == fingerprint
    return KeyFact(role, str(path), exists, matches)


def _privacy_report(args, engine) -> int:
    from psychanalytics import export, store
    from psychanalytics.privacy import assessment
    from psychanalytics.store import audit, queries
    from psychanalytics.store.schema import store_meta

    today = dt.date.today()
    settings = _settings()
    key_path = _key_path(args)
    with engine.connect() as conn:
        meta = dict(conn.execute(sa.select(store_meta.c.name, store_meta.c.value)).all())
        this_store = meta.get(audit.STORE_ID)
    keys = [_key_fact("化名主密钥 / pseudonym key", key_path, meta.get(store.PSEUDONYM_KEY))]
    for name, fingerprint in sorted(meta.items()):
        if name.startswith(export.PROJECT_KEY_META):
            project = name.removeprefix(export.PROJECT_KEY_META)
            keys.append(
                _key_fact(
                    f"项目密钥 / project key {project}", settings.project_keys / f"{project}.key", fingerprint
                )
            )
    key = _store_key(engine, args) if key_path.is_file() else None
    anchor_file = Path(args.anchor_file or settings.anchor_file).expanduser()
    anchors = [] if key is None else [a for a in _anchor_file(args, key).read() if a.store == this_store]
    with engine.connect() as conn:
        checked = audit.check(conn, key=key, anchors=anchors)
    facts = assessment.ImpactFacts(
        database=sa.make_url(store.resolve_url(args.db)).render_as_string(hide_password=True),
        as_of=today,
        inventory=queries.personal_data_inventory(engine),
        ages=queries.students_by_age(engine, year=today.year),
        keys=tuple(keys),
        anchor_file=str(anchor_file),
        anchors=len(anchors),
        consent=queries.consent_coverage(engine, on=today),
        events=queries.outbound_events(engine),
        erased=queries.erasure_count(engine),
        stale=queries.stale_releases(engine),
        audit_rows=checked.rows,
        audit_problems=tuple(problem for _, problem in checked.problems),
        anchors_checked=key is not None,
    )
    if args.json:
        print(json.dumps(assessment.as_json(facts), ensure_ascii=False, default=str, indent=2))
    else:
        print(assessment.render(facts), end="")
    return 0


# --- the parser ---------------------------------------------------------------------------------


def _common(parser: argparse.ArgumentParser, add_db, *, anchors: bool = True) -> None:
    add_db(parser)
    parser.add_argument("--key-file", help="the store's pseudonym key (default: $PSYCHANALYTICS_KEY_FILE)")
    if anchors:
        parser.add_argument(
            "--anchor-file", help="audit anchors outside the database (default: $PSYCHANALYTICS_ANCHOR_FILE)"
        )


def add_commands(sub, add_db) -> None:
    """Add the privacy and security subcommands to the ``psychanalytics`` parser's ``sub``."""
    from psychanalytics.export import FORMATS

    exp = sub.add_parser("export", help="data for researchers (研究数据导出)")
    what = exp.add_subparsers(dest="what", required=True)
    research = what.add_parser(
        "research",
        help="a de-identified extract of one wave: consenting students, k ≥ 5, l ≥ 2, labels in Chinese",
        description="Only students whose consent covers research:<project>; research IDs under the project's "
        "own key; school, grade, gender and age coarsened to k ≥ 5 and l ≥ 2; a manifest beside the file.",
    )
    _common(research, add_db)
    research.add_argument("--out", required=True, help="the extract file (.sav, .dta, .xlsx or .csv)")
    research.add_argument(
        "--project", required=True, help="research project (consent purpose research:<project>)"
    )
    research.add_argument("--format", choices=FORMATS, help="file format (default: from the --out suffix)")
    research.add_argument(
        "--purpose", help="what the extract is for, in words (kept in the manifest and audit log)"
    )
    research.add_argument("--wave", help="screening wave (default: the latest)")
    research.add_argument(
        "--project-key-file",
        help="the project's key (default: $PSYCHANALYTICS_PROJECT_KEYS/<project>.key; created)",
    )
    research.set_defaults(handler=lambda a: _run(_export_research, a))

    parquet = what.add_parser(
        "parquet",
        help="pseudonymous item responses as Parquet, one file per wave × instrument × school (for Dask)",
        description="Hive-style wave=…/instrument=…/school=…/part.parquet with pid (pseudonym), grade, gender, "
        "platform flag and item codes; no student number or name. Audited; manifest.json beside the files.",
    )
    _common(parquet, add_db)
    parquet.add_argument("--out", required=True, help="a new or empty folder")
    parquet.add_argument("--wave", help="one screening wave (default: every wave)")
    parquet.set_defaults(handler=lambda a: _run(_export_parquet, a))

    forget = sub.add_parser(
        "forget",
        help="erase students at a request from every table; keep a tombstone (删除学生数据)",
        description="Erase students (by 学籍号) from every row-level table, keep their pseudonym as a tombstone so "
        "old files cannot bring them back, audit it, mark earlier extracts, marts and backups stale, and scrub "
        "the deleted bytes from the SQLite file and its WAL.",
    )
    _common(forget, add_db)
    forget.add_argument("--student-number", nargs="+", metavar="N", help="学籍号 of the students to erase")
    forget.add_argument("--file", help="a file of 学籍号, one a line (or the first column of a CSV)")
    forget.add_argument("--reason", default="request", help="a word for the audit log: request, withdrawal …")
    forget.add_argument(
        "--scrub-only", action="store_true", help="only scrub deleted bytes (after an incomplete run)"
    )
    forget.add_argument(
        "--reapply",
        action="store_true",
        help="erase again everyone the anchor file says was erased (after a restore)",
    )
    forget.set_defaults(handler=lambda a: _run(_forget, a))

    aud = sub.add_parser("audit", help="the hash-chained audit log (审计日志)")
    verb = aud.add_subparsers(dest="verb", required=True)
    verify = verb.add_parser(
        "verify",
        help="check the chain and its anchors; exit 1 naming the first broken row",
        description="Exit status: 0 intact and anchors verified, 1 broken, 2 refused, 3 intact but anchors not "
        "checked (no key).",
    )
    _common(verify, add_db)
    verify.add_argument(
        "--manifest", nargs="*", help="export or publish manifests whose anchors to check too"
    )
    verify.set_defaults(handler=lambda a: _run(_audit_verify, a))

    pub = sub.add_parser(
        "publish",
        help="publish the leaders' mart: suppressed aggregates only, in a database of its own (发布汇总数据)",
        description="Count every dashboard and report table from the store, hide small cells (and cells that "
        "would give them away), and write them with a manifest (snapshot, scoring-spec versions, rule, audit "
        "anchor) to a SQLite file or a PostgreSQL schema. Leaders' pages read this mart only.",
    )
    _common(pub, add_db)
    pub.add_argument("--mart", required=True, help="the mart: a SQLite file (replaced) or a PostgreSQL URL")
    pub.add_argument("--min-cell", type=int, help="smallest number of students shown (default: 10)")
    pub.set_defaults(handler=lambda a: _run(_publish, a))

    back = sub.add_parser("backup", help="a consistent copy of the store, also while imports run (备份)")
    _common(back, add_db)
    back.add_argument("--out", required=True, help="the backup file (new)")
    back.set_defaults(handler=lambda a: _run(_backup, a))

    rest = sub.add_parser(
        "restore", help="restore a backup, then erase again whoever was erased after it (恢复)"
    )
    _common(rest, add_db)
    rest.add_argument("--from", dest="source", required=True, help="the backup file")
    rest.add_argument("--replace", action="store_true", help="overwrite a store that exists")
    rest.set_defaults(handler=lambda a: _run(_restore, a), needs_store=False)

    privacy = sub.add_parser("privacy", help="privacy facts of the store (个人信息保护)")
    kind = privacy.add_subparsers(dest="kind", required=True)
    report = kind.add_parser(
        "report",
        help="what personal data the store holds, keys, exports, consent: facts for a PIPL Art. 55 assessment",
    )
    _common(report, add_db)
    report.add_argument("--json", action="store_true", help="print JSON instead of text")
    report.set_defaults(handler=lambda a: _run(_privacy_report, a))
