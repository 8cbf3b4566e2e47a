"""Python's cyclic garbage collector paused while a check builds many objects at once.

A schema poll after a migration holds a few million live objects (columns, snapshots,
parsed statements); each full collection the allocations trigger walks all of them, again
and again while they are built. Paused, the objects are still freed by reference counting,
and the cycles among them (parsed statements' parent links) when the last pause ends.
Pauses nest and may overlap across threads: the collector runs again when the last ends,
if it ran before the first began."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_held = 0
_was_enabled = False


@contextmanager
def paused() -> Iterator[None]:
    """No cyclic collection inside the block (reference counting still frees)."""
    global _held, _was_enabled
    with _lock:
        if not _held:
            _was_enabled = gc.isenabled()
            gc.disable()
        _held += 1
    try:
        yield
    finally:
        with _lock:
            _held -= 1
            if not _held and _was_enabled:
                gc.enable()
