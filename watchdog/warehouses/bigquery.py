"""Google BigQuery through google-cloud-bigquery; metadata from INFORMATION_SCHEMA.

The templates (``bigquery_sql.py``) are GoogleSQL: identifiers in backticks, values as
``@name`` query parameters, typed per value here. This module is the only one that imports
the client: every query is dry-run first (free:
https://cloud.google.com/bigquery/docs/running-queries#dry-run) and refused when its estimate
is above ``dry_run_budget``; it then runs through ``jobs.query`` with ``maximumBytesBilled``
and job labels, so that BigQuery enforces the cap too. Client errors leave as watchdog's.
A time value compared with a column is bound as that column's type (TIMESTAMP, DATETIME or
DATE), read once per table from the table's schema (``bigquery_sql.TimeBind``).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, ClassVar

import google.auth.exceptions
import requests
from google.api_core import exceptions as api_exceptions
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials, Credentials
from google.cloud import bigquery
from google.oauth2 import service_account

from watchdog import timeouts
from watchdog.errors import (
    PermissionDenied,
    QueryError,
    TableNotFound,
    WarehouseAuthError,
    WarehouseError,
    WarehouseUnavailable,
    redact,
)
from watchdog.models import AccessGrant, AuditEvent, TableRef
from watchdog.warehouses import bigquery_access, bigquery_sql
from watchdog.warehouses.base import Warehouse, WarehouseSettings, as_utc
from watchdog.warehouses.bigquery_settings import BigQuerySettings
from watchdog.warehouses.bigquery_sql import TimeBind
from watchdog.warehouses.executor import Executor, Translate, driver_sql
from watchdog.warehouses.sqlbase import NAMES_HINT, Builder, SqlWarehouse, Statement
from watchdog.warehouses.tree_sql import Tree


class BigQuery(SqlWarehouse):
    """BigQuery: GoogleSQL templates, run through the client with a cost guard."""

    NAME: ClassVar[str] = "bigquery"
    Settings: ClassVar[type[WarehouseSettings]] = BigQuerySettings
    #: BigQuery has no default dataset: tables are written ``dataset.table``.
    DEFAULT_SCHEMA: ClassVar[str] = "default"
    DIALECT: ClassVar[str] = "bigquery"
    IDENT_QUOTE: ClassVar[str] = "`"
    settings: BigQuerySettings

    #: ``TABLESAMPLE SYSTEM (p PERCENT)``, used when ``settings.sample_percent`` is set:
    #: https://cloud.google.com/bigquery/docs/table-sampling
    SUPPORTS_TABLESAMPLE: ClassVar[bool] = True
    #: Principals' privileges from each table's IAM policy and its dataset's access entries
    #: (``bigquery_access.py``: table and dataset grants only, not the project's).
    SUPPORTS_ACCESS_CHECK: ClassVar[bool] = True
    #: A REVOKE names IAM roles (``roles/bigquery.dataViewer``), standing for these privileges.
    ROLE_PRIVILEGES: ClassVar[Mapping[str, frozenset[str]]] = bigquery_access.ROLE_PRIVILEGES
    #: DDL jobs (who, statement, when) from ``region-<location>``.INFORMATION_SCHEMA.JOBS.
    SUPPORTS_AUDIT_LOG: ClassVar[bool] = True
    #: A hash of the last-modified times of the tables in ``settings.datasets``.
    SUPPORTS_SCHEMA_VERSION: ClassVar[bool] = True
    #: RE2 through REGEXP_CONTAINS (a search; the caller anchors it).
    SUPPORTS_REGEX: ClassVar[bool] = True
    #: ``project.dataset.table`` reads a table of another project.
    SUPPORTS_DATABASE_NAMES: ClassVar[bool] = True
    TYPE_FAMILIES: ClassVar[dict[str, str]] = {
        **Warehouse.TYPE_FAMILIES,
        "int64": "integer", "float64": "float", "bignumeric": "decimal", "bool": "boolean",
        # TIMESTAMP is an absolute instant, DATETIME a wall-clock time:
        # https://cloud.google.com/bigquery/docs/reference/standard-sql/data-types
        "timestamp": "timestamptz", "datetime": "timestamp", "geography": "other",
    }
    #: Times take the column's type from the table's schema at run time (TimeBind).
    TYPED_TIME_BINDS: ClassVar[bool] = False
    QUERIES: ClassVar[dict[str, str]] = {
        **SqlWarehouse.QUERIES,
        **bigquery_sql.QUERIES,
    }
    BUILDERS: ClassVar[Mapping[str, Builder]] = {
        **SqlWarehouse.BUILDERS,
        **bigquery_sql.BUILDERS,
    }
    #: The catalog queries read one INFORMATION_SCHEMA per dataset (``bigquery_sql.py``).
    TREES: ClassVar[Mapping[str, Callable[..., Tree]]] = {
        **SqlWarehouse.TREES,
        **bigquery_sql.TREES,
    }

    executor: BigQueryExecutor

    def __init__(self, name: str, settings: Any, executor: Executor | None = None) -> None:
        #: ``{(project, dataset, table): {column path: type}}``, see :meth:`_column_types`.
        self._types: dict[tuple[str, str, str], dict[str, str]] = {}
        self._types_lock = threading.Lock()
        super().__init__(name, settings, executor)

    # -- execution ------------------------------------------------------------------------

    def _executor(self) -> BigQueryExecutor:
        return BigQueryExecutor(
            self.name, lambda exc, stmt, _default: translate(exc, stmt, self.name,
                                                             self._secrets()),
            self.settings, prepare=self._bind_times, failed=self._forget_times)

    def _bind_times(self, stmt: Statement) -> Statement:
        """``stmt`` with each time value bound as its column's type."""
        return self._typed(stmt, [v for v in stmt.params.values() if isinstance(v, TimeBind)])

    def _forget_times(self, stmt: Statement) -> None:
        """After a failure: a column's type (or presence) may have changed since the schema
        was read, so read it again next time (tables.get is free)."""
        self._forget({v.table for v in stmt.params.values() if isinstance(v, TimeBind)})

    def _typed(self, stmt: Statement, binds: Sequence[TimeBind]) -> Statement:
        """``stmt`` with each :class:`TimeBind` replaced by the value to bind for its column."""
        if not binds:
            return stmt
        params = {k: bigquery_sql.bound_time(v, self._column_type(v, stmt))
                  if isinstance(v, TimeBind) else v for k, v in stmt.params.items()}
        return Statement(name=stmt.name, sql=stmt.sql, params=params, subject=stmt.subject)

    def _column_type(self, bind: TimeBind, stmt: Statement) -> str:
        types = self._column_types(bind.table)
        if types is None:
            return "TIMESTAMP"
        found = types.get(bind.column.casefold()) or \
            bigquery_sql.PSEUDO_COLUMNS.get(bind.column.casefold())
        if found is None:
            raise TableNotFound(
                self.name, f"{label(stmt)}: {bind.table} has no column {bind.column!r}",
                hint=f"{NAMES_HINT} (the monitor's time_column and where)")
        return found

    def _column_types(self, table: TableRef) -> dict[str, str] | None:
        """``{column path: type}`` of ``table`` from tables.get, read once per table: a
        metadata call that runs no query and bills nothing
        (https://cloud.google.com/bigquery/docs/reference/rest/v2/tables/get,
        https://cloud.google.com/bigquery/pricing#free). None for a wildcard table, which
        has no schema of its own (its values are bound as TIMESTAMP)."""
        if "*" in table.name:
            return None
        key = self._key(table)
        with self._types_lock:
            found = self._types.get(key)
        if found is None:
            ref = bigquery.TableReference(bigquery.DatasetReference(key[0], key[1]), key[2])
            retry = bigquery.DEFAULT_RETRY.with_deadline(self.settings.timeout)
            schema = self.executor.client.get_table(
                ref, retry=retry, timeout=self.settings.timeout).schema
            found = bigquery_sql.field_types(schema)
            with self._types_lock:
                self._types[key] = found
        return found

    def _forget(self, tables: set[TableRef]) -> None:
        with self._types_lock:
            for table in tables:
                self._types.pop(self._key(table), None)

    def _key(self, table: TableRef) -> tuple[str, str, str]:
        return table.database or self.settings.project, table.schema, table.name

    def access(self, principals: Sequence[str], tables: Sequence[TableRef],
               privileges: Sequence[str]) -> list[AccessGrant]:
        return bigquery_access.access(self, principals, tables, privileges)

    def revoked_from(self, principal: str, grantee: str) -> bool:
        return bigquery_access.revoked_from(principal, grantee)

    def recent_audit_events(self, limit: int = 5000) -> list[AuditEvent]:
        """The newest REVOKE jobs of the last ``audit_lookback_hours`` in the region's JOBS
        view (DCL, beside the DDL jobs :meth:`audit_events` reads), oldest first."""
        rows = self._rows(self.render("revoke_jobs", hours=self.settings.audit_lookback_hours,
                                      limit=limit))
        return [AuditEvent(seq=int(seq), at=as_utc(at), user=user or "unknown",
                           command="REVOKE", statement=query or "")
                for seq, at, user, _, query in reversed(rows)]

    def call_error(self, exc: Exception, call: str, table: TableRef) -> WarehouseError:
        """A metadata API call's failure on ``table``, as a one-line watchdog error."""
        return translate(exc, Statement(name=call, sql="", subject=str(table)), self.name,
                         self._secrets())

    def _secrets(self) -> list[str]:
        info = self.settings.credentials_info
        return [info.get_secret_value()] if info is not None else []

    # -- rendering ------------------------------------------------------------------------

    def render(self, query: str, **args: Any) -> Statement:
        """As the parent renders it, with ``@name`` parameters (what the client sends) and
        each time value compared with a column as a :class:`TimeBind`."""
        table = args.get("table")
        if isinstance(table, TableRef):
            for key in ("where", "success"):
                if args.get(key):
                    args[key] = bigquery_sql.mark_times(table, args[key])
            if args.get("rules"):
                args["rules"] = bigquery_sql.mark_rule_times(table, args["rules"])
        stmt = super().render(query, **args)
        sql = driver_sql(stmt.sql, "at")
        return Statement(name=stmt.name, sql=sql, params=stmt.params, subject=stmt.subject)

    def _range_bind(self, table: TableRef, column: str, at: datetime, family: str | None,
                    op: str) -> Any:
        # the range compares the bare column with the bounds (so partitions prune), which
        # must therefore be bound as the column's type (TimeBind)
        return TimeBind(table=table, column=column, op=op, at=as_utc(at))

    def table_parts(self, table: TableRef) -> tuple[str, ...]:
        """``project, dataset, table``; the project defaults to ``settings.project``."""
        return table.database or self.settings.project, table.schema, table.name


    # -- facts ----------------------------------------------------------------------------

    def schema_version(self, patterns: Sequence[TableRef] = ()) -> str | None:
        if not self.settings.datasets:
            return None
        rows = self._rows(self.render("schema_version"))
        return str(rows[0][0]) if rows and rows[0][0] is not None else None

    def audit_events(self, since: int = 0, limit: int = 5000) -> list[AuditEvent]:
        rows = self._rows(self.render("audit_events", since=since, limit=limit))
        return [
            AuditEvent(seq=int(seq), at=as_utc(at), user=user or "unknown", command=kind,
                       statement=query or "",
                       objects=(f"{dataset}.{table}",) if dataset and table else ())
            for seq, at, user, kind, dataset, table, query in rows
        ]


# -- the client side: credentials, parameters, the cost guard, errors --------

SCOPES = ("https://www.googleapis.com/auth/bigquery",)
#: Python type -> GoogleSQL parameter type; bool before int, datetime before date. A naive
#: datetime (the wall clock that ``bound_time`` makes for a DATETIME column) is DATETIME, which
#: the client sends as ``2026-03-01T05:00:00.000000``: https://cloud.google.com/python/docs/
#: reference/bigquery/latest/google.cloud.bigquery.query.ScalarQueryParameter
_SCALAR_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "BOOL"), (int, "INT64"), (float, "FLOAT64"), (Decimal, "BIGNUMERIC"),
    (str, "STRING"), (bytes, "BYTES"), (datetime, "TIMESTAMP"), (date, "DATE"), (time, "TIME"),
)
#: The "POST https://...: " prefix of the client's HTTP errors.
_REQUEST = re.compile(r"^(GET|POST|PUT|PATCH|DELETE) \S+: ")


class BigQueryExecutor(Executor):
    """Statements run as query jobs through the client (created on first use): each is
    dry-run, refused above ``dry_run_budget``, then run with ``maximumBytesBilled`` and the
    deadline as ``jobTimeoutMs``. Rows are tuples with a ``_mapping``."""

    def __init__(
        self, name: str, translate: Translate, settings: BigQuerySettings, *,
        prepare: Callable[[Statement], Statement] = lambda stmt: stmt,
        failed: Callable[[Statement], None] = lambda stmt: None,
    ) -> None:
        """``prepare(stmt)`` finishes a statement just before it runs (the adapter binds
        time values as their columns' types); ``failed(stmt)`` is told of any failure."""
        super().__init__(name, translate)
        self.settings = settings
        self._prepare, self._failed = prepare, failed
        self._client: Any = None
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        """The google-cloud-bigquery client, created on first use."""
        with self._lock:
            if self._client is None:
                try:
                    self._client = make_client(self.settings)
                except Exception as exc:
                    stmt = Statement(name="connect", sql="")
                    raise self.translate(exc, stmt, WarehouseUnavailable) from exc
            return self._client

    def _run(self, stmt: Statement) -> list[Any]:
        deadline = timeouts.current()
        left = deadline.check(self.name) if deadline is not None else None
        try:
            if deadline is None:
                return run(self.client, self.settings, self._prepare(stmt), self.name)
            with deadline.running(stmt.name, stmt.subject):
                return run(self.client, self.settings, self._prepare(stmt), self.name, left)
        except Exception as exc:
            if deadline is not None and deadline.overdue():
                raise deadline.error(self.name) from exc
            self._failed(stmt)
            if isinstance(exc, WarehouseError):
                raise
            raise self.translate(exc, stmt, QueryError) from exc

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None


class CostGuardRefused(QueryError):
    """A query's dry run estimated more bytes than ``settings.dry_run_budget`` allows."""


def query_parameter(name: str, value: Any) -> Any:
    """A typed ScalarQueryParameter, or an ArrayQueryParameter for a list or tuple."""
    if isinstance(value, list | tuple):
        kinds = {_type_of(v) for v in value if v is not None}
        kind = kinds.pop() if len(kinds) == 1 else "STRING"
        values = list(value) if kind != "STRING" else [None if v is None else str(v)
                                                        for v in value]
        return bigquery.ArrayQueryParameter(name, kind, values)
    return bigquery.ScalarQueryParameter(name, _type_of(value), value)


def _type_of(value: Any) -> str:
    if isinstance(value, datetime) and value.tzinfo is None:
        return "DATETIME"
    for cls, kind in _SCALAR_TYPES:
        if isinstance(value, cls):
            return kind
    if value is None:
        return "STRING"  # a typed NULL; comparisons with it are NULL whatever its type
    raise TypeError(f"no BigQuery parameter type for {type(value).__name__}")


def credentials(settings: BigQuerySettings) -> Credentials | None:
    """The configured credentials; None lets the client find application-default ones."""
    if settings.anonymous:
        return AnonymousCredentials()
    if settings.credentials_file is not None:
        from_file: Credentials = service_account.Credentials.from_service_account_file(
            settings.credentials_file, scopes=SCOPES)
        return from_file
    if settings.credentials_info is not None:
        info = json.loads(settings.credentials_info.get_secret_value())
        from_info: Credentials = service_account.Credentials.from_service_account_info(
            info, scopes=SCOPES)
        return from_info
    return None


def make_client(settings: BigQuerySettings) -> bigquery.Client:
    """A client for the settings; it does not connect until the first request."""
    options = ClientOptions(api_endpoint=settings.api_endpoint) if settings.api_endpoint else None
    return bigquery.Client(
        project=settings.project, location=settings.location,
        credentials=credentials(settings), client_options=options,
    )


def job_config(settings: BigQuerySettings, params: Mapping[str, Any], *,
               dry_run: bool, seconds: float | None = None) -> bigquery.QueryJobConfig:
    """The configuration of one query job: parameters, labels, cost caps, and the time
    after which BigQuery itself stops the job (``jobTimeoutMs``, the check's deadline:
    https://cloud.google.com/bigquery/docs/reference/rest/v2/Job#JobConfiguration)."""
    config = bigquery.QueryJobConfig(
        dry_run=dry_run, use_query_cache=not dry_run, use_legacy_sql=False,
        query_parameters=[query_parameter(k, v) for k, v in params.items()],
        labels=dict(settings.labels), maximum_bytes_billed=settings.max_bytes_billed,
    )
    if seconds is not None and not dry_run:
        config.job_timeout_ms = max(1000, int(seconds * 1000))
    return config


class ResultRow(tuple[Any, ...]):
    """A result row: a tuple that also maps column names to values, like SQLAlchemy's."""

    _fields: tuple[str, ...] = ()

    @property
    def _mapping(self) -> dict[str, Any]:
        return dict(zip(self._fields, self, strict=True))


def run(client: bigquery.Client, settings: BigQuerySettings, stmt: Statement,
        warehouse: str, seconds: float | None = None) -> list[Any]:
    """Dry-run ``stmt``, refuse it above the budget, then run it and return its rows; with
    ``seconds``, BigQuery stops the job then and the wait for it ends then too."""
    wait = settings.timeout if seconds is None else min(settings.timeout, seconds)
    retry = bigquery.DEFAULT_RETRY.with_deadline(wait)
    dry = client.query(stmt.sql, job_config=job_config(settings, stmt.params, dry_run=True),
                       retry=retry, timeout=wait, job_retry=None)
    estimate = int(dry.total_bytes_processed or 0)
    budget = settings.budget
    if estimate > budget:
        raise CostGuardRefused(
            warehouse, f"{label(stmt)}: the dry run estimates {_size(estimate)} processed, "
            f"above settings.dry_run_budget ({_size(budget)}); nothing was run",
            hint="narrow the monitor's window or filters, partition the table on its time "
                 "column, or raise settings.dry_run_budget")
    rows = client.query_and_wait(
        stmt.sql, job_config=job_config(settings, stmt.params, dry_run=False, seconds=seconds),
        api_timeout=wait, wait_timeout=wait, retry=retry,
        job_retry=None,  # type: ignore[arg-type]  # None (no re-run) is handled; the
        # daemon runs the monitor again at its next poll
    )
    fields = tuple(f.name for f in rows.schema)
    out = []
    for row in rows:
        item = ResultRow(row.values())
        item._fields = fields
        out.append(item)
    return out


def label(stmt: Statement) -> str:
    return f"{stmt.name} on {stmt.subject}" if stmt.subject else stmt.name


def _size(n: int) -> str:
    return f"{n / 1e9:.3f} GB ({n} bytes)"


# 403 on one object: "Access Denied: Table p:d.t: User does not have permission to query
# table p:d.t ..." (https://cloud.google.com/bigquery/docs/error-messages#accessDenied)
_DENIED = re.compile(r"Access Denied: (Table|Dataset) ([\w.:-]+?):? ", re.IGNORECASE)
_HINTS = {
    WarehouseAuthError: "grant the service account roles/bigquery.dataViewer and "
                        "roles/bigquery.jobUser (and roles/bigquery.resourceViewer for the "
                        "audit log), or check settings.credentials_file",
    TableNotFound: "check the project, dataset and table names in the config",
    WarehouseUnavailable: "check settings.api_endpoint and the network path to it",
}


def translate(exc: Exception, stmt: Statement, warehouse: str,
              secrets: Sequence[str]) -> WarehouseError:
    """The client's exception as a one-line watchdog error."""
    if isinstance(exc, WarehouseError):
        return exc
    kind = _kind(exc)
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    message = _REQUEST.sub("", str(message).strip().splitlines()[0])
    message = redact(message, list(secrets))
    denied = _DENIED.search(message) if kind is WarehouseAuthError else None
    if denied is not None:  # our credentials are fine: one table or dataset is not readable
        what, name = denied.group(1).lower(), denied.group(2).replace(":", ".")
        return PermissionDenied(warehouse, f"{label(stmt)}: {message}", hint=(
            f"grant watchdog's service account roles/bigquery.dataViewer on {what} {name} "
            f"(bq add-iam-policy-binding --member=serviceAccount:<watchdog's account> "
            f"--role=roles/bigquery.dataViewer {name})"))
    if kind is QueryError and "bytesBilledLimitExceeded" in str(getattr(exc, "errors", "")):
        hint = "the query would bill more than settings.max_bytes_billed"
    else:
        hint = _HINTS.get(kind, f"the {stmt.name} query failed; this may be a bug in watchdog")
    return kind(warehouse, f"{label(stmt)}: {message}", hint=hint)


def _kind(exc: Exception) -> type[WarehouseError]:
    if isinstance(exc, api_exceptions.Unauthorized | api_exceptions.Forbidden
                  | google.auth.exceptions.DefaultCredentialsError
                  | google.auth.exceptions.RefreshError):
        return WarehouseAuthError
    if isinstance(exc, api_exceptions.NotFound):
        return TableNotFound
    if isinstance(exc, api_exceptions.ServerError | api_exceptions.TooManyRequests
                  | api_exceptions.RetryError | requests.exceptions.RequestException
                  | google.auth.exceptions.TransportError | ConnectionError | TimeoutError):
        return WarehouseUnavailable
    return QueryError
