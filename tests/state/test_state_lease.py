"""The leader lease on SQLite and the real PostgreSQL: one holder at a time, renewal,
expiry, release, and a race between separate stores (as separate daemons would be)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from watchdog.state import Store

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
TTL = timedelta(minutes=2)


def test_one_holder_until_it_expires_or_is_released(store: Store) -> None:
    assert store.acquire_lease("scheduler", "a", TTL, T0)
    assert not store.acquire_lease("scheduler", "b", TTL, T0 + timedelta(minutes=1))
    assert store.acquire_lease("scheduler", "a", TTL, T0 + timedelta(minutes=1))  # renewed
    assert store.lease_holder("scheduler") == ("a", T0 + timedelta(minutes=3))
    # b may take it only after a's renewal expired, not after the first expiry
    assert not store.acquire_lease("scheduler", "b", TTL, T0 + timedelta(minutes=2, seconds=30))
    assert store.acquire_lease("scheduler", "b", TTL, T0 + timedelta(minutes=3, seconds=1))
    assert not store.acquire_lease("scheduler", "a", TTL, T0 + timedelta(minutes=4))
    store.release_lease("scheduler", "a")  # not a's to release: nothing happens
    assert store.lease_holder("scheduler") is not None
    store.release_lease("scheduler", "b")
    assert store.lease_holder("scheduler") is None
    assert store.acquire_lease("scheduler", "a", TTL, T0 + timedelta(minutes=4))
    assert store.acquire_lease("other", "b", TTL, T0 + timedelta(minutes=4))  # names apart


def test_racing_stores_elect_exactly_one(url: str) -> None:
    stores = [Store.open(url) for _ in range(6)]
    won: list[str] = []
    start = threading.Barrier(len(stores))

    def contend(i: int) -> None:
        start.wait()
        if stores[i].acquire_lease("scheduler", f"d{i}", TTL):
            won.append(f"d{i}")

    threads = [threading.Thread(target=contend, args=(i,)) for i in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert len(won) == 1
        holder = stores[0].lease_holder("scheduler")
        assert holder is not None and holder[0] == won[0]
    finally:
        for s in stores:
            s.close()
