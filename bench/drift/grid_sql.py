"""The fine-grid statement alone, per map: wall time and DuckDB's own operator time.

    PYTHONPATH=. .venv/bin/python bench/drift/grid_sql.py [--data FILE] [--runs 21]

Renders ``ks_counts`` for every numeric column of the bench's current table (``main.cur``)
with the grids a profile would hold (centre and scale from the reference's quartiles), once
with the softsign map and ``SOFTSIGN_BUCKETS * ks_resolution`` buckets (what profiles use
now) and once with the atan map and ``ks_resolution`` buckets (profiles of layout 3, the
same KS precision). Each statement runs on the adapter's own connection, alternating, after
two untimed runs each; prints the median wall time (statement and numpy fetch) and, from
DuckDB's JSON profile of one more run, the operator time (every thread) and its projections.

``--shapes`` also times, alternating with the adapter's softsign statement, other shapes of
the same counts (the same bucket expressions and binds; each checked to give the same
counts): the window read once into a MATERIALIZED CTE and grouped per column from it; the
bucket ids computed once in a CTE; one GROUP BY over every column's ids unnested into one
key; one ``histogram()`` aggregate per column in a single ungrouped pass. ``--resolution``
sets ``ks_resolution`` (default 20,000, the monitors' default): fewer buckets, less work,
a coarser KS and Wasserstein bound.
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
    ap.add_argument("--resolution", type=int, default=20_000, help="ks_resolution")
    ap.add_argument("--shapes", action="store_true",
                    help="also time other shapes of the softsign statement (docstring)")
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
    resolution = args.resolution
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
    if args.shapes:
        shapes = _shapes(*statements["softsign"], len(numeric))
        want = _counts(conn, "softsign", *statements["softsign"])
        for how, (sql, params) in shapes.items():
            if _counts(conn, how, sql, params) != want:
                raise SystemExit(f"{how}: other counts than the adapter's statement")
        statements.update(shapes)
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
        buckets = grids.get(how, grids["softsign"])[numeric[0]].resolution
        print(f"{how:9} {buckets:>6} buckets: wall "
              f"{statistics.median(walls[how]) * 1e3:6.1f} ms (median of {args.runs}), "
              f"DuckDB operator time {total:5.1f} ms, of it projections {projections:5.1f} ms")
    wh.close()


def _shapes(sql: str, params: dict[str, Any], columns: int) -> dict[str, tuple[str, Any]]:
    """Other statements giving the adapter's fine counts (its bucket expressions, cut out of
    its SQL, and its binds), keyed by a short name."""
    import re

    table = '"main"."cur"'  # the adapter's statement was rendered without a WHERE
    branch = re.compile(r"SELECT\s+(\d+) AS \"feature\",\s+(CASE.*?END) AS \"bucket\"", re.S)
    exprs = {int(i): e for i, e in branch.findall(sql)}
    assert sorted(exprs) == list(range(columns)), "the adapter's statement changed shape"
    cols = sorted({c for e in exprs.values() for c in re.findall(r'"(f\d+)"', e)})
    pack = 'ARRAY_AGG(bucket * 1099511627776 + row_count) AS packed'
    per_column = " UNION ALL ".join(
        f"SELECT {i} AS feature, {e} AS bucket, COUNT(*) AS row_count FROM w GROUP BY 2"
        for i, e in exprs.items())
    ids = ", ".join(f"{e} AS b{i}" for i, e in exprs.items())
    per_id = " UNION ALL ".join(
        f"SELECT {i} AS feature, b{i} AS bucket, COUNT(*) AS row_count FROM w GROUP BY 2"
        for i in exprs)
    keys = ", ".join(f"{i} * 1048576 + 1 + {e}" for i, e in exprs.items())
    hists = ", ".join(f"histogram({e})" for e in exprs.values())
    cols_sql = ", ".join(f'"{c}"' for c in cols)
    return {
        "cte-rows": (f"WITH w AS MATERIALIZED (SELECT {cols_sql} FROM {table}) "
                     f"SELECT feature, {pack} FROM ({per_column}) GROUP BY feature", params),
        "cte-ids": (f"WITH w AS MATERIALIZED (SELECT {ids} FROM {table}) "
                    f"SELECT feature, {pack} FROM ({per_id}) GROUP BY feature", params),
        "one-key": ("SELECT k // 1048576 AS feature, ARRAY_AGG((k % 1048576 - 1) * "
                    "1099511627776 + n) AS packed FROM (SELECT k, COUNT(*) AS n FROM (SELECT "
                    f"UNNEST([{keys}]) AS k FROM {table}) GROUP BY k) GROUP BY 1",
                    params),
        "histogram": (f"SELECT {hists} FROM {table}", params),
    }


def _counts(conn: Any, how: str, sql: str, params: dict[str, Any]) -> dict[int, list]:
    """The statement's counts as ``{feature: sorted [(bucket, count)]}``."""
    rows = conn.execute(sql, params).fetchall()
    if how == "histogram":
        return {i: sorted(m.items()) for i, m in enumerate(rows[0])}
    return {int(f): sorted((p >> 40, p & (2**40 - 1)) for p in packed) for f, packed in rows}


if __name__ == "__main__":
    main()
