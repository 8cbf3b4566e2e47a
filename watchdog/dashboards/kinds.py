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
from watchdog.checks.backtest.metrics import ESTIMATED, LOWER_IS_BETTER
from watchdog.config.models import Config, MonitorConfig
from watchdog.dashboards import queries as q
from watchdog.dashboards import signals
from watchdog.dashboards import widgets as w
from watchdog.dashboards.signals import P_VALUES, Signal, band, judged
from watchdog.dashboards.widgets import Query, Series, Widget

#: ``watchdog.backtest.<metric>`` drawn when a backtest monitor does not list its metrics.
BACKTEST_METRICS = ("precision", "recall", "auroc")
#: ``watchdog.backtest.label_delay_seconds.<stat>`` drawn.
DELAY_STATS = ("p50", "p90", "max")


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
    """Per group (one tag per ``group_by`` column): each drawn metric realised, with the
    estimates made before its labels (classification) and its judged limits; the estimates'
    calibration and error; label coverage and delay. Every point is stamped with its
    window's end, days back: these are charts, not Datadog monitors (a query alert over
    the last minutes never sees such points; the status monitor pages instead)."""
    by = list(getattr(m, "group_by", ()))
    per = f" per {', '.join(by)}" if by else ""
    guess = getattr(m, "task", "classification") == "classification"
    drawn = list(getattr(m, "metrics", ()) or BACKTEST_METRICS)
    out = [_backtest_metric(m, v, name, by, per, guess and name in ESTIMATED)
           for name in drawn]
    if guess:
        out += _backtest_estimates(m, v, [n for n in drawn if n in ESTIMATED], by, per)
    coverage = Query("query1", q.metric("watchdog.backtest.label_coverage", v.tags, "avg", by))
    floor = getattr(m, "min_coverage", None)
    out.append(w.timeseries(f"{m.id}: label coverage{per}", [Series((coverage,))],
                            [w.marker(floor, "min_coverage: FAIL")] if floor else [],
                            description="Share of each window's predictions whose ground "
                                        "truth has arrived."))
    if getattr(getattr(m, "labels", None), "time_column", None):
        out.append(_label_delay(m, v, by, per))
    return out


def _backtest_metric(m: MonitorConfig, v: View, name: str, by: list[str], per: str,
                     estimated: bool) -> Widget:
    """One metric realised per window (solid), its estimates before labels (dashed), and
    its ``min``/``max`` and declared baseline (``- max_drop``) as markers."""
    real = Query("query1", q.metric(f"watchdog.backtest.{name}", v.tags, "avg", by))
    series = [Series((real,), formulas=(w.formula("query1", name),))]
    if estimated:
        guess = Query("query1", q.metric(f"watchdog.backtest.estimated.{name}", v.tags, "avg",
                                         by))
        series.append(Series((guess,), line_type="dashed",
                             formulas=(w.formula("query1", f"estimated {name}"),)))
    limit = getattr(m, "thresholds", {}).get(name)
    base = getattr(m, "baseline", {}).get(name)
    marks = [w.marker(x, f"{k}: FAIL") for k, x in (("min", getattr(limit, "min", None)),
                                                    ("max", getattr(limit, "max", None)))
             if x is not None]
    if base is not None:
        marks.append(w.marker(base, "declared baseline", "info"))
        drop = getattr(limit, "max_drop", None)
        if drop is not None:
            sign = 1 if name in LOWER_IS_BETTER else -1
            marks.append(w.marker(round(base + sign * drop, 6),
                                  f"baseline {'+' if sign > 0 else '-'} max_drop: FAIL"))
    return w.timeseries(
        f"{m.id}: {name}{per}", series, marks,
        description="Solid: realised, once a window has min_labelled_rows labels, at the "
                    "window's end. Dashed: estimated from the scores while the labels were "
                    "missing (valid for calibrated scores). Lines: the judged limits.")


def _backtest_estimates(m: MonitorConfig, v: View, names: list[str], by: list[str],
                        per: str) -> list[Widget]:
    """The calibration error the estimates are trusted by, and their error once the
    labels landed (realised minus estimated)."""
    ece = Query("query1", q.metric("watchdog.backtest.calibration_error", v.tags, "max", by))
    top = float(getattr(m, "max_calibration_error", 0.05))
    errors = [Query(f"query{i}", q.metric(f"watchdog.backtest.estimation_error.{n}", v.tags,
                                          "avg", by)) for i, n in enumerate(names, 1)]
    out = [w.timeseries(f"{m.id}: calibration error of the scores{per}", [Series((ece,))],
                        [w.marker(top, "max_calibration_error: estimates unreliable",
                                  "warning")],
                        description="Expected calibration error over the label-complete "
                                    "windows: above the line the estimates are not trusted.")]
    if errors:
        out.append(w.timeseries(
            f"{m.id}: estimation error, realised - estimated{per}", [Series(
                tuple(errors), formulas=tuple(w.formula(x.name, n)
                                              for x, n in zip(errors, names, strict=True)))],
            [w.marker(0, "no error", "ok")],
            description="Once a window's labels landed: its realised metric minus what was "
                        "estimated before. Far from 0: the scores no longer mean what they "
                        "did (concept drift), and the estimates are not to be trusted."))
    return out


def _label_delay(m: MonitorConfig, v: View, by: list[str], per: str) -> Widget:
    delay = tuple(Query(f"query{i}", q.metric(f"watchdog.backtest.label_delay_seconds.{k}",
                                              v.tags, "max", by))
                  for i, k in enumerate(DELAY_STATS, 1))
    return w.timeseries(
        f"{m.id}: label delay (hours){per}", [Series(delay, formulas=tuple(
            w.formula(f"{x.name} / 3600", k) for x, k in zip(delay, DELAY_STATS, strict=True)))],
        [w.marker(_hours(m, "feedback_delay"), "feedback_delay", "warning")],
        description="From prediction to label, per window. A window is judged feedback_delay "
                    "after it ends: a delay past the line misses its window's judgement.")


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
