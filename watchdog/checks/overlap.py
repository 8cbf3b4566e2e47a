"""Warehouse calls of one check that do not depend on each other, sent at the same time.

A drift check asks for the table's columns, the current window's fine buckets and its
category counts: three statements, each a round trip, which a warehouse that runs
statements side by side (a connection pool, BigQuery's jobs, DuckDB's cursors) answers in
the time of the longest instead of the sum. An executor that runs one statement at a time
(SQLite, a DB-API session) takes them in turn, as it takes the statements of several
checks.

Each call runs on a daemon thread of its own, in a copy of the caller's context, so the
check's deadline (:mod:`watchdog.timeouts`) bounds and cancels it as it would the call made
in place; daemon, because a statement stuck in a driver that ignores its cancel must not
keep the process from exiting (the runner already leaves such a check behind).
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, wait
from typing import Any, TypeVar

T = TypeVar("T")


def start(fn: Callable[..., T], *args: Any) -> Future[T]:
    """``fn(*args)`` started now on a thread of its own; its result (or its exception) is
    the future's."""
    future: Future[T] = Future()
    context = contextvars.copy_context()

    def run() -> None:
        future.set_running_or_notify_cancel()
        try:
            future.set_result(context.run(fn, *args))
        except BaseException as exc:  # the caller gets it from result()
            future.set_exception(exc)

    name = getattr(fn, "__name__", "call")
    threading.Thread(target=run, name=f"watchdog-{name}", daemon=True).start()
    return future


def settle(futures: Iterable[Future[Any]]) -> None:
    """Wait until every one of ``futures`` has finished (results and errors left in them):
    a check does not return while statements it started are still running."""
    wait(list(futures))
