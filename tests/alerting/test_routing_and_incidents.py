"""What an on-call receives, end to end through the runner on real databases: a grouped
alert goes to the owners of the group's model only; a failure explained by another
monitor's finding (a stale table, an upstream schema change) joins its incident and pages
nobody new; rows dated in the future are their own finding, never the newest row."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.checks.drift.test_check import create, make_data
from tests.helpers import config_from, database, make_events, yaml_block
from watchdog.daemon.runner import Runner
from watchdog.models import AlertEvent, CheckResult, Status
from watchdog.state import Store

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
KINDS = ["duckdb", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]

OWNERS = """\
ownership:
  teams:
    churn_team: {{datadog: ["@pagerduty-churn"]}}
    fraud_team: {{datadog: ["@pagerduty-fraud"]}}
  models:
    churn: {{team: churn_team, reads: [{{table: {schema}.{table}}}]}}
    fraud: {{team: fraud_team, reads: [{{table: {schema}.{table}}}]}}
"""


def runner_for(tmp_path: Path, wh: dict, schema: str, monitors: str,
               table: str = "events") -> Runner:
    text = ("env: test\nwarehouses:\n  wh:\n" + yaml_block(wh, 4) + "sinks: {}\n"
            + OWNERS.format(schema=schema, table=table) + "daemon: {workers: 1}\n"
            + "monitors:\n" + monitors)
    config = config_from(tmp_path, text)
    return Runner(config, Store.open(f"sqlite:///{tmp_path}/state.db"), [], clock=lambda: NOW)


def mentions(event: AlertEvent) -> set[str]:
    return set(re.findall(r"@pagerduty-\w+", event.text))


def pass_events(runner: Runner) -> list[AlertEvent]:
    """Run every monitor once (in config order), returning the events they produced."""
    out: list[AlertEvent] = []
    for monitor in runner.config.monitors:
        out += runner.process(runner.check(monitor)).events
    return out


FRESH = """\
  - {{id: fresh, kind: freshness, warehouse: wh, table: {schema}.events, time_column: ts,
     max_age: 1h, group_by: [status]}}
"""


@pytest.mark.parametrize("kind", KINDS)
def test_one_models_pipeline_stopping_pages_that_model_only(kind: str, tmp_path: Path) -> None:
    with database(kind, tmp_path) as (engine, wh, schema):
        times = [NOW - timedelta(minutes=5)] * 3 + [NOW - timedelta(hours=3)] * 3 \
            + [NOW + timedelta(hours=2)] * 2  # two churn rows from a writer's skewed clock
        make_events(engine, schema, times, ["churn"] * 3 + ["fraud"] * 3 + ["churn"] * 2)
        runner = runner_for(tmp_path, wh, schema, FRESH.format(schema=schema))
        result = runner.check(runner.config.monitor("fresh"))
        emitted = runner.process(result).events
        runner.close()
    assert result.status is Status.FAIL
    problems = {(f.group, f.reason) for f in result.problems()}
    assert problems == {((("status", "fraud"),), "DATA_STALE"),
                        ((("status", "churn"),), "FUTURE_ROWS")}
    ages = {t: m.value for m in result.metrics if m.name == "watchdog.freshness.age_seconds"
            for t in m.tags if t.startswith("status:")}
    assert ages == {"status:churn": 300.0, "status:fraud": 3 * 3600.0}  # never negative
    stale = [e for e in emitted if "DATA_STALE" in e.text or "3h" in e.title]
    (fraud,) = stale
    assert mentions(fraud) == {"@pagerduty-fraud"} and "status:fraud" in fraud.tags
    assert fraud.aggregation_key.endswith(".events:status=fraud")
    (future,) = [e for e in emitted if "dated after now" in e.title]
    assert "2 rows" in future.title and future.alert_type == "warning"
    assert mentions(future) == {"@pagerduty-churn"}  # churn's writer has the skewed clock


ROWS = """\
  - {{id: rows, kind: freshness, warehouse: wh, table: {schema}.events, time_column: ts,
     max_age: 1d, window: 1h, min_rows: 2}}
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_thin_window_caused_by_a_stale_table_joins_its_incident(
        kind: str, tmp_path: Path) -> None:
    with database(kind, tmp_path) as (engine, wh, schema):
        make_events(engine, schema, [NOW - timedelta(hours=3)] * 6, ["churn", "fraud"] * 3)
        runner = runner_for(tmp_path, wh, schema,
                            FRESH.format(schema=schema) + ROWS.format(schema=schema))
        first = pass_events(runner)
        runner.close()
    stale = [e for e in first if e.title.startswith("[FAIL] fresh")]
    assert {e.aggregation_key.rsplit(":", 1)[1] for e in stale} == {"status=churn",
                                                                     "status=fraud"}
    (thin,) = [e for e in first if e.title.startswith("[FAIL] rows")]
    assert thin.title.endswith("(caused by a stale table)")
    assert thin.text.startswith("**Caused by `") and "going stale" in thin.text
    assert thin.aggregation_key in {e.aggregation_key for e in stale}
    assert mentions(thin) == set()  # both owning teams were paged by the causes already
    assert "were notified with its cause" in thin.text and "caused_by:fresh" in thin.tags


@pytest.mark.parametrize("kind", KINDS)
def test_drift_on_a_renamed_column_is_part_of_the_schema_change_incident(
        kind: str, tmp_path: Path) -> None:
    monitors = (
        "  - {{id: sch, kind: schema, warehouse: wh, tables: [{s}.current]}}\n"
        "  - {{id: drift, kind: drift, warehouse: wh, table: {s}.current, time_column: ts,\n"
        "     window: 1d, reference: {{table: {s}.reference}}, features: [a, b, plan],\n"
        "     early_window: null}}\n")
    with database(kind, tmp_path) as (engine, wh, schema):
        create(engine, schema, "reference", make_data(1, 3000, False))
        create(engine, schema, "current", make_data(1, 1500, False))  # no drift
        runner = runner_for(tmp_path, wh, schema, monitors.format(s=schema), table="current")
        assert pass_events(runner) == []  # baseline: schema snapshot, drift profile
        with engine.begin() as con:
            con.execute(sa.text(f'ALTER TABLE "{schema}"."current" RENAME COLUMN b TO b_v2'))
        runner.warehouse("wh").close()
        emitted = pass_events(runner)
        runner.close()
    (change,) = [e for e in emitted if "Schema change" in e.title]
    (drift,) = [e for e in emitted if e.title.startswith("[FAIL] drift")]
    assert "COLUMN_MISSING" in drift.text
    assert drift.aggregation_key == change.aggregation_key  # one incident in Datadog
    assert drift.text.startswith("**Caused by the schema change** on ")
    assert f"“{change.title}”" in drift.text
    assert mentions(change) == {"@pagerduty-churn", "@pagerduty-fraud"}
    assert mentions(drift) == set()  # nobody new: both teams heard of it with the change


def test_a_sustained_drop_of_a_stale_model_is_explained_by_it_and_no_other() -> None:
    """The CUSUM's finding (a drop summed over windows) is starvation like a thin window:
    in the hourly replay an outage's sustained-drop finding paged the team a second time
    because the stale table did not explain it."""
    from watchdog.alerting.incidents import explaining
    from watchdog.models import Cause, Finding

    def stale(model: str) -> Cause:
        return Cause(kind="stale", monitor_id="fresh", warehouse="wh", table="main.p",
                     at=NOW - timedelta(hours=3), expires=NOW + timedelta(hours=45),
                     title=f"[FAIL] fresh: model={model}", aggregation_key=f"k:{model}",
                     group=(("model", model),))

    group = (("model", "fraud"),)

    def result(*reasons: str) -> CheckResult:
        return CheckResult(monitor_id="volume", kind="volume", status=Status.FAIL,
                           summary="drop", findings=tuple(
                               Finding(reason=r, message=r, status=Status.FAIL, group=group)
                               for r in reasons))

    sustained = result("VOLUME_SUSTAINED_DROP", "VOLUME_BELOW_BASELINE")
    assert explaining(sustained, group, [stale("fraud")], NOW) == [stale("fraud")]
    assert explaining(sustained, group, [stale("churn")], NOW) == []  # another model's
    assert explaining(result("VOLUME_SPIKE"), group, [stale("fraud")], NOW) == []
