"""The daemon: one APScheduler 3.11 job per monitor. The only module importing apscheduler.

Jobs coalesce, never overlap (max_instances=1), get jitter and a misfire grace time.
SIGTERM/SIGINT stop the scheduler after the running checks finish.
"""

from __future__ import annotations

import logging
import signal
from datetime import UTC, datetime
from typing import Any

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobEvent,
    JobExecutionEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from watchdog.config.models import MonitorConfig, Schedule
from watchdog.daemon.runner import Runner
from watchdog.models import AlertEvent, Emission, Metric

log = logging.getLogger("watchdog.daemon")

HEARTBEAT_JOB = "__watchdog_heartbeat__"


def check_cron(expr: str, timezone: str = "UTC") -> None:
    """Raise ValueError with APScheduler's reason when ``expr`` is not a valid crontab."""
    try:
        CronTrigger.from_crontab(expr, timezone=timezone)
    except (ValueError, LookupError) as exc:
        raise ValueError(f"invalid cron expression {expr!r}: {exc}") from None


def trigger(schedule: Schedule) -> BaseTrigger:
    """The APScheduler trigger of a monitor's schedule."""
    jitter = int(schedule.jitter.total_seconds()) or None
    if schedule.cron is not None:
        cron = CronTrigger.from_crontab(schedule.cron, timezone=schedule.timezone)
        cron.jitter = jitter  # from_crontab takes no jitter; the attribute is the trigger's own
        return cron
    assert schedule.every is not None
    return IntervalTrigger(seconds=schedule.every.total_seconds(), jitter=jitter,
                           timezone=UTC)


class Daemon:
    """Schedules every monitor of a Runner's config and reports on its own health."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        daemon = runner.config.daemon
        self.scheduler = BlockingScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=daemon.workers)},
            job_defaults={"coalesce": True, "max_instances": 1,
                          "misfire_grace_time": int(daemon.misfire_grace.total_seconds())},
            timezone=UTC,
        )
        self.scheduler.add_listener(
            self._on_event,
            EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES,
        )
        for monitor in runner.config.monitors:
            self._add(monitor)
        self.scheduler.add_job(self._heartbeat, IntervalTrigger(
            seconds=daemon.heartbeat.total_seconds(), timezone=UTC),
            id=HEARTBEAT_JOB, next_run_time=datetime.now(UTC))

    def _add(self, monitor: MonitorConfig) -> None:
        self.scheduler.add_job(
            self.runner.run_monitor, trigger(monitor.schedule), args=(monitor.id,),
            id=monitor.id, name=f"{monitor.kind}:{monitor.id}",
            next_run_time=datetime.now(UTC),
        )

    def _heartbeat(self) -> None:
        self.runner.emit(self.runner.heartbeat())

    def _on_event(self, event: JobEvent) -> None:
        if event.job_id == HEARTBEAT_JOB:
            return
        env = (f"env:{self.runner.config.env}", f"monitor:{event.job_id}")
        if event.code in (EVENT_JOB_MISSED, EVENT_JOB_MAX_INSTANCES):
            log.warning("monitor %s missed a run (previous run still going or daemon busy)",
                        event.job_id)
            metric = Metric(name="watchdog.jobs.missed", value=1, tags=env, type="count")
            self.runner.emit(Emission(metrics=(metric,)))
        elif event.code == EVENT_JOB_ERROR:
            assert isinstance(event, JobExecutionEvent)
            self._job_crashed(event, env)

    def _job_crashed(self, event: JobExecutionEvent, tags: tuple[str, ...]) -> None:
        """The runner itself failed (e.g. the state store is down): tell someone."""
        text = f"{type(event.exception).__name__}: {event.exception}"
        log.error("job %s crashed: %s", event.job_id, text)
        evt = AlertEvent(
            title=f"[ERROR] watchdog job {event.job_id} crashed",
            text=f"The watchdog could not run monitor `{event.job_id}`: {text}\n"
                 "Check the watchdog's logs and its state store.",
            alert_type="error", aggregation_key=f"watchdog:job:{event.job_id}", tags=tags,
        )
        metric = Metric(name="watchdog.jobs.failure", value=1, tags=tags, type="count")
        self.runner.emit(Emission(events=(evt,), metrics=(metric,)))

    def _stop(self, signum: int, _frame: Any) -> None:
        log.info("received %s: stopping after running checks finish",
                 signal.Signals(signum).name)
        self.scheduler.shutdown(wait=True)

    def run(self) -> None:
        """Block until SIGTERM/SIGINT; running checks are allowed to finish."""
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        log.info("watchdog daemon started: %d monitors", len(self.runner.config.monitors))
        self.scheduler.start()
        log.info("watchdog daemon stopped")
