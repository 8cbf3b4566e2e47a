"""Backtests side by side: watchdog's ``kind: backtest`` check, Evidently's
ClassificationPreset / RegressionPreset and NannyML's PerformanceCalculator on the same
labelled predictions, in the same invocation, alternating, each run a fresh process;
medians of ``--runs``, the load, and the metrics compared number by number.

    bench/backtest/setup.sh                                  # once: the peers' venvs
    PYTHONPATH=. .venv/bin/python bench/backtest/compare.py --sizes 1000000 --runs 3
    PYTHONPATH=. .venv/bin/python bench/backtest/compare.py --sizes 10000000 --runs 3 \
        --peer-max-rows 1000000                              # peers capped: watchdog alone

Per size the data is generated once into ``bench/data/backtest_<rows>.duckdb`` (``data.py``,
not timed). Per task and round, in turn: Evidently (``bench_evidently.py``), NannyML
(``bench_nannyml.py``) and watchdog's check (``wd_run.py``, as the daemon runs it). Timed:
the tool's step (the peers' after their data is in a frame), the peers' load (the labelled
predictions joined and read from the same DuckDB file into their frame: what a user of the
peer must do too, and what the check's own query does), watchdog's floor (``data.FLOOR``:
one hand-written query doing the join and the GROUP BY the check needs, in the check's
process, after it) and the whole fresh process (start to exit, data loading included).
Memory: the process's peak RSS (``VmHWM``) and its extra over the RSS after imports (the
peers' extra includes their frame of the data). A run
over ``--timeout`` seconds is killed and reported as such, and that tool is not run again
for that size and task. Raw runs are appended to ``bench/backtest/results.jsonl``. """

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PEERS = {"evidently": ROOT / "bench" / ".venv-evidently" / "bin" / "python",
         "nannyml": ROOT / "bench" / ".venv-nannyml" / "bin" / "python"}
SHOWN = {"classification": ("accuracy", "precision", "recall", "f1", "auroc", "log_loss"),
         "regression": ("rmse", "mae", "mape", "r2", "mean_error")}


def load_avg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def run(cmd: list[str], timeout: float) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NML_DISABLE_USAGE_LOGGING": "1",
           "DO_NOT_TRACK": "1"}
    t0 = time.perf_counter()
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT,
                             timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"timed_out": True, "process_seconds": round(time.perf_counter() - t0, 1)}
    wall = time.perf_counter() - t0
    if out.returncode:
        sys.exit(f"{' '.join(cmd)} failed:\n{out.stderr[-3000:]}")
    got = json.loads(out.stdout.strip().splitlines()[-1])
    got["process_seconds"] = round(wall, 3)
    got["extra_mb"] = round(got["peak_mb"] - got["start_mb"], 1)
    return got


def ensure_data(rows: int) -> Path:
    path = ROOT / "bench" / "data" / f"backtest_{rows}.duckdb"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        sys.path.insert(0, str(HERE))
        from data import build

        build(str(path), rows)
    return path


def differences(ours: dict, theirs: dict, task: str) -> dict[str, float]:
    """Per metric, the largest |watchdog - peer| over the version/window cells both have;
    for AUROC also the largest difference as a share of watchdog's stated bound."""
    out: dict[str, float] = {}
    for where, values in theirs.items():
        mine = ours.get(where, {})
        for name in SHOWN[task]:
            if name in values and mine.get(name) is not None:
                diff = abs(mine[name] - values[name])
                out[name] = max(out.get(name, 0.0), diff)
                bound = mine.get("auroc_error_bound")
                if name == "auroc" and bound:
                    out["auroc/bound"] = max(out.get("auroc/bound", 0.0), diff / bound)
    out["cells"] = len([w for w in theirs if w in ours])
    return out


def compare(rows: int, task: str, runs: int, peers: list[str], timeout: float,
            check_timeout: float, log: list[dict]) -> list[str]:
    path = str(ensure_data(rows))
    wd = [sys.executable, str(HERE / "wd_run.py"), path, "--task", task]
    tools = {name: [str(PEERS[name]), str(HERE / f"bench_{name}.py"), path, "--task", task]
             for name in peers}
    tools |= {"watchdog check": wd}
    got: dict[str, list[dict]] = {k: [] for k in tools}
    for i in range(runs):
        for name, cmd in tools.items():
            if any(r.get("timed_out") for r in got[name]):
                continue
            before = load_avg()
            r = run(cmd, check_timeout if name == "watchdog check" else timeout)
            r.update(tool=name, task=task, rows=rows, round=i, load_before=before,
                     load_after=load_avg(), at=datetime.now(UTC).isoformat(timespec="seconds"))
            got[name].append(r)
            log.append(r)
            print(json.dumps({k: r.get(k) for k in ("tool", "task", "round", "seconds",
                                                    "load_seconds", "floor_seconds",
                                                    "join_seconds", "process_seconds",
                                                    "peak_mb", "extra_mb", "timed_out",
                                                    "load_before")}), flush=True)
    done = {k: [r for r in v if not r.get("timed_out")] for k, v in got.items()}
    ours = next((rs[0]["metrics"] for k in ("watchdog check",)
                 if (rs := done[k])), {})

    def median(rs: list[dict], key: str) -> float:
        return statistics.median(r.get(key, 0.0) for r in rs)

    fastest = min((median(done[p], "seconds") for p in peers if done[p]), default=None)
    fastest_loaded = min((median(done[p], "seconds") + median(done[p], "load_seconds")
                          for p in peers if done[p]), default=None)
    lines = []
    for name, rs in got.items():
        if not done[name]:
            limit = check_timeout if name == "watchdog check" else timeout
            lines.append(f"| {rows:,} | {task} | {name} | did not finish in {limit:.0f} s "
                         f"(killed) | | | | | | | | |")
            continue
        rs = done[name]
        step = median(rs, "seconds")
        whole = median(rs, "process_seconds")
        if name in peers:
            load = median(rs, "load_seconds")
            shown = f"{step:.2f} | {load:.2f} | {step + load:.2f}"
            ratio, floor = "", ""
            diffs = ", ".join(f"{k} {v:.1e}" if k != "cells" else f"{v} cells"
                              for k, v in differences(ours, rs[0]["metrics"], task).items())
        else:
            shown = f"{step:.2f} | | "
            ratio = (f"{fastest / step:.1f}× / {fastest_loaded / step:.1f}×"
                     if fastest and fastest_loaded else "")
            fl, join = median(rs, "floor_seconds"), median(rs, "join_seconds")
            floor = f"{step / fl:.1f}× ({fl:.2f} s; join alone {join:.2f} s)" if fl else ""
            diffs = ""
        lines.append(f"| {rows:,} | {task} | {name} | {shown} | {whole:.2f} | {ratio} | "
                     f"{floor} | {max(r['peak_mb'] for r in rs):.0f} | "
                     f"+{max(r['extra_mb'] for r in rs):.0f} | {diffs} |")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000000")
    ap.add_argument("--tasks", default="classification,regression")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--peers", default="evidently,nannyml")
    ap.add_argument("--peer-max-rows", type=int, default=10**9,
                    help="run the peers only on sizes up to this many rows")
    ap.add_argument("--timeout", type=float, default=600,
                    help="kill a run after this many seconds (and run that tool no more)")
    ap.add_argument("--check-timeout", type=float, default=600,
                    help="the same for watchdog's check (600 s: the daemon's default timeout)")
    args = ap.parse_args()
    peers = [p for p in args.peers.split(",") if p]
    for p in peers:
        if not PEERS[p].exists():
            sys.exit("run bench/backtest/setup.sh first (bench/.venv-evidently, "
                     "bench/.venv-nannyml)")
    log: list[dict] = []
    print(f"load at start: {load_avg()}", flush=True)
    lines = []
    for size in args.sizes.split(","):
        rows = int(size)
        for task in args.tasks.split(","):
            lines += compare(rows, task, args.runs, peers if rows <= args.peer_max_rows else [],
                             args.timeout, args.check_timeout, log)
    with (HERE / "results.jsonl").open("a") as f:
        for r in log:
            f.write(json.dumps({k: v for k, v in r.items() if k != "metrics"}) + "\n")
    print(f"\nload at end: {load_avg()}\n")
    print("| rows | task | tool | step s (median) | load s | step + load s | whole process s "
          "| fastest peer ÷ check (step / step + load) | check ÷ floor (floor s) "
          "| peak RSS MB | extra MB | max |watchdog − peer| per metric |\n"
          "|---:|---|---|---:|---:|---:|---:|---:|---|---:|---:|---|")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
