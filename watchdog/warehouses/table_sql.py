"""The one template builder left in ``str.format`` form: a sample (sqlglot never transpiles
sampling, see WAREHOUSES.md). It returns the fragments of the ``sample`` template in
``SqlWarehouse.QUERIES`` and the bind values (see ``SqlWarehouse.BUILDERS``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from watchdog.models import Predicate, TableRef

if TYPE_CHECKING:
    from watchdog.warehouses.sqlbase import Parts, SqlWarehouse


def where_clause(conds: Sequence[str]) -> str:
    """``WHERE`` and the conditions (AND-ed), or nothing."""
    return "\nWHERE " + "\n  AND ".join(conds) if conds else ""


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
