"""Evidently's DataDriftPreset on the benchmark data (run in bench/.venv-evidently).

    bench/.venv-evidently/bin/python bench/drift/bench_evidently.py --rows 100000 --cols 20 \
        [--again N]
Prints one JSON line: seconds, extra memory, the drifted set, and per-column scores.
``--again N`` runs the same report N more times in the process and adds their seconds
(``again_seconds``): a long-lived service's later runs, its code and caches warm.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from data import PeakRSS, frame, planted, status_kb


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, required=True)
    ap.add_argument("--cols", type=int, required=True)
    ap.add_argument("--again", type=int, default=0, metavar="N")
    args = ap.parse_args()
    from evidently import Report
    from evidently.presets import DataDriftPreset

    ref = pd.DataFrame(frame(args.rows, args.cols, False, 1))
    cur = pd.DataFrame(frame(args.rows, args.cols, True, 2))
    start_kb = status_kb("VmRSS")
    with PeakRSS() as m:
        snapshot = Report([DataDriftPreset()]).run(cur, ref)
        result = snapshot.dict()
    again = []
    for _ in range(args.again):
        t0 = time.perf_counter()
        Report([DataDriftPreset()]).run(cur, ref).dict()
        again.append(round(time.perf_counter() - t0, 3))
    drifted, scores, methods = set(), {}, set()
    for metric in result["metrics"]:
        config = metric.get("config", {})
        if config.get("type", "").endswith("ValueDrift"):
            scores[config["column"]] = metric["value"]
            methods.add(config["method"])
            if metric["value"] >= config["threshold"]:  # distances (n_ref > 1000)
                drifted.add(config["column"])
    print(json.dumps({"tool": "evidently", "rows": args.rows, "cols": args.cols,
                      "seconds": round(m.seconds, 3), "extra_mb": round(m.extra_mb, 1),
                      "peak_mb": round(status_kb("VmHWM") / 1024, 1),
                      "start_mb": round(start_kb / 1024, 1),
                      "drifted": sorted(drifted), "planted": sorted(planted(args.cols)),
                      "methods": sorted(methods), "scores": scores, "again_seconds": again}))


if __name__ == "__main__":
    main()
