"""The daemon as a real process: a bounded SIGTERM while a check waits on a lock, and
``watchdog health`` reading its heartbeat (the container's HEALTHCHECK)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.daemon.test_timeouts import lock_held, waiting_on_locks
from tests.helpers import database, make_events, yaml_block
from watchdog.state import Store

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime.now(UTC).replace(microsecond=0)


def watchdog(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "watchdog", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)


def daemon(tmp_path: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "watchdog", "run"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(cond: Callable[[], bool], limit: float = 30) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and not cond():
        time.sleep(0.2)
    return cond()


def write_config(tmp_path: Path, wh: dict, monitors: str, daemon_settings: str) -> None:
    (tmp_path / "config.yaml").write_text(
        "env: test\nwarehouses:\n  wh:\n" + yaml_block(wh, 4) + "sinks: {console: {}}\n"
        f"state: {{url: 'sqlite:///{tmp_path}/state.db'}}\n"
        f"daemon: {daemon_settings}\nmonitors:\n" + monitors)


@pytest.mark.postgres
def test_sigterm_is_bounded_while_a_check_waits_on_a_lock(tmp_path: Path) -> None:
    with database("postgres", tmp_path) as (engine, wh, schema):
        make_events(engine, schema, [NOW - timedelta(minutes=5)], table="locked")
        write_config(tmp_path, wh, (
            f"  - {{id: locked, kind: freshness, warehouse: wh, table: {schema}.locked,\n"
            "     time_column: ts, max_age: 1d, timeout: 5m, schedule: {every: 1h}}\n"),
            "{heartbeat: 1h, shutdown_grace: 1s}")
        with lock_held(engine, f'"{schema}"."locked"'):
            proc = daemon(tmp_path)
            try:
                assert wait_for(lambda: waiting_on_locks(engine, "locked") == 1)
                started = time.monotonic()
                proc.send_signal(signal.SIGTERM)
                _, err = proc.communicate(timeout=30)
                took = time.monotonic() - started
            finally:
                proc.kill()
            assert waiting_on_locks(engine, "locked") == 0
    assert proc.returncode == 0, err
    assert took < 10, took  # the grace, the cancel, the unwinding: not the 5m timeout
    assert "cancelling 1 check(s) still running" in err and "Traceback" not in err
    with Store.open(f"sqlite:///{tmp_path}/state.db") as store:
        assert store.results("locked") == []  # cut short by the stop: it runs again next start
        assert store.lease_holder("scheduler") is None  # released on the way out


def test_health_reads_the_daemons_heartbeat(tmp_path: Path) -> None:
    with database("duckdb", tmp_path) as (engine, wh, schema):
        make_events(engine, schema, [NOW])
    write_config(tmp_path, wh, (
        "  - {id: f, kind: freshness, warehouse: wh, table: events, time_column: ts,"
        " max_age: 1d, schedule: {every: 1h}}\n"), "{heartbeat: 1s}")
    before = watchdog(tmp_path, "health")
    assert before.returncode == 1 and "no daemon on host" in before.stdout
    proc = daemon(tmp_path)
    try:
        assert wait_for(lambda: watchdog(tmp_path, "health").returncode == 0)
        assert watchdog(tmp_path, "health").stdout.startswith("healthy: daemon ")
    finally:
        proc.kill()  # no clean stop: the heartbeat simply ends
        proc.communicate()
    assert wait_for(lambda: watchdog(tmp_path, "health").returncode == 1, limit=10)
    gone = watchdog(tmp_path, "health")
    assert gone.stdout.startswith("unhealthy: the last heartbeat from host ")
