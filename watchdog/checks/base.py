"""What a check is: config in (``Params``), typed facts from a warehouse, a CheckResult out."""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from watchdog.config.models import Config, MonitorConfig
from watchdog.errors import PermissionDenied
from watchdog.models import (
    Cause,
    CheckResult,
    Column,
    Finding,
    Group,
    Metric,
    Status,
    TableRef,
    worst,
)
from watchdog.warehouses.base import Warehouse


class History(Protocol):
    """The part of the state store that checks use: metric history, past results, schema
    snapshots, and versioned JSON documents (drift profiles, flagged volume windows)."""

    def metric_history(
        self, monitor_id: str, name: str, tags: Sequence[str] | None = None,
        since: datetime | None = None,
    ) -> list[tuple[datetime, float]]: ...

    def last_result(self, monitor_id: str) -> CheckResult | None: ...

    def snapshot_tokens(self, monitor_id: str) -> dict[str, str | None]: ...

    def latest_snapshots(self, monitor_id: str,
                         tables: Sequence[str] | None = None) -> dict[str, list[Column]]: ...

    def save_snapshots(self, monitor_id: str, tables: Mapping[str, Sequence[Column]],
                       taken_at: datetime, tokens: Mapping[str, str] | None = None) -> None: ...

    def get_artifact(
        self, kind: str, key: str, version: int | None = None
    ) -> tuple[int, datetime, dict[str, Any]] | None: ...

    def put_artifact(self, kind: str, key: str, payload: Mapping[str, Any]) -> int: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckContext:
    """Everything a check may use while it runs."""

    config: Config
    warehouse: Warehouse
    history: History | None
    now: datetime  # aware UTC; the time the pass started


@dataclass(slots=True)
class Outcome:
    """Builds a CheckResult while a check runs: add findings and metrics, then ``result()``."""

    monitor: MonitorConfig
    kind: str
    subject: str | None
    base_tags: tuple[str, ...]
    findings: list[Finding] = field(default_factory=list)
    metrics: list[Metric] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    causes: list[Cause] = field(default_factory=list)

    def add(self, status: Status, reason: str, message: str, **details: Any) -> None:
        self.add_for((), status, reason, message, **details)

    def add_for(self, group: Group, status: Status, reason: str, message: str,
                **details: Any) -> None:
        """A finding about one group of a grouped monitor (its own alert, its own owners)."""
        self.findings.append(Finding(reason=reason, message=message, status=status,
                                     subject=self.subject, group=group, details=details))

    def metric(self, measure: str, value: float, *extra_tags: str, **kw: Any) -> None:
        name = f"watchdog.{self.kind}.{measure}"
        tags = (*self.base_tags, *extra_tags)
        self.metrics.append(Metric(name=name, value=value, tags=tags, **kw))

    def result(self, ok_summary: str) -> CheckResult:
        status = worst([f.status for f in self.findings])
        problems = [f for f in self.findings if f.status.is_problem]
        summary = "; ".join(f.message for f in problems) if problems else ok_summary
        return CheckResult(
            monitor_id=self.monitor.id, kind=self.kind, status=status, summary=summary,
            warehouse=self.monitor.warehouse, subject=self.subject,
            reasons=tuple(dict.fromkeys(f.reason for f in problems)),
            metrics=tuple(self.metrics), findings=tuple(self.findings),
            causes=tuple(self.causes),
        )


#: The params type of a check's monitor (its kind's ``Params``).
P = TypeVar("P", bound=MonitorConfig)


class Check(abc.ABC, Generic[P]):
    """One kind of check. Subclasses name their params type (``Check[VolumeParams]``), set
    KIND and Params (that same type, which validates the monitor), and implement ``run``."""

    KIND: ClassVar[str]
    Params: ClassVar[type[MonitorConfig]]
    #: True: the runner's alert policy opens, updates and resolves one alert per monitor and
    #: table from the result's status. False: the check composes its own one-shot events
    #: (``CheckResult.events``) and the policy only tracks whether the check could run
    #: (ERROR opens an alert, the next result that is not ERROR resolves it).
    LIFECYCLE_ALERTS: ClassVar[bool] = True
    #: A service check of this kind's own (e.g. ``watchdog.contract``), sent beside the
    #: generic ``watchdog.monitor`` one with the same status and tags.
    SERVICE_CHECK: ClassVar[str | None] = None

    def __init__(self, monitor: P) -> None:
        self.monitor: P = monitor

    @abc.abstractmethod
    def run(self, ctx: CheckContext) -> CheckResult:
        """Ask the warehouse for facts and judge them. Exceptions become ERROR results."""

    def outcome(self, subject: str | None) -> Outcome:
        tags = [f"monitor:{self.monitor.id}", f"warehouse:{self.monitor.warehouse}"]
        if subject:
            tags.append(f"table:{subject}")
        return Outcome(self.monitor, self.KIND, subject, (*tags, *self.monitor.tags))


def unreadable(wh: Warehouse, tables: Sequence[TableRef]) -> dict[TableRef, PermissionDenied]:
    """Of the tables a check found missing, those that exist but watchdog's login may not
    read, with the GRANT that fixes each; none where the warehouse cannot tell."""
    if not tables or not wh.SUPPORTS_OWN_ACCESS:
        return {}
    return wh.own_access(tables)


def human(delta: timedelta) -> str:
    """``timedelta(hours=5, minutes=3)`` → ``"5h 3m"``."""
    seconds = int(abs(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{days}d" * bool(days), f"{hours}h" * bool(hours), f"{minutes}m" * bool(minutes)]
    text = " ".join(p for p in parts if p) or f"{secs}s"
    return f"-{text}" if delta.total_seconds() < 0 else text
