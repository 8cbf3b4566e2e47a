"""DuckDB, the embedded default: a file (or in-memory) database opened in-process, through
DuckDB's own Python connection (no SQLAlchemy dialect: a run's first query does not wait for
SQLAlchemy's import)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import duckdb
import pydantic

from watchdog import timeouts
from watchdog.errors import (
    QueryError,
    TableNotFound,
    WarehouseAuthError,
    WarehouseError,
    WarehouseUnavailable,
)
from watchdog.warehouses import rulesql
from watchdog.warehouses.base import WarehouseSettings
from watchdog.warehouses.catalog_sql import Catalog
from watchdog.warehouses.dbapi import Row
from watchdog.warehouses.executor import Executor, Translate, driver_params, driver_sql
from watchdog.warehouses.sqlbase import NAMES_HINT, ErrorRule, SqlWarehouse, Statement
from watchdog.warehouses.tree_sql import Tree

MEMORY = ":memory:"
#: A DuckDB memory size: a number and a unit (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB).
MEMORY_SIZE = r"^\s*\d+(\.\d+)?\s*([KMGT]i?B|B)\s*$"
#: The default cap on DuckDB's memory: its own default is 80 % of RAM, in watchdog's process,
#: and a buffer pool that keeps every block it read (+0.6 GB at 1M rows x 100 columns). The
#: drift, volume and contract scans stream, so they run as fast within 100 MB (bench/README).
DEFAULT_MEMORY_LIMIT = "100MB"
#: Settings applied to the database when opened (``preserve_insertion_order`` off lets scans
#: stream without keeping order, as DuckDB's out-of-memory guide advises):
#: https://duckdb.org/docs/stable/configuration/overview
DEFAULT_CONFIG: dict[str, Any] = {"preserve_insertion_order": False}
#: Settings of each connection (DuckDB keeps these per connection, so per cursor): naive
#: columns are UTC to us, and DuckDB's zone defaults to the process's local one; a perfect
#: hash table for up to 2**16 groups makes the 20,001-bucket fine KS grids about 25 % faster.
SESSION = "SET TimeZone = 'UTC'; SET perfect_ht_threshold = 16"


class DuckDBSettings(WarehouseSettings):
    """Where the DuckDB database is and how to open it."""

    path: str = MEMORY
    """Database file. ``:memory:`` (the default) is an empty database private to this adapter,
    on one shared connection: for tests and demos only."""

    read_only: bool = False
    """Open the file read-only, so that other processes may read it too (none may write)."""

    memory_limit: str | None = pydantic.Field(DEFAULT_MEMORY_LIMIT, pattern=MEMORY_SIZE)
    """Cap on DuckDB's memory (buffer pool and query state), e.g. ``"1GB"``; default 100MB
    (DuckDB runs in watchdog's process), ``null`` for DuckDB's own default of 80 % of RAM.
    Larger work spills to disk. A statement that runs out of memory under the *default* cap
    is run once more without it (one that fails under a cap you set fails)."""

    threads: int | None = pydantic.Field(None, ge=1)
    """Worker threads of DuckDB (default: one per core)."""

    @pydantic.model_validator(mode="after")
    def _memory_is_writable(self) -> DuckDBSettings:
        if self.path == MEMORY and self.read_only:
            raise ValueError("an in-memory database cannot be opened read-only")
        return self


class DuckDB(SqlWarehouse):
    """DuckDB through its own Python connection; metadata from ``duckdb_columns()`` (the
    columns) and ``information_schema.columns`` (the fingerprints)."""

    NAME: ClassVar[str] = "duckdb"
    Settings: ClassVar[type[WarehouseSettings]] = DuckDBSettings
    DEFAULT_SCHEMA: ClassVar[str] = "main"
    DIALECT: ClassVar[str] = "duckdb"
    settings: DuckDBSettings

    #: ``USING SAMPLE reservoir(n ROWS)`` samples server-side.
    SUPPORTS_TABLESAMPLE: ClassVar[bool] = True
    #: RE2 through regexp_matches (a search, hence the anchor the caller adds):
    #: https://duckdb.org/docs/sql/functions/regular_expressions
    SUPPORTS_REGEX: ClassVar[bool] = True
    #: Quoted identifiers are case-insensitive too: https://duckdb.org/docs/sql/dialect/keywords_and_identifiers
    NAMES_CASE_INSENSITIVE: ClassVar[bool] = True
    #: Grouping by the value first, then classifying the groups, is faster than classifying
    #: every row; the packed KS list keeps one row per feature (bounded memory, no sort).
    GROUPED_VALUE_COUNTS: ClassVar[bool] = True
    PACKED_KS_COUNTS: ClassVar[bool] = True
    CATALOG: ClassVar[Catalog] = Catalog(
        schema="table_schema", table="table_name", fold_case=True, fold_pattern=True,
        # duckdb_columns(), the table function information_schema.columns is a view of
        # (same rows), without the view's ~30 other columns
        columns=(
            "SELECT table_schema, table_name, column_name, data_type, nullable"
            " FROM (SELECT database_name, schema_name AS table_schema, table_name,"
            " column_name, data_type, is_nullable AS nullable, column_index"
            " FROM duckdb_columns()) AS c"
            " WHERE database_name = current_database() AND :tables"
            " ORDER BY table_schema, table_name, column_index"
        ),
        fingerprints=(
            "SELECT table_schema, table_name,"
            " md5(string_agg(column_name || chr(30) || data_type || chr(30) || is_nullable,"
            " chr(31) ORDER BY ordinal_position)) AS fingerprint"
            " FROM information_schema.columns"
            " WHERE table_catalog = current_database() AND :tables"
            " GROUP BY table_schema, table_name"
        ),
    )
    QUERIES: ClassVar[dict[str, str]] = {
        **SqlWarehouse.QUERIES,
        # USING SAMPLE applies before WHERE, so sample a filtered subquery; the size must be
        # a literal: https://duckdb.org/docs/sql/samples
        "sample": (
            "SELECT *\nFROM (\nSELECT {columns}\nFROM {table}{where}\n) AS filtered\n"
            "USING SAMPLE reservoir({limit} ROWS)"
        ),
    }
    #: The contract counts and examples in one scan (``min(x, n) FILTER``, a bounded top-n).
    TREES: ClassVar[Mapping[str, Callable[..., Tree]]] = {
        **SqlWarehouse.TREES, "contract_scan": rulesql.build_contract_scan}
    ERRORS: ClassVar[tuple[ErrorRule, ...]] = (
        (r"Table with name|Referenced (column|table)|does not have a column|"
         r"Schema with name .* does not exist", TableNotFound, NAMES_HINT),
        (r"Could not set lock|Conflicting lock", WarehouseUnavailable,
         "another process holds the database file; open it with read_only: true"),
        (r"different configuration", WarehouseUnavailable,
         "this process already has the file open with other options (duckdb-engine adds"
         " one): open it there with plain duckdb.connect(path), or close it first"),
        (r"Permission denied", WarehouseAuthError, "check the database file's permissions"),
        (r"IOException|Cannot open", WarehouseUnavailable, "check settings.path"),
    )

    executor: DuckDBExecutor

    def _fetch(self, stmt: Statement) -> list[Any]:
        return self._lifting_cap(super()._fetch, stmt)

    def _columns(self, stmt: Statement) -> list[Any]:
        return self._lifting_cap(super()._columns, stmt)

    def _lifting_cap(self, run: Callable[[Statement], list[Any]], stmt: Statement) -> list[Any]:
        try:
            return run(stmt)
        except QueryError as exc:
            if "Out of Memory" not in str(exc) or "memory_limit" in self.settings.model_fields_set:
                raise
        # DuckDB can fail where it should spill (its hash tables at some caps): the default
        # cap must never turn a working query into an error, so lift it for this statement
        self._set_memory_limit(None)
        try:
            return run(stmt)
        finally:
            self._set_memory_limit(self.settings.memory_limit)

    def _set_memory_limit(self, limit: str | None) -> None:
        conn = self.executor.connection()
        if limit is None:
            conn.execute("RESET memory_limit")
        else:
            conn.execute(f"SET memory_limit = '{limit}'")  # validated: MEMORY_SIZE

    def _executor(self) -> DuckDBExecutor:
        return DuckDBExecutor(self.name, self._translate, self._connect)

    def _connect(self) -> duckdb.DuckDBPyConnection:
        path = self.settings.path
        if path != MEMORY and not Path(path).exists():
            # DuckDB would create an empty database, and every table would look missing
            raise WarehouseUnavailable(
                self.name, f"database file {path} does not exist", hint="check settings.path"
            )
        conn = duckdb.connect(path, read_only=self.settings.read_only)
        # settings are SET, not passed to connect(): DuckDB refuses a second connection to a
        # file already open in this process with another configuration (they apply to the
        # shared database instance, so to every cursor of this connection too)
        config = {**DEFAULT_CONFIG, **{
            k: v for k, v in (("memory_limit", self.settings.memory_limit),
                              ("threads", self.settings.threads)) if v is not None}}
        for key, value in config.items():
            literal = f"'{value}'" if isinstance(value, str) else str(value).lower()
            conn.execute(f"SET {key} = {literal}")  # validated settings only
        return conn


class DuckDBExecutor(Executor):
    """Statements on DuckDB's own connection: one database connection, opened on first use;
    each statement on a cursor of its own (DuckDB's cursors are connections to the same
    database, so checks on several threads do not share one), which ``interrupt()`` stops
    from another thread when the check's deadline passes:
    https://duckdb.org/docs/stable/clients/python/reference/index.html"""

    def __init__(self, name: str, translate: Translate,
                 connect: Callable[[], duckdb.DuckDBPyConnection]) -> None:
        """``connect()`` opens the database with its settings applied."""
        super().__init__(name, translate)
        self._connect = connect
        self._conn: duckdb.DuckDBPyConnection | None = None
        self._lock = threading.Lock()

    def connection(self) -> duckdb.DuckDBPyConnection:
        """The database connection, opened now if needed (driver errors propagate)."""
        with self._lock:
            if self._conn is None:
                self._conn = self._connect()
            return self._conn

    def _run(self, stmt: Statement) -> list[Any]:
        def rows(cursor: duckdb.DuckDBPyConnection) -> list[Any]:
            found = cursor.fetchall()
            fields = tuple(d[0] for d in cursor.description or ())
            return [Row.make(fields, values) for values in found]

        found: list[Any] = self._execute(stmt, rows)
        return found

    def run_columns(self, stmt: Statement) -> list[Any]:
        for listener in list(self._listeners):
            listener(stmt)
        found: list[Any] = self._execute(stmt, _numpy_columns)
        return found if found and len(found[0]) else []

    def _execute(self, stmt: Statement, fetch: Callable[[duckdb.DuckDBPyConnection], Any]) -> Any:
        # binds as ``$name``: https://duckdb.org/docs/stable/sql/query_syntax/prepared_statements
        sql = driver_sql(stmt.sql, "dollar")
        params = driver_params(stmt.sql, stmt.params) or None
        deadline = timeouts.current()
        left = deadline.check(self.name) if deadline is not None else None
        try:
            cursor = self._cursor()
            cursor.execute(SESSION)
        except WarehouseError:
            raise
        except Exception as exc:  # the driver boundary: nothing below escapes untranslated
            raise self.translate(exc, stmt, WarehouseUnavailable) from exc
        try:
            with cursor:
                if deadline is None or left is None:
                    cursor.execute(sql, params)
                    return fetch(cursor)
                with deadline.running(stmt.name, stmt.subject, cursor.interrupt):
                    cursor.execute(sql, params)
                    return fetch(cursor)
        except Exception as exc:
            if deadline is not None and deadline.overdue():
                raise deadline.error(self.name) from exc
            raise self.translate(exc, stmt, QueryError) from exc

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        with self._lock:  # cursor() on a connection other threads use too
            if self._conn is None:
                self._conn = self._connect()
            return self._conn.cursor()

    def close(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):  # a broken connection must not fail a close
                conn.close()


def _numpy_columns(cursor: Any) -> list[Any]:
    """The executed statement's result as numpy arrays, without a Python object per value:
    https://duckdb.org/docs/stable/clients/python/conversion"""
    return list(cursor.fetchnumpy().values())

