"""Schema monitor benchmark: N tables × 30 columns in Postgres, one poll of each kind.

Measures wall time, SQL statements sent to Postgres and bytes on the wire (both ways, through
a counting loopback proxy) for: watchdog's poll + diff after a change, watchdog's poll when
nothing changed (audit trigger installed), and beside it in the same run
information_schema.columns and SQLAlchemy's inspector (table by table) for the same tables.

    python bench/schema/bench_schema.py --tables 10000

Builds database ``wd_bench_schema`` (or --db) on 127.0.0.1:5432 (user postgres) and drops it
at the end unless --keep is given.
"""

from __future__ import annotations

import argparse
import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

DB = "wd_bench_schema"
ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TYPES = ["integer", "bigint", "text", "double precision", "numeric(12,2)", "boolean",
         "timestamptz", "date", "varchar(40)", "smallint"]


class Proxy:
    """A loopback TCP proxy to Postgres that counts the bytes in both directions."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target, self.bytes = target, 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            client, _ = self.sock.accept()
            upstream = socket.create_connection(self.target)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                with self.lock:
                    self.bytes += len(data)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)


QUERIES = [0]


def _count(conn: Any, *_: Any) -> None:
    if conn.engine.dialect.name == "postgresql":
        QUERIES[0] += 1


def build(n: int) -> None:
    admin = sa.create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as con:
        con.execute(sa.text(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)"))
        con.execute(sa.text(f"CREATE DATABASE {DB}"))
    admin.dispose()
    engine = sa.create_engine(ADMIN.rsplit("/", 1)[0] + f"/{DB}")
    cols = ", ".join(f"c{i:02d} {TYPES[i % len(TYPES)]}" for i in range(30))
    started = time.perf_counter()
    with engine.begin() as con:
        con.execute(sa.text("CREATE SCHEMA bench"))
    for start in range(0, n, 500):  # a transaction per batch: each table takes locks
        sql = "; ".join(f"CREATE TABLE bench.features_{i:06d} ({cols})"
                        for i in range(start, min(n, start + 500)))
        with engine.begin() as con:
            con.exec_driver_sql(sql)
    print(f"built {n} tables x 30 columns in {time.perf_counter() - started:.1f} s")
    engine.dispose()


@contextmanager
def measured(label: str, proxy: Proxy, rows: list[tuple[str, float, int, int, float]],
             ) -> Iterator[None]:
    """Wall time, queries, bytes, and this process's CPU time (the client's: watchdog and the
    counting proxy; steadier than wall time when other work shares the cores)."""
    QUERIES[0] = 0
    before = proxy.bytes
    started, cpu = time.perf_counter(), time.process_time()
    yield
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    time.sleep(0.05)  # let the proxy threads count the last packets
    rows.append((label, elapsed, QUERIES[0], proxy.bytes - before, cpu))


def migrate(engine: sa.Engine, count: int, step: int) -> None:
    """A migration: ``ADD COLUMN`` on the first ``count`` tables (one statement each, 500 a
    transaction), each logged by the audit trigger."""
    for start in range(0, count, 500):
        sql = "; ".join(f"ALTER TABLE bench.features_{i:06d} ADD COLUMN m{step:02d} integer"
                        for i in range(start, min(count, start + 500)))
        with engine.begin() as con:
            con.exec_driver_sql(sql)


@contextmanager
def profiled(folder: str, name: str) -> Iterator[None]:
    """cProfile the threads the block starts (the runner runs the check in one) into
    ``folder/name.prof`` when ``folder`` is set."""
    if not folder:
        yield
        return
    import cProfile
    import sys

    prof = cProfile.Profile()

    def start(*_: Any) -> None:  # the new thread's first event: profile it from here on
        sys.setprofile(None)
        prof.enable()

    threading.setprofile(start)
    try:
        yield
    finally:
        threading.setprofile(None)
        Path(folder).mkdir(parents=True, exist_ok=True)
        prof.dump_stats(str(Path(folder) / f"{name}.prof"))


def run(n: int, keep: bool, migrations: Sequence[int] = (), profile: str = "",
        peers: bool = True) -> None:
    from watchdog.daemon.runner import Runner
    from watchdog.load import load_config
    from watchdog.state import Store
    from watchdog.warehouses import create

    build(n)
    proxy = Proxy(("127.0.0.1", 5432))
    url = f"postgresql://postgres@127.0.0.1:{proxy.port}/{DB}"
    sa.event.listen(sa.Engine, "before_cursor_execute", _count)
    create("bench", "postgres", {"url": url}).setup_audit()
    tmp = Path(tempfile.mkdtemp())
    (tmp / "config.yaml").write_text(
        f"warehouses: {{pg: {{type: postgres, settings: {{url: '{url}'}}}}}}\n"
        "sinks: {}\nmonitors:\n  - {id: s, kind: schema, warehouse: pg, "
        "tables: ['bench.features_*']}\n")
    config = load_config(tmp / "config.yaml", {})
    runner = Runner(config, Store.open(f"sqlite:///{tmp}/state.db"), [],
                    clock=lambda: datetime.now(UTC))
    monitor = config.monitor("s")
    rows: list[tuple[str, float, int, int, float]] = []
    poll: Callable[[], Any] = lambda: runner.check(monitor)  # noqa: E731
    with measured("watchdog: first poll (baseline, saves every snapshot)", proxy, rows):
        assert not poll().events
    change = sa.create_engine(ADMIN.rsplit("/", 1)[0] + f"/{DB}")
    with change.begin() as con:
        con.execute(sa.text("ALTER TABLE bench.features_000007 RENAME COLUMN c01 TO c01_new"))
        con.execute(sa.text("ALTER TABLE bench.features_000042 ALTER COLUMN c01 TYPE integer"))
    with measured("watchdog: poll + diff after 2 changed tables", proxy, rows):
        result = poll()
    assert len(result.events) == 2, result.summary
    added = 0  # columns the migrations add
    for step, count in enumerate(m for m in migrations if m <= n):
        migrate(change, count, step)
        with measured(f"watchdog: poll + diff after {count:,} changed tables (a migration)",
                      proxy, rows), profiled(profile, f"migration-{count}"):
            result = poll()
        assert len(result.events) == count, result.summary
        added += count
    for _ in range(5):  # the median of five
        with measured("watchdog: poll, nothing changed (audit trigger)", proxy, rows):
            assert "NO_DDL" in [f.reason for f in poll().findings]
    quiet = sorted(rows[-5:], key=lambda r: r[1])
    rows[-5:] = [(quiet[2][0] + ", median of 5", *quiet[2][1:])]
    runner.store.put_artifact("schema_state", "s", {"token": None})  # as without a trigger
    with measured("watchdog: poll, nothing changed, no trigger (full snapshot)", proxy, rows):
        assert not poll().events
    if peers:
        _peers(n, url, added, proxy, rows)
    runner.close()
    change.dispose()
    print(f"\n{n} tables x 30 columns, Postgres {_version()}\n")
    print(f"load average {os.getloadavg()}\n")
    print("| measured | time | client CPU | queries | bytes on the wire |\n"
          "|---|---:|---:|---:|---:|")
    for label, seconds, queries, size, cpu in rows:
        when = f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"
        print(f"| {label} | {when} | {cpu:.2f} s | {queries} | {size:,} |")
    if not keep:
        admin = sa.create_engine(ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as con:
            con.execute(sa.text(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)"))


def _peers(n: int, url: str, added: int, proxy: Proxy,
           rows: list[tuple[str, float, int, int, float]]) -> None:
    """The two ways a poll reads suspect tables' columns, information_schema and the
    SQLAlchemy inspector, on the same tables."""
    # how a poll reads the columns of its suspect tables: by name (1,000 per statement)
    # while they are at most half the watched ones, else one scan by pattern
    from watchdog.checks.schema.check import BY_NAME_LIMIT
    from watchdog.models import TableRef
    from watchdog.warehouses import create

    adapter = create("bench", "postgres", {"url": url})
    adapter.ping()
    suspects = [TableRef(schema="bench", name=f"features_{i:06d}") for i in range(0, n, 5)]
    with measured(f"columns of {len(suspects):,} tables by name, {BY_NAME_LIMIT:,} a "
                  "statement", proxy, rows):
        for start in range(0, len(suspects), BY_NAME_LIMIT):
            adapter.columns(suspects[start:start + BY_NAME_LIMIT])
    with measured(f"columns of all {n:,} tables by one pattern scan", proxy, rows):
        adapter.schema_columns([TableRef(schema="bench", name="features_*")])
    adapter.close()
    peer = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with measured("information_schema.columns, same tables, one query", proxy, rows), \
            peer.connect() as con:
        got = con.execute(sa.text(
            "SELECT table_schema, table_name, column_name, ordinal_position, data_type, "
            "is_nullable FROM information_schema.columns WHERE table_schema = 'bench' "
            "AND table_name LIKE 'features\\_%' ORDER BY 1, 2, 4")).all()
    assert len(got) == n * 30 + added
    with measured("SQLAlchemy inspector, table by table", proxy, rows), peer.connect() as con:
        inspector = sa.inspect(con)
        names = inspector.get_table_names(schema="bench")
        total = sum(len(inspector.get_columns(t, schema="bench")) for t in names)
    assert total == n * 30 + added
    peer.dispose()


def _version() -> str:
    engine = sa.create_engine(ADMIN)
    with engine.connect() as con:
        return str(con.execute(sa.text("SHOW server_version")).scalar()).split()[0]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--migrations", default="300,2000,10000",
                        help="comma-separated counts of tables changed at once ('' for none)")
    parser.add_argument("--db", default=DB,
                        help="database to build (a unique name when Postgres is shared)")
    parser.add_argument("--no-peers", action="store_true",
                        help="watchdog's polls only (no information_schema, inspector)")
    parser.add_argument("--profile", default="", metavar="DIR",
                        help="cProfile each migration's poll into DIR/migration-N.prof")
    args = parser.parse_args()
    DB = args.db
    run(args.tables, args.keep, [int(m) for m in args.migrations.split(",") if m], args.profile,
        not args.no_peers)
