"""Redshift stand-in: redshift_connector against the real local PostgreSQL, through the
loopback proxy (``pgproxy.py``), in a throwaway database whose fixture views stand in for
``svv_columns``, ``sys_query_history``, ``stl_ddltext``, ``stl_utilitytext``,
``svv_transactions`` and ``svv_user_info``. With ``log_ddl`` an event trigger logs every DDL
into the audit tables as Redshift does (one SYS_QUERY_HISTORY row, 200-character
STL_DDLTEXT chunks; GRANT and REVOKE as UTILITY, in STL_UTILITYTEXT)."""

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
    # GRANT and REVOKE land here, not in STL_DDLTEXT (same columns):
    # https://docs.aws.amazon.com/redshift/latest/dg/r_STL_UTILITYTEXT.html
    "CREATE TABLE public.stl_utilitytext (userid INTEGER, xid BIGINT, pid INTEGER,"
    " label TEXT, starttime TIMESTAMP, endtime TIMESTAMP, sequence INTEGER, text CHAR(200))",
    # each open transaction holds an ExclusiveLock on its own id, as on Redshift
    "CREATE VIEW public.svv_transactions AS SELECT CAST(NULL AS TEXT) AS txn_owner,"
    " current_database() AS txn_db, CAST(CAST(l.transactionid AS TEXT) AS BIGINT) AS xid,"
    " l.pid, CAST(NULL AS TIMESTAMP) AS txn_start, l.mode AS lock_mode,"
    " 'transactionid' AS lockable_object_type, CAST(NULL AS INTEGER) AS relation, l.granted"
    " FROM pg_locks AS l WHERE l.locktype = 'transactionid'",
    # a table, so that tests can take the grant away
    "CREATE TABLE public.svv_user_info (user_name TEXT, user_id INTEGER, superuser BOOLEAN,"
    " syslog_access TEXT)",
    "INSERT INTO public.svv_user_info SELECT usename, usesysid, usesuper, 'RESTRICTED'"
    " FROM pg_user",
]
#: The transaction id as svv_transactions shows it (pg_locks has the 32-bit xid).
XID = "txid_current() % 4294967296"
LOG_DDL = [
    "CREATE SEQUENCE public.wd_query_ids START 1000",
    # GRANT/REVOKE: query type UTILITY and STL_UTILITYTEXT (other DDL: DDL, STL_DDLTEXT)
    "CREATE FUNCTION public.wd_log_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$"
    " DECLARE q TEXT := current_query();"
    " utility BOOLEAN := TG_TAG IN ('GRANT', 'REVOKE'); BEGIN"
    " INSERT INTO public.sys_query_history (query_id, user_id, database_name, query_type,"
    " status, query_text, start_time, transaction_id) SELECT nextval('public.wd_query_ids'),"
    " usesysid, current_database(), CASE WHEN utility THEN 'UTILITY' ELSE 'DDL' END,"
    " 'success', left(q, 4000),"
    f" timezone('UTC', clock_timestamp()), {XID} FROM pg_user WHERE usename = current_user;"
    " IF utility THEN"
    " INSERT INTO public.stl_utilitytext (userid, xid, pid, label, starttime, endtime,"
    f" sequence, text) SELECT usesysid, {XID}, pg_backend_pid(), 'default',"
    " timezone('UTC', clock_timestamp()), timezone('UTC', clock_timestamp()), s,"
    " substr(q, s * 200 + 1, 200) FROM pg_user, generate_series(0, (length(q) - 1) / 200) AS s"
    " WHERE usename = current_user; ELSE"
    " INSERT INTO public.stl_ddltext (userid, xid, pid, label, starttime, endtime, sequence,"
    f" text) SELECT usesysid, {XID}, pg_backend_pid(), 'default',"
    " timezone('UTC', clock_timestamp()), timezone('UTC', clock_timestamp()), s,"
    " substr(q, s * 200 + 1, 200) FROM pg_user, generate_series(0, (length(q) - 1) / 200) AS s"
    " WHERE usename = current_user; END IF; END $$",
    "CREATE EVENT TRIGGER wd_log_ddl ON ddl_command_end EXECUTE FUNCTION public.wd_log_ddl()",
]


@contextmanager
def throwaway_database(log_ddl: bool = False) -> Iterator[tuple[str, sa.Engine]]:
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
            for sql in FIXTURES + (LOG_DDL if log_ddl else []):
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
def redshift_backend(tmp: Path, log_ddl: bool = False) -> Iterator[Seeder]:
    """Seeded through psycopg, read through redshift_connector and the proxy."""
    url = sa.make_url(POSTGRES_URL)
    with throwaway_database(log_ddl) as (database, engine), \
            pg_proxy((url.host or "127.0.0.1", url.port or 5432)) as port:
        with engine.begin() as conn:
            conn.execute(sa.text('CREATE SCHEMA "wd_test"'))
        unreachable = {**settings(1, database), "password": "s3cr3t-Pa55w0rd", "timeout": 2}
        yield Seeder("redshift", settings(port, database), "wd_test", engine,
                     unreachable=unreachable)
