"""A fixed reference window as the baseline of max_drop, on real databases: a version that
was good in the weeks after its deploy and is worse now fails against the reference (which
the rolling baseline of the earlier windows, as worse, would not see); a version absent from
the reference says so; the reference is read once and kept in the state store."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from sklearn.metrics import (
    accuracy_score,
    brier_score_loss,
    f1_score,
    log_loss,
    precision_score,
    recall_score,
    roc_auc_score,
)

from tests.checks.backtest.test_check import KINDS, Plan, config, run, write
from tests.helpers import database
from watchdog.checks.backtest import metrics as bm
from watchdog.checks.backtest.reference import KIND, load
from watchdog.errors import ConfigError
from watchdog.models import BacktestSums, CheckResult, Status
from watchdog.state import Store

#: the week from 2026-02-01 (day -34 of the judged day, March 7): v3 was good then
REFERENCE: Plan = {d: {"v3": (300, 2.5, 0.9)} for d in range(-34, -27)}
#: the lookback: v3 worse all week (the rolling baseline is as bad), v5 new
NOW_WORSE: Plan = {d: {"v3": (300, 0.8, 0.9), "v5": (300, 0.8, 0.9)} for d in range(-6, 1)}
PLAN = {**REFERENCE, **NOW_WORSE}
REF = "reference: {start: 2026-02-01, end: 2026-02-08}"
DROP = "thresholds: {auroc: {max_drop: 0.05}, accuracy: {max_drop: 0.03}}"


def reference_rows(engine: sa.Engine, schema: str) -> tuple[list[float], list[bool]]:
    """(scores, labels) of v3's labelled predictions in the reference week."""
    with engine.connect() as con:
        rows = con.execute(sa.text(
            f'SELECT p.score, g.churned FROM "{schema}".predictions p JOIN "{schema}".'
            "ground_truth g ON p.prediction_id = g.prediction_id WHERE p.predicted_at >= "
            "TIMESTAMP '2026-02-01 00:00:00' AND p.predicted_at < TIMESTAMP "
            "'2026-02-08 00:00:00' AND p.model_version = 'v3'")).all()
    return [float(s) for s, _ in rows], [bool(y) for _, y in rows]


def stored(tmp_path: Path) -> tuple[int, dict[str, BacktestSums]]:
    """(version, sums per group) of the stored reference document."""
    store = Store.open(f"sqlite:///{tmp_path}/state.db")
    try:
        found = store.get_artifact(KIND, "churn_backtest")
        assert found is not None
        payload = found[2]
        return found[0], {g: BacktestSums(**{k: tuple(tuple(x) for x in v)
                                             if isinstance(v, list) else v
                                             for k, v in doc.items()})
                          for g, doc in payload["groups"].items()}
    finally:
        store.close()


def limits(result: CheckResult) -> dict[str, float]:
    """metric → the edge it failed past, of each FAIL finding."""
    return {f.details["metric"]: f.details["limit"] for f in result.findings
            if f.status is Status.FAIL}


@pytest.mark.parametrize("kind", KINDS)
def test_a_drop_from_the_reference_window_fails_naming_it(kind: str, tmp_path: Path) -> None:
    with database(kind, tmp_path) as (engine, wh, schema):
        write(engine, schema, PLAN)
        rolling = run(tmp_path, wh, schema, DROP)
        result = run(tmp_path, wh, schema, f"{DROP}\n{REF}")
        scores, labels = reference_rows(engine, schema)
    # against its own earlier windows v3 is steady; against the reference it dropped
    assert rolling.status is Status.OK, rolling.summary
    fail = [f for f in result.findings if f.status is Status.FAIL]
    assert {(f.reason, f.group, f.details["metric"]) for f in fail} == {
        ("METRIC_DROPPED", (("model_version", "v3"),), "auroc"),
        ("METRIC_DROPPED", (("model_version", "v3"),), "accuracy")}
    assert re.match(r"model_version=v3 2026-03-07: auroc 0\.\d+ \(95% interval .*\) is below "
                    r"its baseline 0\.\d+ \(the reference window 2026-02-01–2026-02-08\) - "
                    r"max_drop 0\.05", fail[0].message), fail[0].message
    # the new version is not judged against nothing: it says it has no reference
    # (the versions side by side, after the group's last problem)
    assert "model_version=v5: auroc" in fail[-1].message
    assert "(not in the reference window)" in fail[-1].message
    v5 = [f for f in result.findings if f.group == (("model_version", "v5"),)]
    assert [f.status for f in v5] == [Status.OK]
    assert "model_version=v5 has no predictions in the reference window 2026-02-01–" \
           "2026-02-08 (a new version?): max_drop not judged" in v5[0].message
    # the reference's metrics are scikit-learn's on the same rows
    accuracy = accuracy_score(labels, [s >= 0.5 for s in scores])
    limit = {f.details["metric"]: f.details["limit"] for f in fail}
    assert limit["accuracy"] == pytest.approx(accuracy - 0.03, abs=1e-9)
    assert limit["auroc"] == pytest.approx(roc_auc_score(labels, scores) - 0.05, abs=1e-4)
    version, sums = stored(tmp_path)
    assert version == 1 and set(sums) == {"model_version=v3"}
    values = bm.metrics(sums["model_version=v3"], "classification")
    hits = [s >= 0.5 for s in scores]
    for name, expected in (("accuracy", accuracy), ("precision", precision_score(labels, hits)),
                           ("recall", recall_score(labels, hits)), ("f1", f1_score(labels, hits)),
                           ("log_loss", log_loss(labels, scores)),
                           ("brier", brier_score_loss(labels, scores))):
        assert values[name] == pytest.approx(expected, abs=1e-9), name
    assert values["auroc"] == pytest.approx(roc_auc_score(labels, scores), abs=1e-4)


def test_a_rerun_reads_the_stored_reference_not_the_warehouse(tmp_path: Path) -> None:
    """After the first run, the reference week's labels are flipped in the warehouse: the
    next run still judges against the stored sums (it did not read them again), until the
    reference itself changes."""
    with database("duckdb", tmp_path) as (engine, wh, schema):
        write(engine, schema, PLAN)
        first = run(tmp_path, wh, schema, f"{DROP}\n{REF}")
        with engine.begin() as con:
            con.execute(sa.text(
                "UPDATE ground_truth SET churned = NOT churned WHERE prediction_id IN (SELECT "
                "prediction_id FROM predictions WHERE predicted_at < TIMESTAMP '2026-02-08')"))
        again = run(tmp_path, wh, schema, f"{DROP}\n{REF}")
        assert stored(tmp_path)[0] == 1
        moved = run(tmp_path, wh, schema,
                    f"{DROP}\nreference: {{start: 2026-02-01, end: 2026-02-07}}")
    assert limits(again) == limits(first) and len(limits(first)) == 2
    # a new range is read again: the flipped labels make v3's reference worse than today
    assert stored(tmp_path)[0] == 2
    assert moved.status is Status.OK, moved.summary


def test_a_declared_baseline_wins_over_the_reference(tmp_path: Path) -> None:
    with database("duckdb", tmp_path) as (engine, wh, schema):
        write(engine, schema, PLAN)
        result = run(tmp_path, wh, schema,
                     f"thresholds: {{auroc: {{max_drop: 0.05}}}}\n{REF}\nbaseline: {{auroc: 0.99}}")
    fail = [f for f in result.findings if f.status is Status.FAIL]
    assert {f.group for f in fail} == {(("model_version", "v3"),), (("model_version", "v5"),)}
    assert all("its baseline 0.99 (declared)" in f.message for f in fail)


def test_a_reference_still_waiting_for_labels_is_one_clear_error(tmp_path: Path) -> None:
    with database("duckdb", tmp_path) as (engine, wh, schema):
        write(engine, schema, PLAN)
        result = run(tmp_path, wh, schema,
                     f"{DROP}\nreference: {{start: 2026-03-01, end: 2026-03-09}}")
    assert result.status is Status.ERROR
    message = result.findings[0].message
    assert message == ("config: monitors.churn_backtest.reference.end: 2026-03-09 00:00 UTC is "
                       "within feedback_delay of now (2026-03-10 12:00 UTC), so its labels may "
                       "still be arriving (set it to 2026-03-08 12:00 or earlier)")


@pytest.mark.parametrize(("extra", "message"), [
    ("reference: {start: 2026-02-08, end: 2026-02-01}",
     "reference: start 2026-02-08 00:00 must be before end 2026-02-01 00:00"),
    ("reference: {start: 2026-02-01}", "reference.end"),
    ("reference: {start: 2026-02-01, end: 2026-02-08, stop: 1}", "stop"),
])
def test_reference_config_errors_name_the_field(tmp_path: Path, extra: str,
                                                message: str) -> None:
    wh = {"type": "duckdb", "settings": {"path": str(tmp_path / "w.duckdb")}}
    with pytest.raises(ConfigError) as err:
        config(tmp_path, wh, "main", extra)
    assert message in str(err.value)


def test_a_stored_reference_of_another_query_is_not_used(tmp_path: Path) -> None:
    """load() ignores a document stored for another score resolution (the sums differ)."""
    from watchdog.checks.backtest.check import spec_of
    from watchdog.warehouses import create

    with database("duckdb", tmp_path) as (engine, wh, schema):
        write(engine, schema, PLAN)
        run(tmp_path, wh, schema, f"{DROP}\n{REF}")
        cfg = config(tmp_path, wh, schema, f"{DROP}\n{REF}\nauroc_resolution: 2000")
        p = cfg.monitor("churn_backtest")
        store = Store.open(f"sqlite:///{tmp_path}/state.db")
        try:
            with create("wh", wh["type"], wh["settings"]) as warehouse:
                assert load(store, p, spec_of(warehouse, p)) is None  # type: ignore[arg-type]
                same = config(tmp_path, wh, schema, f"{DROP}\n{REF}").monitor("churn_backtest")
                assert load(store, same, spec_of(warehouse, same)) is not None  # type: ignore[arg-type]
        finally:
            store.close()


def test_reference_times_are_utc() -> None:
    """A date is its midnight UTC; a time without a zone is UTC; one with a zone is
    converted (the window is the same instants either way)."""
    from datetime import UTC, date, datetime

    from watchdog.checks.backtest.params import ReferenceConfig

    ref = ReferenceConfig(start=date(2026, 11, 1), end="2026-11-08T02:00:00+02:00")
    assert (ref.start, ref.end) == (datetime(2026, 11, 1, tzinfo=UTC),
                                    datetime(2026, 11, 8, tzinfo=UTC))
    ref = ReferenceConfig(start=datetime(2026, 11, 1, 5), end="2026-11-08 03:00")
    assert (ref.start, ref.end) == (datetime(2026, 11, 1, 5, tzinfo=UTC),
                                    datetime(2026, 11, 8, 3, tzinfo=UTC))
