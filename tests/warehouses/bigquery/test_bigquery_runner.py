"""A freshness monitor end to end through the runner, on BigQuery (the loopback stand-in)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tests.helpers import config_from, yaml_block
from tests.warehouses.bigquery.conftest import settings_for
from tests.warehouses.bigquery.fake_server import FakeBigQuery
from watchdog.daemon.runner import Runner
from watchdog.models import Status, TableRef
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
    sql = wh.render("newest", table=events, time_column="ts").sql  # what the check will send
    newest = int(datetime(2026, 3, 1, 5, 0, tzinfo=UTC).timestamp() * 1_000_000)
    fake[0].record(sql, {"schema": [["newest", "TIMESTAMP"]], "rows": [[str(newest)]]}, {})
    config = config_from(tmp_path, CONFIG.format(settings=yaml_block(settings, 6)))
    sink = create_sink("jsonl", {"path": str(tmp_path / "out.jsonl")})
    runner = Runner(config, Store.open(f"sqlite:///{tmp_path}/state.db"), [sink],
                    clock=lambda: NOW)
    assert runner.run_monitor("fresh").status is Status.OK
    stale = runner.run_monitor("stale")
    assert stale.status is Status.FAIL and "1h" in stale.summary
    sent = [r.body for r in fake[0].queries() if r.path.endswith("/queries")]
    assert [body["query"] for body in sent] == [sql, sql]
    # BigQuery itself stops each job at the monitor's deadline (daemon.timeout: 10m)
    limits = [int(body["jobTimeoutMs"]) for body in sent]
    assert all(590_000 < ms <= 600_000 for ms in limits), limits
