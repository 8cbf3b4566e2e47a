"""The daemon's scheduler: triggers from config, and self-monitoring when a job crashes."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from tests.helpers import config_from, database, make_events, yaml_block
from watchdog.config.models import Schedule
from watchdog.daemon.runner import Runner
from watchdog.daemon.scheduler import Daemon, trigger
from watchdog.sinks import create as create_sink
from watchdog.state import Store


def test_triggers_follow_the_schedule() -> None:
    every = trigger(Schedule(every=timedelta(minutes=15), jitter=timedelta(seconds=30)))
    assert isinstance(every, IntervalTrigger)
    assert every.interval == timedelta(minutes=15) and every.jitter == 30
    cron = trigger(Schedule(cron="*/5 * * * *", jitter=timedelta(seconds=10)))
    assert isinstance(cron, CronTrigger) and cron.jitter == 10
    assert str(cron.fields[6]) == "*/5"  # the minute field


def test_a_crashing_job_is_counted_and_announced(tmp_path: Path) -> None:
    with database("duckdb", tmp_path) as (engine, wh, schema):
        make_events(engine, schema, [])
        text = ("env: test\nwarehouses:\n  wh:\n" + yaml_block(wh, 4) + "sinks: {}\n"
                "daemon: {heartbeat: 1h}\nmonitors:\n"
                "  - {id: f, kind: freshness, warehouse: wh, table: events, time_column: ts,"
                " max_age: 1h, schedule: {every: 1h}}\n")
        state = tmp_path / "state.db"
        store = Store.open(f"sqlite:///{state}")
        out = tmp_path / "out.jsonl"
        runner = Runner(config_from(tmp_path, text), store,
                        [create_sink("jsonl", {"path": str(out)})])
        # the state store breaks under the daemon: results can no longer be written
        with sqlite3.connect(state) as con:
            con.execute("DROP TABLE check_results")
        daemon = Daemon(runner)
        thread = threading.Thread(target=daemon.scheduler.start, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        records: list[dict] = []
        while time.monotonic() < deadline and not any(r["type"] == "event" for r in records):
            time.sleep(0.1)
            records = [json.loads(x) for x in out.read_text().splitlines()] if out.exists() else []
        daemon.scheduler.shutdown(wait=True)
        runner.close()
    (event,) = [r for r in records if r["type"] == "event"]
    assert event["title"] == "[ERROR] watchdog job f crashed" and event["alert_type"] == "error"
    assert "StateError" in event["text"]
    failures = [r for r in records
                if r["type"] == "metric" and r["name"] == "watchdog.jobs.failure"]
    assert failures and failures[0]["value"] == 1 and "monitor:f" in failures[0]["tags"]


@contextmanager
def replicas(tmp_path: Path, lease: str) -> Iterator[tuple[list[Runner], list[Daemon]]]:
    """Two daemons (runners, stores) on one SQLite state file, one freshness monitor."""
    with database("duckdb", tmp_path) as (engine, wh, schema):
        make_events(engine, schema, [])
        text = ("env: test\nwarehouses:\n  wh:\n" + yaml_block(wh, 4) + "sinks: {}\n"
                f"daemon: {{heartbeat: 1h, leader_lease: {lease}}}\nmonitors:\n"
                "  - {id: f, kind: freshness, warehouse: wh, table: events, time_column: ts,"
                " max_age: 1h, schedule: {every: 1h}}\n")
        url = f"sqlite:///{tmp_path / 'state.db'}"
        runners = [Runner(config_from(tmp_path, text), Store.open(url), []) for _ in range(2)]
        try:
            yield runners, [Daemon(r) for r in runners]
        finally:
            for r in runners:
                r.close()
                r.store.close()


def test_two_daemons_on_one_store_run_each_monitor_once_and_fail_over(tmp_path: Path) -> None:
    """Two replicas share a state store: only the lease holder runs monitors; when it stops
    cleanly the standby takes over at its next job, and with it the results."""
    with replicas(tmp_path, "10m") as (runners, (first, second)):
        def results() -> int:
            return len(runners[0].store.results("f"))

        first.run_monitor("f")
        second.run_monitor("f")
        assert (first.leader, second.leader, results()) == (True, False, 1)
        holder = runners[1].store.lease_holder("scheduler")
        assert holder is not None and holder[0] == first.holder
        second.run_monitor("f")  # still standing by
        assert results() == 1
        first.release()  # SIGTERM on the leader
        second.run_monitor("f")
        first.run_monitor("f")
        assert (first.leader, second.leader, results()) == (False, True, 2)


def test_a_leader_that_dies_is_replaced_after_its_lease(tmp_path: Path) -> None:
    with replicas(tmp_path, "1s") as (runners, (dead, standby)):
        assert dead.lease_tick() and not standby.lease_tick()
        time.sleep(1.2)  # the leader stopped renewing (killed: no release)
        assert standby.lease_tick()
        standby.run_monitor("f")
        assert len(runners[1].store.results("f")) == 1
