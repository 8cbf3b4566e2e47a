"""Python's cyclic garbage collector paused while a check builds many objects at once.

A schema poll after a migration holds a few million live objects (columns, snapshots,
parsed statements); each full collection the allocations trigger walks all of them, again
and again while they are built. Paused, the objects are still freed by reference counting,
and the cycles among them (parsed statements' parent links) when the last pause ends.
Pauses nest and may overlap across threads: the collector runs again when the last ends,
if it ran before the first began, or after ``limit`` seconds at the latest (a check left
behind in a driver that ignores its cancel must not keep the collector off)."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

#: The longest a pause keeps the collector off, in seconds.
LIMIT = 300.0

_lock = threading.Lock()
_held = 0
_was_enabled = False
_timer: threading.Timer | None = None


def _expire() -> None:
    with _lock:
        if _held and _was_enabled:
            gc.enable()


@contextmanager
def paused(limit: float = LIMIT) -> Iterator[None]:
    """No cyclic collection inside the block (reference counting still frees)."""
    global _held, _was_enabled, _timer
    with _lock:
        if not _held:
            _was_enabled = gc.isenabled()
            gc.disable()
            _timer = threading.Timer(limit, _expire)
            _timer.daemon = True
            _timer.start()
        _held += 1
    try:
        yield
    finally:
        with _lock:
            _held -= 1
            if not _held:
                if _timer is not None:
                    _timer.cancel()
                    _timer = None
                if _was_enabled:
                    gc.enable()
