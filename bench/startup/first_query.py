"""Start-up: how long ``watchdog run --once`` takes before its first warehouse query, and
which heavy libraries are loaded by then.

    .venv/bin/python bench/startup/first_query.py [--runs 5] [--code DIR ...] -- run --once

Each run is a fresh process that starts the CLI as ``python -m watchdog`` does, with a
listener on every warehouse executor that notes the time (the monotonic clock, from the
moment this script spawns it: the interpreter's start included) of the first statement sent
to a warehouse (not the state store), the process's CPU time by then (every thread;
steadier than wall time on a loaded machine), and the heavy modules then in
``sys.modules``. (Until 2026-12-06 the time came from the kernel's 10 ms ticks, and the
child's working folder, first on ``sys.path`` under ``-c``, shadowed ``--code``: every
``--code`` run measured the checkout the script ran from.) Prints the median and each
run; the import profile itself is ``python -X importtime -m watchdog run --once``.

``--code DIR`` (repeatable) puts DIR first on ``PYTHONPATH`` (a checkout whose ``watchdog``
package is measured); with several, the runs alternate between them, one run of each per
round, and every round prints the machine's load. Before measuring, each package's bytecode
is compiled (``compileall``), as ``pip install`` does: an editable checkout run with
``PYTHONDONTWRITEBYTECODE=1`` would otherwise compile every module from source on every
start. One uncounted run per code fills its rendered-statement cache (``WATCHDOG_SQL_CACHE``,
a folder of this invocation), so the runs measure a start after the first, as a cron job or
a restarted daemon has it; ``--cold`` empties the cache before every run instead.
``--floor`` adds, alternating with the others, a process that only imports what every run
needs (SQLAlchemy for the state store, DuckDB, pydantic, PyYAML) and sends the demo's first
statement on a plain DuckDB connection; ``--floor-model`` one that also defines and
validates one pydantic model first (``FLOOR_MODEL``).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HEAVY = ("scipy", "pandas", "pandera", "numpy", "datadog", "datadog_api_client", "sqlglot",
         "apscheduler", "duckdb", "sqlalchemy", "pydantic")
CHILD = r"""
import json, os, sys, time, runpy
# ``-c`` puts the working folder first on sys.path, where it would shadow the code on
# PYTHONPATH (``--code``): every run then measured the checkout it was started from
if sys.path and sys.path[0] == "":
    del sys.path[0]
def cpu():  # CPU time of the whole process (every thread) so far, in nanoseconds' steps
    return time.process_time()
HEAVY = json.loads(os.environ["WD_HEAVY"])
seen = {}
def mark(*_):
    if "monotonic" not in seen:
        seen["monotonic"] = time.monotonic()  # the parent subtracts when it started us
        seen["cpu"] = cpu()
        seen["loaded"] = sorted({m.split(".")[0] for m in sys.modules} & set(HEAVY))
        seen["watchdog"] = getattr(sys.modules.get("watchdog"), "__file__", None)
sys.argv = ["watchdog", *json.loads(os.environ["WD_ARGS"])]
if "WD_FLOOR" in os.environ:
    exec(compile(os.environ["WD_FLOOR"], "floor", "exec"))
else:
    # every run imports the executors before its first warehouse statement; each new
    # executor gets a listener, called as a statement is about to be sent
    import watchdog.warehouses.executor as _wx
    _init = _wx.Executor.__init__
    def _hooked(self, *a, **k):
        _init(self, *a, **k)
        self.listen(mark)
    _wx.Executor.__init__ = _hooked
    try:
        runpy.run_module("watchdog", run_name="__main__")
    except SystemExit:
        pass
print("FIRST_QUERY " + json.dumps(seen), file=sys.stderr)
"""


#: The floor: the libraries a run cannot start without (SQLAlchemy for the state store,
#: DuckDB, pydantic and PyYAML for the config), then the same first statement, on a
#: connection set up as the adapter sets it up; nothing else.
FLOOR = r"""
import pydantic, yaml, duckdb
import sqlalchemy as sa
config = yaml.safe_load(open(os.environ["WD_CONFIG"]))
path = next(iter(config["warehouses"].values()))["settings"]["path"]
mark()
conn = duckdb.connect(path)
conn.execute("SET TimeZone = 'UTC'")
conn.execute('SELECT MAX("predicted_at") AS "newest" FROM "main"."predictions" '
             'WHERE "status" = $w0', {"w0": "success"}).fetchall()
"""

#: The floor, and one pydantic model defined before the statement: ``import pydantic`` loads
#: little (its names load on first use); the first model loads pydantic's model machinery
#: (``pydantic.fields``, annotated_types, the schema generator), which any config validated
#: by pydantic pays once.
FLOOR_MODEL = FLOOR.replace("mark()\n", """class Settings(pydantic.BaseModel):
    path: str
Settings(path=path)
mark()
""", 1)
assert FLOOR_MODEL != FLOOR
#: The floors by the name ``--floor``/``--floor-model`` measure them under.
FLOORS = {"floor": FLOOR, "floor+model": FLOOR_MODEL}


def one_run(code: str | None, args: list[str], cache: Path) -> dict[str, Any]:
    env = {**os.environ, "WD_ARGS": json.dumps(args), "WD_HEAVY": json.dumps(HEAVY),
           "WATCHDOG_SQL_CACHE": str(cache)}
    if code in FLOORS:
        env["WD_FLOOR"] = FLOORS[code]
        env["WD_CONFIG"] = (args[args.index("--config") + 1] if "--config" in args
                            else "config.yaml")
        code = None
    if code is not None:
        env["PYTHONPATH"] = os.pathsep.join(
            [code, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))])
    started = time.monotonic()
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                         env=env)
    line = [x for x in out.stderr.splitlines() if x.startswith("FIRST_QUERY ")]
    got: dict[str, Any] = json.loads(line[-1].split(" ", 1)[1]) if line else {}
    if "monotonic" not in got:
        sys.exit(f"no warehouse query seen:\n{out.stderr[-2000:]}")
    got["seconds"] = got["monotonic"] - started  # from the spawn: the interpreter included
    if code is not None and not str(got.get("watchdog")).startswith(str(Path(code).resolve())):
        sys.exit(f"measured {got.get('watchdog')}, not the code in {code}")
    return got


def compile_package(code: str | None) -> None:
    import watchdog

    if code in FLOORS:
        return
    root = Path(code) / "watchdog" if code else Path(watchdog.__file__).parent
    compileall.compile_dir(str(root), quiet=1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--code", action="append", metavar="DIR",
                    help="a checkout to measure (repeatable: the runs alternate)")
    ap.add_argument("--floor", action="store_true", help=(
        "also measure the floor: the libraries every run needs and the same first statement"))
    ap.add_argument("--floor-model", action="store_true", help=(
        "also measure the floor with one pydantic model defined (FLOOR_MODEL)"))
    ap.add_argument("--cold", action="store_true",
                    help="an empty rendered-statement cache for every run")
    ap.add_argument("args", nargs="*", default=["run", "--once"])
    args = ap.parse_args()
    codes: list[str | None] = list(args.code or [None])
    if args.floor:
        codes.append("floor")
    if args.floor_model:
        codes.append("floor+model")
    work = Path(tempfile.mkdtemp(prefix="wd-startup-"))
    caches = {i: work / f"cache{i}" for i in range(len(codes))}
    results: dict[int, list[dict[str, Any]]] = {i: [] for i in caches}
    try:
        for i, code in enumerate(codes):
            compile_package(code)
            one_run(code, args.args, caches[i])  # fills the cache; not counted
        for r in range(args.runs):
            print(f"round {r + 1}: load {os.getloadavg()}", flush=True)
            for i, code in enumerate(codes):
                if args.cold:
                    shutil.rmtree(caches[i], ignore_errors=True)
                results[i].append(one_run(code, args.args, caches[i]))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"load at the end: {os.getloadavg()}")
    for i, code in enumerate(codes):
        report(code or "(installed)", results[i], args.runs)


def report(code: str, runs: list[dict[str, Any]], n: int) -> None:
    times = [r["seconds"] for r in runs]
    cpus = [r["cpu"] for r in runs]
    loaded = sorted({m for r in runs for m in r["loaded"]})  # in any run
    print(f"{code}:")
    print(f"  first warehouse query after {statistics.median(times):.3f} s (median of "
          f"{n}: {', '.join(f'{t:.3f}' for t in times)})")
    print(f"  CPU time by then {statistics.median(cpus):.3f} s (median; steadier than the "
          f"wall time when other work shares the cores: {', '.join(f'{t:.3f}' for t in cpus)})")
    print(f"  heavy libraries loaded by then (in any run): {', '.join(loaded) or 'none'}")


if __name__ == "__main__":
    main()
