"""A freshness monitor end to end through the runner, on BigQuery (the loopback stand-in)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.helpers import config_from, yaml_block
from tests.warehouses.bigquery.conftest import settings_for
from tests.warehouses.bigquery.fake_server import FakeBigQuery
from watchdog.checks.future import FAR
from watchdog.daemon.runner import Runner
from watchdog.models import Predicate, Status, TableRef
from watchdog.sinks import create as create_sink
from watchdog.state import Store
from watchdog.warehouses import create

NOW = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
CONFIG = """\
env: test
warehouses:
  bq:
    type: bigquery
    settings:
{settings}
sinks: {{}}
monitors:
  - {{id: fresh, kind: freshness, warehouse: bq, table: analytics.events, time_column: ts,
      max_age: 2h}}
  - {{id: stale, kind: freshness, warehouse: bq, table: analytics.events, time_column: ts,
      max_age: 30m}}
"""


def test_freshness_through_the_runner(fake: tuple[FakeBigQuery, str], tmp_path: Path) -> None:
    settings = settings_for(fake[1])
    wh = create("bq", "bigquery", settings)
    events = TableRef(schema="analytics", name="events")
    fake[0].add_table("test-proj.analytics.events", [["ts", "TIMESTAMP"]])
    horizon = NOW + timedelta(minutes=5)  # rows after now + future_tolerance are not newest
    sql = wh.render("newest", table=events, time_column="ts",  # what the check will send
                    where=[Predicate(column="ts", op="<=", value=horizon)]).sql
    newest = int(datetime(2026, 3, 1, 5, 0, tzinfo=UTC).timestamp() * 1_000_000)
    fake[0].record(sql, {"schema": [["newest", "TIMESTAMP"]], "rows": [[str(newest)]]},
                   {"w0": ["TIMESTAMP", "2026-03-01 06:05:00+00:00"]})
    ahead = wh.render("count_rows", table=events, time_column="ts", start=horizon,
                      end=horizon + FAR, bucket=FAR).sql
    fake[0].record(ahead, {"schema": [["bucket_index", "INTEGER"], ["row_count", "INTEGER"]],
                           "rows": [[0, 3]]}, {
        "start": ["TIMESTAMP", "2026-03-01 06:05:00+00:00"],
        "end": ["TIMESTAMP", f"{horizon + FAR:%Y-%m-%d %H:%M:%S}+00:00"],
        "start_epoch": ["FLOAT64", horizon.timestamp()],
        "end_epoch": ["FLOAT64", (horizon + FAR).timestamp()],
        "bucket_seconds": ["FLOAT64", FAR.total_seconds()]})
    config = config_from(tmp_path, CONFIG.format(settings=yaml_block(settings, 6)))
    sink = create_sink("jsonl", {"path": str(tmp_path / "out.jsonl")})
    runner = Runner(config, Store.open(f"sqlite:///{tmp_path}/state.db"), [sink],
                    clock=lambda: NOW)
    fresh = runner.run_monitor("fresh")  # 3 rows dated 10 years ahead: a writer's clock
    assert fresh.status is Status.WARN and fresh.reasons == ("FUTURE_ROWS",)
    assert "3 rows dated after now" in fresh.summary
    stale = runner.run_monitor("stale")
    assert stale.status is Status.FAIL and "1h" in stale.summary
    sent = [r.body for r in fake[0].queries() if r.path.endswith("/queries")]
    assert [body["query"] for body in sent] == [sql, ahead, sql, ahead]
    # BigQuery itself stops each job at the monitor's deadline (daemon.timeout: 10m)
    limits = [int(body["jobTimeoutMs"]) for body in sent]
    assert all(590_000 < ms <= 600_000 for ms in limits), limits
