"""``kind: pipeline``'s settings, apart from the check so that validating a config does not
import the check (it runs in the monitor's thread)."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from pydantic import Field

from watchdog.config.models import Duration, MonitorConfig


class PipelineParams(MonitorConfig):
    """``kind: pipeline``: the table whose writers' runs to judge, and when one is late."""

    kind: str = "pipeline"
    RUNS_FIRST: ClassVar[bool] = True
    table: str = Field(description="The table whose writers to watch, e.g. main.features.")
    every: Duration | None = Field(None, description=(
        "How often a writer's run usually finishes. Default: learned, the median gap "
        "between its past finishes."))
    grace: Duration = Field(timedelta(minutes=30), description=(
        "How long past its usual finish a run may be before it is late."))
    min_history: int = Field(3, ge=1, le=50, description=(
        "Gaps between past finishes needed before lateness is learned."))
    recover_after: int | None = Field(1, ge=1, le=100, description=(
        "Clean runs in a row that resolve an open alert: one good pipeline run."))
