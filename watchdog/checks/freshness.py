"""Freshness and row count: the age of a table's newest row, and its rows in the last window."""

from __future__ import annotations

from datetime import timedelta

import pydantic
from pydantic import Field

from watchdog.checks.base import Check, CheckContext, Outcome
from watchdog.config.models import Duration, Filter, MonitorConfig
from watchdog.models import CheckResult, Status


class FreshnessParams(MonitorConfig):
    """``kind: freshness``: how old the newest row may be, and how many rows a window needs."""

    kind: str = "freshness"
    table: str = Field(description="Table to watch, e.g. main.predictions.")
    time_column: str = Field(description="Timestamp column that says when a row arrived.")
    max_age: Duration = Field(description="FAIL when the newest row is older than this.")
    warn_age: Duration | None = Field(None, description="WARN when older than this.")
    window: Duration = Field(timedelta(hours=1), description="Window for the row count.")
    min_rows: int | None = Field(None, ge=0, description="FAIL when the window has fewer rows.")
    max_rows: int | None = Field(None, ge=0, description="FAIL when the window has more rows.")
    where: tuple[Filter, ...] = Field((), description="Only rows matching all these filters.")

    @pydantic.model_validator(mode="after")
    def _ordered(self) -> FreshnessParams:
        if self.warn_age is not None and self.warn_age >= self.max_age:
            raise ValueError("warn_age must be shorter than max_age")
        if None not in (self.min_rows, self.max_rows) and self.min_rows > self.max_rows:  # type: ignore[operator]
            raise ValueError("min_rows must not exceed max_rows")
        return self


def human(delta: timedelta) -> str:
    """``timedelta(hours=5, minutes=3)`` → ``"5h 3m"``."""
    seconds = int(abs(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{days}d" * bool(days), f"{hours}h" * bool(hours), f"{minutes}m" * bool(minutes)]
    text = " ".join(p for p in parts if p) or f"{secs}s"
    return f"-{text}" if delta.total_seconds() < 0 else text


class FreshnessCheck(Check):
    """FAIL when data stops arriving (stale newest row) or a window has too few/many rows."""

    KIND = "freshness"
    Params = FreshnessParams

    def run(self, ctx: CheckContext) -> CheckResult:
        p = self.monitor
        assert isinstance(p, FreshnessParams)
        table = ctx.warehouse.table(p.table)
        where = [f.predicate() for f in p.where]
        out = self.outcome(str(table))
        newest = ctx.warehouse.newest(table, p.time_column, where)
        if newest is None:
            out.add(Status.FAIL, "TABLE_EMPTY", f"{table} has no rows", max_age=str(p.max_age))
        else:
            age = ctx.now - newest
            out.metric("age_seconds", age.total_seconds())
            self._judge_age(out, str(table), age, p)
        if p.min_rows is not None or p.max_rows is not None:
            (bucket,) = ctx.warehouse.count_rows(
                table, p.time_column, ctx.now - p.window, ctx.now, p.window, where
            )
            out.metric("rows_in_window", bucket.rows)
            self._judge_rows(out, str(table), bucket.rows, p)
        newest_text = f"newest row {human(ctx.now - newest)} old" if newest else "empty"
        return out.result(f"{table}: {newest_text}")

    @staticmethod
    def _judge_age(out: Outcome, table: str, age: timedelta, p: FreshnessParams) -> None:
        details = {"age_seconds": round(age.total_seconds()), "max_age": human(p.max_age)}
        if age > p.max_age:
            out.add(Status.FAIL, "DATA_STALE",
                    f"{table}: newest row is {human(age)} old (limit {human(p.max_age)})",
                    **details)
        elif p.warn_age is not None and age > p.warn_age:
            out.add(Status.WARN, "DATA_STALE",
                    f"{table}: newest row is {human(age)} old (warn after {human(p.warn_age)})",
                    **details)
        else:
            out.add(Status.OK, "FRESH", f"newest row {human(age)} old", **details)

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
