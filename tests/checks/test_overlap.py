"""Calls started side by side (``watchdog.checks.overlap``): each on a daemon thread of its
own, under the caller's deadline, which cancels a warehouse statement running there."""

from __future__ import annotations

import threading
import time

import pytest

from watchdog.checks import overlap
from watchdog.errors import CheckTimeout
from watchdog.timeouts import Deadline, applied, current
from watchdog.warehouses import create
from watchdog.warehouses.sqlbase import Statement


def test_a_call_sees_the_deadline_of_the_check_that_started_it() -> None:
    deadline = Deadline("m", 30)
    with applied(deadline):
        seen = overlap.start(current)
    assert seen.result(timeout=5) is deadline
    assert overlap.start(current).result(timeout=5) is None  # started outside any check


def test_an_error_is_raised_where_the_result_is_asked_for() -> None:
    def fail() -> None:
        raise ValueError("no such column: b")

    future = overlap.start(fail)
    overlap.settle([future])
    assert future.done()
    with pytest.raises(ValueError, match="no such column"):
        future.result()


def test_calls_run_at_the_same_time_on_daemon_threads() -> None:
    """Three calls that each wait for the other two finish: run in turn, the first would
    wait alone until the barrier broke."""
    barrier = threading.Barrier(3, timeout=10)
    daemons: list[bool] = []

    def meet() -> int:
        daemons.append(threading.current_thread().daemon)
        return barrier.wait()

    futures = [overlap.start(meet) for _ in range(3)]
    overlap.settle(futures)
    assert sorted(f.result() for f in futures) == [0, 1, 2] and not barrier.broken
    assert daemons == [True] * 3  # a stuck driver cannot keep the process from exiting


def test_settle_waits_for_every_call() -> None:
    release = threading.Event()
    slow = overlap.start(lambda: release.wait(10) and "done")
    threading.Timer(0.2, release.set).start()
    overlap.settle([slow])
    assert slow.result(timeout=0) == "done"


def test_the_deadline_cancels_a_statement_running_on_another_thread() -> None:
    """DuckDB cannot time a statement out itself: the runner's cancel reaches the cursor
    the worker thread registered under the check's deadline."""
    wh = create("w", "duckdb", {"path": ":memory:"})
    slow = Statement(name="newest", sql="SELECT count(*) FROM range(100000) a, "
                     "range(100000) b WHERE a.range * b.range = -1", subject="t")
    deadline = Deadline("m", 30)
    try:
        with applied(deadline):
            running = overlap.start(wh.executor.run, slow)  # type: ignore[attr-defined]
        time.sleep(0.3)
        started = time.monotonic()
        deadline.cancel()
        with pytest.raises(CheckTimeout, match="its newest query on t"):
            running.result(timeout=10)
        assert time.monotonic() - started < 5
    finally:
        wh.close()
