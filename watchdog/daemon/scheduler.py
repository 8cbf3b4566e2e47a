"""The daemon: one APScheduler 3.11 job per monitor. The only module importing apscheduler.

Jobs coalesce, never overlap (max_instances=1), get jitter and a misfire grace time.
SIGTERM/SIGINT stop the scheduler after the running checks finish.

Several daemons may share one state store (two replicas for availability): they elect one
through the store's lease (``state/lease.py``). Only the holder runs monitors; each job
renews the lease before it runs, a lease job renews it between runs, and a standby takes
over once the leader has not renewed for ``daemon.leader_lease``. A leader that stops
cleanly releases the lease at once.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
import uuid
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
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from watchdog.config.models import MonitorConfig, Schedule
from watchdog.daemon.runner import Runner
from watchdog.errors import StateError
from watchdog.models import AlertEvent, Emission, Metric

log = logging.getLogger("watchdog.daemon")

HEARTBEAT_JOB = "__watchdog_heartbeat__"
LEASE_JOB = "__watchdog_lease__"
#: The store's lease that says which daemon runs the monitors.
LEASE = "scheduler"


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
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.leader: bool | None = None  # None until the first lease tick says
        self._lease_ttl = daemon.leader_lease
        self._lease_lock = threading.Lock()
        self._outage: float | None = None  # monotonic start of a state-store outage
        self._outage_lock = threading.Lock()
        self._busy = 0  # monitor jobs running now
        self._idle = threading.Condition()
        # the scheduler's own modules load here: validating a config's cron (this module's
        # check_cron) needs only the trigger
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.blocking import BlockingScheduler

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
        self.scheduler.add_job(self.lease_tick, IntervalTrigger(
            seconds=max(daemon.leader_lease.total_seconds() / 3, 1), timezone=UTC),
            id=LEASE_JOB)

    # -- the lease ----------------------------------------------------------------------

    def lease_tick(self) -> bool:
        """Take or renew the leader lease; says so in the log when the role changes (and
        once at start, either way). One tick at a time: two racing would disagree."""
        with self._lease_lock:
            try:
                leader: bool = self.runner.store.acquire_lease(LEASE, self.holder,
                                                               self._lease_ttl)
            except StateError as exc:  # no store, no leading: results could not be kept
                self._store_down(exc)
                return False
            self._store_up()
            if leader != self.leader:
                if leader:
                    log.info("this daemon (%s) now runs the monitors", self.holder)
                else:
                    log.info("standing by: %s runs the monitors", self._holder())
            self.leader = leader
            return leader

    def _holder(self) -> str:
        try:
            found = self.runner.store.lease_holder(LEASE)
        except StateError:
            found = None
        return f"{found[0]} (lease until {found[1]:%H:%M:%S} UTC)" if found \
            else "another daemon"

    def _clear_dead_predecessor(self) -> None:
        """A leader on this host whose process is gone (killed, or this container's previous
        life: same pid) would make this daemon wait out its lease: free it now."""
        try:
            found = self.runner.store.lease_holder(LEASE)
            if found is None or found[0] == self.holder:
                return
            host, _, rest = found[0].partition(":")
            pid = rest.partition(":")[0]
            if host != socket.gethostname() or not pid.isdigit() or _alive(int(pid)):
                return
            self.runner.store.release_lease(LEASE, found[0])
            log.info("the previous daemon on this host (%s) is gone: its lease is freed",
                     found[0])
        except StateError as exc:
            self._store_down(exc)

    def release(self) -> None:
        """Give the lease up (a clean stop) so that a standby takes over at its next job."""
        if self.leader:
            try:
                self.runner.store.release_lease(LEASE, self.holder)
            except StateError as exc:
                log.error("leader lease not released: %s", exc)
            self.leader = False

    # -- jobs ---------------------------------------------------------------------------

    def run_monitor(self, monitor_id: str) -> None:
        """A monitor's job: run it if this daemon leads, else stand by. A state store that
        is down loses nothing: the run commits nothing and runs again next time."""
        if self.runner.stopping.is_set():
            return
        with self._idle:
            self._busy += 1
        try:
            if self.lease_tick():
                self.runner.run_monitor(monitor_id)
            else:
                log.debug("monitor %s: standing by", monitor_id)
        except StateError as exc:
            self._store_down(exc)
            metric = Metric(name="watchdog.jobs.failure", value=1, type="count",
                            tags=(f"env:{self.runner.config.env}", f"monitor:{monitor_id}"))
            self.runner.send_direct(Emission(metrics=(metric,)))
        finally:
            with self._idle:
                self._busy -= 1
                self._idle.notify_all()

    def _add(self, monitor: MonitorConfig) -> None:
        self.scheduler.add_job(
            self.run_monitor, trigger(monitor.schedule), args=(monitor.id,),
            id=monitor.id, name=f"{monitor.kind}:{monitor.id}",
            next_run_time=datetime.now(UTC),
        )

    def _heartbeat(self) -> None:
        """``watchdog.up`` (through the outbox) and this daemon's heartbeat in the store; while
        the store is down, ``watchdog.up`` CRITICAL goes straight to the sinks instead."""
        try:
            self.runner.store.beat(self.holder, 3 * self.runner.config.daemon.heartbeat)
            self.runner.emit(self.runner.heartbeat())
        except StateError as exc:
            self._store_down(exc)
            self.runner.send_direct(self.runner.heartbeat(
                f"watchdog cannot work: its state store is unreachable ({exc.message})"))
            return
        self._store_up()

    # -- state-store outages ------------------------------------------------------------

    def _store_down(self, exc: StateError) -> None:
        """Said once per outage, in one line."""
        with self._outage_lock:
            if self._outage is None:
                self._outage = time.monotonic()
                log.error("state store unreachable: %s; monitors wait until it is back "
                          "(watchdog.up is CRITICAL meanwhile)", exc)

    def _store_up(self) -> None:
        with self._outage_lock:
            if self._outage is None:
                return
            took, self._outage = time.monotonic() - self._outage, None
            log.info("state store reachable again after %.0fs; monitors run again", took)

    # -- self-monitoring ----------------------------------------------------------------

    def _on_event(self, event: JobEvent) -> None:
        if event.job_id in (HEARTBEAT_JOB, LEASE_JOB):
            return
        env = (f"env:{self.runner.config.env}", f"monitor:{event.job_id}")
        if event.code in (EVENT_JOB_MISSED, EVENT_JOB_MAX_INSTANCES):
            log.warning("monitor %s missed a run (previous run still going or daemon busy)",
                        event.job_id)
            metric = Metric(name="watchdog.jobs.missed", value=1, tags=env, type="count")
            self._emit_or_send(Emission(metrics=(metric,)))
        elif event.code == EVENT_JOB_ERROR:
            assert isinstance(event, JobExecutionEvent)
            self._job_crashed(event, env)

    def _job_crashed(self, event: JobExecutionEvent, tags: tuple[str, ...]) -> None:
        """The runner itself failed (a bug): tell someone."""
        text = f"{type(event.exception).__name__}: {event.exception}"
        log.error("job %s crashed: %s", event.job_id, text)
        evt = AlertEvent(
            title=f"[ERROR] watchdog job {event.job_id} crashed",
            text=f"The watchdog could not run monitor `{event.job_id}`: {text}\n"
                 "Check the watchdog's logs and its state store.",
            alert_type="error", aggregation_key=f"watchdog:job:{event.job_id}", tags=tags,
        )
        metric = Metric(name="watchdog.jobs.failure", value=1, tags=tags, type="count")
        self._emit_or_send(Emission(events=(evt,), metrics=(metric,)))

    def _emit_or_send(self, emission: Emission) -> None:
        """Through the outbox; straight to the sinks when the state store is down."""
        try:
            self.runner.emit(emission)
        except StateError as exc:
            self._store_down(exc)
            self.runner.send_direct(emission)

    # -- start and stop -----------------------------------------------------------------

    def _stop(self, signum: int, _frame: Any) -> None:
        grace = self.runner.config.daemon.shutdown_grace.total_seconds()
        log.info("received %s: stopping; running checks have %gs to finish",
                 signal.Signals(signum).name, grace)
        self.runner.stopping.set()
        self.scheduler.shutdown(wait=False)

    def _wind_down(self) -> None:
        """After the scheduler stopped: let running checks finish within the grace, then
        cancel the rest (a cancelled run commits nothing: it runs again at the next start)."""
        grace = self.runner.config.daemon.shutdown_grace.total_seconds()
        with self._idle:
            if not self._idle.wait_for(lambda: self._busy == 0, timeout=grace):
                cancelled = self.runner.cancel_running("shutdown")
                log.info("cancelling %d check(s) still running", cancelled)
                self._idle.wait_for(lambda: self._busy == 0, timeout=_CANCEL_WAIT_S)

    def run(self) -> None:
        """Block until SIGTERM/SIGINT; running checks get ``daemon.shutdown_grace``."""
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        log.info("watchdog daemon started: %d monitors", len(self.runner.config.monitors))
        self._clear_dead_predecessor()
        self.lease_tick()  # the role is known, and logged, before the first job runs
        try:
            self.scheduler.start()
            self._wind_down()
        finally:
            self.release()
        log.info("watchdog daemon stopped")


def _alive(pid: int) -> bool:
    """True when process ``pid`` runs (and is not this process: a container restarted)."""
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


#: How long cancelled checks have to unwind at shutdown.
_CANCEL_WAIT_S = 6.0
