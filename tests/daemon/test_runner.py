"""The runner end to end on a real DuckDB and Postgres: results, state, alerts, sinks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.helpers import config_from, database, make_events, yaml_block
from watchdog.daemon.runner import Runner, reason_code
from watchdog.errors import TableNotFound, WarehouseUnavailable
from watchdog.models import Status
from watchdog.sinks import create as create_sink
from watchdog.state import Store

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)

TEMPLATE = """\
env: test
alerting: {{recover_after: 1}}
warehouses:
  wh:
{wh}
  down:
    type: postgres
    settings: {{host: 127.0.0.1, port: 1, user: u, password: "s3cret-pw", database: d}}
ownership:
  teams:
    ml: {{datadog: ["@slack-ml", "@pagerduty-ml"]}}
    platform: {{datadog: ["@slack-platform"]}}
  models:
    churn: {{team: ml, reads: [{{table: {schema}.events, columns: [status]}}]}}
sinks: {{}}
monitors:
  - {{id: good, kind: freshness, warehouse: wh, table: {schema}.events, time_column: ts,
      max_age: 1h}}
  - {{id: stale, kind: freshness, warehouse: wh, table: {schema}.events, time_column: ts,
      max_age: 1m, owner: platform}}
  - {{id: missing, kind: freshness, warehouse: wh, table: {schema}.nope, time_column: ts,
      max_age: 1h}}
  - {{id: unreachable, kind: freshness, warehouse: down, table: public.t, time_column: ts,
      max_age: 1h}}
"""


def make_runner(tmp_path: Path, wh: dict, schema: str, clock: list[datetime]) -> Runner:
    config = config_from(tmp_path, TEMPLATE.format(wh=yaml_block(wh, 4), schema=schema))
    sink = create_sink("jsonl", {"path": str(tmp_path / "out.jsonl")})
    return Runner(config, Store.open(f"sqlite:///{tmp_path}/state.db"), [sink],
                  clock=lambda: clock[0])


def emitted(tmp_path: Path) -> list[dict]:
    path = tmp_path / "out.jsonl"
    lines = path.read_text().splitlines() if path.exists() else []
    path.unlink(missing_ok=True)
    return [json.loads(line) for line in lines]


def events(records: list[dict]) -> list[dict]:
    return [r for r in records if r["type"] == "event"]


def test_reason_codes_name_the_error() -> None:
    assert reason_code(TableNotFound("wh", "x")) == "TABLE_NOT_FOUND"
    assert reason_code(WarehouseUnavailable("wh", "x")) == "WAREHOUSE_UNAVAILABLE"
    assert reason_code(RuntimeError("boom")) == "CHECK_CRASHED"


@pytest.mark.parametrize("kind", ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_one_pass_then_dedup_then_recovery(kind: str, tmp_path: Path) -> None:
    clock = [NOW]
    with database(kind, tmp_path) as (engine, wh, schema):
        make_events(engine, schema, [NOW - timedelta(minutes=10)])
        runner = make_runner(tmp_path, wh, schema, clock)
        results = {r.monitor_id: r for r in runner.run_pass()}
        assert {k: r.status for k, r in results.items()} == {
            "good": Status.OK, "stale": Status.FAIL, "missing": Status.ERROR,
            "unreachable": Status.ERROR}
        assert results["missing"].reasons == ("TABLE_NOT_FOUND",)
        assert results["unreachable"].reasons == ("WAREHOUSE_UNAVAILABLE",)
        assert "s3cret-pw" not in results["unreachable"].summary

        records = emitted(tmp_path)
        opened = {e["aggregation_key"]: e for e in events(records)}
        assert set(opened) == {f"watchdog:stale:{schema}.events",
                               f"watchdog:missing:{schema}.nope", "watchdog:unreachable:public.t"}
        stale = opened[f"watchdog:stale:{schema}.events"]
        assert stale["alert_type"] == "error" and stale["title"].startswith("[FAIL] stale:")
        assert "@slack-platform" in stale["text"] and "@pagerduty-ml" in stale["text"]
        assert {"team:ml", "team:platform", "model:churn", "env:test", "monitor:stale",
                f"table:{schema}.events"} <= set(stale["tags"])
        checks = [r for r in records if r["type"] == "service_check"]
        assert {c["name"] for c in checks} == {"watchdog.monitor", "watchdog.up"}
        metric_names = {r["name"] for r in records if r["type"] == "metric"}
        assert {"watchdog.freshness.age_seconds", "watchdog.jobs.success",
                "watchdog.jobs.failure", "watchdog.monitor.duration_seconds"} <= metric_names

        # same problems on the next pass: nothing new is said
        clock[0] = NOW + timedelta(minutes=15)
        runner.run_pass()
        assert events(emitted(tmp_path)) == []

        # fresh data arrives: the stale monitor recovers, once
        make_events(engine, schema, [NOW + timedelta(minutes=29)])
        clock[0] = NOW + timedelta(minutes=30)
        runner.run_pass(["stale"])
        (recovered,) = events(emitted(tmp_path))
        assert recovered["alert_type"] == "success"
        assert recovered["title"].startswith("[RECOVERED] stale:")
        assert recovered["aggregation_key"] == f"watchdog:stale:{schema}.events"
        history = runner.store.metric_history("good", "watchdog.freshness.age_seconds")
        assert [v for _, v in history] == [600.0, 1500.0]
        runner.close()


def test_a_crashing_check_plugin_becomes_an_error_result(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from watchdog import checks

    monkeypatch.setitem(checks.REGISTRY, "crash", "tests.daemon.crashing_check:CrashingCheck")
    with database("duckdb", tmp_path) as (engine, wh, schema):
        make_events(engine, schema, [NOW])
        text = TEMPLATE.format(wh=yaml_block(wh, 4), schema=schema) + (
            "  - {id: boom, kind: crash, warehouse: wh}\n")
        config = config_from(tmp_path, text)
        runner = Runner(config, Store.open(f"sqlite:///{tmp_path}/s.db"), [], clock=lambda: NOW)
        results = {r.monitor_id: r for r in runner.run_pass()}
        runner.close()
    assert results["boom"].status is Status.ERROR
    assert results["boom"].reasons == ("CHECK_CRASHED",)
    assert "ZeroDivisionError" in results["boom"].summary
    assert results["good"].status is Status.OK  # the others still ran


def test_checks_with_their_own_events_bypass_the_lifecycle_but_errors_do_not(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from watchdog import checks

    monkeypatch.setitem(checks.REGISTRY, "announce", "tests.daemon.crashing_check:AnnouncingCheck")
    with database("duckdb", tmp_path) as (_engine, wh, _schema):
        text = ("env: test\nalerting: {recover_after: 1}\nwarehouses:\n  wh:\n"
                + yaml_block(wh, 4) + "sinks: {}\nmonitors:\n"
                "  - {id: s, kind: announce, warehouse: wh, description: ok}\n")
        clock = [NOW]
        sink = create_sink("jsonl", {"path": str(tmp_path / "out.jsonl")})
        runner = Runner(config_from(tmp_path, text), Store.open(f"sqlite:///{tmp_path}/s.db"),
                        [sink], clock=lambda: clock[0])
        for _ in range(2):  # each poll that finds changes says so: no dedup, no recovery
            runner.run_pass()
            (event,) = events(emitted(tmp_path))
            assert event["title"] == "column dropped"
            assert {"change:drop", "monitor:s", "env:test"} <= set(event["tags"])
        failing = config_from(tmp_path, text.replace("description: ok", "description: fail"))
        runner.config = failing
        runner.run_pass()
        (opened,) = events(emitted(tmp_path))
        assert opened["title"].startswith("[ERROR] s:") and opened["alert_type"] == "error"
        runner.run_pass()
        assert events(emitted(tmp_path)) == []
        runner.config = config_from(tmp_path, text)
        runner.run_pass()
        got = [e["title"] for e in events(emitted(tmp_path))]
        assert len(got) == 2 and "column dropped" in got
        assert any(t.startswith("[RECOVERED] s:") for t in got)
        runner.close()


def test_an_error_shares_the_dedup_key_of_the_check_it_replaces(tmp_path: Path) -> None:
    """A table named without its schema: the ERROR result and the later OK result must be
    the same alert, or the recovery would never be sent."""
    with database("duckdb", tmp_path) as (engine, wh, _schema):
        text = ("env: test\nwarehouses:\n  wh:\n" + yaml_block(wh, 4) + "sinks: {}\nmonitors:\n"
                "  - {id: f, kind: freshness, warehouse: wh, table: events, time_column: ts,"
                " max_age: 1h, recover_after: 1}\n")
        make_events(engine, "main", [], table="other")  # the database exists, the table not
        sink = create_sink("jsonl", {"path": str(tmp_path / "out.jsonl")})
        runner = Runner(config_from(tmp_path, text), Store.open(f"sqlite:///{tmp_path}/s.db"),
                        [sink], clock=lambda: NOW)
        (missing,) = runner.run_pass()
        assert missing.reasons == ("TABLE_NOT_FOUND",) and missing.subject == "main.events"
        make_events(engine, "main", [NOW - timedelta(minutes=1)])
        (ok,) = runner.run_pass()
        assert ok.subject == "main.events"
        titles = [e["title"] for e in events(emitted(tmp_path))]
        assert len(titles) == 2 and titles[1].startswith("[RECOVERED] f:")
        runner.close()
