"""The state store: the only place that queries the state database (SQLite or Postgres).

Every method is one short transaction on a pooled connection, so one :class:`Store` may be
shared by the scheduler's worker threads. Database errors leave as :class:`StateError`
with credentials redacted; nothing above this module sees a SQLAlchemy or driver exception.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import datetime
from types import TracebackType
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

from watchdog.crashpoints import reached
from watchdog.errors import StateError, StateSchemaMismatch, redact
from watchdog.models import AlertState, Cause, CheckResult
from watchdog.state import migrate
from watchdog.state import tables as t
from watchdog.state.engine import create_engine, parse_url
from watchdog.state.lease import LeaseMixin
from watchdog.state.outbox import OutboxMixin, finished_before, write_outbox
from watchdog.state.snapshots import SnapshotMixin, write_snapshots
from watchdog.state.staged import Writes
from watchdog.state.tables import SCHEMA_VERSION

_VERSION_KEY = "schema_version"
log = logging.getLogger(__name__)
# Upserts are the one statement without a portable spelling; these are the supported backends
# (each dialect module imported when a store of that kind opens: Postgres' pulls in asyncpg's
# dialect too, 20 ms of start-up that a SQLite state store does not need).
_INSERTS: dict[str, str] = {
    "postgresql": "sqlalchemy.dialects.postgresql",
    "sqlite": "sqlalchemy.dialects.sqlite",
}


class Store(OutboxMixin, SnapshotMixin, LeaseMixin):
    """Run history, check results, metric history, schema snapshots, alert state and the outbox.

    Open with :meth:`Store.open`; thread-safe; close with :meth:`close` (or use ``with``).
    """

    def __init__(self, engine: Engine, *, display_url: str, secrets: Sequence[str] = ()) -> None:
        self._engine = engine
        self._secrets = tuple(secrets)
        self.url = display_url  #: the URL with its password redacted
        self._insert: Callable[[sa.Table], Any] = importlib.import_module(
            _INSERTS[engine.dialect.name]).insert
        # One shared in-memory SQLite connection must not serve two threads at once.
        self._lock = threading.RLock() if isinstance(engine.pool, StaticPool) else None

    @classmethod
    def open(cls, url: str | None = None) -> Store:
        """Open (creating if new) the state database at ``url``; default ``.watchdog/state.db``.

        Raises StateSchemaMismatch when the database was written by another schema version,
        and StateError when it cannot be reached or is not a watchdog state database.
        """
        sa_url = parse_url(url)
        secrets = [str(sa_url.password or "")]
        display = redact(sa_url.render_as_string(hide_password=True), secrets)
        store = cls(create_engine(sa_url, display), display_url=display, secrets=secrets)
        try:
            store._ensure_schema()
        except BaseException:
            store.close()
            raise
        return store

    def close(self) -> None:
        """Release every pooled connection. The store must not be used afterwards."""
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    # -- runs and results ------------------------------------------------------------------

    def start_run(self, trigger: str) -> int:
        """Record the start of a pass (``trigger`` e.g. ``"once"`` or ``"daemon"``); its id."""
        stmt = sa.insert(t.runs).values(started_at=t.now(), trigger=trigger, status="running")
        with self._tx(write=True) as conn:
            return int(conn.execute(stmt.returning(t.runs.c.id)).scalar_one())

    def finish_run(self, run_id: int, status: str) -> None:
        """Record the end of a pass and its overall status."""
        stmt = sa.update(t.runs).where(t.runs.c.id == run_id)
        with self._tx(write=True) as conn:
            if conn.execute(stmt.values(finished_at=t.now(), status=status)).rowcount == 0:
                raise StateError(f"state database {self.url}: no run with id {run_id}")

    def record_result(self, result: CheckResult, run_id: int | None = None) -> None:
        """Store ``result`` and append each of its metrics to the metric history.

        A point's time is the metric's timestamp, else the result's start, else now. NaN and
        infinite values stay on the result but are not kept as history points.
        """
        with self._tx(write=True) as conn:
            _write_result(conn, result, run_id)

    def commit(
        self, result: CheckResult, *, run_id: int | None = None,
        alerts: Sequence[AlertState] = (), writes: Writes | None = None,
        outbox: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    ) -> None:
        """Everything one monitor run produced, in ONE transaction (a transactional outbox):
        its result and metric points, its alerts' states, the snapshots and documents its
        check staged, and the records each durable sink must receive. A crash before the
        commit leaves nothing of the run; after it, the outbox delivers what it produced."""
        with self._tx(write=True) as conn:
            _write_result(conn, result, run_id)
            reached("commit.result")
            for alert in alerts:
                self._write_alert(conn, alert)
            reached("commit.alert")
            for snap in writes.snapshots if writes else ():
                write_snapshots(conn, snap.monitor_id, snap.tables, snap.taken_at, snap.tokens)
            for doc in writes.artifacts if writes else ():
                _write_artifact(conn, doc.kind, doc.key, doc.payload)
            for cause in result.causes:
                self._write_cause(conn, cause)
            reached("commit.state")
            for sink, records in (outbox or {}).items():
                write_outbox(conn, sink, records)
            reached("commit.outbox")

    def last_result(self, monitor_id: str) -> CheckResult | None:
        """The most recently recorded result of a monitor, or None."""
        found = self.results(monitor_id, limit=1)
        return found[0] if found else None

    def results(self, monitor_id: str, limit: int = 50) -> list[CheckResult]:
        """Up to ``limit`` recorded results of a monitor, newest first."""
        c = t.check_results.c
        stmt = sa.select(t.check_results).where(c.monitor_id == monitor_id)
        with self._tx() as conn:
            rows = conn.execute(stmt.order_by(c.id.desc()).limit(limit)).mappings().all()
        return [t.to_result(row) for row in rows]

    def metric_history(
        self, monitor_id: str, name: str, tags: Sequence[str] | None = None,
        since: datetime | None = None,
    ) -> list[tuple[datetime, float]]:
        """``(ts, value)`` points of one metric, oldest first, from ``since`` on (inclusive).

        ``tags`` selects the series with exactly that tag set (order and duplicates do not
        matter; ``()`` is the untagged series); None returns the points of every tag set.
        """
        c = t.metric_history.c
        stmt = sa.select(c.ts, c.value).where(c.monitor_id == monitor_id, c.name == name)
        if tags is not None:
            stmt = stmt.where(c.tags == t.tag_key(tags))
        if since is not None:
            stmt = stmt.where(c.ts >= t.aware(since))
        with self._tx() as conn:
            return [(row.ts, float(row.value)) for row in conn.execute(stmt.order_by(c.ts))]

    # -- alert state -----------------------------------------------------------------------

    def get_alert(self, dedup_key: str) -> AlertState | None:
        """The remembered alert state for ``dedup_key``, or None."""
        stmt = sa.select(t.alert_state).where(t.alert_state.c.dedup_key == dedup_key)
        with self._tx() as conn:
            row = conn.execute(stmt).mappings().first()
        return t.to_alert(row) if row else None

    def put_alert(self, state: AlertState) -> None:
        """Insert or replace the alert state for ``state.dedup_key``."""
        with self._tx(write=True) as conn:
            self._write_alert(conn, state)

    def _write_alert(self, conn: Connection, state: AlertState) -> None:
        row = t.alert_row(state)
        stmt = self._insert(t.alert_state).values(**row)
        conn.execute(stmt.on_conflict_do_update(
            index_elements=[t.alert_state.c.dedup_key],
            set_={key: stmt.excluded[key] for key in row if key != "dedup_key"},
        ))

    def _write_cause(self, conn: Connection, cause: Cause) -> None:
        row = t.cause_row(cause)
        stmt = self._insert(t.causes).values(**row)
        conn.execute(stmt.on_conflict_do_update(
            index_elements=[t.causes.c.monitor_id, t.causes.c.table_name, t.causes.c.group_key],
            set_={"expires_at": stmt.excluded.expires_at, "payload": stmt.excluded.payload}))

    def active_causes(self, warehouse: str, table: str, now: datetime) -> list[Cause]:
        """The causes recorded for ``table`` of ``warehouse`` that have not expired at
        ``now``, oldest first; expired ones go at the next prune."""
        c = t.causes.c
        with self._tx() as conn:
            rows = conn.execute(sa.select(c.payload).where(
                c.table_name == t.cause_table(warehouse, table),
                c.expires_at > t.aware(now))).all()
        causes = [t.to_cause(row.payload) for row in rows]
        return sorted(causes, key=lambda x: x.at)

    def open_alerts(self) -> list[AlertState]:
        """Every alert whose status is ``"open"``, oldest first."""
        c = t.alert_state.c
        stmt = sa.select(t.alert_state).where(c.status == "open")
        with self._tx() as conn:
            rows = conn.execute(stmt.order_by(c.opened_at, c.dedup_key)).mappings().all()
        return [t.to_alert(row) for row in rows]

    # -- artifacts ----------------------------------------------------------------------

    def put_artifact(self, kind: str, key: str, payload: Mapping[str, Any]) -> int:
        """Store a new version of the document ``(kind, key)``; returns its version (1, 2, …)."""
        with self._tx(write=True) as conn:
            return _write_artifact(conn, kind, key, payload)

    def get_artifact(
        self, kind: str, key: str, version: int | None = None
    ) -> tuple[int, datetime, dict[str, Any]] | None:
        """``(version, created_at, payload)`` of a version (the latest when None), or None."""
        cols = t.artifacts.c
        stmt = sa.select(cols.version, cols.created_at, cols.payload).where(
            cols.kind == kind, cols.key == key)
        stmt = (stmt.where(cols.version == version) if version is not None
                else stmt.order_by(cols.version.desc()).limit(1))
        with self._tx() as conn:
            row = conn.execute(stmt).first()
        return (int(row[0]), row[1], dict(row[2])) if row else None

    def prune(self, before: datetime) -> int:
        """Delete what is older than ``before``; how many rows went.

        Goes: check results, metric points, delivered and rejected outbox records, resolved alerts,
        finished runs, and schema snapshots other than the latest per (monitor, table).
        Stays: pending outbox records, open alerts, the latest snapshot of every table.
        """
        before = t.aware(before)
        s, newer = t.schema_snapshots, t.schema_snapshots.alias("newer")
        has_newer = sa.exists().where(
            newer.c.monitor_id == s.c.monitor_id,
            newer.c.table_name == s.c.table_name,
            sa.or_(
                newer.c.taken_at > s.c.taken_at,
                sa.and_(newer.c.taken_at == s.c.taken_at, newer.c.id > s.c.id),
            ),
        )
        statements = [
            sa.delete(t.check_results).where(t.check_results.c.recorded_at < before),
            sa.delete(t.metric_history).where(t.metric_history.c.ts < before),
            sa.delete(t.outbox).where(finished_before(before)),
            sa.delete(t.alert_state).where(
                t.alert_state.c.status == "resolved", t.alert_state.c.updated_at < before
            ),
            sa.delete(t.runs).where(t.runs.c.finished_at < before),
            sa.delete(t.causes).where(t.causes.c.expires_at < before),
            sa.delete(s).where(s.c.taken_at < before, has_newer),
        ]
        with self._tx(write=True) as conn:
            return sum(conn.execute(stmt).rowcount for stmt in statements)

    # -- plumbing --------------------------------------------------------------------------

    @contextmanager
    def _tx(self, *, write: bool = False) -> Iterator[Connection]:
        """One transaction; ``write`` takes SQLite's write lock up front (BEGIN IMMEDIATE)."""
        lock: AbstractContextManager[Any] = self._lock or nullcontext()
        try:
            with lock, self._engine.connect() as conn:
                conn.execution_options(watchdog_write=write)
                with conn.begin():
                    yield conn
        except sa.exc.StatementError as exc:
            if not isinstance(exc, sa.exc.DBAPIError) and isinstance(exc.orig, ValueError):
                raise exc.orig from None  # our own argument checks (naive datetimes)
            raise self._error(exc) from exc
        except sa.exc.SQLAlchemyError as exc:
            raise self._error(exc) from exc

    def _error(self, exc: sa.exc.SQLAlchemyError) -> StateError:
        source = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
        lines = [line.strip() for line in str(source).splitlines() if line.strip()]
        text = " ".join(lines[:2] if isinstance(exc, sa.exc.DBAPIError) else lines[:1])
        return StateError(
            f"state database {self.url}: {redact(text, self._secrets)}",
            hint="check state.url, and that the database is up and writable",
        )

    def _ensure_schema(self) -> None:
        """Create the tables in a new database, upgrade an older one in place (see
        ``migrate``), refuse one written by a newer watchdog or of unknown lineage."""
        with self._tx(write=True) as conn:
            found = self._read_version(conn)
            if found is None:
                t.metadata.create_all(conn)
                conn.execute(sa.insert(t.meta).values(key=_VERSION_KEY, value=str(SCHEMA_VERSION)))
                return
            if found.isdigit() and migrate.upgradable(int(found), SCHEMA_VERSION):
                migrate.upgrade(conn, int(found), SCHEMA_VERSION)  # same transaction
                conn.execute(sa.update(t.meta).where(t.meta.c.key == _VERSION_KEY)
                             .values(value=str(SCHEMA_VERSION)))
                log.info("state database %s upgraded from schema version %s to %s",
                         self.url, found, SCHEMA_VERSION)
                return
        if found != str(SCHEMA_VERSION):
            raise StateSchemaMismatch(
                f"state database {self.url} has schema version {found}, "
                f"this watchdog expects {SCHEMA_VERSION}",
                hint="point state.url at a new file, or run the watchdog version that wrote it",
            )

    def _read_version(self, conn: Connection) -> str | None:
        """The stored schema version; None for an empty database."""
        inspector = sa.inspect(conn)
        if not inspector.has_table(t.meta.name):
            ours = [name for name in t.metadata.tables if inspector.has_table(name)]
            if ours:
                raise StateError(
                    f"state database {self.url} has tables {', '.join(sorted(ours))} "
                    "but no watchdog meta table: it is not a watchdog state database",
                    hint="point state.url at a new file or an empty database",
                )
            return None
        stmt = sa.select(t.meta.c.value).where(t.meta.c.key == _VERSION_KEY)
        return conn.execute(stmt).scalar_one_or_none() or "(none)"


def _write_result(conn: Connection, result: CheckResult, run_id: int | None) -> None:
    now = t.now()
    row = {**t.result_row(result), "run_id": run_id, "recorded_at": now}
    conn.execute(sa.insert(t.check_results).values(**row))
    points = t.metric_rows(result, default_ts=result.started_at or now)
    if points:
        conn.execute(sa.insert(t.metric_history), points)


def _write_artifact(conn: Connection, kind: str, key: str, payload: Mapping[str, Any]) -> int:
    cols = t.artifacts.c
    latest = conn.execute(sa.select(sa.func.max(cols.version)).where(
        cols.kind == kind, cols.key == key)).scalar_one_or_none() or 0
    conn.execute(sa.insert(t.artifacts).values(
        kind=kind, key=key, version=latest + 1, created_at=t.now(), payload=dict(payload)))
    return int(latest + 1)
