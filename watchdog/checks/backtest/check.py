"""Backtests: model quality from ground truth that arrives after a feedback delay.

One query per run (``Warehouse.backtest``) aggregates the predictions of the last
``lookback_windows`` label-complete windows, joined to their labels, per window and group.
The newest of them (the judged window, which ended at least ``feedback_delay`` ago) is
judged per group: its label coverage (against a floor and its usual level), then, with
enough labelled rows, each metric's threshold, failing only when the metric's confidence
interval excludes the threshold (``metrics.py``), so that a small window does not page on
noise. With ``group_by`` every finding shows the groups side by side (champion/challenger).

The same query reads the windows that ended since, still waiting for their labels: for a
classifier their performance (and that of the lookback's windows without enough labels) is
estimated from the scores (confidence-based, as NannyML's
CBPE: ``metrics.estimated``), reported as ``estimated.<metric>``, flagged as unreliable when
the scores were not calibrated over the label-complete windows (``calibration_error`` above
``max_calibration_error``), and kept in the state store (``ESTIMATES_KIND``, written with the
run's result) so that once a window's labels land its ``estimation_error.<metric>``
(realised minus estimated) is reported too.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from watchdog.checks.backtest import metrics as bm
from watchdog.checks.backtest import reference as ref
from watchdog.checks.backtest.params import BacktestParams, Limit
from watchdog.checks.base import Check, CheckContext, History, Outcome
from watchdog.checks.groups import alert_group, group_label
from watchdog.models import BacktestSpec, BacktestSums, CheckResult, Group, Status
from watchdog.warehouses.base import Warehouse

Interval = tuple[float, float] | None
#: The state store's document of the estimates made before labels arrived (per monitor).
ESTIMATES_KIND = "backtest_estimates"
ESTIMATES_SCHEMA = 1
#: group label → window end (epoch seconds, as text) → estimated metric → value
Estimates = dict[str, dict[str, dict[str, float]]]


@dataclass(slots=True)
class Judged:
    """One group's judged window, its metrics and intervals, and its earlier windows."""

    group: tuple[Any, ...]
    label: str
    sums: BacktestSums
    earlier: list[BacktestSums]
    #: the end of each earlier window (same order as ``earlier``)
    ends: list[datetime] = field(default_factory=list)
    values: dict[str, float | None] = field(default_factory=dict)
    intervals: dict[str, Interval] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: the windows that ended since, still waiting for labels: (end, sums), oldest first
    pending: list[tuple[datetime, BacktestSums]] = field(default_factory=list)
    #: classification: the estimated metrics of each window waiting for labels (pending,
    #: or of the lookback with fewer than min_labelled_rows labels), by its end
    estimates: dict[datetime, dict[str, float | None]] = field(default_factory=dict)
    #: expected calibration error of the label-complete windows' scores (None: too few)
    calibration: float | None = None
    #: why the estimates are not to be trusted ("": they are)
    unreliable: str = ""
    #: the sums of the fixed reference window (``reference``; None: not in it)
    reference: BacktestSums | None = None


class BacktestCheck(Check[BacktestParams]):
    """FAIL when a metric of the judged window is worse than its threshold beyond its
    confidence interval, or when the label coverage fell; SKIPPED with too few labels."""

    KIND = "backtest"
    Params = BacktestParams

    def run(self, ctx: CheckContext) -> CheckResult:
        p = self.monitor
        table = str(ctx.warehouse.table(p.predictions.table))
        end, groups = read(ctx.warehouse, p, ctx.now)
        out = self.outcome(table)
        span = when(p, end)
        if not groups:
            out.add(Status.SKIPPED, "NO_PREDICTIONS", f"{table}: no predictions "
                    f"in the {p.lookback_windows} windows up to {span}", window_end=str(end))
            return out.result("no predictions")
        ref.attach(ctx.warehouse, p, spec_of(ctx.warehouse, p), ctx.history, groups, ctx.now)
        board = side_by_side(p, groups)
        stored = load_estimates(ctx.history, p)
        for j in groups:
            _emit_errors(out, p, j, end, stored.get(j.label, {}))
        lines = [self._judge(out, p, j, span, board, end) for j in groups]
        save_estimates(ctx.history, p, stored, groups, end - p.lookback_windows * p.window)
        return out.result(f"{table} {span}: " + "; ".join(lines))

    def _judge(self, out: Outcome, p: BacktestParams, j: Judged, span: str, board: str,
               end: datetime) -> str:
        """Metrics and findings of one group; its line for the summary. The findings read
        as one sentence per group: the quality first (what broke), then the labels'
        coverage, the versions side by side once, at the end."""
        tagged = alert_group(p.group_by, j.group)
        first, judged, where = len(out.findings), j, span
        _emit(out, p, j, end)
        if not j.sums.predictions:
            out.add_for(tagged, Status.SKIPPED, "NO_PREDICTIONS",
                        f"{j.label}: no predictions in {span}")
            return f"{j.label}: no predictions" + estimate_line(p, j)
        if j.sums.labelled < p.min_labelled_rows:
            newest = newest_labelled(p, j)
            if newest is not None:
                judged, where = newest[1], (f"{when(p, newest[0])} (the newest "
                                            f"{_unit(p)} with {p.min_labelled_rows} labels)")
            out.add_for(tagged, Status.SKIPPED, "TOO_FEW_LABELS",
                        f"{j.label} {span}: {j.sums.labelled} labelled predictions, fewer than "
                        f"min_labelled_rows {p.min_labelled_rows}: not judged"
                        + (f"; judged instead: {where}" if newest else ""),
                        labelled=j.sums.labelled, predictions=j.sums.predictions)
        found = degradations(p, judged) if judged.sums.labelled >= p.min_labelled_rows else []
        for k, (reason, name, text, details) in enumerate(found):
            out.add_for(tagged, Status.FAIL, reason,
                        (f"{j.label} {where}: " if k == 0 else "") + text, metric=name,
                        **details)
        broken = _coverage(out, p, j, tagged, bm.coverage(j.sums) or 0.0, span)
        if not found and judged.sums.labelled >= p.min_labelled_rows and (
                judged is not j or not broken):
            shown = ", ".join(f"{n} {_fmt(judged.values.get(n))}" for n in headline(p))
            notes = f" ({'; '.join(judged.notes)})" if judged.notes else ""
            at = f" in {where}" if judged is not j else ""
            out.add_for(tagged, Status.OK, "BACKTEST_OK", f"{j.label}{at}: {shown}{notes}",
                        **_estimate_details(j))
        _add_board(out, first, board)
        if judged.sums.labelled < p.min_labelled_rows:
            return f"{j.label}: too few labels ({j.sums.labelled})" + estimate_line(p, j)
        return f"{j.label}: " + ", ".join(f"{n} {_fmt(judged.values.get(n))}"
                                          for n in headline(p)) + estimate_line(p, j)


def read(wh: Warehouse, p: BacktestParams, now: datetime) -> tuple[datetime, list[Judged]]:
    """One query over the lookback as of ``now``: the judged window's end, and per group
    its windows with the judged one's metrics and intervals (what a run and the report
    see)."""
    spec = spec_of(wh, p)
    end = judged_end(p, now)
    start = end - p.lookback_windows * p.window
    # the windows that ended since (waiting for labels) are read in the same query
    last = datetime.fromtimestamp(
        now.timestamp() // p.window.total_seconds() * p.window.total_seconds(), UTC)
    groups = read_groups(wh.backtest(spec, start, max(last, end), p.window), p, start)
    z = statistics.NormalDist().inv_cdf(0.5 + p.confidence / 2)
    for j in groups:
        j.values = bm.metrics(j.sums, p.task)
        j.intervals = bm.intervals(j.sums, p.task, z)
        if p.task == "classification":
            estimate(p, j, end)
    return end, groups


def spec_of(wh: Warehouse, p: BacktestParams) -> BacktestSpec:
    """What the warehouse joins and aggregates for this monitor."""
    return BacktestSpec(
        predictions=wh.table(p.predictions.table), labels=wh.table(p.labels.table),
        time_column=p.predictions.time_column, key=p.predictions.key,
        label_key=p.labels.key, score=p.predictions.score, label=p.labels.label,
        task=p.task, threshold=p.threshold, group_by=p.group_by,
        label_time=p.labels.time_column, resolution=p.auroc_resolution)


def estimate(p: BacktestParams, j: Judged, end: datetime) -> None:
    """The estimated metrics of the windows waiting for labels (those that ended within
    ``feedback_delay``, and those of the lookback with fewer than ``min_labelled_rows``
    labels), and whether to trust them: the calibration of the scores over the
    label-complete windows (the judged one and those before)."""
    windows = [*zip(j.ends, j.earlier, strict=True), (end, j.sums)]
    waiting = [(at, s) for at, s in windows if s.labelled < p.min_labelled_rows]
    j.estimates = {at: bm.estimated(s) for at, s in [*waiting, *j.pending] if s.scored}
    complete = BacktestSums.total([j.sums, *j.earlier])
    if complete.labelled >= p.min_labelled_rows:
        j.calibration = bm.calibration_error(complete, p.auroc_resolution)
    if j.calibration is None:
        j.unreliable = (f"calibration not measured: fewer than min_labelled_rows "
                        f"{p.min_labelled_rows} labelled predictions in the label-complete "
                        f"windows")
    elif j.calibration > p.max_calibration_error:
        j.unreliable = (f"the scores are not calibrated: expected calibration error "
                        f"{j.calibration:.3g} over the label-complete windows is above "
                        f"max_calibration_error {p.max_calibration_error:g}")


def newest_labelled(p: BacktestParams, j: Judged) -> tuple[datetime, Judged] | None:
    """The newest earlier window of the lookback with ``min_labelled_rows`` labels, as a
    judged window of its own (the windows before it its baseline): quality is judged there
    while the judged window waits for late labels."""
    for k in range(len(j.earlier) - 1, -1, -1):
        if j.earlier[k].labelled >= p.min_labelled_rows:
            z = statistics.NormalDist().inv_cdf(0.5 + p.confidence / 2)
            return j.ends[k], Judged(
                group=j.group, label=j.label, sums=j.earlier[k], earlier=j.earlier[:k],
                ends=j.ends[:k], values=bm.metrics(j.earlier[k], p.task),
                intervals=bm.intervals(j.earlier[k], p.task, z), reference=j.reference)
    return None


def when(p: BacktestParams, end: datetime) -> str:
    """The window ending at ``end`` as read: ``2026-03-07`` (a day), ``2026-03-07
    13:00–14:00 UTC`` (within a day), else its start and end."""
    start = end - p.window
    if p.window == timedelta(days=1):  # aligned to days since 1970 UTC: one calendar day
        return f"{start:%Y-%m-%d}"
    if start.date() == (end - timedelta(microseconds=1)).date():
        return f"{start:%Y-%m-%d %H:%M}–{end:%H:%M} UTC"
    return f"{start:%Y-%m-%d %H:%M}–{end:%Y-%m-%d %H:%M} UTC"


def judged_end(p: BacktestParams, now: datetime) -> datetime:
    """The end of the newest window that ended at least ``feedback_delay`` before ``now``
    (windows are aligned to multiples of their length since 1970 UTC)."""
    seconds = p.window.total_seconds()
    index = (now - p.feedback_delay).timestamp() // seconds
    return datetime.fromtimestamp(index * seconds, UTC)


def read_groups(found: Sequence[Any], p: BacktestParams, start: datetime) -> list[Judged]:
    """The judged window (the last of the lookback) and the earlier ones, per group."""
    series: dict[tuple[Any, ...], dict[int, BacktestSums]] = {}
    for w in found:
        series.setdefault(w.group, {})[int((w.start - start) / p.window)] = w.sums
    last = p.lookback_windows - 1
    return [Judged(group=g, label=group_label(p.group_by, g), sums=s.get(last, BacktestSums()),
                   earlier=[s[i] for i in sorted(s) if i < last],
                   ends=[start + (i + 1) * p.window for i in sorted(s) if i < last],
                   pending=[(start + (i + 1) * p.window, s[i]) for i in sorted(s) if i > last])
            for g, s in sorted(series.items(), key=lambda kv: [str(v) for v in kv[0]])]


def _coverage(out: Outcome, p: BacktestParams, j: Judged, group: Group, coverage: float,
              span: str) -> bool:
    """LABEL_COVERAGE_LOW below the declared floor, or far below the usual coverage; True
    when so."""
    usual_of = [c for c in (bm.coverage(s) for s in j.earlier) if c is not None]
    usual = statistics.median(usual_of) if len(usual_of) >= 2 else None
    floor, why = None, ""
    if p.min_coverage is not None and coverage < p.min_coverage:
        floor, why = p.min_coverage, f"min_coverage {p.min_coverage:.0%}"
    elif usual is not None and p.coverage_drop is not None \
            and coverage < (1 - p.coverage_drop) * usual:
        floor = (1 - p.coverage_drop) * usual
        why = f"{floor:.0%}: the usual less coverage_drop {p.coverage_drop:.0%}"
    if floor is None:
        return False
    was = f"usually {usual:.0%}, " if usual is not None else ""
    out.add_for(group, Status.FAIL, "LABEL_COVERAGE_LOW",
                f"{j.label} {span}: only {coverage:.1%} of {j.sums.predictions:,} predictions "
                f"have a label ({was}fails below {why}): the feedback pipeline may be broken",
                coverage=round(coverage, 6), usual=usual, floor=floor)
    return True


def _add_board(out: Outcome, first: int, board: str) -> None:
    """The versions side by side, once per group: after its last problem finding."""
    if not board:
        return
    for k in range(len(out.findings) - 1, first - 1, -1):
        if out.findings[k].status.is_problem:
            f = out.findings[k]
            out.findings[k] = replace(f, message=f.message + board)
            return


def degradations(p: BacktestParams, j: Judged) -> list[tuple[str, str, str, dict[str, Any]]]:
    """``(reason, metric, message, details)`` of each threshold the window is past beyond
    its interval; thresholds crossed inside the interval become notes (suppressed)."""
    found: list[tuple[str, str, str, dict[str, Any]]] = []
    for name, limit in p.thresholds.items():
        value, ci = j.values.get(name), j.intervals.get(name)
        if value is None:
            continue
        for reason, bound, above, what in _limits(p, j, name, limit):
            crossed = value > bound if above else value < bound
            if not crossed:
                continue
            shown = (f"({p.confidence:.0%} interval {ci[0]:.3g}–{ci[1]:.3g})" if ci
                     else "(no interval)")
            if ci is not None and (ci[0] <= bound if above else ci[1] >= bound):
                j.notes.append(f"{name} {value:.3g} past {what} but its {shown[1:-1]} "
                               f"includes it: noise, not judged")
                continue
            said = any(n == name for _, n, _, _ in found)
            found.append((reason, name, (f"{name} is also " if said else
                                         f"{name} {value:.3g} {shown} is ")
                          + f"{'above' if above else 'below'} {what}",
                          {"value": value, "limit": bound, "interval": list(ci or ()),
                           "labelled": j.sums.labelled}))
    return found


def _limits(p: BacktestParams, j: Judged, name: str,
            limit: Limit) -> list[tuple[str, float, bool, str]]:
    """``(reason, bound, degraded above it, description)`` per limit of one metric."""
    out = []
    if limit.min is not None:
        out.append(("METRIC_BELOW_MIN", limit.min, False, f"its min {limit.min:g}"))
    if limit.max is not None:
        out.append(("METRIC_ABOVE_MAX", limit.max, True, f"its max {limit.max:g}"))
    if limit.max_drop is not None:
        base = baseline(p, j, name)
        if base is None:
            j.notes.append(ref.missing(p, j, name) if p.reference and name not in p.baseline
                           else f"{name}: no baseline yet for max_drop")
        else:
            sign = 1 if name in bm.LOWER_IS_BETTER else -1
            origin = "declared" if name in p.baseline else \
                ref.span(p) if p.reference else "the earlier windows"
            out.append(("METRIC_DROPPED", base + sign * limit.max_drop, sign > 0,
                        f"its baseline {base:.3g} ({origin}) {'+' if sign > 0 else '-'} "
                        f"max_drop {limit.max_drop:g} = {base + sign * limit.max_drop:.3g}"))
    return out


def baseline(p: BacktestParams, j: Judged, name: str) -> float | None:
    """The declared value, else the metric over the reference window, else over the earlier
    windows pooled (either with at least ``min_labelled_rows`` labels)."""
    if name in p.baseline:
        return p.baseline[name]
    pooled = BacktestSums.total(j.earlier) if p.reference is None else j.reference
    if pooled is None:
        return None
    if pooled.labelled < p.min_labelled_rows:
        return None
    return bm.metrics(pooled, p.task).get(name)


def headline(p: BacktestParams) -> list[str]:
    """The metrics each group's line shows: the thresholded ones, else two main ones."""
    if p.thresholds:
        return list(p.thresholds)
    return ["auroc", "f1"] if p.task == "classification" else ["rmse", "mae"]


def side_by_side(p: BacktestParams, groups: Sequence[Judged]) -> str:
    """`` | side by side: v3: auroc 0.71 (0.68–0.74) (n 900); v4: ...`` with group_by; a
    group whose judged window has too few labels shows the window judged instead."""
    if not p.group_by or len(groups) < 2:
        return ""
    cells = []
    for j in groups:
        at, newest = "", None
        if j.sums.labelled < p.min_labelled_rows:
            newest = newest_labelled(p, j)
        if newest is not None:
            at, j = f" on {when(p, newest[0])}", newest[1]
        parts = []
        for n in headline(p):
            ci = j.intervals.get(n)
            parts.append(f"{n} {_fmt(j.values.get(n))}"
                         + (f" ({ci[0]:.3g}–{ci[1]:.3g})" if ci else ""))
        absent = " (not in the reference window)" if p.reference and j.reference is None else ""
        cells.append(f"{j.label}{at}: {', '.join(parts)} (n {j.sums.labelled}){absent}")
    return " | side by side: " + "; ".join(cells)


def _emit(out: Outcome, p: BacktestParams, j: Judged, end: datetime) -> None:
    """The judged window's metrics (stamped with its end), the earlier windows' again (each
    at its own end: the same points, refined by labels that landed since, and a history
    even while the newest window waits for its labels), and the whole period's."""
    tags = tuple(f"{c}:{v}" for c, v in zip(p.group_by, j.group, strict=True))
    for sums, at in ((*zip(j.earlier, j.ends, strict=True), (j.sums, end))):
        for name, value in _values(p, sums).items():
            if value is not None:
                out.metric(name, float(value), *tags, timestamp=at.timestamp())
    period = BacktestSums.total([j.sums, *j.earlier])
    judged = period.labelled >= p.min_labelled_rows  # never a period of a handful of rows
    for name, value in (bm.metrics(period, p.task) if judged else {}).items():
        if value is not None:
            out.metric(f"period.{name}", value, *tags, timestamp=end.timestamp())
    if j.calibration is not None:
        out.metric("calibration_error", j.calibration, *tags, timestamp=end.timestamp())
    for at, estimates in j.estimates.items():
        for name, value in estimates.items():
            if value is not None:
                out.metric(f"estimated.{name}", value, *tags, timestamp=at.timestamp())


def _emit_errors(out: Outcome, p: BacktestParams, j: Judged, end: datetime,
                 stored: dict[str, dict[str, float]]) -> None:
    """Realised minus estimated, for each window of the lookback that was estimated while
    it waited for its labels and now has ``min_labelled_rows`` of them."""
    tags = tuple(f"{c}:{v}" for c, v in zip(p.group_by, j.group, strict=True))
    for sums, at in ((*zip(j.earlier, j.ends, strict=True), (j.sums, end))):
        before = stored.get(str(int(at.timestamp())))
        if not before or sums.labelled < p.min_labelled_rows:
            continue
        realised = bm.classification(sums)
        for name, value in before.items():
            now = realised.get(name)
            if now is not None:
                out.metric(f"estimation_error.{name}", now - value, *tags,
                           timestamp=at.timestamp())


def load_estimates(store: History | None, p: BacktestParams) -> Estimates:
    """The estimates stored by earlier runs (none for another window or threshold)."""
    found = store.get_artifact(ESTIMATES_KIND, p.id) if store else None
    if found is None:
        return {}
    payload = found[2]
    if (payload.get("schema"), payload.get("window_seconds"), payload.get("threshold")) != (
            ESTIMATES_SCHEMA, p.window.total_seconds(), p.threshold):
        return {}
    estimates: Estimates = payload.get("estimates", {})
    return estimates


def save_estimates(store: History | None, p: BacktestParams, stored: Estimates,
                   groups: Sequence[Judged], start: datetime) -> None:
    """Add this run's estimates to the stored ones, drop the windows older than the
    lookback, and stage a new version of the document when that changed anything."""
    if store is None or p.task != "classification":
        return
    keep = start.timestamp()
    merged: Estimates = {g: {at: v for at, v in windows.items() if float(at) > keep}
                         for g, windows in stored.items()}
    for j in groups:
        for at, estimates in j.estimates.items():
            merged.setdefault(j.label, {})[str(int(at.timestamp()))] = {
                n: v for n, v in estimates.items() if v is not None and math.isfinite(v)}
    merged = {g: w for g, w in sorted(merged.items()) if w}
    if same_estimates(merged, stored):
        return
    store.put_artifact(ESTIMATES_KIND, p.id, {
        "schema": ESTIMATES_SCHEMA, "window_seconds": p.window.total_seconds(),
        "threshold": p.threshold, "estimates": merged})


def same_estimates(a: Estimates, b: Estimates) -> bool:
    """Equal up to the rounding of the warehouse's float sums (which a parallel engine adds
    in any order), so that a run that changed nothing writes no new version."""
    return a.keys() == b.keys() and all(
        a[g].keys() == b[g].keys() and all(
            a[g][at].keys() == b[g][at].keys()
            and all(math.isclose(v, b[g][at][n], rel_tol=1e-9, abs_tol=1e-12)
                    for n, v in a[g][at].items()) for at in a[g]) for g in a)


def estimate_line(p: BacktestParams, j: Judged) -> str:
    """`` | estimated before labels (3 windows to 2026-03-10 00:00): auroc 0.81, ...``."""
    if not j.estimates:
        return ""
    at, last = max(j.estimates.items())
    shown = ", ".join(f"{n} {_fmt(last.get(n))}" for n in headline(p) if n in last) or \
        ", ".join(f"{n} {_fmt(v)}" for n, v in last.items())
    trust = f" UNRELIABLE: {j.unreliable}" if j.unreliable else ""
    return (f" | estimated before labels ({len(j.estimates)} window(s), the last to "
            f"{at:%Y-%m-%d %H:%M}): {shown}{trust}")


def _estimate_details(j: Judged) -> dict[str, Any]:
    if not j.estimates:
        return {}
    return {"estimated": {f"{at:%Y-%m-%dT%H:%M}Z": v for at, v in j.estimates.items()},
            "calibration_error": j.calibration, "estimates_reliable": not j.unreliable}


def _values(p: BacktestParams, s: BacktestSums) -> dict[str, float | None]:
    """A window's metrics (with at least ``min_labelled_rows`` labels), counts and label
    health."""
    judged = s.labelled >= p.min_labelled_rows
    values: dict[str, float | None] = {
        **(bm.metrics(s, p.task) if judged else {}), "predictions": float(s.predictions),
        "labelled_rows": float(s.labelled), "label_coverage": bm.coverage(s),
        "label_delay_mean": s.delay_sum / s.labelled if p.labels.time_column and s.labelled
        else None,
        **{f"label_delay_seconds.{k}": bm.delay_quantile(s, q)
           for k, q in bm.DELAY_QUANTILES.items()},
        "label_delay_seconds.max": s.delay_max}
    if p.task == "classification" and judged:
        values.update({"tp": s.tp, "fp": s.fp, "tn": s.tn, "fn": s.fn,
                       "auroc_error_bound": bm.auroc_bound(s.scores)})
    return values




def _unit(p: BacktestParams) -> str:
    """What a window is called: day, hour, or window."""
    return {86400: "day", 3600: "hour"}.get(int(p.window.total_seconds()), "window")


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"

