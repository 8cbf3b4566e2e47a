"""``kind: backtest``'s settings: what is joined and scored, and what a degradation is."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

import pydantic
from pydantic import AfterValidator, BeforeValidator, Field

from watchdog.checks.backtest.metrics import (
    AUROC_RESOLUTION,
    CLASSIFICATION,
    REGRESSION,
)
from watchdog.config.models import Duration, MonitorConfig, Strict

#: Metrics without a better direction: a floor or a ceiling, never a drop.
NO_DIRECTION = frozenset({"mean_error", "positive_rate", "label_rate"})


def _listed(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


Key = Annotated[tuple[str, ...], BeforeValidator(_listed)]


class PredictionsConfig(Strict):
    """The prediction log: one row per prediction."""

    table: str = Field(description="Prediction log table, e.g. main.predictions.")
    time_column: str = Field(description="When the prediction was made (places it in a window).")
    key: Key = Field(min_length=1, description="Column(s) a label is joined on.")
    score: str = Field(description="The model's output: a probability (classification) "
                       "or the predicted value (regression).")


class LabelsConfig(Strict):
    """The ground truth, arriving later."""

    table: str = Field(description="Label table, e.g. main.ground_truth.")
    key: Key = Field(min_length=1, description="Column(s) matching predictions.key, in order.")
    label: str = Field(description="The true outcome (classification: not 0 / true is "
                       "positive; regression: the value).")
    time_column: str | None = Field(None, description="When the label was observed (for the "
                                    "label delay metrics).")


class Limit(Strict):
    """One metric's threshold: an absolute floor or ceiling, or a drop from the baseline."""

    min: float | None = Field(None, description="Degraded below this.")
    max: float | None = Field(None, description="Degraded above this.")
    max_drop: float | None = Field(None, gt=0, description="Degraded when worse than the "
                                   "baseline by more than this (absolute).")

    @pydantic.model_validator(mode="after")
    def _some(self) -> Limit:
        if self.min is None and self.max is None and self.max_drop is None:
            raise ValueError("give min, max or max_drop")
        return self


def _midnight(value: Any) -> Any:
    """A YAML date is that day's midnight UTC."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return value


def _utc(value: datetime) -> datetime:
    """A time without a zone is UTC; one with a zone is converted to UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Moment = Annotated[datetime, BeforeValidator(_midnight), AfterValidator(_utc)]


class ReferenceConfig(Strict):
    """A fixed reference window of prediction time (the weeks after deploy, the validation
    period in production): its metrics per group are the baseline of ``max_drop``."""

    start: Moment = Field(description="First moment of the reference (a date: its midnight "
                          "UTC).")
    end: Moment = Field(description="End of the reference, excluded; it must have ended at "
                        "least feedback_delay before a run (its labels have arrived).")

    @pydantic.model_validator(mode="after")
    def _ordered(self) -> ReferenceConfig:
        if self.start >= self.end:
            raise ValueError(f"reference: start {self.start:%Y-%m-%d %H:%M} must be before "
                             f"end {self.end:%Y-%m-%d %H:%M}")
        return self


class BacktestParams(MonitorConfig):
    """``kind: backtest``: model quality per window and group, from labels that arrive later."""

    kind: str = "backtest"
    predictions: PredictionsConfig
    labels: LabelsConfig
    task: Literal["classification", "regression"] = "classification"
    threshold: float = Field(0.5, description="Classification: score >= threshold is the "
                             "positive class.")
    group_by: Key = Field((), max_length=4, description="Columns of the predictions table "
                          "judged apart and compared side by side (model_version).")
    window: Duration = Field(timedelta(days=1), description="Judged window of prediction time.")
    feedback_delay: Duration = Field(description="Only windows that ended at least this long "
                                     "ago are judged (their labels must have arrived).")
    lookback_windows: int = Field(7, ge=1, le=90, description="Label-complete windows read per "
                                  "run: the reference of max_drop without a declared baseline, "
                                  "the usual label coverage, and the whole-period metrics.")
    min_labelled_rows: int = Field(100, ge=1, description="A window with fewer labelled "
                                   "predictions is SKIPPED, never judged.")
    min_coverage: float | None = Field(None, gt=0, le=1, description="FAIL when fewer of the "
                                       "window's predictions have a label (declared floor).")
    coverage_drop: float | None = Field(0.5, gt=0, le=1, description="FAIL when the label "
                                        "coverage falls below (1 - this) × its median over the "
                                        "earlier windows; null: off.")
    baseline: dict[str, float] = Field(default_factory=dict, description="Declared metric "
                                       "values (validation at training time) for max_drop; "
                                       "else the reference window; else the earlier windows "
                                       "of the lookback, pooled.")
    reference: ReferenceConfig | None = Field(None, description="A fixed reference window "
                                              "({start, end}): the baseline of max_drop per "
                                              "group for the metrics without a declared "
                                              "baseline (a declared one wins).")
    thresholds: dict[str, Limit] = Field(default_factory=dict, description="metric → "
                                         "{min: x} / {max: x} / {max_drop: x}.")
    confidence: float = Field(0.95, gt=0.5, lt=1, description="Two-sided level of the "
                              "intervals: degraded only when the interval excludes the threshold.")
    max_calibration_error: float = Field(0.05, gt=0, le=1, description="Estimates of the "
                                         "windows waiting for labels are reported as "
                                         "unreliable when the scores' expected calibration "
                                         "error over the label-complete windows is above this.")
    auroc_resolution: int = Field(AUROC_RESOLUTION, ge=100, le=1_000_000, description="Score "
                                  "buckets per unit of score for AUROC (see docs for the bound).")

    @property
    def metric_names(self) -> tuple[str, ...]:
        return CLASSIFICATION if self.task == "classification" else REGRESSION

    @property
    def metrics(self) -> tuple[str, ...]:
        """The metrics dashboards draw: the thresholded ones, else the task's main ones."""
        if self.thresholds:
            return tuple(self.thresholds)
        return ("precision", "recall", "auroc") if self.task == "classification" \
            else ("rmse", "mae", "r2")

    @pydantic.model_validator(mode="after")
    def _consistent(self) -> BacktestParams:
        if len(self.predictions.key) != len(self.labels.key):
            raise ValueError("labels.key must name as many columns as predictions.key")
        if self.window < timedelta(minutes=1):
            raise ValueError("window must be at least 1m")
        if self.feedback_delay < timedelta(0):
            raise ValueError("feedback_delay must not be negative")
        known = self.metric_names
        for field, names in (("thresholds", self.thresholds), ("baseline", self.baseline)):
            unknown = sorted(set(names) - set(known))
            if unknown:
                raise ValueError(f"{field}: unknown {self.task} metric(s) {unknown}; "
                                 f"choose from {list(known)}")
        for name, limit in self.thresholds.items():
            if limit.max_drop is not None and name in NO_DIRECTION:
                raise ValueError(f"thresholds.{name}: max_drop needs a better direction; "
                                 f"use min or max")
        return self

    def watched_tables(self) -> tuple[str, ...]:
        return (self.predictions.table, self.labels.table)
