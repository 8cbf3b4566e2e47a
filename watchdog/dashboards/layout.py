"""Dashboards made from config.yaml, as bodies of the Dashboards API (v1).

One dashboard per model under ``ownership.models``, holding the watchdog monitors whose
alerts reach that model (``alerting.routing.audience``: the same routing as the events),
and one overview of every monitor and of watchdog's own health. Every widget draws a metric,
service check or event watchdog sends; the ``env`` template variable picks the environment.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from watchdog.config.models import Config, MLModel, MonitorConfig
from watchdog.dashboards import identity, kinds
from watchdog.dashboards import queries as q
from watchdog.dashboards import widgets as w
from watchdog.dashboards.widgets import Query, Series, Widget
from watchdog.errors import WatchdogError
from watchdog.sinks.mentions import unmention

Body = dict[str, Any]


def build(config: Config) -> dict[str, Body]:
    """Every dashboard body, keyed by its stable identity."""
    env = config.env.lower()
    routed = {m.id: _models(m, config) for m in config.monitors}
    out: dict[str, Body] = {}
    for name, model in config.ownership.models.items():
        mine = [m for m in config.monitors if name in routed[m.id]]
        object_key = identity.key(env, "dashboard", "model", name)
        out[object_key] = model_dashboard(config, name, model, mine, object_key)
    object_key = identity.key(env, "dashboard", "overview")
    out[object_key] = overview(config, object_key)
    return out


def _models(monitor: MonitorConfig, config: Config) -> tuple[str, ...]:
    entry = kinds.kind_of(monitor)
    return entry.reaches(monitor, config) if entry else kinds.routed_models(monitor, config)


def _body(config: Config, title: str, text: str, object_key: str,
          widgets: list[Widget]) -> Body:
    env = config.env.lower()
    return {
        "title": f"{title} · ml-watchdog ({env})",
        "description": identity.describe(text, object_key),
        "layout_type": "ordered", "reflow_type": "auto",
        "template_variables": [{"name": "env", "prefix": "env", "defaults": [env]}],
        "widgets": widgets,
    }


def model_dashboard(config: Config, name: str, model: MLModel,
                    monitors: Sequence[MonitorConfig], object_key: str) -> Body:
    tables = model_tables(config, model, monitors)

    def view(m: MonitorConfig) -> kinds.View:
        return kinds.View(tags=(q.tag("monitor", m.id), q.ENV_VAR), tables=tables)

    widgets = [w.note(_header(config, name, model, monitors)),
               w.group("Monitor status", _status(config, monitors, name), "vivid_green")]
    widgets += [w.group(title, drawn) for title, drawn in kinds.sections(monitors, view)]
    if tables:
        search = q.event_search([q.ENV_VAR], any_of=[q.tag("table", t) for t in tables])
        widgets.append(w.group("Events on the model's tables", [
            w.events("Schema changes and watchdog alerts", search)], "vivid_purple"))
    widgets.append(w.group("watchdog's own health", _health(monitors), "gray"))
    text = (f"What watchdog watches in the data behind model `{name}`"
            f"{f': {model.description}' if model.description else '.'}")
    return _body(config, f"Model {name}", text, object_key, widgets)


def overview(config: Config, object_key: str) -> Body:
    monitors = list(config.monitors)
    widgets = [w.group("Monitor status", _status(config, monitors, None), "vivid_green")]
    if monitors:
        search = q.event_search([q.ENV_VAR], any_of=[q.tag("monitor", m.id) for m in monitors])
        widgets.append(w.group("watchdog alerts", [w.events("Every watchdog event", search)],
                               "vivid_purple"))
    widgets.append(w.group("watchdog's own health", _health(monitors), "gray"))
    text = "Every watchdog monitor's status, its alerts, and watchdog's own health."
    return _body(config, "Overview", text, object_key, widgets)


def model_tables(config: Config, model: MLModel,
                 monitors: Sequence[MonitorConfig]) -> tuple[str, ...]:
    """The model's tables as watchdog tags them (schema-qualified by each warehouse that its
    monitors use)."""
    types = {config.warehouses[m.warehouse].type for m in monitors}
    types |= {config.warehouses[r.warehouse].type for r in model.reads if r.warehouse}
    names = [_qualified(t, r.table) for r in model.reads for t in sorted(types)]
    return tuple(dict.fromkeys(names or [r.table for r in model.reads]))


def _qualified(warehouse_type: str, table: str) -> str:
    from watchdog.warehouses import get_class

    try:
        return str(get_class(warehouse_type).table(table))
    except WatchdogError:  # an adapter whose optional dependency is missing
        return table


def _header(config: Config, name: str, model: MLModel,
            monitors: Sequence[MonitorConfig]) -> str:
    team = config.ownership.teams.get(model.team)
    handles = unmention(" ".join(team.datadog)) if team else ""
    reads = "; ".join(f"`{r.table}`" + (f" ({', '.join(r.columns)})" if r.columns else "")
                      for r in model.reads) or "nothing listed"
    ids = ", ".join(f"`{m.id}`" for m in monitors) or "none yet"
    return (f"## Model `{name}`\n{model.description}\n\n"
            f"**Team** {model.team}{f' ({handles})' if handles else ''}  \n"
            f"**Reads** {reads}  \n**Watched by** {ids}\n\n"
            "Generated by `watchdog datadog apply` from config.yaml.")


def _status(config: Config, monitors: Sequence[MonitorConfig], model: str | None
            ) -> list[Widget]:
    env = config.env.lower()
    out = [w.check_status(m.id, "watchdog.monitor", [q.tag("monitor", m.id), q.ENV_VAR])
           for m in monitors]
    search = f'tag:"{identity.MANAGED}" tag:"{q.tag("env", env)}"'
    if model is not None:
        search += f' tag:"{q.tag("model", model)}"'
    out.append(w.monitor_summary("Datadog monitors made by ml-watchdog", search))
    return out


def _health(monitors: Sequence[MonitorConfig]) -> list[Widget]:
    runs = w.timeseries("Monitor runs: checked / could not run", [
        Series((Query("query1", q.metric("watchdog.jobs.success", [q.ENV_VAR], "sum")
                      + ".as_count()"),), display="bars",
               formulas=(w.formula("query1", "checked"),)),
        Series((Query("query1", q.metric("watchdog.jobs.failure", [q.ENV_VAR], "sum")
                      + ".as_count()"),), display="bars", palette="warm",
               formulas=(w.formula("query1", "could not run"),)),
    ])
    ids = ("monitor", [m.id for m in monitors]) if monitors else None
    duration = Query("query1", q.metric("watchdog.monitor.duration_seconds", [q.ENV_VAR],
                                        "max", ["monitor"], ids))
    return [w.check_status("watchdog is up (heartbeat)", "watchdog.up", [q.ENV_VAR]), runs,
            w.timeseries("Check duration per monitor (seconds)", [Series((duration,))])]
