"""``backtest`` on BigQuery through the real client and the loopback stand-in.

The stand-in cannot compute, so the recording (``recordings/backtest.json``) holds what
BigQuery answers for the golden SQL on the synthetic rows below: their sums per window
and group, and the narrow rows per score bucket and delay bucket, computed row by row in
Python. The test then checks that
the adapter parses them into metrics equal to scikit-learn's on the same rows. To rewrite
the recording after changing the rows or the query: ``WATCHDOG_UPDATE_GOLDEN=1``.
"""

from __future__ import annotations

import json
import math
import os
import random
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from sklearn import metrics as skm

from tests.checks.backtest.oracle import sums_of
from tests.warehouses.bigquery.conftest import RECORDINGS
from tests.warehouses.test_golden import ARGS
from watchdog.checks.backtest import metrics as bm
from watchdog.models import BacktestSpec, BacktestSums
from watchdog.warehouses import Warehouse

PATH = RECORDINGS / "backtest.json"
SPEC: BacktestSpec = ARGS["backtest"]["spec"]
FIELDS = ["predictions", "labelled", "tp", "fp", "fn", "positives", "score_sum",
          "log_loss_sum", "log_loss_sq", "brier_sum", "brier_sq", "scored", "est_tp", "est_fp",
          "est_fn", "est_tn", "delay_sum", "delay_max"]
DELAY_SCALE = 1 / math.log(bm.DELAY_BASE)
Cell = tuple[int, str]


def synthetic() -> dict[Cell, list[tuple[float | None, float | None, float]]]:
    """(window, version) → (score or None, label or None, label delay in seconds) rows;
    scores on a 0.001 grid, so the bucketed AUROC is exact."""
    rng = random.Random(2026)
    cells: dict[Cell, list[tuple[float | None, float | None, float]]] = {}
    for window in range(3):
        for version, skill in (("v3", 0.8), ("v4", 2.0)):
            rows = cells.setdefault((window, version), [])
            for _ in range(60):
                signal = rng.gauss(0, 1)
                score = round(1 / (1 + math.exp(-(skill * signal + rng.gauss(0, 1)))), 3)
                label = float(rng.random() < 1 / (1 + math.exp(-2 * signal)))
                labelled = rng.random() < 0.85
                rows.append((score, label if labelled else None, rng.uniform(86400, 172800)))
    return cells


def _cell(window: int, version: str, s: BacktestSums, scores: list[float],
          delays: list[float]) -> list[Any]:
    """The window and version's row of every sum (part 0)."""
    t = SPEC.threshold
    est = [len(scores), sum(p for p in scores if p >= t), sum(1 - p for p in scores if p >= t),
           sum(p for p in scores if p < t), sum(1 - p for p in scores if p < t)]
    values = [getattr(s, f) for f in FIELDS[:11]] + est + [sum(delays) if delays else None,
                                                           max(delays, default=None)]
    return [window, version, 0, None, *values]


def _narrow(window: int, version: str, part: int, bucket: int,
            values: dict[str, Any]) -> list[Any]:
    """A score bucket's (part 1) or delay bucket's (part 2) row: only ``values`` set."""
    return [window, version, part, bucket, *(values.get(f) for f in FIELDS)]


def delay_bucket(delay: float) -> int:
    return math.floor(math.log(1 + delay) * DELAY_SCALE) if delay > 0 else 0


def answer() -> list[list[Any]]:
    """What BigQuery returns, ordered by window, version, part and bucket: per window and
    version its sums, then per score bucket its labelled rows, positives, scored rows and
    their sum (every row has a score here), then per delay bucket its labelled rows."""
    out = []
    for (window, version), rows in sorted(synthetic().items()):
        labelled = [(a, b, d) for a, b, d in rows if a is not None and b is not None]
        s = sums_of([(a, b) for a, b, _ in labelled], "classification", SPEC.threshold,
                    predictions=len(rows))
        out.append(_cell(window, version, s, [a for a, _, _ in rows if a is not None],
                         [d for _, _, d in labelled]))
        by_bucket: dict[int, list[tuple[float, float | None]]] = {}
        for score, label, _ in rows:
            assert score is not None
            by_bucket.setdefault(round(score * SPEC.resolution), []).append((score, label))
        for bucket, cell in sorted(by_bucket.items()):
            ys = [b for _, b in cell if b is not None]
            out.append(_narrow(window, version, 1, bucket, {
                "labelled": len(ys), "positives": sum(1 for y in ys if y),
                "scored": len(cell), "score_sum": sum(a for a, _ in cell)}))
        counts: dict[int, int] = {}
        for _, _, delay in labelled:
            counts[delay_bucket(delay)] = counts.get(delay_bucket(delay), 0) + 1
        for k, n in sorted(counts.items()):
            out.append(_narrow(window, version, 2, k, {"labelled": n}))
    return out


def recording() -> dict[str, Any]:
    start = ARGS["backtest"]["start"]
    types = ["INTEGER", "STRING", "INTEGER", "INTEGER", *["INTEGER"] * 6, *["FLOAT"] * 5,
             "INTEGER", *["FLOAT"] * 6]
    names = ["wd_window", "wd_g0", "wd_part", "wd_bucket", *FIELDS]
    return {
        "golden": "backtest",
        "params": {"start": ["TIMESTAMP", str(start)],  # the bare column's range: pruned
                   "end": ["TIMESTAMP", str(start + timedelta(days=3))],
                   "start_epoch": ["FLOAT64", start.timestamp()],
                   "end_epoch": ["FLOAT64", (start + timedelta(days=3)).timestamp()],
                   "window_seconds": ["FLOAT64", 86400.0], "eps": ["FLOAT64", 1e-15],
                   "one_minus_eps": ["FLOAT64", 1 - 1e-15],
                   "resolution": ["INT64", str(SPEC.resolution)],
                   "threshold": ["FLOAT64", SPEC.threshold],
                   "delay_scale": ["FLOAT64", DELAY_SCALE]},
        "bytes": 1_600_000,
        "schema": [list(pair) for pair in zip(names, types, strict=True)],
        "rows": [[None if v is None else repr(v) if isinstance(v, float) else str(v)
                  for v in row] for row in answer()],
    }


def test_the_recording_is_what_the_rows_aggregate_to() -> None:
    wanted = json.dumps(recording(), indent=1) + "\n"
    if os.environ.get("WATCHDOG_UPDATE_GOLDEN") == "1":
        PATH.write_text(wanted)
    assert PATH.read_text() == wanted


def test_backtest_metrics_through_bigquery_equal_scikit_learn(bq: Warehouse) -> None:
    found = bq.backtest(**ARGS["backtest"])
    start = ARGS["backtest"]["start"]
    got = {(int((w.start - start) / timedelta(days=1)), w.group[0]): w.sums for w in found}
    rows = synthetic()
    assert set(got) == set(rows)
    for key, cell in rows.items():
        s = got[key]
        labelled = [(a, b) for a, b, _ in cell if b is not None and a is not None]
        assert (s.predictions, s.labelled) == (len(cell), len(labelled))
        score = np.array([a for a, _ in labelled])
        y = np.array([b for _, b in labelled])
        pred = (score >= SPEC.threshold).astype(int)
        m = bm.classification(s)
        assert m["accuracy"] == pytest.approx(skm.accuracy_score(y, pred), rel=1e-9)
        assert m["f1"] == pytest.approx(skm.f1_score(y, pred), rel=1e-9)
        assert m["log_loss"] == pytest.approx(skm.log_loss(y, score), rel=1e-9)
        assert m["brier"] == pytest.approx(skm.brier_score_loss(y, score), rel=1e-9)
        assert m["auroc"] == pytest.approx(skm.roc_auc_score(y, score), rel=1e-12)  # on grid
        assert bm.auroc_bound(s.scores) is not None
        every = np.array([a for a, _, _ in cell if a is not None])
        hit = every >= SPEC.threshold
        assert s.scored == len(every)
        assert s.est_tp == pytest.approx(every[hit].sum(), rel=1e-9)
        assert s.est_tn == pytest.approx((1 - every[~hit]).sum(), rel=1e-9)
        delays = [d for a, b, d in cell if b is not None and a is not None]
        true = float(np.quantile(delays, 0.9, method="inverted_cdf"))
        found = bm.delay_quantile(s, 0.9)
        assert found is not None
        assert abs((1 + found) / (1 + true) - 1) <= math.sqrt(bm.DELAY_BASE) - 1 + 1e-9
