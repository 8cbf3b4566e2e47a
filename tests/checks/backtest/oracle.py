"""Backtest aggregates computed row by row in Python (what the warehouse must return), and
seeded rows to compute them on; the metrics are then compared with scikit-learn."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

from watchdog.checks.backtest.metrics import AUROC_RESOLUTION, LOG_LOSS_EPS
from watchdog.models import BacktestSums

Row = tuple[float, float]  # (score, label)


def sums_of(rows: Sequence[Row], task: str, threshold: float = 0.5,
            resolution: int = AUROC_RESOLUTION, predictions: int | None = None) -> BacktestSums:
    """The aggregates of labelled ``(score, label)`` rows, as the warehouse computes them."""
    kw: dict[str, float] = {}
    buckets: dict[int, list[int]] = {}
    for score, label in rows:
        if task == "classification":
            y, hit = label != 0, score >= threshold
            p = min(max(score, LOG_LOSS_EPS), 1 - LOG_LOSS_EPS)
            loss = -math.log(p) if y else -math.log(1 - p)
            brier = (score - y) ** 2
            for name, value in (("tp", hit and y), ("fp", hit and not y),
                                ("fn", not hit and y), ("positives", y),
                                ("score_sum", score), ("log_loss_sum", loss),
                                ("log_loss_sq", loss * loss), ("brier_sum", brier),
                                ("brier_sq", brier * brier)):
                kw[name] = kw.get(name, 0) + value
            cell = buckets.setdefault(round(score * resolution), [0, 0])
            cell[0 if y else 1] += 1
        else:
            e = score - label
            ape = abs(e) / abs(label) if label != 0 else None
            for name, value in (("error_sum", e), ("abs_error_sum", abs(e)),
                                ("sq_error_sum", e * e), ("quartic_error_sum", e ** 4),
                                ("label_sum", label), ("label_sq_sum", label * label),
                                ("ape_sum", ape or 0.0), ("ape_sq_sum", (ape or 0.0) ** 2),
                                ("ape_rows", ape is not None)):
                kw[name] = kw.get(name, 0) + value
    ints = {k: int(v) for k, v in kw.items() if k in ("tp", "fp", "fn", "positives",
                                                      "ape_rows")}
    return BacktestSums(
        predictions=len(rows) if predictions is None else predictions, labelled=len(rows),
        **{**kw, **ints},  # type: ignore[arg-type]
        scores=tuple((b, p, n) for b, (p, n) in sorted(buckets.items())))


def classification_rows(n: int, seed: int = 13, grid: int | None = None) -> list[Row]:
    """Scores from a logistic model of a hidden signal (two exact 0s and 1s for the clip);
    with ``grid``, scores rounded to ``1 / grid`` (they then fall on bucket values)."""
    rng = random.Random(seed)
    rows: list[Row] = []
    for _ in range(n):
        signal = rng.gauss(0, 1)
        score = 1 / (1 + math.exp(-(1.5 * signal + rng.gauss(0, 1) - 0.8)))
        if grid:
            score = round(score * grid) / grid
        rows.append((score, float(rng.random() < 1 / (1 + math.exp(-(1.5 * signal - 0.8))))))
    rows += [(0.0, 0.0), (1.0, 1.0), (0.0, 1.0), (1.0, 0.0)]
    return rows


def regression_rows(n: int, seed: int = 13) -> list[Row]:
    """Labels around 50 (a few exactly 0), predictions with noise and a small bias."""
    rng = random.Random(seed)
    rows: list[Row] = []
    for i in range(n):
        label = 0.0 if i % 50 == 0 else round(rng.gauss(50, 12), 3)
        rows.append((round(label + rng.gauss(0.7, 5), 3), label))
    return rows
