"""Alembic's environment for the store's schema revisions (Alembic runs this file; nothing imports it).

:func:`psychanalytics.store.migrations.upgrade` hands its connection in ``config.attributes``, inside
the one transaction it commits. In the repository, the ``alembic`` command (configured in
``pyproject.toml``) runs it on a scratch database named with ``-x db=PATH_OR_URL`` to write a new
revision (DESIGN.md, decision 21); district stores are upgraded with ``psychanalytics upgrade`` only.
"""

from alembic import context

from psychanalytics.store import migrations
from psychanalytics.store.schema import metadata


def _run(connection) -> None:
    # render_as_batch: autogenerate writes SQLite's table-rebuilding batch operations, which keep STRICT
    # and WITHOUT ROWID (schema.py compiles them) where ALTER TABLE cannot change a column
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if "connection" in context.config.attributes:
    _run(context.config.attributes["connection"])
else:
    with migrations.migration_connection(context.get_x_argument(as_dictionary=True).get("db")) as connection:
        _run(connection)
