"""The daemon's scheduler: triggers from config, and self-monitoring when a job crashes."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from tests.conftest import POSTGRES_URL
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


def run_daemon(daemon: Daemon, until: Callable[[], bool], limit: float = 20) -> bool:
    """Run ``daemon``'s scheduler in a thread until ``until()`` holds (or ``limit`` s)."""
    thread = threading.Thread(target=daemon.scheduler.start, daemon=True)
    thread.start()
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and not until():
        time.sleep(0.1)
    done = until()
    daemon.scheduler.shutdown(wait=True)
    return done


def jsonl(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def test_a_crashing_job_is_counted_and_announced(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A check plugin whose result names no monitor makes the runner itself fail: the job
    crash is counted and announced."""
    from watchdog import checks

    monkeypatch.setitem(checks.REGISTRY, "misname", "tests.daemon.crashing_check:MisnamingCheck")
    with database("duckdb", tmp_path) as (_, wh, _schema):
        text = ("env: test\nwarehouses:\n  wh:\n" + yaml_block(wh, 4) + "sinks: {}\n"
                "daemon: {heartbeat: 1h}\nmonitors:\n"
                "  - {id: f, kind: misname, warehouse: wh, schedule: {every: 1h}}\n")
        out = tmp_path / "out.jsonl"
        runner = Runner(config_from(tmp_path, text), Store.open(f"sqlite:///{tmp_path}/s.db"),
                        [create_sink("jsonl", {"path": str(out)})])
        daemon = Daemon(runner)
        assert run_daemon(daemon, lambda: any(r["type"] == "event" for r in jsonl(out)))
        runner.close()
    records = jsonl(out)
    (event,) = [r for r in records if r["type"] == "event"]
    assert event["title"] == "[ERROR] watchdog job f crashed" and event["alert_type"] == "error"
    assert "no-such-monitor" in event["text"]
    failures = [r for r in records
                if r["type"] == "metric" and r["name"] == "watchdog.jobs.failure"]
    assert failures and failures[0]["value"] == 1 and "monitor:f" in failures[0]["tags"]


@contextmanager
def postgres_state() -> Iterator[tuple[str, Callable[[bool], None]]]:
    """A state database on the real Postgres, and a switch that takes it away (connections
    refused, open ones cut) and brings it back."""
    name = f"wd_state_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://"),
                             isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def reachable(up: bool) -> None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(up).lower()}'))
            if not up:
                conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                     "WHERE datname = :d"), {"d": name})

    try:
        yield str(sa.make_url(POSTGRES_URL).set(database=name).render_as_string(False)), \
            reachable
    finally:
        reachable(True)
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.postgres
def test_a_state_store_outage_is_said_once_and_pages_through_watchdog_up(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """While the state store is down: one log line (no traceback per heartbeat, no false
    'standing by'), watchdog.up CRITICAL straight to the sinks; then one line when it is
    back, and the monitors run again."""
    with database("duckdb", tmp_path) as (engine, wh, schema), postgres_state() as (url, up):
        make_events(engine, schema, [])
        text = ("env: test\nwarehouses:\n  wh:\n" + yaml_block(wh, 4) + "sinks: {}\n"
                "daemon: {heartbeat: 1s, leader_lease: 3s}\nmonitors:\n"
                "  - {id: f, kind: freshness, warehouse: wh, table: events, time_column: ts,"
                " max_age: 1h, schedule: {every: 1s}}\n")
        out = tmp_path / "out.jsonl"
        runner = Runner(config_from(tmp_path, text), Store.open(url),
                        [create_sink("jsonl", {"path": str(out)})])
        daemon = Daemon(runner)
        caplog.set_level(logging.INFO)
        thread = threading.Thread(target=daemon.scheduler.start, daemon=True)
        thread.start()

        def critical() -> list[dict]:
            return [r for r in jsonl(out) if r["type"] == "service_check"
                    and r["name"] == "watchdog.up" and r["status"] == 2]

        def wait(cond: Callable[[], bool]) -> bool:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not cond():
                time.sleep(0.1)
            return cond()

        try:
            assert wait(lambda: len(runner.store.results("f")) >= 1)
            up(False)
            assert wait(lambda: len(critical()) >= 3)  # every heartbeat, the store still down
            up(True)
            before = len(critical())
            assert wait(lambda: "reachable again" in caplog.text)
            ran = len(runner.store.results("f"))
            assert wait(lambda: len(runner.store.results("f")) > ran)
        finally:
            daemon.scheduler.shutdown(wait=True)
            runner.close()
            runner.store.close()
    assert "unreachable" in critical()[0]["message"]
    assert len(critical()) <= before + 1  # CRITICAL stops once the store is back
    lines = [r.getMessage() for r in caplog.records]
    assert sum("state store unreachable" in line for line in lines) == 1, lines
    assert not any("standing by" in line for line in lines)
    assert not any(r.exc_info for r in caplog.records if r.levelno >= logging.ERROR)


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


def test_a_standby_says_so_and_one_daemon_never_stands_by_for_itself(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with replicas(tmp_path, "10m") as (_, (first, second)):
        caplog.set_level(logging.INFO)
        results: list[bool] = []
        racers = [threading.Thread(target=lambda: results.append(first.lease_tick()))
                  for _ in range(6)]
        for racer in racers:
            racer.start()
        for racer in racers:
            racer.join()
        assert results == [True] * 6
        assert not second.lease_tick()
    lines = [r.getMessage() for r in caplog.records]
    assert lines.count(f"this daemon ({first.holder}) now runs the monitors") == 1
    (standing,) = [line for line in lines if line.startswith("standing by")]
    assert standing.startswith(f"standing by: {first.holder} (lease until ")


def race(store: Store, lease: str, n: int = 8) -> list[bool]:
    """``n`` threads of one holder acquiring ``lease`` at the same moment."""
    barrier = threading.Barrier(n)
    won: list[bool] = []

    def tick() -> None:
        barrier.wait()
        won.append(store.acquire_lease(lease, "me", timedelta(minutes=1)))

    racers = [threading.Thread(target=tick) for _ in range(n)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join()
    return won


@pytest.mark.postgres
def test_racing_lease_ticks_of_one_daemon_all_win_on_postgres() -> None:
    """Ticks of one daemon racing at start-up on Postgres: all INSERT, all but one
    conflict; the losers must still see that the lease is their own."""
    with postgres_state() as (url, _):
        store = Store.open(url)
        try:
            for name in ("a", "b", "c", "d"):  # rounds: the race must happen at least once
                assert race(store, name) == [True] * 8
                assert not store.acquire_lease(name, "other", timedelta(minutes=1))
        finally:
            store.close()
