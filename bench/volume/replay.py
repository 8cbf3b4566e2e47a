"""Replay 8 weeks of hourly successful-prediction counts through three drop detectors.

    .venv/bin/python bench/volume/replay.py [--seeds 50]

Each seed draws a series with a daily cycle, quieter weekends, multiplicative noise and
Poisson noise, plants six incidents (drops of 40-100 %, 2-8 hours) and one holiday (a
whole weekday at 50 %, not an incident), and judges every hour of weeks 3-8 with:

- watchdog: :func:`watchdog.checks.volume.baseline.scan`, the code the check runs
  (defaults; once without and once with the holiday in its calendar);
- week over week: a drop of 30 % or more against the same hour a week earlier;
- 3-sigma z-score over the last 14 days of hours (the method of dbt-based anomaly tools).

``--whole`` replays every monitor kind instead (``whole.py``: planted incidents of each
kind in a DuckDB warehouse, ``watchdog run --once`` hour by hour under an injected clock,
pages per team, delays, flaps and false pages).

Recall: incidents with an alert during them. False alerts: alert episodes (runs of
alerting hours) outside incidents, per week. Delay: hours from an incident's first hour to
its first alerting hour (0 = the first hour was caught).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from watchdog.checks.volume.baseline import Thresholds, scan

PERIOD, WEEKS, FIRST = 168, 8, 2 * 168
#: (day of the evaluated weeks, start hour, hours, fraction of normal volume left)
INCIDENTS = [(3, 10, 6, 0.6), (9, 13, 3, 0.0), (16, 2, 2, 0.4), (22, 18, 8, 0.6),
             (30, 11, 4, 0.5), (38, 6, 3, 0.3)]
HOLIDAY_DAY = 24  # a weekday (of the evaluated weeks) at 50 %
Detector = Callable[[np.ndarray, set[int]], set[int]]


def series(seed: int) -> tuple[np.ndarray, list[range], range]:
    """Hourly counts, the incident windows, and the holiday's windows."""
    rng = np.random.default_rng(seed)
    hours = np.arange(WEEKS * PERIOD)
    daily = 1 + 0.6 * np.sin(2 * np.pi * ((hours % 24) - 9) / 24)
    weekend = np.where((hours % PERIOD) // 24 >= 5, 0.55, 1.0)
    mean = 300 * daily * weekend * rng.lognormal(0, 0.08, hours.size)
    incidents = []
    for day, hour, length, left in INCIDENTS:
        start = FIRST + day * 24 + hour
        incidents.append(range(start, start + length))
        mean[start:start + length] *= left
    holiday = range(FIRST + HOLIDAY_DAY * 24, FIRST + (HOLIDAY_DAY + 1) * 24)
    mean[holiday.start:holiday.stop] *= 0.5
    return rng.poisson(mean).astype(float), incidents, holiday


def watchdog(values: np.ndarray, holidays: set[int]) -> set[int]:
    data = {i: float(v) for i, v in enumerate(values)}
    return scan(data, range(FIRST, values.size), PERIOD, Thresholds(), holidays=holidays)[1]


def week_over_week(values: np.ndarray, _holidays: set[int]) -> set[int]:
    return {i for i in range(FIRST, values.size) if values[i] <= 0.7 * values[i - PERIOD]}


def zscore_14d(values: np.ndarray, _holidays: set[int]) -> set[int]:
    out = set()
    for i in range(FIRST, values.size):
        past = values[i - 14 * 24:i]
        if (values[i] - past.mean()) / past.std() <= -3:
            out.add(i)
    return out


def score(alerts: set[int], incidents: list[range], n: int) -> tuple[int, int, list[int]]:
    """(incidents caught, false alert episodes, delays in hours)."""
    inside = set().union(*incidents)
    caught, delays = 0, []
    for r in incidents:
        hits = sorted(alerts & set(r))
        if hits:
            caught += 1
            delays.append(hits[0] - r.start)
    false = sorted(a for a in alerts if a not in inside)
    episodes = sum(1 for k, a in enumerate(false) if k == 0 or false[k - 1] != a - 1)
    return caught, episodes, delays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--whole", action="store_true", help="replay every monitor kind "
                        "hour by hour through the runner (bench/volume/whole.py)")
    parser.add_argument("--no-calendar", action="store_true",
                        help="--whole without the holiday calendar")
    parser.add_argument("--events", metavar="FILE",
                        help="--whole: also write every event sent, one JSON per line")
    args = parser.parse_args()
    if args.whole:
        from bench.volume.whole import main as whole

        whole(calendar=not args.no_calendar, keep=args.events)
        return
    detectors: dict[str, tuple[Detector, bool]] = {
        "watchdog (holiday in calendar)": (watchdog, True),
        "watchdog (no calendar)": (watchdog, False),
        "week over week, -30 %": (week_over_week, False),
        "z-score 3 sigma, last 14 days": (zscore_14d, False),
    }
    weeks = (WEEKS * PERIOD - FIRST) / PERIOD * args.seeds
    print(f"{args.seeds} series x {len(INCIDENTS)} incidents, {weeks:.0f} evaluated weeks\n")
    print("| detector | recall | false alerts / week | on the holiday | mean delay (h) |")
    print("|---|---|---|---|---|")
    for name, (detect, calendar) in detectors.items():
        caught = false = holiday_hits = 0
        delays: list[int] = []
        for seed in range(args.seeds):
            values, incidents, holiday = series(seed)
            alerts = detect(values, set(holiday) if calendar else set())
            c, f, d = score(alerts, incidents, values.size)
            caught, false, delays = caught + c, false + f, delays + d
            holiday_hits += bool(alerts & set(holiday))
        total = len(INCIDENTS) * args.seeds
        print(f"| {name} | {caught / total:.0%} ({caught}/{total}) | {false / weeks:.2f} "
              f"| {holiday_hits}/{args.seeds} series | {np.mean(delays) if delays else '—':.3} |")


if __name__ == "__main__":
    main()
