"""Snowflake's SQL templates, and its metadata facts over several databases at once.

Snowflake keeps one INFORMATION_SCHEMA per database
(https://docs.snowflake.com/en/sql-reference/info-schema), so a warehouse entry that watches
``DB.SCHEMA.TABLE`` names in several databases reads each database's views in one statement:
one SELECT per database (the ``BRANCHES`` templates), joined by UNION ALL. Each branch
carries its index as ``part``, so every row maps back to the database *as the config wrote
it* (None: ``settings.database``): the schema check matches tables by ``str(ref)``, and a
table written ``ANALYTICS.S.T`` must come back as that, not as ``S.T``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from watchdog.models import Column, DdlStamp, TableRef
from watchdog.warehouses.schema_sql import like_pattern

if TYPE_CHECKING:
    from watchdog.warehouses.snowflake import Snowflake
    from watchdog.warehouses.sqlbase import Builder, Parts

#: The data type as shown to the diff: NUMBER and text types with their parameters.
_DATA_TYPE = (
    "CASE WHEN data_type = 'NUMBER' THEN 'NUMBER(' || numeric_precision || ','"
    " || numeric_scale || ')'\n"
    "    WHEN character_maximum_length IS NOT NULL THEN data_type || '('"
    " || character_maximum_length || ')'\n    ELSE data_type END"
)
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

#: One database's SELECT of a metadata query (``{part}``, ``{database}``, ``{tables}``).
BRANCHES: dict[str, str] = {
    "columns": (
        "SELECT {part} AS part, table_schema, table_name, column_name,\n  " + _DATA_TYPE
        + " AS data_type,\n  is_nullable = 'YES' AS nullable, ordinal_position\n"
        "FROM {database}.INFORMATION_SCHEMA.COLUMNS\nWHERE ({tables})"
    ),
    "schema_fingerprints": (
        "SELECT {part} AS part, table_schema, table_name,\n  MD5(LISTAGG(column_name || CHR(30)"
        " || " + _DATA_TYPE.replace("\n    ", " ") + "\n    || CHR(30) || is_nullable, CHR(31))"
        " WITHIN GROUP (ORDER BY ordinal_position)) AS fingerprint\n"
        "FROM {database}.INFORMATION_SCHEMA.COLUMNS\n"
        "WHERE ({tables})\nGROUP BY table_schema, table_name"
    ),
    # LAST_DDL_BY is the user name of the last DDL (LAST_DDL moves on every DDL, never on
    # DML): https://docs.snowflake.com/en/sql-reference/info-schema/tables
    "last_ddl": (
        "SELECT {part} AS part, table_schema, table_name, last_ddl, last_ddl_by\n"
        "FROM {database}.INFORMATION_SCHEMA.TABLES\nWHERE ({tables})"
    ),
    "schema_version": (
        "SELECT table_catalog, table_schema, table_name, last_ddl\n"
        "FROM {database}.INFORMATION_SCHEMA.TABLES\nWHERE table_schema <> 'INFORMATION_SCHEMA'"
    ),
}
_UNION = "\nUNION ALL\n"

QUERIES: dict[str, str] = {
    # ORDER BY after UNION ALL sorts the whole result by the output columns:
    # https://docs.snowflake.com/en/sql-reference/operators-query
    "columns": "{branches}\nORDER BY part, table_schema, table_name, ordinal_position",
    "schema_columns": "{branches}\nORDER BY part, table_schema, table_name, ordinal_position",
    "schema_fingerprints": "{branches}",
    "last_ddl": "{branches}",
    "schema_version": (
        "SELECT COUNT(*) AS tables, MD5(LISTAGG(table_catalog || '.' || table_schema || '.'"
        " || table_name || '@' || CAST(last_ddl AS VARCHAR), ',')\n"
        "  WITHIN GROUP (ORDER BY table_catalog, table_schema, table_name)) AS token\n"
        "FROM (\n{branches}\n) AS catalog_tables"
    ),
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


def _branches(wh: Snowflake, query: str, refs: Sequence[TableRef], by_pattern: bool) -> Parts:
    """``{branches}``: one SELECT per database named, each matching its own tables; binds
    are numbered over all of ``refs`` so that they never collide."""
    params: dict[str, Any] = {}
    selects = []
    for part, database in enumerate(parts(refs) or [None]):
        matches = []
        for i, ref in enumerate(refs):
            if ref.database != database:
                continue
            params[f"schema_{i}"] = ref.schema
            if by_pattern and "*" in ref.name:
                params[f"table_{i}"] = like_pattern(ref.name)
                matches.append(wh.PATTERN_MATCH.format(schema=f":schema_{i}",
                                                       pattern=f":table_{i}"))
            else:
                params[f"table_{i}"] = ref.name
                matches.append(wh.TABLE_MATCH.format(schema=f":schema_{i}", table=f":table_{i}"))
        selects.append(BRANCHES[query].format(
            part=part, database=wh.quote(database or wh.settings.database),
            tables="\n   OR ".join(matches) or "1 = 0"))
    return {"branches": _UNION.join(selects)}, params


def build_columns(wh: Snowflake, tables: Sequence[TableRef]) -> Parts:
    return _branches(wh, "columns", list(dict.fromkeys(tables)), by_pattern=False)


def build_schema_columns(wh: Snowflake, patterns: Sequence[TableRef]) -> Parts:
    return _branches(wh, "columns", list(dict.fromkeys(patterns)), by_pattern=True)


def build_schema_fingerprints(wh: Snowflake, patterns: Sequence[TableRef]) -> Parts:
    return _branches(wh, "schema_fingerprints", list(dict.fromkeys(patterns)), by_pattern=True)


def build_last_ddl(wh: Snowflake, tables: Sequence[TableRef]) -> Parts:
    return _branches(wh, "last_ddl", list(dict.fromkeys(tables)), by_pattern=False)


def build_schema_version(wh: Snowflake, patterns: Sequence[TableRef] = ()) -> Parts:
    """The default database and every other database the patterns name, each once."""
    names = dict.fromkeys([wh.settings.database, *(p.database for p in patterns if p.database)])
    selects = [BRANCHES["schema_version"].format(database=wh.quote(n)) for n in names]
    return {"branches": _UNION.join(selects)}, {}


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


#: The builders of these queries (merged into ``Snowflake.BUILDERS``).
BUILDERS: dict[str, Builder] = {
    "columns": build_columns,
    "schema_columns": build_schema_columns,
    "schema_fingerprints": build_schema_fingerprints,
    "last_ddl": build_last_ddl,
    "schema_version": build_schema_version,
    "audit_events": build_audit_events,
    "audit_objects": build_audit_objects,
}
