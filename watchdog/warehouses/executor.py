"""Executors: how an adapter's rendered statements reach the warehouse.

An adapter is a renderer (its templates and dialect, ``sqlbase.py``) plus an executor held
by composition, as an httpx client holds its transport: the adapter builds a
:class:`~watchdog.warehouses.sqlbase.Statement` and hands it to ``self.executor.run``. An
executor owns the connection (a SQLAlchemy engine here, a DB-API connection in
``dbapi.py``, DuckDB's own connection in ``duckdb.py``, the BigQuery client in
``bigquery.py``), runs each statement within the
check's deadline (:mod:`watchdog.timeouts`) and raises only watchdog errors. Adapters pass
their quirks in as functions (how to translate a driver error, how the warehouse cancels a
statement after some seconds, how to interrupt one from another thread).
"""

from __future__ import annotations

import abc
import re
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from watchdog import timeouts
from watchdog.errors import CheckTimeout, QueryError, WarehouseError, WarehouseUnavailable

if TYPE_CHECKING:
    import sqlalchemy as sa

    from watchdog.warehouses.sqlbase import Statement

#: ``translate(exc, stmt, default)``: a driver exception as a one-line watchdog error,
#: ``default`` (WarehouseUnavailable while connecting, QueryError after) unless a rule says.
Translate = Callable[[Exception, "Statement", type[WarehouseError]], WarehouseError]
#: Called with every statement an executor is about to send (tests count them).
Listener = Callable[["Statement"], None]
#: Seconds a pooled engine waits for a free connection before the executor asks again
#: (its ``pool_timeout``), and in all when no deadline bounds the wait (SQLAlchemy's default).
POOL_WAIT, POOL_WAIT_ALONE = 1.0, 30.0


#: How a driver takes bind parameters: ``named`` ``:name`` (PEP 249; the driver skips
#: quoted text itself), ``pyformat`` ``%(name)s`` (PEP 249; a literal ``%`` doubled), ``at``
#: ``@name`` (BigQuery's GoogleSQL named parameters), ``dollar`` ``$name`` (DuckDB's).
Paramstyle = Literal["named", "pyformat", "at", "dollar"]
#: A ``:name`` bind of SQLAlchemy ``text()`` form, as SQLAlchemy finds it (not ``\\:``, a
#: literal colon, nor ``::``, a cast).
_BIND = re.compile(r"(?<![:\w\\]):(\w+)(?!:)")


def bind_names(sql: str) -> list[str]:
    """The binds of ``text()``-form ``sql``, each once, in order."""
    return list(dict.fromkeys(_BIND.findall(sql)))


def driver_sql(sql: str, paramstyle: Paramstyle) -> str:
    """``text()``-form SQL (``:name`` binds, ``\\:`` a literal colon) as a driver of
    ``paramstyle`` takes it. With no binds the driver interpolates nothing, so a ``%`` stays
    single even in ``pyformat``."""
    if paramstyle == "pyformat" and _BIND.search(sql):
        sql = _BIND.sub(r"%(\1)s", sql.replace("%", "%%"))
    elif paramstyle == "at":
        sql = _BIND.sub(r"@\1", sql)
    elif paramstyle == "dollar":
        sql = _BIND.sub(r"$\1", sql)
    return sql.replace("\\:", ":")


def driver_params(sql: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The values of the binds ``sql`` uses (a missing one raises KeyError)."""
    return {name: params[name] for name in bind_names(sql)}


class Executor(abc.ABC):
    """Runs rendered statements on one warehouse connection, one at a time per call."""

    def __init__(self, name: str, translate: Translate) -> None:
        """``name`` is the warehouse's (for errors); ``translate`` maps driver errors."""
        self.name = name
        self.translate = translate
        self._listeners: list[Listener] = []

    def listen(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(stmt)`` for every statement sent from now on; returns the
        function that stops it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def run(self, stmt: Statement) -> list[Any]:
        """Every row of ``stmt`` (tuples with a ``_mapping``), within the current deadline;
        a statement cut short by it raises CheckTimeout, driver errors watchdog errors."""
        for listener in list(self._listeners):
            listener(stmt)
        return self._run(stmt)

    def run_columns(self, stmt: Statement) -> list[Any]:
        """Every row of ``stmt``, column by column: one numpy array per column (NULLs as
        None in object arrays, or masked), ``[]`` when there are no rows. This default
        transposes :meth:`run`; an executor whose driver returns columns overrides it."""
        rows = self.run(stmt)
        if not rows:
            return []
        import numpy as np

        out = []
        for values in zip(*rows, strict=True):
            column = np.empty(len(values), dtype=object)
            column[:] = values
            out.append(column)
        return out

    @abc.abstractmethod
    def _run(self, stmt: Statement) -> list[Any]:
        """:meth:`run`, without the listeners."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the connection (it is reopened on next use)."""


class SqlAlchemyExecutor(Executor):
    """Statements in SQLAlchemy ``text()`` form, run on a lazily created engine."""

    def __init__(
        self, name: str, translate: Translate, create_engine: Callable[[], sa.Engine], *,
        limit: Callable[[sa.Connection, float], None] | None = None,
        canceller: Callable[[Any], Callable[[], None] | None] | None = None,
    ) -> None:
        """``create_engine()`` makes the engine on first use; ``limit(conn, seconds)`` has
        the warehouse cancel the next statement on ``conn`` itself (Postgres' SET LOCAL
        statement_timeout); ``canceller(dbapi_connection)`` is how to interrupt what runs
        on a driver connection from another thread (SQLite's interrupt)."""
        super().__init__(name, translate)
        self._create_engine = create_engine
        self._limit = limit
        self._canceller = canceller
        self._engine: sa.Engine | None = None
        self._lock = threading.Lock()

    @property
    def engine(self) -> sa.Engine:
        """The SQLAlchemy engine, created on first use (creating it does not connect)."""
        with self._lock:
            if self._engine is None:
                self._engine = self._create_engine()
            return self._engine

    def _run(self, stmt: Statement) -> list[Any]:
        rows: list[Any] = self._execute(stmt, lambda result: list(result.fetchall()))
        return rows

    def _execute(self, stmt: Statement, fetch: Callable[[sa.CursorResult[Any]], Any]) -> Any:
        import sqlalchemy as sa  # imported with the engine already; bound here for text()

        deadline = timeouts.current()
        if deadline is not None:
            deadline.check(self.name)  # no time left: no connection taken
        try:
            conn = self._checkout(deadline)
        except WarehouseError:
            raise
        except Exception as exc:  # the driver boundary: nothing below escapes untranslated
            raise self.translate(exc, stmt, WarehouseUnavailable) from exc
        left = deadline.check(self.name) if deadline is not None else None
        try:
            with conn:
                if deadline is None or left is None:
                    return fetch(conn.execute(sa.text(stmt.sql), dict(stmt.params)))
                raw = conn.connection.dbapi_connection
                if self._limit is not None:
                    self._limit(conn, left)
                cancel = self._canceller(raw) if self._canceller is not None else None
                with deadline.running(stmt.name, stmt.subject, cancel):
                    return fetch(conn.execute(sa.text(stmt.sql), dict(stmt.params)))
        except Exception as exc:
            if deadline is not None and deadline.overdue():
                raise deadline.error(self.name) from exc
            raise self.translate(exc, stmt, QueryError) from exc

    def _checkout(self, deadline: timeouts.Deadline | None) -> sa.Connection:
        """A connection from the engine's pool. While every pooled connection is in use
        (more statements at once than the pool holds: several checks, each sending its
        reads side by side), wait for one as long as the check's deadline allows, asking
        the pool again every :data:`POOL_WAIT` seconds (the engines' ``pool_timeout``),
        rather than fail after the pool's own wait as if the warehouse were down."""
        from sqlalchemy.exc import TimeoutError as PoolTimeout

        waited = 0.0
        while True:
            try:
                return self.engine.connect()
            except PoolTimeout as exc:
                waited += POOL_WAIT
                if deadline is None:
                    if waited < POOL_WAIT_ALONE:
                        continue
                    raise
                if deadline.remaining() > 0:
                    continue
                raise CheckTimeout(
                    self.name, f"monitor {deadline.monitor_id} timed out after "
                    f"{deadline.seconds:g}s waiting for a connection: every connection of the "
                    "pool was running another statement", hint="lower daemon.workers, or "
                    "raise the monitor's `timeout`") from exc

    def close(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None
