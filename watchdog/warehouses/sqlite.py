"""SQLite: a database file opened read-only in-process. Times are stored as ISO-8601 text."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, ClassVar
from urllib.parse import quote

import sqlalchemy as sa

from watchdog.errors import TableNotFound, WarehouseAuthError, WarehouseUnavailable
from watchdog.models import TableRef
from watchdog.warehouses.base import WarehouseSettings, as_utc
from watchdog.warehouses.catalog_sql import Catalog
from watchdog.warehouses.executor import POOL_WAIT, SqlAlchemyExecutor
from watchdog.warehouses.sqlbase import NAMES_HINT, ErrorRule, SqlWarehouse


class SQLiteSettings(WarehouseSettings):
    """Where the SQLite database file is."""

    path: str
    """Database file. It must exist: watchdog opens it read-only and never creates it."""


class SQLite(SqlWarehouse):
    """SQLite through the standard library driver; metadata from ``pragma_table_info``.

    Times must be stored as ISO-8601 text (``2026-03-01 12:00:00[.fff][+00:00]``), naive
    meaning UTC. SQLite has no time type, so :meth:`sample` returns them as stored text.
    Only the ``main`` schema of the file is visible.
    """

    NAME: ClassVar[str] = "sqlite"
    Settings: ClassVar[type[WarehouseSettings]] = SQLiteSettings
    DEFAULT_SCHEMA: ClassVar[str] = "main"
    DIALECT: ClassVar[str] = "sqlite"
    settings: SQLiteSettings

    #: ``PRAGMA schema_version`` moves on every DDL: https://sqlite.org/pragma.html#pragma_schema_version
    SUPPORTS_SCHEMA_VERSION: ClassVar[bool] = True
    #: No hash function in SQL: the fingerprint query's text is hashed in Python.
    SCHEMA_DIGEST_IN_SQL: ClassVar[bool] = False
    #: Names are case-insensitive: https://sqlite.org/lang_keywords.html
    NAMES_CASE_INSENSITIVE: ClassVar[bool] = True
    # SQLite has no REGEXP function: SUPPORTS_REGEX off
    # A "double-quoted" name that matches no column is read as a string literal, which would
    # hide a missing column; backticks are always identifiers: https://sqlite.org/quirks.html#dblquote
    IDENT_QUOTE: ClassVar[str] = "`"
    #: Times are compared as epochs (SQLite stores them as text in any of several forms:
    #: ``dialects.TimeRange``, ``dialects.Epoch``).
    TYPED_TIME_BINDS: ClassVar[bool] = False
    # SQLite has no NaN: it stores NaN as NULL, which MISSING already counts.
    # LIKE is case-insensitive for ASCII: https://sqlite.org/lang_expr.html#like
    CATALOG: ClassVar[Catalog] = Catalog(
        schema="'main'", table="m.name", fold_case=True,
        # sqlite_master is sqlite_schema under its name from before SQLite 3.33
        columns=(
            "SELECT 'main' AS table_schema, m.name AS table_name, p.name AS column_name,"
            " p.type AS data_type, p.\"notnull\" = 0 AS nullable"
            " FROM sqlite_master AS m JOIN pragma_table_info(m.name) AS p"
            " WHERE m.type IN ('table', 'view') AND :tables ORDER BY m.name, p.cid"
        ),
        schema_columns=(
            "SELECT 'main' AS table_schema, m.name AS table_name, p.name AS column_name,"
            " p.type AS data_type, p.\"notnull\" = 0 AS nullable"
            " FROM sqlite_master AS m JOIN pragma_table_info(m.name) AS p"
            " WHERE m.type IN ('table', 'view') AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
            " AND :tables ORDER BY m.name, p.cid"
        ),
        # no md5 in SQLite (hashed in Python), and group_concat takes no ORDER BY before
        # 3.44: an ordered subquery is not flattened into an aggregate query
        # (https://sqlite.org/optoverview.html#flattening, rule 16); cid is in the text too
        fingerprints=(
            "SELECT table_schema, table_name, group_concat(facts, char(31)) AS fingerprint"
            " FROM (SELECT 'main' AS table_schema, m.name AS table_name,"
            " p.cid || char(30) || p.name || char(30) || p.type || char(30) || p.\"notnull\""
            " AS facts"
            " FROM sqlite_master AS m JOIN pragma_table_info(m.name) AS p"
            " WHERE m.type IN ('table', 'view') AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
            " AND :tables ORDER BY m.name, p.cid) AS f"
            " GROUP BY table_schema, table_name"
        ),
    )
    QUERIES: ClassVar[dict[str, str]] = {
        **SqlWarehouse.QUERIES,
        "schema_version": "PRAGMA schema_version",
    }
    ERRORS: ClassVar[tuple[ErrorRule, ...]] = (
        (r"no such (table|column)|unknown database", TableNotFound, NAMES_HINT),
        (r"unable to open database file", WarehouseUnavailable,
         "check settings.path: the file must exist and be readable"),
        (r"database is locked|disk I/O error", WarehouseUnavailable,
         "another process is writing the database; retry later"),
        (r"not a database|malformed", WarehouseUnavailable,
         "settings.path is not a (healthy) SQLite database"),
        (r"not authorized|permission denied", WarehouseAuthError,
         "check the database file's permissions"),
    )

    def _executor(self) -> SqlAlchemyExecutor:
        # no statement timeout of its own; interrupt() stops the running query from
        # another thread: https://docs.python.org/3/library/sqlite3.html#sqlite3.Connection.interrupt
        return SqlAlchemyExecutor(self.name, self._translate, self._create_engine,
                                  canceller=lambda raw: getattr(raw, "interrupt", None))

    def _create_engine(self) -> sa.Engine:
        uri = f"file:{quote(self.settings.path)}?mode=ro"

        def connect() -> sqlite3.Connection:
            return sqlite3.connect(uri, uri=True, check_same_thread=False)

        return sa.create_engine("sqlite://", creator=connect, poolclass=sa.pool.QueuePool,
                                pool_timeout=POOL_WAIT)

    def schema_version(self, patterns: Sequence[TableRef] = ()) -> str | None:
        rows = self._fetch(self.render("schema_version"))
        return str(rows[0][0]) if rows else None

    def _bind_value(self, value: Any) -> Any:
        # times are compared as ISO text, the way they are stored: naive UTC
        if isinstance(value, datetime):
            return as_utc(value).replace(tzinfo=None).isoformat(sep=" ")
        if isinstance(value, date):
            return value.isoformat()
        return value

    @classmethod
    def _fallback_family(cls, canon: str) -> str:
        # column affinity rules: https://sqlite.org/datatype3.html#determination_of_column_affinity
        if "int" in canon:
            return "integer"
        if any(word in canon for word in ("char", "clob", "text")):
            return "string"
        if not canon or "blob" in canon:
            return "other"
        if any(word in canon for word in ("real", "floa", "doub")):
            return "float"
        return "decimal"
