"""The backtest check end to end through the Runner on real databases: synthetic prediction
logs of two model versions and their labels, two days later."""

from __future__ import annotations

import math
import random
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.helpers import config_from, database, yaml_block
from watchdog.config.models import Config
from watchdog.daemon.runner import Runner
from watchdog.errors import ConfigError
from watchdog.models import CheckResult, Status
from watchdog.state import Store

KINDS = ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]
NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)  # feedback_delay 2d: the judged day is March 7
JUDGED = datetime(2026, 3, 7, tzinfo=UTC)
DAY = timedelta(days=1)
#: day offset from JUDGED (0 = judged, -6 the first of the lookback) → version → (rows,
#: skill, share labelled)
Plan = dict[int, dict[str, tuple[int, float, float]]]
STEADY: Plan = {d: {"v3": (300, 1.0, 0.9), "v4": (300, 2.5, 0.9)} for d in range(-6, 1)}


def write(engine: sa.Engine, schema: str, plan: Plan, seed: int = 5) -> None:
    rng = random.Random(seed)
    preds, labels = [], []
    pid = 0
    for day, versions in plan.items():
        for version, (n, skill, labelled) in versions.items():
            for _ in range(n):
                pid += 1
                at = JUDGED + day * DAY + timedelta(seconds=rng.randrange(86400))
                signal = rng.gauss(0, 1)
                score = 1 / (1 + math.exp(-(skill * signal + rng.gauss(0, 1))))
                preds.append(f"({pid}, TIMESTAMP '{at:%Y-%m-%d %H:%M:%S}', {score:.6f}, "
                             f"'{version}')")
                if rng.random() < labelled:
                    truth = rng.random() < 1 / (1 + math.exp(-3 * signal))
                    labels.append(f"({pid}, {str(truth).upper()}, "
                                  f"TIMESTAMP '{at + 2 * DAY:%Y-%m-%d %H:%M:%S}')")
    with engine.begin() as con:
        for table in ("predictions", "ground_truth"):
            con.execute(sa.text(f'DROP TABLE IF EXISTS "{schema}".{table}'))
        con.execute(sa.text(f'CREATE TABLE "{schema}".predictions (prediction_id INTEGER, '
                            "predicted_at TIMESTAMP, score DOUBLE PRECISION, "
                            "model_version VARCHAR(8))"))
        con.execute(sa.text(f'CREATE TABLE "{schema}".ground_truth (prediction_id INTEGER, '
                            "churned BOOLEAN, observed_at TIMESTAMP)"))
        con.execute(sa.text(f'INSERT INTO "{schema}".predictions VALUES {", ".join(preds)}'))
        if labels:
            con.execute(sa.text(f'INSERT INTO "{schema}".ground_truth VALUES '
                                f'{", ".join(labels)}'))


def monitor(schema: str, extra: str = "") -> str:
    return (
        "  - id: churn_backtest\n    kind: backtest\n    warehouse: wh\n"
        f"    predictions: {{table: {schema}.predictions, time_column: predicted_at, "
        "key: [prediction_id], score: score}\n"
        f"    labels: {{table: {schema}.ground_truth, key: [prediction_id], label: churned, "
        "time_column: observed_at}\n"
        "    task: classification\n    threshold: 0.5\n    group_by: [model_version]\n"
        "    window: 1d\n    feedback_delay: 2d\n"
        + "".join(f"    {line}\n" for line in extra.splitlines()))


def config(tmp_path: Path, wh: dict, schema: str, extra: str = "") -> Config:
    text = ("env: test\nwarehouses:\n  wh:\n" + yaml_block(wh, 4) + "sinks: {}\nmonitors:\n"
            + monitor(schema, extra))
    return config_from(tmp_path, text)


def run(tmp_path: Path, wh: dict, schema: str, extra: str = "") -> CheckResult:
    cfg = config(tmp_path, wh, schema, extra)
    runner = Runner(cfg, Store.open(f"sqlite:///{tmp_path}/state.db"), [], clock=lambda: NOW)
    try:
        return runner.check(cfg.monitor("churn_backtest"))
    finally:
        runner.close()


def _metric(result: CheckResult, name: str, version: str) -> float:
    found = [m for m in result.metrics if m.name == f"watchdog.backtest.{name}"
             and f"model_version:{version}" in m.tags and m.timestamp == (JUDGED + DAY).timestamp()]
    assert len(found) == 1, name
    return found[0].value


@pytest.mark.parametrize("kind", KINDS)
def test_steady_versions_pass_with_metrics_stamped_at_the_window_end(
        kind: str, tmp_path: Path) -> None:
    with database(kind, tmp_path) as (engine, wh, schema):
        write(engine, schema, STEADY)
        result = run(tmp_path, wh, schema, "thresholds: {auroc: {min: 0.6, max_drop: 0.05}}")
    assert result.status is Status.OK, result.summary
    assert _metric(result, "auroc", "v4") > _metric(result, "auroc", "v3") > 0.6
    assert 0.85 < _metric(result, "label_coverage", "v3") < 0.95
    assert _metric(result, "label_delay_mean", "v3") == pytest.approx(2 * 86400)
    for q in ("p50", "p90", "max"):  # every label lands two days on
        assert _metric(result, f"label_delay_seconds.{q}", "v3") == pytest.approx(
            2 * 86400, rel=0.005)
    coverage = [m for m in result.metrics if m.name == "watchdog.backtest.label_coverage"
                and "model_version:v3" in m.tags]
    # every window of the lookback, each at its own end, the judged one last
    assert [m.timestamp for m in coverage] == [(JUDGED + d * DAY).timestamp()
                                               for d in range(-5, 2)]
    coverage = coverage[-1]
    assert "monitor:churn_backtest" in coverage.tags
    assert any(t.startswith("table:") for t in coverage.tags)
    names = {m.name for m in result.metrics}
    assert {"watchdog.backtest.tp", "watchdog.backtest.period.auroc",
            "watchdog.backtest.log_loss", "watchdog.backtest.brier"} <= names
    # each custom metric once: the largest delay is label_delay_seconds.max only
    assert "watchdog.backtest.label_delay_max" not in names


@pytest.mark.parametrize("kind", ["duckdb"])
def test_a_period_with_too_few_labels_sends_no_quality_metric(kind: str,
                                                               tmp_path: Path) -> None:
    plan = {d: {"v3": (50, 1.0, 0.9)} for d in range(-6, 1)}  # ~315 labels in the lookback
    with database(kind, tmp_path) as (engine, wh, schema):
        write(engine, schema, plan)
        few = run(tmp_path, wh, schema, "min_labelled_rows: 400")
        enough = run(tmp_path, wh, schema, "min_labelled_rows: 300")
    assert few.status is Status.SKIPPED and few.reasons == ()
    names = {m.name for m in few.metrics}
    assert "watchdog.backtest.label_coverage" in names
    assert not {n for n in names if n.startswith("watchdog.backtest.period.")}
    assert "watchdog.backtest.period.auroc" in {m.name for m in enough.metrics}


@pytest.mark.parametrize("kind", KINDS)
def test_a_quality_drop_fails_and_compares_versions_side_by_side(
        kind: str, tmp_path: Path) -> None:
    plan = {**STEADY, 0: {"v3": (300, 1.0, 0.9), "v4": (300, 0.2, 0.9)}}
    with database(kind, tmp_path) as (engine, wh, schema):
        write(engine, schema, plan)
        result = run(tmp_path, wh, schema, "thresholds: {auroc: {max_drop: 0.05}}")
    assert result.status is Status.FAIL
    fail = [f for f in result.findings if f.status is Status.FAIL]
    assert [(f.reason, f.group) for f in fail] == [
        ("METRIC_DROPPED", (("model_version", "v4"),))]
    assert "side by side: model_version=v3: auroc" in fail[0].message
    assert "model_version=v4: auroc" in fail[0].message
    # one read: the group and day once, then the metric, its interval and the baseline
    assert re.fullmatch(
        r"model_version=v4 2026-03-07: auroc 0\.\d+ \(95% interval 0\.\d+–0\.\d+\) is below "
        r"its baseline 0\.\d+ \(the earlier windows\) - max_drop 0\.05 = 0\.\d+ \| side by "
        r"side: .*", fail[0].message), fail[0].message


@pytest.mark.parametrize("kind", KINDS)
def test_a_declared_floor_inside_a_small_windows_interval_does_not_page(
        kind: str, tmp_path: Path) -> None:
    # 40 labelled rows of a version whose AUROC sits just under the floor: the interval is
    # wide, so it is noise, not a failure; with 3,000 rows the same shortfall fails
    small = {0: {"v3": (45, 1.0, 0.9)}}
    with database(kind, tmp_path) as (engine, wh, schema):
        write(engine, schema, small)
        first = run(tmp_path, wh, schema, "min_labelled_rows: 30\n"
                    "thresholds: {auroc: {min: 0.8}}\ncoverage_drop: null")
        write(engine, schema, {0: {"v3": (3000, 1.0, 0.9)}})
        second = run(tmp_path, wh, schema, "min_labelled_rows: 30\n"
                     "thresholds: {auroc: {min: 0.8}}\ncoverage_drop: null")
    assert _metric(first, "auroc", "v3") < 0.8
    assert first.status is Status.OK, first.summary
    assert "includes it: noise" in first.findings[0].message
    assert second.status is Status.FAIL
    assert second.reasons == ("METRIC_BELOW_MIN",)


@pytest.mark.parametrize("kind", KINDS)
def test_too_few_labels_is_skipped_and_low_coverage_fails(kind: str, tmp_path: Path) -> None:
    plan = {**STEADY, 0: {"v3": (300, 1.0, 0.1), "v4": (300, 2.5, 0.9)}}
    with database(kind, tmp_path) as (engine, wh, schema):
        write(engine, schema, plan)
        result = run(tmp_path, wh, schema, "thresholds: {auroc: {min: 0.6}}")
    by_group = {f.group: (f.status, f.reason) for f in result.findings}
    v3, v4 = (("model_version", "v3"),), (("model_version", "v4"),)
    assert by_group[v4] == (Status.OK, "BACKTEST_OK")
    reasons = {f.reason: f.status for f in result.findings if f.group == v3}
    # the quality is judged on the newest window with enough labels (the day before)
    assert reasons == {"LABEL_COVERAGE_LOW": Status.FAIL, "TOO_FEW_LABELS": Status.SKIPPED,
                       "BACKTEST_OK": Status.OK}
    (ok,) = [f for f in result.findings if f.group == v3 and f.reason == "BACKTEST_OK"]
    assert "2026-03-06 (the newest day with 100 labels)" in ok.message
    assert result.status is Status.FAIL
    assert "feedback pipeline" in result.summary


@pytest.mark.parametrize("kind", KINDS)
def test_while_labels_are_late_a_drop_in_the_newest_labelled_window_fails(
        kind: str, tmp_path: Path) -> None:
    # the judged day has no labels (late), the day before is labelled and v4 got worse there
    plan = {**STEADY, -1: {"v3": (300, 1.0, 0.9), "v4": (300, 0.2, 0.9)},
            0: {"v3": (300, 1.0, 0.0), "v4": (300, 2.5, 0.0)}}
    with database(kind, tmp_path) as (engine, wh, schema):
        write(engine, schema, plan)
        result = run(tmp_path, wh, schema, "thresholds: {auroc: {max_drop: 0.05}}")
    fail = {(f.reason, f.group) for f in result.findings if f.status is Status.FAIL}
    v3, v4 = (("model_version", "v3"),), (("model_version", "v4"),)
    assert fail == {("LABEL_COVERAGE_LOW", v3), ("LABEL_COVERAGE_LOW", v4),
                    ("METRIC_DROPPED", v4)}
    (drop,) = [f for f in result.findings if f.reason == "METRIC_DROPPED"]
    assert drop.message.startswith("model_version=v4 2026-03-06 (the newest day with 100 "
                                   "labels): auroc ")
    # one sentence per version, what broke first, the versions side by side once, last
    v4 = result.summary[result.summary.index("model_version=v4 2026-03-06"):]
    assert v4.index("auroc") < v4.index("have a label") < v4.index("side by side")
    assert result.summary.count("side by side") == 2  # once per version
    # the versions compared on the window judged, not on the one without labels
    board = v4.split(" | side by side: ")[1]
    assert re.fullmatch(r"model_version=v3 on 2026-03-06: auroc 0\.\d+ \([\d.]+–[\d.]+\) "
                        r"\(n 2\d\d\); model_version=v4 on 2026-03-06: auroc 0\.\d+ "
                        r"\([\d.]+–[\d.]+\) \(n 2\d\d\)", board), board


@pytest.mark.parametrize(("extra", "message"), [
    ("thresholds: {auroc: {}}", "give min, max or max_drop"),
    ("thresholds: {aucroc: {min: 0.7}}", "unknown classification metric(s) ['aucroc']"),
    ("thresholds: {positive_rate: {max_drop: 0.1}}", "max_drop needs a better direction"),
    ("baseline: {rmse: 3}", "unknown classification metric(s) ['rmse']"),
    ("min_coverage: 1.5", "min_coverage"),
    ("lookback_windows: 0", "lookback_windows"),
])
def test_config_errors_name_the_field(tmp_path: Path, extra: str, message: str) -> None:
    wh = {"type": "duckdb", "settings": {"path": str(tmp_path / "w.duckdb")}}
    with pytest.raises(ConfigError) as err:
        config(tmp_path, wh, "main", extra)
    assert message in str(err.value)


@pytest.mark.parametrize(("window", "end", "shown"), [
    ("1d", datetime(2026, 3, 8, tzinfo=UTC), "2026-03-07"),
    ("1h", datetime(2026, 3, 8, tzinfo=UTC), "2026-03-07 23:00–00:00 UTC"),
    ("15m", datetime(2026, 3, 7, 13, 15, tzinfo=UTC), "2026-03-07 13:00–13:15 UTC"),
    ("2d", datetime(2026, 3, 8, tzinfo=UTC), "2026-03-06 00:00–2026-03-08 00:00 UTC"),
])
def test_a_window_is_named_as_read(window: str, end: datetime, shown: str) -> None:
    from watchdog.checks.backtest.check import when
    from watchdog.checks.backtest.params import BacktestParams

    p = BacktestParams(id="bt", warehouse="w", window=window, feedback_delay="1d",
                       predictions={"table": "p", "time_column": "t", "key": "id",
                                    "score": "s"},
                       labels={"table": "l", "key": "id", "label": "y"})
    assert when(p, end) == shown
