"""One fresh-process watchdog backtest on a generated DuckDB file (run by ``compare.py``).

    python bench/backtest/wd_run.py FILE.duckdb --task classification|regression \
        [--setting key=value ...] [--cprofile OUT.prof] [--cold-floor]

As a user's ``watchdog run --once`` runs it: a config file (a DuckDB warehouse read-only,
one ``kind: backtest`` monitor grouped by ``model_version``, window 1d, feedback_delay 2d,
the 7 windows of the data), loaded and validated, then the check through the runner
(``Runner.check``: the daemon's own entry, with its deadline thread), as of ``data.NOW``.
The timed step is that check (its query and every metric, interval and finding); the whole
process is timed by the caller. Then, in the same process and on the adapter's own
connection, the floor (``data.FLOOR``: one hand-written query doing the join and the GROUP
BY the check cannot do without) and the join alone, medians of 3. Prints one JSON line:
seconds, the process's peak RSS (``VmHWM``), the RSS before the check (interpreter,
imports, config, state database), and the metrics per version and window (``v1/0`` …
``v3/6``, ``/period`` for the lookback). ``--cold-floor``: no check; the floor query once
as the process's first read of the file, then once warm (one JSON line of both).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from data import FLOOR, NOW, status_kb

COLUMNS = {"classification": ("score", "label"), "regression": ("y_hat", "y")}


def config_text(path: str, task: str, settings: dict[str, str]) -> str:
    score, label = COLUMNS[task]
    extra = "".join(f"\n      {k}: {v}" for k, v in settings.items())
    return f"""env: bench
warehouses:
  b:
    type: duckdb
    settings:
      path: {path}
      read_only: true{extra}
sinks: {{}}
monitors:
  - id: bench_backtest
    kind: backtest
    warehouse: b
    predictions: {{table: main.predictions, time_column: predicted_at, key: [prediction_id],
                  score: {score}}}
    labels: {{table: main.labels, key: [prediction_id], label: {label},
             time_column: observed_at}}
    task: {task}
    threshold: 0.5
    group_by: [model_version]
    window: 1d
    feedback_delay: 2d
    lookback_windows: 7
"""


def floor(wh: object, task: str, runs: int = 3) -> dict[str, float]:
    """After the check, on the adapter's own DuckDB connection (its settings: memory_limit,
    threads): the task's floor query (``data.FLOOR``) and the join alone, each fetched as
    numpy, median of ``runs`` (the file's pages are warm by then, as they were for the
    check's own query)."""
    out: dict[str, float] = {}
    with wh.executor.engine.connect() as conn:  # type: ignore[attr-defined]
        raw = conn.connection.dbapi_connection
        for name, sql in (("floor_seconds", FLOOR[task]), ("join_seconds", FLOOR["join"])):
            times = []
            for _ in range(runs):
                t0 = time.perf_counter()
                raw.execute(sql).fetchnumpy()
                times.append(time.perf_counter() - t0)
            out[name] = round(sorted(times)[len(times) // 2], 3)
    return out


def cold_floor(wh: object, task: str) -> dict[str, float]:
    """The task's floor query as the first read of the file in this process, on the
    adapter's connection, then once warm (what :func:`floor` times)."""
    out: dict[str, float] = {}
    with wh.executor.engine.connect() as conn:  # type: ignore[attr-defined]
        raw = conn.connection.dbapi_connection
        for name in ("cold_floor_seconds", "warm_floor_seconds"):
            t0 = time.perf_counter()
            raw.execute(FLOOR[task]).fetchnumpy()
            out[name] = round(time.perf_counter() - t0, 3)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("path")
    ap.add_argument("--task", choices=tuple(COLUMNS), default="classification")
    ap.add_argument("--setting", action="append", default=[], help="adapter key=value")
    ap.add_argument("--no-floor", dest="floor", action="store_false",
                    help="skip timing the floor queries after the check")
    ap.add_argument("--cold-floor", action="store_true",
                    help="no check: time the task's floor query once as this process's first "
                         "read of the file (as the check's own query is), then warm")
    ap.add_argument("--cprofile", default="", metavar="FILE",
                    help="write a cProfile of the check step to FILE (its time then includes "
                         "the profiler's overhead); read it with python -m pstats FILE")
    args = ap.parse_args()
    # loaded before the clock, as the peers' libraries are: a daemon has them after its
    # first backtest (start-up is in the whole process's time, and in bench/startup/)
    import numpy  # noqa: F401  (the fold's arrays)

    import watchdog.checks.backtest.check
    import watchdog.warehouses.backtest_sql
    import watchdog.warehouses.dialects  # noqa: F401  (sqlglot: the queries are trees)
    from watchdog.daemon.runner import Runner
    from watchdog.load import load_config
    from watchdog.state import Store

    settings = dict(s.split("=", 1) for s in args.setting)
    with tempfile.TemporaryDirectory() as tmp:
        cfg_path = Path(tmp) / "config.yaml"
        cfg_path.write_text(config_text(str(Path(args.path).resolve()), args.task, settings))
        cfg = load_config(cfg_path, {})
        runner = Runner(cfg, Store.open(f"sqlite:///{tmp}/state.db"), [], clock=lambda: NOW)
        try:
            monitor = cfg.monitor("bench_backtest")
            wh = runner.warehouse("b")
            wh.ping()
            if args.cold_floor:
                print(json.dumps({"task": args.task, **cold_floor(wh, args.task)}))
                return
            before = status_kb("VmRSS")
            timing: dict[str, float] = {}
            t0 = time.perf_counter()
            if args.cprofile:  # the check's body in this thread, where cProfile sees it
                import cProfile

                from watchdog.checks.base import CheckContext

                ctx = CheckContext(config=cfg, warehouse=wh, history=None, now=NOW)
                with cProfile.Profile() as prof:
                    result = runner.kind(monitor.kind)(monitor).run(ctx)
                prof.dump_stats(args.cprofile)
            else:
                result = runner.check(monitor)
            seconds = time.perf_counter() - t0
            if args.floor:
                timing = floor(wh, args.task)
        finally:
            runner.close()
    out = {"tool": "watchdog", "task": args.task, "settings": settings,
           "seconds": round(seconds, 3), **timing}
    if result.status.name == "ERROR":
        sys.exit(f"check failed: {result.summary}")
    start = NOW.replace(day=1, hour=0).timestamp()  # the first window's start, Mar 1
    metrics: dict[str, dict[str, float]] = {}
    for m in result.metrics:
        version = next(t.split(":", 1)[1] for t in m.tags if t.startswith("model_version:"))
        name = m.name.removeprefix("watchdog.backtest.")
        if name.startswith("period."):
            where, name = f"{version}/period", name.removeprefix("period.")
        else:
            where = f"{version}/{int((m.timestamp - start) // 86400) - 1}"
        metrics.setdefault(where, {})[name] = m.value
    print(json.dumps({**out, "status": result.status.name,
                      "peak_mb": round(status_kb("VmHWM") / 1024, 1),
                      "start_mb": round(before / 1024, 1), "metrics": metrics}))


if __name__ == "__main__":
    main()
