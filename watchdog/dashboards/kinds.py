"""What each monitor kind contributes: dashboard widgets and Datadog-side signals.

One table, :data:`KINDS`, keyed by monitor kind. A new kind plugs in with one entry: a
section title, a function drawing its widgets from the metrics it sends, optionally a
function listing its signals (:mod:`.signals`) and one naming the models whose dashboards
show it (default: the models its alerts are routed to). Kinds without an entry still get
a status widget and a status monitor. Monitor fields are read with ``getattr`` defaults,
so an entry never imports its check module.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from watchdog.alerting.routing import audience
from watchdog.config.models import Config, MonitorConfig
from watchdog.dashboards import queries as q
from watchdog.dashboards import signals
from watchdog.dashboards import widgets as w
from watchdog.dashboards.signals import P_VALUES, Signal, band, judged
from watchdog.dashboards.widgets import Query, Series, Widget

#: ``watchdog.backtest.<metric>`` drawn when a backtest monitor does not list its metrics.
BACKTEST_METRICS = ("precision", "recall", "auroc")


@dataclass(frozen=True, slots=True)
class View:
    """What a kind's widgets filter on: the monitor's tags, and the tables of the dashboard's
    model (empty on the overview)."""

    tags: tuple[str, ...]
    tables: tuple[str, ...] = ()


WidgetFn = Callable[[MonitorConfig, View], list[Widget]]
SignalFn = Callable[[MonitorConfig, str, Config], list[Signal]]
ReachFn = Callable[[MonitorConfig, Config], tuple[str, ...]]


def _no_signals(monitor: MonitorConfig, env: str, config: Config) -> list[Signal]:
    return []


def routed_models(monitor: MonitorConfig, config: Config) -> tuple[str, ...]:
    """The models the monitor's alerts are routed to (``alerting.routing.audience``)."""
    return audience(config, monitor).models


def _schema_models(monitor: MonitorConfig, config: Config) -> tuple[str, ...]:
    """A schema monitor alerts per table: it belongs to every model reading a watched table."""
    found = [model for model, _ in signals.covered_tables(monitor, config)]
    return tuple(dict.fromkeys([*routed_models(monitor, config), *found]))


@dataclass(frozen=True, slots=True)
class Kind:
    title: str
    widgets: WidgetFn
    signals: SignalFn = field(default=_no_signals)
    reaches: ReachFn = field(default=routed_models)


# -- freshness -------------------------------------------------------------------------------


def _freshness(m: MonitorConfig, v: View) -> list[Widget]:
    age = Query("query1", q.metric("watchdog.freshness.age_seconds", v.tags, "max"))
    marks = [w.marker(_hours(m, "max_age"), "max_age: FAIL")]
    if getattr(m, "warn_age", None):
        marks.append(w.marker(_hours(m, "warn_age"), "warn_age: WARN", "warning"))
    out = [w.timeseries(f"{m.id}: age of the newest row (hours)", [Series(
        (age,), formulas=(w.formula("query1 / 3600", "age (h)"),))], marks)]
    low, high = getattr(m, "min_rows", None), getattr(m, "max_rows", None)
    if low is not None or high is not None:
        rows = Query("query1", q.metric("watchdog.freshness.rows_in_window", v.tags, "max"))
        bounds = [w.marker(x, label) for x, label in ((low, "min_rows"), (high, "max_rows"))
                  if x is not None]
        out.append(w.timeseries(f"{m.id}: rows in the last {_text(m, 'window')}",
                                [Series((rows,), display="bars")], bounds))
    return out


def _hours(m: MonitorConfig, name: str) -> float:
    span: timedelta = getattr(m, name)
    return round(span.total_seconds() / 3600, 3)


def _text(m: MonitorConfig, name: str) -> str:
    span: timedelta = getattr(m, name)
    return q.monitor_window(span).removeprefix("last_")


# -- volume ----------------------------------------------------------------------------------


def _volume(m: MonitorConfig, v: View) -> list[Widget]:
    by = list(getattr(m, "group_by", ()))
    per = f" per {', '.join(by)}" if by else ""
    count = Query("query1", q.metric("watchdog.predictions.count", v.tags, "sum", by))
    expected = Query("query1", q.metric("watchdog.predictions.expected", v.tags, "avg", by))
    edges = tuple(w.formula(f"query1 * {q.number(f)}", f"judged band {label}")
                  for f, label in band(m))
    chart = w.timeseries(f"{m.id}: successful predictions against expected{per}", [
        Series((count,), display="bars", formulas=(w.formula("query1", "successful"),)),
        Series((expected,), line_type="dashed", formulas=(w.formula("query1", "expected"),)),
        Series((expected,), line_type="dotted", palette="grey", formulas=edges),
    ], description="Bars: successful predictions per window. Dashed: the seasonal "
                   "expectation (median of the same window in earlier clean weeks). Dotted: "
                   "the min_change_pct band the monitor judges against.")
    ratio = Query("query1", q.metric("watchdog.predictions.ratio_to_expected", v.tags, "avg", by))
    success = Query("query1", q.metric("watchdog.predictions.success_ratio", v.tags, "avg", by))
    return [chart,
            w.timeseries(f"{m.id}: ratio to expected{per}", [Series((ratio,))],
                         [w.marker(f, f"band {label}") for f, label in band(m)]),
            w.timeseries(f"{m.id}: share of predictions that succeeded{per}",
                         [Series((success,))])]


# -- drift -----------------------------------------------------------------------------------


def _drift(m: MonitorConfig, v: View) -> list[Widget]:
    out = []
    for stat, at in judged(m).items():
        above = stat not in P_VALUES
        last = Query("query1", q.metric(f"watchdog.drift.{stat}", v.tags, "max", ["feature"]),
                     aggregator="last")
        out.append(w.toplist(f"{m.id}: {stat} per feature (latest)", last,
                             conditional=w.thresholds(at, above)))
    stat, at = next(iter(judged(m).items()))
    series = Query("query1", q.metric(f"watchdog.drift.{stat}", v.tags, "max", ["feature"]))
    order = "desc" if stat not in P_VALUES else "asc"
    out.append(w.timeseries(f"{m.id}: {stat} of the most drifted features", [Series(
        (series,), formulas=(w.formula(f"top(query1, 5, 'max', '{order}')", stat),))],
        [w.marker(at, f"{stat} threshold")]))
    share = Query("query1", q.metric("watchdog.drift.share_drifted", v.tags, "max"),
                  aggregator="last")
    fail_share = float(getattr(m, "fail_share", 0.5))
    out.append(w.query_value(f"{m.id}: share of features drifted", share,
                             conditional=w.thresholds(fail_share)))
    return out


# -- contract, schema, backtest --------------------------------------------------------------


def _contract(m: MonitorConfig, v: View) -> list[Widget]:
    rate = Query("query1", q.metric("watchdog.contract.failure_rate", v.tags, "max",
                                    ["column", "check"]), aggregator="last")
    fails = Query("query1", q.metric("watchdog.contract.failures", v.tags, "max",
                                     ["column", "check"]))
    return [w.toplist(f"{m.id}: share of rows failing, per column and check", rate,
                      conditional=[{"comparator": ">", "value": 0, "palette": "white_on_red"}]),
            w.timeseries(f"{m.id}: failing rows per column and check",
                         [Series((fails,), display="bars")])]


def _schema(m: MonitorConfig, v: View) -> list[Widget]:
    tables = ("table", v.tables) if v.tables else None
    changes = Query("query1", q.metric("watchdog.schema.changes", v.tags, "sum",
                                       ["table", "change"], tables) + ".as_count()")
    return [w.timeseries(f"{m.id}: schema changes per table and kind",
                         [Series((changes,), display="bars")])]


def _backtest(m: MonitorConfig, v: View) -> list[Widget]:
    """``watchdog.backtest.<metric>`` per model version (one tag per group column)."""
    by = list(getattr(m, "group_by", ()) or ("model_version",))
    out = []
    for name in getattr(m, "metrics", ()) or BACKTEST_METRICS:
        query = Query("query1", q.metric(f"watchdog.backtest.{name}", v.tags, "avg", by))
        out.append(w.timeseries(f"{m.id}: {name} per {', '.join(by)}", [Series((query,))]))
    coverage = Query("query1", q.metric("watchdog.backtest.label_coverage", v.tags, "avg", by))
    out.append(w.timeseries(f"{m.id}: label coverage per {', '.join(by)}", [Series((coverage,))],
                            description="Share of predictions whose ground truth has arrived."))
    return out


#: Monitor kind → its dashboard section and signals. Order is the order of the sections.
KINDS: dict[str, Kind] = {
    "volume": Kind("Prediction volume", _volume, signals.volume),
    "drift": Kind("Drift", _drift, signals.drift),
    "backtest": Kind("Backtests: model quality per version", _backtest),
    "contract": Kind("Data contracts", _contract),
    "freshness": Kind("Freshness", _freshness),
    "schema": Kind("Schema changes", _schema, signals.schema, _schema_models),
}


def kind_of(monitor: MonitorConfig) -> Kind | None:
    return KINDS.get(monitor.kind)


def sections(monitors: Sequence[MonitorConfig], view: Callable[[MonitorConfig], View]
             ) -> list[tuple[str, list[Widget]]]:
    """``(title, widgets)`` per kind present in ``monitors``, in :data:`KINDS` order."""
    out: list[tuple[str, list[Widget]]] = []
    for kind, entry in KINDS.items():
        found = [m for m in monitors if m.kind == kind]
        drawn: list[Any] = [x for m in found for x in entry.widgets(m, view(m))]
        if drawn:
            out.append((entry.title, drawn))
    return out
