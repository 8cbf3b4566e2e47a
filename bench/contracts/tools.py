"""One tool, one run, in this process: the five contract checks on table ``t``.

    <venv>/bin/python bench/contracts/tools.py TOOL --backend duckdb|postgres --target T --rows N

Prints one JSON line: the counts the tool reported (``range``, ``null``, ``set``, ``dup``,
``rows``; a key is absent when the tool does not report that count), wall and CPU seconds
of the work (libraries imported before the clock starts), and a note. Run by ``run.py``,
each run in a fresh process. Only the standard library is imported at the top: each tool
imports its own libraries, from whichever venv runs this file.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = ["ok", "retry", "fail"]
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "database": "test"}
PG_DSN = "postgresql://postgres@127.0.0.1:5432/test"
Counts = dict[str, Any]


def bounds(rows: int) -> tuple[int, int]:
    """The contract's row-count bounds: the table's size within a factor of two."""
    return rows // 2, rows * 2


# --- the floor ----------------------------------------------------------------------------

FLOOR = """SELECT COUNT(*), COUNT(*) FILTER (WHERE score < 0 OR score > 1),
  COUNT(*) FILTER (WHERE age IS NULL),
  COUNT(*) FILTER (WHERE status NOT IN ('ok', 'retry', 'fail')),
  COUNT(id) - COUNT(DISTINCT id) FROM {table}"""


def floor(a: argparse.Namespace) -> Callable[[], Counts]:
    if a.backend == "duckdb":
        import duckdb

        def connect() -> Any:
            return duckdb.connect(a.target, read_only=True)
    else:
        import psycopg

        def connect() -> Any:
            return psycopg.connect(PG_DSN)

    def run() -> Counts:
        con = connect()
        row = con.execute(FLOOR.format(table=a.target if a.backend == "postgres" else "t"))
        n, rng, null, bad, dup = row.fetchone()
        con.close()
        return {"rows": n, "range": rng, "null": null, "set": bad, "dup": dup}
    return run


# --- watchdog -----------------------------------------------------------------------------

KEYS = {("score", "in_range"): "range", ("age", "not_null"): "null",
        ("status", "isin"): "set", ("id", "unique"): "dup"}


def contract(a: argparse.Namespace, scan: str) -> dict[str, Any]:
    """The benchmark's contract, as a contract file would say it."""
    lo, hi = bounds(a.rows)
    table = "main.t" if a.backend == "duckdb" else f"public.{a.target}"
    return {"warehouse": "b", "table": table, "scan": scan, "read": {"sample": a.sample},
            "columns": {
                "id": {"dtype": "int64", "nullable": True, "unique": True},
                "age": {"dtype": "float64"},
                "score": {"dtype": "float64", "nullable": True,
                          "checks": {"in_range": {"min_value": 0, "max_value": 1}}},
                "status": {"dtype": "str", "nullable": True, "checks": {"isin": ALLOWED}}},
            "checks": {"row_count": {"min": lo, "max": hi}}}


def watchdog(a: argparse.Namespace, scan: str, examples: bool,
             warm: bool = False) -> Callable[[], Counts]:
    """What ``ContractCheck.run`` does for the contract (``_scan``, then ``_sample``).

    ``warm``: the daemon's steady state, where the warehouse's engine already connected on
    an earlier poll (its one-time dialect set-up is outside the clock, as for the floor's
    bare driver connection); the column lookup and the scan are still timed."""
    sys.path.insert(0, str(ROOT))
    from watchdog.contracts.compile import plan
    from watchdog.contracts.model import ContractSpec
    from watchdog.contracts.sample import evaluate, frame
    from watchdog.warehouses import create

    spec = ContractSpec.model_validate(contract(a, scan))
    settings = ({"path": a.target, "read_only": True} if a.backend == "duckdb" else PG)

    pool = create("b", a.backend, settings)
    if warm:
        pool.ping()

    def run() -> Counts:
        with pool as wh:
            table = wh.table(spec.table)
            checks, issues = plan(spec, wh.columns([table])[table], supports_regex=False)
            assert not issues, issues
            in_sql = [c for c in checks if c.where == "warehouse"]
            wanted = [spec.examples if examples and c.check != "not_null" else 0
                      for c in in_sql]  # examples in the same scan where the adapter can
            counts = wh.contract_failures(table, [c.rule for c in in_sql], (), wanted)
            out: Counts = {"rows": counts.rows}
            out.update({KEYS[c.column, c.check]: n
                        for c, n in zip(in_sql, counts.failures, strict=True)})
            failing = [c.rule for c, n in zip(in_sql, counts.failures, strict=True)
                       if n and c.check != "not_null"]
            if examples and failing and counts.examples is None:
                wh.failure_examples(table, failing, spec.examples)
            sampled = [c for c in checks if c.where == "sample"]
            if sampled:
                cols = list(dict.fromkeys(col for c in sampled for col in c.rule.columns))
                df = frame(wh.sample(table, cols, a.sample), cols)
                tallies = evaluate(sampled, df, spec.examples)
                out.update({KEYS[c.column, c.check]: t.count
                            for c, t in zip(sampled, tallies, strict=True)})
            return out
    return run


# --- Soda Core ----------------------------------------------------------------------------

SODACL = """checks for {table}:
  - row_count between {lo} and {hi}
  - missing_count(age) = 0
  - invalid_count(score) = 0:
      valid min: 0
      valid max: 1
  - invalid_count(status) = 0:
      valid values: [ok, retry, fail]
  - duplicate_count(id) = 0
"""
SODA_KEYS = {"row_count": "rows", "missing_count(age)": "null", "invalid_count(score)": "range",
             "invalid_count(status)": "set", "duplicate_count(id)": "dup"}


def soda_config(a: argparse.Namespace) -> str:
    if a.backend == "duckdb":
        return f"data_source bench:\n  type: duckdb\n  path: {a.target}\n  read_only: true\n"
    return ("data_source bench:\n  type: postgres\n  host: 127.0.0.1\n  port: '5432'\n"
            "  username: postgres\n  password: ''\n  database: test\n  schema: public\n")


def soda(a: argparse.Namespace) -> Callable[[], Counts]:
    from soda.scan import Scan

    lo, hi = bounds(a.rows)
    table = "t" if a.backend == "duckdb" else a.target

    def run() -> Counts:
        scan = Scan()
        scan.set_data_source_name("bench")
        scan.add_configuration_yaml_str(soda_config(a))
        scan.add_sodacl_yaml_str(SODACL.format(table=table, lo=lo, hi=hi))
        scan.execute()
        out: Counts = {}
        for check in scan.get_scan_results()["checks"]:
            key = next(v for k, v in SODA_KEYS.items() if check["name"].startswith(k))
            out[key] = check["diagnostics"].get("value")
        if scan.has_error_logs():
            out["error"] = scan.get_error_logs_text()[-500:]
        return out
    return run


SODA4_CONTRACT = """dataset: bench/{prefix}/{table}
columns:
  - name: id
    checks:
      - duplicate:
  - name: age
    checks:
      - missing:
  - name: score
    checks:
      - invalid:
          valid_min: 0
          valid_max: 1
  - name: status
    checks:
      - invalid:
          valid_values: [ok, retry, fail]
checks:
  - row_count:
      threshold:
        must_be_between: {{greater_than_or_equal: {lo}, less_than_or_equal: {hi}}}
"""
SODA4_KEYS = {"duplicate": "dup", "missing": "null", "row_count": "rows"}


def soda4_source(a: argparse.Namespace) -> str:
    if a.backend == "duckdb":
        return (f"type: duckdb\nname: bench\nconnection:\n  database: {a.target}\n"
                "  read_only: true\n")
    # soda-postgres 4 wants a password key (trust auth here ignores it)
    return ("type: postgres\nname: bench\nconnection:\n  host: 127.0.0.1\n  port: 5432\n"
            "  user: postgres\n  password: ''\n  database: test\n")


def soda4(a: argparse.Namespace) -> Callable[[], Counts]:
    """Soda Core 4 (``soda-duckdb`` / ``soda-postgres``): a data contract verified locally,
    as ``soda contract verify`` does (``verify_contract_locally``), default settings."""
    import tempfile

    from soda_core.contracts.api.verify_api import verify_contract_locally

    lo, hi = bounds(a.rows)
    tmp = Path(tempfile.mkdtemp())
    (tmp / "ds.yml").write_text(soda4_source(a))
    prefix = "main" if a.backend == "duckdb" else "test/public"
    table = "t" if a.backend == "duckdb" else a.target
    (tmp / "contract.yml").write_text(SODA4_CONTRACT.format(prefix=prefix, table=table,
                                                            lo=lo, hi=hi))

    def run() -> Counts:
        result = verify_contract_locally(data_source_file_path=str(tmp / "ds.yml"),
                                         contract_file_path=str(tmp / "contract.yml"))
        out: Counts = {}
        for cv in result.contract_verification_results:
            for r in cv.check_results:
                kind = r.check.type
                column = getattr(r.check, "column_name", None)
                key = SODA4_KEYS.get(kind) or ("range" if column == "score" else "set")
                values = r.diagnostic_metric_values or {}
                count = values.get("dataset_rows_tested") if kind == "row_count" else next(
                    (v for k, v in values.items() if k.endswith("count")), None)
                out[key] = count if count is not None else values
        if result.has_errors if hasattr(result, "has_errors") else False:
            out["error"] = str(result.get_errors())[-500:]
        return out
    return run


# --- pandera ------------------------------------------------------------------------------

PANDERA_KEYS = {"in_range": "range", "not_nullable": "null", "isin": "set",
                "field_uniqueness": "dup"}


def pandera_schema(pa: Any, rows: int, ibis: bool) -> Any:
    lo, hi = bounds(rows)
    if ibis:  # a scalar ibis expression stays in SQL
        row_check = pa.Check(lambda d: d.table.count().between(lo, hi), name="row_count")
    else:
        row_check = pa.Check(lambda df: lo <= len(df) <= hi, name="row_count")
    return pa.DataFrameSchema({
        "id": pa.Column(nullable=True, unique=True, report_duplicates="exclude_first"),
        "age": pa.Column(nullable=False),
        "score": pa.Column(nullable=True, checks=pa.Check.in_range(0, 1)),
        "status": pa.Column(nullable=True, checks=pa.Check.isin(ALLOWED)),
    }, checks=[row_check])


def tally(validate: Callable[[], Any]) -> Counts:
    """Failure cases per check, from a lazy validation; ``rows`` is the bound check's
    verdict (pandera reports no row count): True when it passed."""
    import pandera.errors

    out: Counts = {"rows": True}
    try:
        validate()
    except pandera.errors.SchemaErrors as err:
        cases = err.failure_cases
        cases = cases if hasattr(cases, "itertuples") else cases.to_pandas()
        for check, n in cases.groupby("check").size().items():
            name = str(check).split("(")[0]
            key = "rows" if name == "row_count" else PANDERA_KEYS.get(name, f"other:{check}")
            out[key] = False if key == "rows" else int(n)
    return out


def pandera_pandas(a: argparse.Namespace) -> Callable[[], Counts]:
    import pandas as pd
    import pandera.pandas as pa

    schema = pandera_schema(pa, a.rows, ibis=False)

    def load() -> Any:
        if a.backend == "duckdb":
            import duckdb

            with duckdb.connect(a.target, read_only=True) as con:
                return con.execute("SELECT * FROM t").df()
        import sqlalchemy

        engine = sqlalchemy.create_engine("postgresql+psycopg" + PG_DSN[10:])
        with engine.connect() as con:
            return pd.read_sql(f"SELECT * FROM {a.target}", con)

    return lambda: tally(lambda: schema.validate(load(), lazy=True))


def pandera_ibis(a: argparse.Namespace) -> Callable[[], Counts]:
    import ibis
    import pandera.ibis as pa

    schema = pandera_schema(pa, a.rows, ibis=True)

    def run() -> Counts:
        if a.backend == "duckdb":
            con = ibis.duckdb.connect(a.target, read_only=True)
            table = con.table("t")
        else:
            con = ibis.postgres.connect(**PG)
            table = con.table(a.target)
        out = tally(lambda: schema.validate(table, lazy=True))
        con.disconnect()
        return out
    return run


TOOLS: dict[str, Callable[[argparse.Namespace], Callable[[], Counts]]] = {
    "floor": floor,
    "watchdog-full": lambda a: watchdog(a, "full", examples=True),
    "watchdog-counts": lambda a: watchdog(a, "full", examples=False),
    "watchdog-counts-warm": lambda a: watchdog(a, "full", examples=False, warm=True),
    "watchdog-sample": lambda a: watchdog(a, "sample", examples=True),
    "soda": soda,
    "soda4": soda4,
    "pandera-pandas": pandera_pandas,
    "pandera-ibis": pandera_ibis,
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("tool", choices=TOOLS)
    ap.add_argument("--backend", choices=["duckdb", "postgres"], required=True)
    ap.add_argument("--target", required=True, help="DuckDB file, or Postgres table")
    ap.add_argument("--rows", type=int, required=True, help="the table's size (for bounds)")
    ap.add_argument("--sample", type=int, default=100_000)
    a = ap.parse_args()
    run = TOOLS[a.tool](a)  # imports happen here, before the clock
    t0, c0 = time.perf_counter(), time.process_time()
    counts = run()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(json.dumps({"counts": counts, "wall": wall, "cpu": cpu, "maxrss_kib": peak_rss()}),
          flush=True)


def peak_rss() -> int:
    """This process's peak RSS in KiB: VmHWM, which (unlike ru_maxrss) starts afresh at
    exec, so the parent's size at fork does not leak into the child's figure."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


if __name__ == "__main__":
    main()
