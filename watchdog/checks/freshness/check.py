"""Freshness and row count: the age of a table's newest row, and its rows in the last window."""

from __future__ import annotations

from datetime import datetime, timedelta

from watchdog.alerting.policy import alert_key, group_label
from watchdog.checks.base import Check, CheckContext, Outcome, human
from watchdog.checks.freshness.params import FreshnessParams
from watchdog.checks.future import bounded, count_future
from watchdog.models import Cause, CheckResult, Group, Predicate, Status


class FreshnessCheck(Check[FreshnessParams]):
    """FAIL when data stops arriving (stale newest row) or a window has too few/many rows."""

    KIND = "freshness"
    Params = FreshnessParams

    def run(self, ctx: CheckContext) -> CheckResult:
        p = self.monitor
        table = ctx.warehouse.table(p.table)
        where = [f.predicate() for f in p.where]
        out = self.outcome(str(table))
        horizon = ctx.now + p.future_tolerance
        upto = bounded(where, p.time_column, horizon)
        if p.group_by:
            newest = self._groups(ctx, out, str(table), upto, p)
        else:
            newest = ctx.warehouse.newest(table, p.time_column, upto)
            self._judge_newest(ctx, out, str(table), (), newest, p)
        count_future(out, ctx.warehouse, table, p.time_column, horizon, p.future_tolerance,
                     where, p.group_by)
        if p.min_rows is not None or p.max_rows is not None:
            (bucket,) = ctx.warehouse.count_rows(
                table, p.time_column, ctx.now - p.window, ctx.now, p.window, where
            )
            out.metric("rows_in_window", bucket.rows)
            self._judge_rows(out, str(table), bucket.rows, p)
        newest_text = f"newest row {human(ctx.now - newest)} old" if newest else "empty"
        return out.result(f"{table}: {newest_text}")

    def _judge_newest(self, ctx: CheckContext, out: Outcome, table: str, group: Group,
                      newest: datetime | None, p: FreshnessParams) -> None:
        """One table's (or group's) newest row; a stale one is recorded as a cause."""
        label = f"{table} ({group_label(group)})" if group else table
        tags = tuple(f"{k}:{v}" for k, v in group)
        before = len(out.findings)
        if newest is None:
            out.add_for(group, Status.FAIL, "TABLE_EMPTY", f"{label} has no rows",
                        max_age=str(p.max_age))
        else:
            age = ctx.now - newest
            out.metric("age_seconds", age.total_seconds(), *tags)
            self._judge_age(out, label, group, age, p)
        stale = [f for f in out.findings[before:] if f.status is Status.FAIL]
        if stale:
            out.causes.append(self._cause(ctx, table, group, stale[0].message))

    def _cause(self, ctx: CheckContext, table: str, group: Group, title: str) -> Cause:
        """A stale table (or group) explains a volume drop or a thin window downstream of it
        until a poll or two after this one."""
        p = self.monitor
        every = p.schedule.every or timedelta(hours=1)
        return Cause(kind="stale", monitor_id=p.id, warehouse=p.warehouse, table=table,
                     group=group, at=ctx.now, expires=ctx.now + max(2 * every,
                                                                     timedelta(hours=2)),
                     title=title, aggregation_key=f"watchdog:{alert_key(p.id, table, group)}")

    def _groups(self, ctx: CheckContext, out: Outcome, table: str,
                bounded: list[Predicate], p: FreshnessParams) -> datetime | None:
        """Each group's newest row within ``group_lookback``, in one grouped query."""
        start = ctx.now - p.group_lookback
        end = ctx.now + p.future_tolerance
        rows = ctx.warehouse.count_successes(
            ctx.warehouse.table(p.table), p.time_column, start, end, end - start,
            [Predicate(column=p.time_column, op="is not null")], p.group_by, bounded)
        newest: dict[Group, datetime | None] = {}
        for w in rows:
            group = tuple((c, str(v)) for c, v in zip(p.group_by, w.group, strict=True))
            if w.last_success is not None:
                newest[group] = max(w.last_success, newest.get(group) or w.last_success)
        if not newest:
            out.add(Status.FAIL, "TABLE_EMPTY",
                    f"{table} has no rows in the last {human(p.group_lookback)}")
            out.causes.append(self._cause(ctx, table, (), f"{table} has no rows"))
            return None
        for group, last in sorted(newest.items()):
            self._judge_newest(ctx, out, table, group, last, p)
        return max(t for t in newest.values() if t is not None)

    @staticmethod
    def _judge_age(out: Outcome, table: str, group: Group, age: timedelta,
                   p: FreshnessParams) -> None:
        details = {"age_seconds": round(age.total_seconds()), "max_age": human(p.max_age)}
        if age > p.max_age:
            out.add_for(group, Status.FAIL, "DATA_STALE",
                        f"{table}: newest row is {human(age)} old (limit {human(p.max_age)})",
                        **details)
        elif p.warn_age is not None and age > p.warn_age:
            out.add_for(group, Status.WARN, "DATA_STALE",
                        f"{table}: newest row is {human(age)} old "
                        f"(warn after {human(p.warn_age)})", **details)
        else:
            out.add_for(group, Status.OK, "FRESH", f"newest row {human(age)} old", **details)

    @staticmethod
    def _judge_rows(out: Outcome, table: str, rows: int, p: FreshnessParams) -> None:
        window = human(p.window)
        if p.min_rows is not None and rows < p.min_rows:
            out.add(Status.FAIL, "ROWS_BELOW_MIN",
                    f"{table}: {rows} rows in the last {window} (minimum {p.min_rows})",
                    rows=rows, min_rows=p.min_rows)
        elif p.max_rows is not None and rows > p.max_rows:
            out.add(Status.FAIL, "ROWS_ABOVE_MAX",
                    f"{table}: {rows} rows in the last {window} (maximum {p.max_rows})",
                    rows=rows, max_rows=p.max_rows)
        else:
            out.add(Status.OK, "ROWS_OK", f"{rows} rows in the last {window}", rows=rows)
