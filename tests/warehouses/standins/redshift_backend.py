"""Redshift stand-in: redshift_connector against the real local PostgreSQL, through the
loopback proxy (``pgproxy.py``), in a throwaway database whose fixture views stand in for
``svv_columns``, ``sys_query_history`` and ``stl_ddltext``."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tests.conftest import POSTGRES_URL
from tests.warehouses.seeding import Seeder
from tests.warehouses.standins.pgproxy import pg_proxy

#: Fixture objects named as Redshift's system views, in the throwaway database's public
#: schema (first on the search path, as pg_catalog views are on Redshift).
FIXTURES = [
    "CREATE VIEW public.svv_columns AS SELECT table_catalog, table_schema, table_name,"
    " column_name, ordinal_position, data_type, is_nullable, character_maximum_length,"
    " numeric_precision, numeric_scale FROM information_schema.columns",
    "CREATE TABLE public.sys_query_history (query_id BIGINT, user_id INTEGER,"
    " database_name TEXT, query_type TEXT, status TEXT, query_text TEXT,"
    " start_time TIMESTAMP, transaction_id BIGINT)",
    "CREATE TABLE public.stl_ddltext (userid INTEGER, xid BIGINT, pid INTEGER,"
    " label TEXT, starttime TIMESTAMP, endtime TIMESTAMP, sequence INTEGER, text CHAR(200))",
]


@contextmanager
def throwaway_database() -> Iterator[tuple[str, sa.Engine]]:
    """A new database with the fixtures, and a psycopg engine on it (dropped at the end)."""
    name = f"wd_rs_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://"),
                             isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://"))
    engine = sa.create_engine(url.set(database=name))
    try:
        with engine.begin() as conn:
            for sql in FIXTURES:
                conn.execute(sa.text(sql))
        yield name, engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def settings(port: int, database: str) -> dict[str, Any]:
    """Adapter settings that reach the proxy (trust auth: any password is accepted)."""
    url = sa.make_url(POSTGRES_URL)
    return {"host": "127.0.0.1", "port": port, "database": database,
            "user": url.username or "postgres", "password": "unused-with-trust",
            "ssl": False, "timeout": 5}


@contextmanager
def redshift_backend(tmp: Path) -> Iterator[Seeder]:
    """Seeded through psycopg, read through redshift_connector and the proxy."""
    url = sa.make_url(POSTGRES_URL)
    with throwaway_database() as (database, engine), \
            pg_proxy((url.host or "127.0.0.1", url.port or 5432)) as port:
        with engine.begin() as conn:
            conn.execute(sa.text('CREATE SCHEMA "wd_test"'))
        unreachable = {**settings(1, database), "password": "s3cr3t-Pa55w0rd", "timeout": 2}
        yield Seeder("redshift", settings(port, database), "wd_test", engine,
                     unreachable=unreachable)
