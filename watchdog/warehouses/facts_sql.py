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

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from watchdog.lazy import lazy
from watchdog.models import Predicate, TableRef
from watchdog.warehouses import tree_sql
from watchdog.warehouses.base import as_utc
from watchdog.warehouses.tree_sql import Parts, Tree, conditions

if TYPE_CHECKING:
    from sqlglot import exp

    from watchdog.warehouses import dialects
    from watchdog.warehouses.sqlbase import SqlWarehouse
else:
    exp = lazy("sqlglot.expressions")
    dialects = lazy("watchdog.warehouses.dialects")


def _window_parts(
    wh: SqlWarehouse, table: TableRef, time_column: str, start: datetime, end: datetime,
    width: timedelta, where: Sequence[Predicate], time_type: str | None,
) -> Parts:
    """The shape and binds of rows bucketed over ``[start, end)`` (:func:`_windows`)."""
    shape, params = tree_sql.condition_parts(wh, where)
    start, end = as_utc(start), as_utc(end)
    params.update(
        start_epoch=start.timestamp(), bucket_seconds=width.total_seconds(),
        start=wh._range_bind(table, time_column, start, time_type, ">="),
        end=wh._range_bind(table, time_column, end, time_type, "<"),
        end_epoch=end.timestamp())
    return (tree_sql.table_shape(wh, table), tree_sql.name(wh, time_column), shape), params


def _windows(
    wh: SqlWarehouse, table: TableRef, time_column: str, start: datetime, end: datetime,
    width: timedelta, where: Sequence[Predicate], time_type: str | None,
) -> tuple[exp.Expression, list[exp.Expression], dict[str, Any]]:
    """The bucket index of a row, and the conditions (time range first, then the filters);
    the binds are :func:`_window_parts`'."""
    col = tree_sql.column(wh, time_column)
    conds, _ = conditions(wh, where)
    _, params = _window_parts(wh, table, time_column, start, end, width, where, time_type)
    offset = exp.Sub(this=dialects.Epoch(this=col.copy()), expression=_bind("start_epoch"))
    # typed: the dialect's own ``/`` (the epoch is fractional already), no cast added
    quotient = exp.Div(this=exp.paren(offset), expression=_bind("bucket_seconds"), typed=True)
    index = dialects.BucketIndex(this=quotient)
    in_range = dialects.TimeRange(this=col, start=_bind("start"), end=_bind("end"),
                                  start_epoch=_bind("start_epoch"), end_epoch=_bind("end_epoch"))
    return index, [in_range, *conds], params


def _bind(name: str) -> exp.Placeholder:
    return exp.Placeholder(this=name)


def count_rows_parts(
    wh: SqlWarehouse, table: TableRef, time_column: str, start: datetime, end: datetime,
    bucket: timedelta, where: Sequence[Predicate] = (), time_type: str | None = None,
) -> Parts:
    """``count_rows``' shape and binds (its SQL depends on nothing else)."""
    return _window_parts(wh, table, time_column, start, end, bucket, where, time_type)


def newest_parts(wh: SqlWarehouse, table: TableRef, time_column: str,
                 where: Sequence[Predicate] = ()) -> Parts:
    """``newest``'s shape and binds."""
    shape, params = tree_sql.condition_parts(wh, where)
    return (tree_sql.table_shape(wh, table), tree_sql.name(wh, time_column), shape), params


def count_successes_parts(
    wh: SqlWarehouse, table: TableRef, time_column: str, start: datetime, end: datetime,
    window: timedelta, success: Sequence[Predicate], group_by: Sequence[str] = (),
    where: Sequence[Predicate] = (), time_type: str | None = None,
) -> Parts:
    """``count_successes``' shape and binds."""
    if not success:
        raise ValueError("count_successes needs at least one success predicate")
    shape, params = _window_parts(wh, table, time_column, start, end, window, where,
                                  time_type)
    tests, success_params = tree_sql.condition_parts(wh, success, prefix="s")
    params.update(success_params)
    return (*shape, tests, tuple(tree_sql.name(wh, g) for g in group_by)), params


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


#: Each builder's parts: its shape and binds without sqlglot (``sqlcache.py``).
PARTS: dict[Callable[..., Tree], Callable[..., Parts]] = {
    build_count_rows: count_rows_parts,
    build_newest: newest_parts,
    build_count_successes: count_successes_parts,
}
