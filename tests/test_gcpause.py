"""The collector is paused inside ``gcpause.paused`` and runs again after the last pause."""

from __future__ import annotations

import gc
import threading

from watchdog import gcpause


def test_pauses_nest_and_overlap_across_threads() -> None:
    assert gc.isenabled()
    inside, release = threading.Event(), threading.Event()

    def other() -> None:
        with gcpause.paused():
            inside.set()
            release.wait(5)

    worker = threading.Thread(target=other)
    with gcpause.paused():
        assert not gc.isenabled()
        worker.start()
        assert inside.wait(5)
        with gcpause.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert not gc.isenabled()  # the other thread's pause is still on
    release.set()
    worker.join(5)
    assert gc.isenabled()


def test_a_collector_disabled_before_stays_disabled() -> None:
    gc.disable()
    try:
        with gcpause.paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_cycles_made_while_paused_are_collected_after() -> None:
    class Node:
        pass

    with gcpause.paused():
        a, b = Node(), Node()
        a.other, b.other = b, a  # type: ignore[attr-defined]
        del a, b
    assert gc.collect() >= 2


def test_a_pause_ends_after_its_limit_even_if_its_block_has_not() -> None:
    import time

    with gcpause.paused(limit=0.05):
        assert not gc.isenabled()
        deadline = time.monotonic() + 5
        while not gc.isenabled() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert gc.isenabled()  # a check stuck in a driver does not keep it off
    assert gc.isenabled()
