"""Volume speed: watchdog's ``count_successes`` (the one query a volume check runs) against
the hand-written GROUP BY floor, on a 50M-row DuckDB prediction log (3 models, 8 weeks).

    PYTHONPATH=. .venv/bin/python bench/volume/bench_speed.py [--rows 50000000] [--runs 3]

The table is generated inside DuckDB once (``bench/data/volume_<rows>.duckdb``, git-ignored):
``ts`` a naive TIMESTAMP, ``ts_tz`` the same instants as TIMESTAMPTZ, ``day`` a DATE,
``model`` one of three, ``status`` ok or error (2 %). Each measurement is a fresh process
(adapter defaults, the default memory cap included), alternating watchdog and the floor for
each column type; the median of ``--runs`` is printed with the load average, and the
counts of both must agree.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 1, 5, tzinfo=UTC)
WEEKS = 8
COLUMNS = {"ts": "hour", "ts_tz": "hour", "day": "day"}


def build(path: Path, rows: int) -> None:
    import duckdb

    seconds = WEEKS * 7 * 86400
    with duckdb.connect(str(path)) as con:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET enable_progress_bar = false")
        con.execute(f"""CREATE TABLE predictions AS
            SELECT TIMESTAMP '{START:%Y-%m-%d %H:%M:%S}' + to_seconds(
                       CAST(floor(i * {seconds} / {rows}) AS BIGINT)) AS ts,
                   ['churn', 'upsell', 'fraud'][1 + CAST(floor(random() * 3) AS INTEGER)]
                       AS model,
                   CASE WHEN random() < 0.02 THEN 'error' ELSE 'ok' END AS status
            FROM range({rows}) AS t(i)""")
        con.execute("ALTER TABLE predictions ADD COLUMN ts_tz TIMESTAMPTZ")
        con.execute("ALTER TABLE predictions ADD COLUMN day DATE")
        con.execute("UPDATE predictions SET ts_tz = ts::TIMESTAMPTZ, day = ts::DATE")
        con.execute("CHECKPOINT")


def one(path: str, tool: str, column: str) -> dict:
    """In a fresh process: the timed query, its wall time and a checksum of its counts."""
    from watchdog.models import Predicate
    from watchdog.warehouses import create

    step = timedelta(hours=1) if COLUMNS[column] == "hour" else timedelta(days=1)
    end = START + timedelta(weeks=WEEKS)
    if tool == "watchdog":
        wh = create("v", "duckdb", {"path": path, "read_only": True})
        wh.ping()
        t0 = time.perf_counter()
        rows = wh.count_successes(wh.table("main.predictions"), column, START, end, step,
                                  [Predicate(column="status", op="=", value="ok")], ["model"])
        total = sum(r.total for r in rows)
        ok = sum(r.successes for r in rows)
    else:  # the floor: one GROUP BY, written by hand for this column
        import duckdb

        con = duckdb.connect(path, read_only=True)
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET enable_progress_bar = false")
        t0 = time.perf_counter()
        size = 3600 if COLUMNS[column] == "hour" else 86400
        got = con.execute(f"""SELECT floor(epoch({column}) / {size}) AS b, model, count(*),
                count_if(status = 'ok'), max(CASE WHEN status = 'ok' THEN {column} END)
            FROM predictions GROUP BY ALL""").fetchall()
        total = sum(r[2] for r in got)
        ok = sum(r[3] for r in got)
    return {"seconds": time.perf_counter() - t0, "total": total, "ok": ok}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=50_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--one", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(*args.one)))
        return
    path = ROOT / "bench" / "data" / f"volume_{args.rows}.duckdb"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        build(path, args.rows)
        print(f"built {args.rows:,} rows in {time.perf_counter() - t0:.0f} s")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    print(f"load: {os.getloadavg()}")
    print("| column | watchdog s | floor s | × floor | counts agree |\n|---|---:|---:|---:|---|")
    for column in COLUMNS:
        times: dict[str, list[float]] = {"watchdog": [], "floor": []}
        sums = set()
        for _ in range(args.runs):
            for tool in times:
                out = subprocess.run([sys.executable, __file__, "--one", str(path), tool, column],
                                     capture_output=True, text=True, env=env)
                if out.returncode:
                    sys.exit(out.stderr)
                got = json.loads(out.stdout)
                times[tool].append(got["seconds"])
                sums.add((got["total"], got["ok"]))
        w, f = statistics.median(times["watchdog"]), statistics.median(times["floor"])
        print(f"| {column} | {w:.2f} | {f:.2f} | {w / f:.2f} | {len(sums) == 1} |", flush=True)
    print(f"load: {os.getloadavg()}")


if __name__ == "__main__":
    main()
