"""Prediction volume: the silent drop in successful predictions, against seasonal baselines.

One grouped query per poll counts all and successful rows per window (and group) over the
lookback; :mod:`watchdog.checks.volume_baseline` judges the newest complete window of each
group against the same window in previous weeks. Windows judged anomalous are remembered in
the state store (artifact ``volume_flags``) and left out of later baselines. The time since
the last successful prediction is judged too, so a dead pipeline is caught with no history.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

import pydantic
from pydantic import BeforeValidator, Field

from watchdog.checks.base import Check, CheckContext, History, Outcome
from watchdog.checks.freshness import human
from watchdog.checks.volume_baseline import Thresholds, Verdict, scan
from watchdog.config.models import Duration, Filter, MonitorConfig
from watchdog.models import CheckResult, Group, Metric, Status, WindowCount

WEEK = timedelta(days=7)
FLAGS_KIND = "volume_flags"
FLAGS_SCHEMA = 1
METRIC_PREFIX = "watchdog.predictions"


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, dict) else value


class VolumeParams(MonitorConfig):
    """``kind: volume``: successful predictions per window against seasonal baselines."""

    kind: str = "volume"
    table: str = Field(description="Prediction log table, e.g. main.predictions.")
    time_column: str = Field(description="When the prediction was made.")
    success: Annotated[tuple[Filter, ...], BeforeValidator(_as_list)] = Field(
        min_length=1, description="What a successful prediction is: one filter or a list "
        "(all must hold), e.g. {column: status, value: success}.")
    where: tuple[Filter, ...] = Field((), description="Only rows matching all these filters.")
    group_by: tuple[str, ...] = Field((), max_length=4,
                                      description="Judge each group apart (model, version).")
    window: Duration = Field(timedelta(hours=1), description="Window size; divides a week.")
    lateness: Duration = Field(timedelta(minutes=15),
                               description="A window is judged this long after it ends.")
    lookback: Duration | None = Field(None, description="History read per poll; default "
                                      "baseline_weeks + 1 weeks.")
    baseline_weeks: int = Field(4, ge=1, le=12, description="Comparable windows: the same "
                                "window in this many previous weeks.")
    min_baseline_windows: int = Field(2, ge=1, description="Clean comparable windows needed.")
    direction: Literal["drop", "spike", "both"] = "drop"
    min_change_pct: float = Field(30.0, gt=0, le=1000, description="Relative change, percent.")
    min_z: float = Field(3.0, ge=0, description="Robust z-score (square-root scale).")
    min_expected: float = Field(10.0, ge=0, description="Judge only windows expecting this many.")
    week_over_week: bool = Field(True, description="Last week's window must agree too.")
    max_silence: Duration | None = Field(None, description="FAIL when the last successful "
                                         "prediction is older; default 2 windows + lateness.")
    holidays: tuple[date, ...] = Field((), description="UTC dates neither judged nor used "
                                       "as baselines.")

    @pydantic.model_validator(mode="after")
    def _consistent(self) -> VolumeParams:
        if self.window < timedelta(minutes=1) or WEEK % self.window:
            raise ValueError("window must be at least 1m and divide a week (15m, 1h, 6h, 1d)")
        if self.min_baseline_windows > self.baseline_weeks:
            raise ValueError("min_baseline_windows must not exceed baseline_weeks")
        if self.lookback is not None and self.lookback < WEEK + self.window:
            raise ValueError("lookback must cover at least a week and a window")
        if self.lateness < timedelta(0):
            raise ValueError("lateness must not be negative")
        return self

    @property
    def history(self) -> timedelta:
        return self.lookback or (self.baseline_weeks + 1) * WEEK

    @property
    def silence_limit(self) -> timedelta:
        return self.max_silence or 2 * self.window + self.lateness

    def thresholds(self) -> Thresholds:
        return Thresholds(
            direction=self.direction, min_change=self.min_change_pct / 100, min_z=self.min_z,
            min_expected=self.min_expected, week_over_week=self.week_over_week,
            weeks=self.baseline_weeks, min_windows=self.min_baseline_windows,
        )


class VolumeCheck(Check):
    """FAIL on a drop (or spike) of successful predictions, zero successes, or silence."""

    KIND = "volume"
    Params = VolumeParams

    def run(self, ctx: CheckContext) -> CheckResult:
        p = self.monitor
        assert isinstance(p, VolumeParams)
        table = ctx.warehouse.table(p.table)
        found = read_series(ctx.warehouse, p, ctx.now, ctx.history)
        out = self.outcome(str(table))
        lines: list[str] = []
        for s in found.series:
            tagged = _group(p.group_by, s.group)
            before = len(out.findings)
            lines.append(self._judge(out, p, s.label, s.group, s.verdicts[found.judged],
                                     s.windows, found.seconds))
            self._silence(out, p, s.label, tagged, s.windows, ctx.now)
            if len(out.findings) == before:  # the group is fine: its alert may recover
                out.add_for(tagged, Status.OK, "VOLUME_OK", lines[-1])
        if not lines:
            out.add(Status.FAIL, "PREDICTIONS_SILENT",
                    f"{table}: no predictions at all in the last {human(p.history)}",
                    lookback=human(p.history))
        _save_flags(ctx.history, p.id, found.seconds, found.flags)
        return out.result(f"{table}: " + "; ".join(lines[:3]) + ("; …" if len(lines) > 3 else ""))

    def _judge(self, out: Outcome, p: VolumeParams, label: str, group: tuple[Any, ...],
               verdict: Verdict, windows: dict[int, WindowCount], seconds: int) -> str:
        """Metrics and a finding for the judged window; the group's line for the summary."""
        window = windows.get(verdict.index) or _empty(verdict.index, seconds, group)
        self._metrics(out, p, group, verdict, window)
        span = f"{window.start:%Y-%m-%d %H:%M}–{window.end:%H:%M} UTC"
        base = verdict.baseline
        if base.expected is None:
            return f"{label}: {verdict.actual:g} successful in {span} ({verdict.note})"
        seen = (f"{label}: {verdict.actual:g} successful predictions in {span}, expected "
                f"{base.expected:g}")
        if verdict.anomaly is None:
            extra = f", {verdict.note}" if not verdict.judged else ""
            ratio = f" ({verdict.ratio:.0%}{extra})" if verdict.ratio is not None else ""
            return seen + ratio
        change = f"{verdict.change:+.0%}" if verdict.change is not None else "n/a"
        z = f"{verdict.z:+.1f}" if verdict.z is not None else "n/a"
        used = base.describe(_slot_name(p.window))
        out.add_for(_group(p.group_by, group), Status.FAIL, verdict.reason,
                    f"{seen} ({change}, robust z {z}; {used})",
                    window_start=window.start.isoformat(), actual=verdict.actual,
                expected=base.expected, week_over_week=base.week_over_week,
                baseline=list(base.used), z=verdict.z, change=verdict.change)
        return f"{label}: {verdict.reason} ({verdict.actual:g} vs {base.expected:g})"

    def _metrics(self, out: Outcome, p: VolumeParams, group: tuple[Any, ...],
                 verdict: Verdict, window: WindowCount) -> None:
        # Stamped at the window's end: Datadog drops points more than an hour old.
        tags = (*out.base_tags, *(f"{c}:{v}" for c, v in zip(p.group_by, group, strict=True)))
        ts = window.end.timestamp()
        values = {"count": float(window.successes), "expected": verdict.baseline.expected,
                  "success_ratio": window.success_ratio, "ratio_to_expected": verdict.ratio}
        out.metrics.extend(
            Metric(name=f"{METRIC_PREFIX}.{k}", value=v, tags=tags, timestamp=ts)
            for k, v in values.items() if v is not None
        )

    @staticmethod
    def _silence(out: Outcome, p: VolumeParams, label: str, group: Group,
                 windows: dict[int, WindowCount], now: datetime) -> None:
        last = max((w.last_success for w in windows.values() if w.last_success), default=None)
        limit = p.silence_limit
        if last is None:
            out.add_for(group, Status.FAIL, "PREDICTIONS_SILENT",
                        f"{label}: no successful prediction in the last {human(p.history)}",
                        max_silence=human(limit))
        elif now - last > limit:
            out.add_for(group, Status.FAIL, "PREDICTIONS_SILENT",
                        f"{label}: last successful prediction {human(now - last)} ago "
                        f"(limit {human(limit)})", last_success=last.isoformat(),
                        max_silence=human(limit))


@dataclass(frozen=True, slots=True)
class Series:
    """One group's windows over the lookback and the verdict on each."""

    group: tuple[Any, ...]
    label: str
    windows: dict[int, WindowCount]
    verdicts: dict[int, Verdict]


@dataclass(frozen=True, slots=True)
class Found:
    """What one read of a volume monitor's table says: window indices are ``start //
    seconds``; ``judged`` is the newest complete window; ``flags`` the anomalous windows
    per group key (those remembered from earlier polls included); ``holidays`` the windows
    neither judged nor used as baselines."""

    seconds: int
    first: int
    judged: int
    series: list[Series]
    flags: dict[str, set[int]]
    holidays: frozenset[int]


def read_series(wh: Any, p: VolumeParams, now: datetime, store: History | None) -> Found:
    """Count the lookback in one query and judge every window of every group, oldest first
    (what a poll does; the volume report draws the same)."""
    table = wh.table(p.table)
    seconds = int(p.window.total_seconds())
    judged = int((now - p.lateness).timestamp() // seconds) - 1
    first = judged + 1 - int(p.history.total_seconds() // seconds)
    rows = wh.count_successes(
        table, p.time_column, datetime.fromtimestamp(first * seconds, UTC), now, p.window,
        [f.predicate() for f in p.success], p.group_by, [f.predicate() for f in p.where])
    flags = _load_flags(store, p.id, seconds, first)
    holidays = _holiday_indices(p.holidays, seconds, first, judged)
    series = []
    for group, windows in _by_group(rows, seconds).items():
        key = _group_key(group)
        values = {i: float(w.successes) for i, w in windows.items() if i <= judged}
        verdicts, flagged = scan(values, range(first, judged + 1), WEEK // p.window,
                                 p.thresholds(), flags.get(key, set()), holidays)
        flags[key] = {i for i in flagged if i >= first}
        series.append(Series(group, _label(p.group_by, group), windows, verdicts))
    return Found(seconds, first, judged, series, flags, frozenset(holidays))


def _by_group(rows: Sequence[WindowCount], seconds: int) -> dict[tuple[Any, ...],
                                                                  dict[int, WindowCount]]:
    groups: dict[tuple[Any, ...], dict[int, WindowCount]] = {}
    for w in rows:
        groups.setdefault(w.group, {})[int(w.start.timestamp() // seconds)] = w
    return groups


def _empty(index: int, seconds: int, group: tuple[Any, ...]) -> WindowCount:
    start = datetime.fromtimestamp(index * seconds, UTC)
    return WindowCount(start=start, end=start + timedelta(seconds=seconds), group=group,
                       total=0, successes=0)


def _group(group_by: Sequence[str], group: tuple[Any, ...]) -> Group:
    """The alert group of one series: ``(("model", "churn"),)``; () when not grouped."""
    return tuple((c, str(v)) for c, v in zip(group_by, group, strict=True))


def _label(group_by: Sequence[str], group: tuple[Any, ...]) -> str:
    if not group_by:
        return "all predictions"
    return ", ".join(f"{c}={v}" for c, v in zip(group_by, group, strict=True))


def _group_key(group: tuple[Any, ...]) -> str:
    return json.dumps([None if v is None else str(v) for v in group])


def _slot_name(window: timedelta) -> str:
    if window == timedelta(hours=1):
        return "hour-of-week"
    if window == timedelta(days=1):
        return "day-of-week"
    return f"{human(window)}-slot-of-week"


def _holiday_indices(days: Sequence[date], seconds: int, first: int, last: int) -> set[int]:
    """Windows (between ``first`` and ``last``) that start on one of the holidays (UTC)."""
    wanted = set(days)
    return {i for i in range(first, last + 1)
            if datetime.fromtimestamp(i * seconds, UTC).date() in wanted} if wanted else set()


def _load_flags(store: History | None, monitor_id: str, seconds: int,
                first: int) -> dict[str, set[int]]:
    """Windows flagged on earlier polls, per group; a document of another shape is ignored."""
    found = store.get_artifact(FLAGS_KIND, monitor_id) if store else None
    if found is None:
        return {}
    payload = found[2]
    if payload.get("schema") != FLAGS_SCHEMA or payload.get("window_seconds") != seconds:
        return {}
    return {k: {int(i) for i in v if int(i) >= first} for k, v in payload["flags"].items()}


def _save_flags(store: History | None, monitor_id: str, seconds: int,
                flags: dict[str, set[int]]) -> None:
    """Store a new version of the flags document only when the flags changed."""
    if store is None:
        return
    wanted = {k: sorted(v) for k, v in sorted(flags.items()) if v}
    found = store.get_artifact(FLAGS_KIND, monitor_id)
    if found is not None and found[2].get("flags") == wanted \
            and found[2].get("window_seconds") == seconds:
        return
    store.put_artifact(FLAGS_KIND, monitor_id, {"schema": FLAGS_SCHEMA,
                                                "window_seconds": seconds, "flags": wanted})
