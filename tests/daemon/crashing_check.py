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


class AnnouncingCheck(Check):
    """Composes its own one-shot event each run, like a schema-change check; fails when the
    monitor's description says so, to exercise the could-not-run alert."""

    KIND = "announce"
    Params = MonitorConfig
    LIFECYCLE_ALERTS = False

    def run(self, ctx: CheckContext) -> CheckResult:
        from watchdog.errors import WarehouseUnavailable
        from watchdog.models import AlertEvent, Status

        if "fail" in self.monitor.description:
            raise WarehouseUnavailable(self.monitor.warehouse, "connection refused")
        event = AlertEvent(title="column dropped", text="t", alert_type="error",
                           aggregation_key="watchdog:schema:main.t", tags=("change:drop",))
        return CheckResult(monitor_id=self.monitor.id, kind=self.KIND, status=Status.FAIL,
                           summary="1 breaking change", events=(event,))


class MisnamingCheck(Check):
    """Returns its result under a monitor id that does not exist: the runner itself fails
    on it (a job crash, not a check crash)."""

    KIND = "misname"
    Params = MonitorConfig

    def run(self, ctx: CheckContext) -> CheckResult:
        from watchdog.models import Status

        return CheckResult(monitor_id="no-such-monitor", kind=self.KIND, status=Status.OK,
                           summary="fine")
