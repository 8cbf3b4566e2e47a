"""Drift side by side: Evidently's DataDriftPreset and watchdog on the same data, in the same
invocation, alternating, each run a fresh process; medians of ``--runs`` and the load.

    bench/drift/setup.sh                                   # once: bench/.venv-evidently
    PYTHONPATH=. .venv/bin/python bench/drift/compare.py --sizes 100000x20,1000000x100 --runs 3
    PYTHONPATH=. .venv/bin/python bench/drift/compare.py --big 100000000 --runs 3
    PYTHONPATH=. .venv/bin/python bench/drift/compare.py --sizes 1000000x100 --runs 1 --no-peer

Per size: the data is loaded into ``bench/data/drift_<rows>x<cols>.duckdb`` once (not timed;
Evidently builds the same frames from the same seeds in its own process, before its clock).
Then, ``--runs`` times in turn: Evidently (``bench_evidently.py``), watchdog's first run
(profile + check in one process, what a user sees first), watchdog's scheduled run (check
only, from the profile a previous run stored). Watchdog runs with the adapter's defaults
(no setting). Each line printed is one run with ``uptime``'s load; the summary gives the
median wall time of the timed step, the ratio Evidently/watchdog per round (median of the
rounds), and memory as the fresh process's peak RSS (``VmHWM``) and its extra over the RSS
before the timed step. Raw runs are appended to ``bench/drift/results.jsonl``.

``--again N``: Evidently's process runs its report N more times on the same frames, and
watchdog's check process N more checks (the profile read again each time): a long-lived
process's later runs, as a daemon's scheduled checks run. Their rows ("…, later runs") give
the median over the rounds of each process's median later run, and the ratio per round of
those medians; the first runs' times are as without it, but their processes' peak memory
then covers the later runs too (measure memory without ``--again``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
EVIDENTLY = ROOT / "bench" / ".venv-evidently" / "bin" / "python"


def load_avg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def run(cmd: list[str]) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    if out.returncode:
        sys.exit(f"{' '.join(cmd)} failed:\n{out.stderr[-3000:]}")
    got = json.loads(out.stdout.strip().splitlines()[-1])
    got["extra_mb"] = round(got["peak_mb"] - got["start_mb"], 1)
    return got


def ensure_data(rows: int, cols: int) -> Path:
    path = ROOT / "bench" / "data" / f"drift_{rows}x{cols}.duckdb"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        sys.path.insert(0, str(HERE))
        from bench_watchdog import load

        load(str(path), rows, cols)
    return path


def compare(rows: int, cols: int, runs: int, log: list[dict], peer: bool = True,
            again: int = 0) -> dict:
    path = ensure_data(rows, cols)
    wd = [sys.executable, str(HERE / "wd_run.py"), str(path), "--cols", str(cols)]
    with tempfile.TemporaryDirectory() as tmp:
        stored = str(Path(tmp) / "profile.json")
        run([*wd, "--step", "profile", "--profile-json", stored])  # what the first run stored
        steps = {
            "evidently": [str(EVIDENTLY), str(HERE / "bench_evidently.py"), "--rows", str(rows),
                          "--cols", str(cols)],
            "watchdog profile+check": [*wd, "--step", "both"],
            "watchdog check": [*wd, "--step", "check", "--profile-json", stored],
        }
        if again:
            steps["evidently"] += ["--again", str(again)]
            steps["watchdog check"] += ["--again", str(again)]
        if not peer:  # watchdog alone (Evidently takes ~7 min a run at 1M x 100)
            del steps["evidently"]
        got: dict[str, list[dict]] = {k: [] for k in steps}
        for i in range(runs):
            for name, cmd in steps.items():
                before = load_avg()
                r = run(cmd)
                r.update(tool=name, rows=rows, cols=cols, round=i, load_before=before,
                         load_after=load_avg(), at=datetime.now(UTC).isoformat(timespec="seconds"))
                r.pop("psi", None), r.pop("scores", None), r.pop("wasserstein", None)
                got[name].append(r)
                log.append(r)
                shown = ("tool", "round", "seconds", "again_seconds", "cpu_seconds", "peak_mb",
                         "extra_mb", "load_before")
                print(json.dumps({k: r.get(k) for k in shown}), flush=True)
    for name in ("evidently", "watchdog check"):  # each process's later runs, as one run
        if again and name in got:
            got[f"{name}, later runs"] = [
                {**r, "seconds": statistics.median(r["again_seconds"])} for r in got[name]]
    summary = {}
    for name, rs in got.items():
        ev = got.get("evidently, later runs" if name.endswith("later runs") else "evidently")
        ratios = [e["seconds"] / r["seconds"] for e, r in zip(ev, rs, strict=True)] if ev else []
        drifted = {r.get("drifted_ok", r.get("drifted") == r.get("planted")) for r in rs}
        summary[name] = {
            "seconds": statistics.median(r["seconds"] for r in rs),
            "ratio": statistics.median(ratios) if ratios else None,
            "ratios": [round(x, 1) for x in ratios],
            "peak_mb": max(r["peak_mb"] for r in rs), "extra_mb": max(r["extra_mb"] for r in rs),
            "drifted_right": drifted == {True},
        }
    return summary


def drop_caches() -> bool:
    """Empty the kernel's page cache (root only), so that a run reads the file from disk."""
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError:
        return False


def big(rows: int, runs: int) -> None:
    """watchdog alone on a ``rows``-row current table (10 columns, generated in DuckDB; a
    1M-row reference): profile and check each in a fresh process, page cache dropped first."""
    path = ROOT / "bench" / "data" / f"drift_big_{rows}.duckdb"
    if not path.exists():
        sys.path.insert(0, str(HERE))
        from bench_watchdog import load_big

        load_big(str(path), rows, 10)
    wd = [sys.executable, str(HERE / "wd_run.py"), str(path), "--cols", "10"]
    with tempfile.TemporaryDirectory() as tmp:
        stored = str(Path(tmp) / "profile.json")
        got: dict[str, list[dict]] = {"profile": [], "check": []}
        for i in range(runs):
            for step in got:
                cold = drop_caches()
                before = load_avg()
                r = run([*wd, "--step", step, "--profile-json", stored])
                r.update(tool=f"watchdog {step}", rows=rows, cols=10, round=i, cold_cache=cold,
                         load_before=before, load_after=load_avg())
                r.pop("psi", None), r.pop("wasserstein", None)
                got[step].append(r)
                print(json.dumps(r), flush=True)
                with (HERE / "results.jsonl").open("a") as f:
                    f.write(json.dumps(r) + "\n")
    for step, rs in got.items():
        print(f"| {rows:,} × 10 | watchdog {step} | "
              f"{statistics.median(r['seconds'] for r in rs):.2f} s | "
              f"peak RSS {max(r['peak_mb'] for r in rs):.0f} MB "
              f"(+{max(r['extra_mb'] for r in rs):.0f} MB) | cold cache: "
              f"{all(r['cold_cache'] for r in rs)} |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="100000x20,1000000x100")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-peer", action="store_true",
                    help="watchdog only: no Evidently runs, no ratios")
    ap.add_argument("--again", type=int, default=0, metavar="N",
                    help="also N later runs in each Evidently and check process (docstring)")
    ap.add_argument("--big", type=int, default=0,
                    help="instead: watchdog alone on a current table of this many rows")
    args = ap.parse_args()
    if args.big:
        print(f"load at start: {load_avg()}", flush=True)
        big(args.big, args.runs)
        print(f"load at end: {load_avg()}")
        return
    if not EVIDENTLY.exists() and not args.no_peer:
        sys.exit("run bench/drift/setup.sh first (bench/.venv-evidently)")
    log: list[dict] = []
    print(f"load at start: {load_avg()}", flush=True)
    tables = []
    for size in args.sizes.split(","):
        rows, cols = (int(x) for x in size.split("x"))
        summary = compare(rows, cols, args.runs, log, peer=not args.no_peer,
                          again=args.again)
        for name, s in summary.items():
            ratio = (f"{s['ratio']:.1f}× ({', '.join(map(str, s['ratios']))})"
                     if s["ratio"] is not None else "—")
            tables.append(f"| {rows:,} × {cols} | {name} | {s['seconds']:.3f} | {ratio} | "
                          f"{s['peak_mb']:.0f} | +{s['extra_mb']:.0f} | "
                          f"{'right' if s['drifted_right'] else 'WRONG'} |")
    with (HERE / "results.jsonl").open("a") as f:
        for r in log:
            f.write(json.dumps(r) + "\n")
    print(f"\nload at end: {load_avg()}\n")
    print("| size | tool | median s | Evidently ÷ tool (median of rounds; each) | "
          "peak RSS MB | extra MB | drifted set |\n|---|---|---:|---|---:|---:|---|")
    print("\n".join(tables))


if __name__ == "__main__":
    main()
