"""Named crash points: where the crash-point suite kills the process to prove nothing is lost.

Every step that changes state or sends something calls :func:`reached` with its name. When
``WATCHDOG_CRASH_AT`` names that point (``name``, or ``name@N`` for its N-th passage), the
process kills itself with SIGKILL there: no ``finally``, no atexit, no flush, exactly what a
power cut or the OOM killer does. Unset (always, outside tests and ``bench/crash``), a call
is one dictionary lookup.

The points, in the order one monitor's output passes them:

``check.done``          the check returned; nothing of its run is persisted yet
``commit.result``       inside the state transaction: result and metric history written
``commit.alert``        inside it: alert state written
``commit.state``        inside it: snapshots and artifacts written
``commit.outbox``       inside it: outbox records written, COMMIT not yet sent
``commit.done``         committed; nothing delivered yet
``deliver.sent``        a request to a durable sink succeeded, not yet marked delivered
``deliver.marked``      that request is marked delivered
"""

from __future__ import annotations

import os
import signal
import threading

POINTS = ("check.done", "commit.result", "commit.alert", "commit.state", "commit.outbox",
          "commit.done", "deliver.sent", "deliver.marked")


def _parse(spec: str) -> tuple[str, int] | None:
    if not spec:
        return None
    name, _, nth = spec.partition("@")
    if name not in POINTS:
        raise ValueError(f"WATCHDOG_CRASH_AT={spec!r}: unknown crash point; one of {POINTS}")
    return name, int(nth or 1)


_ARMED = _parse(os.environ.get("WATCHDOG_CRASH_AT", ""))
_passed: dict[str, int] = {}
_lock = threading.Lock()


def reached(name: str) -> None:
    """Crash here when ``WATCHDOG_CRASH_AT`` names this point (and this passage of it)."""
    if _ARMED is None or _ARMED[0] != name:
        return
    with _lock:
        _passed[name] = _passed.get(name, 0) + 1
        if _passed[name] == _ARMED[1]:
            os.kill(os.getpid(), signal.SIGKILL)
