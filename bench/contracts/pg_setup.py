"""What a fresh watchdog process spends on Postgres before the contract's scan, phase by
phase, against the floor's bare psycopg connection; each run in its own process.

    .venv/bin/python bench/contracts/pg_setup.py [--runs 7]

Phases (wall seconds, medians): importing SQLAlchemy's postgresql dialect package (what
``create_engine`` does first), connecting through the engine (psycopg's connection plus
SQLAlchemy's dialect initialisation on the first connection), the column lookup
(``Warehouse.columns``, one catalog statement); and psycopg.connect alone (the floor's).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

CHILD = """
import json, sys, time
sys.path.insert(0, {root!r}); sys.path.insert(0, {here!r})
import psycopg, sqlalchemy, tools
from watchdog.warehouses import create
from watchdog.models import TableRef
out = {{}}
t = time.perf_counter(); psycopg.connect(tools.PG_DSN).close()
out["psycopg.connect (floor)"] = time.perf_counter() - t
wh = create("b", "postgres", tools.PG)
t = time.perf_counter(); import sqlalchemy.dialects.postgresql.psycopg  # noqa
out["import sqlalchemy.dialects.postgresql"] = time.perf_counter() - t
t = time.perf_counter(); wh.ping()
out["engine: connect + dialect initialise + SELECT 1"] = time.perf_counter() - t
table = TableRef(schema="public", name="bench_contracts_1000000")
t = time.perf_counter(); wh.columns([table])
out["column lookup"] = time.perf_counter() - t
print(json.dumps(out))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=7)
    a = ap.parse_args()
    code = CHILD.format(root=str(ROOT), here=str(HERE))
    runs = [json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True,
                                      text=True, check=True, cwd=ROOT).stdout)
            for _ in range(a.runs)]
    print(f"load: {Path('/proc/loadavg').read_text().strip()}")
    for phase in runs[0]:
        print(f"{phase}: {statistics.median(r[phase] for r in runs) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
