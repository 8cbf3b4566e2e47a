"""At-least-once, in-order delivery to durable sinks through the state store's outbox.

A monitor run's records reach the outbox in the same transaction as its result and state
(:func:`records`, then ``Store.commit``); :func:`drain` sends everything pending for the
sink, oldest first, and marks records delivered after each request that succeeded.
:func:`deliver` does both for records that belong to no run (heartbeats, the daemon's own
events). At the first failure it stops and leaves the rest pending for the next pass,
so nothing is lost or reordered, and a record already delivered is not sent again (a
record can be sent twice only if the process dies between a request and its mark).
A record the receiver refuses for good (``SinkError.rejected``: a 400 or 413) would block
every record behind it forever, so it is set aside as a dead letter instead (kept in the
store, counted in the report); a refused batch is resent one record at a time first, so
one bad record does not take its neighbours with it.
Results are not carried: durable sinks deliver events, metrics and service checks.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from watchdog.crashpoints import reached
from watchdog.errors import SinkError
from watchdog.models import Emission
from watchdog.sinks.base import Sink, emission_records, records_emission

#: What a record's time field is called, per record type; stamped when left empty.
_TIME_FIELDS = {"event": "date_happened", "metric": "timestamp", "service_check": "timestamp"}


class OutboxStore(Protocol):
    """The outbox part of :class:`watchdog.state.store.Store`."""

    def enqueue(self, sink: str, records: Sequence[Mapping[str, Any]]) -> None: ...
    def pending(self, sink: str, limit: int = 500) -> list[tuple[int, dict[str, Any]]]: ...
    def pending_count(self, sink: str) -> int: ...
    def mark_delivered(self, ids: Sequence[int]) -> None: ...
    def mark_failed(self, ids: Sequence[int], error: str) -> None: ...
    def mark_rejected(self, ids: Sequence[int], error: str) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryReport:
    """What one ``deliver`` did: records delivered, records still pending, the error that
    stopped it (if any), and records refused for good with the last refusal."""

    delivered: int
    pending: int
    error: str | None = None
    rejected: int = 0
    rejection: str | None = None


def deliver(
    sink: Sink, store: OutboxStore, emission: Emission, *, key: str | None = None,
    batch: int = 500,
) -> DeliveryReport:
    """Deliver ``emission`` and everything still pending for ``sink`` (outbox ``key``,
    default ``sink.NAME``). Never raises SinkError: a failure is in the report."""
    if not sink.DURABLE:
        return _emit_now(sink, emission)
    key = key or sink.NAME
    store.enqueue(key, outbox_records(emission))
    return drain(sink, store, key=key, batch=batch)


def outbox_records(emission: Emission) -> list[dict[str, Any]]:
    """The outbox records of ``emission``, their empty times stamped now."""
    return stamp(emission_records(emission), int(time.time()))


def drain(sink: Sink, store: OutboxStore, *, key: str | None = None,
          batch: int = 500) -> DeliveryReport:
    """Send everything pending for ``sink`` (outbox ``key``, default ``sink.NAME``), oldest
    first. Never raises SinkError: a failure is in the report."""
    key = key or sink.NAME
    tally = _Tally()
    last_id = 0
    while rows := store.pending(key, batch):
        if rows[0][0] <= last_id:  # the store handed back what we just marked: stop
            raise RuntimeError(f"outbox {key!r}: record {rows[0][0]} is pending again")
        for ids, records in groups(rows, sink.BATCHED):
            error = _send(sink, store, ids, records, tally)
            if error is not None:
                return tally.report(store.pending_count(key), error)
        if len(rows) < batch:
            break
        last_id = rows[-1][0]
    return tally.report(0, None)


@dataclass(slots=True)
class _Tally:
    delivered: int = 0
    rejected: int = 0
    rejection: str | None = None

    def report(self, pending: int, error: str | None) -> DeliveryReport:
        return DeliveryReport(delivered=self.delivered, pending=pending, error=error,
                              rejected=self.rejected, rejection=self.rejection)


def _send(sink: Sink, store: OutboxStore, ids: list[int], records: list[Mapping[str, Any]],
          tally: _Tally) -> str | None:
    """Send one group; marks what happened. Returns the error that must stop delivery."""
    try:
        sink.emit(records_emission(records))
    except SinkError as exc:
        if not exc.rejected:
            store.mark_failed(ids, str(exc))
            return str(exc)
        if len(ids) > 1:  # which record is at fault? each alone
            for one, record in zip(ids, records, strict=True):
                if (error := _send(sink, store, [one], [record], tally)) is not None:
                    return error
            return None
        store.mark_rejected(ids, str(exc))
        reached("deliver.marked")
        tally.rejected += 1
        tally.rejection = str(exc)
        return None
    reached("deliver.sent")
    store.mark_delivered(ids)
    reached("deliver.marked")
    tally.delivered += len(ids)
    return None


def groups(
    rows: Sequence[tuple[int, dict[str, Any]]], batched: frozenset[str]
) -> Iterator[tuple[list[int], list[Mapping[str, Any]]]]:
    """Consecutive rows of one type in ``batched`` as one group; every other row alone."""
    ids: list[int] = []
    records: list[Mapping[str, Any]] = []
    for row_id, record in rows:
        if records and not (record["type"] == records[-1]["type"] and record["type"] in batched):
            yield ids, records
            ids, records = [], []
        ids.append(row_id)
        records.append(record)
    if records:
        yield ids, records


def stamp(records: list[dict[str, Any]], now: int) -> list[dict[str, Any]]:
    """Records whose empty time field is set to ``now``, so a late delivery keeps its time."""
    return [
        {**r, _TIME_FIELDS[r["type"]]: now} if r.get(_TIME_FIELDS[r["type"]]) is None else r
        for r in records
    ]


def _emit_now(sink: Sink, emission: Emission) -> DeliveryReport:
    try:
        sink.emit(emission)
    except SinkError as exc:
        return DeliveryReport(delivered=0, pending=0, error=str(exc))
    return DeliveryReport(delivered=len(emission_records(emission)), pending=0)
