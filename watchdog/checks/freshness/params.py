"""``kind: freshness``'s settings, apart from the check so that validating a config does not
import the check (it runs in the monitor's thread)."""

from __future__ import annotations

from datetime import timedelta

import pydantic
from pydantic import Field

from watchdog.config.models import Duration, Filter, MonitorConfig


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
    group_by: tuple[str, ...] = Field((), max_length=4, description=(
        "Judge the newest row of each group apart (e.g. [model]): one model's pipeline "
        "stopping is its own alert, for its owners."))
    group_lookback: Duration = Field(timedelta(days=7), description=(
        "With group_by: groups are those with rows in this long (one query)."))
    future_tolerance: Duration = Field(timedelta(minutes=5), description=(
        "Rows dated further than this after now are not read as the newest; they are "
        "counted as FUTURE_ROWS (a writer's clock skew)."))

    @pydantic.model_validator(mode="after")
    def _ordered(self) -> FreshnessParams:
        if self.warn_age is not None and self.warn_age >= self.max_age:
            raise ValueError("warn_age must be shorter than max_age")
        if None not in (self.min_rows, self.max_rows) and self.min_rows > self.max_rows:  # type: ignore[operator]
            raise ValueError("min_rows must not exceed max_rows")
        return self
