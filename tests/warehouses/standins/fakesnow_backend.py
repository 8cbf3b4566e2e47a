"""Snowflake stand-in: fakesnow's HTTP server, reached by the real connector through the
adapter's endpoint settings (host, port, protocol), plus ACCOUNT_USAGE fixture tables and a
LAST_DDL that moves (fakesnow's INFORMATION_SCHEMA.TABLES has it constant)."""

from __future__ import annotations

import importlib
import itertools
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import snowflake.connector

# bound now: fakesnow.server() imports its submodule `fakesnow.server`, which then shadows
# the function on the package
from fakesnow import server as fakesnow_server

from tests.warehouses.standins.dbapi_seeder import DbApiSeeder

#: The ACCOUNT_USAGE views the adapter reads, as fixture tables (fakesnow has none).
ACCOUNT_USAGE = [
    "CREATE DATABASE IF NOT EXISTS SNOWFLAKE",
    "CREATE SCHEMA IF NOT EXISTS SNOWFLAKE.ACCOUNT_USAGE",
    "CREATE TABLE IF NOT EXISTS SNOWFLAKE.ACCOUNT_USAGE.QUERY_HISTORY (query_id VARCHAR,"
    " query_text VARCHAR, database_name VARCHAR, schema_name VARCHAR, query_type VARCHAR,"
    " user_name VARCHAR, role_name VARCHAR, execution_status VARCHAR,"
    " start_time TIMESTAMP_LTZ, end_time TIMESTAMP_LTZ)",
    "CREATE TABLE IF NOT EXISTS SNOWFLAKE.ACCOUNT_USAGE.ACCESS_HISTORY (query_id VARCHAR,"
    " query_start_time TIMESTAMP_LTZ, user_name VARCHAR, object_modified_by_ddl OBJECT)",
    # the documented columns of both grants views:
    # https://docs.snowflake.com/en/sql-reference/account-usage/grants_to_roles
    "CREATE TABLE IF NOT EXISTS SNOWFLAKE.ACCOUNT_USAGE.GRANTS_TO_ROLES (created_on"
    " TIMESTAMP_LTZ, modified_on TIMESTAMP_LTZ, privilege VARCHAR, granted_on VARCHAR,"
    " name VARCHAR, table_catalog VARCHAR, table_schema VARCHAR, granted_to VARCHAR,"
    " grantee_name VARCHAR, grant_option BOOLEAN, granted_by VARCHAR,"
    " deleted_on TIMESTAMP_LTZ, granted_by_role_type VARCHAR, object_instance VARCHAR)",
    # https://docs.snowflake.com/en/sql-reference/account-usage/grants_to_users
    "CREATE TABLE IF NOT EXISTS SNOWFLAKE.ACCOUNT_USAGE.GRANTS_TO_USERS (created_on"
    " TIMESTAMP_LTZ, deleted_on TIMESTAMP_LTZ, role VARCHAR, granted_to VARCHAR,"
    " grantee_name VARCHAR, granted_by VARCHAR)",
]


#: LAST_DDL / LAST_DDL_BY per table, which the tests stamp when they run DDL (as Snowflake
#: does: https://docs.snowflake.com/en/sql-reference/info-schema/tables). fakesnow has them
#: constant (1970, 'SYSADMIN'); tables never stamped keep those values.
LAST_DDL = "_fs_global._fs_information_schema.wd_last_ddl"
_TICK = itertools.count(1)


def _duck() -> Any:
    """A DuckDB connection to the server's in-memory databases (shared by every session of
    the in-process server: ``fakesnow.server.shared_fs``)."""
    return importlib.import_module("fakesnow.server").shared_fs.duck_conn.cursor()


def moving_last_ddl(database: str) -> None:
    """Make ``<database>.INFORMATION_SCHEMA.TABLES`` read LAST_DDL and LAST_DDL_BY from the
    :data:`LAST_DDL` fixture table: fakesnow's view is kept under another name and wrapped."""
    duck = _duck()
    try:
        duck.execute(f"CREATE TABLE IF NOT EXISTS {LAST_DDL} (table_catalog VARCHAR,"
                     " table_schema VARCHAR, table_name VARCHAR, last_ddl TIMESTAMPTZ,"
                     " last_ddl_by VARCHAR, PRIMARY KEY (table_catalog, table_schema, table_name))")
        views = f'"{database}"._fs_information_schema'
        if duck.execute("SELECT 1 FROM duckdb_views() WHERE database_name = ? AND view_name ="
                        " '_fs_tables_fakesnow'", [database]).fetchone():
            return
        duck.execute(f"ALTER VIEW {views}._fs_tables RENAME TO _fs_tables_fakesnow")
        duck.execute(
            f"CREATE VIEW {views}._fs_tables AS SELECT t.* REPLACE ("
            'COALESCE(d.last_ddl, t."LAST_DDL") AS "LAST_DDL",'
            ' COALESCE(d.last_ddl_by, t."LAST_DDL_BY") AS "LAST_DDL_BY")'
            f" FROM {views}._fs_tables_fakesnow AS t LEFT JOIN {LAST_DDL} AS d"
            ' ON d.table_catalog = t."TABLE_CATALOG" AND d.table_schema = t."TABLE_SCHEMA"'
            ' AND d.table_name = t."TABLE_NAME"')
    finally:
        duck.close()


def stamp_ddl(database: str, schema: str, table: str, by: str,
              at: datetime | None = None) -> datetime:
    """Record a DDL on a table as Snowflake's catalog would: LAST_DDL (default: now, later
    than any earlier stamp) and LAST_DDL_BY. Returns the time stamped."""
    at = at or datetime.now(UTC) + timedelta(microseconds=next(_TICK))
    duck = _duck()
    try:
        duck.execute(f"INSERT OR REPLACE INTO {LAST_DDL} VALUES (?, ?, ?, ?, ?)",
                     [database, schema, table, at, by])
    finally:
        duck.close()
    return at


@contextmanager
def fake_snowflake() -> Iterator[dict[str, Any]]:
    """A fakesnow server: the adapter settings that reach it (endpoint overrides)."""
    with fakesnow_server() as kwargs:
        yield {"account": kwargs["account"], "user": kwargs["user"],
               "password": kwargs["password"], "host": kwargs["host"],
               "port": kwargs["port"], "protocol": kwargs["protocol"], "login_timeout": 10}


def connect(settings: dict[str, Any], database: str | None = None) -> Any:
    """A raw connection for seeding (autocommit)."""
    args = {k: settings[k] for k in ("account", "user", "password", "host", "port", "protocol")}
    return snowflake.connector.connect(
        **args, database=database, autocommit=True,
        session_parameters={"CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False})


@contextmanager
def snowflake_backend(tmp: Path) -> Iterator[DbApiSeeder]:
    """A fresh database in a fakesnow server, with ACCOUNT_USAGE fixtures."""
    database = f"WD_{uuid.uuid4().hex[:10].upper()}"
    with fake_snowflake() as server:
        conn = connect(server)
        cursor = conn.cursor()
        for sql in [*ACCOUNT_USAGE, f"CREATE DATABASE {database}",
                    f'CREATE SCHEMA {database}."wd_test"']:
            cursor.execute(sql)
        conn.close()
        moving_last_ddl(database)
        conn = connect(server, database)
        unreachable = {**server, "password": "s3cr3t-Pa55w0rd", "port": 1, "login_timeout": 2,
                       "database": database}
        try:
            yield DbApiSeeder("snowflake", {**server, "database": database}, "wd_test",
                              engine=None, unreachable=unreachable,  # type: ignore[arg-type]
                              connection=conn)
        finally:
            conn.close()


def other_database(seed: DbApiSeeder) -> str:
    """A second database in the seed's server, with its own ``"wd_test"`` schema and a
    moving LAST_DDL: its tables are named ``<DB>.wd_test.<table>`` in config."""
    database = f"WD_{uuid.uuid4().hex[:10].upper()}"
    conn = connect(seed.settings)  # CREATE DATABASE switches the session to it, as Snowflake
    try:
        for sql in (f"CREATE DATABASE {database}", f'CREATE SCHEMA {database}."wd_test"'):
            conn.cursor().execute(sql)
    finally:
        conn.close()
    moving_last_ddl(database)
    return database
