"""``kind: drift``'s settings: the monitor's params, its reference and its thresholds."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

import pydantic
from pydantic import Field

from watchdog.config.models import Duration, Filter, MonitorConfig, Strict

NUMERIC_STATISTICS = frozenset({"psi", "jensen_shannon", "ks_statistic", "ks_pvalue",
                                "wasserstein"})
CATEGORICAL_STATISTICS = frozenset({"psi", "jensen_shannon", "chi2_pvalue", "l_infinity"})


class ReferenceConfig(Strict):
    """What "normal" is: a training table, or a fixed past window of a table."""

    table: str = Field(description="Reference table, e.g. main.training_reference.")
    time_column: str | None = Field(None, description="Time column of a reference window.")
    start: datetime | None = Field(None, description="Window start (absolute).")
    end: datetime | None = Field(None, description="Window end (absolute, exclusive).")
    start_ago: Duration | None = Field(None, description="Window start, relative to the "
                                       "time the profile is built (fixed in the profile).")
    end_ago: Duration | None = Field(None, description="Window end, relative likewise.")
    where: tuple[Filter, ...] = Field((), description="Only reference rows matching these.")

    @pydantic.model_validator(mode="after")
    def _window(self) -> ReferenceConfig:
        bounds = (self.start, self.end, self.start_ago, self.end_ago)
        if any(b is not None for b in bounds) and not self.time_column:
            raise ValueError("a reference window needs reference.time_column")
        if self.start is not None and self.start_ago is not None:
            raise ValueError("give either start or start_ago")
        if self.end is not None and self.end_ago is not None:
            raise ValueError("give either end or end_ago")
        return self


class Thresholds(Strict):
    """Statistic → threshold, per feature type. p-values drift below, the rest at or above."""

    numeric: dict[str, float] = Field(default_factory=lambda: {"psi": 0.2})
    categorical: dict[str, float] = Field(default_factory=lambda: {"psi": 0.2})
    missing_rate_change: float | None = Field(
        0.05, description="Drift when the missing rate moves by at least this (absolute).")

    @pydantic.model_validator(mode="after")
    def _known(self) -> Thresholds:
        for kind, known, given in (("numeric", NUMERIC_STATISTICS, self.numeric),
                                   ("categorical", CATEGORICAL_STATISTICS, self.categorical)):
            unknown = set(given) - known
            if unknown:
                raise ValueError(f"unknown {kind} statistic(s) {sorted(unknown)}; "
                                 f"choose from {sorted(known)}")
        return self


class DriftParams(MonitorConfig):
    """``kind: drift``: the current window of ``table`` against a reference profile."""

    kind: str = "drift"
    table: str = Field(description="Table holding the current data (features or predictions).")
    time_column: str = Field(description="Time column that places a row in the window.")
    window: Duration = Field(timedelta(days=1), description="The current window.")
    where: tuple[Filter, ...] = Field((), description="Only rows matching all these filters.")
    reference: ReferenceConfig
    features: Literal["all"] | tuple[str, ...] = Field(
        "all", description="Feature columns, or all numeric/string/boolean columns.")
    exclude: tuple[str, ...] = Field((), description="Columns left out of `features: all`.")
    numeric: tuple[str, ...] = Field((), description="Columns to treat as numeric.")
    categorical: tuple[str, ...] = Field((), description="Columns to treat as categorical.")
    prediction_columns: tuple[str, ...] = Field((), description="Model outputs to drift-check.")
    attribution_columns: dict[str, str] = Field(
        default_factory=dict, description="feature → its attribution (e.g. SHAP) column.")
    mode: Literal["bins", "sample"] = Field(
        "bins", description="bins: buckets only; sample: also exact KS/Wasserstein on a sample.")
    bins: int = Field(10, ge=2, le=100, description="Quantile bins of numeric features.")
    ks_resolution: int = Field(
        20_000, ge=0, le=100_000, description="Precision of the fine grid per numeric feature "
        "for KS and Wasserstein in bins mode: 1.28 x ks_resolution buckets, none holding more "
        "than ~1.5/ks_resolution of normal data (the KS error); 0: from the PSI bins.")
    max_categories: int = Field(50, ge=1, le=1000, description="Top-K categories kept.")
    sample_size: int = Field(5000, ge=100, le=100_000, description="Bounded sample size.")
    thresholds: Thresholds = Field(default_factory=Thresholds)
    fail_share: float = Field(0.5, gt=0, le=1, description="FAIL at this share of drifted "
                              "features (any drifted feature is a WARN).")
    min_rows: int = Field(100, ge=1, description="Skip windows with fewer rows.")
    early_window: Duration | None = Field(timedelta(hours=6), description=(
        "Also judge this most recent part of the window, so that a shift that began "
        "recently is reported before it dominates the whole window; null: off."))
    early_min_rows: int = Field(300, ge=1, description=(
        "The early window is judged only with at least this many rows."))
    unseen_share: float | None = Field(0.01, gt=0, le=1, description=(
        "UNSEEN_CATEGORY when at least this share of a categorical column's values were "
        "never seen in the reference (a reference with every value profiled); null: off."))
    wow_increase: float | None = Field(
        0.5, description="WARN when a judged statistic rose by this share week over week.")
    attribution_change: float | None = Field(
        0.5, description="WARN when a feature's mean |attribution| moved by this share.")
