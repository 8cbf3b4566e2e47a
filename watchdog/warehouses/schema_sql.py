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
from collections.abc import Sequence
from typing import TYPE_CHECKING

from watchdog.models import Column, TableRef
from watchdog.warehouses.base import column_fingerprint

if TYPE_CHECKING:
    from watchdog.warehouses.sqlbase import SqlWarehouse


def schema_columns(wh: SqlWarehouse, patterns: Sequence[TableRef]) -> dict[TableRef, list[Column]]:
    """See :meth:`~watchdog.warehouses.base.Warehouse.schema_columns`."""
    patterns = list(dict.fromkeys(patterns))
    if not patterns:
        return {}
    by_name: dict[tuple[str, str], list[Column]] = {}  # one TableRef per table, not per row
    families: dict[str, str] = {}  # a few distinct types over many columns
    for schema, table, name, data_type, nullable in wh._rows(
            wh.render("schema_columns", patterns=patterns)):
        cols = by_name.get((schema, table))
        if cols is None:
            cols = by_name[(schema, table)] = []
        family = families.get(data_type)
        if family is None:
            family = families[data_type] = wh.type_family(data_type)
        cols.append(Column(name=name, position=len(cols) + 1, data_type=data_type,
                           type_family=family, nullable=bool(nullable)))
    return {TableRef(schema=s, name=t): cols for (s, t), cols in by_name.items()}


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
