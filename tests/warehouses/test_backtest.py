"""``backtest`` on every adapter: the join of predictions and labels, aggregated per window
and group in one query, turned into metrics that must equal scikit-learn on the same rows
(1e-9 where exact; AUROC within its stated bucketing bound, itself at most 1e-4)."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from sklearn import metrics as skm

from tests.warehouses.seeding import T0, Seeder
from watchdog.checks.backtest import metrics as bm
from watchdog.models import BacktestSpec, BacktestWindow, TableRef
from watchdog.warehouses import Warehouse

Env = tuple[Warehouse, Seeder]
DAY = timedelta(days=1)
PREDICTIONS = {"prediction_id": "integer", "predicted_at": "timestamptz", "score": "float",
               "spend_hat": "float", "model version": "string"}
LABELS = {"prediction_id": "integer", "churned": "boolean", "spend": "float",
          "observed_at": "timestamptz"}


def rows() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Three days of predictions by two versions (v4 the better), 80 % of them labelled a day
    or two later, a few without a score; some predictions before and after the range."""
    rng = random.Random(1313)
    preds, labels = [], []
    for i in range(900):
        at = T0 + timedelta(seconds=rng.randrange(-3600, 3 * 86400 + 3600))
        version = rng.choice(["v3", "v4"])
        signal = rng.gauss(0, 1)
        noise = 1.5 if version == "v3" else 0.6
        score = 1 / (1 + math.exp(-(signal + rng.gauss(0, noise) - 0.5)))
        spend = 0.0 if i % 40 == 0 else round(rng.gauss(80, 25), 3)
        preds.append({"prediction_id": i, "predicted_at": at, "model version": version,
                      "score": None if i % 97 == 0 else round(score, 6),
                      "spend_hat": round(spend + rng.gauss(1, 8), 3)})
        if rng.random() < 0.8:
            labels.append({"prediction_id": i, "spend": spend,
                           "churned": rng.random() < 1 / (1 + math.exp(-(signal - 0.5))),
                           "observed_at": at + timedelta(hours=rng.uniform(24, 48))})
    return preds, labels


def tables(seed: Seeder) -> tuple[TableRef, TableRef]:
    if "bt_predictions" not in seed.tables:
        preds, labels = rows()
        seed.create_table("bt_predictions", PREDICTIONS, preds)
        seed.create_table("bt_labels", LABELS, labels)
    return seed.table("bt_predictions"), seed.table("bt_labels")


def expected(task: str) -> dict[tuple[tuple[Any, ...], int], list[tuple[float, float]]]:
    """(group, window) → labelled (score, label) rows, and the prediction counts."""
    preds, labels = rows()
    by_id = {r["prediction_id"]: r for r in labels}
    cells: dict[tuple[tuple[Any, ...], int], list[tuple[float, float]]] = defaultdict(list)
    for p in preds:
        index = math.floor((p["predicted_at"] - T0) / DAY)
        if not 0 <= index < 3:
            continue
        key = ((p["model version"],), index)
        cells.setdefault(key, [])
        label = by_id.get(p["prediction_id"])
        score = p["score"] if task == "classification" else p["spend_hat"]
        if label is None or score is None:
            continue
        truth = float(label["churned"]) if task == "classification" else label["spend"]
        cells[key].append((score, truth))
    return cells


def counts() -> dict[tuple[tuple[Any, ...], int], int]:
    preds, _ = rows()
    out: dict[tuple[tuple[Any, ...], int], int] = defaultdict(int)
    for p in preds:
        index = math.floor((p["predicted_at"] - T0) / DAY)
        if 0 <= index < 3:
            out[((p["model version"],), index)] += 1
    return out


def spec(seed: Seeder, task: str) -> BacktestSpec:
    preds, labels = tables(seed)
    return BacktestSpec(
        predictions=preds, labels=labels, time_column="predicted_at", key=("prediction_id",),
        label_key=("prediction_id",), task=task,  # type: ignore[arg-type]
        score="score" if task == "classification" else "spend_hat",
        label="churned" if task == "classification" else "spend",
        group_by=("model version",), label_time="observed_at")


def _run(warehouse: Env, task: str) -> dict[tuple[tuple[Any, ...], int], BacktestWindow]:
    wh, seed = warehouse
    found = wh.backtest(spec(seed, task), T0, T0 + 3 * DAY, DAY)
    return {(w.group, int((w.start - T0) / DAY)): w for w in found}


def test_backtest_windows_and_coverage(warehouse: Env) -> None:
    got = _run(warehouse, "classification")
    want = expected("classification")
    assert set(got) == set(want)
    for key, window in got.items():
        assert window.sums.predictions == counts()[key]
        assert window.sums.labelled == len(want[key])
        assert window.end - window.start == DAY
        assert window.sums.delay_max is not None and 86400 <= window.sums.delay_max <= 2 * 86400
        assert 86400 * window.sums.labelled <= window.sums.delay_sum <= 2 * 86400 * \
            window.sums.labelled


def test_classification_metrics_equal_scikit_learn(warehouse: Env) -> None:
    got = _run(warehouse, "classification")
    for key, labelled in expected("classification").items():
        s = got[key].sums
        score = np.array([r[0] for r in labelled])
        y = np.array([r[1] for r in labelled])
        pred = (score >= 0.5).astype(int)
        m = bm.classification(s)
        want = {"accuracy": skm.accuracy_score(y, pred), "precision": skm.precision_score(y, pred),
                "recall": skm.recall_score(y, pred), "f1": skm.f1_score(y, pred),
                "log_loss": skm.log_loss(y, score), "brier": skm.brier_score_loss(y, score),
                "positive_rate": pred.mean(), "label_rate": y.mean()}
        for name, value in want.items():
            assert m[name] == pytest.approx(value, rel=1e-9), (key, name)
        tn, fp, fn, tp = skm.confusion_matrix(y, pred).ravel()
        assert (s.tp, s.fp, s.tn, s.fn) == (tp, fp, tn, fn)
        bound = bm.auroc_bound(s.scores)
        assert bound is not None and bound <= 1e-4
        assert abs((m["auroc"] or 0) - skm.roc_auc_score(y, score)) <= bound + 1e-12, key


def test_regression_metrics_equal_scikit_learn(warehouse: Env) -> None:
    got = _run(warehouse, "regression")
    for key, labelled in expected("regression").items():
        m = bm.regression(got[key].sums)
        score = np.array([r[0] for r in labelled])
        y = np.array([r[1] for r in labelled])
        nz = y != 0
        want = {"rmse": math.sqrt(skm.mean_squared_error(y, score)),
                "mae": skm.mean_absolute_error(y, score),
                "mape": skm.mean_absolute_percentage_error(y[nz], score[nz]),
                "r2": skm.r2_score(y, score), "mean_error": float(np.mean(score - y))}
        for name, value in want.items():
            assert m[name] == pytest.approx(value, rel=1e-9), (key, name)


def test_the_whole_period_is_the_sum_of_its_windows(warehouse: Env) -> None:
    wh, seed = warehouse
    found = wh.backtest(spec(seed, "classification"), T0, T0 + 3 * DAY, 3 * DAY)
    whole = {w.group: w.sums for w in found}
    windows = _run(warehouse, "classification")
    for group, sums in whole.items():
        parts = [w.sums for (g, _), w in windows.items() if g == group]
        merged = parts[0]
        for more in parts[1:]:
            merged = merged.merged(more)
        assert (merged.predictions, merged.labelled, merged.tp, merged.scores) == (
            sums.predictions, sums.labelled, sums.tp, sums.scores)


def scored() -> dict[tuple[tuple[Any, ...], int], list[float]]:
    """(group, window) → the scores of every scored prediction, labelled or not."""
    preds, _ = rows()
    out: dict[tuple[tuple[Any, ...], int], list[float]] = defaultdict(list)
    for p in preds:
        index = math.floor((p["predicted_at"] - T0) / DAY)
        if 0 <= index < 3 and p["score"] is not None:
            out[((p["model version"],), index)].append(p["score"])
    return out


def test_expected_confusion_counts_and_estimates_equal_numpy(warehouse: Env) -> None:
    """Confidence-based estimation over every scored prediction (labelled or not), against
    an independent numpy computation on the same scores; the expected AUROC against
    scikit-learn's weighted AUROC (each row a positive of weight p and a negative of weight
    1 - p), within the same bucketing bound as the realised one."""
    got = _run(warehouse, "classification")
    for key, scores in scored().items():
        s = got[key].sums
        p = np.array(scores)
        hit = p >= 0.5
        want = {"tp": p[hit].sum(), "fp": (1 - p[hit]).sum(), "fn": p[~hit].sum(),
                "tn": (1 - p[~hit]).sum()}
        assert s.scored == len(p)
        for name, value in want.items():
            assert getattr(s, f"est_{name}") == pytest.approx(value, rel=1e-9), (key, name)
        tp, fp, fn, tn = (want[n] for n in ("tp", "fp", "fn", "tn"))
        est = bm.estimated(s)
        for name, value in {"accuracy": (tp + tn) / len(p), "precision": tp / (tp + fp),
                            "recall": tp / (tp + fn),
                            "f1": 2 * tp / (2 * tp + fp + fn)}.items():
            assert est[name] == pytest.approx(value, rel=1e-9), (key, name)
        y = np.r_[np.ones(len(p)), np.zeros(len(p))]
        weighted = skm.roc_auc_score(y, np.r_[p, p], sample_weight=np.r_[p, 1 - p])
        # each row's own (p, 1 - p) pair ties in both, so only the pairs of different
        # scores that share a bucket can differ: well under the (loose) bound
        bound = bm.auroc_bound(s.expected)
        assert bound is not None
        assert abs((est["auroc"] or 0) - weighted) <= min(bound, 1e-4) + 1e-9, key


def test_calibration_error_equals_numpy(warehouse: Env) -> None:
    """Expected calibration error over 10 equal-width bins of the labelled rows, each score
    at its bucket's centre (within 0.5 / resolution of numpy on the exact scores)."""
    got = _run(warehouse, "classification")
    for key, labelled in expected("classification").items():
        score = np.array([r[0] for r in labelled])
        y = np.array([r[1] for r in labelled])
        bins = np.minimum(np.floor(score * 10), 9)
        ece = sum(abs((score[bins == b] - y[bins == b]).sum()) for b in range(10)) / len(y)
        found = bm.calibration_error(got[key].sums, bm.AUROC_RESOLUTION)
        assert found is not None
        # a score within half a bucket of a bin edge may fall in the next bin: allow it
        near = np.abs(score * 10 - np.round(score * 10)) <= 10 * 0.5 / bm.AUROC_RESOLUTION
        assert abs(found - ece) <= 0.5 / bm.AUROC_RESOLUTION + 2 * near.sum() / len(y) + 1e-12


def test_label_delay_quantiles_within_their_bound_of_numpy(warehouse: Env) -> None:
    """p50 and p90 of the label delay from logarithmic buckets: numpy's nearest-rank
    quantile (``inverted_cdf``) of the same delays, ``1 + delay`` within sqrt(1.01)."""
    preds, labels = rows()
    by_id = {r["prediction_id"]: r for r in labels}
    delays: dict[tuple[tuple[Any, ...], int], list[float]] = defaultdict(list)
    for p in preds:
        index = math.floor((p["predicted_at"] - T0) / DAY)
        label = by_id.get(p["prediction_id"])
        if 0 <= index < 3 and label is not None and p["score"] is not None:
            delays[((p["model version"],), index)].append(
                (label["observed_at"] - p["predicted_at"]).total_seconds())
    got = _run(warehouse, "classification")
    factor = math.sqrt(bm.DELAY_BASE)
    for key, values in delays.items():
        s = got[key].sums
        assert sum(c for _, c in s.delays) == len(values)
        for q in (0.5, 0.9):
            true = float(np.quantile(values, q, method="inverted_cdf"))
            found = bm.delay_quantile(s, q)
            assert found is not None
            assert 1 / factor - 1e-9 <= (1 + found) / (1 + true) <= factor + 1e-9, (key, q)
        assert s.delay_max == pytest.approx(max(values), abs=1e-3)
