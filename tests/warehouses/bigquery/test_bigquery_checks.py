"""The schema, contract and volume monitors end to end through the runner, on BigQuery (drift:
``test_bigquery_drift.py``, DATETIME and DATE time columns: ``test_bigquery_times.py``).

The loopback stand-in answers by SQL text, so each test records the responses its check
needs under the SQL the adapter renders for that check (``wh.render``: the golden form), with
the parameters the check must bind, and asserts what the check makes of those recorded rows.
"""

from __future__ import annotations

import json
import statistics
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.warehouses.bigquery.helpers import (
    COLUMN_SCHEMA,
    Fake,
    columns_rows,
    names,
    record,
    runner_for,
    sent,
    setup,
)
from watchdog.contracts.compile import plan
from watchdog.models import Predicate, Status, TableRef

NOW = datetime(2026, 3, 4, 12, 20, tzinfo=UTC)  # a Wednesday; volume judges 11:00-12:00
HOUR = timedelta(hours=1)
EVENTS = TableRef(schema="analytics", name="events")
#: The statement types the audit log reads (all of BigQuery's DDL on tables and views).
DDL_TYPES = ["CREATE_TABLE", "CREATE_TABLE_AS_SELECT", "CREATE_VIEW", "CREATE_MATERIALIZED_VIEW",
             "CREATE_EXTERNAL_TABLE", "CREATE_SNAPSHOT_TABLE", "DROP_TABLE", "DROP_VIEW",
             "DROP_MATERIALIZED_VIEW", "DROP_EXTERNAL_TABLE", "DROP_SNAPSHOT_TABLE",
             "ALTER_TABLE", "ALTER_VIEW", "ALTER_MATERIALIZED_VIEW"]
AUDIT_SCHEMA = [["seq", "INTEGER"], ["end_time", "TIMESTAMP"], ["user_email", "STRING"],
                ["statement_type", "STRING"], ["dataset_id", "STRING"], ["table_id", "STRING"],
                ["query", "STRING"]]


# -- schema ------------------------------------------------------------------------------


def test_schema_change_through_the_runner(fake: Fake,
                                          tmp_path: Path) -> None:
    server = fake[0]
    wh, config = setup(fake, tmp_path, "- {id: sc, kind: schema, warehouse: bq, "
                                       "tables: [analytics.events]}\n")
    version = wh.render("schema_version").sql
    prints = wh.render("schema_fingerprints", patterns=[EVENTS]).sql
    columns = wh.render("columns", tables=[EVENTS]).sql
    audit = wh.render("audit_events", since=0).sql
    fp_schema = [["table_schema", "STRING"], ["table_name", "STRING"],
                 ["fingerprint", "STRING"]]
    before = [("id", "INT64", False), ("ts", "TIMESTAMP", True), ("score", "FLOAT64", True)]
    after = [("id", "INT64", False), ("ts", "TIMESTAMP", True), ("score", "FLOAT64", True),
             ("plan", "STRING", True)]

    def poll(token: str, fingerprint: str, cols: list[tuple[str, str, bool]],
             audit_rows: list[list[Any]], since: int) -> tuple[Any, list[dict[str, Any]]]:
        record(server, version, [["token", "STRING"]], [[token]], {})
        record(server, prints, fp_schema, [["analytics", "events", fingerprint]],
               names("events"))
        record(server, columns, COLUMN_SCHEMA, columns_rows(EVENTS, cols), names("events"))
        record(server, audit, AUDIT_SCHEMA, audit_rows, {
            "since": ["INT64", str(since)], "limit": ["INT64", "5000"],
            "statement_types": ["ARRAY<STRING>", DDL_TYPES]})
        runner = runner_for(config, tmp_path, NOW)
        try:
            (result,) = runner.run_pass()
        finally:
            runner.close()
        out = tmp_path / "out.jsonl"
        records = [json.loads(x) for x in out.read_text().splitlines()]
        out.unlink()
        return result, [x for x in records if x["type"] == "event"]

    first, events = poll("v1", "fp1", before, [], since=0)
    assert first.status is Status.OK and events == [], first
    assert "baseline of 1 table" in first.summary
    at = int(datetime(2026, 3, 4, 12, 5, tzinfo=UTC).timestamp() * 1_000_000)
    alter = "ALTER TABLE analytics.events ADD COLUMN plan STRING"
    result, events = poll("v2", "fp2", after, [[at, at, "alice@example.com", "ALTER_TABLE",
                                                 "analytics", "events", alter]], since=0)
    assert result.status is Status.OK and "additive changes on 1" in result.summary
    (event,) = events
    assert event["alert_type"] == "info"
    assert event["aggregation_key"] == "watchdog:schema:sc:analytics.events"
    assert "change:column_added" in event["tags"]
    assert "| column added | plan | - | STRING | - |" in event["text"]
    assert f"`alice@example.com` at 2026-03-04 12:05:00 UTC: `{alter}`" in event["text"]
    metrics = [m for m in result.metrics if m.name == "watchdog.schema.changes"]
    assert {(t, m.value) for m in metrics for t in m.tags if t.startswith("change:")} == {
        ("change:column_added", 1)}
    # the probe did not move: the next poll reads no metadata (nor the audit log, whose
    # cursor is now the ALTER's)
    n = len(sent(server))
    again, events = poll("v2", "fp2", after, [], since=at)
    assert events == [] and again.status is Status.OK
    assert "no DDL since the last poll" in again.summary
    assert sent(server)[n:] == [version]


# -- volume ------------------------------------------------------------------------------

VOLUME = """\
- id: vol
  kind: volume
  warehouse: bq
  table: analytics.events
  time_column: ts
  success: {column: status, value: ok}
  group_by: [model]
  baseline_weeks: 3
  step: 1h  # aligned hours, as recorded (windows slide by a quarter by default)
"""


def test_volume_drop_through_the_runner(fake: Fake, tmp_path: Path) -> None:
    wh, config = setup(fake, tmp_path, VOLUME)
    judged = datetime(2026, 3, 4, 11, tzinfo=UTC)
    start = judged + HOUR - 4 * 7 * 24 * HOUR  # the check reads 4 weeks of hourly windows
    sql = wh.render("count_successes", table=EVENTS, time_column="ts", start=start, end=NOW,
                    window=HOUR, success=[Predicate(column="status", op="=", value="ok")],
                    group_by=["model"]).sql
    # successes of the judged hour and of the same hour 1..3 weeks before, per model
    ok = {"churn": [40, 100, 120, 90], "upsell": [50, 52, 48, 55]}
    rows = []
    for model, counts in ok.items():
        for weeks, n in enumerate(counts):
            at = judged - weeks * 7 * 24 * HOUR
            bucket = (at - start) // HOUR
            rows.append([bucket, model, n + 2, n, (at + HOUR / 2).timestamp()])
    record(fake[0], sql, [["bucket_index", "FLOAT"], ["model", "STRING"],
                          ["row_count", "INTEGER"], ["success_count", "INTEGER"],
                          ["last_success_epoch", "FLOAT"]], rows, {
        "start": ["TIMESTAMP", "2026-02-04 12:00:00+00:00"],
        "start_epoch": ["FLOAT64", 1770206400.0],
        "end": ["TIMESTAMP", "2026-03-04 12:20:00+00:00"],
        "end_epoch": ["FLOAT64", 1772626800.0],
        "bucket_seconds": ["FLOAT64", 3600.0], "s0": ["STRING", "ok"]})
    runner = runner_for(config, tmp_path, NOW)
    try:
        result = runner.check(config.monitor("vol"))
    finally:
        runner.close()
    assert sent(fake[0]) == [sql]
    assert result.status is Status.FAIL and result.reasons == ("VOLUME_BELOW_BASELINE",)
    (finding,) = result.problems()  # upsell is within its baseline
    expected = {m: float(statistics.median(c[1:])) for m, c in ok.items()}
    assert finding.group == (("model", "churn"),)
    assert finding.details["actual"] == ok["churn"][0]
    assert finding.details["expected"] == expected["churn"]
    assert finding.details["baseline"] == [float(n) for n in ok["churn"][1:]]
    got = {(m.name, t): m.value for m in result.metrics for t in m.tags
           if t.startswith("model:")}
    for model, counts in ok.items():
        assert got[("watchdog.predictions.count", f"model:{model}")] == counts[0]
        assert got[("watchdog.predictions.expected", f"model:{model}")] == expected[model]
        assert got[("watchdog.predictions.success_ratio", f"model:{model}")] == pytest.approx(
            counts[0] / (counts[0] + 2))
    assert {m.timestamp for m in result.metrics} == {(judged + HOUR).timestamp()}


# -- contract ----------------------------------------------------------------------------

USERS = TableRef(schema="analytics", name="users")
CONTRACT = """\
warehouse: bq
table: analytics.users
owner: data-platform
scan: full
columns:
  id: {dtype: int64, unique: true}
  age:
    dtype: float64
    nullable: true
    checks:
      in_range: {min_value: 0, max_value: 130}
  country:
    dtype: str
    checks:
      isin: [US, FR]
checks:
  row_count: {min: 1, max: 1000}
"""


def bounds(labels: list[str]) -> dict[str, list[str]]:
    """The contract's bound values, ``r<rule>_<n>`` (rules in the order sent)."""
    values = {"age.in_range": [["INT64", "0"], ["INT64", "130"]],
              "country.isin": [["STRING", "US"], ["STRING", "FR"]]}
    return {f"r{i}_{n}": v for i, label in enumerate(labels)
            for n, v in enumerate(values.get(label, []))}


def test_contract_failures_through_the_runner(fake: Fake,
                                              tmp_path: Path) -> None:
    wh, config = setup(fake, tmp_path, "", {"users.yaml": CONTRACT})
    monitor = config.monitor("users")
    live = [("id", "INT64", False), ("age", "FLOAT64", True), ("country", "STRING", True)]
    columns = wh.render("columns", tables=[USERS]).sql
    record(fake[0], columns, COLUMN_SCHEMA, columns_rows(USERS, live), names("users"))
    checks, issues = plan(monitor.spec, wh.columns([USERS])[USERS],  # type: ignore[attr-defined]
                          supports_regex=wh.pushes_regex)
    assert issues == [] and all(c.where == "warehouse" for c in checks)
    rules = [c.rule for c in checks]
    counts = wh.render("contract_failures", table=USERS, rules=rules).sql
    failing = {"id.unique": 1, "age.in_range": 2, "country.isin": 3}
    row_count = 500
    per_check = [failing.get(c.label, 0) for c in checks]
    record(fake[0], counts, [["row_count", "INTEGER"]] + [[f"f{i}", "INTEGER"]
                                                          for i in range(len(checks))],
           [[row_count, *per_check]], bounds([c.label for c in checks]))
    examples = [c for c, n in zip(checks, per_check, strict=True)
                if n and not c.redact and c.check != "not_null"]
    found = wh.render("failure_examples", table=USERS, rules=[c.rule for c in examples],
                      limit=monitor.spec.examples).sql  # type: ignore[attr-defined]
    record(fake[0], found, [["rule", "INTEGER"], ["value", "STRING"]],
           [[i, v] for i, c in enumerate(examples) for v in {
               "id.unique": ["7"], "age.in_range": ["-1.0", "131.0"],
               "country.isin": ["DE"]}[c.label]], bounds([c.label for c in examples]))
    wh.close()
    n = len(sent(fake[0]))
    runner = runner_for(config, tmp_path, NOW)
    try:
        result = runner.check(monitor)
    finally:
        runner.close()
    assert sent(fake[0])[n:] == [columns, counts, found]
    assert result.status is Status.FAIL and result.reasons == ("CONTRACT_CHECK_FAILED",)
    got = {}
    for m in result.metrics:
        tags = dict(t.split(":", 1) for t in m.tags)
        if m.name == "watchdog.contract.failures":
            got[f"{tags['column']}.{tags['check']}"] = m.value
    # 500 rows is within row_count's 1..1000
    assert got == {c.label: 0 for c in checks} | failing | {"-.row_count": 0}
    assert {m.value for m in result.metrics if m.name == "watchdog.contract.rows"} == {
        row_count}
    bad = {f.details["column"] + "." + f.details["check"]: f for f in result.findings
           if f.reason == "CONTRACT_CHECK_FAILED"}
    assert set(bad) == set(failing)
    for label, f in bad.items():
        assert f.details["failures"] == failing[label]
        assert f.details["failure_rate"] == pytest.approx(failing[label] / row_count)
    assert bad["age.in_range"].details["examples"] == ["-1.0", "131.0"]
    assert f"fails on 3 of {row_count} rows" in bad["country.isin"].message
