"""Rows dated after now: every read is bounded at now (plus a tolerance), and rows beyond
it are a finding of their own (FUTURE_ROWS), since a writer with a skewed clock would
otherwise make a stale table look fresh or put tomorrow's rows in today's window."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from watchdog.checks.base import Outcome, human
from watchdog.models import Predicate, Status, TableRef
from watchdog.warehouses.base import Warehouse

#: How far ahead future-dated rows are counted (one bucket from the horizon on).
FAR = timedelta(days=3650)


def bounded(where: Sequence[Predicate], time_column: str, horizon: datetime
            ) -> list[Predicate]:
    """``where`` and "not dated after ``horizon``"."""
    return [*where, Predicate(column=time_column, op="<=", value=horizon)]


def count_future(out: Outcome, wh: Warehouse, table: TableRef, time_column: str,
                 horizon: datetime, tolerance: timedelta, where: Sequence[Predicate] = (),
                 group_by: Sequence[str] = ()) -> int:
    """Count the rows dated after ``horizon`` (one query, per group when ``group_by``); a
    FUTURE_ROWS WARN for the table, or for each group with any (its own owners)."""
    if not group_by:
        (ahead,) = wh.count_rows(table, time_column, horizon, horizon + FAR, FAR, where)
        counts: list[tuple[tuple[tuple[str, str], ...], int]] = [((), ahead.rows)]
    else:
        rows = wh.count_successes(table, time_column, horizon, horizon + FAR, FAR,
                                  [Predicate(column=time_column, op="is not null")],
                                  group_by, where)
        counts = [(tuple((c, str(v)) for c, v in zip(group_by, w.group, strict=True)),
                   w.total) for w in rows]
    out.metric("future_rows", sum(n for _, n in counts))
    for group, n in counts:
        if not n:
            continue
        label = f" ({', '.join(f'{c}={v}' for c, v in group)})" if group else ""
        out.add_for(group, Status.WARN, "FUTURE_ROWS",
                    f"{table}{label}: {n} rows dated after now (more than "
                    f"{human(tolerance)} ahead in {time_column}): clock skew?",
                    rows=n, column=time_column)
    return sum(n for _, n in counts)
