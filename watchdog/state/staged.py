"""What one monitor run writes, held back until the runner commits the whole run at once.

A check reads the state store as it runs (metric history, snapshots, documents), but what
it writes (new snapshots, a new version of a document) is only staged here. The runner then
commits the result, the alert state, these writes and the outbox records of the run in one
state-store transaction (:meth:`watchdog.state.store.Store.commit`): a crash before that
commit leaves no trace of the run, so the next run repeats it whole; a crash after it
leaves the outbox to deliver what the run produced. Nothing is half-saved.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from watchdog.models import CheckResult, Column


@dataclass(frozen=True, slots=True, kw_only=True)
class SnapshotWrite:
    monitor_id: str
    tables: Mapping[str, Sequence[Column]]
    taken_at: datetime
    tokens: Mapping[str, str | None]


@dataclass(frozen=True, slots=True, kw_only=True)
class ArtifactWrite:
    kind: str
    key: str
    payload: Mapping[str, Any]


@dataclass(slots=True)
class Writes:
    """The state a check changed, in the order it changed it."""

    snapshots: list[SnapshotWrite] = field(default_factory=list)
    artifacts: list[ArtifactWrite] = field(default_factory=list)


class Readable(Protocol):
    """The reads of :class:`watchdog.state.store.Store` a check may make."""

    def metric_history(self, monitor_id: str, name: str, tags: Sequence[str] | None = None,
                       since: datetime | None = None) -> list[tuple[datetime, float]]: ...

    def last_result(self, monitor_id: str) -> CheckResult | None: ...

    def snapshot_tokens(self, monitor_id: str) -> dict[str, str | None]: ...

    def latest_snapshots(self, monitor_id: str,
                         tables: Sequence[str] | None = None) -> dict[str, list[Column]]: ...

    def get_artifact(self, kind: str, key: str, version: int | None = None
                     ) -> tuple[int, datetime, dict[str, Any]] | None: ...


class StagedHistory:
    """The check's view of the state store: reads pass through, writes are staged.

    A document written during the run is what a later read of it in the same run returns;
    snapshots are written once, at the end of a schema poll, and are not read back.
    """

    def __init__(self, store: Readable) -> None:
        self._store = store
        self.writes = Writes()
        self._artifacts: dict[tuple[str, str], tuple[int, datetime, dict[str, Any]]] = {}

    def metric_history(self, monitor_id: str, name: str, tags: Sequence[str] | None = None,
                       since: datetime | None = None) -> list[tuple[datetime, float]]:
        return self._store.metric_history(monitor_id, name, tags, since)

    def last_result(self, monitor_id: str) -> CheckResult | None:
        return self._store.last_result(monitor_id)

    def snapshot_tokens(self, monitor_id: str) -> dict[str, str | None]:
        return self._store.snapshot_tokens(monitor_id)

    def latest_snapshots(self, monitor_id: str,
                         tables: Sequence[str] | None = None) -> dict[str, list[Column]]:
        return self._store.latest_snapshots(monitor_id, tables)

    def save_snapshots(self, monitor_id: str, tables: Mapping[str, Sequence[Column]],
                       taken_at: datetime, tokens: Mapping[str, str] | None = None) -> None:
        if tables:
            self.writes.snapshots.append(SnapshotWrite(
                monitor_id=monitor_id, tables={k: list(v) for k, v in tables.items()},
                taken_at=taken_at, tokens=dict(tokens or {})))

    def get_artifact(self, kind: str, key: str, version: int | None = None
                     ) -> tuple[int, datetime, dict[str, Any]] | None:
        staged = self._artifacts.get((kind, key))
        if staged is not None and version in (None, staged[0]):
            return staged[0], staged[1], dict(staged[2])
        return self._store.get_artifact(kind, key, version)

    def put_artifact(self, kind: str, key: str, payload: Mapping[str, Any]) -> int:
        """Stage a new version of ``(kind, key)``; returns the version it will have."""
        latest = self.get_artifact(kind, key)
        version = (latest[0] if latest else 0) + 1
        self._artifacts[(kind, key)] = (version, datetime.now(UTC), dict(payload))
        self.writes.artifacts.append(ArtifactWrite(kind=kind, key=key, payload=dict(payload)))
        return version
