"""What each ``ks_resolution`` costs in precision: the KS and Wasserstein error bounds of
bins mode, and the actual errors against scipy on all rows, per setting.

    PYTHONPATH=. .venv/bin/python bench/drift/ks_bound.py [--resolutions 20000,16000,...]
        [--ref-rows 400000] [--cur-rows 300000] [--builds N]

The data are the six shapes of ``tests/checks/drift/test_ks.py`` (normal, shifted,
log-normal, Student-t(3), a narrow feature far from 0, and one with far outliers), in a
DuckDB file of its own; for each setting a profile is built and the current window checked
as a monitor does (``build_profile`` then ``analyse``). Prints one line per setting:
the largest ``ks_error`` (the bound watchdog reports; test_ks.py asserts it stays <= 1e-4
at the default), the largest actual KS error against ``scipy.stats.ks_2samp``, and the same
two for the normed Wasserstein distance. The outlier column is left out of the Wasserstein
columns, as in test_ks.py: past the grid's bounded buckets only the bound holds, and it is
loose. Precision only, no timing: the time of each setting comes from ``wd_run.py --param
ks_resolution=N`` and ``grid_sql.py --resolution N``.

The grid's centre and scale come from a random sample of the reference, so the bound moves
from one build to the next: ``--builds N`` builds and checks N times per setting and prints
the range of the largest KS bound over the builds (the other columns are the first build's).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from scipy import stats as sps

from tests.checks.drift.test_ks import write_tables  # the test's own six columns
from watchdog.checks.drift.analysis import analyse
from watchdog.checks.drift.params import DriftParams
from watchdog.checks.drift.profile import build_profile
from watchdog.warehouses import create

NOW = datetime(2026, 3, 4, tzinfo=UTC)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--resolutions", default="20000,18000,16000,12000,10000,8000")
    ap.add_argument("--ref-rows", type=int, default=400_000)
    ap.add_argument("--cur-rows", type=int, default=300_000)
    ap.add_argument("--builds", type=int, default=1, help="profiles built per setting")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "ks.duckdb")
        data = write_tables(path, args.ref_rows, args.cur_rows)
        exact_ks = {c: sps.ks_2samp(data["ref"][c], data["cur"][c]).statistic
                    for c in data["ref"]}
        exact_w = {c: sps.wasserstein_distance(data["ref"][c], data["cur"][c])
                   / np.std(data["ref"][c]) for c in data["ref"]}
        print(f"{args.ref_rows:,} reference rows, {args.cur_rows:,} current rows, "
              "six shapes; largest over the columns (Wasserstein: all but the outliers):")
        print("| ks_resolution | buckets | KS bound | KS actual error | Wasserstein bound "
              "| Wasserstein actual error |" + (" KS bound, every build |" if args.builds > 1
                                               else ""))
        print("|---:|---:|---:|---:|---:|---:|" + ("---:|" if args.builds > 1 else ""))
        wh = create("w", "duckdb", {"path": path, "read_only": True})
        try:
            for r in (int(x) for x in args.resolutions.split(",")):
                p = DriftParams(id="ks", warehouse="w", table="main.cur", time_column="ts",
                                window="100w", reference={"table": "main.ref"},  # type: ignore[arg-type]
                                ks_resolution=r)
                builds = []
                for _ in range(args.builds):
                    profile = build_profile(wh, p, NOW)
                    builds.append((profile, analyse(wh, p, profile, 1, NOW).features))
                profile, feats = builds[0]
                buckets = {f["ks"]["resolution"] for f in profile["features"].values()}
                ks_bound = max(f.ks_error or 0.0 for f in feats)
                ks_err = max(abs(f.statistics["ks_statistic"] - exact_ks[f.name])
                             for f in feats)
                w_bound = max(f.wasserstein_error or 0.0 for f in feats
                              if f.name != "outliers")
                w_err = max(abs(f.statistics["wasserstein"] - exact_w[f.name]) for f in feats
                            if f.name != "outliers")
                every = [max(f.ks_error or 0.0 for f in fs) for _, fs in builds]
                spread = (f" {min(every):.2e}–{max(every):.2e} ({sum(e > 1e-4 for e in every)}"
                          f" of {len(every)} above 1e-4) |" if args.builds > 1 else "")
                print(f"| {r:,} | {'/'.join(f'{b:,}' for b in sorted(buckets))} | "
                      f"{ks_bound:.2e} | {ks_err:.1e} | {w_bound:.2e} | {w_err:.1e} |{spread}")
                sys.stdout.flush()
        finally:
            wh.close()


if __name__ == "__main__":
    main()
