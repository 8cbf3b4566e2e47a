"""The statements of ``watchdog demo --postgres URL``: a lost grant and a stale table,
staged in a Postgres.

DuckDB (the embedded demo) has no roles or privileges, so the access monitor is shown
against a Postgres the user names: a schema and a ``features`` table of the demo's own
(its rows written hourly until an hour ago), the role its dbt job writes it as, the REVOKE
a careless migration would run, the grant given back with a fresh batch of rows, and the
teardown that drops all of it. Every name is unique per run (``wd_demo_<hex>``) and quoted
by the adapter; the times are relative to the server's ``now()``.
"""

from __future__ import annotations

from collections.abc import Callable

Quote = Callable[[str], str]


def setup(quote: Quote, schema: str, role: str) -> tuple[str, ...]:
    s, r = quote(schema), quote(role)
    return (f"CREATE SCHEMA {s}",
            f"CREATE TABLE {s}.features (customer_id BIGINT, monthly_spend DOUBLE PRECISION,"
            " updated_at TIMESTAMPTZ)",
            f"INSERT INTO {s}.features SELECT g, 20 + g % 80, now() - INTERVAL '1 hour'"
            " - (g % 24) * INTERVAL '1 hour' FROM generate_series(1, 480) AS g",
            f"CREATE ROLE {r}",
            f"GRANT USAGE ON SCHEMA {s} TO {r}",
            f"GRANT SELECT, INSERT ON {s}.features TO {r}")


def revoke(quote: Quote, schema: str, role: str) -> tuple[str, ...]:
    return (f"REVOKE INSERT ON {quote(schema)}.features FROM {quote(role)}",)


def regrant(quote: Quote, schema: str, role: str, minutes_on: int) -> tuple[str, ...]:
    """The grant back, and the rows the next dbt run writes ``minutes_on`` from now."""
    s = quote(schema)
    return (f"GRANT INSERT ON {s}.features TO {quote(role)}",
            f"INSERT INTO {s}.features SELECT g, 20 + g % 80, now() + INTERVAL"
            f" '{int(minutes_on)} minutes' FROM generate_series(1, 480) AS g")


def teardown(quote: Quote, schema: str, role: str) -> tuple[str, ...]:
    # the schema takes the table and every grant on both with it; the role then owns nothing
    return (f"DROP SCHEMA IF EXISTS {quote(schema)} CASCADE",
            f"DROP ROLE IF EXISTS {quote(role)}")
