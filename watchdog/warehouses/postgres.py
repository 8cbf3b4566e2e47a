"""PostgreSQL through SQLAlchemy and psycopg 3; metadata from pg_catalog."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Literal

import psycopg  # noqa: F401  (fail at lookup, naming the extra, if the driver is missing)
import pydantic
import sqlalchemy as sa

from watchdog import secrets
from watchdog.errors import (
    CheckTimeout,
    PermissionDenied,
    QueryError,
    TableNotFound,
    UnsupportedFeature,
    WarehouseAuthError,
    WarehouseError,
    WarehouseUnavailable,
)
from watchdog.models import AccessGrant, AuditEvent, TableRef
from watchdog.warehouses import access_sql, pg_audit, rulesql
from watchdog.warehouses.base import WarehouseSettings, as_utc
from watchdog.warehouses.catalog_sql import Catalog
from watchdog.warehouses.executor import POOL_WAIT, Executor, SqlAlchemyExecutor
from watchdog.warehouses.sqlbase import (
    NAMES_HINT,
    Builder,
    ErrorRule,
    Parts,
    SqlWarehouse,
    Statement,
)
from watchdog.warehouses.tree_sql import Tree

SSLMode = Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]
_LOCATION = frozenset({"host", "port", "database", "user", "password"})
# "permission denied for table t" / "... for schema s" (PostgreSQL 15; "relation" before)
_REFUSED = re.compile(r'permission denied for (\w+) "?([^"]+?)"?$', re.IGNORECASE)
# What the server says to a login that may not create (or drop) event triggers.
_PRIVILEGE = re.compile(r"permission denied|must be (the )?(owner|superuser)", re.IGNORECASE)


def build_audit_page(wh: SqlWarehouse, since: int = 0, limit: int = 5000) -> Parts:
    """Binds of a page of the audit log: events after ``since``, at most ``limit``."""
    return {}, {"since": int(since), "limit": int(limit)}


class PostgresSettings(WarehouseSettings):
    """How to reach the server: either ``url``, or ``host`` and the fields beside it."""

    url: pydantic.SecretStr | None = None
    """libpq URL ``postgresql://user:password@host:5432/database?sslmode=require``,
    instead of host/port/database/user/password."""

    host: str | None = None
    """Server host name or address."""

    port: int = pydantic.Field(5432, ge=1, le=65535)
    """Server port."""

    database: str | None = None
    """Database to connect to (libpq's default: the user name)."""

    user: str | None = None
    """Role to log in as; it needs only USAGE on the schemas and SELECT on the tables."""

    password: pydantic.SecretStr | None = None
    """Password of ``user``; write ``${ENV_VAR}`` in the config rather than the value."""

    sslmode: SSLMode | None = None
    """libpq sslmode; unset keeps the one in ``url`` or libpq's default (``prefer``)."""

    connect_timeout: int = pydantic.Field(5, ge=1, le=300)
    """Seconds to wait for a connection before the warehouse counts as unavailable."""

    @pydantic.model_validator(mode="after")
    def _one_location(self) -> PostgresSettings:
        if self.url is None:
            if self.host is None:
                raise ValueError("give either url or host")
            return self
        if _LOCATION & self.model_fields_set:
            raise ValueError("give either url or host/port/database/user/password, not both")
        try:
            backend = _parse(self.url).get_backend_name()
        except (sa.exc.ArgumentError, ValueError):  # never echo: the text may hold the password
            backend = ""
        if backend not in ("postgresql", "postgres"):
            raise ValueError("url must be a URL such as postgresql://user@host:port/database "
                             "(a port is a number; in a password write / ? # as %2F %3F %23)")
        return self


class Postgres(SqlWarehouse):
    """PostgreSQL; sessions run in UTC and read-only."""

    NAME: ClassVar[str] = "postgres"
    Settings: ClassVar[type[WarehouseSettings]] = PostgresSettings
    DEFAULT_SCHEMA: ClassVar[str] = "public"
    DIALECT: ClassVar[str] = "postgres"
    settings: PostgresSettings

    #: ``TABLESAMPLE BERNOULLI|SYSTEM (p)``: https://www.postgresql.org/docs/current/sql-select.html
    SUPPORTS_TABLESAMPLE: ClassVar[bool] = True
    #: POSIX regexes, ``~``: https://www.postgresql.org/docs/current/functions-matching.html
    SUPPORTS_REGEX: ClassVar[bool] = True
    REGEX_SYNTAX: ClassVar[str] = "are"
    #: Once ``watchdog setup audit`` installed the DDL event trigger (``pg_audit.py``):
    #: who ran which DDL and when. Before that, :meth:`audit_events` raises UnsupportedFeature.
    SUPPORTS_AUDIT_LOG: ClassVar[bool] = True
    #: ``watchdog setup audit`` installs that trigger (``pg_audit.py``).
    SUPPORTS_AUDIT_SETUP: ClassVar[bool] = True
    #: The audit trigger's DDL counter (one row, ~0.1 ms); None until it is installed.
    SUPPORTS_SCHEMA_VERSION: ClassVar[bool] = True
    #: ``has_table_privilege`` / ``has_schema_privilege`` answer for any role, role
    #: membership included: watchdog tells an unreadable table from a missing one
    #: (:meth:`own_access`) and the access monitor reads principals' privileges (:meth:`access`).
    #: https://www.postgresql.org/docs/current/functions-info.html#FUNCTIONS-INFO-ACCESS-TABLE
    SUPPORTS_ACCESS_CHECK: ClassVar[bool] = True
    SUPPORTS_OWN_ACCESS: ClassVar[bool] = True
    #: Where the principals ``access`` may be asked about are listed: schema, table and
    #: the column of their names.
    PRINCIPAL_CATALOG: ClassVar[tuple[str, str, str]] = ("pg_catalog", "pg_roles", "rolname")
    CATALOG: ClassVar[Catalog] = Catalog(
        schema="n.nspname", table="c.relname",
        # pg_catalog is far cheaper than information_schema.columns (no privilege joins).
        # One row per table, its columns' facts in three arrays: one row per column sorted
        # 320,000 rows of 10,000 tables to disk with the default work_mem, and each row
        # repeated its table's names on the wire and cost a Python row on the client
        packed=True,
        columns=(
            "SELECT n.nspname AS table_schema, c.relname AS table_name,"
            " x.column_names, x.data_types, x.nullables"
            " FROM pg_catalog.pg_class AS c"
            " JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace"
            " CROSS JOIN LATERAL (SELECT array_agg(a.attname ORDER BY a.attnum) AS column_names,"
            " array_agg(format_type(a.atttypid, a.atttypmod) ORDER BY a.attnum) AS data_types,"
            " array_agg(NOT a.attnotnull ORDER BY a.attnum) AS nullables"
            " FROM pg_catalog.pg_attribute AS a"
            " WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS x"
            " WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND x.column_names IS NOT NULL"
            " AND :tables"
            " ORDER BY n.nspname, c.relname"
        ),
        # one row per table, hashed per table in a subquery: a GROUP BY over every column
        # would sort all of them (to disk at 10,000 tables with the default work_mem)
        fingerprints=(
            "SELECT n.nspname AS table_schema, c.relname AS table_name, ("
            " SELECT md5(string_agg(a.attname || chr(30) || format_type(a.atttypid, a.atttypmod)"
            " || chr(30) || CASE WHEN a.attnotnull THEN '0' ELSE '1' END, chr(31)"
            " ORDER BY a.attnum))"
            " FROM pg_catalog.pg_attribute AS a"
            " WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped"
            ") AS fingerprint"
            " FROM pg_catalog.pg_class AS c"
            " JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace"
            " WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND :tables"
        ),
    )
    QUERIES: ClassVar[dict[str, str]] = {
        **SqlWarehouse.QUERIES,
        "schema_version": f"SELECT n FROM {pg_audit.SCHEMA}.ddl_version",
        # a statement the row before holds too is sent once (``repeated``): a script of 500
        # DDL statements is logged once per statement, its whole text each time (20 MB of
        # the same 20 texts in a page of 5,000 rows)
        "audit_events": (
            "SELECT seq, at, username, command_tag, object_type, object_identity,\n"
            "CASE WHEN statement = lag(statement) OVER (ORDER BY seq) THEN NULL"
            " ELSE statement END AS statement,\n"
            "COALESCE(statement = lag(statement) OVER (ORDER BY seq), FALSE) AS repeated\n"
            f"FROM {pg_audit.SCHEMA}.ddl_log\nWHERE seq > :since\nORDER BY seq\nLIMIT :limit"
        ),
    }
    BUILDERS: ClassVar[Mapping[str, Builder]] = {
        **SqlWarehouse.BUILDERS, "audit_events": build_audit_page}
    TREES: ClassVar[Mapping[str, Callable[..., Tree]]] = {
        **SqlWarehouse.TREES,
        "own_access": access_sql.build_own_access, "access": access_sql.build_access,
        "inherited_roles": access_sql.build_inherited_roles,
        # examples in the counts' statement, by subqueries run only for failing rules
        "contract_scan": rulesql.build_contract_scan_lazy}
    # SQLSTATEs: https://www.postgresql.org/docs/current/errcodes-appendix.html
    ERRORS: ClassVar[tuple[ErrorRule, ...]] = (
        (r"\b(42P01|42703|3F000)\b", TableNotFound, NAMES_HINT),
        (r"\b(28P01|28000)\b|password authentication failed|role .* does not exist|"
         r"no pg_hba\.conf entry|no password supplied", WarehouseAuthError,
         "check settings.user and settings.password, and that the role may log in"),
        (r"\b42501\b|permission denied", PermissionDenied,
         "grant the role USAGE on the schema and SELECT on the table"),
        (r"database .* does not exist", WarehouseUnavailable, "check settings.database"),
        # query_canceled, lock_not_available: a statement or lock timeout (the server's own
        # statement_timeout when no monitor deadline set one)
        (r"\b(57014|55P03)\b", CheckTimeout, "a statement or lock timeout cancelled it: "
         "raise the monitor's `timeout` (or the role's statement_timeout), or look for a "
         "lock held on the table"),
        (r"\b(08\w{3}|57P0\d|53300)\b|connection refused|timeout expired|"
         r"could not translate host|could not connect|server closed the connection|"
         r"no route to host|network is unreachable", WarehouseUnavailable,
         "check that the server is up and that host, port and sslmode are right"),
    )

    executor: SqlAlchemyExecutor

    def _executor(self) -> Executor:
        return SqlAlchemyExecutor(self.name, self._translate, self._create_engine,
                                  limit=_limit, canceller=_canceller)

    def _translate(self, exc: Exception, stmt: Statement,
                   default: type[WarehouseError]) -> WarehouseError:
        """As the base class does; a privilege error on one table's statement names the
        GRANT that fixes it (SQLSTATE 42501 says which object was refused)."""
        error = super()._translate(exc, stmt, default)
        if not isinstance(error, PermissionDenied) or "," in stmt.subject or not stmt.subject:
            return error
        table = self.table(stmt.subject)
        refused = _REFUSED.search(error.detail)
        if refused is None:
            return error
        kind, name = refused.group(1).lower(), refused.group(2)
        if not ((kind == "schema" and name == table.schema)
                or (kind in ("table", "relation", "view") and name == table.name)):
            return error  # another object (a catalog view): the generic hint
        fix = access_sql.denied(self.name, table, self.login(),
                                schema_usage=refused.group(1).lower() != "schema")
        return PermissionDenied(self.name, error.detail, hint=fix.hint)

    def login(self) -> str:
        """The role watchdog logs in as, as configured (for the GRANTs hints name)."""
        s = self.settings
        user = s.user if s.url is None else _parse(s.url).username
        return user or "<watchdog's login>"

    def own_access(self, tables: Sequence[TableRef]) -> dict[TableRef, PermissionDenied]:
        return access_sql.own_access(self, tables)

    def access(self, principals: Sequence[str], tables: Sequence[TableRef],
               privileges: Sequence[str]) -> list[AccessGrant]:
        return access_sql.access(self, principals, tables, privileges)

    def inherited_roles(self, principal: str, roles: Sequence[str]) -> set[str]:
        return access_sql.inherited_roles(self, principal, roles)

    def schema_version(self, patterns: Sequence[TableRef] = ()) -> str | None:
        try:
            rows = self._rows(self.render("schema_version"))
        except (TableNotFound, WarehouseAuthError):
            return None  # not installed, or not readable: take full snapshots
        return str(rows[0][0]) if rows else None

    def audit_events(self, since: int = 0, limit: int = 5000) -> list[AuditEvent]:
        try:
            rows = self._rows(self.render("audit_events", since=since, limit=limit))
        except TableNotFound as exc:
            raise UnsupportedFeature(self.name, "a DDL audit log before "
                                     f"`watchdog setup audit --warehouse {self.name}`") from exc
        events, text = [], ""
        for seq, at, user, tag, otype, ident, statement, repeated in rows:
            text = text if repeated else statement or ""  # repeated: the row before's
            events.append(AuditEvent(seq=int(seq), at=as_utc(at), user=user, command=tag,
                                     statement=text, objects=_objects(otype, ident)))
        return events

    def recent_audit_events(self, limit: int = 5000) -> list[AuditEvent]:
        """The audit log's counter is its newest ``seq`` (``pg_audit.py``): read back from it."""
        version = self.schema_version()
        if version is None:
            raise UnsupportedFeature(self.name, "a DDL audit log before "
                                     f"`watchdog setup audit --warehouse {self.name}`")
        return self.audit_events(max(0, int(version) - limit), limit)

    def setup_audit(self, *, remove: bool = False, grant_to: str | None = None) -> None:
        """Install (idempotently) or remove the DDL audit trigger; needs a superuser."""
        statements = pg_audit.REMOVE if remove else pg_audit.INSTALL
        if grant_to and not remove:
            statements += pg_audit.grants(grant_to, self.quote)
        stmt = Statement(name="setup audit", sql="; ".join(statements))
        try:
            pg_audit.apply(self.executor.engine, statements)
        except WarehouseError:
            raise
        except Exception as exc:
            error = self._translate(exc, stmt, QueryError)
            if _PRIVILEGE.search(error.detail):  # not a missing grant: a superuser's job
                error = WarehouseAuthError(self.name, error.detail, hint=(
                    "event triggers need a superuser: run it once as one, with --url "
                    "postgresql://<superuser>@host/db (and --grant <watchdog's role>)"))
            raise error from exc

    def apply_script(self, name: str, statements: tuple[str, ...]) -> None:
        """Run fixed statements (``pg_demo.py``'s) in one read-write transaction."""
        stmt = Statement(name=name, sql="; ".join(statements))
        try:
            pg_audit.apply(self.executor.engine, statements)
        except WarehouseError:
            raise
        except Exception as exc:
            raise self._translate(exc, stmt, QueryError) from exc

    def _url(self) -> sa.URL:
        s = self.settings
        if s.url is not None:
            return _parse(s.url).set(drivername="postgresql+psycopg")
        return sa.URL.create(
            "postgresql+psycopg", username=s.user, host=s.host, port=s.port,
            password=s.password.get_secret_value() if s.password else None,
            database=s.database,
        )

    def _create_engine(self) -> sa.Engine:
        url = self._url()
        wanted = {
            "connect_timeout": self.settings.connect_timeout,
            "application_name": "ml-watchdog",
            "sslmode": self.settings.sslmode,
        }
        args: dict[str, Any] = {
            k: v for k, v in wanted.items() if v is not None and k not in url.query
        }
        # Startup options cost no round trip and survive rollbacks: UTC (naive timestamps
        # are UTC to us) and read-only. PgBouncer needs ignore_startup_parameters=options.
        user_options = url.query.get("options")
        session = "-c TimeZone=UTC -c default_transaction_read_only=on"
        args["options"] = f"{user_options} {session}" if isinstance(user_options, str) else session
        return sa.create_engine(url, connect_args=args, pool_pre_ping=True, pool_recycle=1800,
                                pool_timeout=POOL_WAIT)

    def _secrets(self) -> list[str]:
        s = self.settings
        out = [s.password.get_secret_value()] if s.password else []
        if s.url is not None:
            out.append(_parse(s.url).password or "")
        return out


def _limit(conn: sa.Connection, seconds: float) -> None:
    """Have the server cancel the next statement on ``conn`` after ``seconds``: both
    settings end with the transaction the statement runs in (SET LOCAL); a lock wait
    counts toward statement_timeout too, lock_timeout says which one it was:
    https://www.postgresql.org/docs/current/runtime-config-client.html"""
    ms = max(1, int(seconds * 1000))
    conn.exec_driver_sql(f"SET LOCAL statement_timeout = {ms}; SET LOCAL lock_timeout = {ms}")


def _canceller(dbapi_connection: Any) -> Callable[[], None] | None:
    """A cancel request on its own connection: https://www.psycopg.org/psycopg3/docs/api/connections.html
    (cancel_safe since psycopg 3.2, cancel before)."""
    return getattr(dbapi_connection, "cancel_safe", None) or getattr(
        dbapi_connection, "cancel", None)


def _parse(url: pydantic.SecretStr) -> sa.URL:
    """``url`` as SQLAlchemy reads it once an unescaped ``@`` in the password is encoded."""
    return sa.make_url(secrets.normalize_url(url.get_secret_value()))


#: An object identity made of unquoted names only (``quote_ident`` leaves these bare).
_PLAIN_IDENTITY = re.compile(r"^[a-z_][a-z0-9_$]*(\.[a-z_][a-z0-9_$]*)*$")


def _objects(object_type: str | None, identity: str | None) -> tuple[str, ...]:
    """``public.t`` (or ``public.t.col`` for a column) as the unquoted table ``public.t``."""
    if not identity:
        return ()
    if _PLAIN_IDENTITY.match(identity):  # nothing quoted: Postgres quotes what needs it
        parts = identity.split(".")
    else:
        try:
            import sqlglot  # parsing quoted audit identities only: not at start-up

            parts = [p.name for p in sqlglot.exp.to_column(identity, dialect="postgres").parts]
        except sqlglot.errors.ParseError:
            return (identity,)
    if object_type == "table column":
        parts = parts[:-1]
    return (".".join(parts[-2:]),)
