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

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from watchdog.models import Predicate, Rule, TableRef
from watchdog.warehouses import rulesql, table_sql
from watchdog.warehouses.base import as_utc
from watchdog.warehouses.schema_sql import like_pattern
from watchdog.warehouses.sqlbase import Builder, Parts

if TYPE_CHECKING:
    from watchdog.warehouses.bigquery import BigQuery

#: ``statement_type`` values of DDL jobs in INFORMATION_SCHEMA.JOBS:
#: https://cloud.google.com/bigquery/docs/reference/auditlogs/rest/Shared.Types/BigQueryAuditMetadata.QueryStatementType
DDL_STATEMENT_TYPES = (
    "CREATE_TABLE", "CREATE_TABLE_AS_SELECT", "CREATE_VIEW", "CREATE_MATERIALIZED_VIEW",
    "CREATE_EXTERNAL_TABLE", "CREATE_SNAPSHOT_TABLE", "DROP_TABLE", "DROP_VIEW",
    "DROP_MATERIALIZED_VIEW", "DROP_EXTERNAL_TABLE", "DROP_SNAPSHOT_TABLE", "ALTER_TABLE",
    "ALTER_VIEW", "ALTER_MATERIALIZED_VIEW",
)
COLUMNS_BRANCH = (
    "SELECT c.table_schema, c.table_name, f.field_path AS column_name, f.data_type,\n"
    "  c.is_nullable = 'YES' AS nullable, c.ordinal_position AS position\n"
    "FROM {dataset}.INFORMATION_SCHEMA.COLUMNS AS c\n"
    "JOIN {dataset}.INFORMATION_SCHEMA.COLUMN_FIELD_PATHS AS f\n"
    "  ON f.table_name = c.table_name AND f.column_name = c.column_name\n"
    "WHERE c.is_hidden = 'NO' AND ({match})"
)
FINGERPRINT_BRANCH = (
    "SELECT c.table_schema, c.table_name,\n"
    "  TO_HEX(MD5(STRING_AGG(CONCAT(f.field_path, CHR(30), f.data_type, CHR(30),"
    " c.is_nullable),\n    CHR(31) ORDER BY c.ordinal_position, f.field_path))) AS fingerprint\n"
    "FROM {dataset}.INFORMATION_SCHEMA.COLUMNS AS c\n"
    "JOIN {dataset}.INFORMATION_SCHEMA.COLUMN_FIELD_PATHS AS f\n"
    "  ON f.table_name = c.table_name AND f.column_name = c.column_name\n"
    "WHERE c.is_hidden = 'NO' AND ({match})\n"
    "GROUP BY c.table_schema, c.table_name"
)
_COLUMNS = (
    "SELECT table_schema, table_name, column_name, data_type, nullable\n"
    "FROM (\n{branches}\n) AS found\n"
    "ORDER BY table_schema, table_name, position, column_name"
)



#: BigQuery's own templates, merged over ``SqlWarehouse.QUERIES``.
QUERIES: dict[str, str] = {
    "columns": _COLUMNS,
    "schema_columns": _COLUMNS,
    "schema_fingerprints": "{branches}",
    "schema_version": (
        "SELECT TO_HEX(MD5(STRING_AGG(CONCAT(dataset_id, '.', table_id, '@',\n"
        "  CAST(last_modified_time AS STRING)), ',' ORDER BY dataset_id, table_id)))"
        " AS token\nFROM (\n{branches}\n) AS probed"
    ),
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

def branches(wh: BigQuery, refs: Sequence[TableRef], template: str) -> Parts:
    """One ``template`` branch per dataset, matching its tables by name or pattern."""
    by_dataset: dict[tuple[str | None, str], list[TableRef]] = {}
    for ref in dict.fromkeys(refs):
        by_dataset.setdefault((ref.database, ref.schema), []).append(ref)
    params: dict[str, Any] = {}
    branches = []
    for i, ((project, dataset), group) in enumerate(by_dataset.items()):
        names = [r.name for r in group if "*" not in r.name]
        matches = []
        if names:
            params[f"tables_{i}"] = names
            matches.append(f"c.table_name IN UNNEST(:tables_{i})")
        for j, ref in enumerate(r for r in group if "*" in r.name):
            params[f"pattern_{i}_{j}"] = like_pattern(ref.name)
            matches.append(f"c.table_name LIKE :pattern_{i}_{j}")
        match = " OR ".join(matches)
        branches.append(template.format(dataset=_dataset(wh, project, dataset),
                                        match=match))
    if not branches:
        raise ValueError("no tables given")
    return {"branches": "\nUNION ALL\n".join(branches)}, params

def build_columns(wh: BigQuery, tables: Sequence[TableRef]) -> Parts:
    return branches(wh, tables, COLUMNS_BRANCH)

def build_schema_columns(wh: BigQuery, patterns: Sequence[TableRef]) -> Parts:
    return branches(wh, patterns, COLUMNS_BRANCH)

def build_schema_fingerprints(wh: BigQuery, patterns: Sequence[TableRef]) -> Parts:
    return branches(wh, patterns, FINGERPRINT_BRANCH)

def build_schema_version(wh: BigQuery) -> Parts:
    if not wh.settings.datasets:
        raise ValueError("settings.datasets is empty: there is nothing to probe")
    branches = []
    for name in wh.settings.datasets:
        project, _, dataset = name.rpartition(".")
        branches.append("SELECT dataset_id, table_id, last_modified_time\n"
                        f"FROM {_dataset(wh, project or None, dataset)}.__TABLES__")
    return {"branches": "\nUNION ALL\n".join(branches)}, {}

def build_audit_events(wh: BigQuery, since: int = 0, limit: int = 5000) -> Parts:
    region = f"region-{wh.settings.location.lower()}"
    jobs = f"{_dataset(wh, None, region)}.INFORMATION_SCHEMA.JOBS"
    params = {"since": int(since), "limit": int(limit),
              "statement_types": list(DDL_STATEMENT_TYPES)}
    return {"jobs": jobs, "days": str(int(wh.settings.audit_days))}, params

def build_sample(wh: BigQuery, table: TableRef, columns: Sequence[str], limit: int,
                  where: Sequence[Any] = ()) -> Parts:
    fragments, params = table_sql.build_sample(wh, table, columns, limit, where)
    pct = wh.settings.sample_percent
    fragments["tablesample"] = f" TABLESAMPLE SYSTEM ({float(pct)!r} PERCENT)" if pct else ""
    return fragments, params



#: The builders of these queries (merged into ``BigQuery.BUILDERS``).
BUILDERS: dict[str, Builder] = {
    "columns": build_columns,
    "schema_columns": build_schema_columns,
    "schema_fingerprints": build_schema_fingerprints,
    "schema_version": build_schema_version,
    "audit_events": build_audit_events,
    "sample": build_sample,
}
