"""``kind: volume``'s settings, apart from the check so that validating a config does not
import the check (it runs in the monitor's thread)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

import pydantic
from pydantic import BeforeValidator, Field

from watchdog.checks.volume.baseline import Thresholds
from watchdog.config.models import Duration, Filter, Holidays, MonitorConfig

WEEK = timedelta(days=7)


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, dict) else value


class VolumeParams(MonitorConfig):
    """``kind: volume``: successful predictions per window against seasonal baselines."""

    kind: str = "volume"
    table: str = Field(description="Prediction log table, e.g. main.predictions.")
    time_column: str = Field(description="When the prediction was made.")
    success: Annotated[tuple[Filter, ...], BeforeValidator(_as_list)] = Field(
        min_length=1, description="What a successful prediction is: one filter or a list "
        "(all must hold), e.g. {column: status, value: success}.")
    where: tuple[Filter, ...] = Field((), description="Only rows matching all these filters.")
    group_by: tuple[str, ...] = Field((), max_length=4,
                                      description="Judge each group apart (model, version).")
    window: Duration = Field(timedelta(hours=1), description="Window size; divides a week.")
    lateness: Duration = Field(timedelta(minutes=15),
                               description="A window is judged this long after it ends.")
    lookback: Duration | None = Field(None, description="History read per poll; default "
                                      "baseline_weeks + 1 weeks.")
    baseline_weeks: int = Field(4, ge=1, le=12, description="Comparable windows: the same "
                                "window in this many previous weeks.")
    min_baseline_windows: int = Field(2, ge=1, description="Clean comparable windows needed.")
    direction: Literal["drop", "spike", "both"] = "drop"
    min_change_pct: float = Field(30.0, gt=0, le=1000, description="Relative change, percent.")
    min_z: float = Field(3.5, ge=0, description="Robust z-score (square-root scale).")
    min_expected: float = Field(10.0, ge=0, description="Judge only windows expecting this many.")
    week_over_week: bool = Field(True, description="Last week's window must agree too.")
    max_silence: Duration | None = Field(None, description="FAIL when the last successful "
                                         "prediction is older; default 2 windows + lateness.")
    step: Duration | None = Field(None, description=(
        "How far the judged window slides between judgements: each poll judges the window "
        "ending at the last step before now - lateness, so a drop is seen within a step of "
        "lateness, not at the end of an aligned window. Default: window / 4 (at least 1m)."))
    sustained: bool = Field(True, description=(
        "Also catch a drop too shallow for any one window but sustained over several (a "
        "lower CUSUM of their z-scores): a -50 % night at low volume."))
    holidays: Holidays | None = Field(None, description=(
        "Days neither judged nor used as baselines: a list of dates, or a calendar "
        "{country: US, subdivisions: [CA], dates: [...]}. Default: the top-level holidays."))

    @pydantic.model_validator(mode="after")
    def _consistent(self) -> VolumeParams:
        if self.window < timedelta(minutes=1) or WEEK % self.window:
            raise ValueError("window must be at least 1m and divide a week (15m, 1h, 6h, 1d)")
        if self.min_baseline_windows > self.baseline_weeks:
            raise ValueError("min_baseline_windows must not exceed baseline_weeks")
        if self.lookback is not None and self.lookback < WEEK + self.window:
            raise ValueError("lookback must cover at least a week and a window")
        if self.lateness < timedelta(0):
            raise ValueError("lateness must not be negative")
        if self.step is not None and (self.step < timedelta(minutes=1) or self.window % self.step
                                      or self.step > self.window):
            raise ValueError("step must be at least 1m, at most the window, and divide it")
        return self

    @property
    def slide(self) -> timedelta:
        """The step between judged windows."""
        if self.step is not None:
            return self.step
        quarter = self.window / 4
        return quarter if quarter >= timedelta(minutes=1) and not WEEK % quarter \
            and not quarter.total_seconds() % 60 else self.window

    @property
    def history(self) -> timedelta:
        return self.lookback or (self.baseline_weeks + 1) * WEEK

    @property
    def silence_limit(self) -> timedelta:
        return self.max_silence or 2 * self.window + self.lateness

    def thresholds(self) -> Thresholds:
        return Thresholds(
            direction=self.direction, min_change=self.min_change_pct / 100, min_z=self.min_z,
            min_expected=self.min_expected, week_over_week=self.week_over_week,
            weeks=self.baseline_weeks, min_windows=self.min_baseline_windows,
        )
