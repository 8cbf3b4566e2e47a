"""Amazon Redshift through redshift-connector: the Postgres adapter, less what differs.

Columns come from ``svv_columns`` (local and external tables, late-binding views; visible to
every user, where ``svv_all_columns`` shows a regular user only its own rows:
https://docs.aws.amazon.com/redshift/latest/dg/r_SVV_COLUMNS.html), the DDL
audit log from ``sys_query_history`` (serverless and provisioned) or ``stl_ddltext``
(provisioned only), and the opt-in change probe from the same log. There is no TABLESAMPLE:
:meth:`sample` keeps the documented fallback, ``ORDER BY RANDOM() LIMIT n``. See the README
for grants and latency.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Literal

import pydantic
import redshift_connector

from watchdog.errors import (
    TableNotFound,
    UnsupportedFeature,
    WarehouseAuthError,
    WarehouseUnavailable,
)
from watchdog.models import AuditEvent, TableRef
from watchdog.warehouses.base import WarehouseSettings, as_utc
from watchdog.warehouses.catalog_sql import Catalog
from watchdog.warehouses.dbapi import DbApiExecutor, DriverError
from watchdog.warehouses.postgres import Postgres, build_audit_page
from watchdog.warehouses.redshift_revokes import QUERIES as REVOKE_QUERIES
from watchdog.warehouses.redshift_revokes import build_since, revoke_events
from watchdog.warehouses.sqlbase import Builder, ErrorRule
from watchdog.warehouses.tree_sql import Tree

#: The columns from SVV_COLUMNS, with their types' parameters.
_CATALOG = Catalog(
    schema="table_schema", table="table_name",
    # backslash is LIKE's default escape on Redshift and PostgreSQL alike, and a backslash
    # literal is spelled differently on each: https://docs.aws.amazon.com/redshift/latest/dg/r_patternmatching_condition_like.html
    like_escape=False,
    columns=(
        "SELECT table_schema, table_name, column_name,"
        " CASE WHEN character_maximum_length IS NOT NULL"
        " THEN data_type || '(' || character_maximum_length || ')'"
        " WHEN data_type = 'numeric'"
        " THEN data_type || '(' || numeric_precision || ',' || numeric_scale || ')'"
        " ELSE data_type END AS data_type,"
        " is_nullable = 'YES' AS nullable"
        " FROM svv_columns"
        " WHERE table_catalog = current_database() AND :tables"
        " ORDER BY table_schema, table_name, ordinal_position"
    ),
)
#: DDL transactions still open: their rows are logged before they commit (the note on
#: https://docs.aws.amazon.com/redshift/latest/dg/SYS_QUERY_HISTORY.html), so the probe
#: moves again when they end: https://docs.aws.amazon.com/redshift/latest/dg/r_SVV_TRANSACTIONS.html
_OPEN = (
    "LEFT JOIN (\n  SELECT DISTINCT xid FROM svv_transactions\n"
    "  WHERE lockable_object_type = 'transactionid' AND lock_mode = 'ExclusiveLock'"
    " AND granted\n) AS t"
)
class RedshiftSettings(WarehouseSettings):
    """How to reach the cluster or workgroup: a password, or IAM credentials."""

    host: str
    """Endpoint host (cluster, serverless workgroup, VPC endpoint, or a proxy)."""

    port: int = pydantic.Field(5439, ge=1, le=65535)
    """Endpoint port."""

    database: str
    """Database to connect to."""

    user: str | None = None
    """Database user (password auth), or the ``db_user`` to get IAM credentials for."""

    password: pydantic.SecretStr | None = None
    """Password of ``user``; write ``${ENV_VAR}`` in the config rather than the value."""

    iam: bool = False
    """Authenticate with IAM (temporary credentials from the AWS credential chain)."""

    cluster_identifier: str | None = None
    """Provisioned cluster id, for IAM auth."""

    region: str | None = None
    """AWS region, for IAM auth."""

    profile: str | None = None
    """AWS profile, for IAM auth (default: the credential chain)."""

    api_endpoint: str | None = None
    """IAM only: the Redshift API endpoint that issues the temporary credentials
    (GetClusterCredentials) instead of the region's public one, e.g. a VPC interface
    endpoint ``https://vpce-0abc.redshift.eu-west-1.vpce.amazonaws.com``, or a stand-in."""

    ssl: bool = True
    """TLS to the endpoint; off only for a local stand-in."""

    timeout: int = pydantic.Field(10, ge=1, le=300)
    """Seconds to wait for a connection before the warehouse counts as unavailable."""

    audit_source: Literal["sys_query_history", "stl_ddltext"] = "sys_query_history"
    """Where DDL is logged: SYS_QUERY_HISTORY (serverless and provisioned) or STL_DDLTEXT
    (provisioned clusters only; full text in 200-character chunks)."""

    audit_lookback_hours: int = pydantic.Field(24, ge=1, le=24 * 7)
    """How far back the access check looks for the REVOKE behind a lost privilege (the
    query history keeps about seven days); bounds that scan."""

    change_probe: bool = False
    """Skip the column read on polls where ``audit_source`` logged no new DDL (and no DDL
    transaction ended). Off by default: a regular user sees only its own rows in those views,
    and a probe blind to other users' DDL would hide their changes. Needs a superuser or
    ``ALTER USER <user> WITH SYSLOG ACCESS UNRESTRICTED``; without it the probe is refused
    and every poll reads the columns."""

    @pydantic.model_validator(mode="after")
    def _authentication(self) -> RedshiftSettings:
        if not self.iam and (self.user is None or self.password is None):
            raise ValueError("give user and password, or iam: true")
        if self.iam and self.user is None:
            raise ValueError("iam: true needs user (the database user to get credentials for)")
        if self.iam and not self.ssl:
            raise ValueError("iam: true needs ssl: true (redshift_connector sends IAM "
                             "credentials over TLS only)")
        if self.api_endpoint is not None and not self.iam:
            raise ValueError("api_endpoint is used by iam: true only")
        return self


class Redshift(Postgres):
    """Redshift; sessions run in UTC. Its driver speaks to the server directly."""

    NAME: ClassVar[str] = "redshift"
    Settings: ClassVar[type[WarehouseSettings]] = RedshiftSettings
    DIALECT: ClassVar[str] = "redshift"
    settings: RedshiftSettings  # type: ignore[assignment]

    #: No TABLESAMPLE: https://docs.aws.amazon.com/redshift/latest/dg/r_SELECT_synopsis.html
    SUPPORTS_TABLESAMPLE: ClassVar[bool] = False
    #: Nothing to install: Redshift logs DDL itself (``audit_source``).
    SUPPORTS_AUDIT_SETUP: ClassVar[bool] = False
    #: With ``change_probe``: the count and newest id of the logged DDL, and how many DDL
    #: transactions are still open (None while the setting is off).
    SUPPORTS_SCHEMA_VERSION: ClassVar[bool] = True
    #: POSIX regexes, for the patterns ``regex.posix_portable`` accepts; the match must
    #: start at the first character (REGEXP_INSTR, see ``dialects.py``), not ``^`` anchored,
    #: since ``^`` is documented as a beginning of *line*:
    #: https://docs.aws.amazon.com/redshift/latest/dg/pattern-matching-conditions-posix.html
    SUPPORTS_REGEX: ClassVar[bool] = True
    REGEX_SYNTAX: ClassVar[str] = "posix"
    #: Fingerprints hash :meth:`schema_columns` in Python: the string aggregate LISTAGG is a
    #: compute-node-only function, which fails on queries over leader-node catalog data
    #: (https://docs.aws.amazon.com/redshift/latest/dg/c_SQL_functions_compute_node_only.html),
    #: and SVV_COLUMNS is built from the PG catalog tables that live on the leader node
    #: (https://docs.aws.amazon.com/redshift/latest/dg/r_SVV_COLUMNS.html).
    SCHEMA_DIGEST_IN_SQL: ClassVar[bool] = False
    #: Redshift's users (pg_roles is not documented there): https://docs.aws.amazon.com/redshift/latest/dg/r_PG_USER.html
    PRINCIPAL_CATALOG: ClassVar[tuple[str, str, str]] = ("pg_catalog", "pg_user", "usename")
    #: Fingerprints hash the columns in Python (``SCHEMA_DIGEST_IN_SQL``): no such tree.
    CATALOG: ClassVar[Catalog] = _CATALOG
    #: No ARRAY(subquery) on Redshift: examples of failing contract checks come from
    #: ``failure_examples``, not from Postgres' ``contract_scan``.
    TREES: ClassVar[Mapping[str, Callable[..., Tree]]] = {
        k: v for k, v in Postgres.TREES.items()
        if k not in ("schema_fingerprints", "contract_scan")}
    QUERIES: ClassVar[dict[str, str]] = {
        **{k: v for k, v in Postgres.QUERIES.items()
           if k != "schema_version"},
        # https://docs.aws.amazon.com/redshift/latest/dg/SYS_QUERY_HISTORY.html
        "audit_events": (
            "SELECT q.query_id AS seq, q.start_time, u.usename, q.query_type, q.query_text\n"
            "FROM sys_query_history AS q\nLEFT JOIN pg_user AS u ON u.usesysid = q.user_id\n"
            "WHERE q.query_type = 'DDL' AND q.status = 'success' AND q.query_id > :since\n"
            "ORDER BY q.query_id\nLIMIT :limit"
        ),
        # one row per 200-character chunk, joined here (LISTAGG has a 64 KB limit):
        # https://docs.aws.amazon.com/redshift/latest/dg/r_STL_DDLTEXT.html
        "audit_ddltext": (
            "SELECT d.xid AS seq, d.starttime, u.usename, d.sequence, d.text\n"
            "FROM stl_ddltext AS d\nLEFT JOIN pg_user AS u ON u.usesysid = d.userid\n"
            "WHERE d.xid IN (\n  SELECT DISTINCT xid FROM stl_ddltext WHERE xid > :since\n"
            "  ORDER BY xid LIMIT :limit\n)\nORDER BY d.xid, d.starttime, d.sequence"
        ),
        "schema_version": (
            "SELECT COUNT(*) AS ddl_rows, MAX(q.query_id) AS newest, COUNT(t.xid) AS open_rows\n"
            f"FROM sys_query_history AS q\n{_OPEN} ON t.xid = q.transaction_id\n"
            "WHERE q.query_type = 'DDL' AND q.status = 'success'"
        ),
        "schema_version_ddltext": (
            "SELECT COUNT(*) AS ddl_rows, MAX(d.xid) AS newest, COUNT(t.xid) AS open_rows\n"
            f"FROM stl_ddltext AS d\n{_OPEN} ON t.xid = d.xid"
        ),
        # regular users see their own row: https://docs.aws.amazon.com/redshift/latest/dg/r_SVV_USER_INFO.html
        **REVOKE_QUERIES,
        "syslog_access": (
            "SELECT superuser, syslog_access\nFROM svv_user_info\nWHERE user_name = current_user"
        ),
    }

    BUILDERS: ClassVar[Mapping[str, Builder]] = {
        **Postgres.BUILDERS, "audit_ddltext": build_audit_page,
        "revoke_events": build_since, "revoke_utilitytext": build_since}

    def schema_version(self, patterns: Sequence[TableRef] = ()) -> str | None:
        """``<DDL rows>:<newest id>:<open DDL transactions>`` from ``audit_source``, when
        ``change_probe`` is on and the login sees every user's rows (else UnsupportedFeature,
        and the schema check reads the columns on every poll)."""
        if not self.settings.change_probe:
            return None
        self._require_syslog_access()
        query = "schema_version" if self.settings.audit_source == "sys_query_history" else (
            "schema_version_ddltext")
        try:
            ((ddl_rows, newest, open_rows),) = self._rows(self.render(query))
        except (TableNotFound, WarehouseAuthError) as exc:
            raise UnsupportedFeature(self.name, f"a change probe ({query} is not readable; "
                                     "see the README for the grant)") from exc
        return f"{ddl_rows}:{newest}:{open_rows}"

    def login(self) -> str:
        return self.settings.user or "<watchdog's login>"

    def _require_syslog_access(self) -> None:
        """Refuse a probe that would see only this login's own DDL."""
        try:
            rows = self._rows(self.render("syslog_access"))
        except (TableNotFound, WarehouseAuthError):
            rows = []
        if not any(superuser or str(access).strip().upper() == "UNRESTRICTED"
                   for superuser, access in rows):
            raise UnsupportedFeature(self.name, (
                "change_probe for a login without SYSLOG ACCESS UNRESTRICTED: it would miss "
                "other users' DDL; run ALTER USER <user> WITH SYSLOG ACCESS UNRESTRICTED, "
                "or set change_probe: false"))

    def setup_audit(self, *, remove: bool = False, grant_to: str | None = None) -> None:
        """Nothing to install: Redshift logs DDL itself (see ``audit_source``)."""
        raise UnsupportedFeature(self.name, "installing an audit trigger (Redshift logs DDL "
                                 "in SYS_QUERY_HISTORY / STL_DDLTEXT already)")

    def recent_audit_events(self, limit: int = 5000) -> list[AuditEvent]:
        """The newest REVOKE statements of the last ``audit_lookback_hours``, from the query
        history ``audit_source`` names (``redshift_revokes.py``): the DDL views read by
        :meth:`audit_events` leave GRANT and REVOKE out."""
        since = datetime.now(UTC) - timedelta(hours=self.settings.audit_lookback_hours)
        try:
            return revoke_events(self, self.settings.audit_source, since, limit)
        except (TableNotFound, WarehouseAuthError) as exc:
            view = "SYS_QUERY_HISTORY" if self.settings.audit_source == "sys_query_history" \
                else "STL_UTILITYTEXT"
            raise UnsupportedFeature(self.name, f"reading {view} (see the README for the "
                                     "grant)") from exc

    def audit_events(self, since: int = 0, limit: int = 5000) -> list[AuditEvent]:
        query = "audit_events" if self.settings.audit_source == "sys_query_history" else (
            "audit_ddltext")
        try:
            rows = self._rows(self.render(query, since=since, limit=limit))
        except (TableNotFound, WarehouseAuthError) as exc:
            raise UnsupportedFeature(self.name, f"a DDL audit log ({query} is not readable; "
                                     "see the README for the grant)") from exc
        if query == "audit_ddltext":
            rows = _join_chunks(rows)
        return [AuditEvent(seq=int(seq), at=as_utc(at), user=str(user or "").strip(),
                           command=_command(text), statement=text.strip())
                for seq, at, user, _kind, text in rows]

    # -- connection ------------------------------------------------------------------------

    executor: DbApiExecutor  # type: ignore[assignment]

    def _executor(self) -> DbApiExecutor:
        return DbApiExecutor(
            self.name, lambda exc, stmt, default: self._translate(
                self._driver_error(exc), stmt, default),
            self._connect, cursor=_named_cursor, paramstyle="named",
            execute=self._execute)

    def _connect(self) -> Any:
        if self.settings.iam:
            _quiet_aws_debug()
        conn = redshift_connector.connect(**self.connect_args())
        conn.autocommit = True
        cursor = conn.cursor()
        try:
            cursor.execute("SET timezone TO 'UTC'")  # naive timestamps are UTC to us
        finally:
            cursor.close()
        return conn

    def connect_args(self) -> dict[str, Any]:
        """The keyword arguments of ``redshift_connector.connect`` for these settings."""
        s = self.settings
        args: dict[str, Any] = {"host": s.host, "port": s.port, "database": s.database,
                                "ssl": s.ssl, "timeout": s.timeout,
                                "application_name": "ml-watchdog"}
        if s.iam:
            optional = {"db_user": s.user, "cluster_identifier": s.cluster_identifier,
                        "region": s.region, "profile": s.profile,
                        "endpoint_url": s.api_endpoint}
            args.update(iam=True, **{k: v for k, v in optional.items() if v is not None})
        else:
            args.update(user=s.user, password=s.password.get_secret_value() if s.password
                        else None)
        return args

    def _execute(self, cursor: Any, sql: str, params: dict[str, Any] | None,
                 seconds: float) -> None:
        # the session's statement_timeout (the connection is in autocommit, so it stays
        # until the next statement sets it again); Redshift has no lock_timeout, and a
        # lock wait counts toward statement_timeout
        # https://docs.aws.amazon.com/redshift/latest/dg/r_statement_timeout.html
        cursor.execute(f"SET statement_timeout TO {max(1, int(seconds * 1000))}")
        cursor.execute(sql, params)

    #: IAM failures come from botocore before any login (ClientError text: "An error occurred
    #: (AccessDenied) when calling the GetClusterCredentials operation: ...").
    ERRORS: ClassVar[tuple[ErrorRule, ...]] = (
        (r"ClusterNotFound", WarehouseUnavailable,
         "check settings.cluster_identifier and settings.region"),
        (r"AccessDenied|not authorized to perform|InvalidClientTokenId|SignatureDoesNotMatch|"
         r"ExpiredToken|UnrecognizedClient|Unable to locate credentials|NoCredentialsError",
         WarehouseAuthError, "check the AWS credentials watchdog runs with (environment, "
         "profile or role) and that their policy allows redshift:GetClusterCredentials for "
         "settings.user on settings.cluster_identifier"),
        *Postgres.ERRORS,
    )

    def _driver_error(self, exc: Exception) -> DriverError:
        # server errors carry the ErrorResponse fields as a dict: C is the SQLSTATE, M the text
        detail = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else None
        if detail is not None:
            return DriverError(str(detail.get("M", "")), detail.get("C"))
        lines = str(exc).strip().splitlines()
        return DriverError(lines[0] if lines else type(exc).__name__)

    def _secrets(self) -> list[str]:
        return [self.settings.password.get_secret_value()] if self.settings.password else []


def _named_cursor(connection: Any) -> Any:
    cursor = connection.cursor()
    cursor.paramstyle = "named"
    return cursor


def _quiet_aws_debug() -> None:
    """botocore logs whole API responses at DEBUG, GetClusterCredentials' temporary database
    password included: its loggers stay at INFO or above whatever the root level is."""
    for name in ("botocore", "boto3"):
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.INFO:
            logger.setLevel(logging.INFO)


def _join_chunks(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """STL_DDLTEXT's chunks, one statement per transaction (in chunk order)."""
    out: dict[int, list[Any]] = {}
    for xid, at, user, _sequence, text in rows:
        entry = out.setdefault(int(xid), [xid, at, user, "DDL", ""])
        entry[4] += str(text or "")
    return [tuple(e[:4]) + (e[4].rstrip(),) for e in out.values()]


def _command(statement: str) -> str:
    """``ALTER TABLE`` from ``alter table x ...``: the first two words, upper case."""
    return " ".join(re.findall(r"[A-Za-z]+", statement)[:2]).upper()
