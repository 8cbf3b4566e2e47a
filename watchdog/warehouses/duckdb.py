"""DuckDB, the embedded default: a file (or in-memory) database opened in-process."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import duckdb  # noqa: F401  (fail at lookup, naming the package, if it is missing)
import pydantic
import sqlalchemy as sa

from watchdog.errors import QueryError, TableNotFound, WarehouseAuthError, WarehouseUnavailable
from watchdog.warehouses import rulesql
from watchdog.warehouses.base import WarehouseSettings
from watchdog.warehouses.catalog_sql import Catalog
from watchdog.warehouses.executor import SqlAlchemyExecutor
from watchdog.warehouses.sqlbase import NAMES_HINT, ErrorRule, SqlWarehouse, Statement
from watchdog.warehouses.tree_sql import Tree

MEMORY = ":memory:"
#: A DuckDB memory size: a number and a unit (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB).
MEMORY_SIZE = r"^\s*\d+(\.\d+)?\s*([KMGT]i?B|B)\s*$"
#: The default cap on DuckDB's memory: its own default is 80 % of RAM, in watchdog's process,
#: and a buffer pool that keeps every block it read (+0.6 GB at 1M rows x 100 columns). The
#: drift, volume and contract scans stream, so they run as fast within 100 MB (bench/README).
DEFAULT_MEMORY_LIMIT = "100MB"
#: Settings applied to every database opened (``preserve_insertion_order`` off lets scans
#: stream without keeping order, as DuckDB's out-of-memory guide advises; a perfect hash
#: table for up to 2**16 groups makes the 20,001-bucket fine KS grids about 25 % faster):
#: https://duckdb.org/docs/stable/configuration/overview
DEFAULT_CONFIG: dict[str, Any] = {"preserve_insertion_order": False, "perfect_ht_threshold": 16}


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
    """DuckDB through duckdb-engine; metadata from ``duckdb_columns()`` (the columns) and
    ``information_schema.columns`` (the fingerprints)."""

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
        (r"Permission denied", WarehouseAuthError, "check the database file's permissions"),
        (r"IOException|Cannot open", WarehouseUnavailable, "check settings.path"),
    )

    executor: SqlAlchemyExecutor

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
        with self.executor.engine.connect() as conn:
            if limit is None:
                conn.exec_driver_sql("RESET memory_limit")
            else:
                conn.exec_driver_sql(f"SET memory_limit = '{limit}'")  # validated: MEMORY_SIZE

    def _executor(self) -> SqlAlchemyExecutor:
        # no statement timeout of its own; interrupt() stops the running query from
        # another thread: https://duckdb.org/docs/stable/clients/python/reference/index.html
        return SqlAlchemyExecutor(self.name, self._translate, self._create_engine,
                                  canceller=_interrupt, columns=_numpy_columns)

    def _create_engine(self) -> sa.Engine:
        path = self.settings.path
        options: dict[str, Any] = {"connect_args": {"read_only": self.settings.read_only}}
        if path == MEMORY:
            # every connection to :memory: is a new database: share one
            options["poolclass"] = sa.pool.StaticPool
        elif not Path(path).exists():
            # DuckDB would create an empty database, and every table would look missing
            raise WarehouseUnavailable(
                self.name, f"database file {path} does not exist", hint="check settings.path"
            )
        engine = sa.create_engine(sa.URL.create("duckdb", database=path), **options)
        sa.event.listen(engine, "connect", self._session)
        return engine

    def _session(self, dbapi_connection: Any, _record: Any) -> None:
        # DuckDB's TimeZone defaults to the process's local zone; naive columns are UTC to us.
        dbapi_connection.execute("SET TimeZone = 'UTC'")
        # settings are SET, not passed to connect(): DuckDB refuses a second connection to a
        # file already open in this process with another configuration (they apply to the
        # shared database instance)
        config = {**DEFAULT_CONFIG, **{
            k: v for k, v in (("memory_limit", self.settings.memory_limit),
                              ("threads", self.settings.threads)) if v is not None}}
        for key, value in config.items():
            literal = f"'{value}'" if isinstance(value, str) else str(value).lower()
            dbapi_connection.execute(f"SET {key} = {literal}")  # validated settings only


def _numpy_columns(cursor: Any) -> list[Any]:
    """The executed statement's result as numpy arrays, without a Python object per value:
    https://duckdb.org/docs/stable/clients/python/conversion"""
    return list(cursor.fetchnumpy().values())


def _interrupt(dbapi_connection: Any) -> Callable[[], None] | None:
    return getattr(dbapi_connection, "interrupt", None)

