"""The leader lease: several daemons may share one state store, one of them runs the jobs.

A lease is a row (name, holder, expiry). ``acquire`` takes it when it is free or expired,
and renews it when the caller already holds it, each in one conditional statement, so two
daemons racing on SQLite or Postgres cannot both win. A daemon that dies without releasing
it is replaced once the lease expires.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from watchdog.state import tables as t

#: Leases named so are heartbeats: one per daemon, renewed at each ``daemon.heartbeat``.
HEARTBEAT = "heartbeat:"


class LeaseMixin:
    """Lease methods of :class:`watchdog.state.store.Store` (which provides ``_tx``)."""

    _insert: Any

    def _tx(self, *, write: bool = False) -> AbstractContextManager[Connection]:
        raise NotImplementedError

    def acquire_lease(self, name: str, holder: str, ttl: timedelta,
                      now: datetime | None = None) -> bool:
        """Take or renew lease ``name`` for ``holder`` until ``now + ttl``; False when
        another holder has it and it has not expired."""
        now = t.aware(now) if now is not None else t.now()
        c = t.leases.c
        with self._tx(write=True) as conn:
            renewed = conn.execute(
                sa.update(t.leases)
                .where(c.name == name, sa.or_(c.holder == holder, c.expires_at < now))
                .values(holder=holder, expires_at=now + ttl,
                        acquired_at=sa.case((c.holder == holder, c.acquired_at),
                                            else_=sa.literal(now, t.UTCDateTime()))))
            if renewed.rowcount:
                return True
            taken = conn.execute(
                self._insert(t.leases)
                .values(name=name, holder=holder, acquired_at=now, expires_at=now + ttl)
                .on_conflict_do_nothing(index_elements=["name"])
                .returning(c.name))  # rowcount is -1 here on psycopg; a returned row is not
            if taken.first() is not None:
                return True
            # lost the insert race: to whom? (two calls of one holder race on Postgres)
            won = conn.execute(sa.select(c.holder).where(c.name == name)).scalar_one_or_none()
            return bool(won == holder)

    def beat(self, holder: str, ttl: timedelta, now: datetime | None = None) -> None:
        """Record that daemon ``holder`` is alive until ``now + ttl`` (read by
        ``watchdog health``); heartbeats of daemons gone for a day are forgotten."""
        now = t.aware(now) if now is not None else t.now()
        c = t.leases.c
        stmt = self._insert(t.leases).values(name=f"{HEARTBEAT}{holder}", holder=holder,
                                             acquired_at=now, expires_at=now + ttl)
        with self._tx(write=True) as conn:
            conn.execute(stmt.on_conflict_do_update(
                index_elements=["name"], set_={"acquired_at": now, "expires_at": now + ttl}))
            conn.execute(sa.delete(t.leases).where(
                c.name.startswith(HEARTBEAT), c.expires_at < now - timedelta(days=1)))

    def heartbeats(self) -> list[tuple[str, datetime, datetime]]:
        """``(holder, last beat, alive until)`` of every daemon that beat in the last day."""
        c = t.leases.c
        stmt = sa.select(c.holder, c.acquired_at, c.expires_at).where(
            c.name.startswith(HEARTBEAT)).order_by(c.acquired_at.desc())
        with self._tx() as conn:
            return [(str(r[0]), r[1], r[2]) for r in conn.execute(stmt)]

    def release_lease(self, name: str, holder: str) -> None:
        """Give lease ``name`` up at once, if ``holder`` has it (a clean shutdown)."""
        c = t.leases.c
        with self._tx(write=True) as conn:
            conn.execute(sa.delete(t.leases).where(c.name == name, c.holder == holder))

    def lease_holder(self, name: str) -> tuple[str, datetime] | None:
        """Who holds lease ``name`` and until when (expired leases included), or None."""
        c = t.leases.c
        with self._tx() as conn:
            row = conn.execute(sa.select(c.holder, c.expires_at).where(c.name == name)).first()
        return (str(row[0]), row[1]) if row else None
