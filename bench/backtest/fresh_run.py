"""A backtest in a fresh process with nothing imported before the clock, code against code.

    PYTHONPATH=. .venv/bin/python bench/backtest/fresh_run.py --code /tmp/before --code . \
        [--rows 1000000] [--runs 5]

Each run is a new interpreter (``PYTHONPATH`` = the ``--code`` checkout first) that creates
the DuckDB adapter on ``bench/data/backtest_<rows>.duckdb`` (``compare.py`` makes it) and
calls ``backtest`` once (classification, grouped by ``model_version``, 7 windows of 1 day,
with the label time): what ``watchdog run --once`` pays for the check's query, its render
and the fold, with sqlglot imported only if the statement must be rendered. Each code has its
own rendered-statement cache (``WATCHDOG_SQL_CACHE``), filled by one uncounted run, as a
second ``run --once`` finds it. Codes alternate within each round; every row prints the load.
Prints per code the medians of the ``backtest`` call and of the whole process.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHILD = """
import sys, time
t0 = time.perf_counter()
from datetime import datetime, timedelta, timezone
from watchdog.models import BacktestSpec, TableRef
from watchdog.warehouses import create
wh = create('b', 'duckdb', {'path': sys.argv[1], 'read_only': True})
spec = BacktestSpec(
    predictions=TableRef(schema='main', name='predictions'),
    labels=TableRef(schema='main', name='labels'), time_column='predicted_at',
    key=('prediction_id',), label_key=('prediction_id',), score='score', label='label',
    group_by=('model_version',), label_time='observed_at')
start = datetime(2026, 3, 1, tzinfo=timezone.utc)
t1 = time.perf_counter()
found = wh.backtest(spec, start, start + timedelta(days=7), timedelta(days=1))
import watchdog
assert watchdog.__file__.startswith(sys.argv[2]), (watchdog.__file__, sys.argv[2])
print(time.perf_counter() - t1, time.perf_counter() - t0, len(found), 'sqlglot' in sys.modules)
"""


def one(code: str, data: Path, cache: Path) -> tuple[float, float, int, bool]:
    root = str(Path(code).resolve())  # ``-c`` puts the working folder first on sys.path
    env = {**os.environ, "PYTHONPATH": root, "WATCHDOG_SQL_CACHE": str(cache)}
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", CHILD, str(data), root], env=env, check=True,
                         capture_output=True, text=True, cwd=root).stdout.split()
    wall = time.perf_counter() - t0
    return float(out[0]), wall, int(out[2]), out[3] == "True"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--code", action="append", required=True, metavar="DIR")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    data = ROOT / "bench" / "data" / f"backtest_{args.rows}.duckdb"
    if not data.exists():
        sys.exit(f"{data} is missing: run bench/backtest/compare.py --sizes {args.rows} once")
    times: dict[str, list[tuple[float, float]]] = {c: [] for c in args.code}
    with tempfile.TemporaryDirectory() as tmp:
        caches = {c: Path(tmp) / f"cache{i}" for i, c in enumerate(args.code)}
        for code in args.code:
            one(code, data, caches[code])  # fills its cache; not counted
        for rnd in range(args.runs):
            for code in args.code:
                call, wall, cells, sqlglot = one(code, data, caches[code])
                times[code].append((call, wall))
                load = " ".join(f"{x:.2f}" for x in os.getloadavg())
                print(f"round {rnd + 1} {code}: backtest {call:.3f} s, process {wall:.3f} s, "
                      f"{cells} cells, sqlglot imported: {sqlglot}, load {load}")
    for code, rows in times.items():
        print(f"{code}: median backtest {statistics.median(r[0] for r in rows):.3f} s, "
              f"process {statistics.median(r[1] for r in rows):.3f} s")


if __name__ == "__main__":
    main()
