"""Drift checks of several code trees side by side: fresh processes, alternating, each tree
with its own stored profile; medians of the check's CPU and wall seconds (``wd_run.py``).

    PYTHONPATH=. .venv/bin/python bench/drift/alternate.py --runs 15 \
        --code /tmp/before=/tmp/before.json --code .=/tmp/now.json
    PYTHONPATH=. .venv/bin/python bench/drift/alternate.py --runs 15 --step both \
        --code /tmp/before= --code .=

``--code TREE=PROFILE[=ARGS]``: a folder holding a ``watchdog/`` package (e.g. ``git archive
<commit> watchdog | tar -x -C /tmp/before``) and a profile written by that tree
(``wd_run.py --step profile``, or the same profile re-encoded where the trees store it
alike), and optionally more ``wd_run.py`` arguments for it, space-separated (e.g.
``.=/tmp/p8k.json=--param ks_resolution=8000``, with a profile built with the same
``--param``). Each tree runs once untimed first (its statements rendered into the SQL cache).
Every run must find the planted drift; the load is printed with the figures. ``--step both``
times a first run instead (profile + check in one process; no profile file needed), with
the extra memory of each run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--code", action="append", required=True,
                    metavar="TREE=PROFILE[=ARGS]")
    ap.add_argument("--data", default=str(HERE.parent / "data" / "drift_100000x20.duckdb"))
    ap.add_argument("--cols", type=int, default=20)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--step", choices=("check", "both"), default="check")
    args = ap.parse_args()
    trees = {c: (c.split("=", 2) + [""])[:3] for c in args.code}  # label: tree, profile, args

    def run(label: str) -> dict:
        tree, profile, extra = trees[label]
        cmd = [sys.executable, str(HERE / "wd_run.py"), args.data, "--cols", str(args.cols),
               "--step", args.step, *extra.split()]
        if args.step == "check":
            cmd += ["--profile-json", profile]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True,
                             env={**os.environ, "PYTHONPATH": str(Path(tree).resolve())})
        got = json.loads(out.stdout.strip().splitlines()[-1])
        if not got["drifted_ok"]:
            sys.exit(f"{label}: wrong drifted set")
        return got

    for tree in trees:
        run(tree)
    got: dict[str, list[dict]] = {t: [] for t in trees}
    loads = []
    for _ in range(args.runs):
        for tree in trees:
            loads.append(os.getloadavg()[0])
            got[tree].append(run(tree))
    for tree, runs in got.items():
        cpu = statistics.median(r["cpu_seconds"] for r in runs)
        wall = statistics.median(r["seconds"] for r in runs)
        extra = statistics.median(r["peak_mb"] - r["start_mb"] for r in runs)
        print(f"{tree}: {args.step} CPU {cpu:.3f} s, wall {wall:.3f} s, extra memory "
              f"+{extra:.0f} MB (medians of {len(runs)})")
    print(f"load average {min(loads):.2f}-{max(loads):.2f}")


if __name__ == "__main__":
    main()
