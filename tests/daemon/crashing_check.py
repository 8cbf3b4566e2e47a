"""A check plugin with a bug, registered by a test to prove the runner contains it."""

from __future__ import annotations

from watchdog.checks.base import Check, CheckContext
from watchdog.config.models import MonitorConfig
from watchdog.models import CheckResult


class CrashingCheck(Check):
    KIND = "crash"
    Params = MonitorConfig

    def run(self, ctx: CheckContext) -> CheckResult:
        return 1 / 0  # type: ignore[return-value]
