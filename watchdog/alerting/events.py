"""Turn results and alert decisions into what Datadog receives: events, service checks, metrics.

An event must be understood in one read at 3 a.m.: the title says what broke where, the
text says how bad, since when, who owns it, and what the check saw.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from watchdog.alerting.incidents import caused_by
from watchdog.alerting.policy import Decision
from watchdog.alerting.routing import Audience
from watchdog.config.models import MonitorConfig
from watchdog.models import (
    AccessLoss,
    AlertEvent,
    Cause,
    CheckResult,
    Metric,
    PipelineRun,
    ServiceCheck,
    Status,
)

SERVICE_CHECK_STATUS = {Status.OK: 0, Status.WARN: 1, Status.FAIL: 2, Status.ERROR: 2,
                        Status.SKIPPED: 3}
_ALERT_TYPE = {Status.WARN: "warning", Status.FAIL: "error", Status.ERROR: "error"}
#: Kinds whose incidents on a table name the latest run of the table's writer (its data
#: comes from that run; a pipeline monitor's own events are about the run already).
NAMES_WRITER = frozenset({"freshness", "volume", "contract", "drift"})


def base_tags(result: CheckResult, env: str, monitor: MonitorConfig) -> tuple[str, ...]:
    tags = [f"monitor:{result.monitor_id}", f"kind:{result.kind}", f"env:{env}"]
    if result.warehouse:
        tags.append(f"warehouse:{result.warehouse}")
    if result.subject:
        tags.append(f"table:{result.subject}")
    return (*tags, *monitor.tags)


def alert_event(
    result: CheckResult, decision: Decision, who: Audience, tags: tuple[str, ...],
    now: datetime, causes: Sequence[Cause] = (), writers: Sequence[PipelineRun] = (),
    lost: Sequence[AccessLoss] = (),
) -> AlertEvent:
    """The event for an open, update or resolve decision. With ``causes`` (what other
    monitors found that explains this, newest first), it joins the incident of the newest:
    its aggregation key, "caused by …" first, and mentions only owners no cause notified.
    ``writers``: the latest run of each job that writes the result's table (failed first),
    named in the text of a freshness, volume, contract or drift problem. ``lost``: the
    write privileges principals lost on the table (as its access monitors last saw them).
    What upstream broke, the lost grants and a failed run, is one sentence, in the title
    and first in the text."""
    cause = causes[0] if causes else None
    assert decision.state is not None
    if decision.action == "resolve":
        since = decision.state.opened_at
        title = f"[RECOVERED] {result.monitor_id}: {result.summary}"
        lines = [f"**Recovered.** {result.summary}",
                 f"The problem was open since {since:%Y-%m-%d %H:%M} UTC "
                 f"({decision.state.occurrences} failing passes)."]
        alert_type = "success"
    else:
        verb = "Still failing, changed" if decision.action == "update" else result.status.value
        title = f"[{result.status.value}] {result.monitor_id}: {result.summary}"
        lines = [f"**{verb}.** {result.summary}", *_findings_table(result)]
        alert_type = _ALERT_TYPE[result.status]
        if result.kind in NAMES_WRITER:
            broke = upstream(lost, writers)
            if writers:
                lines.insert(1, _writers_line(writers))
            if broke:
                lines.insert(1, f"**Upstream:** {broke}.")
                title = f"{title}; {broke}"
    if cause is not None:
        lines.insert(0, caused_by(cause))
        who = who.without([h for c in causes for h in c.handles])
        tags = (*tags, f"caused_by:{cause.monitor_id}")
        if decision.action != "resolve":
            title = f"{title} (caused by {_CAUSE_WORDS[cause.kind]})"
    lines += _context(result, who)
    key = decision.state.incident or f"watchdog:{decision.state.dedup_key}"
    return AlertEvent(
        title=title, text="\n".join(lines), alert_type=alert_type,  # type: ignore[arg-type]
        aggregation_key=key,
        # once each: a group's own tag (model:x of a volume grouped by model) or a monitor's
        # tags may name what the audience names again
        tags=tuple(dict.fromkeys((*tags, *who.tags(), f"status:{result.status.value.lower()}"))),
        priority="normal" if alert_type in ("error", "warning") else "low",
        date_happened=int(now.timestamp()),
    )


_CAUSE_WORDS = {"schema_change": "an upstream schema change", "stale": "a stale table"}


def upstream(lost: Sequence[AccessLoss], writers: Sequence[PipelineRun]) -> str:
    """What upstream broke, in one sentence: ``etl_svc lost INSERT on main.features (REVOKE
    by alice at 03:02) and dbt model features failed at 03:10`` ("" when nothing did)."""
    parts = [loss.text() for loss in lost]
    parts += [w.text() for w in writers[:1] if w.failed]  # failed runs come first
    return ", ".join(parts[:-1]) + f" and {parts[-1]}" if len(parts) > 1 else "".join(parts)


def _writers_line(writers: Sequence[PipelineRun]) -> str:
    runs = "; ".join(f"{w.text()} (run `{w.run_id}`)" for w in writers)
    return f"Latest run of its writer: {runs}."


def _findings_table(result: CheckResult) -> list[str]:
    problems = [f for f in result.findings if f.status is not Status.OK]
    if not problems:
        return []
    rows = ["", "| reason | what the check saw |", "|---|---|"]
    rows += [f"| {f.reason} | {f.message.replace('|', '/')} |" for f in problems[:20]]
    if len(problems) > 20:
        rows.append(f"| … | {len(problems) - 20} more |")
    return rows


def _context(result: CheckResult, who: Audience) -> list[str]:
    # a monitor over several tables (access) names its unit's table, from the unit's group
    table = result.subject or next(
        (v for f in result.findings for k, v in f.group if k == "table"), "-")
    lines = ["", f"Monitor `{result.monitor_id}` ({result.kind}) on "
                 f"`{result.warehouse}` table `{table}`."]
    if who.models:
        lines.append(f"Models reading it: {', '.join(who.models)}.")
    if who.handles:
        lines.append(f"Owners: {' '.join(who.handles)}")
    elif who.notified:
        lines.append(f"Owners ({', '.join(who.teams)}) were notified with its cause.")
    elif who.teams:
        lines.append(f"Owning teams: {', '.join(who.teams)} (no Datadog handle configured).")
    else:
        lines.append("No owner configured: add the table to `ownership.models` in config.yaml.")
    lines.append(f"Rerun it: `watchdog run --once --monitor {result.monitor_id}`")
    return lines


def service_check(result: CheckResult, tags: tuple[str, ...], now: datetime,
                  name: str = "watchdog.monitor") -> ServiceCheck:
    return ServiceCheck(
        name=name, status=SERVICE_CHECK_STATUS[result.status], tags=tags,
        message=result.summary, timestamp=int(now.timestamp()),
    )


def result_metrics(result: CheckResult, tags: tuple[str, ...]) -> list[Metric]:
    """The check's own metrics plus its status and duration, all with the result's tags."""
    ts = result.started_at.timestamp() if result.started_at else None
    extra = [
        Metric(name="watchdog.monitor.status", value=SERVICE_CHECK_STATUS[result.status],
               tags=tags, timestamp=ts),
        Metric(name="watchdog.monitor.duration_seconds", value=round(result.duration_s, 6),
               tags=tags, timestamp=ts),
    ]
    own = [Metric(name=m.name, value=m.value, tags=tuple(dict.fromkeys((*tags, *m.tags))),
                  timestamp=m.timestamp if m.timestamp is not None else ts, type=m.type)
           for m in result.metrics]
    return own + extra
