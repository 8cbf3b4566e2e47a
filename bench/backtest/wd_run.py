"""One fresh-process watchdog backtest on a generated DuckDB file (run by ``compare.py``).

    python bench/backtest/wd_run.py FILE.duckdb --task classification|regression \
        [--step check|fold] [--setting key=value ...] [--cprofile OUT.prof] \
        [--explain PLAN.txt]

As a user's ``watchdog run --once`` runs it: a config file (a DuckDB warehouse read-only,
one ``kind: backtest`` monitor grouped by ``model_version``, window 1d, feedback_delay 2d,
the 7 windows of the data), loaded and validated, then the check through the runner
(``Runner.check``: the daemon's own entry, with its deadline thread), as of ``data.NOW``.
The timed step is that check (its query and every metric, interval and finding); the
whole process is timed by the caller. Prints one JSON line: seconds, the process's peak
RSS (``VmHWM``), the RSS before the check (interpreter, imports, config, state database),
and the metrics per version and window (``v1/0`` … ``v3/6``, ``/period`` for the lookback).

``--step fold``: the check's own query (``Warehouse.render("backtest")``, the SQL the
check sends) with its rows summed in one pass per window and version (score buckets in a
dict), then the check's metric functions (``checks/backtest/metrics.py``): what the check
costs once the fold of its rows is linear (``Warehouse.backtest`` merges every bucket row
into its cell with ``BacktestSums.merged``, which rebuilds and sorts the cell's buckets each
time: quadratic in the buckets per cell). Not the check: no intervals, findings or points.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from data import NOW, status_kb

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


def fold(wh: Any, p: Any, timing: dict[str, float],
         explain: str = "") -> dict[str, dict[str, float | None]]:
    """The check's query, its rows summed linearly per window and group, and the check's
    metrics of each window and of the whole lookback, per ``version/window``; ``timing``
    gets the seconds of the query (executed and fetched) and the number of its rows. With
    ``explain``, the query's EXPLAIN ANALYZE (DuckDB's plan with each operator's time) is
    written to that file first."""
    from watchdog.checks.backtest import metrics as bm
    from watchdog.checks.backtest.check import judged_end
    from watchdog.models import BacktestSpec, BacktestSums
    from watchdog.warehouses.backtest_sql import _INTS, _aggregates

    spec = BacktestSpec(
        predictions=wh.table(p.predictions.table), labels=wh.table(p.labels.table),
        time_column=p.predictions.time_column, key=p.predictions.key,
        label_key=p.labels.key, score=p.predictions.score, label=p.labels.label,
        task=p.task, threshold=p.threshold, group_by=p.group_by,
        label_time=p.labels.time_column, resolution=p.auroc_resolution)
    end = judged_end(p, NOW)
    start = end - p.lookback_windows * p.window
    stmt = wh.render("backtest", table=spec.predictions, spec=spec, start=start, end=end,
                     window=p.window,
                     time_type=wh.time_type(spec.predictions, spec.time_column))
    names = [n for n, _ in _aggregates(spec, {})]
    classification = p.task == "classification"
    sums: dict[tuple[str, int], dict[str, Any]] = {}
    buckets: dict[tuple[str, int], dict[int, list[int]]] = {}
    if explain:
        from dataclasses import replace

        plan = wh._rows(replace(stmt, sql="EXPLAIN ANALYZE " + stmt.sql))
        Path(explain).write_text(f"{stmt.sql}\n\n{stmt.params}\n\n"
                                 + "\n".join(str(r[-1]) for r in plan))
    t0 = time.perf_counter()
    found = wh._rows(stmt)
    timing.update(query_seconds=round(time.perf_counter() - t0, 3), query_rows=len(found))
    for row in found:
        if row[0] is None:
            continue
        cell = (row[1], int(row[0]))
        rest = row[3:] if classification else row[2:]
        acc = sums.setdefault(cell, {})
        values = dict(zip(names, rest, strict=True))
        for name, value in values.items():
            if name == "delay_max":
                acc[name] = max(v for v in (acc.get(name), value) if v is not None) \
                    if value is not None or acc.get(name) is not None else None
            else:
                acc[name] = acc.get(name, 0) + (value or 0)
        if classification and row[2] is not None:
            b = buckets.setdefault(cell, {}).setdefault(int(row[2]), [0, 0])
            b[0] += int(values["positives"] or 0)
            b[1] += int(values["labelled"] or 0) - int(values["positives"] or 0)
    out: dict[str, dict[str, float | None]] = {}
    periods: dict[str, BacktestSums] = {}
    for (version, window), acc in sorted(sums.items()):
        fields = {k: int(v) if k in _INTS else (None if v is None else float(v))
                  for k, v in acc.items()}
        scores = tuple((k, pn[0], pn[1]) for k, pn in sorted(buckets.get((version, window),
                                                                         {}).items()))
        s = BacktestSums(**fields, scores=scores)
        periods[version] = periods[version].merged(s) if version in periods else s
        out[f"{version}/{window}"] = {**bm.metrics(s, p.task),
                                      "auroc_error_bound": bm.auroc_bound(s.scores)
                                      if classification else None}
    for version, s in periods.items():
        out[f"{version}/period"] = dict(bm.metrics(s, p.task))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("path")
    ap.add_argument("--task", choices=tuple(COLUMNS), default="classification")
    ap.add_argument("--step", choices=("check", "fold"), default="check")
    ap.add_argument("--setting", action="append", default=[], help="adapter key=value")
    ap.add_argument("--explain", default="", metavar="FILE",
                    help="with --step fold: write the query's EXPLAIN ANALYZE to FILE")
    ap.add_argument("--cprofile", default="", metavar="FILE",
                    help="write a cProfile of the check step to FILE (its time then includes "
                         "the profiler's overhead); read it with python -m pstats FILE")
    args = ap.parse_args()
    # loaded before the clock, as the peers' libraries are: a daemon has them after its
    # first backtest (start-up is in the whole process's time, and in bench/startup/)
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
            before = status_kb("VmRSS")
            timing: dict[str, float] = {}
            t0 = time.perf_counter()
            if args.step == "fold":
                folded = fold(wh, monitor, timing, args.explain)
            elif args.cprofile:  # the check's body in this thread, where cProfile sees it
                import cProfile

                from watchdog.checks.base import CheckContext

                ctx = CheckContext(config=cfg, warehouse=wh, history=None, now=NOW)
                with cProfile.Profile() as prof:
                    result = runner.kind(monitor.kind)(monitor).run(ctx)
                prof.dump_stats(args.cprofile)
            else:
                result = runner.check(monitor)
            seconds = time.perf_counter() - t0
        finally:
            runner.close()
    out = {"tool": "watchdog", "task": args.task, "step": args.step, "settings": settings,
           "seconds": round(seconds, 3), **timing}
    if args.step == "fold":
        print(json.dumps({**out, "status": "OK", "peak_mb": round(status_kb("VmHWM") / 1024, 1),
                          "start_mb": round(before / 1024, 1), "metrics": folded}))
        return
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
