"""Run :class:`~watchdog.warehouses.sqlbase.SqlWarehouse`'s rendered SQL through a plain
DB-API driver (Snowflake's and Redshift's own connectors), without a SQLAlchemy dialect.

The SQL the golden tests pin is exactly what runs: its ``:name`` binds become the driver's
``%(name)s`` (pyformat) in :func:`to_pyformat`, which lets SQLAlchemy's own compiler do the
work (``\\:`` is a literal colon, a literal ``%`` is doubled), so the two never disagree.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from watchdog.errors import QueryError, WarehouseError, WarehouseUnavailable
from watchdog.warehouses.sqlbase import SqlWarehouse, Statement

#: Any dialect whose compiler emits ``%(name)s``; only its bind rendering is used.
_PYFORMAT = postgresql.dialect(paramstyle="pyformat")


def to_pyformat(sql: str, params: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """``text()``-form SQL with ``:binds`` as pyformat SQL and its parameter dict."""
    compiled = sa.text(sql).compile(dialect=_PYFORMAT)
    if not compiled.params:  # no binds: drivers do not interpolate, so `%` stays single
        return str(compiled).replace("%%", "%"), {}
    return str(compiled), {name: params[name] for name in compiled.params}


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
    """One lazily opened DB-API connection, shared under a lock, reopened after close."""

    def __init__(self, connect: Callable[[], Any], prepare: Callable[[Any], Any]) -> None:
        """``connect()`` opens a connection; ``prepare(connection)`` returns a cursor."""
        self._connect, self._prepare = connect, prepare
        self._conn: Any = None
        self._lock = threading.RLock()

    def open(self) -> Any:
        """The connection, opened now if needed (driver errors propagate)."""
        with self._lock:
            if self._conn is None:
                self._conn = self._connect()
            return self._conn

    def run(self, sql: str, params: Mapping[str, Any]) -> list[Row]:
        """Execute pyformat SQL and fetch every row (the connection must be open)."""
        with self._lock:
            cursor = self._prepare(self.open())
            try:
                cursor.execute(sql, dict(params) if params else None)
                fields = tuple(d[0] for d in cursor.description or ())
                return [Row.make(fields, tuple(r)) for r in cursor.fetchall()]
            finally:
                cursor.close()

    def close(self) -> None:
        """Close the connection, ignoring errors from an already broken one."""
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):  # a dead connection must not fail a shutdown
                conn.close()

    def discard(self) -> None:
        """Forget a connection that failed at the network level (reopened on next use)."""
        self.close()


class DriverError(Exception):
    """A driver exception reduced to what :meth:`SqlWarehouse._translate` reads."""

    def __init__(self, message: str, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


class DbApiWarehouse(SqlWarehouse):
    """Mixin over a :class:`SqlWarehouse` subclass: run its statements on a DB-API driver.

    Subclasses implement :meth:`_connect` and :meth:`_driver_error`; everything else (the
    templates, the render path, the facts) is their SQL parent's.
    """

    def _connect(self) -> Any:
        """A new, ready DB-API connection (session settings applied)."""
        raise NotImplementedError

    def _cursor(self, connection: Any) -> Any:
        """A cursor that takes the parameters :meth:`_driver_sql` produces."""
        return connection.cursor()

    def _driver_sql(self, stmt: Statement) -> tuple[str, dict[str, Any]]:
        """The statement in the driver's paramstyle (pyformat unless overridden)."""
        return to_pyformat(stmt.sql, stmt.params)

    def _driver_error(self, exc: Exception) -> DriverError:
        """``exc`` as a one-line message and SQLSTATE (what ``ERRORS`` rules search)."""
        return DriverError(str(exc), getattr(exc, "sqlstate", None))

    @property
    def _session(self) -> Session:
        with self._engine_lock:
            session: Session | None = self.__dict__.get("_dbapi_session")
            if session is None:
                session = self.__dict__["_dbapi_session"] = Session(self._connect, self._cursor)
            return session

    @property
    def engine(self) -> sa.Engine:
        """There is none: this adapter talks to its driver directly."""
        raise AttributeError(f"{type(self).__name__} uses its DB-API driver, not SQLAlchemy")

    def _fetch(self, stmt: Statement) -> list[Any]:
        """Run one rendered statement; driver errors leave here as watchdog errors."""
        sql, params = self._driver_sql(stmt)
        session = self._session
        try:
            session.open()
        except WarehouseError:
            raise
        except Exception as exc:  # the driver boundary
            raise self._translate(self._driver_error(exc), stmt, WarehouseUnavailable) from exc
        try:
            return session.run(sql, params)
        except Exception as exc:
            error = self._translate(self._driver_error(exc), stmt, QueryError)
            if isinstance(error, WarehouseUnavailable):
                session.discard()
            raise error from exc

    def close(self) -> None:
        self._session.close()
