"""Where the CPU time before ``watchdog run --once``'s first warehouse query goes, by phase:
the interpreter, SQLAlchemy, importing the CLI (pydantic, the config models, PyYAML,
watchdog's modules), loading the config, opening the state store and sinks, and the pass up
to its first statement (the monitors' threads).

    .venv/bin/python bench/startup/phases.py [--runs 3] [--config config.yaml]

Each run is a fresh process; the figures are the process's CPU time (every thread) at the
end of each phase, and the phase's share, median over the runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

CHILD = r"""
import json, os, sys, runpy, time
def cpu():  # every thread's CPU time, in nanosecond steps (os.times counts 10 ms ticks)
    return time.process_time()
marks = [("interpreter", cpu())]
import sqlalchemy as sa
marks.append(("import sqlalchemy", cpu()))
import watchdog.cli as cli
marks.append(("import watchdog.cli", cpu()))
from watchdog.daemon import runner
load, open_runner = cli.load_config, runner.open_runner
def timed_load(*a, **k):
    marks.append(("parse arguments, logging", cpu()))
    out = load(*a, **k)
    marks.append(("load and validate the config", cpu()))
    return out
def timed_open(config):
    out = open_runner(config)
    marks.append(("open state store, sinks", cpu()))
    return out
cli.load_config, runner.open_runner = timed_load, timed_open
import threading
once = threading.Lock()  # the monitors' threads may send their first statements at once
def first(*_):
    if once.acquire(blocking=False):
        marks.append(("first query", cpu()))
        print("PHASES " + json.dumps(marks), file=sys.stderr)
import watchdog.warehouses.executor as wx  # a listener on every executor: a warehouse's
_init = wx.Executor.__init__               # statement about to be sent
def _hooked(self, *a, **k):
    _init(self, *a, **k)
    self.listen(first)
wx.Executor.__init__ = _hooked
sys.argv = ["watchdog", "run", "--once", "--config", os.environ["WD_CONFIG"]]
try:
    runpy.run_module("watchdog", run_name="__main__")
except SystemExit:
    pass
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--config", default="config.yaml")
    args = ap.parse_args()
    runs: list[list[tuple[str, float]]] = []
    for _ in range(args.runs):
        out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                             env={**os.environ, "WD_CONFIG": args.config})
        line = [x for x in out.stderr.splitlines() if x.startswith("PHASES ")]
        if not line:
            sys.exit(f"no warehouse query seen:\n{out.stderr[-2000:]}")
        runs.append(json.loads(line[-1].split(" ", 1)[1]))
    print(f"load: {os.getloadavg()}")
    previous = 0.0
    for i, (name, _) in enumerate(runs[0]):
        at = statistics.median(r[i][1] for r in runs)
        print(f"{name:32} CPU {at:6.3f} s  (+{at - previous:.3f})")
        previous = at


if __name__ == "__main__":
    main()
