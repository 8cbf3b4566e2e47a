"""The facts, answered in SQL: query trees and the remaining templates, one render path.

Every query an adapter runs goes through :meth:`SqlWarehouse.render`, which returns the
exact SQL text and bind values that :meth:`SqlWarehouse._fetch` executes; the golden tests
render the same path. Queries shared by several warehouses are sqlglot trees (``TREES``),
rendered by the adapter's dialect (``dialects.py``); the catalog queries among them are
built from the adapter's ``CATALOG`` (``catalog_sql.py``). The rest are ``str.format``
templates (``QUERIES``: sampling, and queries of one warehouse only): ``{name}`` fragments
are quoted identifiers or dialect snippets, values are always ``:binds``. SQL is in
SQLAlchemy ``text()`` form, so a literal colon inside an identifier is written ``\\:``.
"""

from __future__ import annotations

import abc
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, ClassVar

from watchdog.errors import (
    InvalidIdentifier,
    QueryError,
    WarehouseError,
    WarehouseUnavailable,
    redact,
)
from watchdog.models import (
    BacktestSpec,
    BacktestWindow,
    BucketCount,
    CategoryCounts,
    Column,
    FineCounts,
    FineGrid,
    Histogram,
    Predicate,
    Rule,
    RuleCounts,
    TableRef,
    WindowCount,
)
from watchdog.warehouses import (
    backtest_sql,
    catalog_sql,
    distributions,
    drift_sql,
    facts_sql,
    regex,
    rulesql,
    schema_sql,
    sqlcache,
    table_sql,
    tree_sql,
    volume_sql,
)
from watchdog.warehouses.base import Warehouse, as_utc, buckets
from watchdog.warehouses.executor import Executor

#: (regex searched in "<DriverException> <sqlstate> <message>", error class, hint)
ErrorRule = tuple[str, type[WarehouseError], str]
Parts = tuple[dict[str, str], dict[str, Any]]
#: Builds one query's fragments and binds: ``build(warehouse, **args)``.
Builder = Callable[..., Parts]

NAMES_HINT = "check the table and column names in the config"
_OPS = frozenset({"=", "!=", "<", "<=", ">", ">=", "in", "not in", "is null", "is not null"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Statement:
    """One rendered query: its name, SQL in ``text()`` form, bind values, and its subject."""

    name: str
    sql: str
    params: Mapping[str, Any] = field(default_factory=dict)
    subject: str = ""


class SqlWarehouse(Warehouse):
    """A warehouse that speaks SQL: templates rendered here, run by its :attr:`executor`.
    Subclasses list only what differs."""

    #: sqlglot dialect of the templates (for quoting and for linting the golden SQL).
    DIALECT: ClassVar[str]
    #: The character that quotes identifiers (doubled inside a name), as sqlglot's
    #: generator writes it for the dialect: ``"`` (ANSI), or a backtick (BigQuery, MySQL
    #: style). Quoting needs no sqlglot import, so that start-up does not pay for one.
    IDENT_QUOTE: ClassVar[str] = '"'
    #: Names match case-insensitively even when quoted, so metadata lookups fold case.
    NAMES_CASE_INSENSITIVE: ClassVar[bool] = False
    #: Time values compared with a time column (the volume window) are bound in the column's
    #: own type (read once per table): a naive TIMESTAMP compared with an aware parameter is
    #: converted row by row (DuckDB: 5x a GROUP BY on 50M rows) and cannot use the column's
    #: zone maps or indexes. Off where the adapter binds otherwise (text the warehouse casts
    #: to the column's type, epochs, or BigQuery's own typed binds).
    TYPED_TIME_BINDS: ClassVar[bool] = True
    #: The ``newest`` query also counts the rows, telling an empty table from a NULL
    #: maximum (Snowflake's stand-in answers 1970 for both).
    NEWEST_WITH_COUNT: ClassVar[bool] = False
    #: ``value_counts`` groups the rows by value first and classifies only the groups (not
    #: every row): faster where a GROUP BY on the value is cheap (``drift_sql.py``).
    GROUPED_VALUE_COUNTS: ClassVar[bool] = False
    #: ``ks_counts`` returns one row per feature, its fine counts packed in a list of
    #: ``bucket * 2**40 + count`` (needs a list aggregate; ``drift_sql.py``).
    PACKED_KS_COUNTS: ClassVar[bool] = False
    #: Where the warehouse's catalog keeps the column facts, for the ``columns``,
    #: ``schema_columns`` and ``schema_fingerprints`` trees (``catalog_sql.py``).
    CATALOG: ClassVar[catalog_sql.Catalog]
    #: The regex syntax (``re2``, ``are``, ``posix``): ``regex.PORTABLE`` says which patterns
    #: it reads as Python does; only those run there.
    REGEX_SYNTAX: ClassVar[str] = "re2"
    #: The ``schema_fingerprints`` query returns a hash (else its text is hashed in Python).
    SCHEMA_DIGEST_IN_SQL: ClassVar[bool] = True
    #: The SQL templates, by query name; adapters extend them with ``{**Parent.QUERIES, ...}``.
    #: Fixed text on purpose: ``ping`` (nothing to render), ``sample`` (sqlglot transpiles
    #: sampling wrongly, see WAREHOUSES.md), queries that exist for one warehouse only (in
    #: its module).
    QUERIES: ClassVar[dict[str, str]] = {
        "ping": "SELECT 1",
        "sample": "SELECT {columns}\nFROM {table}{where}\nORDER BY random()\nLIMIT :limit",
    }
    #: How each query's ``{fragments}`` and binds are built from its arguments, by query
    #: name (a query without one takes no arguments); adapters extend it as they extend
    #: ``QUERIES``. A builder is ``build(warehouse, **args) -> (fragments, params)``.
    BUILDERS: ClassVar[Mapping[str, Builder]] = {"sample": table_sql.build_sample}
    #: Queries built once as sqlglot trees and rendered by the adapter's dialect
    #: (``tree_sql.py``, ``dialects.py``), by name: ``build(warehouse, **args) -> (tree,
    #: params)``.
    TREES: ClassVar[Mapping[str, Callable[..., tree_sql.Tree]]] = {
        "columns": catalog_sql.build_columns,
        "schema_columns": catalog_sql.build_schema_columns,
        "schema_fingerprints": catalog_sql.build_schema_fingerprints,
        "count_rows": facts_sql.build_count_rows,
        "newest": facts_sql.build_newest,
        "count_successes": facts_sql.build_count_successes,
        "abs_means": tree_sql.build_abs_means,
        "extremes": tree_sql.build_extremes,
        "contract_failures": rulesql.build_contract_failures,
        "failure_examples": rulesql.build_failure_examples,
        "histogram": drift_sql.build_histogram,
        "histograms": drift_sql.build_histograms,
        "top_values": drift_sql.build_top_values,
        "value_counts": drift_sql.build_value_counts,
        "ks_counts": drift_sql.build_ks_counts,
        "backtest": backtest_sql.build_backtest,
    }
    #: The tree builders whose statements are kept rendered by shape (``sqlcache.py``), each
    #: with its parts: ``parts(warehouse, **args) -> (shape, params)``, without sqlglot.
    PARTS: ClassVar[Mapping[Callable[..., tree_sql.Tree], Callable[..., tree_sql.Parts]]] = {
        **facts_sql.PARTS, **drift_sql.PARTS, **catalog_sql.PARTS, **backtest_sql.PARTS,
        **rulesql.PARTS}
    #: Driver errors, most specific first; the first rule that matches decides the error.
    ERRORS: ClassVar[tuple[ErrorRule, ...]] = ()

    def __init__(self, name: str, settings: Any, executor: Executor | None = None) -> None:
        """``executor`` runs the statements (default: :meth:`_executor`'s, for the settings);
        pass one to run them elsewhere, as httpx takes a transport."""
        super().__init__(name, settings)
        self.executor = executor if executor is not None else self._executor()
        self._time_types: dict[tuple[TableRef, str], str | None] = {}

    # -- execution ------------------------------------------------------------------------

    @abc.abstractmethod
    def _executor(self) -> Executor:
        """The executor for these settings (it connects lazily, on first use)."""

    def _secrets(self) -> list[str]:
        """Secret values to scrub from every message."""
        return []

    def ping(self) -> None:
        self._fetch(self.render("ping"))

    def close(self) -> None:
        self.executor.close()

    def _fetch(self, stmt: Statement) -> list[Any]:
        """Run one rendered statement through the executor (within the check's deadline;
        driver errors leave as watchdog errors)."""
        return self.executor.run(stmt)

    def _columns(self, stmt: Statement) -> list[Any]:
        """:meth:`_fetch`, column by column (``Executor.run_columns``)."""
        return self.executor.run_columns(stmt)

    def _rows(self, stmt: Statement) -> list[tuple[Any, ...]]:
        """:meth:`_fetch`, as plain tuples."""
        return [tuple(row) for row in self._fetch(stmt)]

    def _translate(
        self, exc: Exception, stmt: Statement, default: type[WarehouseError]
    ) -> WarehouseError:
        """Map a driver exception to a one-line watchdog error through ``ERRORS``."""
        orig = getattr(exc, "orig", None) or exc
        lines = str(orig).strip().splitlines()
        message = redact(lines[0] if lines else type(orig).__name__, self._secrets())
        probe = f"{type(orig).__name__} {getattr(orig, 'sqlstate', None) or ''} {message}"
        kind, hint = default, "check that the warehouse is up and reachable"
        if default is QueryError:
            hint = f"the {stmt.name} query failed; this may be a bug in watchdog"
        for pattern, rule_kind, rule_hint in self.ERRORS:
            if re.search(pattern, probe, re.IGNORECASE):
                kind, hint = rule_kind, rule_hint
                break
        if default is WarehouseUnavailable:
            label = "cannot connect"
        else:
            label = f"{stmt.name} on {stmt.subject}" if stmt.subject else stmt.name
        return kind(self.name, f"{label}: {message}", hint=hint)

    # -- rendering ------------------------------------------------------------------------

    def quote(self, name: str) -> str:
        """``name`` as a quoted identifier (embedded quotes escaped), never as SQL."""
        if not name or "\x00" in name:
            raise InvalidIdentifier(self.name, f"invalid identifier {name!r}", hint=NAMES_HINT)
        q = self.IDENT_QUOTE
        return (q + name.replace(q, q + q) + q).replace(":", "\\:")

    def table_parts(self, table: TableRef) -> tuple[str, ...]:
        """The names of a table as the warehouse reads them: ``[database,] schema, name``."""
        return tuple(p for p in (table.database, table.schema, table.name) if p is not None)

    def qualified(self, table: TableRef) -> str:
        """The quoted ``[database.]schema.name`` of a table."""
        return ".".join(self.quote(p) for p in self.table_parts(table))

    @classmethod
    def dialect_overrides(cls) -> Mapping[type, Callable[..., str]]:
        """Generator TRANSFORMS, keyed by sqlglot expression type, for a warehouse whose
        dialect is sqlglot's own (not one of ``dialects.DIALECTS``): how it spells what
        sqlglot gets wrong for it, e.g. ``{dialects.Epoch: ...}``. Called once, on the first
        render, so the adapter imports sqlglot inside it (never at start-up)."""
        return {}

    @classmethod
    def queries(cls) -> list[str]:
        """Every query this adapter renders, by name (templates and trees)."""
        return sorted({*cls.QUERIES, *cls.TREES})

    def render(self, query: str, **args: Any) -> Statement:
        """The exact statement the fact methods run for ``query`` with these arguments."""
        if "table" in args:
            subject = str(args["table"])
        else:
            subject = ", ".join(str(t) for t in args.get("tables", ()))
        if query in self.TREES:
            return self._render_tree(query, subject, args)
        if query not in self.QUERIES:
            raise ValueError(f"{self.NAME} has no query {query!r}: {self.queries()}")
        build = self.BUILDERS.get(query)
        fragments: dict[str, str] = {}
        params: dict[str, Any] = {}
        if build is not None:
            fragments, params = build(self, **args)
        elif args:  # a fixed query: no fragments, no binds
            raise TypeError(f"{self.NAME} query {query!r} takes no arguments")
        sql = self.QUERIES[query].format(**fragments)
        return Statement(name=query, sql=sql, params=params, subject=subject)

    def _render_tree(self, query: str, subject: str, args: dict[str, Any]) -> Statement:
        """A tree query's statement: its SQL kept from an earlier render of the same shape
        where the builder has parts (``sqlcache.py``), else rendered with sqlglot."""
        build = self.TREES[query]
        parts = self.PARTS.get(build)
        if parts is not None:
            shape, params = parts(self, **args)
            sql = sqlcache.get(type(self), query, shape)
            if sql is not None:
                return Statement(name=query, sql=sql, params=params, subject=subject)
        from watchdog.warehouses import dialects  # imports sqlglot: not at start-up

        tree, binds = build(self, **args)
        sql = dialects.render(tree, self.DIALECT, type(self).dialect_overrides)
        if parts is not None:
            sqlcache.put(type(self), query, shape, sql)
        return Statement(name=query, sql=sql, params=binds, subject=subject)

    def _predicates(
        self, where: Iterable[Predicate], prefix: str = "w"
    ) -> tuple[list[str], dict[str, Any]]:
        """SQL conditions for the filters, with their values as binds ``:<prefix><i>[_<j>]``."""
        conds: list[str] = []
        params: dict[str, Any] = {}
        for i, p in enumerate(where):
            if p.op not in _OPS:
                raise ValueError(f"unsupported filter operator {p.op!r}")
            col = self.quote(p.column)
            if p.op in ("is null", "is not null"):
                conds.append(f"{col} {p.op.upper()}")
            elif p.op in ("in", "not in"):
                if isinstance(p.value, str | bytes) or not isinstance(p.value, Iterable):
                    raise ValueError(f"filter {p.column} {p.op} needs a list of values")
                names = {f"{prefix}{i}_{j}": self._bind_value(v) for j, v in enumerate(p.value)}
                params.update(names)
                binds = ", ".join(f":{n}" for n in names)
                empty = "1 = 0" if p.op == "in" else "1 = 1"
                conds.append(f"{col} {p.op.upper()} ({binds})" if names else empty)
            else:
                params[f"{prefix}{i}"] = self._bind_value(p.value)
                conds.append(f"{col} {'<>' if p.op == '!=' else p.op} :{prefix}{i}")
        return conds, params

    def _bind_value(self, value: Any) -> Any:
        """A filter or range value as the driver should receive it."""
        return as_utc(value) if isinstance(value, datetime) else value

    def _bind_time(self, at: datetime, family: str | None, op: str) -> Any:
        """``at`` bound for ``column op :value`` on a column of type ``family``
        (``time_type``): a TIMESTAMP without zone gets the naive UTC wall clock (the session
        runs in UTC, and naive values are UTC to watchdog), a DATE the day (rounded so that
        ``>=``/``<`` mean what they mean at the day's midnight), others the aware value."""
        if not self.TYPED_TIME_BINDS:
            return self._bind_value(at)
        if family == "timestamp":
            return as_utc(at).replace(tzinfo=None)
        if family == "date":
            at = as_utc(at)
            day = at.date()
            midnight = datetime(day.year, day.month, day.day, tzinfo=at.tzinfo)
            return day + timedelta(days=1) if op in (">=", "<") and at > midnight else day
        return self._bind_value(at)

    def _range_bind(self, table: TableRef, column: str, at: datetime, family: str | None,
                    op: str) -> Any:
        """A bound of a time range on ``table.column`` (``column op :value``), as
        :meth:`_bind_time` binds it (BigQuery binds it as the column's type at run time)."""
        return self._bind_time(at, family, op)

    def time_type(self, table: TableRef, column: str) -> str | None:
        """The type family of a time column, read once per table and adapter (None where
        binds are not typed here, or the column is not found: the query then says why)."""
        if not self.TYPED_TIME_BINDS:
            return None
        key = (table, column)
        if key not in self._time_types:
            try:
                found = self.columns([table]).get(table, [])
            except WarehouseError:
                return None
            wanted = column.lower() if self.NAMES_CASE_INSENSITIVE else column
            for c in found:
                name = c.name.lower() if self.NAMES_CASE_INSENSITIVE else c.name
                self._time_types[(table, c.name)] = c.type_family
                if name == wanted:
                    self._time_types[key] = c.type_family
            self._time_types.setdefault(key, None)
        return self._time_types[key]

    # -- facts ----------------------------------------------------------------------------

    def _name_key(self, schema: str, name: str) -> tuple[str, str]:
        if self.NAMES_CASE_INSENSITIVE:
            return schema.lower(), name.lower()
        return schema, name

    def columns(self, tables: Sequence[TableRef]) -> dict[TableRef, list[Column]]:
        wanted: dict[tuple[str, str], list[TableRef]] = {}
        for ref in dict.fromkeys(tables):
            wanted.setdefault(self._name_key(ref.schema, ref.name), []).append(ref)
        if not wanted:
            return {}
        rows = self._rows(self.render("columns", tables=list(dict.fromkeys(tables))))
        found: dict[TableRef, list[Column]] = {}
        for (schema, table), cols in schema_sql.table_columns(self, rows).items():
            for ref in wanted.get(self._name_key(schema, table), ()):
                found[ref] = list(cols)
        return found

    def count_rows(
        self, table: TableRef, time_column: str, start: datetime, end: datetime,
        bucket: timedelta, where: Sequence[Predicate] = (),
    ) -> list[BucketCount]:
        spans = buckets(as_utc(start), as_utc(end), bucket)
        if not spans:
            return []
        stmt = self.render(
            "count_rows", table=table, time_column=time_column, start=start, end=end,
            bucket=bucket, where=where, time_type=self.time_type(table, time_column),
        )
        counts = [0] * len(spans)
        for index, rows in self._rows(stmt):
            if index is not None:  # the WHERE keeps rows in range; clamp float rounding
                counts[min(max(int(index), 0), len(spans) - 1)] += int(rows)
        spans_counts = zip(spans, counts, strict=True)
        return [BucketCount(start=s, end=e, rows=n) for (s, e), n in spans_counts]

    def newest(
        self, table: TableRef, time_column: str, where: Sequence[Predicate] = ()
    ) -> datetime | None:
        stmt = self.render("newest", table=table, time_column=time_column, where=where)
        rows = self._rows(stmt)
        if not rows or (self.NEWEST_WITH_COUNT and not rows[0][1]):
            return None
        return self._to_datetime(rows[0][0])

    def sample(
        self, table: TableRef, columns: Sequence[str], limit: int,
        where: Sequence[Predicate] = (),
    ) -> list[dict[str, Any]]:
        if limit <= 0:
            return []
        stmt = self.render("sample", table=table, columns=columns, limit=limit, where=where)
        return [
            {k: as_utc(v) if isinstance(v, datetime) else v for k, v in row._mapping.items()}
            for row in self._fetch(stmt)
        ]

    # The facts whose SQL lives in a module of its own (drift: distributions.py, contracts:
    # rulesql.py and regex.py, volume: volume_sql.py, schema: schema_sql.py).

    def histogram(self, table: TableRef, column: str, edges: Sequence[float],
                  where: Sequence[Predicate] = ()) -> Histogram:
        return distributions.histogram(self, table, column, edges, where)

    def histograms(self, table: TableRef, edges: Mapping[str, Sequence[float]],
                   where: Sequence[Predicate] = ()) -> dict[str, Histogram]:
        return distributions.histograms(self, table, edges, where)

    def category_counts(self, table: TableRef, column: str, *, limit: int = 50,
                        where: Sequence[Predicate] = ()) -> CategoryCounts:
        return distributions.category_counts(self, table, column, limit=limit, where=where)

    def value_counts(self, table: TableRef, values: Mapping[str, Sequence[str]],
                     where: Sequence[Predicate] = ()) -> dict[str, CategoryCounts]:
        return distributions.value_counts(self, table, values, where)

    def abs_means(self, table: TableRef, columns: Sequence[str],
                  where: Sequence[Predicate] = ()) -> dict[str, float | None]:
        return distributions.abs_means(self, table, columns, where)

    def ks_counts(self, table: TableRef, grids: Mapping[str, FineGrid | tuple[float, float, int]],
                  where: Sequence[Predicate] = (), moments: bool = False,
                  ) -> dict[str, FineCounts]:
        return distributions.ks_counts(self, table, grids, where, moments)

    def extremes(self, table: TableRef, columns: Sequence[str],
                 where: Sequence[Predicate] = ()) -> dict[str, tuple[float, float] | None]:
        return distributions.extremes(self, table, columns, where)

    def contract_failures(self, table: TableRef, rules: Sequence[Rule],
                          where: Sequence[Predicate] = (), examples: Sequence[int] = (),
                          ) -> RuleCounts:
        return rulesql.contract_failures(self, table, rules, where, examples)

    def failure_examples(self, table: TableRef, rules: Sequence[Rule], limit: int,
                         where: Sequence[Predicate] = ()) -> list[list[str]]:
        return rulesql.failure_examples(self, table, rules, limit, where)

    def pushes_regex(self, pattern: str) -> bool:
        return regex.pushes_regex(self, pattern)

    def count_successes(
        self, table: TableRef, time_column: str, start: datetime, end: datetime,
        window: timedelta, success: Sequence[Predicate], group_by: Sequence[str] = (),
        where: Sequence[Predicate] = (),
    ) -> list[WindowCount]:
        return volume_sql.count_successes(self, table, time_column, start, end, window,
                                          success, group_by, where)

    def backtest(self, spec: BacktestSpec, start: datetime, end: datetime,
                 window: timedelta) -> list[BacktestWindow]:
        return backtest_sql.backtest(self, spec, start, end, window)

    def schema_columns(self, patterns: Sequence[TableRef]) -> dict[TableRef, list[Column]]:
        return schema_sql.schema_columns(self, patterns)

    def schema_fingerprints(self, patterns: Sequence[TableRef]) -> dict[TableRef, str]:
        return schema_sql.schema_fingerprints(self, patterns)

    def _to_datetime(self, value: Any) -> datetime | None:
        """A time value from the warehouse as an aware UTC datetime (naive means UTC)."""
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value.strip())
        elif isinstance(value, date) and not isinstance(value, datetime):
            value = datetime(value.year, value.month, value.day)
        if not isinstance(value, datetime):
            raise QueryError(self.name, f"expected a timestamp, got {type(value).__name__}")
        return as_utc(value)
