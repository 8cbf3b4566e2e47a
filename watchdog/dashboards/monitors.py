"""Datadog monitors made from config.yaml, as bodies of the Monitors API (v1).

Who pages, so that nothing pages twice:

- ``watchdog.up`` (the dead man's switch) always notifies the teams that own monitors:
  a silent watchdog sends no event, so nothing else could tell them.
- Each watchdog monitor has one **status monitor** on its ``watchdog.monitor`` service
  check: critical on FAIL and ERROR, warning on WARN, exactly when watchdog opens or
  updates an alert. It notifies the monitor's audience (``alerting.routing.audience``,
  the same routing as watchdog's own events) when ``sinks.datadog.mentions`` is
  ``monitors``; with ``events`` (the default) watchdog's events page and it only names them.
- **Signals** (drift statistics per feature, volume ratios per group, ``[BREAKING]`` schema
  events) are Datadog-side thresholds on the same incidents: they name the owners but never
  @-mention them, since the status monitor of the same watchdog monitor already pages.
"""

from __future__ import annotations

import math
from typing import Any

from watchdog.alerting.routing import Audience, audience
from watchdog.config.models import Config, MonitorConfig
from watchdog.dashboards import identity
from watchdog.dashboards import queries as q
from watchdog.dashboards.kinds import kind_of
from watchdog.dashboards.signals import Signal
from watchdog.sinks.mentions import unmention

Body = dict[str, Any]
PREFIX = "[ml-watchdog]"


def mentions(config: Config) -> str:
    """``sinks.datadog.mentions``: ``events`` (watchdog's events page) or ``monitors``."""
    return str((config.sinks.get("datadog") or {}).get("mentions", "events"))


def build(config: Config) -> dict[str, Body]:
    """Every monitor body, keyed by its stable identity (see :mod:`identity`)."""
    env = config.env.lower()
    pages = mentions(config) == "monitors"
    out: dict[str, Body] = {}
    _add(out, identity.key(env, "up"), dead_mans_switch(config, env))
    for monitor in config.monitors:
        who = audience(config, monitor)
        _add(out, identity.key(env, "status", monitor.id), status(monitor, who, env, pages))
        entry = kind_of(monitor)
        for signal in entry.signals(monitor, env, config) if entry else []:
            key = identity.key(env, monitor.kind, monitor.id, signal.slug)
            _add(out, key, signal_monitor(monitor, signal, who, env, pages))
    return out


def _add(out: dict[str, Body], key: str, body: Body) -> None:
    if key in out:
        raise identity.duplicate(key)
    body["tags"] = [identity.MANAGED, identity.object_tag(key), *body["tags"]]
    out[key] = body


def operators(config: Config) -> Audience:
    """Who hears that watchdog is silent: the teams that own monitors (all teams when no
    monitor names an owner)."""
    teams = list(dict.fromkeys(m.owner for m in config.monitors if m.owner))
    teams = teams or list(config.ownership.teams)
    handles = [h for t in teams if t in config.ownership.teams
               for h in config.ownership.teams[t].datadog]
    return Audience(models=(), teams=tuple(teams), handles=tuple(dict.fromkeys(handles)))


def dead_mans_switch(config: Config, env: str) -> Body:
    minutes = max(5, math.ceil(3 * config.daemon.heartbeat.total_seconds() / 60))
    who = operators(config)
    text = (f"{{{{#is_no_data}}}}watchdog (env `{env}`) has sent no heartbeat "
            f"(`watchdog.up`) for {minutes} minutes: it is down, stuck, or cannot reach "
            "Datadog. While it is silent no data check runs and nobody hears of data "
            "problems.{{/is_no_data}}\n{{#is_recovery}}watchdog is sending its heartbeat "
            "again.{{/is_recovery}}\n\nLook at its log; `watchdog run --once` on its host "
            f"shows whether it can run.\n{_owners(who, True)}")
    return {
        "name": f"{PREFIX} watchdog is silent ({env})", "type": "service check",
        "query": q.check("watchdog.up", [q.tag("env", env)], by=["env"]),
        "message": f"{text}\n\n{identity.FOOTER}",
        "tags": [q.tag("env", env), *who.tags()],
        "options": {"thresholds": {"critical": 1, "ok": 1}, "notify_no_data": True,
                    "no_data_timeframe": minutes, "include_tags": True},
    }


def status(monitor: MonitorConfig, who: Audience, env: str, pages: bool) -> Body:
    """The page of one watchdog monitor: its ``watchdog.monitor`` service check."""
    lines = ["{{#is_alert}}**FAIL or ERROR.** {{check_message}}{{/is_alert}}",
             "{{#is_warning}}**WARN.** {{check_message}}{{/is_warning}}",
             "{{#is_recovery}}**Recovered.** {{check_message}}{{/is_recovery}}", "",
             *_context(monitor, who),
             _owners(who, pages, "notified by watchdog's own events, "
                                 "sinks.datadog.mentions: events")]
    return {
        "name": f"{PREFIX} {monitor.id}: status ({env})", "type": "service check",
        "query": q.check("watchdog.monitor", [q.tag("monitor", monitor.id), q.tag("env", env)],
                         by=["monitor"]),
        "message": "\n".join([*lines, "", identity.FOOTER]),
        "tags": _tags(monitor, who, env),
        "options": {"thresholds": {"critical": 1, "warning": 1, "ok": 1},
                    "notify_no_data": False, "include_tags": True},
    }


def signal_monitor(monitor: MonitorConfig, signal: Signal, who: Audience, env: str,
                   pages: bool) -> Body:
    status_name = f"`{PREFIX} {monitor.id}: status ({env})`"
    lines = [f"{{{{#is_alert}}}}`{monitor.id}`: {signal.summary}.{{{{/is_alert}}}}", "",
             *_context(monitor, who)]
    if signal.routes:
        lines += [f"{status_name} pages the monitor's owners; this one pages, per "
                  f"{signal.route_tag}, the owners of the models that read it:",
                  *_routes(signal, pages)]
    else:
        lines += [f"This monitor pages nobody: {status_name} carries the page of this "
                  "watchdog monitor, so that one problem pages once.",
                  _owners(who, False, "not from here")]
    return {
        "name": f"{PREFIX} {monitor.id}: {signal.name} ({env})", "type": signal.type,
        "query": signal.query,
        "message": "\n".join([*lines, "", identity.FOOTER]),
        "tags": _tags(monitor, who, env),
        "options": {"thresholds": {"critical": signal.critical}, "notify_no_data": False,
                    "include_tags": True},
    }


def _routes(signal: Signal, pages: bool) -> list[str]:
    """``{{#is_exact_match "table.name" "main.features"}}@a{{/is_exact_match}}`` per route
    (``is_match`` would match substrings: main.features_v2)."""
    out = []
    for value, handles in signal.routes:
        text = " ".join(handles) if pages else unmention(" ".join(handles))
        out.append(f'{{{{#is_exact_match "{signal.route_tag}.name" "{value}"}}}}{value}: '
                   f"{text}{{{{/is_exact_match}}}}")
    if not pages:
        out.append("(named only: watchdog's own events notify them; "
                   "sinks.datadog.mentions: events)")
    return out


def _tags(monitor: MonitorConfig, who: Audience, env: str) -> list[str]:
    return [q.tag("env", env), q.tag("monitor", monitor.id), q.tag("kind", monitor.kind),
            *who.tags()]


def _context(monitor: MonitorConfig, who: Audience) -> list[str]:
    names = monitor.watched_tables() or tuple(getattr(monitor, "tables", ()))
    tables = ", ".join(f"`{t}`" for t in names) or "-"
    lines = [f"watchdog monitor `{monitor.id}` ({monitor.kind}) on warehouse "
             f"`{monitor.warehouse}`, tables {tables}."]
    if who.models:
        lines.append(f"Models reading it: {', '.join(who.models)}.")
    lines.append(f"Rerun it: `watchdog run --once --monitor {monitor.id}`")
    return lines


def _owners(who: Audience, pages: bool, how: str = "") -> str:
    """The owners' handles: @-mentioned when this monitor pages, else named only."""
    if not who.handles:
        teams = ", ".join(who.teams) or "none configured"
        return f"Owning teams: {teams} (no Datadog handle configured)."
    handles = " ".join(who.handles)
    return f"Owners: {handles}" if pages else f"Owners ({how}): {unmention(handles)}"
