"""Freshness and row count on DuckDB, SQLite and real Postgres."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.helpers import config_from, database, make_events, yaml_block
from watchdog.daemon.runner import Runner
from watchdog.models import Status
from watchdog.state import Store

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
KINDS = ["duckdb", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def monitor_config(tmp_path: Path, wh: dict, schema: str, extra: str) -> str:
    return (
        "env: test\nwarehouses:\n  wh:\n" + yaml_block(wh, 4) + "sinks: {}\n"
        "monitors:\n  - id: fresh\n    kind: freshness\n    warehouse: wh\n"
        f"    table: {schema}.events\n    time_column: ts\n" + extra
    )


@pytest.mark.parametrize("kind", KINDS)
def test_freshness_and_row_count(kind: str, tmp_path: Path) -> None:
    with database(kind, tmp_path) as (engine, wh, schema):
        # 10 rows in the last hour, newest 5 minutes old; 3 older error rows
        times = [NOW - timedelta(minutes=5 + 5 * i) for i in range(10)]
        times += [NOW - timedelta(hours=5)] * 3
        make_events(engine, schema, times, ["success"] * 10 + ["error"] * 3)
        cases = [
            ("max_age: 1h\n", Status.OK, ()),
            ("max_age: 1m\n", Status.FAIL, ("DATA_STALE",)),
            ("max_age: 1h\nwarn_age: 2m\n", Status.WARN, ("DATA_STALE",)),
            ("max_age: 1h\nwindow: 1h\nmin_rows: 11\n", Status.FAIL, ("ROWS_BELOW_MIN",)),
            ("max_age: 1h\nwindow: 1h\nmax_rows: 9\n", Status.FAIL, ("ROWS_ABOVE_MAX",)),
            ("max_age: 1h\nwindow: 1h\nmin_rows: 10\nmax_rows: 10\n", Status.OK, ()),
            # only the error rows: 5 hours old
            ("max_age: 1h\nwhere: [{column: status, op: '=', value: error}]\n",
             Status.FAIL, ("DATA_STALE",)),
            ("max_age: 6h\nwindow: 6h\nmin_rows: 3\nmax_rows: 3\n"
             "where: [{column: status, op: in, value: [error, other]}]\n", Status.OK, ()),
        ]
        for i, (extra, status, reasons) in enumerate(cases):
            indented = "".join(f"    {line}\n" for line in extra.splitlines())
            config = config_from(tmp_path, monitor_config(tmp_path, wh, schema, indented))
            store = Store.open(f"sqlite:///{tmp_path}/state{i}.db")
            runner = Runner(config, store, [], clock=lambda: NOW)
            result = runner.check(config.monitor("fresh"))
            runner.close()
            store.close()
            assert (result.status, result.reasons) == (status, reasons), (extra, result)


@pytest.mark.parametrize("kind", KINDS)
def test_empty_table_fails_and_metrics_are_reported(kind: str, tmp_path: Path) -> None:
    with database(kind, tmp_path) as (engine, wh, schema):
        make_events(engine, schema, [])
        text = monitor_config(tmp_path, wh, schema, "    max_age: 1h\n    min_rows: 1\n")
        config = config_from(tmp_path, text)
        runner = Runner(config, Store.open(f"sqlite:///{tmp_path}/s.db"), [], clock=lambda: NOW)
        result = runner.check(config.monitor("fresh"))
        assert result.status is Status.FAIL
        assert result.reasons == ("TABLE_EMPTY", "ROWS_BELOW_MIN")
        make_events(engine, schema, [NOW - timedelta(minutes=30)])
        result = runner.check(config.monitor("fresh"))
        runner.close()
        metrics = {m.name: m.value for m in result.metrics}
        assert metrics == {"watchdog.freshness.age_seconds": 1800.0,
                           "watchdog.freshness.rows_in_window": 1.0,
                           "watchdog.freshness.future_rows": 0.0}
        assert f"table:{schema}.events" in result.metrics[0].tags
