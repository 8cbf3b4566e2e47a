"""Time one access poll on real Postgres: every principal x table x privilege in one query.

Creates a database of its own (``access_bench_<hex>``), ``--tables`` tables, ``--roles``
roles each granted SELECT on every table through one group role, then times
``Postgres.access`` (median of ``--repeat``), and ``revokes.cause`` over ``--events``
logged REVOKE statements (the attribution's parse). Drops the database and roles at the end.

    .venv/bin/python bench/access/bench_access.py --tables 500 --roles 20
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa

from watchdog.checks.access import revokes
from watchdog.models import AuditEvent, TableRef
from watchdog.warehouses import create

BASE = "postgresql+psycopg://postgres@127.0.0.1:5432"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tables", type=int, default=500)
    ap.add_argument("--roles", type=int, default=20)
    ap.add_argument("--events", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    suffix = uuid.uuid4().hex[:8]
    name = f"access_bench_{suffix}"
    admin = sa.create_engine(f"{BASE}/postgres", isolation_level="AUTOCOMMIT")
    roles = [f"access_bench_{suffix}_{i}" for i in range(args.roles)]
    group = f"access_bench_{suffix}_group"
    with admin.connect() as con:
        con.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine = sa.create_engine(f"{BASE}/{name}")
    try:
        with engine.begin() as con:
            con.execute(sa.text("CREATE SCHEMA app"))
            for t in range(args.tables):
                con.execute(sa.text(f"CREATE TABLE app.t{t} (a INTEGER)"))
            con.execute(sa.text(f'CREATE ROLE "{group}"'))
            con.execute(sa.text(f'GRANT USAGE ON SCHEMA app TO "{group}"'))
            con.execute(sa.text(f'GRANT SELECT ON ALL TABLES IN SCHEMA app TO "{group}"'))
            for r in roles:
                con.execute(sa.text(f'CREATE ROLE "{r}" IN ROLE "{group}"'))
        wh = create("bench", "postgres", {"url": f"postgresql://postgres@127.0.0.1:5432/{name}"})
        tables = [TableRef(schema="app", name=f"t{t}") for t in range(args.tables)]
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            grants = wh.access(roles, tables, ["select", "insert"])
            times.append(time.perf_counter() - start)
        wh.close()
        assert len(grants) == args.tables * args.roles * 2
        print(f"access poll: {args.roles} principals x {args.tables} tables x 2 privileges "
              f"= {len(grants)} answers in one query, median {statistics.median(times):.3f} s")
        at = datetime.now(UTC)
        events = [AuditEvent(seq=i, at=at, user="bob", command="REVOKE",
                             statement=f'REVOKE SELECT ON app.t{i % args.tables} FROM "x{i}"')
                  for i in range(args.events)]
        start = time.perf_counter()
        revokes.cause(events, "postgres", roles[0], tables[0], ["select"], False,
                      lambda names: set())
        print(f"attribution: {args.events} logged REVOKEs parsed and matched in "
              f"{time.perf_counter() - start:.3f} s")
    finally:
        engine.dispose()
        with admin.connect() as con:
            con.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            for r in [*roles, group]:
                con.execute(sa.text(f'DROP ROLE IF EXISTS "{r}"'))
        admin.dispose()


if __name__ == "__main__":
    main()
