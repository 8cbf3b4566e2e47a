"""The pure baseline and verdict code on synthetic seasonal hourly series.

Expectations are computed independently with numpy (medians, MADs, the Anscombe z).
"""

from __future__ import annotations

import numpy as np
import pytest

from watchdog.checks.volume.baseline import Thresholds, baseline, judge, robust_z, scan

PERIOD = 168  # hourly windows per week
WEEKS = 8


def seasonal(seed: int = 7, base: float = 400.0, weeks: int = WEEKS) -> dict[int, float]:
    """Hourly counts: a daily cycle, weekends at 55 %, 5 % multiplicative and Poisson noise.

    Index 0 is a Monday 00:00 (hour of week = index % 168).
    """
    rng = np.random.default_rng(seed)
    hours = np.arange(weeks * PERIOD)
    daily = 1 + 0.6 * np.sin(2 * np.pi * ((hours % 24) - 9) / 24)
    weekend = np.where((hours % PERIOD) // 24 >= 5, 0.55, 1.0)
    mean = base * daily * weekend * rng.lognormal(0, 0.05, hours.size)
    return {int(h): float(c) for h, c in zip(hours, rng.poisson(mean), strict=True)}


def last_weeks(values: dict[int, float], weeks: int = 2) -> range:
    return range((WEEKS - weeks) * PERIOD, WEEKS * PERIOD)


def test_baseline_is_the_median_of_the_same_hour_of_week_without_flagged_windows() -> None:
    values = seasonal()
    i = 6 * PERIOD + 3 * 24 + 14  # week 6, Thursday 14:00
    base = baseline(values, i, PERIOD, 4, excluded={i - PERIOD})
    wanted = [values[i - k * PERIOD] for k in (2, 3, 4, 5)]  # reaches back past the flag
    assert base.expected == pytest.approx(float(np.median(wanted)))
    assert base.used == tuple(wanted) and base.left_out == 1
    short = baseline(values, PERIOD + 5, PERIOD, 4, excluded=set())
    assert short.used == (values[5],) and short.left_out == 0
    assert base.week_over_week == values[i - 2 * PERIOD]


def test_robust_z_is_on_the_anscombe_scale_with_a_poisson_floor() -> None:
    history = [100.0, 130.0, 90.0, 160.0]
    a = 2 * np.sqrt(np.array(history) + 3 / 8)
    center = np.median(a)
    scale = max(1.4826 * np.median(np.abs(a - center)), 1.0)
    assert robust_z(40.0, history) == pytest.approx((2 * np.sqrt(40.375) - center) / scale)
    # a perfectly regular history: the spread is Poisson noise, never zero
    assert robust_z(90.0, [100.0] * 4) == pytest.approx(2 * np.sqrt(90.375) - 2 * np.sqrt(100.375))
    assert robust_z(1.0, []) is None


def test_weekend_dips_and_nights_never_alert() -> None:
    values = seasonal()
    verdicts, flags = scan(values, last_weeks(values, 4), PERIOD, Thresholds(direction="both"))
    assert flags == set()
    assert all(v.judged for v in verdicts.values())
    # a weekday-over-weekend comparison would have called every Saturday a drop
    saturday = 7 * PERIOD + 5 * 24 + 14
    assert values[saturday] < 0.7 * values[saturday - 24]


def test_a_40_percent_drop_and_a_full_outage_alert_and_do_not_teach_the_baseline() -> None:
    values = seasonal()
    drop = range(6 * PERIOD + 2 * 24 + 10, 6 * PERIOD + 2 * 24 + 16)  # Wednesday 10:00-16:00
    outage = range(6 * PERIOD + 4 * 24 + 12, 6 * PERIOD + 4 * 24 + 15)  # Friday 12:00-15:00
    for i in drop:
        values[i] = round(values[i] * 0.6)
    for i in outage:
        values[i] = 0.0
    verdicts, flags = scan(values, last_weeks(values, 3), PERIOD, Thresholds(direction="both"))
    assert flags == set(drop) | set(outage)
    assert {verdicts[i].reason for i in drop} == {"VOLUME_BELOW_BASELINE"}
    assert {verdicts[i].reason for i in outage} == {"ZERO_SUCCESSES"}
    for i in drop:
        assert verdicts[i].change == pytest.approx(
            values[i] / np.median([values[i - k * PERIOD] for k in (1, 2, 3, 4)]) - 1)
    # a week later the same hours are judged against clean weeks only: no spike, no drop
    after = [verdicts[i + PERIOD] for i in [*drop, *outage]]
    assert all(v.anomaly is None and v.baseline.left_out == 1 for v in after)


def test_without_exclusion_a_long_incident_would_become_normal() -> None:
    values = seasonal()
    hour = 2 * 24 + 11  # Wednesday 11:00, the same hour every week
    for week in (4, 5, 6):
        values[week * PERIOD + hour] = round(values[week * PERIOD + hour] * 0.5)
    i = 7 * PERIOD + hour
    values[i] = round(values[i] * 0.5)
    verdicts, flags = scan(values, last_weeks(values, 4), PERIOD, Thresholds())
    assert verdicts[i].anomaly == "drop" and {4 * PERIOD + hour, 5 * PERIOD + hour} <= flags
    learned = judge(i, values[i], baseline(values, i, PERIOD, 4, set()), Thresholds())
    assert learned.anomaly is None  # 3 of 4 comparable weeks already at half: "normal"


def test_a_holiday_does_not_alert_and_does_not_poison_next_week() -> None:
    values = seasonal()
    holiday = range(6 * PERIOD + 3 * 24, 6 * PERIOD + 4 * 24)  # a Thursday
    for i in holiday:
        values[i] = round(values[i] * 0.85)  # a mild holiday: 15 % below normal
    _, flags = scan(values, last_weeks(values, 3), PERIOD, Thresholds(direction="both"))
    assert flags == set()  # within min_change (30 %): not an incident
    for i in holiday:
        values[i] = round(values[i] / 0.85 * 0.45)  # a deep one: 55 % below normal
    _, flags = scan(values, last_weeks(values, 3), PERIOD, Thresholds(direction="both"))
    assert flags & set(holiday)  # without the calendar it looks like an incident
    verdicts, flags = scan(values, last_weeks(values, 3), PERIOD, Thresholds(direction="both"),
                           holidays=set(holiday))
    assert flags == set()
    assert all(verdicts[i].note == "holiday" and not verdicts[i].judged for i in holiday)
    assert all(verdicts[i + PERIOD].baseline.left_out == 1 for i in holiday)


def test_low_volume_and_short_history_are_not_judged() -> None:
    values = seasonal(base=2.0)
    verdicts, flags = scan(values, last_weeks(values, 1), PERIOD, Thresholds())
    assert flags == set() and not any(v.judged for v in verdicts.values())
    values = seasonal()
    early = scan(values, range(PERIOD, 2 * PERIOD), PERIOD, Thresholds())[0]
    assert all(not v.judged and "1 comparable windows" in v.note for v in early.values())


def test_week_over_week_must_agree() -> None:
    history = [100.0, 100.0, 100.0, 100.0]
    i = 4 * PERIOD
    values = {i - k * PERIOD: v for k, v in zip((1, 2, 3, 4), history, strict=True)}
    values[i - PERIOD] = 60.0  # last week was already low: 55 is not a 30 % drop from it
    base = baseline(values, i, PERIOD, 4, set())
    assert judge(i, 55.0, base, Thresholds()).anomaly is None
    assert judge(i, 55.0, base, Thresholds(week_over_week=False)).anomaly == "drop"
    assert judge(i, 0.0, base, Thresholds()).anomaly == "zero"
    assert judge(i, 190.0, base, Thresholds(direction="spike")).anomaly == "spike"
    assert judge(i, 190.0, base, Thresholds(direction="drop")).anomaly is None
