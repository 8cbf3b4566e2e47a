"""``kind: access`` on real Postgres: a grant held through a group role, the membership
revoked (ACCESS_LOST, watchdog.access.missing 1), regranted (OK again); DuckDB says the
kind is unsupported in one line."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.helpers import config_from, database, make_events, yaml_block
from watchdog.daemon.runner import Runner
from watchdog.errors import ConfigError
from watchdog.models import Status
from watchdog.state import Store

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


def _config(tmp_path: Path, wh: dict, schema: str, principal: str) -> str:
    return (
        "env: test\nwarehouses:\n  wh:\n" + yaml_block(wh, 4) + "sinks: {}\n"
        "monitors:\n  - id: grants\n    kind: access\n    warehouse: wh\n"
        f"    principals: [{{name: {principal}, needs: [select]}}]\n"
        f"    tables: [{schema}.events]\n")


@pytest.mark.postgres
def test_lost_membership_fails_and_regained_recovers(tmp_path: Path) -> None:
    with database("postgres", tmp_path) as (engine, wh, schema):
        make_events(engine, schema, [NOW - timedelta(minutes=5)])
        suffix = uuid.uuid4().hex[:8]
        svc, group = f"wd_svc_{suffix}", f"wd_readers_{suffix}"

        def sql(text: str) -> None:
            with engine.begin() as con:
                con.execute(sa.text(text))

        sql(f'CREATE ROLE "{svc}" LOGIN; CREATE ROLE "{group}"')
        try:
            sql(f'GRANT USAGE ON SCHEMA "{schema}" TO "{group}"; '
                f'GRANT SELECT ON "{schema}".events TO "{group}"; GRANT "{group}" TO "{svc}"')
            config = config_from(tmp_path, _config(tmp_path, wh, schema, svc))
            store = Store.open(f"sqlite:///{tmp_path}/s.db")
            runner = Runner(config, store, [], clock=lambda: NOW)
            held = runner.check(config.monitor("grants"))
            assert held.status is Status.OK, held
            sql(f'REVOKE "{group}" FROM "{svc}"')
            lost = runner.check(config.monitor("grants"))
            assert (lost.status, lost.reasons) == (Status.FAIL, ("ACCESS_LOST",))
            assert f"{svc} lost SELECT (no USAGE on schema {schema}) on {schema}.events" \
                in lost.summary  # USAGE came through the group too
            [metric] = [m for m in lost.metrics if m.name == "watchdog.access.missing"]
            assert metric.value == 1 and f"principal:{svc}" in metric.tags
            assert f"table:{schema}.events" in metric.tags
            [finding] = [f for f in lost.findings if f.reason == "ACCESS_LOST"]
            assert dict(finding.group) == {"principal": svc, "table": f"{schema}.events"}
            sql(f'GRANT "{group}" TO "{svc}"')
            assert runner.check(config.monitor("grants")).status is Status.OK
            runner.close()
            store.close()
        finally:
            for role in (svc, group):
                sql(f'DROP OWNED BY "{role}"; DROP ROLE "{role}"')


def test_unsupported_warehouse_fails_config_validation_in_one_line(tmp_path: Path) -> None:
    with database("duckdb", tmp_path) as (engine, wh, schema):
        make_events(engine, schema, [NOW])
        with pytest.raises(ConfigError) as caught:
            config_from(tmp_path, _config(tmp_path, wh, schema, "churn_svc"))
    text = str(caught.value)
    assert "\n" not in text
    assert text.endswith("monitors[0].warehouse: warehouse 'wh' (duckdb) cannot read principals' "
                         "privileges (kind: access) (point it at a warehouse that can (bigquery, "
                         "postgres, redshift, snowflake), or remove the monitor)")
    assert "config.yaml:" in text


@pytest.mark.postgres
def test_a_revoked_grant_opens_an_alert_and_the_regrant_resolves_it(tmp_path: Path) -> None:
    import json

    from watchdog.sinks import create as create_sink

    with database("postgres", tmp_path) as (engine, wh, schema):
        make_events(engine, schema, [NOW])
        svc = f"wd_svc_{uuid.uuid4().hex[:8]}"

        def sql(text: str) -> None:
            with engine.begin() as con:
                con.execute(sa.text(text))

        def events() -> list[dict]:
            path = tmp_path / "out.jsonl"
            lines = path.read_text().splitlines() if path.exists() else []
            path.unlink(missing_ok=True)
            return [r for r in map(json.loads, lines) if r["type"] == "event"]

        sql(f'CREATE ROLE "{svc}" LOGIN; GRANT USAGE ON SCHEMA "{schema}" TO "{svc}"; '
            f'GRANT SELECT ON "{schema}".events TO "{svc}"')
        try:
            config = config_from(tmp_path, _config(tmp_path, wh, schema, svc))
            store = Store.open(f"sqlite:///{tmp_path}/s.db")
            sink = create_sink("jsonl", {"path": str(tmp_path / "out.jsonl")})
            clock = [NOW]
            runner = Runner(config, store, [sink], clock=lambda: clock[0])
            runner.run_pass(["grants"])
            assert events() == []
            sql(f'REVOKE SELECT ON "{schema}".events FROM "{svc}"')
            clock[0] = NOW + timedelta(minutes=5)
            runner.run_pass(["grants"])
            (opened,) = events()
            assert opened["alert_type"] == "error"
            assert svc in opened["text"] and f"{schema}.events" in opened["text"]
            sql(f'GRANT SELECT ON "{schema}".events TO "{svc}"')
            clock[0] = NOW + timedelta(minutes=10)
            runner.run_pass(["grants"])
            assert events() == []  # alerting.recover_after: 2 clean runs in a row
            clock[0] = NOW + timedelta(minutes=15)
            runner.run_pass(["grants"])
            (recovered,) = events()
            assert recovered["alert_type"] == "success"
            runner.close()
            store.close()
        finally:
            sql(f'DROP OWNED BY "{svc}"; DROP ROLE "{svc}"')


@pytest.mark.postgres
def test_an_unknown_principal_is_said_once_whatever_it_needs_on_how_many_tables(
        tmp_path: Path) -> None:
    with database("postgres", tmp_path) as (engine, wh, schema):
        make_events(engine, schema, [NOW - timedelta(minutes=5)])
        with engine.begin() as con:
            con.execute(sa.text(f'CREATE TABLE "{schema}".labels (id INTEGER)'))
        ghost = f"wd_ghost_{uuid.uuid4().hex[:8]}"
        text = _config(tmp_path, wh, schema, ghost).replace(
            "needs: [select]", "needs: [select, insert]").replace(
            f"tables: [{schema}.events]", f"tables: [{schema}.events, {schema}.labels]")
        config = config_from(tmp_path, text)
        with Store.open(f"sqlite:///{tmp_path}/s.db") as store:
            runner = Runner(config, store, [], clock=lambda: NOW)
            result = runner.check(config.monitor("grants"))
            runner.close()
        unknown = [f for f in result.findings if f.reason == "PRINCIPAL_NOT_FOUND"]
        assert [f.message for f in unknown] == [f"{ghost}: no such role or user"]


@pytest.mark.postgres
def test_a_writer_that_lost_insert_is_named_in_the_stale_tables_event(tmp_path: Path) -> None:
    """The writer (needs insert) loses INSERT and a reader loses SELECT: the stale table's
    freshness event, in the same pass, names the writer's loss only (a reader's does not
    stop the writes); the regrant clears what the access monitor kept for the table."""
    import json

    from watchdog.models import ACCESS_LOSSES, writer_runs_key
    from watchdog.sinks import create as create_sink

    with database("postgres", tmp_path) as (engine, wh, schema):
        make_events(engine, schema, [NOW - timedelta(hours=3)])
        suffix = uuid.uuid4().hex[:8]
        etl, reader = f"wd_etl_{suffix}", f"wd_reader_{suffix}"

        def sql(text: str) -> None:
            with engine.begin() as con:
                con.execute(sa.text(text))

        sql(f'CREATE ROLE "{etl}"; CREATE ROLE "{reader}"; '
            f'GRANT USAGE ON SCHEMA "{schema}" TO "{etl}", "{reader}"; '
            f'GRANT SELECT, INSERT ON "{schema}".events TO "{etl}"; '
            f'GRANT SELECT ON "{schema}".events TO "{reader}"')
        try:
            config = config_from(tmp_path, (
                "env: test\nwarehouses:\n  wh:\n" + yaml_block(wh, 4) + "sinks: {}\n"
                "monitors:\n"
                "  - {id: stale, kind: freshness, warehouse: wh, table: " + schema + ".events,"
                " time_column: ts, max_age: 1h}\n"
                "  - {id: grants, kind: access, warehouse: wh, tables: [" + schema + ".events],"
                f" principals: [{{name: {etl}, needs: [select, insert]}},"
                f" {{name: {reader}, needs: [select]}}]}}\n"))
            out = tmp_path / "out.jsonl"
            sql(f'REVOKE INSERT ON "{schema}".events FROM "{etl}"; '
                f'REVOKE SELECT ON "{schema}".events FROM "{reader}"')
            with Store.open(f"sqlite:///{tmp_path}/s.db") as store:
                runner = Runner(config, store, [create_sink("jsonl", {"path": str(out)})],
                                clock=lambda: NOW)
                runner.run_pass(["stale", "grants"])  # the access monitor runs first
                key = writer_runs_key("wh", f"{schema}.events")
                (kept,) = store.get_artifact(ACCESS_LOSSES, key)[2]["grants"]
                assert (kept["principal"], kept["privileges"]) == (etl, ["INSERT"])
                sql(f'GRANT INSERT ON "{schema}".events TO "{etl}"')
                runner.run_pass(["grants"])
                assert store.get_artifact(ACCESS_LOSSES, key)[2] == {"grants": []}
                runner.close()
            rows = [json.loads(line) for line in out.read_text().splitlines()]
            (stale,) = [r for r in rows if r["type"] == "event"
                        and r["title"].startswith("[FAIL] stale")]
            assert f"; {etl} lost INSERT on {schema}.events (" in stale["title"]
            assert reader not in stale["title"] + stale["text"]
        finally:
            sql(f'DROP OWNED BY "{etl}"; DROP ROLE "{etl}"; '
                f'DROP OWNED BY "{reader}"; DROP ROLE "{reader}"')


@pytest.mark.postgres
def test_the_loss_is_kept_under_the_qualified_name_other_monitors_use(tmp_path: Path) -> None:
    """The access monitor names the table without its schema, the freshness monitor with it:
    they are the same table, so the stale table's event still names the writer's loss."""
    import json

    from watchdog.sinks import create as create_sink

    with database("postgres", tmp_path) as (engine, wh, _schema):
        suffix = uuid.uuid4().hex[:8]
        table, etl = f"wd_ev_{suffix}", f"wd_etl_{suffix}"
        make_events(engine, "public", [NOW - timedelta(hours=3)], table=table)

        def sql(text: str) -> None:
            with engine.begin() as con:
                con.execute(sa.text(text))

        sql(f'CREATE ROLE "{etl}"; GRANT USAGE ON SCHEMA public TO "{etl}"; '
            f'GRANT SELECT ON public."{table}" TO "{etl}"')
        try:
            config = config_from(tmp_path, (
                "env: test\nwarehouses:\n  wh:\n" + yaml_block(wh, 4) + "sinks: {}\n"
                "monitors:\n"
                f"  - {{id: stale, kind: freshness, warehouse: wh, table: public.{table},"
                " time_column: ts, max_age: 1h}\n"
                f"  - {{id: grants, kind: access, warehouse: wh, tables: [{table}],"
                f" principals: [{{name: {etl}, needs: [select, insert]}}]}}\n"))
            out = tmp_path / "out.jsonl"
            with Store.open(f"sqlite:///{tmp_path}/s.db") as store:
                runner = Runner(config, store, [create_sink("jsonl", {"path": str(out)})],
                                clock=lambda: NOW)
                runner.run_pass(["stale", "grants"])
                runner.close()
            rows = [json.loads(line) for line in out.read_text().splitlines()]
            (stale,) = [r for r in rows if r["type"] == "event"
                        and r["title"].startswith("[FAIL] stale")]
            assert f"; {etl} lost INSERT on public.{table}" in stale["title"]
            (lost,) = [r for r in rows if r["type"] == "event"
                       and r["title"].startswith("[FAIL] grants")]
            assert f"(access) on `wh` table `public.{table}`." in lost["text"]  # its unit's
        finally:
            sql(f'DROP TABLE public."{table}"; DROP OWNED BY "{etl}"; DROP ROLE "{etl}"')
