"""Amazon Redshift through redshift-connector: the Postgres adapter, less what differs.

Columns come from ``svv_columns`` (local and external tables, late-binding views), the DDL
audit log from ``sys_query_history`` (serverless and provisioned) or ``stl_ddltext``
(provisioned only). There is no TABLESAMPLE: :meth:`sample` keeps the documented fallback,
``ORDER BY RANDOM() LIMIT n``. See the README for grants and latency.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, ClassVar, Literal

import pydantic
import redshift_connector

from watchdog.errors import TableNotFound, UnsupportedFeature, WarehouseAuthError
from watchdog.models import AuditEvent, TableRef
from watchdog.warehouses.base import Warehouse, WarehouseSettings
from watchdog.warehouses.dbapi import DbApiWarehouse, DriverError
from watchdog.warehouses.postgres import Postgres
from watchdog.warehouses.sqlbase import Parts, Statement, as_utc

_COLUMNS = (
    "SELECT table_schema, table_name, column_name,\n"
    "  CASE WHEN character_maximum_length IS NOT NULL\n"
    "    THEN data_type || '(' || character_maximum_length || ')'\n"
    "    WHEN data_type = 'numeric'\n"
    "    THEN data_type || '(' || numeric_precision || ',' || numeric_scale || ')'\n"
    "    ELSE data_type END AS data_type,\n"
    "  is_nullable = 'YES' AS nullable\n"
    "FROM svv_columns\n"
    "WHERE table_catalog = current_database()\n  AND ({tables})\n"
    "ORDER BY table_schema, table_name, ordinal_position"
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

    ssl: bool = True
    """TLS to the endpoint; off only for a local stand-in."""

    timeout: int = pydantic.Field(10, ge=1, le=300)
    """Seconds to wait for a connection before the warehouse counts as unavailable."""

    audit_source: Literal["sys_query_history", "stl_ddltext"] = "sys_query_history"
    """Where DDL is logged: SYS_QUERY_HISTORY (serverless and provisioned) or STL_DDLTEXT
    (provisioned clusters only; full text in 200-character chunks)."""

    @pydantic.model_validator(mode="after")
    def _authentication(self) -> RedshiftSettings:
        if not self.iam and (self.user is None or self.password is None):
            raise ValueError("give user and password, or iam: true")
        return self


class Redshift(DbApiWarehouse, Postgres):
    """Redshift; sessions run in UTC. Its driver speaks to the server directly."""

    NAME: ClassVar[str] = "redshift"
    Settings: ClassVar[type[WarehouseSettings]] = RedshiftSettings
    DIALECT: ClassVar[str] = "redshift"
    settings: RedshiftSettings  # type: ignore[assignment]

    #: No TABLESAMPLE: https://docs.aws.amazon.com/redshift/latest/dg/r_SELECT_synopsis.html
    SUPPORTS_TABLESAMPLE: ClassVar[bool] = False
    #: Off: no cheap DDL counter (SYS_QUERY_HISTORY shows a regular user only its own
    #: queries, so it would miss others' DDL); fingerprints are compared on every poll.
    SUPPORTS_SCHEMA_VERSION: ClassVar[bool] = False
    #: Off: the contract rules bind ``(?:...)``, which Redshift's POSIX regexes do not
    #: document: https://docs.aws.amazon.com/redshift/latest/dg/pattern-matching-conditions-posix.html
    SUPPORTS_REGEX: ClassVar[bool] = False
    #: No md5/string_agg pair that runs on both Redshift and the test stand-in: fingerprints
    #: hash :meth:`schema_columns` in Python.
    SCHEMA_DIGEST_IN_SQL: ClassVar[bool] = False
    TABLE_MATCH: ClassVar[str] = "(table_schema = {schema} AND table_name = {table})"
    # backslash is LIKE's default escape on Redshift and PostgreSQL alike, and a backslash
    # literal is spelled differently on each: https://docs.aws.amazon.com/redshift/latest/dg/r_patternmatching_condition_like.html
    PATTERN_MATCH: ClassVar[str] = "(table_schema = {schema} AND table_name LIKE {pattern})"
    QUERIES: ClassVar[dict[str, str]] = {
        **{k: v for k, v in Postgres.QUERIES.items()
           if k not in ("schema_version", "schema_fingerprints")},
        "columns": _COLUMNS,
        "schema_columns": _COLUMNS,
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
    }

    def schema_version(self, patterns: Sequence[TableRef] = ()) -> str | None:
        return Warehouse.schema_version(self, patterns)

    def schema_fingerprints(self, patterns: Sequence[TableRef]) -> dict[TableRef, str]:
        return Warehouse.schema_fingerprints(self, patterns)

    def setup_audit(self, *, remove: bool = False, grant_to: str | None = None) -> None:
        """Nothing to install: Redshift logs DDL itself (see ``audit_source``)."""
        raise UnsupportedFeature(self.name, "installing an audit trigger (Redshift logs DDL "
                                 "in SYS_QUERY_HISTORY / STL_DDLTEXT already)")

    def _build_audit_ddltext(self, since: int = 0, limit: int = 5000) -> Parts:
        return {}, {"since": int(since), "limit": int(limit)}

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

    def _connect(self) -> Any:
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
                        "region": s.region, "profile": s.profile}
            args.update(iam=True, **{k: v for k, v in optional.items() if v is not None})
        else:
            args.update(user=s.user, password=s.password.get_secret_value() if s.password
                        else None)
        return args

    def _cursor(self, connection: Any) -> Any:
        cursor = connection.cursor()
        cursor.paramstyle = "named"
        return cursor

    def _driver_sql(self, stmt: Statement) -> tuple[str, dict[str, Any]]:
        # The driver's own `:name` parser skips quoted identifiers and strings, where a
        # pyformat `%%` would stay doubled; so the text() form goes through as is.
        return stmt.sql.replace("\\:", ":"), dict(stmt.params)

    def _driver_error(self, exc: Exception) -> DriverError:
        # server errors carry the ErrorResponse fields as a dict: C is the SQLSTATE, M the text
        detail = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else None
        if detail is not None:
            return DriverError(str(detail.get("M", "")), detail.get("C"))
        lines = str(exc).strip().splitlines()
        return DriverError(lines[0] if lines else type(exc).__name__)

    def _secrets(self) -> list[str]:
        return [self.settings.password.get_secret_value()] if self.settings.password else []


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
