"""Real, seeded databases for every adapter, and the dataset they hold.

A :class:`Seeder` writes through its own engine (never the adapter's: Postgres adapters
are read-only) and hands out adapters with :meth:`Seeder.connect`. Column types are given
as type families ("integer", "timestamptz", ...) and spelled per dialect here.
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlglot import exp

from tests.conftest import POSTGRES_URL
from tests.helpers import duckdb_engine
from watchdog.models import TableRef
from watchdog.warehouses import Warehouse, create

_COMMON = {"integer": "BIGINT", "decimal": "NUMERIC(12, 3)", "boolean": "BOOLEAN",
           "timestamp": "TIMESTAMP", "timestamptz": "TIMESTAMPTZ", "date": "DATE"}
#: DDL spelling of each type family, per adapter.
DDL_TYPES: dict[str, dict[str, str]] = {
    "duckdb": {**_COMMON, "float": "DOUBLE", "string": "VARCHAR"},
    "sqlite": {**_COMMON, "integer": "INTEGER", "float": "REAL", "string": "TEXT"},
    "postgres": {**_COMMON, "float": "DOUBLE PRECISION", "string": "TEXT"},
    "snowflake": {**_COMMON, "float": "DOUBLE", "string": "VARCHAR",
                  "timestamp": "TIMESTAMP_NTZ", "timestamptz": "TIMESTAMP_TZ"},
    "redshift": {**_COMMON, "float": "DOUBLE PRECISION", "string": "TEXT"},
}
_DIALECT = {"duckdb": "duckdb", "sqlite": "sqlite", "postgres": "postgres",
            "snowflake": "snowflake", "redshift": "postgres"}


@dataclass
class Seeder:
    """Writes tables into one real database and connects adapters to it."""

    type_name: str
    settings: dict[str, Any]
    schema: str
    engine: sa.Engine
    unreachable: dict[str, Any]
    tables: dict[str, dict[str, str]] = field(default_factory=dict)

    def table(self, name: str) -> TableRef:
        return TableRef(schema=self.schema, name=name)

    def connect(self, name: str = "test", **overrides: Any) -> Warehouse:
        """A new adapter on this database (through the registry, as the daemon does)."""
        return create(name, self.type_name, {**self.settings, **overrides})

    def quote(self, name: str) -> str:
        """A quoted identifier for SQLAlchemy ``text()`` (a literal colon is ``\\:``)."""
        ident = exp.to_identifier(name, quoted=True).sql(dialect=_DIALECT[self.type_name])
        return ident.replace(":", "\\:")

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        """Run SQL in this database's dialect (``{schema}`` is replaced, quoted)."""
        with self.engine.begin() as conn:
            conn.execute(sa.text(sql.replace("{schema}", self.quote(self.schema))), params or {})

    def create_table(
        self, name: str, columns: Mapping[str, str], rows: Sequence[Mapping[str, Any]] = (),
        *, not_null: Sequence[str] = (),
    ) -> TableRef:
        """``schema.name`` with ``columns`` {name: type family}, holding ``rows``."""
        types = DDL_TYPES[self.type_name]
        ref = self.table(name)
        target = f"{self.quote(self.schema)}.{self.quote(name)}"
        spec = ", ".join(
            f"{self.quote(c)} {types[f]}{' NOT NULL' if c in not_null else ''}"
            for c, f in columns.items()
        )
        self.execute(f"CREATE TABLE {target} ({spec})")
        if rows:
            binds = {c: f"c{i}" for i, c in enumerate(columns)}
            sql = (f"INSERT INTO {target} ({', '.join(map(self.quote, columns))}) "
                   f"VALUES ({', '.join(':' + b for b in binds.values())})")
            values = [{binds[c]: self._value(row.get(c), columns[c]) for c in columns}
                      for row in rows]
            self._insert(sql, values)
        self.tables[name] = dict(columns)
        return ref

    def _insert(self, sql: str, values: Sequence[Mapping[str, Any]]) -> None:
        """Insert many rows with one ``text()``-form INSERT."""
        with self.engine.begin() as conn:
            conn.execute(sa.text(sql), values)

    def _value(self, value: Any, family: str) -> Any:
        if isinstance(value, datetime):
            value = value.astimezone(UTC)
            if family == "timestamp" or self.type_name == "sqlite":
                value = value.replace(tzinfo=None)
            return value.isoformat(sep=" ") if self.type_name == "sqlite" else value
        if isinstance(value, date) and self.type_name == "sqlite":
            return value.isoformat()
        if isinstance(value, Decimal) and self.type_name == "sqlite":
            return float(value)
        return value


# -- the dataset every adapter holds --------------------------------------------------------

T0 = datetime(2026, 3, 1, tzinfo=UTC)
#: The count_rows window of the dataset: 8 hourly buckets, hours 3 and 5 empty.
WINDOW = (T0, T0 + timedelta(hours=8), timedelta(hours=1))
EVENTS_COLUMNS = {"id": "integer", "ts": "timestamptz", "amount": "float",
                  "category": "string", "flag": "boolean", "price": "decimal"}
USERS_COLUMNS = {"id": "integer", "name": "string", "created_at": "timestamp",
                 "score": "float", "active": "boolean", "joined": "date"}
#: A table and column whose names need quoting (quotes, a colon, a percent sign).
WEIRD_TABLE, WEIRD_TIME, WEIRD_VALUE = 'we"ird %:name', 't" x', "v:al%"


def events_rows() -> list[dict[str, Any]]:
    """About 250 events around the window, with NULL, NaN and infinite amounts."""
    rng = random.Random(20260301)
    hours = [-1, 0, 1, 2, 4, 6, 7, 8]  # -1 and 8 lie outside the window; 3 and 5 stay empty
    times = [T0 + timedelta(hours=rng.choice(hours), seconds=rng.randrange(3600))
             for _ in range(240)]
    times += [T0, T0 + timedelta(hours=2), T0 + timedelta(hours=8), T0 - timedelta(seconds=1)]
    rows = []
    for i, ts in enumerate(times, start=1):
        amount: float | None = round(rng.uniform(-10, 110), 3)
        if i % 17 == 0:
            amount = None
        elif i % 23 == 0:
            amount = math.nan
        elif i % 61 == 0:
            amount = math.inf if i % 2 else -math.inf
        rows.append({"id": i, "ts": ts, "amount": amount,
                     "category": rng.choice(["a", "b", "c", None]), "flag": rng.random() < 0.5,
                     "price": Decimal(rng.randrange(100000)) / 1000})
    return rows


def users_rows() -> list[dict[str, Any]]:
    base = datetime(2025, 12, 1, 8, 30, tzinfo=UTC)
    return [{"id": i, "name": f"user{i}", "created_at": base + timedelta(days=i, minutes=7 * i),
             "score": i / 4, "active": i % 3 == 0, "joined": date(2025, 1, 1) + timedelta(days=i)}
            for i in range(1, 21)]


def weird_rows() -> list[dict[str, Any]]:
    """Twelve rows, 25 minutes apart from T0, valued 0..11."""
    return [{WEIRD_TIME: T0 + timedelta(minutes=25 * i), WEIRD_VALUE: float(i)} for i in range(12)]


def seed_dataset(seed: Seeder) -> None:
    """The tables the conformance suite reads: events, users, y, and a weird-named one."""
    seed.create_table("events", EVENTS_COLUMNS, events_rows(), not_null=("id", "ts"))
    seed.create_table("users", USERS_COLUMNS, users_rows(), not_null=("id", "name"))
    seed.create_table("y", {"id": "integer"}, [{"id": 1}])
    seed.create_table(WEIRD_TABLE, {WEIRD_TIME: "timestamptz", WEIRD_VALUE: "float"}, weird_rows())


# -- where the databases come from ----------------------------------------------------------

@contextmanager
def _duckdb(tmp: Path) -> Iterator[Seeder]:
    path = tmp / "warehouse.duckdb"
    engine = duckdb_engine(path)
    yield Seeder("duckdb", {"path": str(path)}, "main", engine,
                 unreachable={"path": str(tmp / "missing" / "nothing.duckdb")})
    engine.dispose()


@contextmanager
def _sqlite(tmp: Path) -> Iterator[Seeder]:
    path = tmp / "warehouse.sqlite"
    engine = sa.create_engine(sa.URL.create("sqlite", database=str(path)))
    yield Seeder("sqlite", {"path": str(path)}, "main", engine,
                 unreachable={"path": str(tmp / "missing" / "nothing.sqlite")})
    engine.dispose()


@contextmanager
def _postgres(tmp: Path) -> Iterator[Seeder]:
    schema = f"wd_test_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    closed_port = {"host": "127.0.0.1", "port": 1, "database": "test", "user": "watchdog",
                   "password": "s3cr3t-Pa55w0rd", "connect_timeout": 2}
    try:
        yield Seeder("postgres", {"url": POSTGRES_URL}, schema, engine, unreachable=closed_port)
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


#: Every adapter the suite knows how to run, by registry name.
BACKENDS: dict[str, Callable[[Path], Any]] = {
    "duckdb": _duckdb, "sqlite": _sqlite, "postgres": _postgres,
}
#: Backends that need a server (marked so that ``-m "not postgres"`` deselects them).
SERVER_MARKS = {"postgres": "postgres"}

# stand-ins for remote warehouses (fakesnow; redshift_connector through a proxy to Postgres)
from tests.warehouses.standins.backends import register  # noqa: E402  (they build on Seeder)

register(BACKENDS, SERVER_MARKS)
