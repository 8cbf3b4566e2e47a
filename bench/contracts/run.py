"""Contract benchmark: five checks (range, not null, set membership, unique id, row-count
bounds) on a DuckDB table and a Postgres table with planted defects, by watchdog and peers.

    bench/contracts/setup.sh                     # once: peer venvs (Soda, pandera+ibis)
    .venv/bin/python bench/contracts/run.py [--rows 10000000] [--pg-rows 1000000]

Each tool runs ``--repeat`` times (default 3), every run in its own fresh process
(``tools.py``), after one untimed warm-up read of the whole table; the table shows the
median wall and CPU seconds of the work, the slowest whole process, and the largest peak
RSS of the process (its own ru_maxrss). Counts are compared with the planted ones
(``data.py``). Results are appended to bench/contracts/results.jsonl.

watchdog keeps its rendered statements in ``bench/data/contracts/sql-cache`` (its own
``WATCHDOG_SQL_CACHE``, unless one is set): as in any install, every run after the first
sends them without importing sqlglot, and no other checkout on the machine, with other
code, replaces them in between (each code version prunes the others' in a shared folder).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

import data  # noqa: E402

DATA = ROOT / "bench" / "data" / "contracts"
PG_DSN = "postgresql://postgres@127.0.0.1:5432/test"
VENV = {"soda": ROOT / "bench/.venv-soda/bin/python",
        "soda4": ROOT / "bench/.venv-soda4/bin/python",
        "pandera-ibis": ROOT / "bench/.venv-ibis/bin/python"}
LABEL = {
    "floor": "hand-written SQL, one query (floor)",
    "watchdog-counts": "watchdog full scan, counts only",
    "watchdog-counts-warm": "watchdog full scan, counts only, engine warm (daemon)",
    "watchdog-full": "watchdog full scan, counts + examples",
    "watchdog-sample": "watchdog sample path (100k rows)",
    "soda4": "Soda Core 4.28 (data contract, verify_contract_locally)",
    "soda": "Soda Core 3.5.6",
    "pandera-pandas": "pandera 0.35 (pandas), whole table",
    "pandera-ibis": "pandera 0.35 (ibis 12), in the database",
}
KEYS = ("range", "null", "set", "dup", "rows")


def prepare(backend: str, rows: int, rebuild: bool) -> tuple[str, dict[str, int]]:
    """The target (DuckDB file or Postgres table) and its planted counts; built if absent."""
    if backend == "duckdb":
        path = DATA / f"t{rows}.duckdb"
        want = None if rebuild or not path.exists() else data.load(path)
        return str(path), want or data.write_duckdb(path, rows)
    table = f"bench_contracts_{rows}"
    want = None if rebuild or not pg_has(table, rows) else data.load(DATA / f"{table}.pg")
    return table, want or data.write_postgres(PG_DSN, table, rows, DATA)


def pg_has(table: str, rows: int) -> bool:
    import psycopg

    with psycopg.connect(PG_DSN) as pg:
        found = pg.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()
        return bool(found and found[0]) and pg.execute(
            f"SELECT COUNT(*) FROM {table}").fetchone() == (rows,)


def warm(backend: str, target: str) -> None:
    """One untimed read of every column (file cache; Postgres shared buffers)."""
    sql = "SELECT COUNT(*), COUNT(id), SUM(age), SUM(score), MAX(status) FROM {}"
    if backend == "duckdb":
        import duckdb

        with duckdb.connect(target, read_only=True) as con:
            con.execute(sql.format("t")).fetchall()
    else:
        import psycopg

        with psycopg.connect(PG_DSN) as pg:
            pg.execute(sql.format(target)).fetchall()


def run_once(tool: str, backend: str, target: str, rows: int, timeout: int) -> dict[str, Any]:
    """One run of ``tool`` in a fresh process: its JSON line, plus the process wall time."""
    py = VENV.get(tool, Path(sys.executable))
    cmd = [str(py), str(HERE / "tools.py"), tool, "--backend", backend, "--target", target,
           "--rows", str(rows)]
    env = {**os.environ, "WATCHDOG_SQL_CACHE": os.environ.get("WATCHDOG_SQL_CACHE",
                                                             str(DATA / "sql-cache"))}
    t0 = time.perf_counter()
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                              env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    if done.returncode != 0 or not done.stdout.strip():
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"exit {done.returncode}: {tail}"}
    out = json.loads(done.stdout.strip().splitlines()[-1])
    out["process_wall"] = time.perf_counter() - t0
    return out


def judge(tool: str, counts: dict[str, Any], want: dict[str, int]) -> str:
    """'right', or which counts are wrong or missing (a sample's counts are its own)."""
    if tool == "watchdog-sample":
        got = "/".join(str(counts.get(k, "-")) for k in KEYS[:4])
        return f"n/a: counts of the sample {got}, rows {counts.get('rows')}"
    bad = []
    for k in KEYS:
        got, exp = counts.get(k), want[k]
        if k == "rows" and got is True:
            continue  # the bounds check passed; the tool reports no row count
        if got != exp:
            bad.append(f"{k} {'missing' if got is None else got} (want {exp})")
    extra = [k for k in counts if k not in KEYS]
    return "right" if not bad and not extra else "WRONG/MISSING: " + ", ".join(bad + extra)


def summarize(tool: str, backend: str, runs: list[dict[str, Any]],
              want: dict[str, int]) -> dict[str, Any]:
    """Runs of one tool: medians of wall and CPU, the largest peak RSS, the verdict."""
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return {"tool": tool, "backend": backend, "error": runs[-1]["error"]}
    return {
        "tool": tool, "backend": backend, "rows": want["rows"], "runs": len(ok),
        "wall": statistics.median(r["wall"] for r in ok),
        "cpu": statistics.median(r["cpu"] for r in ok),
        "process_wall": max(r["process_wall"] for r in ok),
        "rss_mib": max(r["maxrss_kib"] for r in ok) / 1024,
        "counts": ok[-1]["counts"], "verdict": judge(tool, ok[-1]["counts"], want),
        "walls": [round(r["wall"], 3) for r in ok],
        "errors": [r["error"] for r in runs if "error" in r],
    }


def bench(backend: str, a: argparse.Namespace) -> list[dict[str, Any]]:
    """Every tool ``a.repeat`` times, round robin (a passing load hits every tool alike)."""
    rows = a.rows if backend == "duckdb" else a.pg_rows
    target, want = prepare(backend, rows, a.rebuild)
    warm(backend, target)
    load = os.getloadavg()[0]
    print(f"\n{backend}: {rows} rows, planted {want}", flush=True)
    tools = a.tools.split(",")
    runs: dict[str, list[dict[str, Any]]] = {t: [] for t in tools}
    for _ in range(a.repeat):
        for tool in tools:
            runs[tool].append(run_once(tool, backend, target, rows, a.timeout))
            print(json.dumps({"tool": tool, **runs[tool][-1]}), file=sys.stderr, flush=True)
    print(f"load average (1 min) before {load:.2f}, after {os.getloadavg()[0]:.2f}")
    return [summarize(t, backend, runs[t], want) for t in tools]


def table(results: list[dict[str, Any]]) -> str:
    """The markdown table of one backend, with ratios to the floor and to Soda."""
    wall = {r["tool"]: r.get("wall") for r in results}
    head = ("| tool | wall s | CPU s | process s | peak RSS MiB | × floor | × Soda 4 | counts |\n"
            "|---|---|---|---|---|---|---|---|")
    lines = [head]
    for r in results:
        if "error" in r:
            lines.append(f"| {LABEL[r['tool']]} | — | — | — | — | — | — | {r['error']} |")
            continue
        ratio = [f"{r['wall'] / wall[k]:.2f}" if wall.get(k) else "—" for k in ("floor", "soda4")]
        lines.append(f"| {LABEL[r['tool']]} | {r['wall']:.2f} | {r['cpu']:.2f} | "
                     f"{r['process_wall']:.1f} | {r['rss_mib']:.0f} | {ratio[0]} | {ratio[1]} | "
                     f"{r['verdict']} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=10_000_000, help="DuckDB table rows")
    ap.add_argument("--pg-rows", type=int, default=1_000_000, help="Postgres table rows")
    ap.add_argument("--backends", default="duckdb,postgres")
    ap.add_argument("--tools", default=",".join(t for t in LABEL if t != "soda"),
                    help="comma-separated; 'soda' is Soda Core 3.5.6 (bench/.venv-soda)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--timeout", type=int, default=900, help="seconds per run")
    ap.add_argument("--rebuild", action="store_true", help="write the data again")
    a = ap.parse_args()
    missing = [str(p) for t, p in VENV.items() if t in a.tools.split(",") and not p.exists()]
    if missing:
        sys.exit(f"missing peer venvs {missing}: run bench/contracts/setup.sh first")
    for backend in a.backends.split(","):
        results = bench(backend, a)
        with open(HERE / "results.jsonl", "a") as fh:
            for r in results:
                fh.write(json.dumps({"at": time.strftime("%Y-%m-%dT%H:%M:%S"), **r}) + "\n")
        print(table(results), flush=True)


if __name__ == "__main__":
    main()
