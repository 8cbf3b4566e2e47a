"""Snowflake stand-in: fakesnow's HTTP server, reached by the real connector through the
adapter's endpoint settings (host, port, protocol), plus ACCOUNT_USAGE fixture tables."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
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
]


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
        conn = connect(server, database)
        unreachable = {**server, "password": "s3cr3t-Pa55w0rd", "port": 1, "login_timeout": 2,
                       "database": database}
        try:
            yield DbApiSeeder("snowflake", {**server, "database": database}, "wd_test",
                              engine=None, unreachable=unreachable,  # type: ignore[arg-type]
                              connection=conn)
        finally:
            conn.close()
