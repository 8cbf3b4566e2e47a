"""The warehouse interface: typed facts that checks ask for. SQL lives below this line only.

A warehouse is one subclass of its nearest relative, made of tables (``QUERIES``) and flags.
Nothing outside ``watchdog/warehouses/`` branches on a warehouse's name.
"""

from __future__ import annotations

import abc
import hashlib
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pydantic

from watchdog.errors import InvalidIdentifier, PermissionDenied, UnsupportedFeature
from watchdog.models import (
    AccessGrant,
    AuditEvent,
    BacktestSpec,
    BacktestWindow,
    BucketCount,
    CategoryCounts,
    Column,
    DdlStamp,
    FineCounts,
    FineGrid,
    Histogram,
    Predicate,
    Rule,
    RuleCounts,
    TableRef,
    WindowCount,
)


class WarehouseSettings(pydantic.BaseModel):
    """Base of every adapter's settings model (``warehouses.<name>.settings`` in config).

    Unknown keys are rejected, instances are frozen, and validation errors never echo the
    input (it may hold a password). Each field has a docstring (``tests/warehouses/
    test_registry.py`` checks); pydantic does not read them (``use_attribute_docstrings``
    parses the module's source as each class is defined: ~20 ms of every start, for
    descriptions nothing read).
    """

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


class Warehouse(abc.ABC):
    """One connection to one warehouse. Subclasses set the flags and answer the facts."""

    #: Registry name, as written in config (``type: duckdb``).
    NAME: ClassVar[str]
    #: Settings model validated from ``warehouses.<name>.settings``.
    Settings: ClassVar[type[WarehouseSettings]] = WarehouseSettings
    #: Schema used when a table is named without one.
    DEFAULT_SCHEMA: ClassVar[str] = "public"
    #: sqlglot dialect the warehouse speaks (the schema check parses audit statements in
    #: it); None for an adapter that speaks no SQL.
    DIALECT: ClassVar[str | None] = None

    #: The warehouse keeps its own log of DDL statements (who changed what, with which SQL).
    SUPPORTS_AUDIT_LOG: ClassVar[bool] = False
    #: How late a DDL statement may land in the audit log after it ran (0: at once). The
    #: schema check keeps unattributed changes this long, waiting for their audit rows.
    AUDIT_LATENCY: ClassVar[timedelta] = timedelta(0)
    #: The warehouse can sample rows server-side (TABLESAMPLE / USING SAMPLE / SAMPLE).
    SUPPORTS_TABLESAMPLE: ClassVar[bool] = False
    #: The warehouse exposes a cheap counter or timestamp that moves on every DDL.
    SUPPORTS_SCHEMA_VERSION: ClassVar[bool] = False
    #: Regular expressions can be matched in the database (contract check ``str_matches``).
    SUPPORTS_REGEX: ClassVar[bool] = False
    #: ``setup_audit`` installs the audit log in the warehouse (Postgres' event trigger);
    #: off where the warehouse logs DDL itself or has no log.
    SUPPORTS_AUDIT_SETUP: ClassVar[bool] = False
    #: Tables may be named ``database.schema.table`` (Snowflake databases, BigQuery
    #: projects). Elsewhere a name with more than one dot is refused before any SQL is built.
    SUPPORTS_DATABASE_NAMES: ClassVar[bool] = False
    #: The warehouse answers, in one query, which privileges a role or user holds on a
    #: table (role membership included): :meth:`access` (the principals an access monitor
    #: watches).
    SUPPORTS_ACCESS_CHECK: ClassVar[bool] = False
    #: The warehouse tells a table watchdog's own login may not read from a missing one:
    #: :meth:`own_access`.
    SUPPORTS_OWN_ACCESS: ClassVar[bool] = False
    #: Principals' and tables' names compare case-insensitively when an access loss is
    #: matched to a logged REVOKE (Snowflake); else an unquoted name folds to lower case and
    #: a quoted one is exact, as Postgres reads them.
    PRINCIPALS_CASE_INSENSITIVE: ClassVar[bool] = False
    #: Roles a REVOKE may name instead of privileges (lower case) -> the table privileges
    #: each carries (BigQuery grants IAM roles, not SELECT); empty where REVOKE names
    #: privileges.
    ROLE_PRIVILEGES: ClassVar[Mapping[str, frozenset[str]]] = {}

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
    def count_successes(
        self,
        table: TableRef,
        time_column: str,
        start: datetime,
        end: datetime,
        window: timedelta,
        success: Sequence[Predicate],
        group_by: Sequence[str] = (),
        where: Sequence[Predicate] = (),
    ) -> list[WindowCount]:
        """All rows and successful rows per window and group in ``[start, end)``, one query.

        A row succeeds when it matches every predicate of ``success``. The windows are
        :func:`buckets` ``(start, end, window)``; every group seen anywhere in the range has
        every window (zero where it had no rows). Without ``group_by`` there is one group,
        ``()``, with every window. Sorted by group (as text), then window.
        """

    @abc.abstractmethod
    def backtest(
        self, spec: BacktestSpec, start: datetime, end: datetime, window: timedelta,
    ) -> list[BacktestWindow]:
        """The predictions made in ``[start, end)`` joined to their labels, aggregated per
        window (:func:`buckets` ``(start, end, window)``) and group in one query: only the
        counts and sums of :class:`~watchdog.models.BacktestSums` leave the warehouse.

        Every prediction counts in ``predictions``; one with a score and a label counts in
        ``labelled`` and in the sums (a prediction with several labels counts once per
        label: the label key should be unique). Windows and groups without predictions are
        absent. Sorted by group (as text), then window.
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

    @abc.abstractmethod
    def histograms(
        self, table: TableRef, edges: Mapping[str, Sequence[float]],
        where: Sequence[Predicate] = (),
    ) -> dict[str, Histogram]:
        """:meth:`histogram` of several numeric columns (each over its own edges) in one scan."""

    @abc.abstractmethod
    def category_counts(
        self, table: TableRef, column: str, *, limit: int = 50,
        where: Sequence[Predicate] = (),
    ) -> CategoryCounts:
        """The ``limit`` most frequent values of a column compared as text (ties by value)
        and the rest in ``other``, in one scan; NULL counts as ``missing``."""

    @abc.abstractmethod
    def value_counts(
        self, table: TableRef, values: Mapping[str, Sequence[str]],
        where: Sequence[Predicate] = (),
    ) -> dict[str, CategoryCounts]:
        """Counts of known values of several columns compared as text, in one statement:
        per column the count of each of its ``values`` (in that order, zeros included),
        every other non-NULL value in ``other`` and NULL in ``missing``."""

    @abc.abstractmethod
    def abs_means(
        self, table: TableRef, columns: Sequence[str], where: Sequence[Predicate] = (),
    ) -> dict[str, float | None]:
        """Mean absolute value of each numeric column (NULL and NaN ignored), one scan."""

    def ks_counts(
        self, table: TableRef, grids: Mapping[str, FineGrid | tuple[float, float, int]],
        where: Sequence[Predicate] = (), moments: bool = False,
    ) -> dict[str, FineCounts]:
        """Fine bucket counts of numeric columns (one pass over each): ``resolution + 1``
        counts, the missing count and, with ``moments``, the sums of ``x - center`` and its
        square (see :class:`~watchdog.models.FineCounts` and ``distributions.ks_counts``)."""
        raise UnsupportedFeature(self.name, "fine KS buckets")

    def extremes(
        self, table: TableRef, columns: Sequence[str], where: Sequence[Predicate] = (),
    ) -> dict[str, tuple[float, float] | None]:
        """``(min, max)`` of each numeric column's values (NULL and NaN ignored), one scan."""
        raise UnsupportedFeature(self.name, "column extremes")

    def schema_version(self, patterns: Sequence[TableRef] = ()) -> str | None:
        """A token that changes whenever any DDL ran (``SUPPORTS_SCHEMA_VERSION``).

        ``patterns`` are the watched tables (as :meth:`schema_columns` takes them): an
        adapter whose catalog is split (one INFORMATION_SCHEMA per database) probes the
        parts they name; others may ignore them. None means the warehouse could have one
        but has none right now (Postgres before ``watchdog setup audit``): callers then
        take a full snapshot.
        """
        raise UnsupportedFeature(self.name, "a schema version probe")

    def schema_columns(self, patterns: Sequence[TableRef]) -> dict[TableRef, list[Column]]:
        """Columns of every table whose name matches a pattern, in one metadata query.

        A pattern is a TableRef whose ``name`` may hold ``*`` (any characters); the schema
        is exact. Keys are the tables as the warehouse names them; columns as in
        :meth:`columns`.
        """
        raise UnsupportedFeature(self.name, "listing tables by pattern")

    def schema_fingerprints(self, patterns: Sequence[TableRef]) -> dict[TableRef, str]:
        """A short hash per table matching a pattern (as :meth:`schema_columns` matches),
        over its columns' names, types and nullability in order, in one metadata query.

        Equal fingerprints mean equal columns, so a poll builds :class:`Column` objects
        only for tables whose fingerprint moved. Fingerprints are comparable only with
        those of the same adapter. This default hashes :meth:`schema_columns`; SQL adapters
        compute them in the database.
        """
        found = self.schema_columns(patterns)
        return {ref: column_fingerprint(cols) for ref, cols in found.items()}

    def last_ddl(self, tables: Sequence[TableRef]) -> dict[TableRef, DdlStamp]:
        """When and by whom each table's last DDL ran, from the catalog, at once (no audit
        latency). Tables the catalog does not know are absent. The schema check names this
        author while the audit log has yet to land the statement.
        """
        raise UnsupportedFeature(self.name, "a last-DDL author in the catalog")

    def own_access(self, tables: Sequence[TableRef]) -> dict[TableRef, PermissionDenied]:
        """The tables in ``tables`` that exist but that watchdog's login may not read, each
        with the error naming the GRANT that fixes it (``SUPPORTS_OWN_ACCESS``). Checks
        ask it about tables they found missing, to say PERMISSION_DENIED where it is that."""
        raise UnsupportedFeature(self.name, "reading privileges")

    def access(self, principals: Sequence[str], tables: Sequence[TableRef],
               privileges: Sequence[str]) -> list[AccessGrant]:
        """Whether each principal holds each privilege on each table (role membership
        included), in one query (``SUPPORTS_ACCESS_CHECK``); tables that do not exist are
        absent from the answer."""
        raise UnsupportedFeature(self.name, "reading principals' privileges (kind: access)")

    def revoked_from(self, principal: str, grantee: str) -> bool:
        """Whether a logged REVOKE's grantee (as ``checks/access/revokes.py`` reads it)
        names ``principal``: the same name, unless the warehouse spells grantees otherwise."""
        return principal == grantee

    def inherited_roles(self, principal: str, roles: Sequence[str]) -> set[str]:
        """The roles among ``roles`` whose privileges ``principal`` (an existing role) uses
        through membership, direct or not (``SUPPORTS_ACCESS_CHECK``)."""
        raise UnsupportedFeature(self.name, "reading role membership")

    def audit_events(self, since: int = 0, limit: int = 5000) -> list[AuditEvent]:
        """DDL events after cursor ``since`` (an :attr:`AuditEvent.seq`), oldest first.

        ``SUPPORTS_AUDIT_LOG``; UnsupportedFeature where the warehouse has no audit log or it
        is not set up.
        """
        raise UnsupportedFeature(self.name, "a DDL audit log")

    def recent_audit_events(self, limit: int = 5000) -> list[AuditEvent]:
        """The newest ``limit`` audit events, oldest first (``SUPPORTS_AUDIT_LOG``): what a
        check reads to say who revoked a privilege, without a cursor of its own."""
        raise UnsupportedFeature(self.name, "a DDL audit log")

    @property
    def audit_latency(self) -> timedelta:
        """:attr:`AUDIT_LATENCY`, or what the settings say instead."""
        return self.AUDIT_LATENCY

    def audit_rewind(self, since: int) -> int:
        """The cursor to read from so that events landing late (those that ran before
        ``since`` but arrived after it was read) are read again; callers skip the ones
        they have seen. ``since`` itself where the log has no latency."""
        return since

    def setup_audit(self, *, remove: bool = False, grant_to: str | None = None) -> None:
        """Install (idempotently) or remove the DDL audit log (``SUPPORTS_AUDIT_SETUP``)."""
        raise UnsupportedFeature(self.name, "installing a DDL audit log")

    def contract_failures(
        self, table: TableRef, rules: Sequence[Rule], where: Sequence[Predicate] = (),
        examples: Sequence[int] = (),
    ) -> RuleCounts:
        """Rows read and failing rows per rule, in one aggregate scan of ``table``.

        Nothing but counts leaves the warehouse, unless ``examples`` (a limit per rule, 0
        for none) asks for failing values: an adapter that can collect them in the same scan
        returns them in ``RuleCounts.examples`` (else None, and :meth:`failure_examples`
        reads them). ``str_matches`` needs :meth:`pushes_regex`.
        """
        raise UnsupportedFeature(self.name, "contract checks in the database")

    def pushes_regex(self, pattern: str) -> bool:
        """Whether a ``str_matches`` rule with this (Python ``re``) pattern runs in the
        database; else it runs on the sample. ``SUPPORTS_REGEX`` here; POSIX engines also
        turn away the patterns they would read differently (``warehouses/regex.py``)."""
        return self.SUPPORTS_REGEX

    def failure_examples(
        self, table: TableRef, rules: Sequence[Rule], limit: int,
        where: Sequence[Predicate] = (),
    ) -> list[list[str]]:
        """Up to ``limit`` failing values (as text) per rule, in one bounded query.

        ``not_null`` rules have no examples (their failing value is NULL); a combination's
        example is its values joined by ``", "``.
        """
        raise UnsupportedFeature(self.name, "contract checks in the database")

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
        ref = TableRef.parse(text, default_schema=cls.DEFAULT_SCHEMA)
        if ref.database is not None and not cls.SUPPORTS_DATABASE_NAMES:
            raise InvalidIdentifier(
                cls.NAME, f"table {text!r} has more than one dot, but {cls.NAME} names a "
                "table schema.table or table",
                hint="fix the name in the config; a table whose own name holds a dot cannot "
                     "be watched")
        return ref


def column_fingerprint(columns: Sequence[Column]) -> str:
    """A short hash of a table's columns (names, types, nullability, in order)."""
    text = "\x1f".join(f"{c.name}\x1e{c.data_type}\x1e{int(c.nullable)}" for c in columns)
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


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


def as_utc(value: datetime) -> datetime:
    """Aware UTC; a naive datetime is taken as UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
