"""How soon a volume drop is seen: windows slide by a step (a drop that began inside an
hour is judged one step after lateness, not at the end of the next aligned hour), and a
drop too shallow for any one window at low volume is caught when it is sustained (CUSUM).
Counts are written per quarter hour into real DuckDB and Postgres; the clock is fixed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from tests.checks.volume.test_check import Counts, runner_for, write
from tests.helpers import database
from watchdog.models import Status

KINDS = ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]
QUARTER = timedelta(minutes=15)
END = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)  # a Wednesday
START = END - timedelta(weeks=5)


def quarters(per_hour: float, drop_from: datetime | None = None, factor: float = 1.0,
             ) -> Counts:
    """Successful predictions per quarter hour (no daily cycle: the test is about time),
    multiplied by ``factor`` from ``drop_from`` on."""
    rng = np.random.default_rng(5)
    out: Counts = {}
    t = START
    while t < END + timedelta(hours=3):
        mean = per_hour / 4 * (factor if drop_from is not None and t >= drop_from else 1.0)
        n = round(mean * rng.normal(1, 0.02))
        out[(t, "a", "ok")] = int(n)
        t += QUARTER
    return out


@pytest.mark.parametrize("kind", KINDS)
def test_a_drop_inside_an_hour_is_seen_one_step_after_lateness(kind: str,
                                                               tmp_path: Path) -> None:
    """Predictions fall to a third at 11:00; at 11:50 (lateness 15m) the window judged is
    10:30-11:30, half of it in the drop. Aligned hours would judge 10:00-11:00: nothing."""
    at = datetime(2026, 3, 4, 11, 50, tzinfo=UTC)
    with database(kind, tmp_path) as (engine, wh, schema):
        write(engine, schema, quarters(400, drop_from=END - timedelta(hours=1), factor=0.3))
        sliding = runner_for(tmp_path, wh, schema, clock=lambda: at)
        aligned = runner_for(tmp_path, wh, schema, "step: 1h", clock=lambda: at)
        seen = sliding.check(sliding.config.monitor("vol"))
        missed = aligned.check(aligned.config.monitor("vol"))
        sliding.close()
        aligned.close()
    assert seen.reasons == ("VOLUME_BELOW_BASELINE",), seen.summary
    assert "2026-03-04 10:30–11:30 UTC" in seen.summary
    assert missed.status is Status.OK and "10:00–11:00" in missed.summary


@pytest.mark.parametrize("kind", KINDS)
def test_a_sustained_night_drop_at_low_volume_is_caught_within_three_hours(
        kind: str, tmp_path: Path) -> None:
    """40 predictions an hour, then -40 %: at this volume no single hour is beyond the
    z-score threshold (Poisson noise alone is ~17 %), three in a row are."""
    drop = END - timedelta(hours=3)
    counts = quarters(40, drop_from=drop, factor=0.6)
    hours = {}
    with database(kind, tmp_path) as (engine, wh, schema):
        write(engine, schema, counts)
        for n in (1, 2, 3):
            clock = drop + timedelta(hours=n, minutes=20)  # judges the n-th hour of the drop
            runner = runner_for(tmp_path, wh, schema, "step: 1h", clock=lambda c=clock: c)
            hours[n] = runner.check(runner.config.monitor("vol"))
            runner.close()
        plain = runner_for(tmp_path, wh, schema, "step: 1h\nsustained: false",
                           clock=lambda: drop + timedelta(hours=3, minutes=20))
        without = plain.check(plain.config.monitor("vol"))
        plain.close()
    assert all("VOLUME_BELOW_BASELINE" not in r.reasons for r in hours.values())
    assert "VOLUME_SUSTAINED_DROP" in hours[3].reasons, hours[3].summary
    assert hours[1].status is Status.OK
    (found,) = [f for f in hours[3].problems() if f.reason == "VOLUME_SUSTAINED_DROP"]
    actual = sum(n for (t, _, _), n in counts.items() if drop <= t < END)
    assert found.details["actual"] == actual and found.details["cusum"] <= -5
    assert found.details["change"] == pytest.approx(actual / found.details["expected"] - 1)
    assert without.status is Status.OK  # the CUSUM is what caught it


@pytest.mark.parametrize("kind", ["duckdb"])
def test_a_country_calendar_keeps_a_public_holiday_out(kind: str, tmp_path: Path) -> None:
    """US Independence Day 2026 is a Saturday; a whole day at 40 % is not an incident when
    the calendar says it is a holiday, and is one without it."""
    holiday = date(2026, 7, 4)
    end = datetime(2026, 7, 4, 18, tzinfo=UTC)
    rng = np.random.default_rng(2)
    counts: Counts = {}
    t = end - timedelta(weeks=5)
    while t < end:
        factor = 0.4 if t.date() == holiday else 1.0
        counts[(t, "a", "ok")] = int(round(100 * factor * rng.normal(1, 0.03)))
        t += timedelta(hours=1)
    at = end + timedelta(minutes=20)
    with database(kind, tmp_path) as (engine, wh, schema):
        write(engine, schema, counts)
        plain = runner_for(tmp_path, wh, schema, clock=lambda: at)
        us = runner_for(tmp_path, wh, schema, "holidays: {country: US}", clock=lambda: at)
        results = [r.check(r.config.monitor("vol")) for r in (plain, us)]
        for r in (plain, us):
            r.close()
    assert results[0].reasons == ("VOLUME_BELOW_BASELINE",)
    assert results[1].status is Status.OK and "holiday" in results[1].summary
