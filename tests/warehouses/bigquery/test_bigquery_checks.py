"""The schema, contract, volume and drift monitors end to end through the runner, on BigQuery.

The loopback stand-in answers by SQL text, so each test records the responses its check
needs under the SQL the adapter renders for that check (``wh.render``: the golden form), and
asserts what the check makes of those recorded rows.
"""

from __future__ import annotations

import json
import statistics
import textwrap
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import config_from, yaml_block
from tests.warehouses.bigquery.conftest import settings_for
from tests.warehouses.bigquery.fake_server import FakeBigQuery
from watchdog.checks import stats
from watchdog.config.models import Config
from watchdog.contracts.compile import plan
from watchdog.daemon.runner import Runner
from watchdog.models import Predicate, Status, TableRef
from watchdog.sinks import create as create_sink
from watchdog.state import Store
from watchdog.warehouses import create
from watchdog.warehouses.bigquery import BigQuery

NOW = datetime(2026, 3, 4, 12, 20, tzinfo=UTC)  # a Wednesday; volume judges 11:00-12:00
HOUR = timedelta(hours=1)
EVENTS = TableRef(schema="analytics", name="events")
HEAD = """\
env: test
warehouses:
  bq:
    type: bigquery
    settings:
{settings}
ownership:
  teams:
    data-platform: {{datadog: ["@slack-data"]}}
sinks: {{}}
monitors:
"""
COLUMN_SCHEMA = [["table_schema", "STRING"], ["table_name", "STRING"],
                 ["column_name", "STRING"], ["data_type", "STRING"], ["nullable", "BOOLEAN"]]
AUDIT_SCHEMA = [["seq", "INTEGER"], ["end_time", "TIMESTAMP"], ["user_email", "STRING"],
                ["statement_type", "STRING"], ["dataset_id", "STRING"], ["table_id", "STRING"],
                ["query", "STRING"]]


def record(fake: FakeBigQuery, sql: str, schema: Sequence[Sequence[str]],
           rows: Sequence[Sequence[Any]]) -> None:
    """Serve ``rows`` (values as the REST API sends them: text or null) for ``sql``."""
    fake.record(sql, {"schema": [list(f) for f in schema], "bytes": 1_000_000,
                      "rows": [[None if v is None else str(v) for v in row] for row in rows]})


def columns_rows(table: TableRef, cols: Sequence[tuple[str, str, bool]]) -> list[list[Any]]:
    return [[table.schema, table.name, name, kind, str(nullable).lower()]
            for name, kind, nullable in cols]


def setup(fake: tuple[FakeBigQuery, str], tmp_path: Path, monitors: str,
          contracts: dict[str, str] | None = None) -> tuple[BigQuery, Config]:
    """An adapter on the stand-in (to render the SQL to record) and the monitors' config."""
    settings = settings_for(fake[1])
    for name, text in (contracts or {}).items():
        (tmp_path / "contracts").mkdir(exist_ok=True)
        (tmp_path / "contracts" / name).write_text(textwrap.dedent(text))
    text = HEAD.format(settings=yaml_block(settings, 6)) + textwrap.indent(monitors, "  ")
    wh = create("bq", "bigquery", settings)
    assert isinstance(wh, BigQuery)
    return wh, config_from(tmp_path, text)


def runner_for(config: Config, tmp_path: Path) -> Runner:
    """A fresh Runner (as after a restart) on the same state database, at ``NOW``."""
    sink = create_sink("jsonl", {"path": str(tmp_path / "out.jsonl")})
    return Runner(config, Store.open(f"sqlite:///{tmp_path}/state.db"), [sink],
                  clock=lambda: NOW)


def sent(fake: FakeBigQuery) -> list[str]:
    """The SQL of the real (not dry-run) queries the client sent, in order."""
    return [r.body["query"] for r in fake.queries() if r.path.endswith("/queries")]


# -- schema ------------------------------------------------------------------------------


def test_schema_change_through_the_runner(fake: tuple[FakeBigQuery, str],
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
             audit_rows: list[list[Any]]) -> tuple[Any, list[dict[str, Any]]]:
        record(server, version, [["token", "STRING"]], [[token]])
        record(server, prints, fp_schema, [["analytics", "events", fingerprint]])
        record(server, columns, COLUMN_SCHEMA, columns_rows(EVENTS, cols))
        record(server, audit, AUDIT_SCHEMA, audit_rows)
        runner = runner_for(config, tmp_path)
        try:
            (result,) = runner.run_pass()
        finally:
            runner.close()
        out = tmp_path / "out.jsonl"
        records = [json.loads(x) for x in out.read_text().splitlines()]
        out.unlink()
        return result, [x for x in records if x["type"] == "event"]

    first, events = poll("v1", "fp1", before, [])
    assert first.status is Status.OK and events == [], first
    assert "baseline of 1 table" in first.summary
    at = int(datetime(2026, 3, 4, 12, 5, tzinfo=UTC).timestamp() * 1_000_000)
    alter = "ALTER TABLE analytics.events ADD COLUMN plan STRING"
    result, events = poll("v2", "fp2", after, [[at, at, "alice@example.com", "ALTER_TABLE",
                                                 "analytics", "events", alter]])
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
    # the probe did not move: the next poll reads no metadata
    n = len(sent(server))
    again, events = poll("v2", "fp2", after, [])
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
"""


def test_volume_drop_through_the_runner(fake: tuple[FakeBigQuery, str], tmp_path: Path) -> None:
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
                          ["last_success_epoch", "FLOAT"]], rows)
    runner = runner_for(config, tmp_path)
    try:
        result = runner.check(config.monitor("vol"))
    finally:
        runner.close()
    assert sent(fake[0]) == [sql]
    assert result.status is Status.FAIL and result.reasons == ("VOLUME_BELOW_BASELINE",)
    (finding,) = result.findings  # upsell is within its baseline
    expected = {m: float(statistics.median(c[1:])) for m, c in ok.items()}
    assert finding.details["group"] == "model=churn"
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


def test_contract_failures_through_the_runner(fake: tuple[FakeBigQuery, str],
                                              tmp_path: Path) -> None:
    wh, config = setup(fake, tmp_path, "", {"users.yaml": CONTRACT})
    monitor = config.monitor("users")
    live = [("id", "INT64", False), ("age", "FLOAT64", True), ("country", "STRING", True)]
    columns = wh.render("columns", tables=[USERS]).sql
    record(fake[0], columns, COLUMN_SCHEMA, columns_rows(USERS, live))
    checks, issues = plan(monitor.spec, wh.columns([USERS])[USERS],  # type: ignore[attr-defined]
                          supports_regex=wh.SUPPORTS_REGEX)
    assert issues == [] and all(c.where == "warehouse" for c in checks)
    rules = [c.rule for c in checks]
    counts = wh.render("contract_failures", table=USERS, rules=rules).sql
    failing = {"id.unique": 1, "age.in_range": 2, "country.isin": 3}
    row_count = 500
    per_check = [failing.get(c.label, 0) for c in checks]
    record(fake[0], counts, [["row_count", "INTEGER"]] + [[f"f{i}", "INTEGER"]
                                                          for i in range(len(checks))],
           [[row_count, *per_check]])
    examples = [c for c, n in zip(checks, per_check, strict=True)
                if n and not c.redact and c.check != "not_null"]
    found = wh.render("failure_examples", table=USERS, rules=[c.rule for c in examples],
                      limit=monitor.spec.examples).sql  # type: ignore[attr-defined]
    record(fake[0], found, [["rule", "INTEGER"], ["value", "STRING"]],
           [[i, v] for i, c in enumerate(examples) for v in {
               "id.unique": ["7"], "age.in_range": ["-1.0", "131.0"],
               "country.isin": ["DE"]}[c.label]])
    wh.close()
    n = len(sent(fake[0]))
    runner = runner_for(config, tmp_path)
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


# -- drift -------------------------------------------------------------------------------

REFERENCE = TableRef(schema="analytics", name="reference")
DRIFT = """\
- id: drift
  kind: drift
  warehouse: bq
  table: analytics.events
  time_column: ts
  window: 1d
  reference: {table: analytics.reference}
  features: [a, plan]
  bins: 4
  ks_resolution: 0
"""


def histogram_row(values: Sequence[float | None], edges: Sequence[float]) -> list[int]:
    """What the ``histograms`` query returns for one column: rows, missing, then the rows
    below each edge (``<=`` the last)."""
    real = [v for v in values if v is not None]
    cumulative = [sum(v < e for v in real) for e in edges[:-1]]
    return [len(values), len(values) - len(real), *cumulative,
            sum(v <= edges[-1] for v in real)]


def buckets(values: Sequence[float | None], edges: Sequence[float]) -> list[int]:
    """Below the first edge, each bin (the last one closed), above the last edge."""
    real = [v for v in values if v is not None]
    inner = [sum(lo <= v < hi for v in real) for lo, hi in zip(edges[:-2], edges[1:-1],
                                                                strict=True)]
    last = sum(edges[-2] <= v <= edges[-1] for v in real)
    return [sum(v < edges[0] for v in real), *inner, last, sum(v > edges[-1] for v in real)]


def test_drift_through_the_runner(fake: tuple[FakeBigQuery, str], tmp_path: Path) -> None:
    wh, config = setup(fake, tmp_path, DRIFT)
    monitor = config.monitor("drift")
    server = fake[0]
    live = [("ts", "TIMESTAMP", True), ("a", "FLOAT64", True), ("plan", "STRING", True)]
    record(server, wh.render("columns", tables=[EVENTS]).sql, COLUMN_SCHEMA,
           columns_rows(EVENTS, live))
    ref_a = [float(i) for i in range(100)]
    cur_a: list[float | None] = [float(i) for i in range(50, 140)] + [None] * 10
    ref_sample = wh.render("sample", table=REFERENCE, columns=["a"],
                           limit=monitor.sample_size).sql  # type: ignore[attr-defined]
    record(server, ref_sample, [["a", "FLOAT"]], [[v] for v in ref_a])
    edges = stats.quantile_edges(ref_a, 4)
    hist_schema = [["row_count", "INTEGER"]] + [[f"f{i}_", "INTEGER"]
                                                for i in range(len(edges) + 1)]
    record(server, wh.render("histograms", table=REFERENCE, edges={"a": edges}).sql,
           hist_schema, [histogram_row(ref_a, edges)])
    where = [Predicate(column="ts", op=">=", value=NOW - 24 * HOUR),
             Predicate(column="ts", op="<", value=NOW)]
    record(server, wh.render("histograms", table=EVENTS, edges={"a": edges}, where=where).sql,
           hist_schema, [histogram_row(cur_a, edges)])
    ref_plan = {"basic": 50, "pro": 50}
    record(server, wh.render("top_values", table=REFERENCE, column="plan",
                             limit=monitor.max_categories).sql,  # type: ignore[attr-defined]
           [["value", "STRING"], ["row_count", "INTEGER"], ["total_rows", "INTEGER"]],
           [[v, n, 100] for v, n in ref_plan.items()])
    cur_plan = {"basic": 10, "pro": 60}
    record(server, wh.render("value_counts", table=EVENTS, column="plan",
                             values=list(ref_plan), where=where).sql,
           [["slot", "INTEGER"], ["value", "STRING"], ["row_count", "INTEGER"]],
           [[0, v, n] for v, n in cur_plan.items()] + [[1, None, 30]])
    reads = {q: sql for q, sql in zip(
        ["sample", "ref_histograms", "top_values"],
        [ref_sample, wh.render("histograms", table=REFERENCE, edges={"a": edges}).sql,
         wh.render("top_values", table=REFERENCE, column="plan", limit=1).sql],
        strict=True)}
    wh.close()
    runner = runner_for(config, tmp_path)
    try:
        result = runner.check(monitor)
        n = len(sent(server))
        again = runner.check(monitor)  # from the stored profile: the reference is not read
    finally:
        runner.close()
    assert set(reads.values()) <= set(sent(server)[:n])
    assert not set(reads.values()) & set(sent(server)[n:])
    assert again.status is Status.FAIL and again.metrics == result.metrics
    assert result.status is Status.FAIL
    # 10 of the 100 current values of `a` are NULL: its missing rate moved by 0.1 (limit 0.05)
    assert set(result.reasons) == {"PSI_ABOVE_THRESHOLD", "MISSING_RATE_CHANGED", "DATA_DRIFT"}
    got = {(m.name.rsplit(".", 1)[1], t.split(":", 1)[1]): m.value for m in result.metrics
           for t in m.tags if t.startswith("feature:")}
    ref_buckets, cur_buckets = buckets(ref_a, edges), buckets(cur_a, edges)
    assert sum(ref_buckets) == 100 and sum(cur_buckets) == 90
    assert got[("psi", "a")] == pytest.approx(stats.psi(ref_buckets, cur_buckets))
    assert got[("missing_rate_change", "a")] == pytest.approx(10 / 100)
    plan_ref, plan_cur = [*ref_plan.values(), 0], [*cur_plan.values(), 30]
    assert got[("psi", "plan")] == pytest.approx(stats.psi(plan_ref, plan_cur))
    assert got[("l_infinity", "plan")] == pytest.approx(
        max(abs(r / 100 - c / 100) for r, c in zip(plan_ref, plan_cur, strict=True)))
    assert got[("drifted", "a")] == got[("drifted", "plan")] == 1.0
    assert "drift in 2 of 2 columns" in result.summary
