"""The time facts as sqlglot trees (``SqlWarehouse.TREES``): rows per time bucket, the newest
time, and the volume monitor's successes per window and group.

One builder per query, rendered by each adapter's dialect (``dialects.py``); what differs
per warehouse is a node the dialects spell: ``Epoch`` (seconds since 1970 UTC),
``BucketIndex`` (FLOOR, or a truncating cast on SQLite), ``TimeRange`` (the bare column
compared with ``:start``/``:end`` so that indexes, zone maps and BigQuery partitions prune;
epochs on SQLite, whose times are text) and ``NewestTime`` (MAX, or MAX of instants on
SQLite). Time values are bound by the adapter (``SqlWarehouse._range_bind``): in the
column's own type where ``TYPED_TIME_BINDS``, as BigQuery ``TimeBind`` s there.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from watchdog.lazy import lazy
from watchdog.models import Predicate, TableRef
from watchdog.warehouses import tree_sql
from watchdog.warehouses.base import as_utc
from watchdog.warehouses.tree_sql import Tree, bind, conditions

if TYPE_CHECKING:
    from sqlglot import exp

    from watchdog.warehouses import dialects
    from watchdog.warehouses.sqlbase import SqlWarehouse
else:
    exp = lazy("sqlglot.expressions")
    dialects = lazy("watchdog.warehouses.dialects")


def _windows(
    wh: SqlWarehouse, table: TableRef, time_column: str, start: datetime, end: datetime,
    width: timedelta, where: Sequence[Predicate], time_type: str | None,
) -> tuple[exp.Expression, list[exp.Expression], dict[str, Any]]:
    """The bucket index of a row, and the conditions (time range first, then the filters)."""
    col = tree_sql.column(wh, time_column)
    conds, params = conditions(wh, where)
    start, end = as_utc(start), as_utc(end)
    start_epoch = bind(params, "start_epoch", start.timestamp())
    offset = exp.Sub(this=dialects.Epoch(this=col.copy()), expression=start_epoch)
    width_bind = bind(params, "bucket_seconds", width.total_seconds())
    # typed: the dialect's own ``/`` (the epoch is fractional already), no cast added
    quotient = exp.Div(this=exp.paren(offset), expression=width_bind, typed=True)
    index = dialects.BucketIndex(this=quotient)
    in_range = dialects.TimeRange(
        this=col,
        start=bind(params, "start", wh._range_bind(table, time_column, start, time_type, ">=")),
        end=bind(params, "end", wh._range_bind(table, time_column, end, time_type, "<")),
        start_epoch=start_epoch.copy(),
        end_epoch=bind(params, "end_epoch", end.timestamp()))
    return index, [in_range, *conds], params


def build_count_rows(
    wh: SqlWarehouse, table: TableRef, time_column: str, start: datetime, end: datetime,
    bucket: timedelta, where: Sequence[Predicate] = (), time_type: str | None = None,
) -> Tree:
    """Rows per bucket of ``[start, end)``: ``bucket_index, row_count`` (empty buckets absent)."""
    index, conds, params = _windows(wh, table, time_column, start, end, bucket, where,
                                    time_type)
    tree = (exp.select(exp.alias_(index, "bucket_index"),
                       exp.alias_(exp.Count(this=exp.Star()), "row_count"))
            .from_(tree_sql.table(wh, table)).where(exp.and_(*conds))
            .group_by(exp.Literal.number(1)))
    return tree, params


def build_newest(wh: SqlWarehouse, table: TableRef, time_column: str,
                 where: Sequence[Predicate] = ()) -> Tree:
    """The newest time (``newest``), and ``row_count`` where ``NEWEST_WITH_COUNT``."""
    conds, params = conditions(wh, where)
    fields = [exp.alias_(dialects.NewestTime(this=tree_sql.column(wh, time_column)), "newest")]
    if wh.NEWEST_WITH_COUNT:
        fields.append(exp.alias_(exp.Count(this=exp.Star()), "row_count"))
    tree = exp.select(*fields).from_(tree_sql.table(wh, table))
    if conds:
        tree = tree.where(exp.and_(*conds))
    return tree, params


def build_count_successes(
    wh: SqlWarehouse, table: TableRef, time_column: str, start: datetime, end: datetime,
    window: timedelta, success: Sequence[Predicate], group_by: Sequence[str] = (),
    where: Sequence[Predicate] = (), time_type: str | None = None,
) -> Tree:
    """Per window and group: ``bucket_index, <groups>, row_count, success_count,
    last_success_epoch`` (see ``volume_sql.count_successes``)."""
    if not success:
        raise ValueError("count_successes needs at least one success predicate")
    index, conds, params = _windows(wh, table, time_column, start, end, window, where,
                                    time_type)
    tests, success_params = conditions(wh, success, prefix="s")
    params.update(success_params)
    succeeded = exp.and_(*(exp.paren(t) for t in tests))
    epoch = dialects.Epoch(this=tree_sql.column(wh, time_column))
    groups = [tree_sql.column(wh, g) for g in group_by]
    tree = (exp.select(
        exp.alias_(index, "bucket_index"), *groups,
        exp.alias_(exp.Count(this=exp.Star()), "row_count"),
        exp.alias_(exp.Sum(this=exp.Case(ifs=[exp.If(this=succeeded, true=exp.Literal.number(1))],
                                         default=exp.Literal.number(0))), "success_count"),
        exp.alias_(exp.Max(this=exp.Case(ifs=[exp.If(this=succeeded.copy(), true=epoch)])),
                   "last_success_epoch"))
        .from_(tree_sql.table(wh, table)).where(exp.and_(*conds))
        .group_by(*(exp.Literal.number(i) for i in range(1, len(groups) + 2))))
    return tree, params
