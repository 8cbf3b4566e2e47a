"""The Postgres DDL audit log: an event trigger that records who ran which DDL, and when.

``watchdog setup audit --warehouse NAME`` installs it once, as a superuser (event triggers
need one: https://www.postgresql.org/docs/current/sql-createeventtrigger.html). It adds:

- schema ``watchdog_audit`` with ``ddl_log`` (one row per DDL command: user, time, command
  tag, object, statement) and ``ddl_version`` (one row, a counter);
- function ``watchdog_audit.log_ddl()`` and event triggers ``watchdog_audit_ddl``
  (``ddl_command_end``) and ``watchdog_audit_drop`` (``sql_drop``).

Every DDL command bumps ``ddl_version.n`` under its row lock, so the counter moves in commit
order and a poll that reads it (one row, ~0.1 ms) knows whether anything changed since the
last one; ``ddl_log.seq`` is that counter's value, the cursor for reading new events.
The trigger never blocks DDL: any error inside it becomes a WARNING. Temporary tables and
the audit schema itself are not logged. Statements are kept up to 4,000 characters.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

SCHEMA = "watchdog_audit"

INSTALL: tuple[str, ...] = (
    f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
    f"""CREATE TABLE IF NOT EXISTS {SCHEMA}.ddl_log (
        id bigserial PRIMARY KEY,
        seq bigint NOT NULL,
        at timestamptz NOT NULL DEFAULT clock_timestamp(),
        username text NOT NULL DEFAULT session_user,
        command_tag text NOT NULL,
        object_type text,
        object_identity text,
        statement text)""",
    f"CREATE INDEX IF NOT EXISTS ddl_log_seq ON {SCHEMA}.ddl_log (seq)",
    f"CREATE TABLE IF NOT EXISTS {SCHEMA}.ddl_version (one boolean PRIMARY KEY DEFAULT true "
    f"CHECK (one), n bigint NOT NULL)",
    f"INSERT INTO {SCHEMA}.ddl_version (n) VALUES (0) ON CONFLICT (one) DO NOTHING",
    f"""CREATE OR REPLACE FUNCTION {SCHEMA}.log_one(tag text, otype text, ident text, sch text)
    RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    v bigint;
BEGIN
    IF sch = '{SCHEMA}' OR starts_with(sch, 'pg_temp') OR starts_with(sch, 'pg_toast') THEN
        RETURN;
    END IF;
    UPDATE {SCHEMA}.ddl_version SET n = n + 1 RETURNING n INTO v;
    INSERT INTO {SCHEMA}.ddl_log (seq, command_tag, object_type, object_identity, statement)
    VALUES (v, tag, otype, ident, left(current_query(), 4000));
END
$fn$""",
    f"""CREATE OR REPLACE FUNCTION {SCHEMA}.log_ddl() RETURNS event_trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    r record;
BEGIN
    IF TG_EVENT = 'sql_drop' THEN
        FOR r IN SELECT TG_TAG AS tag, d.object_type AS otype, d.object_identity AS ident,
                        d.schema_name AS sch
                 FROM pg_event_trigger_dropped_objects() AS d
                 WHERE d.object_type IN ('table', 'view', 'materialized view', 'foreign table')
        LOOP
            PERFORM {SCHEMA}.log_one(r.tag, r.otype, r.ident, r.sch);
        END LOOP;
    ELSE
        FOR r IN SELECT c.command_tag AS tag, c.object_type AS otype,
                        c.object_identity AS ident, c.schema_name AS sch
                 FROM pg_event_trigger_ddl_commands() AS c
        LOOP
            PERFORM {SCHEMA}.log_one(r.tag, r.otype, r.ident, r.sch);
        END LOOP;
    END IF;
EXCEPTION WHEN OTHERS THEN
    RAISE WARNING 'watchdog_audit: DDL not logged: %', SQLERRM;
END
$fn$""",
    "DROP EVENT TRIGGER IF EXISTS watchdog_audit_ddl",
    f"CREATE EVENT TRIGGER watchdog_audit_ddl ON ddl_command_end "
    f"EXECUTE FUNCTION {SCHEMA}.log_ddl()",
    "DROP EVENT TRIGGER IF EXISTS watchdog_audit_drop",
    f"CREATE EVENT TRIGGER watchdog_audit_drop ON sql_drop EXECUTE FUNCTION {SCHEMA}.log_ddl()",
)

REMOVE: tuple[str, ...] = (
    "DROP EVENT TRIGGER IF EXISTS watchdog_audit_ddl",
    "DROP EVENT TRIGGER IF EXISTS watchdog_audit_drop",
    f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE",
)


def grants(role: str, quote: Any) -> tuple[str, ...]:
    """Statements that let ``role`` (watchdog's login) read the audit log."""
    who = quote(role)
    return (f"GRANT USAGE ON SCHEMA {SCHEMA} TO {who}",
            f"GRANT SELECT ON {SCHEMA}.ddl_log, {SCHEMA}.ddl_version TO {who}")


def apply(engine: sa.Engine, statements: tuple[str, ...]) -> None:
    """Run ``statements`` in one read-write transaction (sessions default to read-only)."""
    with engine.connect() as conn, conn.begin():
        conn.execute(sa.text("SET TRANSACTION READ WRITE"))
        for sql in statements:  # text() escapes the % of LIKE patterns for the driver
            conn.execute(sa.text(sql))
