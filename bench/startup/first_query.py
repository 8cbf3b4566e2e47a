"""Start-up: how long ``watchdog run --once`` takes before its first warehouse query, and
which heavy libraries are loaded by then.

    .venv/bin/python bench/startup/first_query.py [--runs 5] -- run --once --config config.yaml

Each run is a fresh process that starts the CLI as ``python -m watchdog`` does, with a hook
on SQLAlchemy's ``before_cursor_execute`` that notes the time (from the process's start, as
the kernel counts it) of the first statement sent to a warehouse (not the state store), the
process's CPU time by then (every thread; steadier than wall time on a loaded machine), and
the heavy modules then in ``sys.modules``. Prints the median and each run; the import
profile itself is ``python -X importtime -m watchdog run --once``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

HEAVY = ("scipy", "pandas", "pandera", "numpy", "datadog", "datadog_api_client", "sqlglot",
         "apscheduler", "duckdb", "sqlalchemy", "pydantic")
CHILD = r"""
import json, os, sys, time, runpy
def since_start():
    ticks = int(open(f"/proc/{os.getpid()}/stat").read().rsplit(")", 1)[1].split()[19])
    uptime = float(open("/proc/uptime").read().split()[0])
    return uptime - ticks / os.sysconf("SC_CLK_TCK")
def cpu():  # user + system time of the whole process (every thread) so far
    t = os.times()
    return t.user + t.system
import sqlalchemy as _sa_probe  # noqa: the hook needs it; its import time counts below
seen = {}
def first(conn, cursor, statement, *rest):
    if "seconds" not in seen and conn.engine.url.get_backend_name() != "sqlite":
        seen["seconds"] = since_start()
        seen["cpu"] = cpu()
        seen["loaded"] = sorted({m.split(".")[0] for m in sys.modules} & set(HEAVY))
_sa_probe.event.listen(_sa_probe.Engine, "before_cursor_execute", first)
HEAVY = json.loads(os.environ["WD_HEAVY"])
sys.argv = ["watchdog", *json.loads(os.environ["WD_ARGS"])]
try:
    runpy.run_module("watchdog", run_name="__main__")
except SystemExit:
    pass
print("FIRST_QUERY " + json.dumps(seen), file=sys.stderr)
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("args", nargs="*", default=["run", "--once"])
    args = ap.parse_args()
    times, cpus, loaded = [], [], None
    for _ in range(args.runs):
        out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                             env={**os.environ, "WD_ARGS": json.dumps(args.args),
                                  "WD_HEAVY": json.dumps(HEAVY)})
        line = [x for x in out.stderr.splitlines() if x.startswith("FIRST_QUERY ")]
        got = json.loads(line[-1].split(" ", 1)[1]) if line else {}
        if "seconds" not in got:
            sys.exit(f"no warehouse query seen:\n{out.stderr[-2000:]}")
        times.append(got["seconds"])
        cpus.append(got["cpu"])
        loaded = got["loaded"]
    print(f"load: {os.getloadavg()}")
    print(f"first warehouse query after {statistics.median(times):.3f} s (median of "
          f"{args.runs}: {', '.join(f'{t:.3f}' for t in times)})")
    print(f"CPU time by then {statistics.median(cpus):.3f} s (median; steadier than the wall "
          f"time when other work shares the cores: {', '.join(f'{t:.2f}' for t in cpus)})")
    print(f"heavy libraries loaded by then: {', '.join(loaded or []) or 'none'}")


if __name__ == "__main__":
    main()
