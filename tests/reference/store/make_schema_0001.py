"""Write schema_0001.json: the DDL that ``store.create_all`` issued before the schema was versioned.

District stores created before revision 0001 (the baseline) hold exactly these tables. The file was
written by running this script at commit d0e4be9 (main of 2026-11-30), before create_all stamped a
revision; it is never regenerated: the tests build an unversioned store from it, as the district's
stores were built, and check that revision 0001 creates the same schema.

Run from the repository root: ``.venv/bin/python tests/reference/store/make_schema_0001.py``.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import sqlalchemy as sa

from psychanalytics.store.schema import metadata


def sqlite_ddl() -> list[str]:
    """The statements SQLite keeps in ``sqlite_master`` after ``metadata.create_all``, in order."""
    engine = sa.create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.connect() as conn:
        return list(
            conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid"
            ).scalars()
        )


def postgresql_ddl() -> list[str]:
    """The statements ``metadata.create_all`` issues on PostgreSQL, in order."""
    statements = []
    engine = sa.create_mock_engine(
        "postgresql+psycopg://",
        lambda sql, *_, **__: statements.append(str(sql.compile(dialect=engine.dialect))),
    )
    metadata.create_all(engine, checkfirst=False)
    return [statement.strip() for statement in statements]


if __name__ == "__main__":
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    target = Path(__file__).with_name("schema_0001.json")
    snapshot = {
        "source": f"store.create_all at commit {commit} (psychanalytics before schema versioning), "
        "written by make_schema_0001.py beside this file",
        "sqlite": sqlite_ddl(),
        "postgresql": postgresql_ddl(),
    }
    target.write_text(json.dumps(snapshot, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(
        f"{target}: {len(snapshot['sqlite'])} SQLite and {len(snapshot['postgresql'])} PostgreSQL statements"
    )
