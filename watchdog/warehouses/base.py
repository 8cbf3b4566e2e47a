"""The warehouse interface: typed facts that checks ask for. SQL lives below this line only.

A warehouse is one subclass of its nearest relative, made of tables (``QUERIES``) and flags.
Nothing outside ``watchdog/warehouses/`` branches on a warehouse's name.
"""

from __future__ import annotations

import abc
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar

import pydantic

from watchdog.errors import UnsupportedFeature
from watchdog.models import BucketCount, Column, Histogram, Predicate, TableRef


class WarehouseSettings(pydantic.BaseModel):
    """Base of every adapter's settings model (``warehouses.<name>.settings`` in config).

    Unknown keys are rejected, instances are frozen, each field's docstring is its
    description, and validation errors never echo the input (it may hold a password).
    """

    model_config = pydantic.ConfigDict(
        extra="forbid", frozen=True, use_attribute_docstrings=True, hide_input_in_errors=True
    )


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

    #: Raw type (lower case, without parameters) -> type family; unknown types are "other".
    TYPE_FAMILIES: ClassVar[dict[str, str]] = {
        **dict.fromkeys(
            ["tinyint", "smallint", "int", "integer", "bigint", "hugeint", "utinyint",
             "usmallint", "uinteger", "ubigint", "uhugeint", "int1", "int2", "int4", "int8",
             "int16", "int32", "int64", "int128", "long", "short", "signed", "smallserial",
             "serial", "bigserial"], "integer"),
        **dict.fromkeys(
            ["real", "float", "float4", "float8", "double", "double precision"], "float"),
        **dict.fromkeys(["decimal", "numeric"], "decimal"),
        **dict.fromkeys(
            ["varchar", "character varying", "char", "character", "bpchar", "text", "string",
             "nvarchar", "nchar", "clob", "name", "citext", "uuid", "enum"], "string"),
        **dict.fromkeys(["boolean", "bool", "logical"], "boolean"),
        **dict.fromkeys(
            ["timestamp", "timestamp without time zone", "datetime", "timestamp_s",
             "timestamp_ms", "timestamp_ns"], "timestamp"),
        **dict.fromkeys(["timestamptz", "timestamp with time zone"], "timestamptz"),
        "date": "date",
        **dict.fromkeys(
            ["time", "time without time zone", "time with time zone", "timetz"], "time"),
        **dict.fromkeys(["blob", "bytea", "binary", "varbinary", "bytes"], "binary"),
        **dict.fromkeys(["json", "jsonb"], "json"),
    }

    @classmethod
    def type_family(cls, raw: str) -> str:
        """The normalised family of a raw type name (see :meth:`columns`)."""
        canon = re.sub(r"\(.*\)", "", raw.lower()).replace('"', "")
        canon = re.sub(r"\s+", " ", canon).strip()
        if re.search(r"\[\d*\]$", canon):
            return "other"
        return cls.TYPE_FAMILIES.get(canon) or cls._fallback_family(canon)

    @classmethod
    def _fallback_family(cls, canon: str) -> str:
        return "other"

    def __init__(self, name: str, settings: WarehouseSettings) -> None:
        """Remember the settings. Adapters connect lazily, on first use, never here."""
        if not isinstance(settings, self.Settings):
            raise TypeError(
                f"{type(self).__name__} needs {self.Settings.__name__}, "
                f"not {type(settings).__name__}"
            )
        self.name = name
        self.settings = settings

    # -- facts ------------------------------------------------------------------------

    @abc.abstractmethod
    def columns(self, tables: Sequence[TableRef]) -> dict[TableRef, list[Column]]:
        """Columns of every table given, in one metadata query. Missing tables are absent.

        Columns come in table order with ``position`` 1, 2, 3, ... (no gaps where columns
        were dropped); ``data_type`` is the warehouse's spelling and ``type_family`` one of
        integer, float, decimal, string, boolean, timestamp, timestamptz, date, time,
        binary, json, other.
        """

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
        """Rows per time bucket in ``[start, end)``, every bucket present (zero if empty).

        The buckets are :func:`buckets` ``(start, end, bucket)``; naive timestamps in the
        warehouse are taken as UTC.
        """

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
        """At most ``limit`` randomly chosen rows (after ``where``) of the chosen columns.

        No columns means all columns. Datetimes come back as aware UTC datetimes; other
        values as the driver returns them.
        """

    @abc.abstractmethod
    def histogram(
        self,
        table: TableRef,
        column: str,
        edges: Sequence[float],
        where: Sequence[Predicate] = (),
    ) -> Histogram:
        """Bucket counts of a numeric column over ``edges``, computed in the database.

        ``edges`` are finite and ascending (ties allowed), at least two; the bins follow
        :class:`~watchdog.models.Histogram`. NULL and NaN count as ``missing``.
        """

    def schema_version(self) -> str | None:
        """A token that changes whenever any DDL ran (``SUPPORTS_SCHEMA_VERSION``)."""
        raise UnsupportedFeature(self.name, "a schema version probe")

    def ping(self) -> None:
        """Connect and run a trivial query; raise WarehouseUnavailable/AuthError on failure."""
        return None

    def close(self) -> None:
        """Release connections (the adapter reconnects if used again)."""
        return None

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
    if bucket <= timedelta(0):
        raise ValueError(f"bucket must be positive, not {bucket}")
    out = []
    cursor = start
    while cursor < end:
        out.append((cursor, min(cursor + bucket, end)))
        cursor += bucket
    return out
