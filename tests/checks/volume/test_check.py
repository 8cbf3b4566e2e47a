"""The volume check on DuckDB and real Postgres: synthetic seasonal prediction logs.

Each scenario writes hourly counts into the warehouse (expanded to one row per prediction
in SQL), runs the check through the Runner with a fixed clock, and compares with numpy.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from tests.helpers import config_from, database, yaml_block
from watchdog.daemon.runner import Runner
from watchdog.models import CheckResult, Status
from watchdog.state import Store

KINDS = ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]
NOW = datetime(2026, 3, 4, 12, 20, tzinfo=UTC)  # a Wednesday; judged window 11:00-12:00
HOUR = timedelta(hours=1)
JUDGED = datetime(2026, 3, 4, 11, tzinfo=UTC)
START = JUDGED - 5 * 7 * 24 * HOUR
Counts = dict[tuple[datetime, str, str], int]


def seasonal(models: dict[str, float], until: datetime = NOW) -> Counts:
    """Successes per hour and model: a daily cycle, weekends at half, 4 % noise; 2 errors."""
    rng = np.random.default_rng(11)
    out: Counts = {}
    hour = START
    while hour < until:
        daily = 1 + 0.5 * np.sin(2 * np.pi * (hour.hour - 9) / 24)
        weekend = 0.5 if hour.weekday() >= 5 else 1.0
        for model, base in models.items():
            out[(hour, model, "ok")] = int(round(base * daily * weekend * rng.normal(1, 0.04)))
            out[(hour, model, "error")] = 2
        hour += HOUR
    return out


def write(engine: sa.Engine, schema: str, counts: Counts, table: str = "predictions") -> None:
    """``schema.table(ts, model, status)``: ``n`` rows per (hour, model, status), in SQL."""
    values = ",\n".join(f"('{h:%Y-%m-%d %H:%M:%S}', '{m}', '{s}', {n})"
                        for (h, m, s), n in counts.items() if n > 0)
    with engine.begin() as con:
        con.execute(sa.text(f'DROP TABLE IF EXISTS "{schema}"."{table}"'))
        con.execute(sa.text(f'DROP TABLE IF EXISTS "{schema}".counts'))
        con.execute(sa.text(f'CREATE TABLE "{schema}".counts (h TIMESTAMP, model VARCHAR(10), '
                            "status VARCHAR(10), n INTEGER)"))
        con.execute(sa.text(f'INSERT INTO "{schema}".counts VALUES {values}'))
        # spread the n rows of an hour over its first n * 7 seconds
        con.execute(sa.text(
            f'CREATE TABLE "{schema}"."{table}" AS SELECT c.h + CAST(g.x * 7 AS INTEGER) '
            "* INTERVAL '1 second' AS ts, c.model, c.status "
            f'FROM "{schema}".counts AS c CROSS JOIN LATERAL generate_series(0, c.n - 1) AS g(x)'))


def runner_for(tmp_path: Path, wh: dict, schema: str, extra: str = "",
               clock: Callable[[], datetime] = lambda: NOW) -> Runner:
    text = (
        "env: test\nwarehouses:\n  wh:\n" + yaml_block(wh, 4) + "sinks: {}\n"
        "ownership:\n  teams:\n    churn: {datadog: ['@slack-churn']}\n"
        f"  models:\n    churn_model: {{team: churn, reads: [{{table: {schema}.predictions}}]}}\n"
        "monitors:\n  - id: vol\n    kind: volume\n    warehouse: wh\n"
        f"    table: {schema}.predictions\n    time_column: ts\n"
        "    success: {column: status, value: ok}\n    group_by: [model]\n"
        "    baseline_weeks: 3\n" + "".join(f"    {line}\n" for line in extra.splitlines())
    )
    config = config_from(tmp_path, text)
    return Runner(config, Store.open(f"sqlite:///{tmp_path}/state.db"), [], clock=clock)


def check(runner: Runner) -> CheckResult:
    return runner.check(runner.config.monitor("vol"))


def metrics(result: CheckResult, model: str) -> dict[str, float]:
    return {m.name.rsplit(".", 1)[1]: m.value for m in result.metrics
            if f"model:{model}" in m.tags}


def expected_median(counts: Counts, model: str, weeks: int = 3) -> float:
    return float(np.median([counts[(JUDGED - k * 7 * 24 * HOUR, model, "ok")]
                            for k in range(1, weeks + 1)]))


@pytest.mark.parametrize("kind", KINDS)
def test_normal_drop_event_suppress_and_recovery(kind: str, tmp_path: Path) -> None:
    with database(kind, tmp_path) as (engine, wh, schema):
        counts = seasonal({"a": 120, "b": 60})
        write(engine, schema, counts)
        runner = runner_for(tmp_path, wh, schema)
        ok = check(runner)
        assert ok.status is Status.OK, ok.summary
        got = metrics(ok, "a")
        actual = counts[(JUDGED, "a", "ok")]
        assert got["count"] == actual
        assert got["expected"] == pytest.approx(expected_median(counts, "a"))
        assert got["success_ratio"] == pytest.approx(actual / (actual + 2))
        assert got["ratio_to_expected"] == pytest.approx(actual / expected_median(counts, "a"))
        assert {m.timestamp for m in ok.metrics} == {(JUDGED + HOUR).timestamp()}
        runner.process(ok)
        # the feature pipeline breaks: model a serves 40 % fewer successful predictions
        dropped = dict(counts)
        for h in range(4):
            key = (JUDGED - h * HOUR, "a", "ok")
            dropped[key] = round(counts[key] * 0.6)
        write(engine, schema, dropped)
        bad = check(runner)
        assert bad.status is Status.FAIL and bad.reasons == ("VOLUME_BELOW_BASELINE",)
        (finding,) = bad.problems()
        assert finding.group == (("model", "a"),)
        assert finding.details["expected"] == pytest.approx(expected_median(counts, "a"))
        assert finding.details["actual"] == dropped[(JUDGED, "a", "ok")]
        assert "median of 3 same-hour-of-week windows" in finding.message
        opened = runner.process(bad).events
        assert len(opened) == 1 and "@slack-churn" in opened[0].text
        assert "expected" in opened[0].text and opened[0].alert_type == "error"
        assert runner.process(check(runner)).events == ()  # one event per incident
        flags = runner.store.get_artifact("volume_flags", "vol")[2]["flags"]
        # flagged: the window ending with the 11:45-12:00 step (windows slide by 15m)
        assert int((JUDGED + timedelta(minutes=45)).timestamp() // 900) in flags[
            json.dumps(["a"])]
        write(engine, schema, counts)
        assert runner.process(check(runner)).events == ()  # one clean run: not yet
        (recovered,) = runner.process(check(runner)).events
        assert recovered.alert_type == "success" and "[RECOVERED]" in recovered.title
        runner.close()


@pytest.mark.parametrize("kind", KINDS)
def test_outage_and_a_group_that_disappears(kind: str, tmp_path: Path) -> None:
    with database(kind, tmp_path) as (engine, wh, schema):
        counts = seasonal({"a": 120, "b": 60})
        gone = {k: (0 if k[0] > JUDGED - 4 * HOUR and k[1] == "b" else n)
                for k, n in counts.items()}
        write(engine, schema, gone)
        runner = runner_for(tmp_path, wh, schema)
        result = check(runner)
        assert result.status is Status.FAIL
        by_group = {(f.group, f.reason) for f in result.problems()}
        assert by_group == {((("model", "b"),), "ZERO_SUCCESSES"),
                            ((("model", "b"),), "PREDICTIONS_SILENT")}
        assert metrics(result, "b")["count"] == 0
        outage = {k: (0 if k[0] > JUDGED - 3 * HOUR else n) for k, n in counts.items()}
        write(engine, schema, outage)
        result = check(runner)
        reasons = {(f.group, f.reason) for f in result.problems()}
        assert reasons == {((("model", m),), r) for m in "ab"
                           for r in ("ZERO_SUCCESSES", "PREDICTIONS_SILENT")}
        runner.close()


@pytest.mark.parametrize("kind", KINDS)
def test_late_data_weekends_and_holidays(kind: str, tmp_path: Path) -> None:
    with database(kind, tmp_path) as (engine, wh, schema):
        counts = seasonal({"a": 120})
        late = dict(counts)
        late[(JUDGED, "a", "ok")] = 10  # the last hour is still arriving
        write(engine, schema, late)
        # 11:20: the window judged ends at 11:00 (now - lateness, down to a 15m step), so
        # the 11:00 hour still arriving is not judged yet
        early = runner_for(tmp_path, wh, schema, clock=lambda: JUDGED + timedelta(minutes=20))
        assert check(early).status is Status.OK
        runner = runner_for(tmp_path, wh, schema)
        assert check(runner).reasons == ("VOLUME_BELOW_BASELINE",)  # still missing: a drop
        write(engine, schema, counts)  # the late rows land
        assert check(runner).status is Status.OK
        # Sunday afternoon: half of a weekday, judged against earlier Sundays
        sunday = datetime(2026, 3, 1, 15, tzinfo=UTC)
        weekend = runner_for(tmp_path, wh, schema,
                             clock=lambda: sunday + HOUR + timedelta(minutes=20))
        assert check(weekend).status is Status.OK
        assert counts[(sunday, "a", "ok")] < 0.6 * counts[(sunday - 48 * HOUR, "a", "ok")]
        # a holiday: the whole day at 45 %; an alert without the calendar, none with it
        holiday = {k: (round(n * 0.45) if k[0].date() == JUDGED.date() and k[2] == "ok" else n)
                   for k, n in counts.items()}
        write(engine, schema, holiday)
        assert check(runner).reasons == ("VOLUME_BELOW_BASELINE",)
        calendar = runner_for(tmp_path, wh, schema, f"holidays: [{date(2026, 3, 4)}]")
        assert check(calendar).status is Status.OK
        for r in (early, runner, weekend, calendar):
            r.close()


def test_config_is_validated(tmp_path: Path) -> None:
    from watchdog.errors import ConfigError

    with database("duckdb", tmp_path) as (_engine, wh, schema):
        for bad in ("window: 5h", "min_baseline_windows: 5", "lookback: 3d", "lateness: -1"):
            with pytest.raises(ConfigError):
                runner_for(tmp_path, wh, schema, bad)
