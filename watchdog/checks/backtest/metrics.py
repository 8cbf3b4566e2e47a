"""Backtest metrics and their confidence intervals, from additive aggregates only. No I/O.

Everything here is computed from :class:`~watchdog.models.BacktestSums` (what the warehouse
returns per window and group), never from rows, so windows and groups are combined by
adding their sums. Conventions (tested against scikit-learn on the same rows):

- Classification: a prediction is positive when ``score >= threshold``; a label is positive
  when it is not 0 (booleans: true). Precision and recall of an empty denominator, and every
  metric of a window without labels, are None (scikit-learn returns 0 with a warning).
- Log loss clips the score to ``[LOG_LOSS_EPS, 1 - LOG_LOSS_EPS]`` (in the warehouse);
  Brier score uses the score as it is.
- AUROC comes from counts of positives and negatives per fine score bucket (``round(score *
  resolution)``), with pairs in one bucket counted as ties (half). It is exact when the
  scores of a bucket are all equal (scores on the bucket grid, e.g. rounded to 4 decimals
  with resolution 10,000), and otherwise off by at most :func:`auroc_bound`: half the share
  of (positive, negative) pairs that share a bucket, which is at most half the largest
  share of either class in one bucket (≤ 1e-4 when no bucket of width 1/resolution holds
  more than 0.02 % of the negatives, or of the positives).
- Regression: the error is ``score - label`` (``mean_error`` > 0: over-prediction). MAPE is
  the mean of ``|error| / |label|`` over the rows whose label is not 0; rows with a zero
  label are left out (scikit-learn divides by machine epsilon there instead, which makes one
  zero label dominate). R² is ``1 - SSE / SST`` (None when every label is equal).
- Estimated performance (confidence-based, as NannyML's CBPE), for predictions whose labels
  have not arrived: with calibrated scores a prediction of score ``p`` is positive with
  probability ``p``, so the expected confusion counts are ``E[TP] = Σ_{s≥t} p``, ``E[FP] =
  Σ_{s≥t} (1 - p)``, ``E[FN] = Σ_{s<t} p``, ``E[TN] = Σ_{s<t} (1 - p)`` (sums in the
  warehouse), and accuracy, precision, recall and F1 are those counts' ratios; AUROC is
  the area under the expected ROC curve, from ``Σ p`` and ``Σ (1 - p)`` per score bucket.
  Valid only for calibrated scores: :func:`calibration_error` (expected calibration error
  over ``CALIBRATION_BINS`` equal-width bins of the labelled rows' scores, each score taken
  at its bucket's centre, so within ``0.5 / resolution`` of the exact one) says when.
- Label delay quantiles from counts per bucket ``floor(ln(1 + delay) / ln(DELAY_BASE))``:
  the nearest-rank quantile (numpy's ``method="inverted_cdf"``) is in the bucket found,
  and :func:`delay_quantile` returns the bucket's middle in log scale, ``DELAY_BASE **
  (k + 0.5) - 1``, so ``1 + delay`` is off by a factor of at most ``sqrt(DELAY_BASE)``
  (0.5 % with 1.01).
- Intervals (two-sided, ``z`` standard errors): Wilson for proportions (accuracy,
  precision, recall, the rates; F1 approximately, as ``tp`` out of ``tp + (fp + fn) / 2``),
  Hanley–McNeil for AUROC, the normal interval of a mean for log loss, Brier, MAE, MAPE and
  mean error, and for RMSE the square roots of the interval of the mean squared error. R²
  has none.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from watchdog.lazy import lazy
from watchdog.models import BacktestSums, Buckets

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy("numpy")

#: Scores are clipped to [eps, 1 - eps] in log loss (as scikit-learn < 1.5's default).
LOG_LOSS_EPS = 1e-15
#: Fine score buckets per unit of score for AUROC.
AUROC_RESOLUTION = 10_000

CLASSIFICATION = ("accuracy", "precision", "recall", "f1", "auroc", "log_loss", "brier",
                  "positive_rate", "label_rate")
REGRESSION = ("rmse", "mae", "mape", "r2", "mean_error")
COUNTS = ("tp", "fp", "tn", "fn")
#: Metrics where lower is better (the rest: higher is better, or neither: mean_error).
LOWER_IS_BETTER = frozenset({"log_loss", "brier", "rmse", "mae", "mape"})

ESTIMATED = ("accuracy", "precision", "recall", "f1", "auroc")
#: Equal-width score bins of the expected calibration error.
CALIBRATION_BINS = 10
#: Label delay buckets grow by this factor (as ``warehouses/backtest_sql.DELAY_BASE``).
DELAY_BASE = 1.01
DELAY_QUANTILES = {"p50": 0.5, "p90": 0.9}

Interval = tuple[float, float]


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


def _classes(scores: Buckets) -> tuple[float, float]:
    """The positives and negatives (or their expected counts) of ``scores``."""
    if not len(scores):
        return 0, 0
    pos, neg = scores.values.sum(axis=0).tolist()
    return pos, neg


def auroc(scores: Buckets | Sequence[tuple[int, float, float]]) -> float | None:
    """Area under the ROC curve from ``(bucket, positives, negatives)`` counts, ties half;
    None without both classes. Exact integer arithmetic until the last division (with
    integer counts; expected counts are floats)."""
    scores = Buckets.of(scores)
    pos, neg = _classes(scores)
    if not pos or not neg:
        return None
    p, n = scores.values[:, 0], scores.values[:, 1]
    below = np.cumsum(n) - n  # negatives in lower buckets
    twice = (p * (2 * below + n)).sum().item()
    return float(twice / (2 * pos * neg))


def auroc_bound(scores: Buckets | Sequence[tuple[int, float, float]]) -> float | None:
    """The largest error of :func:`auroc` from bucketing: half the share of pairs tied by a
    bucket (0 when each bucket holds one score value)."""
    scores = Buckets.of(scores)
    pos, neg = _classes(scores)
    if not pos or not neg:
        return None
    tied = (scores.values[:, 0] * scores.values[:, 1]).sum().item()
    return float(tied / (2 * pos * neg))


def classification(s: BacktestSums) -> dict[str, float | None]:
    """Every classification metric of the sums (None where undefined)."""
    n = s.labelled
    return {
        "accuracy": _ratio(s.tp + s.tn, n), "precision": _ratio(s.tp, s.tp + s.fp),
        "recall": _ratio(s.tp, s.tp + s.fn), "f1": _ratio(2 * s.tp, 2 * s.tp + s.fp + s.fn),
        "auroc": auroc(s.scores), "log_loss": _ratio(s.log_loss_sum, n),
        "brier": _ratio(s.brier_sum, n), "positive_rate": _ratio(s.tp + s.fp, n),
        "label_rate": _ratio(s.positives, n),
    }


def regression(s: BacktestSums) -> dict[str, float | None]:
    """Every regression metric of the sums (None where undefined)."""
    n = s.labelled
    mse = _ratio(s.sq_error_sum, n)
    sst = s.label_sq_sum - s.label_sum ** 2 / n if n else 0.0
    return {
        "rmse": math.sqrt(mse) if mse is not None else None,
        "mae": _ratio(s.abs_error_sum, n), "mape": _ratio(s.ape_sum, s.ape_rows),
        "r2": 1 - s.sq_error_sum / sst if sst > 0 else None,
        "mean_error": _ratio(s.error_sum, n),
    }


def metrics(s: BacktestSums, task: str) -> dict[str, float | None]:
    return classification(s) if task == "classification" else regression(s)


def estimated(s: BacktestSums) -> dict[str, float | None]:
    """Confidence-based estimates of the metrics over every scored prediction, labelled or
    not, from the expected confusion counts (valid for calibrated scores only)."""
    tp, fp, fn, tn = s.est_tp, s.est_fp, s.est_fn, s.est_tn
    return {
        "accuracy": _ratio(tp + tn, tp + fp + fn + tn), "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn), "f1": _ratio(2 * tp, 2 * tp + fp + fn),
        "auroc": auroc(s.expected),
    }


def calibration_error(s: BacktestSums, resolution: int) -> float | None:
    """Expected calibration error of the labelled rows: ``Σ_bins |Σ (score - label)| / n``
    over ``CALIBRATION_BINS`` equal-width score bins, each score at its bucket's centre."""
    if not len(s.scores):
        return None
    keys, pos, neg = s.scores.keys, s.scores.values[:, 0], s.scores.values[:, 1]
    n = (pos + neg).sum().item()
    if not n:
        return None
    bins = np.clip(keys * CALIBRATION_BINS // resolution, 0, CALIBRATION_BINS - 1)
    gaps = np.bincount(bins, weights=(pos + neg) * keys / resolution - pos,
                       minlength=CALIBRATION_BINS)
    return float(np.abs(gaps).sum() / n)


def delay_quantile(s: BacktestSums, q: float) -> float | None:
    """The ``q`` quantile of the label delay in seconds (nearest rank), within a factor
    ``sqrt(DELAY_BASE)`` on ``1 + delay``; None without labelled rows."""
    if not len(s.delays):
        return None
    seen = np.cumsum(s.delays.values[:, 0])
    total = seen[-1].item()
    if not total:
        return None
    rank = max(math.ceil(q * total), 1)
    bucket = s.delays.keys[int(np.searchsorted(seen, rank))].item()
    return float(DELAY_BASE ** (bucket + 0.5) - 1)


def coverage(s: BacktestSums) -> float | None:
    """The share of predictions that have a label."""
    return _ratio(s.labelled, s.predictions)


# -- intervals ------------------------------------------------------------------------------


def wilson(k: float, n: float, z: float) -> Interval | None:
    """Wilson score interval of the proportion ``k / n``."""
    if n <= 0:
        return None
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def hanley_mcneil(area: float, pos: int, neg: int, z: float) -> Interval:
    """Hanley & McNeil (1982) interval of an AUROC from ``pos`` positives, ``neg`` negatives."""
    q1, q2 = area / (2 - area), 2 * area * area / (1 + area)
    var = (area * (1 - area) + (pos - 1) * (q1 - area * area)
           + (neg - 1) * (q2 - area * area)) / (pos * neg)
    half = z * math.sqrt(max(var, 0.0))
    return max(0.0, area - half), min(1.0, area + half)


def mean_interval(total: float, total_sq: float, n: int, z: float) -> Interval | None:
    """Normal interval of a mean from the sum and the sum of squares of ``n`` values."""
    if n < 2:
        return None
    mean = total / n
    var = max(total_sq - n * mean * mean, 0.0) / (n - 1)
    half = z * math.sqrt(var / n)
    return mean - half, mean + half


def intervals(s: BacktestSums, task: str, z: float) -> dict[str, Interval | None]:
    """The interval of each metric that has one (see the module's docstring)."""
    n = s.labelled
    if task != "classification":
        mse = mean_interval(s.sq_error_sum, s.quartic_error_sum, n, z)
        return {
            "rmse": (math.sqrt(max(mse[0], 0.0)), math.sqrt(max(mse[1], 0.0))) if mse else None,
            "mae": mean_interval(s.abs_error_sum, s.sq_error_sum, n, z),
            "mape": mean_interval(s.ape_sum, s.ape_sq_sum, s.ape_rows, z),
            "mean_error": mean_interval(s.error_sum, s.sq_error_sum, n, z),
        }
    area = auroc(s.scores)
    pos, neg = _classes(s.scores)
    return {
        "accuracy": wilson(s.tp + s.tn, n, z), "precision": wilson(s.tp, s.tp + s.fp, z),
        "recall": wilson(s.tp, s.tp + s.fn, z),
        "f1": wilson(s.tp, s.tp + (s.fp + s.fn) / 2, z),
        "auroc": hanley_mcneil(area, int(pos), int(neg), z) if area is not None else None,
        "log_loss": mean_interval(s.log_loss_sum, s.log_loss_sq, n, z),
        "brier": mean_interval(s.brier_sum, s.brier_sq, n, z),
        "positive_rate": wilson(s.tp + s.fp, n, z), "label_rate": wilson(s.positives, n, z),
    }
