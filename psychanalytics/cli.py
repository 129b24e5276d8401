"""Command line: ``psychanalytics demo | serve | import``.

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

    engine = store.connect(args.db)
    started = time.perf_counter()
    summary = synth.build_demo(engine, seed=args.seed, students=args.students, replace=args.replace)
    elapsed = time.perf_counter() - started
    print(f"演示数据（合成）已生成 / synthetic demo district built in {elapsed:.1f} s")
    print(f"数据库 / database: {store.resolve_url(args.db)}")
    for table, count in summary.items():
        print(f"  {table:<22} {count:>10,}")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from psychanalytics import dashboards

    return dashboards.serve(db=args.db, port=args.port, open_browser=False)


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
    demo.add_argument("--students", type=int, default=45_000, help="students in the district (default: 45000)")
    demo.add_argument("--replace", action="store_true", help="empty the database first if it holds data")
    demo.set_defaults(handler=_cmd_demo)

    serve = sub.add_parser("serve", help="serve the leader dashboards (Voila, read-only) on 127.0.0.1")
    _add_db(serve)
    serve.add_argument("--port", type=int, default=8866, help="port on 127.0.0.1 (default: 8866)")
    serve.set_defaults(handler=_cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``psychanalytics`` command."""
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
