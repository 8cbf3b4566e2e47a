"""``ownership.models.<m>.principals`` on real Postgres, in a database of its own with the
audit trigger installed (never in the shared ``test`` database): a `kind: access` monitor
without principals checks each model's principals on the tables it reads; a REVOKE is an
``error`` event naming the principal, table, model and owners, routed to that model's team
only, and saying who revoked it with which statement; a role membership revoked (which
Postgres does not log) is said to be unattributed; a regrant recovers the alert."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.helpers import config_from
from watchdog.daemon.runner import Runner
from watchdog.errors import ConfigError
from watchdog.models import Status
from watchdog.sinks import create as create_sink
from watchdog.state import Store
from watchdog.warehouses import create

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


@contextmanager
def _own_database() -> Iterator[tuple[sa.Engine, str, str]]:
    """A database of its own (the audit trigger is per database), and a name suffix for
    roles (roles are cluster-wide: unique names, dropped afterwards)."""
    from tests.conftest import POSTGRES_URL

    suffix = uuid.uuid4().hex[:8]
    name = f"access_wd_{suffix}"
    base = POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://")
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as con:
        con.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = base.rsplit("/", 1)[0] + f"/{name}"
    engine = sa.create_engine(url)
    try:
        yield engine, url.replace("postgresql+psycopg://", "postgresql://"), suffix
    finally:
        engine.dispose()
        with admin.connect() as con:
            con.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            for role in ("svc", "reader", "group"):
                con.execute(sa.text(f'DROP ROLE IF EXISTS "access_{role}_{suffix}"'))
        admin.dispose()


def _config(url: str, svc: str, reader: str) -> str:
    return f"""
        env: test
        warehouses:
          pg: {{type: postgres, settings: {{url: "{url}"}}}}
        sinks: {{}}
        ownership:
          teams:
            churn-ml: {{datadog: ["@slack-churn"]}}
            growth-ml: {{datadog: ["@slack-growth"]}}
          models:
            churn:
              team: churn-ml
              reads: [{{table: app.features}}]
              principals: [{{name: {svc}, needs: [select]}}]
            growth:
              team: growth-ml
              reads: [{{table: app.features}}, {{table: app.labels}}]
              principals: [{{name: {reader}, needs: [select]}}]
        monitors:
          - id: grants
            kind: access
            warehouse: pg
            recover_after: 1
        """


@pytest.mark.postgres
def test_model_principals_lost_attributed_routed_and_recovered(tmp_path: Path) -> None:
    with _own_database() as (engine, url, suffix):
        svc, reader, group = (f"access_{r}_{suffix}" for r in ("svc", "reader", "group"))

        def sql(*statements: str) -> None:
            with engine.begin() as con:
                for s in statements:
                    con.execute(sa.text(s))

        adapter = create("pg", "postgres", {"url": url})
        adapter.setup_audit()
        adapter.close()
        sql("CREATE SCHEMA app", "CREATE TABLE app.features (a INTEGER)",
            "CREATE TABLE app.labels (a INTEGER)",
            f'CREATE ROLE "{svc}"', f'CREATE ROLE "{reader}"', f'CREATE ROLE "{group}"',
            f'GRANT USAGE ON SCHEMA app TO "{svc}", "{group}"',
            f'GRANT SELECT ON app.features TO "{svc}"',
            f'GRANT SELECT ON ALL TABLES IN SCHEMA app TO "{group}"',
            f'GRANT "{group}" TO "{reader}"')
        config = config_from(tmp_path, _config(url, svc, reader))
        out = tmp_path / "out.jsonl"

        def events() -> list[dict]:
            lines = out.read_text().splitlines() if out.exists() else []
            out.unlink(missing_ok=True)
            return [r for r in map(json.loads, lines) if r["type"] == "event"]

        clock = [NOW]
        with Store.open(f"sqlite:///{tmp_path}/s.db") as store:
            runner = Runner(config, store, [create_sink("jsonl", {"path": str(out)})],
                            clock=lambda: clock[0])

            def poll() -> list[dict]:
                clock[0] += timedelta(minutes=5)
                runner.run_pass(["grants"])
                return events()

            assert poll() == []
            result = runner.check(config.monitor("grants"))
            assert result.status is Status.OK
            assert result.summary == "3 of 3 principal x table pair(s) keep their access"

            sql(f'REVOKE SELECT ON app.features FROM "{svc}"')
            (lost,) = poll()
            assert lost["alert_type"] == "error"
            assert f"{svc} lost SELECT on app.features, which model churn reads (owners: " \
                   "churn-ml @slack-churn); revoked by postgres at " in lost["text"]
            assert f'REVOKE SELECT ON app.features FROM "{svc}"' in lost["text"]
            assert "@slack-churn" in lost["text"] and "@slack-growth" not in lost["text"]
            tags = set(lost["tags"])
            assert {"model:churn", "team:churn-ml"} <= tags
            assert not {"model:growth", "team:growth-ml"} & tags

            # the reader holds SELECT through a group role: revoking the membership is not
            # an event-trigger command, so nothing in the log names it
            sql(f'REVOKE "{group}" FROM "{reader}"')
            opened = poll()
            assert sorted(e["title"] for e in opened) == sorted(
                f"[FAIL] grants: model=growth,principal={reader},table=app.{t}: {reader} lost "
                f"SELECT (no USAGE on schema app) on app.{t}, which model growth reads "
                f"(owners: growth-ml @slack-growth); who revoked it is unknown: no matching "
                "REVOKE or DROP in the audit log (a role membership change, ALTER/DROP ROLE, "
                "or a change the log has not (yet) got)" for t in ("features", "labels"))
            assert all("@slack-churn" not in e["text"] for e in opened)

            sql(f'GRANT "{group}" TO "{reader}"')
            assert sorted(e["alert_type"] for e in poll()) == ["success"] * 2

            # a REVOKE from the group role the reader inherits from is the probable cause
            sql(f'REVOKE SELECT ON ALL TABLES IN SCHEMA app FROM "{group}"')
            changed = poll()
            assert {e["title"].split(": ", 2)[1] for e in changed} == {
                f"model=growth,principal={reader},table=app.{t}" for t in ("features", "labels")}
            assert all("revoked probably by postgres at" in e["text"] and
                       f'REVOKE SELECT ON ALL TABLES IN SCHEMA app FROM "{group}"' in e["text"]
                       for e in changed)

            sql(f'GRANT SELECT ON app.features TO "{svc}"',
                f'GRANT SELECT ON ALL TABLES IN SCHEMA app TO "{group}"')
            recovered = poll()
            assert sorted(e["alert_type"] for e in recovered) == ["success"] * 3
            runner.close()


def test_tables_without_principals_is_a_config_error(tmp_path: Path) -> None:
    text = """
        warehouses: {pg: {type: postgres, settings: {host: localhost, database: x}}}
        monitors:
          - {id: grants, kind: access, warehouse: pg, tables: [app.features]}
        """
    with pytest.raises(ConfigError) as caught:
        config_from(tmp_path, text)
    assert "monitors[0]: tables without principals: list both, or neither to check the " \
           "principals under ownership.models.<m>.principals" in str(caught.value)


@pytest.mark.postgres
def test_demo_postgres_explains_the_stale_table_by_the_revoke_and_the_failed_run(
        tmp_path: Path) -> None:
    """``watchdog demo --postgres URL`` in a throwaway database: it installs the audit
    trigger there, so the REVOKE is put down to the login that ran it; the stale table's
    event says, in one sentence, that the writer lost INSERT (by whom) and that the dbt run
    failed; the grant given back recovers all three monitors; the schema, the role and the
    trigger are gone at the end, and the database is left as it was."""
    import re

    from tests.conftest import POSTGRES_URL
    from tests.test_cli import run

    name = f"access_demo_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://"),
                             isolation_level="AUTOCOMMIT")
    url = sa.make_url(POSTGRES_URL).set(database=name)
    login = url.username or "postgres"
    with admin.connect() as con:
        con.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        proc = run("demo", "--postgres", url.render_as_string(hide_password=False),
                   cwd=tmp_path)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        out = proc.stdout
        assert "Installed the DDL audit trigger in this database" in out
        steps = [line.split(":")[0] for line in out.splitlines()
                 if line.startswith(("OK:", "FAIL:"))]
        assert steps == ["OK"] * 3 + ["FAIL"] * 3 + ["OK"] * 3
        (schema,) = set(re.findall(r"\b(wd_demo_[0-9a-f]{8})\.features", out))
        role = f"{schema}_etl_svc"
        (stale,) = [line for line in out.splitlines()
                    if line.startswith("event (error): [FAIL] features_freshness")]
        sentence = re.search(
            rf"; {role} lost INSERT on {schema}\.features \(REVOKE by {login} at "
            r"(\d\d:\d\d)\) and dbt model features failed at (\d\d:\d\d)$", stale)
        assert sentence is not None, stale
        assert f"**Upstream:** {role} lost INSERT on {schema}.features (REVOKE by {login}" in out
        assert (f"{role} lost INSERT on {schema}.features, which model churn_model reads "
                f"(owners: churn-ml @slack-churn-ml-alerts); revoked by {login} at ") in out
        assert f'REVOKE INSERT ON "{schema}".features FROM "{role}"' in out
        for monitor in ("model_grants", "features_pipeline", "features_freshness"):
            assert f"event (success): [RECOVERED] {monitor}" in out
        db = sa.create_engine(str(url).replace("postgresql://", "postgresql+psycopg://"))
        try:
            with db.connect() as con:
                left = con.execute(sa.text(
                    "SELECT (SELECT count(*) FROM pg_namespace WHERE nspname IN (:s,"
                    " 'watchdog_audit')) + (SELECT count(*) FROM pg_roles WHERE rolname = :r)"
                    " + (SELECT count(*) FROM pg_event_trigger)"), {"s": schema, "r": role}
                ).scalar()
        finally:
            db.dispose()
        assert left == 0
    finally:
        with admin.connect() as con:
            con.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
