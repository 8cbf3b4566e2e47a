"""The DB-API executor: an adapter's rendered SQL run through a plain DB-API driver
(Snowflake's and Redshift's own connectors), without a SQLAlchemy dialect.

The SQL the golden tests pin is exactly what runs: its ``:name`` binds become the driver's
paramstyle in ``executor.driver_sql`` (``%(name)s`` by default, a literal ``%`` doubled;
``\\:`` is a literal colon), the one converter every executor uses.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Mapping
from typing import Any

from watchdog import timeouts
from watchdog.errors import QueryError, WarehouseError, WarehouseUnavailable
from watchdog.warehouses.executor import (
    Executor,
    Paramstyle,
    Translate,
    driver_params,
    driver_sql,
)
from watchdog.warehouses.sqlbase import Statement

#: How a statement is run on a cursor: ``execute(cursor, sql, params)``.
Execute = Callable[[Any, str, "dict[str, Any] | None"], Any] | None
class Row(tuple[Any, ...]):
    """A result row: a tuple that also maps column names to values (``row._mapping``)."""

    _fields: tuple[str, ...] = ()

    @classmethod
    def make(cls, fields: tuple[str, ...], values: tuple[Any, ...]) -> Row:
        row = cls(values)
        row._fields = fields
        return row

    @property
    def _mapping(self) -> dict[str, Any]:
        return dict(zip(self._fields, self, strict=True))


class Session:
    """One lazily opened DB-API connection that runs one statement at a time, reopened
    after close. A statement stuck in a driver that ignores cancels does not block the
    next: :meth:`discard` gives the session a new connection and a new turn."""

    def __init__(self, connect: Callable[[], Any], prepare: Callable[[Any], Any]) -> None:
        """``connect()`` opens a connection; ``prepare(connection)`` returns a cursor."""
        self._connect, self._prepare = connect, prepare
        self._conn: Any = None
        self._cursor: Any = None
        self._turn = threading.RLock()  # held while a statement runs
        self._swap = threading.Lock()  # held while the connection is replaced

    def open(self) -> Any:
        """The connection, opened now if needed (driver errors propagate)."""
        with self._swap:
            if self._conn is None:
                self._conn = self._connect()
            return self._conn

    def run(self, sql: str, params: Mapping[str, Any], execute: Execute = None,
            wait: float | None = None) -> list[Row]:
        """Execute pyformat SQL and fetch every row (the connection must be open).

        ``execute(cursor, sql, params)`` runs it (default ``cursor.execute``); ``wait`` bounds
        the wait for the connection when another statement holds it (TimeoutError).
        """
        turn = self._turn
        if not turn.acquire(timeout=-1 if wait is None else max(wait, 0.0)):
            raise TimeoutError("the warehouse connection is held by a statement still running")
        try:
            cursor = self._prepare(self.open())
            self._cursor = cursor
            try:
                if execute is None:
                    cursor.execute(sql, dict(params) if params else None)
                else:
                    execute(cursor, sql, dict(params) if params else None)
                fields = tuple(d[0] for d in cursor.description or ())
                return [Row.make(fields, tuple(r)) for r in cursor.fetchall()]
            finally:
                self._cursor = None
                with contextlib.suppress(Exception):  # its connection may be gone
                    cursor.close()
        finally:
            turn.release()

    @property
    def running(self) -> tuple[Any, Any] | None:
        """``(connection, cursor)`` of the statement running now, if any (for cancelling)."""
        cursor, conn = self._cursor, self._conn
        return (conn, cursor) if cursor is not None else None

    def close(self) -> None:
        """Close the connection, ignoring errors from an already broken one."""
        with self._swap:
            conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):  # a dead connection must not fail a shutdown
                conn.close()

    def discard(self) -> None:
        """Forget a connection that failed, or whose statement was cut short (reopened on
        next use, with a turn of its own should the old statement never return)."""
        with self._swap:
            self._turn = threading.RLock()
        self.close()


class DriverError(Exception):
    """A driver exception reduced to what ``SqlWarehouse._translate`` reads."""

    def __init__(self, message: str, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


#: ``execute(cursor, sql, params, seconds)``: run one statement that the warehouse should
#: cancel after ``seconds`` (Snowflake's STATEMENT_TIMEOUT_IN_SECONDS, Redshift's
#: statement_timeout).
TimedExecute = Callable[[Any, str, "dict[str, Any] | None", float], None]


def _execute(cursor: Any, sql: str, params: dict[str, Any] | None, seconds: float) -> None:
    cursor.execute(sql, params)


class DbApiExecutor(Executor):
    """Statements run on a plain DB-API driver (Snowflake's and Redshift's own connectors),
    without a SQLAlchemy dialect. A statement cut short by the deadline is interrupted by
    closing the connection under it (it is reopened for the next one)."""

    def __init__(
        self, name: str, translate: Translate, connect: Callable[[], Any], *,
        cursor: Callable[[Any], Any] = lambda connection: connection.cursor(),
        paramstyle: Paramstyle = "pyformat",
        execute: TimedExecute = _execute,
    ) -> None:
        """``connect()`` opens a ready connection (session settings applied);
        ``cursor(connection)`` makes a cursor that takes binds in ``paramstyle``;
        ``execute`` runs a statement under a deadline. ``translate`` receives the driver's
        own exceptions."""
        super().__init__(name, translate)
        self.session = Session(connect, cursor)
        self.paramstyle = paramstyle
        self._execute = execute

    def _run(self, stmt: Statement) -> list[Any]:
        sql = driver_sql(stmt.sql, self.paramstyle)
        params = driver_params(stmt.sql, stmt.params)
        deadline = timeouts.current()
        left = deadline.check(self.name) if deadline is not None else None
        session = self.session
        try:
            session.open()
        except WarehouseError:
            raise
        except Exception as exc:  # the driver boundary
            raise self.translate(exc, stmt, WarehouseUnavailable) from exc
        try:
            if deadline is None or left is None:
                return session.run(sql, params)
            with deadline.running(stmt.name, stmt.subject, lambda: self._cancel(session)):
                return session.run(sql, params, wait=left, execute=lambda c, q, p: (
                    self._execute(c, q, p, deadline.remaining())))
        except Exception as exc:
            if deadline is not None and deadline.overdue():
                session.discard()  # the statement may still run on it: start afresh
                raise deadline.error(self.name) from exc
            error = self.translate(exc, stmt, QueryError)
            if isinstance(error, WarehouseUnavailable):
                session.discard()
            raise error from exc

    @staticmethod
    def _cancel(session: Session) -> None:
        # stop, from another thread, the statement running: close the connection under it
        if session.running is not None:
            session.discard()

    def close(self) -> None:
        self.session.close()
