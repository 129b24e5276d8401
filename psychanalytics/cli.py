"""Command line: ``psychanalytics demo | init | upgrade | serve | import | followup | report``, and the
privacy commands ``export research | forget | audit verify | backup | restore | privacy report`` (``_cli_privacy``).

Every subcommand takes ``--db`` (a SQLite path or a SQLAlchemy URL; default
``PSYCHANALYTICS_DB`` or ``data/demo.sqlite``).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from psychanalytics import __version__


def _add_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        default=None,
        help="SQLite file path or SQLAlchemy URL (default: $PSYCHANALYTICS_DB or data/demo.sqlite)",
    )


def _cmd_demo(args: argparse.Namespace) -> int:
    from psychanalytics import store, synth
    from psychanalytics.synth import exports

    engine = store.connect(args.db)
    started = time.perf_counter()
    try:
        synth.build_demo(engine, seed=args.seed, students=args.students, replace=args.replace)
    except (synth.DatabaseNotEmptyError, store.StoreNotFoundError, ValueError) as exc:
        print(f"未生成演示数据 / demo not built: {exc}", file=sys.stderr)
        return 2
    sample = exports.import_error_sample(engine, seed=args.seed, students=args.students)
    elapsed = time.perf_counter() - started
    print(f"演示数据（合成）已生成 / synthetic demo district built in {elapsed:.1f} s")
    print(f"数据库 / database: {store.resolve_url(args.db)}")
    print(
        f"示例导入 / sample import (PHQ-9 export with deliberate errors): {sample.stored} 行入库 stored, "
        f"{sample.quarantined} 行隔离 quarantined, {sample.duplicates} 行重复 duplicates"
    )
    for table, count in store.table_counts(engine).items():
        print(f"  {table:<22} {count:>10,}")
    return 0


def _cmd_init(args: argparse.Namespace) -> int:
    from psychanalytics import store

    engine = store.connect(args.db)
    try:
        store.create_all(engine)
    except store.StoreVersionError as exc:
        print(f"未初始化 / not initialised: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    print(f"数据库已就绪 / database ready: {store.resolve_url(args.db)}")
    return 0


def _cmd_upgrade(args: argparse.Namespace) -> int:
    import sqlalchemy as sa

    from psychanalytics import store
    from psychanalytics.store import migrations

    try:
        done = migrations.upgrade(store.resolve_url(args.db))
    except (OSError, sa.exc.SQLAlchemyError) as exc:  # StoreNotFoundError and StoreVersionError are OSErrors
        print(f"未升级，未作任何更改 / not upgraded, nothing changed: {exc}", file=sys.stderr)
        return 2
    print(f"数据库 / database: {done.database}")
    if not done.changed:
        print(
            f"已是最新结构版本 / already at the latest schema revision {done.after}: 未作任何更改 / nothing changed"
        )
        return 0
    before = (
        done.before
        or f"未版本化，即基线 {migrations.BASELINE} / unversioned, the baseline {migrations.BASELINE}"
    )
    print(f"已升级 / upgraded: 结构版本 / schema revision {before} → {done.after}")
    if done.backup is not None:
        print(f"升级前的副本 / copy taken before the upgrade: {done.backup}")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from psychanalytics import dashboards

    return dashboards.serve(mart=args.mart, db=args.db, port=args.port, ip=args.ip, open_browser=False)


def _progress_bar(done: int, total: int) -> None:
    """One line, rewritten: the importer reads and checks the file in its first half, stores it in the second."""
    share = done / total if total else 1.0
    bar = "#" * int(share * 30)
    step = "读取检查 / reading" if share <= 0.5 else "写入     / storing"
    print(
        f"\r{step} [{bar:<30}] {share:6.1%} of {total / 1e6:,.1f} MB",
        end="",
        file=sys.stderr,
        flush=True,
    )


def _refresh_statistics(engine) -> None:
    """Planner statistics after an import (the dashboards' queries plan by them); the import is already committed."""
    import sqlalchemy as sa

    from psychanalytics import store

    try:
        store.refresh_statistics(engine)
    except sa.exc.SQLAlchemyError as exc:
        print(
            f"已导入；查询统计信息未更新 / imported; planner statistics not refreshed: {exc}", file=sys.stderr
        )


def _line_list(lines, most: int = 8) -> str:
    """Line numbers for a summary: ``3, 9, 17`` or the first few and how many more.

    >>> _line_list([3, 9, 17]), _line_list(range(1, 12), most=3)
    ('3, 9, 17', '1, 2, 3 … (+8)')
    """
    lines = list(lines)
    shown = ", ".join(map(str, lines[:most]))
    return shown if len(lines) <= most else f"{shown} … (+{len(lines) - most})"


def _print_summary(result, report) -> None:
    if result.already_imported:
        print(f"此文件已导入过，未作任何更改 / already imported (batch {result.batch_id}): nothing changed")
    print(f"文件 / file: {result.source_name}  编码 / encoding: {result.encoding or 'xlsx'}")
    if result.header_rows == 2:
        print(
            f"  表头占两行（第 {result.header_line - 1}–{result.header_line} 行，合并单元格），已合并读取 / the header runs over "
            f"lines {result.header_line - 1}-{result.header_line} (merged cells): read together"
        )
    if result.above_header:
        print(
            f"  表头在第 {result.header_line} 行，上方各行未导入 / header on line {result.header_line};"
            " the lines above it are not imported:"
        )
        for line in result.above_header:
            print(f"    {line[:60]}")
    print(f"  读取行数 / rows read     {result.rows_read:>10,}")
    print(f"  已入库   / stored        {result.stored:>10,}")
    print(f"  已隔离   / quarantined   {result.quarantined:>10,}")
    print(f"  完全重复 / duplicates    {result.duplicates:>10,}")
    if result.changed or result.unchanged:
        print(
            f"    其中 新增 / new {result.new:,} · 更新 / changed {result.changed:,} · 未变 / unchanged "
            f"{result.unchanged:,}"
        )
        if result.changed_cells:
            cells = "，".join(f"{column} {count:,} 行" for column, count in result.changed_cells)
            print(f"    更新的列 / columns changed: {cells}")
    for column, count, first in result.not_applied:
        print(
            f"  未更新 / not applied: {count:,} 行的「{column}」与库中不同，保留库中的值（学生信息以名册为准，"
            f"请导入更正后的名册）/ {count:,} lines give another {column} than the store holds: kept as stored "
            f"(the roster describes students). 第 {_line_list(first)} 行"
        )
    if result.blank_lines:
        print(f"  空行     / blank lines   {result.blank_lines:>10,}  (不计为数据行 / not data rows)")
    if result.non_data_lines:
        print(
            f"  非数据行 / not records   {len(result.non_data_lines):>10,}  (合计、签名、重复表头等，未导入 / "
            f"totals, signatures, repeated headers: not imported) 第 {_line_list(result.non_data_lines)} 行"
        )
    if result.invalid_sheets:
        print(f"  无效问卷 / invalid sheets {result.invalid_sheets:>9,}  (已入库并标记 / stored, flagged)")
    if result.item_columns:
        print(
            f"  题目 1–{len(result.item_columns)} 取自 / items 1-{len(result.item_columns)} read from: "
            f"「{result.item_columns[0]}」…「{result.item_columns[-1]}」"
        )
    if result.platform_columns:
        print(f"  平台信息列，未导入 / platform columns, not imported: {', '.join(result.platform_columns)}")
    if result.ignored_columns:
        print(f"  未导入的列 / columns not imported: {', '.join(result.ignored_columns)}")
    print(f"  批次 / batch_id: {result.batch_id}")
    if report is not None:
        print(f"问题行报告 / report of refused lines: {report}")


def _key_for(engine, key_file) -> bytes:
    """The pseudonym key: an existing database's students need the key they were made with."""
    from psychanalytics import ingest, store
    from psychanalytics.privacy.pseudonym import load_or_create_key

    with engine.connect() as conn:
        keyed = store.get_meta(conn, store.PSEUDONYM_KEY) is not None
    if keyed and not key_file.exists():
        raise ingest.IngestError(
            f"密钥文件不存在：{key_file}。本数据库的学生是用已有密钥生成的化名，新密钥会把每个学生拆成两人；请用 "
            "--key-file 或环境变量 PSYCHANALYTICS_KEY_FILE 指定原密钥文件 / key file not found: this database's "
            "students were pseudonymised with an existing key (a new key would split every student in two): "
            "give it with --key-file or PSYCHANALYTICS_KEY_FILE"
        )
    return load_or_create_key(key_file)


def _cmd_import(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    import sqlalchemy as sa

    from psychanalytics import ingest, store
    from psychanalytics.config import Settings

    source = Path(args.file)
    report = Path(args.report) if args.report else Path.cwd() / f"{source.stem}_quarantine.xlsx"
    engine = None
    show_progress = False
    try:
        if not source.is_file():
            raise ingest.IngestError(f"{source}: 要导入的文件不存在，请检查路径 / no such file")
        engine = store.connect_existing(args.db)
        key = _key_for(engine, Path(args.key_file or Settings.from_env().key_file))
        show_progress = not args.json and source.stat().st_size > 5_000_000
        result = ingest.import_file(
            engine,
            args.kind,
            source,
            key=key,
            wave=args.wave,
            instrument=args.instrument,
            school_year=args.school_year,
            informant=args.informant,
            norm=args.norm,
            zero_based=args.zero_based,
            option_numbers=args.option_numbers,
            bare_id_card=args.bare_id_card.replace("-", "_"),
            score=not args.no_score,
            report=report,
            progress=_progress_bar if show_progress else None,
        )
        if result.stored:
            _refresh_statistics(engine)
        if not result.already_imported:
            _anchor_import(engine, key)
    except sa.exc.SQLAlchemyError as exc:  # the statement's parameters are never shown
        return _refused(
            f"数据库拒绝了写入（{type(exc).__name__}: {getattr(exc, 'orig', None) or ''}），未写入任何数据 / the "
            "database refused the import",
            as_json=args.json,
            newline=show_progress,
        )
    except (ingest.IngestError, OSError, ValueError) as exc:
        return _refused(str(exc), as_json=args.json, newline=show_progress)
    except (
        Exception
    ) as exc:  # a fault of ours: its message may quote a cell (a name, a 学籍号), so it is not shown
        return _refused(
            f"内部错误（{type(exc).__name__}），请把命令和文件交给数据管理员 / internal error "
            f"({type(exc).__name__}): please report the command and the file",
            as_json=args.json,
            newline=show_progress,
        )
    finally:
        if engine is not None:
            engine.dispose()
    if show_progress:
        print(file=sys.stderr)
    if args.json:
        print(json.dumps({**result.summary(), "report": _path_or_none(result.report)}, ensure_ascii=False))
    else:
        _print_summary(result, result.report)
    return 0


def _cmd_followup(args: argparse.Namespace) -> int:
    from pathlib import Path

    import sqlalchemy as sa

    from psychanalytics import followup, ingest, store
    from psychanalytics.config import Settings

    key_file = Path(args.key_file or Settings.from_env().key_file).expanduser()
    engine = None
    try:
        if not key_file.is_file():
            raise followup.FollowupError(
                f"密钥文件不存在：{key_file} / key file not found (the store's own key is needed)"
            )
        engine = store.connect_existing(args.db)
        done = followup.write_followup_list(
            engine,
            wave=args.wave,
            school=args.school,
            roster=args.roster,
            key=key_file.read_bytes(),
            out=args.out,
        )
    except (followup.FollowupError, ingest.IngestError, OSError, sa.exc.SQLAlchemyError) as exc:
        print(f"未生成随访名单 / no follow-up list written: {exc}", file=sys.stderr)
        return 2
    finally:
        if engine is not None:
            engine.dispose()
    print(f"随访名单 / follow-up list: {done.path}  ({done.school_name}, {done.wave})")
    print(f"  本校被筛出 / flagged at the school   {done.flagged:>6,}")
    print(f"  已列入名单 / listed                  {done.listed:>6,}")
    print(f"  不在名册中 / not on the roster       {done.not_on_roster:>6,}")
    if done.roster_without_number:
        print(
            f"  名册中无学籍号的行 / roster lines without 学籍号 {done.roster_without_number:,}（未能对应 / not matched）"
        )
    print(f"  已记入审计日志 / recorded in the audit log (#{done.audit_seq}: school, wave and counts only)")
    return 0


def _anchor_import(engine, key: bytes) -> None:
    """Anchor the audit head outside the database after an import (DESIGN.md, decision 61); the import is
    already committed, so a failure here is reported, not fatal."""
    from psychanalytics.config import Settings
    from psychanalytics.store import audit

    try:
        audit.AnchorFile(Settings.from_env().anchor_file, key).record(engine)
    except OSError as exc:
        print(f"已导入；审计锚点未写入 / imported; audit anchor not written: {exc}", file=sys.stderr)


def _path_or_none(path) -> str | None:
    return None if path is None else str(path)


def _refused(message: str, *, as_json: bool, newline: bool) -> int:
    """Say the import was refused (nothing written) and return the exit status 2."""
    import json

    if newline:
        print(file=sys.stderr)
    if as_json:
        print(json.dumps({"error": message}, ensure_ascii=False))
    else:
        print(f"导入失败，未写入任何数据 / import refused, nothing written: {message}", file=sys.stderr)
    return 2


def _cmd_report(args: argparse.Namespace) -> int:
    from psychanalytics import mart, reports, store

    try:
        done = reports.render_annual(
            args.db, mart=args.mart, school_year=args.year, out=args.out, pdf=args.pdf, min_cell=args.min_cell
        )
    except (
        reports.ReportError, store.StoreNotFoundError, store.StoreVersionError, mart.MartNotFoundError, ValueError,
    ) as exc:  # fmt: skip
        print(f"报告未生成 / report not rendered: {exc}", file=sys.stderr)
        return 2
    print(f"报告 / report (HTML): {done.html}")
    if done.pdf is not None:
        print(f"报告 / report (PDF): {done.pdf}")
    return 0


def _cmd_scorecard(args: argparse.Namespace) -> int:
    from psychanalytics import mart, reports, store

    try:
        path, card = reports.render_scorecard(args.db, mart=args.mart, school_year=args.year, out=args.out)
    except (store.StoreNotFoundError, store.StoreVersionError, mart.MartNotFoundError, ValueError) as exc:
        print(f"督导检查表未生成 / scorecard not written: {exc}", file=sys.stderr)
        return 2
    print(
        f"{card.school_year}学年年终督导五项检查 / year-end supervision checks ({card.table['school_id'].nunique()} 所学校 schools)"
    )
    for _, row in card.summary.iterrows():
        print(
            f"  {row['name_zh']}：达标 {row['pass']}，未达标 {row['fail']}，缺数据 {row['no_data']}（共 {row['n']} 所）"
        )
    print(f"督导检查表 / scorecard (XLSX): {path}")
    return 0


def _kinds_help() -> str:
    from psychanalytics import ingest

    return "\n\n".join(f"{name}: {ingest.describe(name)}" for name in ingest.KINDS)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``psychanalytics`` command."""
    parser = argparse.ArgumentParser(
        prog="psychanalytics",
        description="钟楼区学生心理健康分析工作台 / school mental-health analytics workbench",
    )
    parser.add_argument("--version", action="version", version=f"psychanalytics {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="build the synthetic demo district (演示数据) into a database")
    _add_db(demo)
    demo.add_argument("--seed", type=int, default=20240901, help="random seed (default: 20240901)")
    demo.add_argument(
        "--students", type=int, default=45_000, help="students in the district (default: 45000)"
    )
    demo.add_argument("--replace", action="store_true", help="empty the database first if it holds data")
    demo.set_defaults(handler=_cmd_demo)

    init = sub.add_parser("init", help="create an empty database with every table (数据库初始化)")
    _add_db(init)
    init.set_defaults(handler=_cmd_init)

    upgrade = sub.add_parser(
        "upgrade",
        help="upgrade an existing database to this version's schema (数据库升级; a SQLite file is copied first)",
    )
    _add_db(upgrade)
    upgrade.set_defaults(handler=_cmd_upgrade)

    serve = sub.add_parser(
        "serve",
        help="serve the leader dashboards (Voila, read-only) on 127.0.0.1",
        description="The pages read the published mart only: --mart, or with --db the mart beside the store "
        "(<name>-mart.sqlite), published first unless it is current.",
    )
    _add_db(serve)
    serve.add_argument("--mart", help="a published mart (SQLite file or PostgreSQL URL of the reader role)")
    serve.add_argument("--port", type=int, default=8866, help="port (default: 8866)")
    serve.add_argument(
        "--ip",
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1); any other asks for a token "
        "($PSYCHANALYTICS_SERVE_TOKEN, else a new one, printed once)",
    )
    serve.set_defaults(handler=_cmd_serve)

    report = sub.add_parser(
        "report",
        help="render a report: the annual survey report (调研报告), the supervision scorecard (督导检查表)",
    )
    kinds = report.add_subparsers(dest="report_kind", required=True)
    annual = kinds.add_parser(
        "annual",
        help="the annual survey report of a school year (调研报告): HTML, and PDF with --pdf",
        description="Render the annual survey report: a parameterised notebook (papermill) to one "
        "self-contained HTML file and, with --pdf, to PDF through headless Chromium. Reads the published mart "
        "only: --mart, or with --db the mart beside the store (<name>-mart.sqlite), published first unless it "
        "is current.",
    )
    _add_db(annual)
    annual.add_argument("--mart", help="a published mart (SQLite file or PostgreSQL URL of the reader role)")
    annual.add_argument("--year", required=True, help="school year, e.g. 2024-2025")
    annual.add_argument("--out", required=True, help="HTML file to write; the PDF goes beside it (.pdf)")
    annual.add_argument("--pdf", action="store_true", help="also print the PDF (headless Chromium)")
    annual.add_argument(
        "--min-cell",
        type=int,
        default=None,
        help="small-cell threshold (default: $PSYCHANALYTICS_MIN_CELL or 10)",
    )
    annual.set_defaults(handler=_cmd_report)
    scorecard = kinds.add_parser(
        "scorecard",
        help="the year-end supervision scorecard of a school year (督导检查表): XLSX",
        description="Write the five supervision checks of every school, with the evidence each rests on and "
        "what is missing, to a bilingual XLSX workbook. Reads the published mart only: --mart, or with --db "
        "the mart beside the store, published first unless it is current.",
    )
    _add_db(scorecard)
    scorecard.add_argument(
        "--mart", help="a published mart (SQLite file or PostgreSQL URL of the reader role)"
    )
    scorecard.add_argument("--year", required=True, help="school year, e.g. 2024-2025")
    scorecard.add_argument("--out", required=True, help="XLSX file to write")
    scorecard.set_defaults(handler=_cmd_scorecard)

    imp = sub.add_parser(
        "import",
        help="import a screening export or school spreadsheet (CSV UTF-8/GBK, XLSX) / 导入数据",
        description="Import one file in one transaction; refused lines go to quarantine and an XLSX report.",
        epilog=_kinds_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    imp.add_argument(
        "kind",
        metavar="KIND",
        help="screening, roster, staff, rooms, activities, interventions, crisis, "
        "lessons, funding, school_stats, counselling",
    )
    imp.add_argument("file", metavar="FILE", help="CSV (UTF-8, UTF-8-BOM, GBK/GB18030) or XLSX file")
    _add_db(imp)
    imp.add_argument("--wave", help="screening wave id, e.g. 2025-autumn (created when missing)")
    imp.add_argument("--instrument", help="instrument code for screening, e.g. mht, phq9")
    imp.add_argument(
        "--informant", help="who answered, for informant-scored instruments (sdq: self, parent, teacher)"
    )
    imp.add_argument(
        "--norm", help="norm for the bands where an instrument has several (scared: original, chinese_urban)"
    )
    imp.add_argument("--school-year", help="school year when the file has no 学年 column, e.g. 2024-2025")
    imp.add_argument(
        "--key-file", help="pseudonym key file (default: $PSYCHANALYTICS_KEY_FILE); created if missing"
    )
    imp.add_argument(
        "--report", help="path of the XLSX report of refused lines (default: ./<file>_quarantine.xlsx)"
    )
    imp.add_argument(
        "--zero-based",
        action="store_true",
        help="the file codes items from 0 where the instrument starts at 1 (e.g. SCL-90 coded 0-4): add 1",
    )
    imp.add_argument(
        "--option-numbers",
        action="store_true",
        help="item cells are option numbers 1..K in the order the form asks them (问卷星 按选项序号下载), "
        "not the instrument's codes",
    )
    imp.add_argument(
        "--bare-id-card",
        choices=("add-g", "keep", "refuse"),
        default="add-g",
        help="a 学籍号 written as a bare ID-card number without its G: add the G (default: a national 学籍号 is "
        "G + the ID card), keep it as written (a district keyed on ID cards), or refuse the line",
    )
    imp.add_argument("--no-score", action="store_true", help="store item responses only; do not score")
    imp.add_argument("--json", action="store_true", help="print a JSON summary instead of text")
    imp.set_defaults(handler=_cmd_import)

    follow = sub.add_parser(
        "followup",
        help="write a school's follow-up list of the students a wave flagged (随访名单, XLSX) / 生成随访名单",
        description="Students of one school a wave flagged (a total in the screen-positive band, or PHQ-9 item 9 "
        "however low the total), re-identified from the school's own roster with the pseudonym key; the list "
        "is recorded in the audit log (school, wave, counts). The XLSX holds names: keep it within the school.",
    )
    _add_db(follow)
    follow.add_argument("--wave", required=True, help="screening wave id, e.g. 2025-autumn")
    follow.add_argument("--school", required=True, help="school_id or the school's exact name")
    follow.add_argument(
        "--roster", required=True, help="the school's roster (CSV UTF-8/GBK or XLSX, with 学籍号)"
    )
    follow.add_argument(
        "--key-file", help="the store's pseudonym key file (default: $PSYCHANALYTICS_KEY_FILE)"
    )
    follow.add_argument("--out", required=True, help="the XLSX list to write")
    follow.set_defaults(handler=_cmd_followup)

    from psychanalytics import _cli_privacy

    _cli_privacy.add_commands(sub, _add_db)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``psychanalytics`` command."""
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
