"""Prediction volume: the silent drop in successful predictions, against seasonal baselines.

One grouped query per poll counts all and successful rows per window (and group) over the
lookback; :mod:`watchdog.checks.volume.baseline` judges the newest complete window of each
group against the same window in previous weeks. Windows judged anomalous are remembered in
the state store (artifact ``volume_flags``) and left out of later baselines. The time since
the last successful prediction is judged too, so a dead pipeline is caught with no history.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from watchdog.checks.base import Check, CheckContext, History, Outcome, human
from watchdog.checks.groups import alert_group, group_label
from watchdog.checks.volume.baseline import Sustained, Verdict, scan, sustained_drop
from watchdog.checks.volume.params import WEEK, VolumeParams
from watchdog.config.models import Calendar
from watchdog.models import CheckResult, Group, Metric, Status, WindowCount

FLAGS_KIND = "volume_flags"
FLAGS_SCHEMA = 2  # 2: windows indexed by their last step (sliding)
METRIC_PREFIX = "watchdog.predictions"


class VolumeCheck(Check[VolumeParams]):
    """FAIL on a drop (or spike) of successful predictions, zero successes, or silence."""

    KIND = "volume"
    Params = VolumeParams

    def run(self, ctx: CheckContext) -> CheckResult:
        p = self.monitor
        table = ctx.warehouse.table(p.table)
        found = read_series(ctx.warehouse, p, ctx.now, ctx.history, ctx.config.holidays)
        out = self.outcome(str(table))
        lines: list[str] = []
        for s in found.series:
            tagged = alert_group(p.group_by, s.group)
            before = len(out.findings)
            lines.append(self._judge(out, p, s.label, s.group, s.verdicts[found.judged],
                                     s.windows, found.seconds))
            if s.sustained is not None and s.verdicts[found.judged].anomaly is None:
                lines[-1] = self._sustained(out, p, s, tagged, found.seconds)
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
        out.add_for(alert_group(p.group_by, group), Status.FAIL, verdict.reason,
                    f"{seen} ({change}, robust z {z}; {used})",
                    window_start=window.start.isoformat(), actual=verdict.actual,
                expected=base.expected, week_over_week=base.week_over_week,
                baseline=list(base.used), z=verdict.z, change=verdict.change)
        return f"{label}: {verdict.reason} ({verdict.actual:g} vs {base.expected:g})"

    @staticmethod
    def _sustained(out: Outcome, p: VolumeParams, s: Series, group: Group,
                   seconds: int) -> str:
        run = s.sustained
        assert run is not None
        start = datetime.fromtimestamp((run.windows[0] + 1) * seconds, UTC) - p.window
        end = datetime.fromtimestamp((run.windows[-1] + 1) * seconds, UTC)
        text = (f"{s.label}: {run.actual:g} successful predictions in {start:%Y-%m-%d %H:%M}–"
                f"{end:%H:%M} UTC ({len(run.windows)} windows), expected {run.expected:g} "
                f"({run.change:+.0%}; a sustained drop, CUSUM {run.cusum:.1f})")
        out.add_for(group, Status.FAIL, "VOLUME_SUSTAINED_DROP", text, actual=run.actual,
                    expected=run.expected, change=run.change, cusum=run.cusum,
                    windows=len(run.windows), window_start=start.isoformat())
        return f"{s.label}: VOLUME_SUSTAINED_DROP ({run.actual:g} vs {run.expected:g})"

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
    """One group's sliding windows over the lookback (by the index of their last step) and
    the verdict on each; a sustained drop ending at the judged window, if any."""

    group: tuple[Any, ...]
    label: str
    windows: dict[int, WindowCount]
    verdicts: dict[int, Verdict]
    sustained: Sustained | None = None


@dataclass(frozen=True, slots=True)
class Found:
    """What one read of a volume monitor's table says. Windows slide by ``seconds`` (the
    step): window ``i`` ends where step ``i`` ends, ``i = step start // seconds``;
    ``judged`` is the newest complete one; ``flags`` the anomalous windows per group key
    (those remembered from earlier polls included); ``holidays`` the windows neither
    judged nor used as baselines."""

    seconds: int
    first: int
    judged: int
    series: list[Series]
    flags: dict[str, set[int]]
    holidays: frozenset[int]
    stride: int = 1  # steps per window

    def start(self, index: int) -> datetime:
        """When window ``index`` starts."""
        return datetime.fromtimestamp((index - self.stride + 1) * self.seconds, UTC)

    def tiling(self, first: int | None = None) -> list[int]:
        """Windows that tile the lookback (from ``first``) without overlap, ending with the
        judged one, oldest first."""
        low = max(self.first, first if first is not None else self.first)
        return list(range(self.judged, low - 1, -self.stride))[::-1]


def read_series(wh: Any, p: VolumeParams, now: datetime, store: History | None,
                calendar: Calendar | None = None) -> Found:
    """Count the lookback in one query (per step) and judge every sliding window of every
    group, oldest first (what a poll does; the volume report draws the same)."""
    table = wh.table(p.table)
    seconds = int(p.slide.total_seconds())
    k = int(p.window.total_seconds()) // seconds  # steps per window
    judged = int((now - p.lateness).timestamp() // seconds) - 1
    first = judged + 1 - int(p.history.total_seconds() // seconds) + k - 1
    rows = wh.count_successes(
        table, p.time_column, datetime.fromtimestamp((first - k + 1) * seconds, UTC), now,
        p.slide, [f.predicate() for f in p.success], p.group_by,
        [f.predicate() for f in p.where])
    flags = _load_flags(store, p.id, seconds, first)
    holidays = _holiday_indices(p.holidays or calendar, seconds, k, first, judged)
    period, thresholds = WEEK // p.slide, p.thresholds()
    series = []
    for group, steps in _by_group(rows, seconds).items():
        key = _group_key(group)
        windows = {i: _window(steps, i, k, seconds, group) for i in range(first, judged + 1)}
        values = {i: float(w.successes) for i, w in windows.items()}
        verdicts, flagged = scan(values, range(first, judged + 1), period, thresholds,
                                 flags.get(key, set()), holidays)
        run = sustained_drop(verdicts, judged, k, thresholds) if p.sustained \
            and p.direction != "spike" else None
        flags[key] = {i for i in flagged | set(run.windows if run else ()) if i >= first}
        series.append(Series(group, group_label(p.group_by, group), windows, verdicts, run))
    return Found(seconds, first, judged, series, flags, frozenset(holidays), k)


def _by_group(rows: Sequence[WindowCount], seconds: int) -> dict[tuple[Any, ...],
                                                                  dict[int, WindowCount]]:
    groups: dict[tuple[Any, ...], dict[int, WindowCount]] = {}
    for w in rows:
        groups.setdefault(w.group, {})[int(w.start.timestamp() // seconds)] = w
    return groups


def _window(steps: dict[int, WindowCount], end: int, k: int, seconds: int,
            group: tuple[Any, ...]) -> WindowCount:
    """The sliding window of the ``k`` steps ending with step ``end``."""
    parts = [steps[i] for i in range(end - k + 1, end + 1) if i in steps]
    lasts = [w.last_success for w in parts if w.last_success is not None]
    start = datetime.fromtimestamp((end - k + 1) * seconds, UTC)
    return WindowCount(start=start, end=start + timedelta(seconds=k * seconds), group=group,
                       total=sum(w.total for w in parts),
                       successes=sum(w.successes for w in parts),
                       last_success=max(lasts) if lasts else None)


def _empty(index: int, seconds: int, group: tuple[Any, ...]) -> WindowCount:
    start = datetime.fromtimestamp(index * seconds, UTC)
    return WindowCount(start=start, end=start + timedelta(seconds=seconds), group=group,
                       total=0, successes=0)




def _group_key(group: tuple[Any, ...]) -> str:
    return json.dumps([None if v is None else str(v) for v in group])


def _slot_name(window: timedelta) -> str:
    if window == timedelta(hours=1):
        return "hour-of-week"
    if window == timedelta(days=1):
        return "day-of-week"
    return f"{human(window)}-slot-of-week"


def _holiday_indices(calendar: Calendar | None, seconds: int, k: int, first: int,
                     last: int) -> set[int]:
    """Windows (ending with steps ``first`` to ``last``) that touch a holiday (UTC days)."""
    if calendar is None:
        return set()
    start_day = datetime.fromtimestamp((first - k + 1) * seconds, UTC).date()
    days = calendar.days(start_day, datetime.fromtimestamp((last + 1) * seconds, UTC).date())
    if not days:
        return set()
    steps = {i for i in range(first - k + 1, last + 1)
             if datetime.fromtimestamp(i * seconds, UTC).date() in days}
    return {i for i in range(first, last + 1) if any(j in steps for j in range(i - k + 1, i + 1))}


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
