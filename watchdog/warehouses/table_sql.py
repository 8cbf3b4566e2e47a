"""The per-table template builders still in ``str.format`` form: columns (one catalog per
warehouse) and a sample (never transpiled, see WAREHOUSES.md). Each returns the fragments
of its template in ``SqlWarehouse.QUERIES`` and the bind values (see ``SqlWarehouse.BUILDERS``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from watchdog.models import Predicate, TableRef

if TYPE_CHECKING:
    from watchdog.warehouses.sqlbase import Parts, SqlWarehouse


def where_clause(conds: Sequence[str]) -> str:
    """``WHERE`` and the conditions (AND-ed), or nothing."""
    return "\nWHERE " + "\n  AND ".join(conds) if conds else ""


def build_columns(wh: SqlWarehouse, tables: Sequence[TableRef]) -> Parts:
    params: dict[str, Any] = {}
    matches = []
    for i, ref in enumerate(tables):
        params[f"schema_{i}"], params[f"table_{i}"] = ref.schema, ref.name
        matches.append(wh.TABLE_MATCH.format(schema=f":schema_{i}", table=f":table_{i}"))
    return {"tables": "\n   OR ".join(matches) or "1 = 0"}, params


def build_sample(
    wh: SqlWarehouse, table: TableRef, columns: Sequence[str], limit: int,
    where: Sequence[Predicate] = (),
) -> Parts:
    conds, params = wh._predicates(where)
    params["limit"] = int(limit)
    return {
        "table": wh.qualified(table),
        "columns": ", ".join(wh.quote(c) for c in columns) or "*",
        "limit": str(int(limit)),
        "where": where_clause(conds),
    }, params
