"""BigQuery's SQL: GoogleSQL templates and their renderers, bound as methods of
:class:`~watchdog.warehouses.bigquery.BigQuery` (this module imports no driver).

Metadata is per dataset (``<project>.<dataset>.INFORMATION_SCHEMA``), so a query over tables
in several datasets is a UNION ALL of one branch per dataset, matching names with an
``ARRAY<STRING>`` parameter and patterns with LIKE. Renders keep the shared ``:name``
binds; ``executor.driver_sql(sql, "at")`` turns them into BigQuery's ``@name`` parameters.
A time value compared with a column is rendered as a :class:`TimeBind`, bound as that column's type
(TIMESTAMP, DATETIME or DATE) once the adapter has read the table's schema.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from watchdog.lazy import lazy
from watchdog.models import Predicate, Rule, TableRef
from watchdog.warehouses import catalog_sql, rulesql, table_sql, tree_sql
from watchdog.warehouses.base import as_utc
from watchdog.warehouses.sqlbase import Builder, Parts
from watchdog.warehouses.tree_sql import Tree, bind

if TYPE_CHECKING:
    from sqlglot import exp

    from watchdog.warehouses import dialects
    from watchdog.warehouses.bigquery import BigQuery
else:
    exp = lazy("sqlglot.expressions")
    dialects = lazy("watchdog.warehouses.dialects")

#: ``statement_type`` values of DDL jobs in INFORMATION_SCHEMA.JOBS:
#: https://cloud.google.com/bigquery/docs/reference/auditlogs/rest/Shared.Types/BigQueryAuditMetadata.QueryStatementType
DDL_STATEMENT_TYPES = (
    "CREATE_TABLE", "CREATE_TABLE_AS_SELECT", "CREATE_VIEW", "CREATE_MATERIALIZED_VIEW",
    "CREATE_EXTERNAL_TABLE", "CREATE_SNAPSHOT_TABLE", "DROP_TABLE", "DROP_VIEW",
    "DROP_MATERIALIZED_VIEW", "DROP_EXTERNAL_TABLE", "DROP_SNAPSHOT_TABLE", "ALTER_TABLE",
    "ALTER_VIEW", "ALTER_MATERIALIZED_VIEW",
)
#: One dataset's branch of the catalog queries; its views (``COLUMNS``, ...) are read in the
#: dataset's INFORMATION_SCHEMA, and ``:tables`` matches its tables (:func:`branches`).
COLUMNS_BRANCH = (
    "SELECT c.table_schema, c.table_name, f.field_path AS column_name, f.data_type,"
    " c.is_nullable = 'YES' AS nullable, c.ordinal_position AS position"
    " FROM COLUMNS AS c JOIN COLUMN_FIELD_PATHS AS f"
    " ON f.table_name = c.table_name AND f.column_name = c.column_name"
    " WHERE c.is_hidden = 'NO' AND :tables"
)
FINGERPRINT_BRANCH = (
    "SELECT c.table_schema, c.table_name,"
    " TO_HEX(MD5(STRING_AGG(CONCAT(f.field_path, CHR(30), f.data_type, CHR(30), c.is_nullable),"
    " CHR(31) ORDER BY c.ordinal_position, f.field_path))) AS fingerprint"
    " FROM COLUMNS AS c JOIN COLUMN_FIELD_PATHS AS f"
    " ON f.table_name = c.table_name AND f.column_name = c.column_name"
    " WHERE c.is_hidden = 'NO' AND :tables GROUP BY c.table_schema, c.table_name"
)
#: The columns of every branch (``found``), in order.
COLUMNS = (
    "SELECT table_schema, table_name, column_name, data_type, nullable FROM found"
    " ORDER BY table_schema, table_name, position, column_name"
)
#: The change probe: every table's last change in the watched datasets, hashed (``probed``:
#: one ``VERSION_BRANCH`` per dataset).
SCHEMA_VERSION = (
    "SELECT TO_HEX(MD5(STRING_AGG(CONCAT(dataset_id, '.', table_id, '@',"
    " CAST(last_modified_time AS STRING)), ',' ORDER BY dataset_id, table_id))) AS token"
    " FROM probed"
)
VERSION_BRANCH = "SELECT dataset_id, table_id, last_modified_time FROM __TABLES__"


#: BigQuery's own templates, merged over ``SqlWarehouse.QUERIES``.
QUERIES: dict[str, str] = {
    "audit_events": (
        "SELECT UNIX_MICROS(end_time) AS seq, end_time, user_email, statement_type,\n"
        "  destination_table.dataset_id AS dataset_id,"
        " destination_table.table_id AS table_id, query\n"
        "FROM {jobs}\n"
        "WHERE creation_time > TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL {days} DAY)\n"
        # a query job runs at most 6 hours, so this prunes partitions safely
        "  AND creation_time > TIMESTAMP_SUB(TIMESTAMP_MICROS(:since), INTERVAL 6 HOUR)\n"
        "  AND end_time > TIMESTAMP_MICROS(:since)\n"
        "  AND job_type = 'QUERY' AND state = 'DONE' AND error_result IS NULL\n"
        "  AND statement_type IN UNNEST(:statement_types)\n"
        "ORDER BY end_time\nLIMIT :limit"
    ),
    # who revoked a privilege: the DCL jobs of the same region, statement type REVOKE
    # (https://cloud.google.com/bigquery/docs/reference/standard-sql/data-control-language),
    # newest first; the window is the server's clock, so a lagging local clock misses none
    "revoke_jobs": (
        "SELECT UNIX_MICROS(end_time) AS seq, end_time, user_email, statement_type, query\n"
        "FROM {jobs}\n"
        "WHERE creation_time > TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL :hours HOUR)\n"
        "  AND job_type = 'QUERY' AND state = 'DONE' AND error_result IS NULL\n"
        "  AND statement_type = 'REVOKE'\n"
        "ORDER BY end_time DESC\nLIMIT :limit"
    ),
    "sample": (
        "SELECT {columns}\nFROM {table}{tablesample}{where}\nORDER BY RAND()\nLIMIT :limit"
    ),
}


#: Pseudo-columns of ingestion-time partitioned tables, which a table's schema does not list:
#: https://cloud.google.com/bigquery/docs/querying-partitioned-tables
PSEUDO_COLUMNS = {"_partitiontime": "TIMESTAMP", "_partitiondate": "DATE"}


@dataclass(frozen=True, slots=True, kw_only=True)
class TimeBind:
    """A time value compared with a column (``column op value``), bound as the column's type.

    GoogleSQL coerces neither TIMESTAMP to DATETIME or DATE nor back, so a DATETIME column
    compared with a TIMESTAMP parameter fails ("No matching signature for operator >="):
    https://cloud.google.com/bigquery/docs/reference/standard-sql/conversion_rules. Casting the
    column instead would keep BigQuery from pruning partitions on it (and bill the whole
    table): https://cloud.google.com/bigquery/docs/querying-partitioned-tables. So the value
    takes the column's type, which the adapter reads from the table's schema when it runs the
    statement (:func:`bound_time`).
    """

    table: TableRef = field(repr=False)
    column: str
    op: str
    at: datetime  # aware UTC


def mark_times(table: TableRef, where: Iterable[Predicate]) -> list[Predicate]:
    """``where`` with each datetime value (alone or in a list) made a :class:`TimeBind`."""
    def mark(p: Predicate, value: Any) -> Any:
        if isinstance(value, datetime):
            return TimeBind(table=table, column=p.column, op=p.op, at=as_utc(value))
        return value

    out = []
    for p in where:
        if isinstance(p.value, list | tuple):
            out.append(replace(p, value=tuple(mark(p, v) for v in p.value)))
        else:
            out.append(replace(p, value=mark(p, p.value)))
    return out


def mark_rule_times(table: TableRef, rules: Iterable[Rule]) -> list[Rule]:
    """``rules`` with each datetime argument of a value check made a :class:`TimeBind` on
    the rule's column, so that a contract bound on a DATETIME or DATE column compares."""
    def mark(rule: Rule, op: str, value: Any) -> Any:
        if isinstance(value, datetime):
            return TimeBind(table=table, column=rule.columns[0], op=op, at=as_utc(value))
        return value

    out = []
    for rule in rules:
        a = dict(rule.args)
        if rule.check in rulesql.COMPARE and "value" in a:  # the ops rulesql.passes writes
            a["value"] = mark(rule, rulesql.COMPARE[rule.check], a["value"])
        elif rule.check == "in_range":
            a["min_value"] = mark(rule, ">=" if a.get("include_min", True) else ">",
                                  a.get("min_value"))
            a["max_value"] = mark(rule, "<=" if a.get("include_max", True) else "<",
                                  a.get("max_value"))
        elif rule.check in ("isin", "notin"):
            a["values"] = tuple(mark(rule, "in", v) for v in a.get("values", ()))
        out.append(replace(rule, args=a) if a != dict(rule.args) else rule)
    return out


def bound_time(bind: TimeBind, column_type: str) -> datetime | date:
    """The value to bind for ``bind`` against a column of ``column_type``.

    DATETIME: the UTC wall clock (a naive datetime, sent as a DATETIME parameter), as
    watchdog reads DATETIME values as UTC. DATE: the day, rounded so that the comparison
    means what it means for the day's midnight (``d >= 10:00`` holds from the next day on,
    ``d < 10:00`` up to and including that day); ``=`` and ``in`` take the UTC day of the
    value. Any other type: the aware datetime (a TIMESTAMP parameter).
    """
    if column_type == "DATETIME":
        return bind.at.replace(tzinfo=None)
    if column_type == "DATE":
        day = bind.at.date()
        midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
        return day + timedelta(days=1) if bind.op in (">=", "<") and bind.at > midnight else day
    return bind.at


def field_types(fields: Iterable[Any], prefix: str = "") -> dict[str, str]:
    """``{column path (case-folded, nested fields as a.b): type}`` of a table's schema
    (``SchemaField`` objects); BigQuery column names are case-insensitive."""
    out: dict[str, str] = {}
    for f in fields:
        path = f"{prefix}{f.name}".casefold()
        out[path] = str(f.field_type).upper()
        out.update(field_types(f.fields or (), f"{path}."))
    return out


def _dataset(wh: BigQuery, project: str | None, dataset: str) -> str:
    return f"{wh.quote(project or wh.settings.project)}.{wh.quote(dataset)}"


def _project_dataset(wh: BigQuery, project: str | None, dataset: str) -> exp.Dot:
    return exp.Dot(this=tree_sql.ident(wh, project or wh.settings.project),
                   expression=tree_sql.ident(wh, dataset))


def branches(wh: BigQuery, refs: Sequence[TableRef], sql: str) -> Tree:
    """One branch of ``sql`` per dataset, matching its tables by name (an ``ARRAY<STRING>``
    bind, ``:tables_<i>``) or pattern (``:pattern_<i>_<j>``), joined by UNION ALL."""
    by_dataset: dict[tuple[str | None, str], list[TableRef]] = {}
    for ref in dict.fromkeys(refs):
        by_dataset.setdefault((ref.database, ref.schema), []).append(ref)
    params: dict[str, Any] = {}
    selects = []
    for i, ((project, dataset), group) in enumerate(by_dataset.items()):
        table_name = exp.column(dialects.Bare(this="table_name"), dialects.Bare(this="c"))
        names = [r.name for r in group if "*" not in r.name]
        matches: list[exp.Expression] = []
        if names:
            matches.append(exp.In(this=table_name.copy(), unnest=exp.Unnest(
                expressions=[bind(params, f"tables_{i}", names)])))
        for j, ref in enumerate(r for r in group if "*" in r.name):
            matches.append(exp.Like(this=table_name.copy(), expression=bind(
                params, f"pattern_{i}_{j}", catalog_sql.like_pattern(ref.name))))
        select = catalog_sql.trusted(wh, sql)
        select.find(exp.Placeholder).replace(  # type: ignore[union-attr]
            exp.paren(exp.or_(*matches, copy=False), copy=False))
        selects.append(catalog_sql.qualify(select, _project_dataset(wh, project, dataset),
                                           dialects.Bare(this="INFORMATION_SCHEMA")))
    return catalog_sql.union_all(selects), params


def build_columns(wh: BigQuery, tables: Sequence[TableRef]) -> Tree:
    found, params = branches(wh, tables, COLUMNS_BRANCH)
    return catalog_sql.reading(wh, COLUMNS, found), params


def build_schema_columns(wh: BigQuery, patterns: Sequence[TableRef]) -> Tree:
    return build_columns(wh, patterns)


def build_schema_fingerprints(wh: BigQuery, patterns: Sequence[TableRef]) -> Tree:
    return branches(wh, patterns, FINGERPRINT_BRANCH)


def build_schema_version(wh: BigQuery) -> Tree:
    if not wh.settings.datasets:
        raise ValueError("settings.datasets is empty: there is nothing to probe")
    selects = []
    for name in wh.settings.datasets:
        project, _, dataset = name.rpartition(".")
        selects.append(catalog_sql.qualify(
            catalog_sql.trusted(wh, VERSION_BRANCH),
            tree_sql.ident(wh, project or wh.settings.project), tree_sql.ident(wh, dataset)))
    return catalog_sql.reading(wh, SCHEMA_VERSION, catalog_sql.union_all(selects)), {}


def build_audit_events(wh: BigQuery, since: int = 0, limit: int = 5000) -> Parts:
    region = f"region-{wh.settings.location.lower()}"
    jobs = f"{_dataset(wh, None, region)}.INFORMATION_SCHEMA.JOBS"
    params = {"since": int(since), "limit": int(limit),
              "statement_types": list(DDL_STATEMENT_TYPES)}
    return {"jobs": jobs, "days": str(int(wh.settings.audit_days))}, params

def build_revoke_jobs(wh: BigQuery, hours: int = 24, limit: int = 5000) -> Parts:
    """The region's JOBS view, and binds: the last ``hours``, at most ``limit`` jobs."""
    region = f"region-{wh.settings.location.lower()}"
    return ({"jobs": f"{_dataset(wh, None, region)}.INFORMATION_SCHEMA.JOBS"},
            {"hours": int(hours), "limit": int(limit)})


def build_sample(wh: BigQuery, table: TableRef, columns: Sequence[str], limit: int,
                  where: Sequence[Any] = ()) -> Parts:
    fragments, params = table_sql.build_sample(wh, table, columns, limit, where)
    pct = wh.settings.sample_percent
    fragments["tablesample"] = f" TABLESAMPLE SYSTEM ({float(pct)!r} PERCENT)" if pct else ""
    return fragments, params



#: The builders of these templates (merged into ``BigQuery.BUILDERS``).
BUILDERS: dict[str, Builder] = {
    "audit_events": build_audit_events,
    "revoke_jobs": build_revoke_jobs,
    "sample": build_sample,
}
#: The catalog queries, as trees (merged into ``BigQuery.TREES``).
TREES: dict[str, Callable[..., Tree]] = {
    "columns": build_columns,
    "schema_columns": build_schema_columns,
    "schema_fingerprints": build_schema_fingerprints,
    "schema_version": build_schema_version,
}
