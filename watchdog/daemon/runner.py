"""Run monitors: check → persist → decide alerts → emit. Works with or without the scheduler.

Any exception inside a check becomes an ERROR result naming the error; one broken monitor
never stops the others.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from watchdog.alerting import events
from watchdog.alerting.incidents import explaining
from watchdog.alerting.policy import decide
from watchdog.alerting.routing import audience
from watchdog.alerting.units import split
from watchdog.checks import Check, CheckContext, get_check
from watchdog.config.models import Config, MonitorConfig
from watchdog.crashpoints import reached
from watchdog.errors import CheckTimeout, SinkError, StateError, WatchdogError, redact
from watchdog.models import (
    ACCESS_LOSSES,
    WRITER_RUNS,
    AccessLoss,
    AlertEvent,
    AlertState,
    Cause,
    CheckResult,
    Emission,
    Finding,
    Metric,
    PipelineRun,
    ServiceCheck,
    Status,
    writer_runs_key,
)
from watchdog.secrets import scrub_value
from watchdog.sinks.base import Sink
from watchdog.state.staged import StagedHistory, Writes
from watchdog.timeouts import Deadline, applied
from watchdog.warehouses.base import Warehouse

log = logging.getLogger("watchdog.runner")
#: How long an interrupted check has to unwind before the runner stops waiting for it.
_CANCEL_WAIT_S = 5.0

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def replay_clock(at: datetime) -> Clock:
    """A clock that reads ``at`` now and runs on from there at the real pace (``watchdog demo
    --at``: a pass as of another hour, its checks' durations real)."""
    start = time.monotonic()
    return lambda: at + timedelta(seconds=time.monotonic() - start)


def reason_code(exc: BaseException) -> str:
    """``WarehouseUnavailable`` → ``WAREHOUSE_UNAVAILABLE``; anything unexpected → CHECK_CRASHED."""
    if not isinstance(exc, WatchdogError):
        return "CHECK_CRASHED"
    name = type(exc).__name__
    return "".join(f"_{c}" if c.isupper() and i else c for i, c in enumerate(name)).upper()


class Runner:
    """Runs monitors of one Config against its warehouses, state store and sinks."""

    def __init__(
        self, config: Config, store: Any, sinks: Sequence[Sink], clock: Clock = utcnow
    ) -> None:
        self.config, self.store, self.sinks, self.clock = config, store, list(sinks), clock
        self._warehouses: dict[str, Warehouse] = {}
        self._lock = threading.Lock()
        self._emit_lock = threading.Lock()
        self._running: dict[int, Deadline] = {}
        #: Set when the daemon stops: checks cancelled from then on are not recorded.
        self.stopping = threading.Event()
        self.sink_errors: list[str] = []
        self._down: dict[str, str] = {}  # sinks failing now, and why
        self._kinds: dict[str, type[Check[Any]]] = {}  # check classes, looked up once per kind

    # -- warehouses -------------------------------------------------------------------

    def warehouse(self, name: str) -> Warehouse:
        """The (lazily created, shared) adapter for warehouse ``name``."""
        from watchdog.warehouses import create

        with self._lock:
            if name not in self._warehouses:
                wh = self.config.warehouses[name]
                self._warehouses[name] = create(name, wh.type, wh.settings)
            return self._warehouses[name]

    def kind(self, name: str) -> type[Check[Any]]:
        """The check class of kind ``name``, looked up once per runner (UnknownName)."""
        with self._lock:
            if name not in self._kinds:
                self._kinds[name] = get_check(name)
            return self._kinds[name]

    # -- one monitor --------------------------------------------------------------------

    def check(self, monitor: MonitorConfig, now: datetime | None = None,
              history: Any = None) -> CheckResult:
        """Run one monitor's check within its timeout; never raises.

        ``history`` is what the check reads the state store through and stages its writes
        on (default: the store itself, for callers that persist nothing themselves).
        """
        now = now or self.clock()
        started = time.perf_counter()
        deadline = Deadline(monitor.id, self.timeout(monitor).total_seconds())
        box: list[CheckResult] = []
        worker = threading.Thread(
            target=contextvars.copy_context().run, name=f"check:{monitor.id}", daemon=True,
            args=(self._run_check, monitor, now, history, deadline, box))
        with self._lock:
            self._running[id(deadline)] = deadline
        try:
            worker.start()
            deadline.wait(deadline.seconds)  # woken early by finish or cancel
            # judged by the box, not the thread: finish() wakes us while the worker thread
            # is still returning, and a finished check must not be cancelled as timed out
            if not box:  # interrupt it (the warehouse may be doing so too)
                deadline.cancel("timeout")
                worker.join(_CANCEL_WAIT_S)
        finally:
            with self._lock:
                self._running.pop(id(deadline), None)
        if box and not deadline.cancelled:
            result = box[0]
        else:  # cut short, whatever the check made of it; if it is still stuck in a driver
            # that ignores cancels, it is left behind and the worker is free
            if not box:
                log.error("monitor %s: its check did not stop when cancelled", monitor.id)
            result = self._error_result(monitor, deadline.error(monitor.warehouse))
        return _stamp(result, now, time.perf_counter() - started)

    def timeout(self, monitor: MonitorConfig) -> timedelta:
        """The monitor's own ``timeout``, else ``daemon.timeout``."""
        return monitor.timeout or self.config.daemon.timeout

    def _run_check(self, monitor: MonitorConfig, now: datetime, history: Any,
                   deadline: Deadline, box: list[CheckResult]) -> None:
        try:
            with applied(deadline):
                ctx = CheckContext(config=self.config, warehouse=self.warehouse(monitor.warehouse),
                                   history=self.store if history is None else history, now=now)
                box.append(self.kind(monitor.kind)(monitor).run(ctx))
        except Exception as exc:  # the whole point: one monitor never stops others
            if deadline.cancelled and not isinstance(exc, CheckTimeout):
                exc = deadline.error(monitor.warehouse)
            box.append(self._error_result(monitor, exc))
        finally:
            deadline.finish()

    def cancel_running(self, why: str = "shutdown") -> int:
        """Interrupt every check running now (a shutdown); how many there were."""
        with self._lock:
            running = list(self._running.values())
        for deadline in running:
            deadline.cancel(why)
        return len(running)

    def _error_result(self, monitor: MonitorConfig, exc: Exception) -> CheckResult:
        if isinstance(exc, WatchdogError):
            text = str(exc)
        else:
            log.exception("monitor %s crashed", monitor.id)
            text = f"{type(exc).__name__}: {exc}"
        text = redact(text, self.config.secrets)
        code = reason_code(exc)
        table = self._subject(monitor)
        return CheckResult(
            monitor_id=monitor.id, kind=monitor.kind, status=Status.ERROR,
            summary=f"check could not run: {text}", warehouse=monitor.warehouse, subject=table,
            reasons=(code,), findings=(Finding(reason=code, message=text, status=Status.ERROR,
                                             subject=table),),
        )

    def _subject(self, monitor: MonitorConfig) -> str | None:
        """The subject a check of ``monitor`` reports (its first table, schema-qualified), so
        that an ERROR result shares its dedup key with the results the check itself gives."""
        from watchdog.warehouses import get_class

        tables = monitor.watched_tables()
        if not tables:
            return None
        try:
            return str(get_class(self.config.warehouses[monitor.warehouse].type).table(tables[0]))
        except WatchdogError:
            return tables[0]

    def process(self, result: CheckResult, run_id: int | None = None,
                writes: Writes | None = None, extra: Emission | None = None,
                monitor: MonitorConfig | None = None) -> Emission:
        """Decide ``result``'s alerts, build what the sinks receive, and commit it all: the
        result, the alerts' states, the check's staged ``writes`` and the durable sinks'
        outbox records, in one state-store transaction. Returns the emission (with
        ``extra``, e.g. job counters) for the sinks that are not durable. ``monitor`` is
        the result's, when the caller has it at hand."""
        if monitor is None or monitor.id != result.monitor_id:  # a result naming no monitor
            monitor = self.config.monitor(result.monitor_id)  # is the runner's failure
        result = scrub_value(result)  # what is kept and sent holds no secret
        now = result.started_at or self.clock()
        tags = events.base_tags(result, self.config.env, monitor)
        try:
            kind: type[Check[Any]] | None = self.kind(result.kind)
        except WatchdogError:
            kind = None
        lifecycle = kind is None or kind.LIFECYCLE_ALERTS
        own = kind.SERVICE_CHECK if kind is not None else None  # beside watchdog.monitor
        judged = result if lifecycle or result.status is Status.ERROR else replace(
            result, status=Status.OK, reasons=(), findings=())
        result = replace(result, causes=tuple(
            c if c.handles else replace(c, handles=audience(self.config, monitor,
                                                            c.group).handles)
            for c in result.causes))
        states, evts = self._alerts(monitor, judged, tags, now)
        if not lifecycle:
            evts = [_with_tags(e, tags) for e in result.events] + evts
        emission = _merge([Emission(
            results=(result,), events=tuple(evts),
            metrics=tuple(events.result_metrics(result, tags)),
            service_checks=tuple(events.service_check(result, tags, now, name)
                                 for name in ("watchdog.monitor", own) if name),
        ), extra or Emission()])
        self.store.commit(result, run_id=run_id, alerts=states, writes=writes,
                          outbox=self._outbox(emission))
        return emission

    def _alerts(self, monitor: MonitorConfig, judged: CheckResult, tags: tuple[str, ...],
                now: datetime) -> tuple[list[AlertState], list[AlertEvent]]:
        """Each alert unit's decision: the states that changed and the events to send."""
        recover = monitor.recover_after or self.config.alerting.recover_after
        causes: list[Cause] | None = None
        writers: tuple[list[PipelineRun], list[AccessLoss]] | None = None
        states, evts = [], []
        for unit in split(judged):
            previous = self.store.get_alert(unit.key)
            decision = decide(unit.result, previous, now, recover, key=unit.key)
            found: list[Cause] = []
            if decision.action in ("open", "update") and decision.state is not None:
                if causes is None:
                    causes = self._causes(judged, now)
                found = explaining(unit.result, unit.group, causes, now)
                if found and decision.state.incident is None:
                    decision = replace(decision, state=replace(
                        decision.state, incident=found[0].aggregation_key))
            if decision.state is not None and decision.state != previous:
                states.append(decision.state)
            if decision.notify:
                who = audience(self.config, monitor, unit.group)
                unit_tags = (*tags, *(f"{k}:{v}" for k, v in unit.group))
                if writers is None:
                    writers = self._writer_runs(judged), self._writer_access(judged)
                evts.append(events.alert_event(unit.result, decision, who, unit_tags, now,
                                               found, *writers))
        return states, evts

    def _causes(self, result: CheckResult, now: datetime) -> list[Cause]:
        """What other monitors found on this result's table that may explain it."""
        if not result.subject or not result.warehouse:
            return []
        causes: list[Cause] = self.store.active_causes(result.warehouse, result.subject, now)
        return causes

    def _writer_runs(self, result: CheckResult) -> list[PipelineRun]:
        """The latest runs of the jobs that write this result's table, as its pipeline
        monitor last saw them (none without one)."""
        kept = self._kept_for_table(WRITER_RUNS, result)
        return [PipelineRun.from_json(r) for r in kept.get("runs", ())]

    def _writer_access(self, result: CheckResult) -> list[AccessLoss]:
        """The write privileges principals lost on this result's table, as its access
        monitors last saw them (none without one)."""
        kept = self._kept_for_table(ACCESS_LOSSES, result)
        return [AccessLoss.from_json(loss) for _, losses in sorted(kept.items())
                for loss in losses]

    def _kept_for_table(self, kind: str, result: CheckResult) -> dict[str, Any]:
        """What another monitor kept about this result's table (``writer_runs_key``) for
        the events that name its writer ({} for other kinds, or when nothing was kept)."""
        if result.kind not in events.NAMES_WRITER or not result.subject or not result.warehouse:
            return {}
        stored = self.store.get_artifact(kind, writer_runs_key(result.warehouse, result.subject))
        return dict(stored[2]) if stored else {}

    def _outbox(self, emission: Emission) -> dict[str, list[dict[str, Any]]]:
        from watchdog.sinks.outbox import outbox_records

        durable = [sink.NAME for sink in self.sinks if sink.DURABLE]
        return {name: outbox_records(emission) for name in durable}

    def run_monitor(self, monitor_id: str, run_id: int | None = None) -> CheckResult:
        """Check, commit and deliver one monitor (what each scheduler job does).

        A check cancelled by a shutdown is dropped whole: nothing of it is committed, so it
        runs again at the next start.
        """
        return self._run_one(self.config.monitor(monitor_id), run_id)

    def _run_one(self, monitor: MonitorConfig, run_id: int | None) -> CheckResult:
        staged = StagedHistory(self.store)
        result = self.check(monitor, history=staged)
        reached("check.done")
        if self.stopping.is_set() and "CHECK_TIMEOUT" in result.reasons:
            log.info("monitor %s: cancelled by the shutdown, not recorded", monitor.id)
            return result
        emission = self.process(result, run_id, staged.writes, self.job_metrics([result]),
                                monitor)
        reached("commit.done")
        self.deliver(emission)
        return result

    # -- passes ---------------------------------------------------------------------------

    def run_pass(self, monitor_ids: Iterable[str] | None = None, trigger: str = "once",
                 progress: Callable[[str], None] | None = None) -> list[CheckResult]:
        """Run the selected monitors (all when None) once, up to ``daemon.workers`` at a
        time; each monitor's output is committed and delivered as soon as it finishes."""
        monitors = ([self.config.monitor(i) for i in monitor_ids] if monitor_ids is not None
                    else list(self.config.monitors))
        run_id = self.store.start_run(trigger)
        total = len(monitors)

        def one(n: int, monitor: MonitorConfig) -> CheckResult:
            if progress:
                progress(f"[{n}/{total}] {monitor.id} ({monitor.kind})")
            return self._run_one(monitor, run_id)

        workers = max(1, min(self.config.daemon.workers, total))
        first = [m for m in monitors if m.RUNS_FIRST]  # on the settings: no check imported
        batches = [first, [m for m in monitors if m not in first]]
        results: list[CheckResult] = []
        with ThreadPoolExecutor(workers, thread_name_prefix="monitor") as pool:
            for batch in batches:  # a batch commits before the next starts
                done = len(results)
                results += pool.map(one, range(done + 1, done + len(batch) + 1), batch)
        self.emit(self.heartbeat())
        self.store.finish_run(run_id, _worst_name(results))
        return results

    def job_metrics(self, results: Sequence[CheckResult], missed: int = 0) -> Emission:
        """Self-monitoring counters: job successes (the check ran), failures (ERROR), misses."""
        tags = (f"env:{self.config.env}",)
        failed = sum(r.status is Status.ERROR for r in results)
        counts = {"success": len(results) - failed, "failure": failed, "missed": missed}
        return Emission(metrics=tuple(
            Metric(name=f"watchdog.jobs.{k}", value=v, tags=tags, type="count")
            for k, v in counts.items() if v or k != "missed"
        ))

    def heartbeat(self, problem: str | None = None) -> Emission:
        """The ``watchdog.up`` service check: the watchdog itself is alive (OK), or alive but
        unable to work (CRITICAL, saying why: e.g. its state store is unreachable)."""
        now = int(self.clock().timestamp())
        up = ServiceCheck(name="watchdog.up", status=0 if problem is None else 2,
                          tags=(f"env:{self.config.env}",), timestamp=now,
                          message="watchdog is running" if problem is None else problem)
        return Emission(service_checks=(up,))

    # -- sinks ----------------------------------------------------------------------------

    def emit(self, emission: Emission) -> None:
        """Hand ``emission``, which belongs to no monitor run (heartbeats, the daemon's own
        events), to every sink; durable sinks get it through the outbox."""
        self._hand_over(emission, queue=True)

    def send_direct(self, emission: Emission) -> None:
        """Hand ``emission`` to every sink at once, outside the outbox: for when the state
        store itself is down (e.g. a CRITICAL ``watchdog.up``), so that Datadog still
        hears it; nothing is retried."""
        with self._emit_lock:
            for sink in self.sinks:
                try:
                    sink.emit(emission)
                except SinkError as exc:
                    self._sink_down(sink.NAME, str(exc))

    def deliver(self, emission: Emission) -> None:
        """After a run's commit: its emission to the sinks that are not durable, and
        everything pending in the outbox to those that are."""
        self._hand_over(emission, queue=False)

    def _hand_over(self, emission: Emission, *, queue: bool) -> None:
        from watchdog.sinks.outbox import deliver, drain

        with self._emit_lock:
            for sink in self.sinks:
                try:
                    if sink.DURABLE:
                        report = (deliver(sink, self.store, emission) if queue
                                  else drain(sink, self.store))
                        if report.rejected:
                            self._sink_error(sink.NAME, (
                                f"{report.rejected} record(s) refused for good, set aside "
                                f"in the state store's outbox: {report.rejection}"))
                        if report.error:
                            raise SinkError(report.error)
                    else:
                        sink.emit(emission)
                except SinkError as exc:
                    self._sink_down(sink.NAME, str(exc))
                except StateError:
                    raise  # the outbox is unreachable: the caller's concern, not the sink's
                except Exception as exc:  # a sink plugin's bug stops no run
                    log.debug("sink %s failed", sink.NAME, exc_info=True)
                    self._sink_down(sink.NAME, f"{type(exc).__name__}: {exc}")
                else:
                    if self._down.pop(sink.NAME, None) is not None:
                        log.info("sink %s: delivering again", sink.NAME)

    def _sink_down(self, name: str, text: str) -> None:
        """Said once per outage of a sink: what failed; its records wait in the outbox."""
        if name not in self._down:
            self._sink_error(name, text)
        self._down[name] = text

    def _sink_error(self, name: str, text: str) -> None:
        message = redact(f"sink {name}: {text}", self.config.secrets)
        log.error("%s", message)
        self.sink_errors.append(message)

    def close(self) -> None:
        for sink in self.sinks:
            sink.close()
        for wh in self._warehouses.values():
            wh.close()


def _with_tags(event: AlertEvent, tags: tuple[str, ...]) -> AlertEvent:
    """A check's own event, with the result's base tags (monitor, env, …) added."""
    return replace(event, tags=tuple(dict.fromkeys((*tags, *event.tags))))


def _stamp(result: CheckResult, started: datetime, duration: float) -> CheckResult:
    return replace(result, started_at=result.started_at or started, duration_s=duration)


def _merge(emissions: Sequence[Emission]) -> Emission:
    return Emission(
        results=tuple(r for e in emissions for r in e.results),
        events=tuple(x for e in emissions for x in e.events),
        metrics=tuple(x for e in emissions for x in e.metrics),
        service_checks=tuple(x for e in emissions for x in e.service_checks),
    )


def _worst_name(results: Sequence[CheckResult]) -> str:
    from watchdog.models import worst

    return worst([r.status for r in results]).value


def open_runner(config: Config, clock: Clock = utcnow) -> Runner:
    """A Runner with the config's state store and sinks (nothing connects to a warehouse yet)."""
    from watchdog.sinks import create as create_sink
    from watchdog.state import Store

    store = Store.open(config.state.url)
    sinks = [create_sink(name, settings or {}) for name, settings in config.sinks.items()]
    return Runner(config, store, sinks, clock)
