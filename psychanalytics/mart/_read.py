"""Reading a published mart: the only data a leader's page or report touches."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from psychanalytics.mart._publish import MANIFEST_TABLE, PG_SCHEMA, ROW_COLUMN, TABLES_TABLE

_COUNTS = ("count", "n")


class MartNotFoundError(FileNotFoundError):
    """The mart does not exist or is not a published mart (no manifest)."""


class Mart:
    """A published mart, opened read-only.

    Parameters
    ----------
    mart : str or Path
        A SQLite mart file, or the PostgreSQL URL of the reader role (the mart
        is the schema ``schema`` there).
    schema : str
        PostgreSQL schema (ignored for SQLite).

    Attributes
    ----------
    manifest : dict
        What the mart was built from and under: ``snapshot`` (``data_as_of``,
        ``audit_seq``, ``synthetic``), ``spec_versions``, ``min_cell``,
        ``rule``, ``tables``, ``published_utc``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from psychanalytics import store
    >>> from psychanalytics.mart import Mart, publish
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> engine = store.connect(folder / "store.sqlite")
    >>> store.create_all(engine)
    >>> _ = publish(engine, folder / "mart.sqlite")
    >>> mart = Mart(folder / "mart.sqlite")
    >>> mart.table("screened_per_wave").columns.tolist()[-2:]
    ['suppressed', 'marker']
    """

    def __init__(self, mart: str | Path, *, schema: str = PG_SCHEMA):
        text = str(mart)
        if "://" in text:
            self.engine = sa.create_engine(text, pool_pre_ping=True)
            self.schema = schema if self.engine.dialect.name == "postgresql" else None
            self.name = sa.make_url(text).render_as_string(hide_password=True)
        else:
            path = Path(text).expanduser()
            if not path.is_file():
                raise MartNotFoundError(
                    f"发布库不存在 / mart not found: {path} (run `psychanalytics publish` first)"
                )
            self.engine = sa.create_engine(f"sqlite:///file:{path.resolve()}?mode=ro&uri=true")
            self.schema = None
            self.name = path.name
        try:
            self.manifest = self._manifest()
        except sa.exc.DBAPIError as exc:
            self.engine.dispose()
            raise MartNotFoundError(f"not a published mart: {self.name} ({exc.orig})") from None

    def _select(self, name: str) -> sa.TextClause:
        qualified = f'"{self.schema}"."{name}"' if self.schema else f'"{name}"'
        return sa.text(f"SELECT * FROM {qualified}")

    def _manifest(self) -> dict:
        with self.engine.connect() as conn:
            rows = conn.execute(self._select(MANIFEST_TABLE)).all()
        return {key: json.loads(value) for key, value in rows}

    def tables(self) -> pd.DataFrame:
        """The mart's tables: ``name, title_zh, title_en, rows, policy``."""
        return self.table(TABLES_TABLE)

    def table(self, name: str) -> pd.DataFrame:
        """One published table; ``count`` and ``n`` as nullable integers (``<NA>`` where hidden).

        The frame's ``attrs["mart_table"]`` names the table it was read from.

        Raises
        ------
        KeyError
            If the mart has no such table (the message lists those it has).
        """
        if name not in (*self.manifest.get("tables", ()), TABLES_TABLE):
            raise KeyError(
                f"the mart {self.name} has no table {name!r}; it has {self.manifest.get('tables')}"
            )
        with self.engine.connect() as conn:
            frame = pd.read_sql_query(self._select(name), conn)
        if ROW_COLUMN in frame.columns:  # the order it was published in (marts before it: as stored)
            frame = (
                frame.sort_values(ROW_COLUMN, kind="stable").drop(columns=ROW_COLUMN).reset_index(drop=True)
            )
        for column in _COUNTS:
            if column in frame.columns:
                frame[column] = frame[column].astype("Int64")
        if "suppressed" in frame.columns:
            frame["suppressed"] = frame["suppressed"].astype(bool)
        if "marker" in frame.columns:
            frame["marker"] = frame["marker"].fillna("")
        frame.attrs["mart_table"] = name  # so a page's views can be checked against the table's policy
        return frame

    def close(self) -> None:
        """Release the connection pool."""
        self.engine.dispose()


def open_mart(mart: str | Path | Mart, *, schema: str = PG_SCHEMA) -> Mart:
    """``mart`` itself when it is a :class:`Mart`, else the mart it names, opened read-only."""
    return mart if isinstance(mart, Mart) else Mart(mart, schema=schema)
