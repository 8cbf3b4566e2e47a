"""The fine-grid statement alone, per map: wall time and DuckDB's own operator time.

    PYTHONPATH=. .venv/bin/python bench/drift/grid_sql.py [--data FILE] [--runs 21]

Renders ``ks_counts`` for every numeric column of the bench's current table (``main.cur``)
with the grids a profile would hold (centre and scale from the reference's quartiles), once
with the softsign map and ``SOFTSIGN_BUCKETS * ks_resolution`` buckets (what profiles use
now) and once with the atan map and ``ks_resolution`` buckets (profiles of layout 3, the
same KS precision). Each statement runs on the adapter's own connection, alternating, after
two untimed runs each; prints the median wall time (statement and numpy fetch) and, from
DuckDB's JSON profile of one more run, the operator time (every thread) and its projections.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _operator_ms(conn: Any, sql: str, params: dict[str, Any]) -> tuple[float, float]:
    """DuckDB's operator time of one run, in all and in projections (ms)."""
    folder = tempfile.mkdtemp()
    out = Path(folder) / "profile.json"
    cursor = conn.cursor()
    cursor.execute(f"SET enable_profiling = 'json'; SET profiling_output = '{out}'")
    cursor.execute(sql, params).fetchnumpy()
    cursor.execute("SET enable_profiling = 'no_output'")
    doc = json.loads(out.read_text())
    shutil.rmtree(folder)
    times: dict[str, float] = {}

    def walk(node: dict[str, Any]) -> None:
        times[node["name"]] = times.get(node["name"], 0.0) + node.get("timing", 0.0)
        for child in node.get("children", []):
            walk(child)

    for node in doc["operator"]:
        walk(node)
    return sum(times.values()) * 1e3, times.get("PROJECTION", 0.0) * 1e3


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(HERE.parent / "data" / "drift_100000x20.duckdb"))
    ap.add_argument("--runs", type=int, default=21)
    args = ap.parse_args()
    import math

    import numpy as np

    from watchdog.checks.drift.profile import SOFTSIGN_BUCKETS, ks_grid
    from watchdog.models import FineGrid
    from watchdog.warehouses import create
    from watchdog.warehouses.executor import driver_params, driver_sql

    wh: Any = create("b", "duckdb", {"path": args.data, "read_only": True})
    conn = wh.executor.connection()
    numeric = [r[0] for r in conn.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = 'cur'"
        " AND data_type = 'DOUBLE'").fetchall()]
    resolution = 20_000  # the default ks_resolution
    grids: dict[str, dict[str, FineGrid]] = {"softsign": {}, "atan": {}}
    for name in numeric:
        sample = conn.execute(f'SELECT "{name}" FROM main.ref LIMIT 5000').fetchnumpy()[name]
        soft = ks_grid(np.asarray(sample, dtype=np.float64), resolution)
        assert soft is not None and soft.resolution == math.ceil(resolution * SOFTSIGN_BUCKETS)
        grids["softsign"][name] = soft
        grids["atan"][name] = FineGrid(soft.center, soft.scale, resolution, "atan")
    statements = {}
    for how, g in grids.items():
        stmt = wh.render("ks_counts", table=wh.table("main.cur"), grids=g, where=[])
        statements[how] = (driver_sql(stmt.sql, "dollar"), driver_params(stmt.sql, stmt.params))
    session = "SET TimeZone = 'UTC'; SET perfect_ht_threshold = 16"
    walls: dict[str, list[float]] = {how: [] for how in statements}
    for i in range(args.runs + 2):
        for how, (sql, params) in statements.items():
            cursor = conn.cursor()
            cursor.execute(session)
            t0 = time.perf_counter()
            cursor.execute(sql, params).fetchnumpy()
            if i >= 2:
                walls[how].append(time.perf_counter() - t0)
    print(f"{len(numeric)} numeric columns of {args.data}; load {os.getloadavg()}")
    for how, (sql, params) in statements.items():
        total, projections = _operator_ms(conn, sql, params)
        print(f"{how:9} {grids[how][numeric[0]].resolution:>6} buckets: wall "
              f"{statistics.median(walls[how]) * 1e3:6.1f} ms (median of {args.runs}), "
              f"DuckDB operator time {total:5.1f} ms, of it projections {projections:5.1f} ms")
    wh.close()


if __name__ == "__main__":
    main()
