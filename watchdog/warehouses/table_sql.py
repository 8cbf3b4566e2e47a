"""The basic per-table queries' builders: columns, rows per time bucket, the newest time,
and a sample. Each returns the fragments of its template in ``SqlWarehouse.QUERIES`` and
the bind values (see ``SqlWarehouse.BUILDERS``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from watchdog.models import Predicate, TableRef
from watchdog.warehouses.base import as_utc

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


def build_count_rows(
    wh: SqlWarehouse, table: TableRef, time_column: str, start: datetime, end: datetime,
    bucket: timedelta, where: Sequence[Predicate] = (), time_type: str | None = None,
) -> Parts:
    column = wh.quote(time_column)
    epoch = wh.EPOCH.format(column=column)
    conds, params = wh._predicates(where)
    start, end = as_utc(start), as_utc(end)
    params.update(
        start=wh._bind_time(start, time_type, ">="),
        end=wh._bind_time(end, time_type, "<"),
        start_epoch=start.timestamp(), end_epoch=end.timestamp(),
        bucket_seconds=bucket.total_seconds(),
    )
    return {
        "table": wh.qualified(table),
        "bucket": wh.BUCKET.format(epoch=epoch),
        "time_range": wh.TIME_RANGE.format(column=column, epoch=epoch),
        "filters": "".join(f"\n  AND {c}" for c in conds),
    }, params


def build_newest(
    wh: SqlWarehouse, table: TableRef, time_column: str, where: Sequence[Predicate] = ()
) -> Parts:
    conds, params = wh._predicates(where)
    fragments = {"table": wh.qualified(table), "column": wh.quote(time_column)}
    return {**fragments, "where": where_clause(conds)}, params


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
