"""Deadlines: every monitor's check has one, and every warehouse call honours it.

The runner gives each check a :class:`Deadline` (the monitor's ``timeout``) and runs it with
the deadline set (:func:`applied`). An adapter asks :func:`current` before each statement:
it tells the warehouse to cancel the statement itself when the time is up (Postgres and
Redshift ``statement_timeout``/``lock_timeout``, Snowflake's statement timeout, BigQuery's
job timeout) and registers how to interrupt it from outside (:meth:`Deadline.running`).
The runner does the latter when a check is still running past its deadline, for warehouses
that cannot time a statement out themselves (DuckDB, SQLite) and for work outside any
statement, so a check can never hold a worker, a pass or a shutdown for longer than its
timeout and a short grace.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar

from watchdog.errors import CheckTimeout

log = logging.getLogger(__name__)

_CURRENT: ContextVar[Deadline | None] = ContextVar("watchdog_deadline", default=None)
#: A statement that fails this close to its deadline failed because of it.
_SLACK_S = 0.25


class Deadline:
    """The time one monitor's check may take, and how to stop what it is running."""

    def __init__(self, monitor_id: str, seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.monitor_id, self.seconds, self._clock = monitor_id, float(seconds), clock
        self._at = clock() + self.seconds
        self._lock = threading.Lock()
        self._cancels: dict[int, Callable[[], None]] = {}
        #: The kind of the statement running now (or last run), for the timeout's message.
        self.statement: str | None = None
        self.subject: str = ""
        #: Why it was cancelled from outside: "timeout", "shutdown", or None.
        self.cancelled: str | None = None
        self._wake = threading.Event()  # set when the check finishes or is cancelled

    def remaining(self) -> float:
        """Seconds left; 0 when the deadline has passed or the check was cancelled."""
        return 0.0 if self.cancelled else max(0.0, self._at - self._clock())

    def overdue(self) -> bool:
        """True when a failure now is best explained by this deadline."""
        return self.cancelled is not None or self.remaining() <= _SLACK_S

    def error(self, warehouse: str) -> CheckTimeout:
        """The error a statement cut short by this deadline raises."""
        what = f"its {self.statement} query" if self.statement else "its work"
        where = f" on {self.subject}" if self.subject else ""
        if self.cancelled == "shutdown":
            return CheckTimeout(warehouse, f"monitor {self.monitor_id}: {what}{where} was "
                                "cancelled because watchdog is stopping",
                                hint="it runs again at the next start")
        return CheckTimeout(
            warehouse, f"monitor {self.monitor_id} timed out after {self.seconds:g}s in "
            f"{what}{where}; the statement was cancelled",
            hint="raise the monitor's `timeout`, or look for a lock held on the table or "
                 "an overloaded warehouse")

    def check(self, warehouse: str) -> float:
        """Seconds left for the next statement; CheckTimeout when none are."""
        left = self.remaining()
        if left <= 0:
            raise self.error(warehouse)
        return left

    @contextlib.contextmanager
    def running(self, statement: str, subject: str = "",
                cancel: Callable[[], None] | None = None) -> Iterator[None]:
        """Say which statement runs now and how to interrupt it (called from any thread)."""
        key = id(cancel) if cancel is not None else 0
        with self._lock:
            self.statement, self.subject = statement, subject
            if cancel is not None:
                self._cancels[key] = cancel
        try:
            yield
        finally:
            with self._lock:
                self._cancels.pop(key, None)

    def finish(self) -> None:
        """The check is over (called by the thread that ran it)."""
        self._wake.set()

    def wait(self, seconds: float) -> None:
        """Block until the check finishes, it is cancelled, or ``seconds`` pass."""
        self._wake.wait(seconds)

    def cancel(self, why: str = "timeout") -> None:
        """Interrupt whatever the check is running; later statements fail at once."""
        with self._lock:
            self.cancelled = self.cancelled or why
            cancels = list(self._cancels.values())
        self._wake.set()
        for stop in cancels:
            try:
                stop()
            except Exception as exc:  # a dead connection cannot stop anything
                log.debug("cancelling a statement of %s: %s", self.monitor_id, exc)


def current() -> Deadline | None:
    """The deadline of the check running in this thread, if any."""
    return _CURRENT.get()


@contextlib.contextmanager
def applied(deadline: Deadline | None) -> Iterator[None]:
    """Run the body under ``deadline``."""
    token = _CURRENT.set(deadline)
    try:
        yield
    finally:
        _CURRENT.reset(token)
