"""The Python part of a drift check: ``analyse`` with the warehouse's answers recorded once
and replayed, so only watchdog's own work (statistics, bins, labels) is timed.

    PYTHONPATH=<tree> .venv/bin/python bench/drift/python_part.py PROFILE [--runs 60]

Prints the median and the least CPU milliseconds of ``--runs`` checks in one process (after
two untimed ones); run it alternately per code tree, each with a profile it can read.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _replaying(real: Any) -> Any:
    """``real``, called once; its answer given again to every later call."""
    answer: list[Any] = []

    def replay(*a: Any, **k: Any) -> Any:
        if not answer:
            answer.append(real(*a, **k))
        return answer[0]
    return replay


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("profile")
    ap.add_argument("--data", default=str(HERE.parent / "data" / "drift_100000x20.duckdb"))
    ap.add_argument("--runs", type=int, default=60)
    args = ap.parse_args()
    from watchdog.checks.drift.analysis import analyse
    from watchdog.checks.drift.params import DriftParams
    from watchdog.warehouses import create

    now = datetime(2026, 3, 4, tzinfo=UTC)
    p = DriftParams(id="bench", warehouse="b", table="main.cur", time_column="ts",
                    window="5000w", reference={"table": "main.ref"},  # type: ignore[arg-type]
                    mode="bins")
    wh = create("b", "duckdb", {"path": args.data, "read_only": True})
    profile = json.loads(Path(args.profile).read_text())
    for name in ("columns", "ks_counts", "value_counts"):
        setattr(wh, name, _replaying(getattr(wh, name)))
    for _ in range(2):
        analyse(wh, p, profile, 1, now)
    took = []
    for _ in range(args.runs):
        c0 = time.process_time()
        analyse(wh, p, profile, 1, now)
        took.append(time.process_time() - c0)
    print(f"Python part of a check: CPU {statistics.median(took) * 1e3:.1f} ms median, "
          f"{min(took) * 1e3:.1f} ms least")


if __name__ == "__main__":
    main()
