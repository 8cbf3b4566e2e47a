"""What watchdog would have emitted had it been running: its own checks, rerun at past times.

One demo pass sends one point per series, so the preview's timeseries would be dots.
``watchdog datadog preview --replay 2d`` reruns the volume and freshness monitors at every
step of the last two days (each monitor's own window for volume, an hour for freshness)
with the real runner, against a scratch state store (the real one is never written), and
adds what each pass would have emitted. Other kinds are not replayed: drift and contract
windows are not meant to slide hourly, and a schema monitor compares against its snapshot.
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from watchdog.config.models import Config, MonitorConfig
from watchdog.dashboards.evaluate import Emitted

#: Monitor kinds replayed, and the step between replayed passes (None: one hour).
REPLAYED: dict[str, str | None] = {"volume": "window", "freshness": None}


def replay(config: Config, span: timedelta, now: datetime) -> Emitted:
    """Every metric and service check the replayed monitors would have sent (their events
    are left out: the preview's event lists show the real pass's)."""
    from watchdog.daemon.runner import Runner
    from watchdog.sinks.base import emission_records
    from watchdog.state import Store

    out = Emitted()
    with tempfile.TemporaryDirectory() as scratch, \
            Store.open(f"sqlite:///{Path(scratch) / 'replay.db'}") as store:
        runner = Runner(config, store, [])
        try:
            for monitor in (m for m in config.monitors if m.kind in REPLAYED):
                for at in _times(monitor, span, now):
                    emission = runner.process(runner.check(monitor, at))
                    _add(out, emission_records(emission))
        finally:
            runner.close()
    return out


def _times(monitor: MonitorConfig, span: timedelta, now: datetime) -> list[datetime]:
    field = REPLAYED[monitor.kind]
    step: timedelta = getattr(monitor, field) if field else timedelta(hours=1)
    count = int(span / step)
    return [now - step * k for k in range(count, 0, -1)]


def _add(out: Emitted, records: list[dict[str, Any]]) -> None:
    buckets = {"metric": out.metrics, "service_check": out.service_checks}
    for record in records:
        if record["type"] in buckets:
            buckets[record["type"]].append(record)


def merged(first: Emitted, then: Emitted) -> Emitted:
    return Emitted(metrics=[*first.metrics, *then.metrics],
                   service_checks=[*first.service_checks, *then.service_checks],
                   events=[*first.events, *then.events])
