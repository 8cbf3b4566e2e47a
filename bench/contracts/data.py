"""Benchmark data for the contract benchmark: one table ``t(id, age, score, status)`` with
defects planted at known rows, written to a DuckDB file and/or a Postgres table.

The planted counts are fixed by construction (disjoint random row sets drawn with numpy),
never measured with SQL, and saved beside the data as ``<name>.expected.json``:

- ``range``: scores outside [0, 1] (half below 0, half above 1)   rows / 5,000
- ``null``:  NULL ages                                             rows / 1,000
- ``set``:   statuses outside {ok, retry, fail} ('bad', 'OK')      rows / 20,000
- ``dup``:   ids that repeat an earlier id (each repeated id appears exactly twice, so
  "rows after the first" and "values that repeat" are the same number)  rows / 100,000
- ``rows``:  the row count; the contract's bounds are [rows / 2, rows * 2] (it passes).

Also planted, and failures of no check: NULL scores (rows / 10,000) and NULL statuses
(rows / 50,000): value checks must skip NULLs. The DuckDB file is written in storage format
v1.0.0 so that Soda's pinned DuckDB (< 1.1) reads the very same file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

STATUSES = ("ok", "retry", "fail")


def planted(rows: int) -> dict[str, int]:
    """How many rows of each defect a table of ``rows`` rows gets."""
    return {"rows": rows, "range": rows // 5000, "null": rows // 1000, "set": rows // 20000,
            "dup": rows // 100000, "null_score": rows // 10000, "null_status": rows // 50000}


def frame(rows: int, seed: int = 7) -> tuple[dict[str, Any], dict[str, int]]:
    """Columns as numpy arrays (NULLs as boolean masks), and the planted counts."""
    want = planted(rows)
    rng = np.random.default_rng(seed)
    cols: dict[str, Any] = {
        "id": np.arange(rows, dtype=np.int64),
        "age": rng.integers(18, 90, rows).astype(np.float64),
        "score": rng.random(rows),
        "status": rng.integers(0, len(STATUSES), rows).astype(np.int8),
    }
    for name in ("age_null", "score_null", "status_null"):
        cols[name] = np.zeros(rows, dtype=bool)
    perm, at = rng.permutation(rows), 0

    def take(k: int) -> np.ndarray:
        nonlocal at
        at += k
        return perm[at - k:at]

    bad = take(want["range"])
    cols["score"][bad] = np.where(np.arange(len(bad)) % 2 == 0, -0.5, 1.5)
    cols["age_null"][take(want["null"])] = True
    cols["status"][take(want["set"])] = rng.integers(3, 5, want["set"])  # 3: 'bad', 4: 'OK'
    source, copy = take(want["dup"]), take(want["dup"])
    cols["id"][copy] = cols["id"][source]
    cols["score_null"][take(want["null_score"])] = True
    cols["status_null"][take(want["null_status"])] = True
    return cols, want


SELECT = """SELECT id, CASE WHEN age_null THEN NULL ELSE age END AS age,
  CASE WHEN score_null THEN NULL ELSE score END AS score,
  CASE WHEN status_null THEN NULL ELSE ['ok', 'retry', 'fail', 'bad', 'OK'][status + 1]
  END AS status FROM f"""


def write_duckdb(path: Path, rows: int) -> dict[str, int]:
    """A DuckDB file (storage v1.0.0) with table ``main.t``; returns the planted counts."""
    import duckdb
    import pandas as pd

    cols, want = frame(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in (path, Path(f"{path}.wal")):
        stale.unlink(missing_ok=True)
    con = duckdb.connect()
    con.register("f", pd.DataFrame(cols))
    con.execute(f"ATTACH '{path}' AS b (STORAGE_VERSION 'v1.0.0')")
    con.execute(f"CREATE TABLE b.t AS {SELECT}")
    con.close()
    save(path, want)
    return want


def write_postgres(dsn: str, table: str, rows: int, scratch: Path) -> dict[str, int]:
    """Table ``public.<table>`` in Postgres, loaded with COPY; returns the planted counts."""
    import duckdb
    import pandas as pd
    import psycopg

    cols, want = frame(rows)
    csv = scratch / f"{table}.csv"
    csv.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.register("f", pd.DataFrame(cols))
    con.execute(f"COPY ({SELECT}) TO '{csv}' (HEADER false, NULL '')")
    con.close()
    with psycopg.connect(dsn, autocommit=True) as pg:
        pg.execute(f"DROP TABLE IF EXISTS {table}")
        pg.execute(f"CREATE TABLE {table} (id bigint, age double precision,"
                   " score double precision, status text)")
        with pg.cursor().copy(f"COPY {table} FROM STDIN (FORMAT csv, NULL '')") as cp, \
                open(csv, "rb") as fh:
            while chunk := fh.read(1 << 20):
                cp.write(chunk)
        pg.execute(f"ANALYZE {table}")
    os.unlink(csv)
    save(scratch / f"{table}.pg", want)
    return want


def save(path: Path, want: dict[str, int]) -> None:
    Path(f"{path}.expected.json").write_text(json.dumps(want))


def load(path: Path) -> dict[str, int] | None:
    """The planted counts saved with the data at ``path``, if the data was written."""
    p = Path(f"{path}.expected.json")
    return json.loads(p.read_text()) if p.exists() else None
