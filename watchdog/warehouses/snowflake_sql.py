"""Snowflake's SQL templates, and its metadata facts over several databases at once.

Snowflake keeps one INFORMATION_SCHEMA per database
(https://docs.snowflake.com/en/sql-reference/info-schema), so a warehouse entry that watches
``DB.SCHEMA.TABLE`` names in several databases reads each database's views in one statement:
one SELECT per database (a tree from ``CATALOG``, ``LAST_DDL``, ...), joined by UNION ALL.
Each branch carries its index as ``part``, so every row maps back to the database *as the
config wrote it* (None: ``settings.database``): the schema check matches tables by
``str(ref)``, and a table written ``ANALYTICS.S.T`` must come back as that, not as ``S.T``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from watchdog.lazy import lazy
from watchdog.models import Column, DdlStamp, TableRef
from watchdog.warehouses import catalog_sql, tree_sql
from watchdog.warehouses.catalog_sql import Catalog
from watchdog.warehouses.tree_sql import Tree

if TYPE_CHECKING:
    from sqlglot import exp

    from watchdog.warehouses import dialects
    from watchdog.warehouses.snowflake import Snowflake
    from watchdog.warehouses.sqlbase import Builder, Parts
else:
    exp = lazy("sqlglot.expressions")
    dialects = lazy("watchdog.warehouses.dialects")

#: The data type as shown to the diff: NUMBER and text types with their parameters.
_DATA_TYPE = (
    "CASE WHEN data_type = 'NUMBER' THEN 'NUMBER(' || numeric_precision || ','"
    " || numeric_scale || ')'"
    " WHEN character_maximum_length IS NOT NULL THEN data_type || '('"
    " || character_maximum_length || ')' ELSE data_type END"
)
#: One database's branch of each catalog query; its tables (``COLUMNS``, ``TABLES``) are read
#: in that database's INFORMATION_SCHEMA (:func:`_branches`).
CATALOG = Catalog(
    schema="table_schema", table="table_name",
    columns=(
        "SELECT table_schema, table_name, column_name, " + _DATA_TYPE + " AS data_type,"
        " is_nullable = 'YES' AS nullable, ordinal_position FROM COLUMNS WHERE :tables"
    ),
    fingerprints=(
        "SELECT table_schema, table_name, MD5(LISTAGG(column_name || CHR(30) || "
        + _DATA_TYPE + " || CHR(30) || is_nullable, CHR(31))"
        " WITHIN GROUP (ORDER BY ordinal_position)) AS fingerprint"
        " FROM COLUMNS WHERE :tables GROUP BY table_schema, table_name"
    ),
)
#: LAST_DDL_BY is the user name of the last DDL (LAST_DDL moves on every DDL, never on
#: DML): https://docs.snowflake.com/en/sql-reference/info-schema/tables
LAST_DDL = "SELECT table_schema, table_name, last_ddl, last_ddl_by FROM TABLES WHERE :tables"
#: The change probe: every table's LAST_DDL, one branch per database, hashed into a token.
SCHEMA_VERSION = (
    "SELECT COUNT(*) AS tables, MD5(LISTAGG(table_catalog || '.' || table_schema || '.'"
    " || table_name || '@' || CAST(last_ddl AS VARCHAR), ',')"
    " WITHIN GROUP (ORDER BY table_catalog, table_schema, table_name)) AS token"
    " FROM catalog_tables"
)
SCHEMA_VERSION_BRANCH = (
    "SELECT table_catalog, table_schema, table_name, last_ddl FROM TABLES"
    " WHERE table_schema <> 'INFORMATION_SCHEMA'"
)
#: ORDER BY after UNION ALL sorts the whole result by the output columns:
#: https://docs.snowflake.com/en/sql-reference/operators-query
COLUMN_ORDER = ("part", "table_schema", "table_name", "ordinal_position")
#: The earliest start time read: the cursor, but no further back than the lookback.
FLOOR = ("GREATEST(CAST(:since_at AS TIMESTAMP_TZ),"
         " DATEADD(HOUR, -:lookback_hours, CURRENT_TIMESTAMP()))")
#: ACCOUNT_USAGE.QUERY_HISTORY query types (LIKE patterns) that may change a table's
#: columns or existence. Snowflake documents no complete QUERY_TYPE list, so families are
#: matched by prefix (ALTER_TABLE_ADD_COLUMN, ..._MODIFY_COLUMN, any later variant) rather
#: than by a list that could miss one; ALTER_SESSION, ALTER_USER and the like stay out.
#: https://docs.snowflake.com/en/sql-reference/account-usage/query_history
DDL_QUERY_TYPES = ("ALTER_TABLE%", "CREATE_TABLE%", "CREATE_VIEW%", "RENAME_%", "DROP%",
                   "UNDROP%", "ALTER", "CREATE")

QUERIES: dict[str, str] = {
    # SAMPLE after the filter (a subquery); the row count must be a literal
    "sample": (
        "SELECT *\nFROM (\nSELECT {columns}\nFROM {table}{where}\n) AS filtered\n"
        "SAMPLE ROW ({limit} ROWS)"
    ),
    # query_type values: https://docs.snowflake.com/en/sql-reference/account-usage/query_history
    # (database_name, schema_name: the session's current ones, which resolve short names)
    "audit_events": (
        "SELECT DATE_PART(EPOCH_MICROSECOND, start_time) AS seq, start_time, user_name,\n"
        "  query_type, query_text, query_id, database_name, schema_name\n"
        "FROM SNOWFLAKE.ACCOUNT_USAGE.QUERY_HISTORY\n"
        "WHERE start_time >= {floor}\n  AND DATE_PART(EPOCH_MICROSECOND, start_time) > :since\n"
        "  AND execution_status = 'SUCCESS'\n  AND ({types})\n"
        "ORDER BY start_time, query_id\nLIMIT :limit"
    ),
    "audit_objects": (
        "SELECT query_id,\n"
        "  CAST(object_modified_by_ddl\\:objectName AS VARCHAR) AS object_name\n"
        "FROM SNOWFLAKE.ACCOUNT_USAGE.ACCESS_HISTORY\n"
        "WHERE query_start_time >= {floor}\n  AND object_modified_by_ddl IS NOT NULL\n"
        "  AND query_id IN ({ids})"
    ),
}


def parts(refs: Sequence[TableRef]) -> list[str | None]:
    """The databases ``refs`` name as written (None: the default), first seen first."""
    return list(dict.fromkeys(ref.database for ref in refs))


def _information_schema(wh: Snowflake, database: str | None) -> tuple[exp.Identifier, ...]:
    return tree_sql.ident(wh, database or wh.settings.database), dialects.Bare(
        this="INFORMATION_SCHEMA")


def _branches(wh: Snowflake, sql: str, refs: Sequence[TableRef], by_pattern: bool,
              order: Sequence[str] = ()) -> Tree:
    """One branch of ``sql`` per database named, each matching its own tables and carrying
    its index as ``part``, joined by UNION ALL; binds are numbered over all of ``refs`` so
    that they never collide."""
    params: dict[str, Any] = {}
    selects: list[exp.Expression] = []
    for part, database in enumerate(parts(refs) or [None]):
        mine = [(i, ref) for i, ref in enumerate(refs) if ref.database == database]
        select = catalog_sql.matching(wh, sql, mine, params, by_pattern, CATALOG)
        select.set("expressions", [
            exp.alias_(exp.Literal.number(part), dialects.Bare(this="part")),
            *select.expressions])
        selects.append(catalog_sql.qualify(select, *_information_schema(wh, database)))
    tree = catalog_sql.union_all(selects)
    if order:  # after the UNION ALL: the whole result
        tree.set("order", exp.Order(expressions=[
            exp.Ordered(this=exp.Column(this=dialects.Bare(this=c))) for c in order]))
    return tree, params


def build_columns(wh: Snowflake, tables: Sequence[TableRef]) -> Tree:
    return _branches(wh, CATALOG.columns, list(dict.fromkeys(tables)), False, COLUMN_ORDER)


def build_schema_columns(wh: Snowflake, patterns: Sequence[TableRef]) -> Tree:
    return _branches(wh, CATALOG.columns, list(dict.fromkeys(patterns)), True, COLUMN_ORDER)


def build_schema_fingerprints(wh: Snowflake, patterns: Sequence[TableRef]) -> Tree:
    return _branches(wh, CATALOG.fingerprints, list(dict.fromkeys(patterns)), True)


def build_last_ddl(wh: Snowflake, tables: Sequence[TableRef]) -> Tree:
    return _branches(wh, LAST_DDL, list(dict.fromkeys(tables)), False)


def build_schema_version(wh: Snowflake, patterns: Sequence[TableRef] = ()) -> Tree:
    """The default database and every other database the patterns name, each once."""
    names = dict.fromkeys([wh.settings.database, *(p.database for p in patterns if p.database)])
    selects = [catalog_sql.qualify(catalog_sql.trusted(wh, SCHEMA_VERSION_BRANCH),
                                   *_information_schema(wh, n)) for n in names]
    return catalog_sql.reading(wh, SCHEMA_VERSION, catalog_sql.union_all(selects)), {}


def _collect(wh: Snowflake, rows: Sequence[tuple[Any, ...]],
             named: Sequence[str | None]) -> dict[TableRef, list[Column]]:
    """Columns per table from ``columns`` rows, the table named with its part's database."""
    found: dict[TableRef, list[Column]] = {}
    families: dict[str, str] = {}  # a few distinct types over many columns
    for part, schema, table, name, data_type, nullable, _ in rows:
        cols = found.setdefault(TableRef(database=named[int(part)], schema=schema, name=table), [])
        family = families.get(data_type) or families.setdefault(
            data_type, wh.type_family(data_type))
        cols.append(Column(name=name, position=len(cols) + 1, data_type=data_type,
                           type_family=family, nullable=bool(nullable)))
    return found


def columns(wh: Snowflake, tables: Sequence[TableRef]) -> dict[TableRef, list[Column]]:
    """See :meth:`~watchdog.warehouses.base.Warehouse.columns`."""
    return _read_columns(wh, "columns", "tables", tables)


def schema_columns(wh: Snowflake,
                   patterns: Sequence[TableRef]) -> dict[TableRef, list[Column]]:
    """See :meth:`~watchdog.warehouses.base.Warehouse.schema_columns`."""
    return _read_columns(wh, "schema_columns", "patterns", patterns)


def _read_columns(wh: Snowflake, query: str, arg: str,
                  refs: Sequence[TableRef]) -> dict[TableRef, list[Column]]:
    refs = list(dict.fromkeys(refs))
    if not refs:
        return {}
    return _collect(wh, wh._rows(wh.render(query, **{arg: refs})), parts(refs))


def schema_fingerprints(wh: Snowflake, patterns: Sequence[TableRef]) -> dict[TableRef, str]:
    """See :meth:`~watchdog.warehouses.base.Warehouse.schema_fingerprints`."""
    patterns = list(dict.fromkeys(patterns))
    if not patterns:
        return {}
    named = parts(patterns)
    rows = wh._rows(wh.render("schema_fingerprints", patterns=patterns))
    # a table without columns has no fingerprint; schema_columns does not list it either
    return {TableRef(database=named[int(p)], schema=s, name=t): str(d)
            for p, s, t, d in rows if d is not None}


def last_ddl(wh: Snowflake, tables: Sequence[TableRef]) -> dict[TableRef, DdlStamp]:
    """See :meth:`~watchdog.warehouses.base.Warehouse.last_ddl`; a table whose LAST_DDL_BY
    is empty (no DDL recorded for it) is absent."""
    tables = list(dict.fromkeys(tables))
    if not tables:
        return {}
    named = parts(tables)
    out: dict[TableRef, DdlStamp] = {}
    for part, schema, table, at, by in wh._rows(wh.render("last_ddl", tables=tables)):
        when = wh._to_datetime(at)
        if when is not None and by:
            out[TableRef(database=named[int(part)], schema=schema, name=table)] = DdlStamp(
                at=when, by=str(by))
    return out


def build_audit_events(wh: Snowflake, since: int = 0, limit: int = 5000) -> Parts:
    types = {f"t{i}": t for i, t in enumerate(DDL_QUERY_TYPES)}
    like = " OR ".join(f"query_type LIKE :{n}" for n in types)
    return {"types": like, "floor": FLOOR}, {
        **types, "since": int(since), "limit": int(limit), **wh._floor(since)}


def build_audit_objects(wh: Snowflake, query_ids: list[str], since: int = 0) -> Parts:
    ids = {f"q{i}": q for i, q in enumerate(query_ids)}
    return {"ids": ", ".join(f":{n}" for n in ids) or "NULL", "floor": FLOOR}, {
        **ids, **wh._floor(since)}


#: The builders of these templates (merged into ``Snowflake.BUILDERS``).
BUILDERS: dict[str, Builder] = {
    "audit_events": build_audit_events,
    "audit_objects": build_audit_objects,
}
#: The catalog queries, as trees (merged into ``Snowflake.TREES``).
TREES: dict[str, Callable[..., Tree]] = {
    "columns": build_columns,
    "schema_columns": build_schema_columns,
    "schema_fingerprints": build_schema_fingerprints,
    "last_ddl": build_last_ddl,
    "schema_version": build_schema_version,
}
