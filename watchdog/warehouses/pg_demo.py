"""The statements of ``watchdog demo --postgres URL``: a lost grant, staged in a Postgres.

DuckDB (the embedded demo) has no roles or privileges, so the access monitor is shown
against a Postgres the user names: a schema and a table of the demo's own, a role that
needs SELECT on it, the REVOKE a careless migration would run, and the teardown that drops
all of it. Every name is unique per run (``wd_demo_<hex>``) and quoted by the adapter.
"""

from __future__ import annotations

from collections.abc import Callable

Quote = Callable[[str], str]


def setup(quote: Quote, schema: str, role: str) -> tuple[str, ...]:
    s, r = quote(schema), quote(role)
    return (f"CREATE SCHEMA {s}",
            f"CREATE TABLE {s}.features (customer_id BIGINT, monthly_spend DOUBLE PRECISION)",
            f"CREATE ROLE {r}",
            f"GRANT USAGE ON SCHEMA {s} TO {r}",
            f"GRANT SELECT ON {s}.features TO {r}")


def revoke(quote: Quote, schema: str, role: str) -> tuple[str, ...]:
    return (f"REVOKE SELECT ON {quote(schema)}.features FROM {quote(role)}",)


def regrant(quote: Quote, schema: str, role: str) -> tuple[str, ...]:
    return (f"GRANT SELECT ON {quote(schema)}.features TO {quote(role)}",)


def teardown(quote: Quote, schema: str, role: str) -> tuple[str, ...]:
    # the schema takes the table and every grant on both with it; the role then owns nothing
    return (f"DROP SCHEMA IF EXISTS {quote(schema)} CASCADE",
            f"DROP ROLE IF EXISTS {quote(role)}")
