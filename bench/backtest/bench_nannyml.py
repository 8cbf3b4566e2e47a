"""NannyML's PerformanceCalculator per model version and daily chunk (run in
bench/.venv-nannyml by ``compare.py``).

    bench/.venv-nannyml/bin/python bench/backtest/bench_nannyml.py FILE.duckdb \
        --task classification|regression

The labelled predictions are read from the DuckDB file into one frame before the clock
(the join done for NannyML, timed apart as the load). Timed, per version: ``fit`` on its
first day (NannyML needs a reference to fit; it computes the reference's metrics too) and
``calculate`` on all 7 days with ``chunk_period='D'``. NannyML has no log loss, Brier or
R², and no whole-period row here. Prints one JSON line: seconds, the load's seconds (the
join read from the DuckDB file into the frame: what a user of the tool must do too, and
watchdog's check does in its query), peak RSS (``VmHWM``), the RSS after imports (before
the data), after loading, and the metrics per ``version/window``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from data import load_frame, report

#: NannyML metric → watchdog's name
NAMES = {"roc_auc": "auroc", "f1": "f1", "precision": "precision", "recall": "recall",
         "accuracy": "accuracy", "mae": "mae", "mape": "mape", "rmse": "rmse"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("path")
    ap.add_argument("--task", choices=("classification", "regression"),
                    default="classification")
    args = ap.parse_args()
    os.environ["NML_DISABLE_USAGE_LOGGING"] = "1"  # no analytics calls (no network)
    logging.disable(logging.WARNING)
    warnings.simplefilter("ignore")
    import nannyml as nml

    frame, loaded = load_frame(args.path)
    if args.task == "classification":
        kwargs = {"y_pred_proba": "score", "y_pred": "y_pred", "y_true": "label",
                  "problem_type": "classification_binary",
                  "metrics": ["roc_auc", "f1", "precision", "recall", "accuracy"]}
    else:
        kwargs = {"y_pred": "y_hat", "y_true": "y", "problem_type": "regression",
                  "metrics": ["mae", "mape", "rmse"]}
    t0 = time.perf_counter()
    metrics: dict[str, dict[str, float]] = {}
    for version, rows in frame.groupby("model_version", sort=True):
        calc = nml.PerformanceCalculator(timestamp_column_name="predicted_at",
                                         chunk_period="D", **kwargs)
        calc.fit(rows[rows["day"] == 0])
        result = calc.calculate(rows).filter(period="analysis").to_df()
        for i, row in result.iterrows():
            day = int((row[("chunk", "start_date")] - rows["predicted_at"].min().normalize())
                      .days) if ("chunk", "start_date") in row else int(i)
            metrics[f"{version}/{day}"] = {NAMES[m]: float(row[(m, "value")])
                                           for m in kwargs["metrics"]}
    seconds = time.perf_counter() - t0
    report("nannyml", args.task, len(frame), seconds, loaded, metrics)


if __name__ == "__main__":
    main()
