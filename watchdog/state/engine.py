"""Engines for the state database: URL parsing, SQLite pragmas, Postgres driver selection."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.pool import StaticPool

from watchdog import secrets
from watchdog.errors import MissingExtra, StateError
from watchdog.state import tables as t

#: Where the state lives when ``state.url`` is not set (relative to the working directory).
DEFAULT_PATH = Path(".watchdog") / "state.db"
#: The supported backends.
BACKENDS = ("postgresql", "sqlite")

_SQLITE_BUSY_TIMEOUT_S = 30  # how long a writer waits for another writer's lock


def parse_url(url: str | None) -> URL:
    if url is None:
        return URL.create("sqlite", database=str(DEFAULT_PATH))
    secrets.register_config(url)
    try:
        parsed = sa.make_url(secrets.normalize_url(url))
    except (sa.exc.ArgumentError, ValueError):  # ValueError: a port that is not a number
        # never echo the URL, nor SQLAlchemy's message: either may hold part of a password
        error = StateError(
            "state.url is not a database URL",
            hint="use sqlite:///path/to/state.db or postgresql+psycopg://user@host:port/db "
                 "(a port is a number; in a password write / ? # as %2F %3F %23)",
        )
        error.exit_code = 2
        raise error from None
    if parsed.drivername == "postgresql":  # SQLAlchemy's default driver is psycopg2; we ship 3
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def create_engine(url: URL, display: str) -> Engine:
    backend = url.get_backend_name()
    if backend not in BACKENDS:
        raise StateError(
            f"unsupported state database {display}",
            hint="use sqlite:///path/to/state.db or postgresql+psycopg://user@host/db",
        )
    if backend == "sqlite":
        return _sqlite_engine(url, display)
    connect_args = {} if "connect_timeout" in url.query else {"connect_timeout": 10}
    try:
        return sa.create_engine(
            url, pool_pre_ping=True, connect_args=connect_args, json_serializer=t.dumps
        )
    except ImportError as exc:
        raise MissingExtra(exc.name or "psycopg", "postgres") from exc


def _sqlite_engine(url: URL, display: str) -> Engine:
    database = url.database or ""
    memory = database in ("", ":memory:") or url.query.get("mode") == "memory"
    if memory:
        engine = sa.create_engine(
            url, poolclass=StaticPool, connect_args={"check_same_thread": False},
            json_serializer=t.dumps,
        )
    else:
        try:
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StateError(f"cannot create the directory of {display}: {exc}") from exc
        engine = sa.create_engine(
            url, connect_args={"timeout": _SQLITE_BUSY_TIMEOUT_S}, json_serializer=t.dumps
        )
    sa.event.listen(engine, "connect", _sqlite_connect)
    sa.event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    # We emit BEGIN ourselves (see _sqlite_begin): sqlite3's own transaction handling
    # skips it for SELECT and DDL. https://docs.sqlalchemy.org/en/20/dialects/sqlite.html
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {_SQLITE_BUSY_TIMEOUT_S * 1000}")
    cursor.execute("PRAGMA journal_mode = WAL")  # readers never block the writer
    # FULL: a committed run (its outbox records included) survives a power cut too; NORMAL
    # would keep it only through a process crash. https://www.sqlite.org/pragma.html#pragma_synchronous
    cursor.execute("PRAGMA synchronous = FULL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # Writers take the lock up front, so the busy timeout applies instead of a deferred
    # transaction failing at once on upgrade. https://www.sqlite.org/lang_transaction.html
    write = conn.get_execution_options().get("watchdog_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
