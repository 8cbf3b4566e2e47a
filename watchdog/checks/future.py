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
                 horizon: datetime, tolerance: timedelta,
                 where: Sequence[Predicate] = ()) -> int:
    """Count the rows dated after ``horizon`` (one query); a FUTURE_ROWS WARN when any."""
    (ahead,) = wh.count_rows(table, time_column, horizon, horizon + FAR, FAR, where)
    out.metric("future_rows", ahead.rows)
    if ahead.rows:
        out.add(Status.WARN, "FUTURE_ROWS",
                f"{table}: {ahead.rows} rows dated after now (more than "
                f"{human(tolerance)} ahead in {time_column}): clock skew?",
                rows=ahead.rows, column=time_column)
    return ahead.rows


def count_future_by_group(out: Outcome, wh: Warehouse, table: TableRef, time_column: str,
                          horizon: datetime, tolerance: timedelta, group_by: Sequence[str],
                          where: Sequence[Predicate] = ()) -> None:
    """:func:`count_future` per group (one grouped query): each group's skewed writer is
    its own finding, for its own owners."""
    rows = wh.count_successes(table, time_column, horizon, horizon + FAR, FAR,
                              [Predicate(column=time_column, op="is not null")], group_by,
                              where)
    out.metric("future_rows", sum(w.total for w in rows))
    for w in rows:
        if w.total:
            group = tuple((c, str(v)) for c, v in zip(group_by, w.group, strict=True))
            label = ", ".join(f"{c}={v}" for c, v in group)
            out.add_for(group, Status.WARN, "FUTURE_ROWS",
                        f"{table} ({label}): {w.total} rows dated after now (more than "
                        f"{human(tolerance)} ahead in {time_column}): clock skew?",
                        rows=w.total, column=time_column)
