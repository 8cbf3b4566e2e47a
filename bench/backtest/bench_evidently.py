"""Evidently's ClassificationPreset / RegressionPreset per model version and daily window
(run in bench/.venv-evidently by ``compare.py``).

    bench/.venv-evidently/bin/python bench/backtest/bench_evidently.py FILE.duckdb \
        --task classification|regression

The labelled predictions are read from the DuckDB file into one frame before the clock
(the join done for Evidently, which cannot do it); then, timed, one Report per version and
window (21) and per version over the whole period (3), as a user gets the same table of
metrics watchdog sends. Prints one JSON line: seconds, the load's seconds (the join read
from the DuckDB file into the frame: what a user of the tool must do too, and watchdog's
check does in its query), peak RSS (``VmHWM``), the RSS after imports (before the data),
after loading, and the metrics per ``version/window``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from data import load_frame, report

#: Evidently metric type (the end of its config type) → watchdog's name
NAMES = {"Accuracy": "accuracy", "Precision": "precision", "Recall": "recall",
         "F1Score": "f1", "RocAuc": "auroc", "LogLoss": "log_loss", "RMSE": "rmse",
         "MAE": "mae", "MAPE": "mape", "R2Score": "r2", "MeanError": "mean_error"}


def metrics_of(result: dict) -> dict[str, float]:
    out: dict[str, float] = {}
    for metric in result["metrics"]:
        kind = metric.get("config", {}).get("type", "").rsplit(":", 1)[-1].rsplit(".", 1)[-1]
        name = NAMES.get(kind)
        value = metric.get("value")
        if name is None or name in out:
            continue
        if isinstance(value, dict):  # mean and std: the mean
            value = value.get("mean")
        if isinstance(value, int | float):
            out[name] = float(value)
    if "mape" in out:
        out["mape"] /= 100  # Evidently reports MAPE in percent
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("path")
    ap.add_argument("--task", choices=("classification", "regression"),
                    default="classification")
    args = ap.parse_args()
    from evidently import BinaryClassification, DataDefinition, Dataset, Regression, Report
    from evidently.presets import ClassificationPreset, RegressionPreset

    frame, loaded = load_frame(args.path)
    if args.task == "classification":
        columns = ["label", "y_pred", "score"]
        definition = DataDefinition(classification=[BinaryClassification(
            target="label", prediction_labels="y_pred", prediction_probas="score")])
        preset = ClassificationPreset
    else:
        columns = ["y", "y_hat"]
        definition = DataDefinition(regression=[Regression(target="y", prediction="y_hat")])
        preset = RegressionPreset
    t0 = time.perf_counter()
    metrics: dict[str, dict[str, float]] = {}
    for version, rows in frame.groupby("model_version", sort=True):
        slices = [(f"{version}/{day}", part) for day, part in rows.groupby("day", sort=True)]
        for where, part in [*slices, (f"{version}/period", rows)]:
            data = Dataset.from_pandas(part[columns].reset_index(drop=True),
                                       data_definition=definition)
            metrics[where] = metrics_of(Report([preset()]).run(data, None).dict())
    seconds = time.perf_counter() - t0
    report("evidently", args.task, len(frame), seconds, loaded, metrics)


if __name__ == "__main__":
    main()
