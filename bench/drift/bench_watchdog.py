"""watchdog's in-warehouse drift on the benchmark data (DuckDB), in the project's venv.

    python bench/drift/bench_watchdog.py --rows 100000 --cols 20      # same data as Evidently
    python bench/drift/bench_watchdog.py --big 100000000 --cols 10    # 100M-row current table

The data is loaded into a DuckDB file first (not timed), then a fresh process profiles the
reference and compares the current window (timed: wall time and peak extra RSS, DuckDB
included, since it runs in-process). DuckDB is opened with ``memory_limit`` (default
100MB, ``--memory-limit ''`` for DuckDB's own default of 80 % of RAM) and ``--threads``.
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from data import PeakRSS, columns, frame, planted

NOW = datetime(2026, 3, 4, tzinfo=UTC)


def load(path: str, rows: int, cols: int) -> None:
    import duckdb
    import pandas as pd

    with duckdb.connect(path) as con:
        for name, current, seed in (("ref", False, 1), ("cur", True, 2)):
            df = pd.DataFrame(frame(rows, cols, current, seed))
            df.insert(0, "ts", pd.Timestamp("2026-03-03 12:00:00"))
            con.register("df", df)
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM df")
            con.unregister("df")


def load_big(path: str, rows: int, cols: int) -> None:
    """A 1M-row reference and a ``rows``-row current table, generated inside DuckDB."""
    import duckdb

    num, cat = columns(cols)
    drifted = planted(cols)

    def select(n: int, current: bool) -> str:
        exprs = ["TIMESTAMP '2026-03-03 12:00:00' AS ts"]
        for c in num:
            shift = 0.5 if current and c in drifted else 0.0
            exprs.append(f"{shift} + sqrt(-2 * ln(random())) * cos(2 * pi() * random()) AS {c}")
        for c in cat:
            exprs.append(f"'k' || lpad(CAST(floor(20 * pow(random(), "
                         f"{'0.5' if current and c in drifted else '2'})) AS VARCHAR), 2, '0')"
                         f" AS {c}")
        return f"SELECT {', '.join(exprs)} FROM range({n})"

    with duckdb.connect(path) as con:
        con.execute(f"CREATE TABLE ref AS {select(1_000_000, False)}")
        con.execute(f"CREATE TABLE cur AS {select(rows, True)}")


def measure(path: str, rows: int, cols: int, exact: bool, settings: dict) -> dict:
    from watchdog.checks.drift.analysis import analyse
    from watchdog.checks.drift.params import DriftParams
    from watchdog.checks.drift.profile import build_profile
    from watchdog.warehouses import create

    p = DriftParams(id="bench", warehouse="b", table="main.cur", time_column="ts",
                    window="5000w", reference={"table": "main.ref"})  # type: ignore[arg-type]
    wh = create("b", "duckdb", {"path": path, "read_only": True, **settings})
    wh.ping()
    with PeakRSS() as prof:
        profile = build_profile(wh, p, NOW)
    with PeakRSS() as cur:
        analysis = analyse(wh, p, profile, 1, NOW)
    drifted = sorted(f.name for f in analysis.features if f.drifted)
    out = {"tool": "watchdog", "rows": rows, "cols": cols, **settings,
           "profile_seconds": round(prof.seconds, 2), "profile_extra_mb": round(prof.extra_mb, 1),
           "current_seconds": round(cur.seconds, 2), "current_extra_mb": round(cur.extra_mb, 1),
           "seconds": round(prof.seconds + cur.seconds, 2),
           "extra_mb": round(max(prof.extra_mb, cur.extra_mb), 1),
           "drifted": drifted, "planted": sorted(planted(cols)),
           "psi": {f.name: round(f.statistics["psi"], 6) for f in analysis.features}}
    if exact:
        out["exactness"] = exactness(analysis, profile, rows, cols)
    return out


def exactness(analysis, profile, rows: int, cols: int) -> dict:  # type: ignore[no-untyped-def]
    """Largest difference between the in-warehouse statistics and numpy on all the rows."""
    from scipy import stats as sps

    from watchdog.checks import stats

    ref, cur = frame(rows, cols, False, 1), frame(rows, cols, True, 2)
    worst = {"psi": 0.0, "jensen_shannon": 0.0, "chi2_pvalue": 0.0, "ks_bins_vs_exact": 0.0,
             "ks_error_bound": 0.0, "wasserstein_bins_vs_exact": 0.0,
             "wasserstein_error_bound": 0.0, "wasserstein_outside_bound": 0.0}
    for f in analysis.features:
        spec = profile["features"][f.name]
        if f.type == "numeric":
            rc, rb, ra, _ = stats.bin_counts(ref[f.name], spec["edges"])
            cc, cb, ca, _ = stats.bin_counts(cur[f.name], spec["edges"])
            r, c = [rb, *rc, ra], [cb, *cc, ca]
            d = sps.ks_2samp(ref[f.name], cur[f.name]).statistic
            worst["ks_bins_vs_exact"] = max(worst["ks_bins_vs_exact"],
                                            abs(f.statistics["ks_statistic"] - d))
            worst["ks_error_bound"] = max(worst["ks_error_bound"], f.ks_error or 0.0)
            # Evidently's normed Wasserstein on all rows: scipy's W1 / np.std(ref)
            w = sps.wasserstein_distance(ref[f.name], cur[f.name]) / np.std(ref[f.name])
            off = abs(f.statistics["wasserstein"] - w)
            bound = f.wasserstein_error or 0.0
            worst["wasserstein_bins_vs_exact"] = max(worst["wasserstein_bins_vs_exact"], off)
            worst["wasserstein_error_bound"] = max(worst["wasserstein_error_bound"], bound)
            worst["wasserstein_outside_bound"] = max(worst["wasserstein_outside_bound"],
                                                     off - bound)
        else:
            cats = spec["categories"]
            r = [int((ref[f.name] == k).sum()) for k in cats] + [0]
            c = [int((cur[f.name] == k).sum()) for k in cats]
            c.append(len(cur[f.name]) - sum(c))
            worst["chi2_pvalue"] = max(worst["chi2_pvalue"],
                                       abs(f.statistics["chi2_pvalue"] - stats.chi2_pvalue(r, c)))
        for s, fn in (("psi", stats.psi), ("jensen_shannon", stats.jensen_shannon)):
            worst[s] = max(worst[s], abs(f.statistics[s] - fn(r, c)))
    return {k: float(f"{v:.3g}") for k, v in worst.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=0)
    ap.add_argument("--big", type=int, default=0, help="rows of a DuckDB-generated current table")
    ap.add_argument("--cols", type=int, required=True)
    ap.add_argument("--measure", help=argparse.SUPPRESS)
    ap.add_argument("--exact", action="store_true", help="also check statistics against numpy")
    ap.add_argument("--memory-limit", default="",
                    help="DuckDB memory_limit ('': the adapter default)")
    ap.add_argument("--threads", type=int, default=0, help="DuckDB threads (0: its default)")
    args = ap.parse_args()
    rows = args.big or args.rows
    settings = {k: v for k, v in (("memory_limit", args.memory_limit),
                                  ("threads", args.threads)) if v}
    if args.measure:
        print(json.dumps(measure(args.measure, rows, args.cols, args.exact, settings)))
        return
    with tempfile.TemporaryDirectory(dir=Path(__file__).parent) as tmp:
        path = str(Path(tmp) / "bench.duckdb")
        (load_big if args.big else load)(path, rows, args.cols)
        cmd = [sys.executable, __file__, "--measure", path, "--rows", str(rows),
               "--cols", str(args.cols), "--memory-limit", args.memory_limit,
               "--threads", str(args.threads)] + (["--exact"] if args.exact else [])
        subprocess.run(cmd, check=True)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
