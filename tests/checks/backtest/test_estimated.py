"""Estimated performance before labels arrive (confidence-based, as NannyML's CBPE).

On simulated rows whose labels are drawn from the scores (label ~ Bernoulli(score)), the
estimates must come close to the realised metrics: given the scores, each realised count is
a sum of independent Bernoulli draws whose mean is the estimate, so realised minus
estimated has a standard deviation we compute from the scores (``sigma`` below), and the
tolerance is 5 of them. Miscalibrated scores (``p ** 3`` for a label drawn with ``p``) must
be flagged by the calibration error and be far off. Then through the Runner on real
databases: estimates sent for the windows waiting for labels, stored, and their error sent
once the labels land.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from sklearn import metrics as skm

from tests.checks.backtest.test_check import DAY, JUDGED, NOW, config
from tests.helpers import database
from watchdog.checks.backtest import metrics as bm
from watchdog.checks.backtest.check import ESTIMATES_KIND, Judged, estimate
from watchdog.checks.backtest.params import BacktestParams
from watchdog.daemon.runner import Runner
from watchdog.models import BacktestSums, CheckResult, Status
from watchdog.state import Store

KINDS = ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]
RES = bm.AUROC_RESOLUTION


def sums(score: np.ndarray, label: np.ndarray | None, t: float = 0.5) -> BacktestSums:
    """The aggregates the warehouse returns for these rows (``label`` None: unlabelled)."""
    bucket = np.rint(score * RES).astype(int)
    hit = score >= t
    expected: dict[int, list[float]] = {}
    for b, p in zip(bucket.tolist(), score.tolist(), strict=True):
        cell = expected.setdefault(b, [0.0, 0.0])
        cell[0] += p
        cell[1] += 1 - p
    kw = {}
    if label is not None:
        y = label.astype(bool)
        counts: dict[int, list[int]] = {}
        for b, v in zip(bucket.tolist(), y.tolist(), strict=True):
            counts.setdefault(b, [0, 0])[0 if v else 1] += 1
        kw = {"labelled": len(y), "tp": int((hit & y).sum()), "fp": int((hit & ~y).sum()),
              "fn": int((~hit & y).sum()), "positives": int(y.sum()),
              "scores": tuple((b, p, n) for b, (p, n) in sorted(counts.items()))}
    return BacktestSums(
        predictions=len(score), scored=len(score), est_tp=float(score[hit].sum()),
        est_fp=float((1 - score[hit]).sum()), est_fn=float(score[~hit].sum()),
        est_tn=float((1 - score[~hit]).sum()),
        expected=tuple((b, p, n) for b, (p, n) in sorted(expected.items())), **kw)


def realised(score: np.ndarray, y: np.ndarray) -> dict[str, float]:
    pred = (score >= 0.5).astype(int)
    return {"accuracy": skm.accuracy_score(y, pred), "precision": skm.precision_score(y, pred),
            "recall": skm.recall_score(y, pred), "f1": skm.f1_score(y, pred),
            "auroc": skm.roc_auc_score(y, score)}


def sigma(p: np.ndarray) -> dict[str, float]:
    """The standard deviation of each realised metric given calibrated scores ``p`` (delta
    method for the ratios with a random denominator; Hanley–McNeil for AUROC)."""
    var = p * (1 - p)
    hit = p >= 0.5
    positives, negatives = p.sum(), (1 - p).sum()
    area = bm.estimated(sums(p, None))["auroc"] or 0.5
    q1, q2 = area / (2 - area), 2 * area * area / (1 + area)
    auc = math.sqrt((area * (1 - area) + (positives - 1) * (q1 - area ** 2)
                     + (negatives - 1) * (q2 - area ** 2)) / (positives * negatives))
    return {"accuracy": math.sqrt(var.sum()) / len(p),
            "precision": math.sqrt(var[hit].sum()) / hit.sum(),
            "recall": math.sqrt(var.sum()) / positives,
            "f1": 2 * math.sqrt(var.sum()) / (positives + hit.sum()), "auroc": auc}


def simulate(n: int, seed: int, power: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Scores ``p ** power`` (on the bucket grid) and labels drawn with probability p."""
    rng = np.random.default_rng(seed)
    p = np.round(1 / (1 + np.exp(-rng.normal(-0.7, 1.6, n))), 4)
    y = (rng.random(n) < p).astype(int)
    return np.round(p ** power, 4), y


def test_estimates_of_calibrated_scores_are_close_to_the_realised_metrics() -> None:
    for seed in range(5):
        score, y = simulate(20_000, seed)
        est = bm.estimated(sums(score, None))
        want, tol = realised(score, y), sigma(score)
        for name, value in want.items():
            assert abs((est[name] or 0) - value) <= 5 * tol[name], (seed, name)
        assert (bm.calibration_error(sums(score, y), RES) or 1) < 0.02


def test_miscalibrated_scores_are_flagged_and_far_off() -> None:
    score, y = simulate(20_000, 7, power=3)
    est, want, tol = bm.estimated(sums(score, None)), realised(score, y), sigma(score)
    for name in ("accuracy", "recall", "f1", "auroc"):
        assert abs((est[name] or 0) - want[name]) > 5 * tol[name], name
    ece = bm.calibration_error(sums(score, y), RES)
    assert ece is not None and ece > 0.1
    params = BacktestParams.model_validate({
        "id": "bt", "warehouse": "wh", "feedback_delay": "2d",
        "predictions": {"table": "p", "time_column": "t", "key": "id", "score": "s"},
        "labels": {"table": "l", "key": "id", "label": "y"}})
    end = JUDGED + DAY
    for scores, labels, unreliable in ((score, y, "not calibrated: expected calibration error"),
                                       (*simulate(20_000, 8), "")):
        j = Judged(group=(), label="all", sums=sums(scores, labels), earlier=[],
                   pending=[(end + DAY, sums(scores, None))])
        estimate(params, j, end)
        assert set(j.estimates) == {end + DAY}
        assert (unreliable in j.unreliable) if unreliable else j.unreliable == "", j.unreliable


def test_calibration_error_equals_numpy_on_the_grid() -> None:
    score, y = simulate(5_000, 3, power=2)
    bins = np.minimum(np.floor(np.rint(score * RES) * 10 / RES), 9)
    ece = sum(abs((score[bins == b] - y[bins == b]).sum()) for b in range(10)) / len(y)
    assert bm.calibration_error(sums(score, y), RES) == pytest.approx(ece, rel=1e-9)


# -- through the Runner ---------------------------------------------------------------------


def write(engine: sa.Engine, schema: str, power: float, labelled_days: range,
          days: range = range(-6, 4), n: int = 1500) -> None:
    """``n`` predictions a day (one version), labelled on ``labelled_days`` (offsets from
    the judged day) with label ~ Bernoulli(p), the score being ``p ** power``."""
    preds, labels = [], []
    for day in days:
        score, y = simulate(n, 100 + day, power)
        for i in range(n):
            pid = (day + 10) * 100_000 + i
            at = JUDGED + day * DAY + timedelta(seconds=int(i * 86_400 / n))
            preds.append(f"({pid}, TIMESTAMP '{at:%Y-%m-%d %H:%M:%S}', {score[i]:.4f}, 'v4')")
            if day in labelled_days:
                labels.append(f"({pid}, {str(bool(y[i])).upper()}, "
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
        con.execute(sa.text(f'INSERT INTO "{schema}".ground_truth VALUES {", ".join(labels)}'))


def run(tmp_path: Path, wh: dict, schema: str, now: datetime) -> CheckResult:
    cfg = config(tmp_path, wh, schema, "thresholds: {auroc: {min: 0.6}}")
    runner = Runner(cfg, Store.open(f"sqlite:///{tmp_path}/state.db"), [], clock=lambda: now)
    try:
        return runner.check(cfg.monitor("churn_backtest"))
    finally:
        runner.close()


def values(result: CheckResult, prefix: str) -> dict[tuple[str, float], float]:
    """``(metric, timestamp) → value`` of the metrics named ``watchdog.backtest.<prefix>*``."""
    name = f"watchdog.backtest.{prefix}"
    return {(m.name[len(name):], m.timestamp or 0.0): m.value for m in result.metrics
            if m.name.startswith(name)}


@pytest.mark.parametrize("kind", KINDS)
def test_estimates_are_sent_stored_and_checked_once_the_labels_land(
        kind: str, tmp_path: Path) -> None:
    pending = [(JUDGED + 2 * DAY).timestamp(), (JUDGED + 3 * DAY).timestamp()]
    with database(kind, tmp_path) as (engine, wh, schema):
        write(engine, schema, 1.0, range(-6, 1))
        first = run(tmp_path, wh, schema, NOW)
        write(engine, schema, 1.0, range(-6, 2))  # the labels of March 8 landed
        second = run(tmp_path, wh, schema, NOW + DAY)
        store = Store.open(f"sqlite:///{tmp_path}/state.db")
        try:
            document = store.get_artifact(ESTIMATES_KIND, "churn_backtest")
        finally:
            store.close()
    assert first.status is Status.OK, first.summary
    estimated = values(first, "estimated.")
    assert {at for _, at in estimated} == set(pending)
    assert {n for n, _ in estimated} == set(bm.ESTIMATED)
    assert "estimated before labels (2 window(s)" in first.summary
    assert "UNRELIABLE" not in first.summary
    (ok,) = [f for f in first.findings if f.reason == "BACKTEST_OK"]
    assert ok.details["estimates_reliable"] is True
    assert values(first, "calibration_error")[("", (JUDGED + DAY).timestamp())] < 0.05
    assert not values(first, "estimation_error.")
    # March 8 is judged now: realised minus what was estimated while it waited
    errors = values(second, "estimation_error.")
    assert {at for _, at in errors} == {pending[0]}
    score, y = simulate(1500, 101)
    want, tol = realised(score, y), sigma(score)
    for name in bm.ESTIMATED:
        error = errors[(name, pending[0])]
        assert error == pytest.approx(want[name] - estimated[(name, pending[0])], abs=1e-9)
        assert abs(error) <= 5 * tol[name], name
    assert document is not None
    kept = document[2]["estimates"]["model_version=v4"]
    assert str(int(pending[0])) in kept and str(int(pending[1] + DAY.total_seconds())) in kept


@pytest.mark.parametrize("kind", ["duckdb"])
def test_estimates_of_miscalibrated_scores_are_reported_unreliable(
        kind: str, tmp_path: Path) -> None:
    with database(kind, tmp_path) as (engine, wh, schema):
        write(engine, schema, 3.0, range(-6, 1))
        result = run(tmp_path, wh, schema, NOW)
    assert "UNRELIABLE: the scores are not calibrated" in result.summary
    (ok,) = [f for f in result.findings if f.reason == "BACKTEST_OK"]
    assert ok.details["estimates_reliable"] is False
    assert ok.details["calibration_error"] > 0.05
    assert datetime.fromtimestamp(max(at for _, at in values(result, "estimated.")),
                                  UTC) == JUDGED + 3 * DAY


def test_a_run_that_changed_no_estimate_stores_no_new_version(tmp_path: Path) -> None:
    """The warehouse adds float sums in any order (DuckDB in parallel), so the same
    estimates come back a few ulps apart from run to run: that is no change, no new
    version of the document (which is never pruned)."""
    with database("duckdb", tmp_path) as (engine, wh, schema):
        write(engine, schema, 1.0, range(-6, 1))
        run(tmp_path, wh, schema, NOW)
        store = Store.open(f"sqlite:///{tmp_path}/state.db")
        try:
            version, _, payload = store.get_artifact(ESTIMATES_KIND, "churn_backtest")
            nudged = {g: {at: {n: v * (1 + 1e-13) for n, v in m.items()}
                          for at, m in windows.items()}
                      for g, windows in payload["estimates"].items()}
            assert store.put_artifact(ESTIMATES_KIND, "churn_backtest",
                                      {**payload, "estimates": nudged}) == version + 1
        finally:
            store.close()
        run(tmp_path, wh, schema, NOW)
        store = Store.open(f"sqlite:///{tmp_path}/state.db")
        try:
            latest = store.get_artifact(ESTIMATES_KIND, "churn_backtest")
        finally:
            store.close()
    assert latest is not None and latest[0] == version + 1
    assert latest[2]["estimates"] == nudged
