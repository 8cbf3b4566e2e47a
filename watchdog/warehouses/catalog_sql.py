"""The catalog queries as sqlglot trees: ``columns``, ``schema_columns``, ``schema_fingerprints``.

Each warehouse reads its own catalog (pg_catalog, sqlite_master and pragma_table_info,
information_schema), so each adapter describes it in a :class:`Catalog`: its queries as
trusted SQL (constants in watchdog's source, never a user's value), read once by sqlglot
into trees whose names render bare (``dialects.Bare``), and the expressions that hold a
table's schema and name. The builders here put in what varies per call, where the query
says ``:tables``: one condition per schema (its tables' names in one IN list) and per
pattern, the values bound as ``:schema_<i>``/``:table_<i>`` (a pattern as LIKE text, ``\\``
escaping ``%``, ``_``, ``\\``).
Snowflake (one INFORMATION_SCHEMA per database) and BigQuery (one per dataset) join one branch
per database with UNION ALL from the same pieces (``snowflake_sql.py``, ``bigquery_sql.py``).

sqlglot is imported on first use, so that start-up does not pay for it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from watchdog.lazy import lazy
from watchdog.models import TableRef
from watchdog.warehouses.tree_sql import Parts, Tree, bind

if TYPE_CHECKING:
    from sqlglot import exp

    from watchdog.warehouses import dialects
    from watchdog.warehouses.sqlbase import SqlWarehouse
else:
    exp = lazy("sqlglot.expressions")
    dialects = lazy("watchdog.warehouses.dialects")

#: The node in a catalog query that the tables' condition replaces.
TABLES = "tables"


@dataclass(frozen=True, slots=True, kw_only=True)
class Catalog:
    """Where one warehouse's catalog keeps the column facts (``SqlWarehouse.CATALOG``)."""

    columns: str
    """SELECT of ``table_schema, table_name, column_name, data_type, nullable`` of the
    tables matched by ``:tables``, in column order."""
    schema: str
    """The expression that holds a table's schema name (``n.nspname``, ``'main'``)."""
    table: str
    """The expression that holds a table's name."""
    schema_columns: str = ""
    """As ``columns``, for tables matched by pattern (empty: ``columns``)."""
    fingerprints: str = ""
    """SELECT of ``table_schema, table_name, fingerprint``, one row per table matched by
    ``:tables`` (empty: no such query; the fingerprints hash ``schema_columns`` in Python)."""
    fold_case: bool = False
    """Names compare lower-cased on both sides (the warehouse folds quoted names too)."""
    fold_pattern: bool = False
    """A pattern compares lower-cased too (off where LIKE ignores case already)."""
    like_escape: bool = True
    """``LIKE ... ESCAPE '\\'``; off where backslash is LIKE's default escape and a backslash
    literal is spelled differently by the warehouse and its stand-in (Redshift)."""
    packed: bool = False
    """``columns`` and ``schema_columns`` return one row per table, ``table_schema,
    table_name, column_names, data_types, nullables``: three lists in column order (needs
    array aggregates), not one row per column."""


def like_pattern(glob: str) -> str:
    """A ``*`` glob as LIKE text escaped with backslashes: ``feat_*`` → ``feat\\_%``."""
    escaped = glob.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%")


@functools.cache
def _parsed(dialect: str, sql: str) -> exp.Expression:
    import sqlglot  # first use, not start-up

    def bare(node: exp.Expression) -> exp.Expression:
        if type(node) is exp.Identifier and not node.quoted:
            return dialects.Bare(this=node.name)
        return node

    return sqlglot.parse_one(sql, read=dialect).transform(bare, copy=False)


def trusted(wh: SqlWarehouse, sql: str) -> exp.Expression:
    """``sql``, a constant of watchdog's source, as a tree in the adapter's dialect; its
    unquoted names render bare (``dialects.Bare``), quoted ones stay quoted."""
    return _parsed(wh.DIALECT, sql).copy()


def qualify(tree: exp.Expression, *prefix: exp.Identifier | exp.Dot) -> exp.Expression:
    """``tree`` with every table named without a schema read under ``prefix``
    (``database, INFORMATION_SCHEMA``)."""
    for table in tree.find_all(exp.Table):
        if not table.args.get("db"):
            parts = dict(zip(("catalog", "db")[2 - len(prefix):], prefix, strict=True))
            for key, part in parts.items():
                table.set(key, part.copy())
    return tree


def union_all(selects: Sequence[exp.Expression]) -> exp.Expression:
    """The branches joined by UNION ALL (one branch: itself)."""
    if not selects:
        raise ValueError("no tables given")
    return selects[0] if len(selects) == 1 else exp.union(*selects, distinct=False)


def reading(wh: SqlWarehouse, sql: str, inner: exp.Expression) -> exp.Expression:
    """The trusted query ``sql`` over one table, reading the subquery ``inner`` in its
    place under the table's name (``SELECT ... FROM found`` over the branches)."""
    tree = trusted(wh, sql)
    table = tree.find(exp.Table)
    if table is None:
        raise ValueError(f"a catalog query of {wh.NAME} reads no table")
    table.replace(exp.Subquery(this=inner, alias=exp.TableAlias(this=table.this.copy())))
    return tree


def _lower(value: exp.Expression, fold: bool) -> exp.Expression:
    return exp.Lower(this=value) if fold else value


def condition(wh: SqlWarehouse, catalog: Catalog, refs: Iterable[tuple[int, TableRef]],
              params: dict[str, Any], by_pattern: bool) -> exp.Expression:
    """The catalog rows of ``refs`` (numbered, the numbers naming their binds), OR-ed; FALSE
    for none. Names in one schema are one condition, ``(schema = :schema_<i> AND table IN
    (:table_<i>, :table_<j>, ...))`` (one IN list, not one OR branch per table: a poll asks
    for up to 1,000 tables a statement); a pattern (``*``, where ``by_pattern``) is
    ``(schema = :schema_<i> AND table LIKE :table_<i>)``."""
    named: dict[str, list[tuple[int, str]]] = {}
    patterns: list[tuple[int, TableRef]] = []
    for i, ref in refs:
        if by_pattern and "*" in ref.name:
            patterns.append((i, ref))
        else:
            named.setdefault(ref.schema, []).append((i, ref.name))
    fold = catalog.fold_case
    matches: list[exp.Expression] = []
    for schema, names in named.items():
        table = _lower(trusted(wh, catalog.table), fold)
        values = [_lower(bind(params, f"table_{i}", name), fold) for i, name in names]
        test = (exp.EQ(this=table, expression=values[0]) if len(values) == 1
                else exp.In(this=table, expressions=values))
        matches.append(_in_schema(wh, catalog, params, names[0][0], schema, test))
    for i, ref in patterns:
        like: exp.Expression = exp.Like(
            this=_lower(trusted(wh, catalog.table), catalog.fold_pattern),
            expression=_lower(bind(params, f"table_{i}", like_pattern(ref.name)),
                              catalog.fold_pattern))
        if catalog.like_escape:
            like = exp.Escape(this=like, expression=exp.Literal.string("\\"))
        matches.append(_in_schema(wh, catalog, params, i, ref.schema, like))
    return exp.paren(exp.or_(*matches, copy=False), copy=False) if matches else exp.false()


def _in_schema(wh: SqlWarehouse, catalog: Catalog, params: dict[str, Any], i: int,
               schema: str, test: exp.Expression) -> exp.Expression:
    """``(<schema> = :schema_<i> AND test)``."""
    here = _lower(trusted(wh, catalog.schema), catalog.fold_case)
    value = _lower(bind(params, f"schema_{i}", schema), catalog.fold_case)
    return exp.paren(exp.and_(exp.EQ(this=here, expression=value), test, copy=False),
                     copy=False)


def matching(wh: SqlWarehouse, sql: str, refs: Iterable[tuple[int, TableRef]],
             params: dict[str, Any], by_pattern: bool,
             catalog: Catalog | None = None) -> exp.Expression:
    """The catalog query ``sql`` (trusted) with ``:tables`` made the condition on ``refs``."""
    tree = trusted(wh, sql)
    cond = condition(wh, catalog or wh.CATALOG, refs, params, by_pattern)
    slot = next((p for p in tree.find_all(exp.Placeholder) if p.name == TABLES), None)
    if slot is None:
        raise ValueError(f"a catalog query of {wh.NAME} has no :{TABLES}")
    slot.replace(cond)
    return tree


def build_columns(wh: SqlWarehouse, tables: Sequence[TableRef]) -> Tree:
    params: dict[str, Any] = {}
    return matching(wh, wh.CATALOG.columns, enumerate(tables), params, by_pattern=False), params


def build_schema_columns(wh: SqlWarehouse, patterns: Sequence[TableRef]) -> Tree:
    params: dict[str, Any] = {}
    sql = wh.CATALOG.schema_columns or wh.CATALOG.columns
    return matching(wh, sql, enumerate(patterns), params, by_pattern=True), params


def build_schema_fingerprints(wh: SqlWarehouse, patterns: Sequence[TableRef]) -> Tree:
    if not wh.CATALOG.fingerprints:
        raise ValueError(f"{wh.NAME} has no schema_fingerprints query")
    params: dict[str, Any] = {}
    sql = wh.CATALOG.fingerprints
    return matching(wh, sql, enumerate(patterns), params, by_pattern=True), params


def _parts(refs: Sequence[TableRef], by_pattern: bool) -> Parts:
    """What :func:`condition` makes of ``refs``, without sqlglot: the shape (the refs'
    numbers, grouped by schema as the conditions group them, then the patterns') and the
    binds. Names are binds here, never part of the SQL."""
    named: dict[str | None, list[int]] = {}
    patterns: list[int] = []
    params: dict[str, Any] = {}
    for i, ref in enumerate(refs):
        if by_pattern and "*" in ref.name:
            patterns.append(i)
            params[f"table_{i}"], params[f"schema_{i}"] = like_pattern(ref.name), ref.schema
        else:
            named.setdefault(ref.schema, []).append(i)
            params[f"table_{i}"] = ref.name
    for schema, numbers in named.items():
        params[f"schema_{numbers[0]}"] = schema
    return (tuple(tuple(n) for n in named.values()), tuple(patterns)), params


def columns_parts(wh: SqlWarehouse, tables: Sequence[TableRef]) -> Parts:
    return _parts(tables, by_pattern=False)


def schema_columns_parts(wh: SqlWarehouse, patterns: Sequence[TableRef]) -> Parts:
    return _parts(patterns, by_pattern=True)


def schema_fingerprints_parts(wh: SqlWarehouse, patterns: Sequence[TableRef]) -> Parts:
    if not wh.CATALOG.fingerprints:
        raise ValueError(f"{wh.NAME} has no schema_fingerprints query")
    return _parts(patterns, by_pattern=True)


#: Each builder's parts (``sqlcache.py``); the adapters' own catalog builders (Snowflake's,
#: BigQuery's) have none, and render every time.
PARTS: dict[Callable[..., Tree], Callable[..., Parts]] = {
    build_columns: columns_parts,
    build_schema_columns: schema_columns_parts,
    build_schema_fingerprints: schema_fingerprints_parts,
}
