"""The volume monitor's one grouped query: per window and group, all rows, successful rows and
the newest success. Used by :class:`~watchdog.warehouses.sqlbase.SqlWarehouse`; the query's tree is
``facts_sql.build_count_successes``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from watchdog.models import Predicate, TableRef, WindowCount
from watchdog.warehouses.base import as_utc, buckets

if TYPE_CHECKING:
    from watchdog.warehouses.sqlbase import SqlWarehouse


def count_successes(
    wh: SqlWarehouse, table: TableRef, time_column: str, start: datetime, end: datetime,
    window: timedelta, success: Sequence[Predicate], group_by: Sequence[str] = (),
    where: Sequence[Predicate] = (),
) -> list[WindowCount]:
    spans = buckets(as_utc(start), as_utc(end), window)
    if not spans:
        return []
    stmt = wh.render(
        "count_successes", table=table, time_column=time_column, start=start, end=end,
        window=window, success=success, group_by=group_by, where=where,
        time_type=wh.time_type(table, time_column),
    )
    k = len(group_by)
    # (group, bucket) -> [total, successes, newest success epoch]
    tally: dict[tuple[Any, ...], dict[int, list[Any]]] = {} if k else {(): {}}
    for row in wh._rows(stmt):
        if row[0] is None:
            continue
        index = min(max(int(row[0]), 0), len(spans) - 1)  # clamp float rounding
        cell = tally.setdefault(tuple(row[1:k + 1]), {}).setdefault(index, [0, 0, None])
        total, successes, last = row[k + 1:]
        cell[0] += int(total)
        cell[1] += int(successes or 0)
        if last is not None:
            cell[2] = max(float(last), cell[2] if cell[2] is not None else -math.inf)
    return [
        _window_count(spans, i, group, cells.get(i))
        for group, cells in sorted(tally.items(), key=lambda kv: [str(v) for v in kv[0]])
        for i in range(len(spans))
    ]


def _window_count(
    spans: Sequence[tuple[datetime, datetime]], i: int, group: tuple[Any, ...],
    cell: list[Any] | None,
) -> WindowCount:
    total, successes, last = cell or (0, 0, None)
    return WindowCount(
        start=spans[i][0], end=spans[i][1], group=group, total=total, successes=successes,
        last_success=None if last is None else datetime.fromtimestamp(last, UTC),
    )
