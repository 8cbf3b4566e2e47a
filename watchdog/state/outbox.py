"""The outbox part of the state store: records waiting for a durable sink, in order.

A record is pending until it is delivered, or rejected: refused for good by the receiver
(a dead letter, kept for inspection and pruned like delivered records, never resent).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from watchdog.errors import redact
from watchdog.state import tables as t

_CHUNK = 500  # ids per IN (...) list
_MAX_ERROR_CHARS = 2000


class OutboxMixin:
    """Outbox methods of :class:`watchdog.state.store.Store` (which provides ``_tx``)."""

    _secrets: tuple[str, ...]

    def _tx(self, *, write: bool = False) -> AbstractContextManager[Connection]:
        raise NotImplementedError

    def enqueue(self, sink: str, records: Sequence[Mapping[str, Any]]) -> None:
        """Append ``records`` for ``sink`` in order, all or none."""
        if not records:
            return
        with self._tx(write=True) as conn:
            write_outbox(conn, sink, records)

    def pending(self, sink: str, limit: int = 500) -> list[tuple[int, dict[str, Any]]]:
        """Up to ``limit`` undelivered, unrejected ``(id, record)`` pairs, oldest first."""
        c = t.outbox.c
        stmt = sa.select(c.id, c.payload).where(c.sink == sink, *_waiting())
        with self._tx() as conn:
            rows = conn.execute(stmt.order_by(c.id).limit(limit)).all()
        return [(int(row.id), row.payload) for row in rows]

    def pending_count(self, sink: str) -> int:
        """How many records wait for ``sink``."""
        c = t.outbox.c
        stmt = sa.select(sa.func.count()).where(c.sink == sink, *_waiting())
        with self._tx() as conn:
            return int(conn.execute(stmt).scalar_one())

    def rejected(self, sink: str, limit: int = 100) -> list[tuple[int, dict[str, Any], str]]:
        """The newest dead letters of ``sink``: ``(id, record, error)``, newest first."""
        c = t.outbox.c
        stmt = sa.select(c.id, c.payload, c.last_error).where(
            c.sink == sink, c.rejected_at.is_not(None))
        with self._tx() as conn:
            rows = conn.execute(stmt.order_by(c.id.desc()).limit(limit)).all()
        return [(int(row.id), row.payload, row.last_error or "") for row in rows]

    def mark_delivered(self, ids: Sequence[int]) -> None:
        """Mark outbox records delivered; they are no longer pending."""
        self._update_outbox(ids, delivered_at=t.now())

    def mark_failed(self, ids: Sequence[int], error: str) -> None:
        """Count a failed delivery attempt and keep the (redacted) error; they stay pending."""
        self._update_outbox(ids, attempts=t.outbox.c.attempts + 1, last_error=self._text(error))

    def mark_rejected(self, ids: Sequence[int], error: str) -> None:
        """Dead-letter records the receiver refused for good: kept, never sent again."""
        self._update_outbox(ids, attempts=t.outbox.c.attempts + 1, last_error=self._text(error),
                            rejected_at=t.now())

    def _text(self, error: str) -> str:
        return redact(error, self._secrets)[:_MAX_ERROR_CHARS]

    def _update_outbox(self, ids: Sequence[int], **values: Any) -> None:
        with self._tx(write=True) as conn:
            for start in range(0, len(ids), _CHUNK):
                chunk = [int(i) for i in ids[start : start + _CHUNK]]
                conn.execute(sa.update(t.outbox).where(t.outbox.c.id.in_(chunk)).values(**values))


def write_outbox(conn: Connection, sink: str, records: Sequence[Mapping[str, Any]]) -> None:
    """Append ``records`` for ``sink`` on ``conn`` (inside the caller's transaction)."""
    if records:
        now = t.now()
        conn.execute(sa.insert(t.outbox), [
            {"sink": sink, "created_at": now, "payload": t.plain(record), "attempts": 0}
            for record in records])


def _waiting() -> Iterator[sa.ColumnElement[bool]]:
    yield t.outbox.c.delivered_at.is_(None)
    yield t.outbox.c.rejected_at.is_(None)


def finished_before(before: Any) -> sa.ColumnElement[bool]:
    """Outbox rows that housekeeping may delete: delivered or rejected before ``before``."""
    c = t.outbox.c
    return sa.or_(c.delivered_at < before, c.rejected_at < before)
