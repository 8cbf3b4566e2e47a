"""Snowflake through snowflake-connector-python (no SQLAlchemy dialect: see ``dbapi.py``).

Columns come from ``<database>.INFORMATION_SCHEMA`` (no latency); the DDL audit log from
``SNOWFLAKE.ACCOUNT_USAGE`` (45 minutes to 3 hours behind:
https://docs.snowflake.com/en/sql-reference/account-usage#differences-between-account-usage-and-information-schema).
Tables written ``DB.SCHEMA.TABLE`` are read from that database; the rest from
``settings.database`` (the SQL, and how several databases are read at once, is in
``snowflake_sql.py``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Literal

import pydantic
import snowflake.connector  # fail at lookup, naming the extra, if missing

from watchdog import sqltext
from watchdog.errors import (
    PermissionDenied,
    TableNotFound,
    UnsupportedFeature,
    WarehouseAuthError,
    WarehouseUnavailable,
)
from watchdog.models import AccessGrant, AuditEvent, Column, DdlStamp, TableRef
from watchdog.warehouses import snowflake_access, snowflake_sql
from watchdog.warehouses.base import WarehouseSettings, as_utc
from watchdog.warehouses.catalog_sql import Catalog
from watchdog.warehouses.dbapi import DbApiExecutor, DriverError
from watchdog.warehouses.sqlbase import NAMES_HINT, Builder, ErrorRule, SqlWarehouse
from watchdog.warehouses.tree_sql import Tree


class SnowflakeSettings(WarehouseSettings):
    """How to reach the account: one of password, key pair or OAuth token."""

    account: str
    """Account identifier (``orgname-account`` or ``locator.region``)."""

    user: str
    """Login name; its role needs the grants listed in the README."""

    database: str
    """The default database (exact case): tables written ``schema.table`` are in it; tables
    written ``DB.schema.table`` are read from database ``DB``'s INFORMATION_SCHEMA."""

    password: pydantic.SecretStr | None = None
    """Password authentication; write ``${ENV_VAR}`` in the config, not the value."""

    private_key_path: str | None = None
    """Key-pair authentication: a PEM (PKCS#8) private key file."""

    private_key: pydantic.SecretStr | None = None
    """Key-pair authentication: the PEM private key itself (instead of a file)."""

    private_key_passphrase: pydantic.SecretStr | None = None
    """Passphrase of an encrypted private key."""

    token: pydantic.SecretStr | None = None
    """OAuth authentication: an access token (``authenticator=oauth``)."""

    role: str | None = None
    """Role to use (default: the user's default role)."""

    warehouse: str | None = None
    """Virtual warehouse that runs the data queries (metadata queries need none)."""

    query_tag: str = "ml-watchdog"
    """Session QUERY_TAG, so that watchdog's queries (and their cost) can be found."""

    host: str | None = None
    """Endpoint override, e.g. a PrivateLink host ``acct.privatelink.snowflakecomputing.com``."""

    port: int | None = pydantic.Field(None, ge=1, le=65535)
    """Endpoint port override (default 443)."""

    protocol: Literal["https", "http"] = "https"
    """``http`` only for a local stand-in or a TLS-terminating proxy."""

    login_timeout: int = pydantic.Field(30, ge=1, le=600)
    """Seconds to wait for the login before the warehouse counts as unavailable."""

    network_timeout: int = pydantic.Field(120, ge=1, le=3600)
    """Seconds to wait for any one request."""

    access_history: bool = False
    """Name the tables each DDL touched from ACCOUNT_USAGE.ACCESS_HISTORY (Enterprise
    Edition and up; needs the GOVERNANCE_VIEWER database role)."""

    audit_lookback_hours: int = pydantic.Field(24, ge=1, le=24 * 365)
    """How far back the first audit read looks; bounds the QUERY_HISTORY scan."""

    change_probe: bool = True
    """Skip the full column snapshot when no table's LAST_DDL moved since the last poll. Off:
    every poll reads the columns (for accounts where LAST_DDL is not visible to the role)."""

    audit_latency_minutes: int = pydantic.Field(180, ge=0, le=24 * 60)
    """How late a QUERY_HISTORY row may land (Snowflake: 45 minutes to 3 hours): each poll
    re-reads this window, and an unattributed change waits this long for its author."""

    @pydantic.model_validator(mode="after")
    def _one_authentication(self) -> SnowflakeSettings:
        given = [n for n in ("password", "private_key_path", "private_key", "token")
                 if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of password, private_key_path, private_key "
                             f"or token (given: {', '.join(given) or 'none'})")
        return self


class Snowflake(SqlWarehouse):
    """Snowflake; sessions run in UTC and carry a query tag."""

    NAME: ClassVar[str] = "snowflake"
    Settings: ClassVar[type[WarehouseSettings]] = SnowflakeSettings
    DEFAULT_SCHEMA: ClassVar[str] = "PUBLIC"
    DIALECT: ClassVar[str] = "snowflake"
    settings: SnowflakeSettings

    #: ``SAMPLE ROW (n ROWS)``: https://docs.snowflake.com/en/sql-reference/constructs/sample
    SUPPORTS_TABLESAMPLE: ClassVar[bool] = True
    #: ACCOUNT_USAGE.QUERY_HISTORY (ACCESS_HISTORY too with ``access_history``); rows land
    #: 45 minutes to 3 hours after the statement ran.
    SUPPORTS_AUDIT_LOG: ClassVar[bool] = True
    AUDIT_LATENCY: ClassVar[timedelta] = timedelta(hours=3)
    #: INFORMATION_SCHEMA.TABLES.LAST_DDL per table of the default database and of every
    #: database the watched tables name, hashed into one token (no latency).
    SUPPORTS_SCHEMA_VERSION: ClassVar[bool] = True
    #: POSIX ERE, for the patterns ``regex.posix_portable`` accepts. REGEXP_LIKE matches the
    #: whole value, so any rest may follow the pattern (``dialects.REGEX_ANCHORS``):
    #: https://docs.snowflake.com/en/sql-reference/functions-regexp
    SUPPORTS_REGEX: ClassVar[bool] = True
    #: ``DB.SCHEMA.TABLE`` reads a table of another database.
    SUPPORTS_DATABASE_NAMES: ClassVar[bool] = True
    REGEX_SYNTAX: ClassVar[str] = "posix"
    # COUNT tells an empty table from a NULL maximum (the stand-in returns 1970 for both)
    NEWEST_WITH_COUNT: ClassVar[bool] = True
    #: One branch per database, in that database's INFORMATION_SCHEMA (``snowflake_sql.py``).
    CATALOG: ClassVar[Catalog] = snowflake_sql.CATALOG
    TYPE_FAMILIES: ClassVar[dict[str, str]] = {
        **SqlWarehouse.TYPE_FAMILIES, "number": "decimal", "timestamp_ntz": "timestamp",
        "timestamp_tz": "timestamptz", "timestamp_ltz": "timestamptz", "variant": "json",
        "object": "json", "array": "json",
    }
    #: Times are bound as UTC text, which Snowflake casts to the column's own type.
    TYPED_TIME_BINDS: ClassVar[bool] = False
    #: Principals' privileges from ACCOUNT_USAGE.GRANTS_TO_ROLES / GRANTS_TO_USERS, up to two
    #: hours behind (``snowflake_access.py``). watchdog's own access is not read this way.
    SUPPORTS_ACCESS_CHECK: ClassVar[bool] = True
    #: Role, user and table names compare case-insensitively in access checks.
    PRINCIPALS_CASE_INSENSITIVE: ClassVar[bool] = True
    QUERIES: ClassVar[dict[str, str]] = {**SqlWarehouse.QUERIES, **snowflake_sql.QUERIES}
    BUILDERS: ClassVar[Mapping[str, Builder]] = {
        **SqlWarehouse.BUILDERS, **snowflake_sql.BUILDERS}
    TREES: ClassVar[Mapping[str, Callable[..., Tree]]] = {
        **SqlWarehouse.TREES, **snowflake_sql.TREES,
        "principal_grants": snowflake_access.build_principal_grants,
        "revoke_events": snowflake_access.build_revoke_events}
    # error codes: https://docs.snowflake.com/en/user-guide/client-connectivity-troubleshooting/error-messages
    ERRORS: ClassVar[tuple[ErrorRule, ...]] = (
        (r"\b(42S02|42S22|02000)\b|does not exist or not authorized|invalid identifier|"
         r"Catalog Error|Binder Error", TableNotFound, NAMES_HINT),
        (r"\b(390100|390144|390302|390303|390318|28000)\b|Incorrect username or password|"
         r"JWT token is invalid|OAuth access token", WarehouseAuthError,
         "check settings.user and its password, private key or OAuth token"),
        # 003001: the role lacks a privilege on an object it can see; "does not exist or
        # not authorized" (002003, above) cannot be told from a missing table
        (r"Insufficient privileges|\b003001\b", PermissionDenied,
         "grant the role the privileges listed in the README (Snowflake section)"),
        (r"\b(250001|250003|08001|08004)\b|Failed to connect|Connection refused|timed? ?out|"
         r"Max retries", WarehouseUnavailable,
         "check settings.account (or host/port/protocol) and the network path to Snowflake"),
    )

    @classmethod
    def type_family(cls, raw: str) -> str:
        """NUMBER(p, 0) is an integer; other NUMBERs are decimals."""
        if re.fullmatch(r"\s*number\s*\(\s*\d+\s*,\s*0\s*\)\s*", raw.lower()):
            return "integer"
        return super().type_family(raw)

    # -- rendering -------------------------------------------------------------------------

    # metadata reads span every database the tables name: snowflake_sql.py
    def columns(self, tables: Sequence[TableRef]) -> dict[TableRef, list[Column]]:
        return snowflake_sql.columns(self, tables)

    def schema_columns(self, patterns: Sequence[TableRef]) -> dict[TableRef, list[Column]]:
        return snowflake_sql.schema_columns(self, patterns)

    def schema_fingerprints(self, patterns: Sequence[TableRef]) -> dict[TableRef, str]:
        return snowflake_sql.schema_fingerprints(self, patterns)

    def last_ddl(self, tables: Sequence[TableRef]) -> dict[TableRef, DdlStamp]:
        return snowflake_sql.last_ddl(self, tables)
    def _floor(self, since: int) -> dict[str, Any]:
        """Binds of ``FLOOR``: the cursor's time, and the lookback that bounds the scan."""
        cursor = datetime.fromtimestamp(max(since, 0) / 1e6, UTC)
        return {"since_at": self._bind_value(cursor),
                "lookback_hours": self.settings.audit_lookback_hours}

    def _bind_value(self, value: Any) -> Any:
        # UTC ISO text: Snowflake casts it to the column's type (NTZ keeps the UTC wall clock)
        if isinstance(value, datetime):
            return as_utc(value).isoformat(sep=" ")
        return value

    # -- facts -----------------------------------------------------------------------------

    @property
    def audit_latency(self) -> timedelta:
        return timedelta(minutes=self.settings.audit_latency_minutes)

    def access(self, principals: Sequence[str], tables: Sequence[TableRef],
               privileges: Sequence[str]) -> list[AccessGrant]:
        return snowflake_access.access(self, principals, tables, privileges)

    def inherited_roles(self, principal: str, roles: Sequence[str]) -> set[str]:
        return snowflake_access.inherited_roles(self, principal, roles)

    def recent_audit_events(self, limit: int = 5000) -> list[AuditEvent]:
        """The newest REVOKE statements of the last ``audit_lookback_hours`` (QUERY_HISTORY
        lags 45 minutes to 3 hours: a loss seen before its row lands is unattributed)."""
        since = datetime.now(UTC) - timedelta(hours=self.settings.audit_lookback_hours)
        try:
            return snowflake_access.revoke_events(self, since, limit)
        except (TableNotFound, WarehouseAuthError) as exc:
            raise UnsupportedFeature(self.name, "reading QUERY_HISTORY (see the README for "
                                     "the grant)") from exc

    def audit_rewind(self, since: int) -> int:
        """The cursor is a start time (microseconds): rows land up to the latency late."""
        if since <= 0:
            return since
        return max(0, since - int(self.audit_latency.total_seconds() * 1_000_000))

    def schema_version(self, patterns: Sequence[TableRef] = ()) -> str | None:
        if not self.settings.change_probe:
            return None  # None means "take a full snapshot"
        rows = self._rows(self.render("schema_version", patterns=patterns))
        return f"{rows[0][0]}:{rows[0][1]}" if rows else None

    def audit_events(self, since: int = 0, limit: int = 5000) -> list[AuditEvent]:
        try:
            rows = self._rows(self.render("audit_events", since=since, limit=limit))
        except (TableNotFound, WarehouseAuthError) as exc:
            raise UnsupportedFeature(self.name, "a DDL audit log without access to "
                                     "SNOWFLAKE.ACCOUNT_USAGE (see the README)") from exc
        objects = self._objects([str(r[5]) for r in rows], since) if rows else {}
        out = []
        for seq, at, user, qtype, text, qid, database, schema in rows:
            statement = str(text or "")
            named = (*objects.get(str(qid), ()), *self._placed(statement, database, schema))
            out.append(AuditEvent(seq=int(seq), at=as_utc(at), user=str(user or ""),
                                  command=str(qtype), statement=statement,
                                  objects=tuple(dict.fromkeys(named))))
        return out

    def _objects(self, query_ids: list[str], since: int) -> dict[str, tuple[str, ...]]:
        """Tables each query changed, from ACCESS_HISTORY if enabled: ``SCHEMA.TABLE`` in
        the default database, ``DB.SCHEMA.TABLE`` in others (as the config names them)."""
        if not self.settings.access_history:
            return {}
        out: dict[str, tuple[str, ...]] = {}
        stmt = self.render("audit_objects", query_ids=query_ids, since=since)
        for qid, name in self._rows(stmt):
            parts = [p.strip('"') for p in str(name or "").split(".")]
            keep = parts[-3:] if len(parts) >= 3 and parts[-3] != self.settings.database \
                else parts[-2:]
            if len(keep) >= 2:
                out[str(qid)] = (*out.get(str(qid), ()), ".".join(keep))
        return out

    def _placed(self, statement: str, database: Any, schema: Any) -> list[str]:
        """Each table a statement names without a database, where it ran: the session's
        current database and schema resolve short names, and only QUERY_HISTORY knows
        them, so the check cannot. ``SCHEMA.TABLE`` in the default database (as the config
        names its tables), ``DB.SCHEMA.TABLE`` in another."""
        if not database:
            return []
        from sqlglot import exp  # parsing audit statements only: not at start-up

        prefix = "" if database == self.settings.database else f"{database}."
        trees = sqltext.parse(statement, self.DIALECT)
        return [f"{prefix}{t.db or schema}.{t.name}" for tree in trees if tree is not None
                for t in tree.find_all(exp.Table)
                if t.name and not t.catalog and (t.db or schema)]

    # -- connection ------------------------------------------------------------------------

    def _executor(self) -> DbApiExecutor:
        return DbApiExecutor(
            self.name, lambda exc, stmt, default: self._translate(
                self._driver_error(exc), stmt, default),
            self._connect, execute=self._execute)

    def _connect(self) -> Any:
        return snowflake.connector.connect(**self.connect_args())

    def connect_args(self) -> dict[str, Any]:
        """The keyword arguments of ``snowflake.connector.connect`` for these settings."""
        s = self.settings
        args: dict[str, Any] = {
            "account": s.account, "user": s.user, "database": s.database,
            "login_timeout": s.login_timeout, "network_timeout": s.network_timeout,
            "protocol": s.protocol, "autocommit": True,
            "session_parameters": {"QUERY_TAG": s.query_tag, "TIMEZONE": "UTC",
                                   "CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False},
        }
        args.update({k: v for k, v in (("role", s.role), ("warehouse", s.warehouse),
                                       ("host", s.host), ("port", s.port)) if v is not None})
        return {**args, **self._credentials()}

    def _credentials(self) -> dict[str, Any]:
        s = self.settings
        if s.token is not None:
            return {"authenticator": "oauth", "token": s.token.get_secret_value()}
        if s.password is not None:
            return {"password": s.password.get_secret_value()}
        passphrase = s.private_key_passphrase.get_secret_value().encode() if (
            s.private_key_passphrase) else None
        if s.private_key_path is not None:
            with open(s.private_key_path, "rb") as handle:
                pem = handle.read()
        else:
            assert s.private_key is not None
            pem = s.private_key.get_secret_value().encode()
        return {"authenticator": "SNOWFLAKE_JWT", "private_key": _der(pem, passphrase)}

    def _execute(self, cursor: Any, sql: str, params: dict[str, Any] | None,
                 seconds: float) -> None:
        # STATEMENT_TIMEOUT_IN_SECONDS for this statement has the server cancel it
        # (https://docs.snowflake.com/en/sql-reference/parameters#statement-timeout-in-seconds);
        # the connector's own timeout= asks the server to cancel it too, should the
        # response be what is slow
        whole = max(1, math.ceil(seconds))
        cursor.execute(sql, params, timeout=whole,
                       _statement_params={"STATEMENT_TIMEOUT_IN_SECONDS": whole})

    def _driver_error(self, exc: Exception) -> DriverError:
        lines = str(getattr(exc, "msg", None) or exc).strip().splitlines()
        errno = getattr(exc, "errno", None)
        message = lines[0] if lines else ""
        if errno and message and not message.lstrip("0").startswith(str(errno)):  # no twice
            message = f"{errno}: {message}"
        return DriverError(message or type(exc).__name__, getattr(exc, "sqlstate", None))

    def _secrets(self) -> list[str]:
        s = self.settings
        return [v.get_secret_value() for v in (s.password, s.token, s.private_key,
                                               s.private_key_passphrase) if v is not None]


def _der(pem: bytes, passphrase: bytes | None) -> bytes:
    """A PEM private key as the unencrypted PKCS#8 DER bytes the connector takes."""
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(pem, password=passphrase)
    return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
