"""The contract benchmark's statements alone on Postgres: the floor, watchdog's counts, the
counts then ``failure_examples`` (two statements), and ``contract_scan`` (one), with
examples for every rule or for the value rules only; alternating, on one connection.

    .venv/bin/python bench/contracts/pg_statements.py [--rows 1000000] [--repeat 9] [--jit-off]
        [--tried]

Prints the median wall time and the median CPU time of the Postgres server (every
``postgres`` process on this machine: the backend and its parallel workers, from /proc;
other sessions' queries in the same instant count too) per statement set, and each as a
multiple of the floor's. The table must exist (``run.py`` writes it).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))

import tools  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def server_cpu() -> float:
    """CPU seconds used so far by every process named postgres* (children reaped included)."""
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        if stat[stat.index("(") + 1:stat.rindex(")")].startswith("postgres"):
            fields = stat[stat.rindex(")") + 2:].split()
            total += sum(int(v) for v in fields[11:15])
    return total / TICK


#: Ways tried to count the repeated ids and name them without a second sort; none beat
#: the floor's COUNT(DISTINCT) plus a separate sorted GROUP BY (bench/README.md).
TRIED: dict[str, str | list[str]] = {
    "tried: COUNT(id) - COUNT(DISTINCT id) alone":
        "SELECT COUNT(id) - COUNT(DISTINCT id) FROM {t}",
    "tried: repeated ids by lag() over the sorted ids":
        "SELECT COUNT(*) FILTER (WHERE id = p) FROM (SELECT id, lag(id) OVER (ORDER BY id)"
        " AS p FROM {t} WHERE id IS NOT NULL) AS s",
    "tried: sorted GROUP BY id of every id, count + examples from a CTE":
        "WITH d AS MATERIALIZED (SELECT o.k, COUNT(*) AS n FROM (SELECT id AS k FROM {t}"
        " WHERE id IS NOT NULL ORDER BY id) AS o GROUP BY o.k HAVING COUNT(*) > 1)"
        " SELECT (SELECT COALESCE(SUM(n - 1), 0) FROM d),"
        " ARRAY(SELECT CAST(d.k AS TEXT) FROM d ORDER BY d.k LIMIT 5)",
    "tried: hashed SELECT DISTINCT id, counted":
        "SELECT COUNT(*) FROM (SELECT DISTINCT id FROM {t} WHERE id IS NOT NULL) AS d",
    # the repeated ids counted and named from one hash table: with work_mem raised for the
    # statement so that it fits (at the default 4MB, x2 for hashing, it spills to disk)
    "tried: hashed GROUP BY id with work_mem 64MB, count + examples": [
        "SET work_mem = '64MB'",
        "WITH d AS MATERIALIZED (SELECT id AS k, COUNT(*) AS n FROM {t} WHERE id IS NOT NULL"
        " GROUP BY id HAVING COUNT(*) > 1) SELECT (SELECT COALESCE(SUM(n - 1), 0) FROM d),"
        " ARRAY(SELECT CAST(d.k AS TEXT) FROM d ORDER BY d.k LIMIT 5)",
        "RESET work_mem"],
}


def tried(table: str) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    return {name: [(sql.format(t=table), {}) for sql in ([sqls] if isinstance(sqls, str)
                                                         else sqls)]
            for name, sqls in TRIED.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--tried", action="store_true",
                    help="also the ways tried to find repeated ids from one sort (TRIED)")
    ap.add_argument("--jit-off", action="store_true",
                    help="also run each set in a session with jit = off")
    a = ap.parse_args()
    import psycopg

    from watchdog.contracts.compile import plan
    from watchdog.contracts.model import ContractSpec
    from watchdog.warehouses import create
    from watchdog.warehouses.executor import driver_sql

    args = argparse.Namespace(backend="postgres", target=f"bench_contracts_{a.rows}",
                              rows=a.rows, sample=100_000)
    spec = ContractSpec.model_validate(tools.contract(args, "full"))
    wh: Any = create("b", "postgres", tools.PG)
    with wh:
        table = wh.table(spec.table)
        checks, _ = plan(spec, wh.columns([table])[table], supports_regex=False)
    rules = [c.rule for c in checks if c.where == "warehouse"]
    n = spec.examples
    every = [0 if r.check == "not_null" else n for r in rules]
    values = [n if r.check not in ("not_null", "unique") else 0 for r in rules]
    failing = [r for r in rules if r.check != "not_null"]

    def stmt(query: str, **kw: Any) -> tuple[str, dict[str, Any]]:
        s = wh.render(query, table=table, **kw)
        return driver_sql(s.sql, "pyformat"), s.params

    counts = stmt("contract_failures", rules=rules)
    sets = {
        "floor": [(tools.FLOOR.format(table=args.target), {})],
        "counts": [counts],
        "counts, then examples (2 statements)": [
            counts, stmt("failure_examples", rules=failing, limit=n)],
        "contract_scan, examples of every rule": [stmt("contract_scan", rules=rules,
                                                       examples=every)],
        "counts, then value examples (2)": [
            counts, stmt("failure_examples", rules=[r for r in failing if r.check != "unique"],
                         limit=n)],
        "contract_scan, value examples only": [stmt("contract_scan", rules=rules,
                                                    examples=values)],
    }
    if a.tried:
        sets.update(tried(args.target))
        # the sorted GROUP BY's CTE beside the other rules' counts: one statement, one sort
        others, binds = stmt("contract_failures", rules=[r for r in rules if r.check != "unique"])
        cte = TRIED["tried: sorted GROUP BY id of every id, count + examples from a CTE"]
        with_cte, select = cte.format(t=args.target).split(" SELECT ", 1)
        sets["tried: the same CTE beside the other rules' counts"] = [
            (f"{with_cte} SELECT s.*, {select} FROM ({others}) AS s", binds)]
    if a.jit_off:  # the same statements again, in a session with JIT off
        sets.update({f"{k} (jit off)": v for k, v in list(sets.items()) if k != "counts"})
    with psycopg.connect(tools.PG_DSN) as con, psycopg.connect(
            tools.PG_DSN, options="-c jit=off") as off:
        def run(name: str) -> Callable[[], None]:
            use = off if name.endswith("(jit off)") else con
            def go() -> None:
                for sql, params in sets[name]:
                    cursor = use.execute(sql, params)
                    if cursor.description is not None:  # a SET has no rows
                        cursor.fetchall()
            return go

        for name in sets:  # once untimed (plans, buffers)
            run(name)()
        wall: dict[str, list[float]] = {k: [] for k in sets}
        cpu: dict[str, list[float]] = {k: [] for k in sets}
        print(f"load before: {Path('/proc/loadavg').read_text().strip()}")
        for _ in range(a.repeat):
            for name in sets:
                c0, t0 = server_cpu(), time.perf_counter()
                run(name)()
                wall[name].append(time.perf_counter() - t0)
                cpu[name].append(server_cpu() - c0)
        print(f"load after: {Path('/proc/loadavg').read_text().strip()}")
    w0, c0 = statistics.median(wall["floor"]), statistics.median(cpu["floor"])
    print("| statements | wall ms | × floor | server CPU ms | × floor |\n|---|---|---|---|---|")
    for name in sets:
        w, c = statistics.median(wall[name]), statistics.median(cpu[name])
        print(f"| {name} | {w * 1000:.0f} | {w / w0:.2f} | {c * 1000:.0f} | {c / c0:.2f} |")


if __name__ == "__main__":
    main()
