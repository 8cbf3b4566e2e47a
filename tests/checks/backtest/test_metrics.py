"""The backtest metrics from aggregates, against scikit-learn on the same rows."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from sklearn import metrics as skm

from tests.checks.backtest.oracle import classification_rows, regression_rows, sums_of
from watchdog.checks.backtest import metrics as bm
from watchdog.models import BacktestSums, Buckets


def _arrays(rows: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    return np.array([s for s, _ in rows]), np.array([y for _, y in rows])


@pytest.mark.parametrize("threshold", [0.5, 0.3, 0.75])
def test_classification_metrics_equal_scikit_learn(threshold: float) -> None:
    rows = classification_rows(3000)
    score, y = _arrays(rows)
    got = bm.classification(sums_of(rows, "classification", threshold))
    pred = (score >= threshold).astype(int)
    clipped = np.clip(score, bm.LOG_LOSS_EPS, 1 - bm.LOG_LOSS_EPS)
    want = {
        "accuracy": skm.accuracy_score(y, pred), "precision": skm.precision_score(y, pred),
        "recall": skm.recall_score(y, pred), "f1": skm.f1_score(y, pred),
        "log_loss": skm.log_loss(y, clipped), "brier": skm.brier_score_loss(y, score),
        "positive_rate": pred.mean(), "label_rate": y.mean(),
    }
    for name, value in want.items():
        assert got[name] == pytest.approx(value, rel=1e-9, abs=1e-12), name
    tn, fp, fn, tp = skm.confusion_matrix(y, pred).ravel()
    s = sums_of(rows, "classification", threshold)
    assert (s.tp, s.fp, s.tn, s.fn) == (tp, fp, tn, fn)


def test_bucketed_auroc_is_within_its_stated_bound_of_the_exact_one() -> None:
    rows = classification_rows(20_000, seed=7)
    score, y = _arrays(rows)
    s = sums_of(rows, "classification")
    exact = skm.roc_auc_score(y, score)
    bound = bm.auroc_bound(s.scores)
    assert bound is not None and bound <= 1e-4
    got = bm.auroc(s.scores)
    assert got is not None and abs(got - exact) <= bound


def test_auroc_is_exact_when_scores_fall_on_bucket_values() -> None:
    rows = classification_rows(5000, seed=3, grid=1000)  # many ties, on the grid
    score, y = _arrays(rows)
    s = sums_of(rows, "classification")
    assert bm.auroc(s.scores) == pytest.approx(skm.roc_auc_score(y, score), rel=1e-12)


def test_the_auroc_bound_is_half_the_share_of_pairs_in_one_bucket() -> None:
    # one bucket holding everything: every pair is a tie, the AUROC says 0.5 and the bound
    # is 0.5, so the truth (anything in [0, 1]) is inside it
    scores = ((5, 3, 2),)
    assert bm.auroc(scores) == 0.5
    assert bm.auroc_bound(scores) == 0.5
    assert bm.auroc(((1, 0, 4), (2, 3, 0))) == 1.0
    assert bm.auroc_bound(((1, 0, 4), (2, 3, 0))) == 0.0
    assert bm.auroc(((1, 2, 0),)) is None


def test_regression_metrics_equal_scikit_learn() -> None:
    rows = regression_rows(2000)
    score, y = _arrays(rows)
    got = bm.regression(sums_of(rows, "regression"))
    nonzero = y != 0
    want = {
        "rmse": math.sqrt(skm.mean_squared_error(y, score)),
        "mae": skm.mean_absolute_error(y, score),
        # zeros guarded: MAPE over the rows whose label is not 0
        "mape": skm.mean_absolute_percentage_error(y[nonzero], score[nonzero]),
        "r2": skm.r2_score(y, score), "mean_error": float(np.mean(score - y)),
    }
    assert (~nonzero).sum() == 40
    for name, value in want.items():
        assert got[name] == pytest.approx(value, rel=1e-9), name


def test_undefined_metrics_are_none() -> None:
    empty = BacktestSums()
    assert all(v is None for v in bm.classification(empty).values())
    assert all(v is None for v in bm.regression(empty).values())
    assert bm.regression(sums_of([(1.0, 2.0), (3.0, 2.0)], "regression"))["r2"] is None
    assert bm.regression(sums_of([(1.0, 0.0)], "regression"))["mape"] is None


def test_sums_merge_as_the_rows_would() -> None:
    rows = classification_rows(1000)
    a, b = rows[:400], rows[400:]
    whole = sums_of(rows, "classification")
    merged = sums_of(a, "classification").merged(sums_of(b, "classification"))
    assert merged.scores == whole.scores
    assert (merged.tp, merged.fp, merged.fn, merged.labelled) == (
        whole.tp, whole.fp, whole.fn, whole.labelled)
    assert merged.log_loss_sum == pytest.approx(whole.log_loss_sum, rel=1e-12)


def test_wilson_and_hanley_mcneil() -> None:
    lo, hi = bm.wilson(80, 100, 1.96) or (0, 0)
    assert (round(lo, 4), round(hi, 4)) == (0.7112, 0.8666)  # the textbook example
    assert bm.wilson(0, 0, 1.96) is None
    # Hanley & McNeil 1982, eq. 2 by hand: A = 0.9, 50 and 50 cases, Q1 = 0.9 / 1.1,
    # Q2 = 1.62 / 1.9: SE² = (0.09 + 49 (Q1 - 0.81) + 49 (Q2 - 0.81)) / 2500
    q1, q2 = 0.9 / 1.1, 1.62 / 1.9
    se = math.sqrt((0.09 + 49 * (q1 - 0.81) + 49 * (q2 - 0.81)) / 2500)
    lo, hi = bm.hanley_mcneil(0.9, 50, 50, 1.0)
    assert (hi - lo) / 2 == pytest.approx(se, rel=1e-12)
    assert se == pytest.approx(0.0321, abs=1e-4)


def test_intervals_cover_the_estimate_and_shrink_with_rows() -> None:
    small = sums_of(classification_rows(200), "classification")
    large = sums_of(classification_rows(20_000), "classification")
    for name, value in bm.classification(small).items():
        ci = bm.intervals(small, "classification", 1.96)[name]
        assert ci is not None and value is not None and ci[0] <= value <= ci[1], name
        wide = ci[1] - ci[0]
        big = bm.intervals(large, "classification", 1.96)[name]
        assert big is not None and big[1] - big[0] < wide, name
    reg = sums_of(regression_rows(500), "regression")
    for name, ci in bm.intervals(reg, "regression", 1.96).items():
        value = bm.regression(reg)[name]
        assert ci is not None and value is not None and ci[0] <= value <= ci[1], name


@pytest.mark.parametrize("spread", [50, 10**12])
def test_buckets_add_key_by_key_as_a_dict_would(spread: int) -> None:
    """Merging buckets (dense keys: by bincount; far-apart keys: by sorting) gives the
    per-key sums of every part, keys ascending, whatever order the parts came in."""
    rng = random.Random(spread)
    parts = [[(rng.randrange(-spread, spread), rng.randrange(5), rng.randrange(5))
              for _ in range(40)] for _ in range(4)]
    want: dict[int, list[int]] = {}
    for part in parts:
        for key, a, b in part:
            cell = want.setdefault(key, [0, 0])
            cell[0] += a
            cell[1] += b
    got = Buckets.total([Buckets.of(part) for part in parts])
    assert list(got) == [(k, a, b) for k, (a, b) in sorted(want.items())]
    assert got.values.dtype == np.int64
