"""The schema monitor's metadata queries: columns and per-table fingerprints by pattern.

Used by :class:`~watchdog.warehouses.sqlbase.SqlWarehouse`. A poll first asks for one
fingerprint per watched table (``schema_fingerprints``: one row per table, the hash computed
in the database over the ordered column facts), and then for the columns of only the tables
whose fingerprint moved (``columns`` for a few, ``schema_columns`` by pattern for many). So
an unchanged table costs one short row and no Python objects.

The queries are trees built in ``catalog_sql.py`` from the adapter's ``CATALOG``. Where the
database has no hash function (SQLite, ``SCHEMA_DIGEST_IN_SQL`` off) the fingerprint query
returns the concatenated facts and they are hashed here; where it has no fingerprint query
at all (Redshift), the columns are hashed as ``Warehouse`` does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from watchdog.models import Column, TableRef
from watchdog.warehouses.base import column_fingerprint

if TYPE_CHECKING:
    from watchdog.warehouses.sqlbase import SqlWarehouse


def schema_columns(wh: SqlWarehouse, patterns: Sequence[TableRef]) -> dict[TableRef, list[Column]]:
    """See :meth:`~watchdog.warehouses.base.Warehouse.schema_columns`."""
    patterns = list(dict.fromkeys(patterns))
    if not patterns:
        return {}
    found = table_columns(wh, wh._rows(wh.render("schema_columns", patterns=patterns)))
    return {TableRef(schema=s, name=t): cols for (s, t), cols in found.items()}


def table_columns(wh: SqlWarehouse, rows: Iterable[Sequence[Any]],
                  ) -> dict[tuple[str, str], list[Column]]:
    """The rows of a ``columns`` or ``schema_columns`` query as each table's columns in
    order, by ``(schema, table)`` as the warehouse spells them: one row per column, or one
    per table with its columns' facts in lists (``Catalog.packed``).

    Columns equal in name, place, type and nullability are one shared (frozen)
    :class:`Column`, as snapshots read from the state store are: tables made by one
    pipeline repeat their columns, and building 300,000 objects was most of reading a
    migration's 10,000 tables."""
    by_name: dict[tuple[str, str], list[Column]] = {}
    families: dict[str, str] = {}  # a few distinct types over many columns
    shared: dict[tuple[str, int, str, bool], Column] = {}

    def column(name: str, position: int, data_type: str, nullable: bool) -> Column:
        key = (name, position, data_type, nullable)
        col = shared.get(key)
        if col is None:
            family = families.get(data_type)
            if family is None:
                family = families[data_type] = wh.type_family(data_type)
            col = shared[key] = Column(name=name, position=position, data_type=data_type,
                                       type_family=family, nullable=nullable)
        return col

    # BigQuery and Snowflake build their own catalog queries (no CATALOG): a row per column
    if getattr(wh, "CATALOG", None) is not None and wh.CATALOG.packed:
        for schema, table, names, types, nullables in rows:
            by_name[(schema, table)] = [
                column(name, i, data_type, bool(nullable)) for i, (name, data_type, nullable)
                in enumerate(zip(names, types, nullables, strict=True), 1)]
        return by_name
    for schema, table, name, data_type, nullable in rows:
        cols = by_name.get((schema, table))
        if cols is None:
            cols = by_name[(schema, table)] = []
        cols.append(column(name, len(cols) + 1, data_type, bool(nullable)))
    return by_name


def schema_fingerprints(wh: SqlWarehouse, patterns: Sequence[TableRef]) -> dict[TableRef, str]:
    """See :meth:`~watchdog.warehouses.base.Warehouse.schema_fingerprints`."""
    patterns = list(dict.fromkeys(patterns))
    if not patterns:
        return {}
    if "schema_fingerprints" not in wh.TREES:  # no query of its own (Redshift): hash
        found = schema_columns(wh, patterns)   # the columns, as Warehouse does
        return {ref: column_fingerprint(cols) for ref, cols in found.items()}
    rows = wh._rows(wh.render("schema_fingerprints", patterns=patterns))
    # a table without columns has no fingerprint; schema_columns does not list it either
    if wh.SCHEMA_DIGEST_IN_SQL:
        return {TableRef(schema=s, name=t): str(d) for s, t, d in rows if d is not None}
    return {TableRef(schema=s, name=t): hashlib.md5(str(d).encode(), usedforsecurity=False)
            .hexdigest() for s, t, d in rows if d is not None}
