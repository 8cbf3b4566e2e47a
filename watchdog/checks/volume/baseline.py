"""Seasonal baselines and verdicts for counts per window: pure functions, no I/O.

The same code judges a live poll (:mod:`watchdog.checks.volume.check`) and replays a whole
series in ``bench/volume``. Windows are numbered by their start, ``epoch // window``, so
``i - period`` is the same window one week earlier (``period`` windows per week).

The expected volume of window ``i`` is the **median of its comparable windows**: the same
hour of week (or day of week, for daily windows) in the last ``weeks`` weeks, leaving
out windows already flagged as anomalous and holidays (reaching further back instead, up to
twice as far), so that an incident never teaches
the baseline that it is normal. Its spread is a **robust z-score** on the square-root
(Anscombe) scale, ``2 * sqrt(x + 3/8)``, where Poisson noise has unit variance whatever
the volume; its scale is the pooled MAD of the last two weeks' residuals from their own
baselines (the series' overdispersion; the comparable windows' MAD until there are enough),
never below Poisson noise. A window
is a drop (or spike) only when every threshold agrees: the relative change, the z-score,
a minimum expected volume and, by default, week over week (the most recent clean
comparable window). Zero successes where at least ``min_expected`` were expected is always
an anomaly.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass
from statistics import median
from typing import Literal

Direction = Literal["drop", "spike", "both"]
Anomaly = Literal["drop", "spike", "zero"]
#: MAD × this estimates a normal standard deviation.
MAD_SCALE = 1.4826

#: Reason codes of a verdict (``None`` anomaly: the OK reasons).
REASONS: dict[Anomaly | None, str] = {
    "drop": "VOLUME_BELOW_BASELINE",
    "spike": "VOLUME_ABOVE_BASELINE",
    "zero": "ZERO_SUCCESSES",
    None: "VOLUME_OK",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Thresholds:
    """When a window's count is anomalous against its baseline."""

    direction: Direction = "drop"
    min_change: float = 0.3  # relative change from expected, 0.3 = 30 %
    min_z: float = 3.5  # robust z-score (absolute value)
    min_expected: float = 10.0  # below this expected volume nothing is judged
    week_over_week: bool = True  # the last clean comparable window must agree too
    weeks: int = 4  # comparable windows: the same window in this many previous weeks
    min_windows: int = 2  # clean comparable windows needed to judge at all


@dataclass(frozen=True, slots=True, kw_only=True)
class Baseline:
    """What a window was compared with."""

    expected: float | None  # median of the clean comparable windows
    week_over_week: float | None  # the most recent clean comparable window
    used: tuple[float, ...] = ()  # the clean comparable windows, newest first
    left_out: int = 0  # comparable windows skipped as flagged or holiday

    def describe(self, window_name: str) -> str:
        """``"median of 4 same-hour-of-week windows (1 flagged or holiday left out)"``."""
        text = f"median of {len(self.used)} same-{window_name} windows"
        if self.left_out:
            text += f" ({self.left_out} flagged or holiday left out)"
        if self.week_over_week is not None:
            text += f"; week over week {self.week_over_week:g}"
        return text


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    """The judgement of one window."""

    index: int
    actual: float
    baseline: Baseline
    z: float | None = None
    change: float | None = None  # actual / expected - 1
    anomaly: Anomaly | None = None
    judged: bool = True  # False: too little history, too low a volume, or a holiday
    note: str = ""

    @property
    def reason(self) -> str:
        return REASONS[self.anomaly]

    @property
    def ratio(self) -> float | None:
        """Actual over expected (None without a positive expectation)."""
        expected = self.baseline.expected
        return self.actual / expected if expected else None


def anscombe(x: float) -> float:
    """The variance-stabilising transform of a count: Poisson noise becomes unit variance."""
    return 2.0 * math.sqrt(max(x, 0.0) + 0.375)


def robust_z(
    actual: float, history: Iterable[float], spread: float | None = None
) -> float | None:
    """Robust z-score of ``actual`` against ``history`` on the Anscombe scale (None: no history).

    The scale is ``spread`` when given, else the MAD of ``history``; never below 1.0, pure
    Poisson noise.
    """
    values = [anscombe(h) for h in history]
    if not values:
        return None
    center = median(values)
    scale = spread if spread is not None else MAD_SCALE * median(abs(v - center) for v in values)
    return (anscombe(actual) - center) / max(scale, 1.0)


def pooled_spread(residuals: Sequence[float]) -> float | None:
    """The noise of a series: the MAD of its recent windows' residuals from their baselines.

    On the Anscombe scale noise is alike at every volume, so the windows of the last two
    weeks pool into a steadier scale than four comparable windows give. None: too few yet.
    """
    if len(residuals) < 24:
        return None
    return MAD_SCALE * median(abs(r) for r in residuals)


def baseline(
    values: Mapping[int, float], index: int, period: int, weeks: int, excluded: Set[int]
) -> Baseline:
    """The baseline of window ``index``: the same window in the last ``weeks`` clean weeks.

    Flagged, holiday and missing weeks are skipped, reaching back at most ``2 * weeks``
    weeks, so that a long incident does not leave too few comparable windows.
    """
    used: list[float] = []
    left_out = 0
    for k in range(1, 2 * weeks + 1):
        if len(used) == weeks:
            break
        j = index - k * period
        if j in excluded:
            left_out += 1
        elif j in values:
            used.append(values[j])
    return Baseline(
        expected=median(used) if used else None,
        week_over_week=used[0] if used else None,
        used=tuple(used), left_out=left_out,
    )


def judge(
    index: int, actual: float, base: Baseline, t: Thresholds, spread: float | None = None
) -> Verdict:
    """Compare one window's count with its baseline; ``spread`` is the z-score's scale."""
    expected = base.expected
    if expected is None or len(base.used) < t.min_windows:
        return Verdict(index=index, actual=actual, baseline=base, judged=False,
                       note=f"{len(base.used)} comparable windows, {t.min_windows} needed")
    z = robust_z(actual, base.used, spread)
    change = actual / expected - 1 if expected > 0 else None
    if expected < t.min_expected:
        return Verdict(index=index, actual=actual, baseline=base, z=z, change=change,
                       judged=False, note=f"expected {expected:g} < min_expected")
    anomaly: Anomaly | None = None
    if actual <= 0:
        anomaly = "zero"
    elif t.direction in ("drop", "both") and _beyond(actual, base, z, t, -1):
        anomaly = "drop"
    elif t.direction in ("spike", "both") and _beyond(actual, base, z, t, +1):
        anomaly = "spike"
    return Verdict(index=index, actual=actual, baseline=base, z=z, change=change,
                   anomaly=anomaly)


def _beyond(actual: float, base: Baseline, z: float | None, t: Thresholds, sign: int) -> bool:
    """Every threshold agrees that ``actual`` moved in direction ``sign`` (-1 drop, +1 spike)."""
    assert base.expected is not None and z is not None

    def moved(reference: float) -> bool:
        return sign * (actual - reference) >= t.min_change * reference

    if not moved(base.expected) or sign * z < t.min_z:
        return False
    wow = base.week_over_week
    return not (t.week_over_week and wow is not None and not moved(wow))


def scan(
    values: Mapping[int, float], indices: Iterable[int], period: int, t: Thresholds,
    flagged: Set[int] = frozenset(), holidays: Set[int] = frozenset(),
) -> tuple[dict[int, Verdict], set[int]]:
    """Judge ``indices`` oldest first, each against a baseline without earlier anomalies.

    ``flagged`` are windows known to be anomalous already (from earlier polls); holidays are
    neither judged nor used as baselines. Returns the verdicts and every flagged window.
    """
    flags = set(flagged)
    verdicts: dict[int, Verdict] = {}
    residuals: deque[float] = deque(maxlen=2 * period)
    for i in sorted(indices):
        actual = values.get(i, 0.0)
        base = baseline(values, i, period, t.weeks, flags | holidays)
        if i in holidays:
            verdicts[i] = Verdict(index=i, actual=actual, baseline=base, judged=False,
                                  note="holiday")
            continue
        verdict = judge(i, actual, base, t, pooled_spread(residuals))
        verdicts[i] = verdict
        if verdict.anomaly is not None:
            flags.add(i)
        elif base.expected is not None and base.expected >= t.min_expected:
            residuals.append(anscombe(actual) - median(anscombe(u) for u in base.used))
    return verdicts, flags


@dataclass(frozen=True, slots=True, kw_only=True)
class Sustained:
    """A drop too shallow for any one window but sustained over several: the lower CUSUM
    of their z-scores crossed ``-h``, and together they are ``change`` below expectation."""

    windows: tuple[int, ...]  # the windows of the run, oldest first
    cusum: float
    change: float
    actual: float
    expected: float


def sustained_drop(
    verdicts: Mapping[int, Verdict], end: int, stride: int, t: Thresholds,
    k: float = 0.5, h: float = 5.0, depth: int = 12,
) -> Sustained | None:
    """A lower CUSUM (Page, 1954) over the non-overlapping windows ``end``, ``end - stride``,
    … (at most ``depth``), oldest first: ``S = min(0, S + z + k)``, alarm at ``S <= -h``.

    With the default ``k = 0.5, h = 5`` a run of z-scores near -3 (a -50 % drop at a low
    volume, too noisy to pass ``min_z`` alone) alarms at its second or third window, while
    noise alone takes hundreds of windows on average; the run's summed counts must also be
    ``min_change`` below their summed expectation, so a shallow dip never fires. Windows
    not judged (holidays, too little history or volume) end a run.
    """
    run: list[Verdict] = []
    total = 0.0
    for i in range(end - (depth - 1) * stride, end + 1, stride):
        v = verdicts.get(i)
        if v is None or not v.judged or v.z is None or v.baseline.expected is None:
            run, total = [], 0.0
            continue
        total = min(0.0, total + v.z + k)
        run = [*run, v] if total < 0 else []
    if total > -h or not run or run[-1].index != end:
        return None
    actual = sum(v.actual for v in run)
    expected = sum(v.baseline.expected or 0.0 for v in run)
    change = actual / expected - 1 if expected > 0 else 0.0
    if change > -t.min_change:
        return None
    return Sustained(windows=tuple(v.index for v in run), cusum=total, change=change,
                     actual=actual, expected=expected)
