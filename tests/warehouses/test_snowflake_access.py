"""Principals' privileges on Snowflake through fakesnow, which has no ACCOUNT_USAGE: the
grants views are stand-in tables with Snowflake's documented columns
(``standins/fakesnow_backend.ACCOUNT_USAGE``), filled by the test. A user holds SELECT
through a role granted to a role; a revoked grant (DELETED_ON set, as the view shows it) or
a revoked role is a loss; a name no grant knows is an unknown principal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.warehouses.standins.dbapi_seeder import DbApiSeeder
from tests.warehouses.standins.fakesnow_backend import snowflake_backend
from watchdog.models import TableRef

FEATURES = TableRef(schema="wd_test", name="features")


@pytest.fixture
def seed(tmp_path: Path) -> Iterator[DbApiSeeder]:
    with snowflake_backend(tmp_path) as seeder:
        seeder.execute("CREATE TABLE {schema}.features (a INTEGER)")
        seeder.execute("DELETE FROM SNOWFLAKE.ACCOUNT_USAGE.GRANTS_TO_ROLES")
        seeder.execute("DELETE FROM SNOWFLAKE.ACCOUNT_USAGE.GRANTS_TO_USERS")
        yield seeder


def _grant(seed: DbApiSeeder, privilege: str, on: str, name: str, grantee: str,
           catalog: str | None = None, schema: str | None = None) -> None:
    seed.execute(
        "INSERT INTO SNOWFLAKE.ACCOUNT_USAGE.GRANTS_TO_ROLES (privilege, granted_on, name,"
        " table_catalog, table_schema, granted_to, grantee_name) VALUES (:p, :o, :n, :c, :s,"
        " 'ROLE', :g)", {"p": privilege, "o": on, "n": name, "c": catalog, "s": schema,
                         "g": grantee})


def _revoke(seed: DbApiSeeder, privilege: str, name: str, grantee: str) -> None:
    seed.execute(
        "UPDATE SNOWFLAKE.ACCOUNT_USAGE.GRANTS_TO_ROLES SET deleted_on = CURRENT_TIMESTAMP()"
        " WHERE privilege = :p AND name = :n AND grantee_name = :g",
        {"p": privilege, "n": name, "g": grantee})


def _held(seed: DbApiSeeder, principal: str) -> dict[str, tuple[bool | None, bool]]:
    with seed.connect() as wh:
        assert wh.SUPPORTS_ACCESS_CHECK and not wh.SUPPORTS_OWN_ACCESS
        grants = wh.access([principal], [FEATURES], ["select", "insert"])
    return {g.privilege: (g.granted, g.schema_usage) for g in grants}


def test_a_user_holds_select_through_roles_until_a_grant_or_a_role_is_revoked(
        seed: DbApiSeeder) -> None:
    database = seed.settings["database"]
    # every object has an owner, so an OWNERSHIP row: the table exists whatever is revoked
    _grant(seed, "OWNERSHIP", "TABLE", "FEATURES", "LOADER", catalog=database, schema="wd_test")
    _grant(seed, "USAGE", "DATABASE", database, "ANALYST")
    _grant(seed, "USAGE", "SCHEMA", "wd_test", "ANALYST", catalog=database)
    _grant(seed, "SELECT", "TABLE", "FEATURES", "ANALYST", catalog=database, schema="wd_test")
    _grant(seed, "USAGE", "ROLE", "ANALYST", "CHURN_ROLE")
    seed.execute("INSERT INTO SNOWFLAKE.ACCOUNT_USAGE.GRANTS_TO_USERS (role, granted_to,"
                 " grantee_name) VALUES ('CHURN_ROLE', 'USER', 'CHURN_SVC')")
    assert _held(seed, "churn_svc") == {"select": (True, True), "insert": (False, True)}
    assert _held(seed, "ghost_svc") == {"select": (None, False), "insert": (None, False)}

    _revoke(seed, "SELECT", "FEATURES", "ANALYST")
    assert _held(seed, "churn_svc")["select"] == (False, True)
    _grant(seed, "SELECT", "TABLE", "FEATURES", "ANALYST", catalog=database, schema="wd_test")
    assert _held(seed, "churn_svc")["select"] == (True, True)

    _revoke(seed, "USAGE", "ANALYST", "CHURN_ROLE")  # REVOKE ROLE analyst FROM ROLE churn_role
    assert _held(seed, "churn_svc") == {"select": (False, False), "insert": (False, False)}


def test_ownership_counts_as_every_privilege(seed: DbApiSeeder) -> None:
    database = seed.settings["database"]
    _grant(seed, "OWNERSHIP", "DATABASE", database, "LOADER")
    _grant(seed, "OWNERSHIP", "SCHEMA", "wd_test", "LOADER", catalog=database)
    _grant(seed, "OWNERSHIP", "TABLE", "FEATURES", "LOADER", catalog=database, schema="wd_test")
    assert _held(seed, "LOADER") == {"select": (True, True), "insert": (True, True)}
