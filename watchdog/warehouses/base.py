"""The warehouse interface: typed facts that checks ask for. SQL lives below this line only.

A warehouse is one subclass of its nearest relative, made of tables (``QUERIES``) and flags.
Nothing outside ``watchdog/warehouses/`` branches on a warehouse's name.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar

import pydantic

from watchdog.errors import UnsupportedFeature
from watchdog.models import BucketCount, Column, Histogram, Predicate, TableRef


class WarehouseSettings(pydantic.BaseModel):
    """Base of every adapter's settings model (``warehouses.<name>.settings`` in config)."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)


class Warehouse(abc.ABC):
    """One connection to one warehouse. Subclasses set the flags and answer the facts."""

    #: Registry name, as written in config (``type: duckdb``).
    NAME: ClassVar[str]
    #: Settings model validated from ``warehouses.<name>.settings``.
    Settings: ClassVar[type[WarehouseSettings]] = WarehouseSettings
    #: Schema used when a table is named without one.
    DEFAULT_SCHEMA: ClassVar[str] = "public"

    #: The warehouse keeps its own log of DDL statements (who changed what, with which SQL).
    SUPPORTS_AUDIT_LOG: ClassVar[bool] = False
    #: The warehouse can sample rows server-side (TABLESAMPLE / USING SAMPLE / SAMPLE).
    SUPPORTS_TABLESAMPLE: ClassVar[bool] = False
    #: The warehouse exposes a cheap counter or timestamp that moves on every DDL.
    SUPPORTS_SCHEMA_VERSION: ClassVar[bool] = False

    def __init__(self, name: str, settings: WarehouseSettings) -> None:
        self.name = name
        self.settings = settings

    # -- facts ------------------------------------------------------------------------

    @abc.abstractmethod
    def columns(self, tables: Sequence[TableRef]) -> dict[TableRef, list[Column]]:
        """Columns of every table given, in one metadata query. Missing tables are absent."""

    @abc.abstractmethod
    def count_rows(
        self,
        table: TableRef,
        time_column: str,
        start: datetime,
        end: datetime,
        bucket: timedelta,
        where: Sequence[Predicate] = (),
    ) -> list[BucketCount]:
        """Rows per time bucket in ``[start, end)``, every bucket present (zero if empty)."""

    @abc.abstractmethod
    def newest(
        self, table: TableRef, time_column: str, where: Sequence[Predicate] = ()
    ) -> datetime | None:
        """The newest value of ``time_column`` (UTC), or None for an empty table."""

    @abc.abstractmethod
    def sample(
        self,
        table: TableRef,
        columns: Sequence[str],
        limit: int,
        where: Sequence[Predicate] = (),
    ) -> list[dict[str, Any]]:
        """At most ``limit`` randomly chosen rows of the chosen columns."""

    @abc.abstractmethod
    def histogram(
        self,
        table: TableRef,
        column: str,
        edges: Sequence[float],
        where: Sequence[Predicate] = (),
    ) -> Histogram:
        """Bucket counts of a numeric column over ``edges``, computed in the database."""

    def schema_version(self) -> str | None:
        """A token that changes whenever any DDL ran (``SUPPORTS_SCHEMA_VERSION``)."""
        raise UnsupportedFeature(self.name, "a schema version probe")

    def ping(self) -> None:
        """Connect and run a trivial query; raise WarehouseUnavailable/AuthError on failure."""

    def close(self) -> None:
        """Release connections."""

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @classmethod
    def table(cls, text: str) -> TableRef:
        """Parse a table name from config using this warehouse's default schema."""
        return TableRef.parse(text, default_schema=cls.DEFAULT_SCHEMA)


def buckets(start: datetime, end: datetime, bucket: timedelta) -> list[tuple[datetime, datetime]]:
    """The buckets ``[start + i*bucket, start + (i+1)*bucket)`` that cover ``[start, end)``."""
    out = []
    cursor = start
    while cursor < end:
        out.append((cursor, min(cursor + bucket, end)))
        cursor += bucket
    return out
