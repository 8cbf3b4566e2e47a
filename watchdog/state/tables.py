"""The state database's tables (SQLAlchemy Core), and how value objects map to their rows.

Only :mod:`watchdog.state.store` queries these tables. Bump :data:`SCHEMA_VERSION` on any
change to them and add the step that upgrades the previous version to ``migrate.STEPS``:
the store upgrades an older database in place and refuses one it has no steps for (a
newer watchdog's, or an unknown version) rather than guess.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from watchdog.models import AlertState, Cause, CheckResult, Finding, Metric, Status

#: Written into ``meta`` when a database is created and checked on every open.
SCHEMA_VERSION = 4

metadata = sa.MetaData()

# SQLite wants exactly INTEGER for an auto-incrementing rowid primary key; Postgres gets BIGINT.
_Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    Postgres stores ``timestamptz``; SQLite has no time zones, so values are stored as naive
    UTC (which also keeps its text ordering chronological) and made aware again on read.
    Naive datetimes are refused: above the adapters every time is aware UTC.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = aware(value)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        at: datetime = value
        return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


meta = sa.Table(
    "meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", _Id, primary_key=True, autoincrement=True),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime),
    sa.Column("trigger", sa.String(32), nullable=False),  # "once", "daemon", ...
    sa.Column("status", sa.String(32), nullable=False),  # "running" until finished
    sqlite_autoincrement=True,
)

check_results = sa.Table(
    "check_results",
    metadata,
    sa.Column("id", _Id, primary_key=True, autoincrement=True),
    sa.Column("run_id", _Id, sa.ForeignKey("runs.id", ondelete="SET NULL")),
    sa.Column("monitor_id", sa.String(255), nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("warehouse", sa.String(255)),
    sa.Column("subject", sa.String(1024)),
    sa.Column("reasons", sa.JSON, nullable=False),
    sa.Column("findings", sa.JSON, nullable=False),
    # The result's own metrics, so that a stored result round-trips whole; metric_history
    # holds the same points again, keyed for time-series lookups.
    sa.Column("metrics", sa.JSON, nullable=False),
    sa.Column("started_at", UTCDateTime),
    sa.Column("duration_s", sa.Float, nullable=False),
    # When the store wrote the row: what prune() ages by (started_at may be unknown).
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sqlite_autoincrement=True,
)
sa.Index("ix_check_results_monitor", check_results.c.monitor_id, check_results.c.id)
sa.Index("ix_check_results_recorded_at", check_results.c.recorded_at)

metric_history = sa.Table(
    "metric_history",
    metadata,
    sa.Column("monitor_id", sa.String(255), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("tags", sa.Text, nullable=False),  # sorted, de-duplicated, comma-joined
    sa.Column("ts", UTCDateTime, nullable=False),
    sa.Column("value", sa.Float, nullable=False),
)
sa.Index(
    "ix_metric_history_series",
    metric_history.c.monitor_id,
    metric_history.c.name,
    metric_history.c.tags,
    metric_history.c.ts,
)
sa.Index("ix_metric_history_ts", metric_history.c.ts)

schema_snapshots = sa.Table(
    "schema_snapshots",
    metadata,
    sa.Column("id", _Id, primary_key=True, autoincrement=True),
    sa.Column("monitor_id", sa.String(255), nullable=False),
    sa.Column("table_name", sa.String(1024), nullable=False),
    sa.Column("taken_at", UTCDateTime, nullable=False),
    sa.Column("version_token", sa.String(255)),
    sa.Column("columns", sa.JSON, nullable=False),
    sqlite_autoincrement=True,
)
# Latest per (monitor, table) is one backwards index scan.
sa.Index(
    "ix_schema_snapshots_latest",
    schema_snapshots.c.monitor_id,
    schema_snapshots.c.table_name,
    schema_snapshots.c.taken_at,
    schema_snapshots.c.id,
)

alert_state = sa.Table(
    "alert_state",
    metadata,
    sa.Column("dedup_key", sa.String(512), primary_key=True),
    sa.Column("monitor_id", sa.String(255), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # "open" | "resolved"
    sa.Column("severity", sa.String(16), nullable=False),  # a models.Status value
    sa.Column("fingerprint", sa.Text, nullable=False),
    sa.Column("opened_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("occurrences", sa.Integer, nullable=False),
    sa.Column("subjects", sa.JSON),  # what was failing, as announced (v4)
    sa.Column("clean", sa.Integer),  # clean passes in a row while open (v4)
    sa.Column("incident", sa.String(512)),  # the cause's aggregation key it joined (v4)
)
sa.Index("ix_alert_state_status", alert_state.c.status)

# What a monitor found that may explain other monitors' failures on the same table (a
# schema change, a stale table): one row per producer, table and group, kept until it
# expires (see models.Cause and alerting/incidents.py).
causes = sa.Table(
    "causes",
    metadata,
    sa.Column("monitor_id", sa.String(255), primary_key=True),
    sa.Column("table_name", sa.String(1024), primary_key=True),
    sa.Column("group_key", sa.String(512), primary_key=True),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
)
sa.Index("ix_causes_table", causes.c.table_name, causes.c.expires_at)

outbox = sa.Table(
    "outbox",
    metadata,
    # Ids only grow (AUTOINCREMENT on SQLite, a sequence on Postgres): they are the order.
    sa.Column("id", _Id, primary_key=True, autoincrement=True),
    sa.Column("sink", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("last_error", sa.Text),
    sa.Column("delivered_at", UTCDateTime),
    # set when the receiver refused the record for good (a dead letter): never resent
    sa.Column("rejected_at", UTCDateTime),
    sqlite_autoincrement=True,
)
sa.Index("ix_outbox_pending", outbox.c.sink, outbox.c.delivered_at, outbox.c.id)

# Who may run the scheduled jobs when several daemons share this store: one row per lease,
# held until ``expires_at`` unless its holder renews it (see ``state/lease.py``).
leases = sa.Table(
    "leases",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("holder", sa.String(200), nullable=False),
    sa.Column("acquired_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
)

# Versioned JSON documents that checks keep between runs: drift reference profiles,
# flagged volume windows, audit-log watermarks. (kind, key) names one series of versions.
artifacts = sa.Table(
    "artifacts",
    metadata,
    sa.Column("id", _Id, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("key", sa.String(512), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.UniqueConstraint("kind", "key", "version", name="uq_artifacts_version"),
    sqlite_autoincrement=True,
)


# -- rows <-> value objects -----------------------------------------------------------------


def now() -> datetime:
    """The current time, aware UTC."""
    return datetime.now(UTC)


def aware(value: datetime) -> datetime:
    """``value`` in UTC; a naive datetime is a bug in the caller and raises ValueError."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()} given; use an aware UTC time")
    return value.astimezone(UTC)


def tag_key(tags: Sequence[str]) -> str:
    """The canonical form of a tag set: sorted, de-duplicated, comma-joined."""
    return ",".join(sorted(set(tags)))


def plain(obj: Any) -> Any:
    """A JSON-ready copy of ``obj``. Non-finite floats become ``"nan"``/``"inf"``/``"-inf"``
    (Postgres json rejects them); tuples and sets become lists; unknown objects become str."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else repr(obj)
    if obj is None or isinstance(obj, str | int):
        return obj
    if isinstance(obj, Mapping):
        return {str(key): plain(value) for key, value in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        return [plain(value) for value in obj]
    if isinstance(obj, datetime):
        return obj.isoformat()
    if isinstance(obj, enum.Enum):
        return plain(obj.value)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if callable(getattr(obj, "tolist", None)):  # numpy scalars and arrays
        return plain(obj.tolist())
    return str(obj)


class Encoded(str):
    """JSON text already written by :func:`dumps`: it is stored as it is."""

    __slots__ = ()


def dumps(obj: Any) -> str:
    """The engines' JSON serializer: strict JSON that every backend accepts.

    Plain data (what most rows hold: a snapshot's columns, a finding's fields) is written by
    the json module directly, anything else through :func:`plain`; a non-finite float, or a
    key json refuses, sends the whole value through :func:`plain` (walking every value in
    Python was most of saving a 10,000-table migration's snapshots). :class:`Encoded` text
    was written by this function already."""
    if type(obj) is Encoded:
        return str(obj)
    try:
        return json.dumps(obj, allow_nan=False, default=plain)
    except (ValueError, TypeError):
        return json.dumps(plain(obj), allow_nan=False)


def result_row(result: CheckResult) -> dict[str, Any]:
    """A ``check_results`` row (without run_id/recorded_at) for ``result``."""
    return {
        "monitor_id": result.monitor_id, "kind": result.kind, "status": result.status.value,
        "summary": result.summary, "warehouse": result.warehouse, "subject": result.subject,
        "reasons": list(result.reasons), "findings": plain(result.findings),
        "metrics": plain(result.metrics),
        "started_at": aware(result.started_at) if result.started_at else None,
        "duration_s": float(result.duration_s),
    }


def metric_rows(result: CheckResult, default_ts: datetime) -> list[dict[str, Any]]:
    """``metric_history`` rows for the finite metrics of ``result``.

    A point's time is the metric's own timestamp, else ``default_ts``. NaN and infinities
    are left out: they say nothing to a baseline (and SQLite stores NaN as NULL).
    """
    return [
        {
            "monitor_id": result.monitor_id, "name": m.name, "tags": tag_key(m.tags),
            "ts": default_ts if m.timestamp is None else datetime.fromtimestamp(m.timestamp, UTC),
            "value": float(m.value),
        }
        for m in result.metrics
        if math.isfinite(m.value)
    ]


def to_result(row: Mapping[Any, Any]) -> CheckResult:
    """The CheckResult a ``check_results`` row holds."""
    return CheckResult(
        monitor_id=row["monitor_id"], kind=row["kind"], status=Status(row["status"]),
        summary=row["summary"], warehouse=row["warehouse"], subject=row["subject"],
        reasons=tuple(row["reasons"]),
        metrics=tuple(
            Metric(**{**m, "value": float(m["value"]), "tags": tuple(m["tags"])})
            for m in row["metrics"]
        ),
        findings=tuple(_finding(f) for f in row["findings"]),
        started_at=row["started_at"], duration_s=float(row["duration_s"]),
    )


def _finding(data: Mapping[str, Any]) -> Finding:
    """A stored finding (those written before v4 have no status or group)."""
    group = tuple((str(k), str(v)) for k, v in data.get("group") or ())
    return Finding(**{**data, "status": Status(data.get("status", "OK")), "group": group})


def alert_row(state: AlertState) -> dict[str, Any]:
    """An ``alert_state`` row for ``state``."""
    return {
        "dedup_key": state.dedup_key, "monitor_id": state.monitor_id, "status": state.status,
        "severity": state.severity.value, "fingerprint": state.fingerprint,
        "opened_at": aware(state.opened_at), "updated_at": aware(state.updated_at),
        "occurrences": state.occurrences, "subjects": list(state.subjects),
        "clean": state.clean, "incident": state.incident,
    }


def to_alert(row: Mapping[Any, Any]) -> AlertState:
    """The AlertState an ``alert_state`` row holds."""
    return AlertState(**{**row, "severity": Status(row["severity"]),
                         "subjects": tuple(row.get("subjects") or ()),
                         "clean": int(row.get("clean") or 0)})


def cause_row(cause: Cause) -> dict[str, Any]:
    """A ``causes`` row for ``cause``."""
    return {"monitor_id": cause.monitor_id, "table_name": cause_table(cause.warehouse,
                                                                      cause.table),
            "group_key": tag_key([f"{k}:{v}" for k, v in cause.group]),
            "expires_at": aware(cause.expires), "payload": plain(cause)}


def cause_table(warehouse: str, table: str) -> str:
    """How causes are keyed: by warehouse and table, case folded."""
    return f"{warehouse}/{table}".lower()


def to_cause(payload: Mapping[str, Any]) -> Cause:
    """The Cause a ``causes`` row's payload holds."""
    return Cause(**{**payload, "at": datetime.fromisoformat(payload["at"]),
                    "expires": datetime.fromisoformat(payload["expires"]),
                    "columns": tuple(payload.get("columns") or ()),
                    "group": tuple((str(k), str(v)) for k, v in payload.get("group") or ()),
                    "handles": tuple(payload.get("handles") or ())})
