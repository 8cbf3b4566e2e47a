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


def test_a_lost_grant_is_an_event_naming_the_model_and_the_logged_revoke(
        seed: DbApiSeeder, tmp_path: Path) -> None:
    """Through the check and the runner: the model's principal (a user) loses SELECT when
    the grant to its role is revoked; QUERY_HISTORY's REVOKE (query type REVOKE, Snowflake's
    ``FROM ROLE`` and fully qualified, upper-case names) says who ran it."""
    import json
    from datetime import UTC, datetime, timedelta

    from tests.helpers import config_from, yaml_block
    from watchdog.daemon.runner import Runner
    from watchdog.sinks import create as create_sink
    from watchdog.state import Store

    database = seed.settings["database"]
    _grant(seed, "OWNERSHIP", "TABLE", "FEATURES", "LOADER", catalog=database, schema="wd_test")
    _grant(seed, "USAGE", "DATABASE", database, "CHURN_ROLE")
    _grant(seed, "USAGE", "SCHEMA", "wd_test", "CHURN_ROLE", catalog=database)
    _grant(seed, "SELECT", "TABLE", "FEATURES", "CHURN_ROLE", catalog=database, schema="wd_test")
    seed.execute("INSERT INTO SNOWFLAKE.ACCOUNT_USAGE.GRANTS_TO_USERS (role, granted_to,"
                 " grantee_name) VALUES ('CHURN_ROLE', 'USER', 'CHURN_SVC')")
    seed.execute("DELETE FROM SNOWFLAKE.ACCOUNT_USAGE.QUERY_HISTORY")
    wh = {"type": "snowflake", "settings": dict(seed.settings)}
    text = ("env: test\nwarehouses:\n  sf:\n" + yaml_block(wh, 4) + "sinks: {}\n"
            "ownership:\n  teams:\n    churn-ml: {datadog: ['@slack-churn']}\n"
            "  models:\n    churn:\n      team: churn-ml\n"
            "      reads: [{table: wd_test.features}]\n"
            "      principals: [{name: churn_svc, needs: [select]}]\n"
            "monitors:\n  - {id: grants, kind: access, warehouse: sf}\n")
    config = config_from(tmp_path, text)
    out = tmp_path / "out.jsonl"
    now = datetime.now(UTC)
    with Store.open(f"sqlite:///{tmp_path}/s.db") as store:
        runner = Runner(config, store, [create_sink("jsonl", {"path": str(out)})],
                        clock=lambda: now)
        runner.run_pass(["grants"])
        _revoke(seed, "SELECT", "FEATURES", "CHURN_ROLE")
        seed.execute(
            "INSERT INTO SNOWFLAKE.ACCOUNT_USAGE.QUERY_HISTORY (query_id, query_text, query_type,"
            " user_name, execution_status, start_time) VALUES ('q1', :t, 'REVOKE', 'MALLORY',"
            " 'SUCCESS', :at)",
            {"t": f'REVOKE SELECT ON TABLE {database}."wd_test".FEATURES FROM ROLE churn_role',
             "at": (now - timedelta(minutes=1)).isoformat(sep=" ")})
        runner.run_pass(["grants"])
        runner.close()
    events = [r for r in map(json.loads, out.read_text().splitlines()) if r["type"] == "event"]
    (lost,) = events
    assert lost["alert_type"] == "error" and "model:churn" in lost["tags"]
    assert ("churn_svc lost SELECT on wd_test.features, which model churn reads (owners: "
            "churn-ml @slack-churn); revoked probably by MALLORY at ") in lost["text"]
    assert 'FROM ROLE churn_role' in lost["text"]


def test_a_revoke_that_lands_late_in_query_history_is_one_follow_up_event(
        seed: DbApiSeeder, tmp_path: Path) -> None:
    """ACCOUNT_USAGE.QUERY_HISTORY lags up to hours: the loss is seen first with no REVOKE to
    put it down to. Once the row lands, the open alert gets one update naming the revoker,
    and the polls after that say nothing more (no page per poll)."""
    import json
    from datetime import UTC, datetime, timedelta

    from tests.helpers import config_from, yaml_block
    from watchdog.daemon.runner import Runner
    from watchdog.sinks import create as create_sink
    from watchdog.state import Store

    database = seed.settings["database"]
    _grant(seed, "OWNERSHIP", "TABLE", "FEATURES", "LOADER", catalog=database, schema="wd_test")
    _grant(seed, "USAGE", "DATABASE", database, "CHURN_SVC")
    _grant(seed, "USAGE", "SCHEMA", "wd_test", "CHURN_SVC", catalog=database)
    _grant(seed, "SELECT", "TABLE", "FEATURES", "CHURN_SVC", catalog=database, schema="wd_test")
    seed.execute("DELETE FROM SNOWFLAKE.ACCOUNT_USAGE.QUERY_HISTORY")
    wh = {"type": "snowflake", "settings": dict(seed.settings)}
    text = ("env: test\nwarehouses:\n  sf:\n" + yaml_block(wh, 4) + "sinks: {}\n"
            "monitors:\n  - {id: grants, kind: access, warehouse: sf,"
            " principals: [{name: churn_svc, needs: [select]}], tables: [wd_test.features]}\n")
    config = config_from(tmp_path, text)
    out = tmp_path / "out.jsonl"
    now = datetime.now(UTC)

    def events() -> list[dict[str, object]]:
        rows = [json.loads(line) for line in out.read_text().splitlines()]
        out.write_text("")
        return [r for r in rows if r["type"] == "event"]

    with Store.open(f"sqlite:///{tmp_path}/s.db") as store:
        runner = Runner(config, store, [create_sink("jsonl", {"path": str(out)})],
                        clock=lambda: now)
        _revoke(seed, "SELECT", "FEATURES", "CHURN_SVC")
        runner.run_pass(["grants"])
        (first,) = events()
        assert first["title"].startswith("[FAIL]")  # type: ignore[attr-defined]
        assert "who revoked it is unknown: no matching REVOKE" in str(first["text"])
        runner.run_pass(["grants"])
        assert events() == []  # the same loss, still unattributed: nothing new to say
        seed.execute(
            "INSERT INTO SNOWFLAKE.ACCOUNT_USAGE.QUERY_HISTORY (query_id, query_text, query_type,"
            " user_name, execution_status, start_time) VALUES ('q1', :t, 'REVOKE', 'MALLORY',"
            " 'SUCCESS', :at)",
            {"t": f"REVOKE SELECT ON TABLE {database}.wd_test.features FROM ROLE churn_svc",
             "at": (now - timedelta(hours=2)).isoformat(sep=" ")})
        runner.run_pass(["grants"])
        (update,) = events()
        assert "Still failing, changed" in str(update["text"])
        assert "revoked by MALLORY at " in str(update["text"])
        assert update["aggregation_key"] == first["aggregation_key"]
        runner.run_pass(["grants"])
        runner.run_pass(["grants"])
        assert events() == []
        runner.close()
