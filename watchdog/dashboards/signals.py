"""Signals: Datadog monitors on a kind's own metrics or events (drift statistics per feature,
volume ratios per group, ``[BREAKING]`` schema events).

A signal fires on the same incidents as its watchdog monitor's status monitor, which
already pages the monitor's audience, so a signal pages nobody, with one exception that
keeps the events' routing: a schema monitor's audience is its owner only, while its events
mention the owners of the models that read the changed table. The ``[BREAKING]`` signal is
grouped by table and pages, per table, those readers' owners (less the monitor's owner,
whom the status monitor pages), through ``{{#is_exact_match "table.name" …}}`` conditions.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from datetime import timedelta

from watchdog.checks.schema.impact import contract_terms, readers
from watchdog.config.models import Config, MonitorConfig
from watchdog.dashboards import queries as q
from watchdog.errors import WatchdogError
from watchdog.warehouses.base import Warehouse

#: Statistics whose drift is a value below the threshold; the rest drift at or above it.
P_VALUES = frozenset({"ks_pvalue", "chi2_pvalue"})


@dataclass(frozen=True, slots=True)
class Signal:
    slug: str
    name: str
    type: str  # "query alert" or "event-v2 alert"
    query: str
    critical: float
    summary: str
    #: group tag value → the handles this signal pages for it (empty: it pages nobody)
    routes: tuple[tuple[str, tuple[str, ...]], ...] = ()
    route_tag: str = ""


def interval(monitor: MonitorConfig) -> timedelta:
    """How often the monitor runs (an hour for cron schedules)."""
    return monitor.schedule.every or timedelta(hours=1)


def scope(monitor: MonitorConfig, env: str) -> list[str]:
    return [q.tag("monitor", monitor.id), q.tag("env", env)]


def band(m: MonitorConfig) -> list[tuple[float, str]]:
    """The volume monitor's judged band: (ratio to expected, label) per direction."""
    pct = float(getattr(m, "min_change_pct", 30.0))
    direction = getattr(m, "direction", "drop")
    out = []
    if direction in ("drop", "both"):
        out.append((round(1 - pct / 100, 6), f"-{q.number(pct)}%"))
    if direction in ("spike", "both"):
        out.append((round(1 + pct / 100, 6), f"+{q.number(pct)}%"))
    return out


def judged(m: MonitorConfig) -> dict[str, float]:
    """Drift statistic → threshold over numeric and categorical features (the stricter)."""
    thresholds = getattr(m, "thresholds", None)
    out: dict[str, float] = {}
    for given in (getattr(thresholds, "numeric", {}), getattr(thresholds, "categorical", {})):
        for stat, value in given.items():
            pick = max if stat in P_VALUES else min
            out[stat] = pick(out.get(stat, value), value)
    return out or {"psi": 0.2}


def volume(m: MonitorConfig, env: str, config: Config) -> list[Signal]:
    by = list(getattr(m, "group_by", ()))
    span = 2 * getattr(m, "window", timedelta(hours=1)) + getattr(m, "lateness", timedelta())
    out = []
    for f, label in band(m):
        drop = f < 1
        agg, op = ("min", "<") if drop else ("max", ">")
        query = q.metric("watchdog.predictions.ratio_to_expected", scope(m, env), agg, by)
        out.append(Signal(
            slug="drop" if drop else "spike", name=f"volume ratio {op} {q.number(f)}",
            type="query alert", critical=f,
            query=f"{agg}({q.monitor_window(span)}):{query} {op} {q.number(f)}",
            summary=f"successful predictions {label} or more {'below' if drop else 'above'} "
                    "their seasonal expectation"))
    return out


def drift(m: MonitorConfig, env: str, config: Config) -> list[Signal]:
    span = q.monitor_window(2 * interval(m))
    out = []
    for stat, at in judged(m).items():
        agg, op = ("min", "<") if stat in P_VALUES else ("max", ">=")
        query = q.metric(f"watchdog.drift.{stat}", scope(m, env), agg, ["feature"])
        out.append(Signal(slug=stat, name=f"{stat} {op} {q.number(at)} per feature",
                          type="query alert", critical=at,
                          query=f"{agg}({span}):{query} {op} {q.number(at)}",
                          summary=f"a feature's {stat} is past {q.number(at)}"))
    share = float(getattr(m, "fail_share", 0.5))
    query = q.metric("watchdog.drift.share_drifted", scope(m, env), "max")
    out.append(Signal(slug="share", name=f"share drifted >= {q.number(share)}",
                      type="query alert", critical=share,
                      query=f"max({span}):{query} >= {q.number(share)}",
                      summary=f"{q.number(share * 100)}% or more of the features drifted"))
    return out


def schema(m: MonitorConfig, env: str, config: Config) -> list[Signal]:
    search = q.event_search(scope(m, env), text="[BREAKING]")
    return [Signal(slug="breaking", name="[BREAKING] schema change", type="event-v2 alert",
                   critical=0, query=q.events(search, 2 * interval(m), by=["table"]) + " > 0",
                   summary="a schema change breaks a model that reads the table",
                   routes=schema_routes(m, config), route_tag="table")]


def _warehouse(m: MonitorConfig, config: Config) -> type[Warehouse] | None:
    from watchdog.warehouses import get_class

    try:
        return get_class(config.warehouses[m.warehouse].type)
    except WatchdogError:  # an adapter whose optional dependency is missing
        return None


def covered_tables(m: MonitorConfig, config: Config) -> list[tuple[str, str]]:
    """(model, table) for every table a model reads that the schema monitor watches."""
    cls = _warehouse(m, config)
    if cls is None:
        return []
    parse = cls.table
    patterns = [str(parse(p)).lower() for p in getattr(m, "tables", ())]
    return [(name, str(parse(r.table))) for name, model in config.ownership.models.items()
            for r in model.reads if r.warehouse in (None, m.warehouse)
            and any(fnmatch.fnmatchcase(str(parse(r.table)).lower(), p) for p in patterns)]


def schema_routes(m: MonitorConfig, config: Config) -> tuple[tuple[str, tuple[str, ...]], ...]:
    owner = config.ownership.teams.get(m.owner) if m.owner else None
    skip = set(owner.datadog if owner else ())
    cls = _warehouse(m, config)
    out = {}
    for _, table in covered_tables(m, config) if cls else []:
        found = readers(config, m.warehouse, [table], cls.DEFAULT_SCHEMA if cls else "",
                        contract_terms(config, m.warehouse, [table]))
        handles = tuple(dict.fromkeys(h for r in found for h in r.handles if h not in skip))
        if handles:
            out[table.lower()] = handles
    return tuple(out.items())
