"""The pipeline monitor's events as the Datadog agent receives them (DogStatsD datagrams on a
loopback UDP socket): each tag once, though the group's job, the monitor's own tags and the
audience may name the same thing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tests.sinks.sink_fakes import UdpListener
from watchdog.daemon.runner import Runner
from watchdog.demo import write_dbt_artifacts
from watchdog.load import load_config
from watchdog.models import Status
from watchdog.sinks.datadog import DatadogSettings, DatadogSink
from watchdog.state import Store

CONFIG = """\
env: test
warehouses:
  wh: {{type: duckdb, settings: {{path: '{db}'}}}}
sinks: {{}}
ownership:
  teams:
    growth: {{datadog: ['@slack-growth']}}
  models:
    retention: {{team: growth, reads: [{{table: main.ground_truth}}]}}
pipelines:
  sources:
    dbt: {{type: dbt, target: target, warehouse: wh}}
monitors:
  - {{id: labels_runs, kind: pipeline, warehouse: wh, table: main.ground_truth,
     tags: ['model:retention', 'tier:1']}}
"""


def event_tags(lines: list[bytes]) -> list[str]:
    """The tags of the one event datagram: ``_e{t,x}:title|text|...|#a,b``."""
    (event,) = [line for line in lines if line.startswith(b"_e{")]
    fields = event.decode().split("|")
    (tags,) = [f[1:] for f in fields if f.startswith("#")]
    return tags.split(",")


def test_a_grouped_pipeline_event_carries_each_tag_once(tmp_path: Path) -> None:
    write_dbt_artifacts(tmp_path / "target", "wh", datetime(2026, 3, 1, 12))
    (tmp_path / "config.yaml").write_text(CONFIG.format(db=tmp_path / "w.duckdb"))
    config = load_config(tmp_path / "config.yaml", {})
    udp = UdpListener()
    sink = DatadogSink(DatadogSettings.model_validate(
        {"agent_host": "127.0.0.1", "dogstatsd_port": udp.port}))
    store = Store.open(f"sqlite:///{tmp_path}/state.db")
    runner = Runner(config, store, [sink], clock=lambda: datetime(2026, 3, 1, 12, tzinfo=UTC))
    try:
        result = runner.run_monitor("labels_runs")
        sink.close()
        lines = udp.lines()
    finally:
        runner.close()
        store.close()
        udp.sock.close()
    assert (result.status, result.reasons) == (Status.FAIL, ("RUN_FAILED",))
    tags = event_tags(lines)
    assert len(tags) == len(set(tags)), tags
    assert [t for t in tags if t.startswith("model:")] == ["model:retention"]
    assert {"job:ground_truth", "team:growth", "tier:1", "status:fail",
            "monitor:labels_runs"} <= set(tags)
