"""The state store's part of a migration's poll: save, then read back, the snapshots of
10,000 tables × 30 columns in a SQLite state store; the CPU time of each, median of N.

    PYTHONPATH=. .venv/bin/python bench/schema/bench_snapshots.py --runs 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime

from watchdog.models import Column
from watchdog.state import Store

TYPES = ["integer", "bigint", "text", "double precision", "numeric(12,2)", "boolean"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--tables", type=int, default=10_000)
    args = ap.parse_args()
    tables = {f"bench.features_{i:06d}": [
        Column(name=f"c{j:02d}", position=j + 1, data_type=TYPES[j % len(TYPES)],
               type_family="x", nullable=True) for j in range(30)] for i in range(args.tables)}
    saves, reads = [], []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as folder:
            store = Store.open(f"sqlite:///{folder}/state.db")
            started = time.process_time()
            store.save_snapshots("s", tables, datetime.now(UTC), dict.fromkeys(tables, "fp"))
            saves.append(time.process_time() - started)
            started = time.process_time()
            got = store.latest_snapshots("s", list(tables))
            reads.append(time.process_time() - started)
            assert got == tables
            store.close()
    print(f"load average {os.getloadavg()}")
    print(f"save {statistics.median(saves):.3f} s, read {statistics.median(reads):.3f} s "
          f"(CPU, median of {args.runs})")


if __name__ == "__main__":
    main()
