"""A check never hangs: a statement waiting on a lock held by another session is cancelled
at the monitor's timeout (by the warehouse itself where it can), the result is ERROR
CHECK_TIMEOUT naming the monitor and the statement, the other monitors of the pass run
meanwhile, and the next run finds the connection free."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.helpers import config_from, database, make_events, yaml_block
from watchdog.daemon.runner import Runner
from watchdog.models import Status
from watchdog.state import Store

NOW = datetime.now(UTC).replace(microsecond=0)


@contextmanager
def warehouse(kind: str, tmp_path: Path) -> Iterator[tuple[sa.Engine, dict[str, Any], str]]:
    """(engine to seed and lock with, warehouse config block, schema) on real Postgres,
    read through the Postgres adapter or through redshift_connector (the Redshift
    adapter, against its Postgres stand-in)."""
    if kind == "postgres":
        with database("postgres", tmp_path) as found:
            yield found
        return
    pytest.importorskip("redshift_connector")
    from tests.warehouses.standins.redshift_backend import redshift_backend

    with redshift_backend(tmp_path) as seed:
        yield seed.engine, {"type": "redshift", "settings": seed.settings}, seed.schema


def two_monitors(wh: dict[str, Any], schema: str, timeout: str = "1s") -> str:
    return (
        "env: test\nwarehouses:\n  wh:\n" + yaml_block(wh, 4) + "sinks: {}\n"
        "monitors:\n"
        f"  - {{id: locked, kind: freshness, warehouse: wh, table: {schema}.locked,\n"
        f"     time_column: ts, max_age: 1d, timeout: {timeout}}}\n"
        f"  - {{id: free, kind: freshness, warehouse: wh, table: {schema}.free,\n"
        "     time_column: ts, max_age: 1d}\n"
    )


@contextmanager
def lock_held(engine: sa.Engine, table: str) -> Iterator[sa.Connection]:
    """Another session holding ACCESS EXCLUSIVE on ``table`` until the block ends."""
    conn = engine.connect()
    conn.execute(sa.text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
    try:
        yield conn
    finally:
        conn.rollback()
        conn.close()


def waiting_on_locks(engine: sa.Engine, table: str) -> int:
    """Statements of any session still waiting for a lock on ``table``."""
    with engine.connect() as conn:
        return int(conn.execute(sa.text(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND query LIKE :pattern AND pid <> pg_backend_pid()"),
            {"pattern": f"%{table.split('.')[-1]}%"}).scalar_one())


@pytest.mark.postgres
@pytest.mark.parametrize("kind", ["postgres", "redshift"])
def test_a_query_waiting_on_a_lock_times_out_and_frees_the_worker(
        kind: str, tmp_path: Path) -> None:
    with warehouse(kind, tmp_path) as (engine, wh, schema):
        make_events(engine, schema, [NOW - timedelta(minutes=5)], table="locked")
        make_events(engine, schema, [NOW - timedelta(minutes=5)], table="free")
        config = config_from(tmp_path, two_monitors(wh, schema))
        runner = Runner(config, Store.open(f"sqlite:///{tmp_path}/s.db"), [])
        try:
            with lock_held(engine, f'"{schema}"."locked"'):
                started = time.monotonic()
                locked, free = runner.run_pass()
                took = time.monotonic() - started
                assert (locked.status, locked.reasons) == (Status.ERROR, ("CHECK_TIMEOUT",))
                assert f"monitor locked timed out after 1s in its newest query on {schema}." \
                    "locked" in locked.summary, locked.summary
                assert free.status is Status.OK  # the pass went on without waiting
                assert took < 4, took
                assert waiting_on_locks(engine, "locked") == 0  # the warehouse let it go
                again = runner.run_monitor("locked")  # the connection is not stuck
                assert again.reasons == ("CHECK_TIMEOUT",)
            assert runner.run_monitor("locked").status is Status.OK
        finally:
            runner.close()


@pytest.mark.postgres
def test_a_statement_timeout_set_by_the_server_says_so(tmp_path: Path) -> None:
    """Without any monitor deadline (a CLI command), the role's own statement_timeout
    cancelling a query reads as a timeout, not as 'check that the server is up'."""
    from watchdog.errors import CheckTimeout
    from watchdog.warehouses import create

    with database("postgres", tmp_path) as (engine, wh, schema):
        make_events(engine, schema, [NOW], table="locked")
        url = sa.make_url(wh["settings"]["url"]).update_query_dict(
            {"options": "-c statement_timeout=300"})
        adapter = create("wh", "postgres", {"url": url.render_as_string(False)})
        try:
            with lock_held(engine, f'"{schema}"."locked"'), \
                    pytest.raises(CheckTimeout) as caught:
                adapter.newest(adapter.table(f"{schema}.locked"), "ts")
        finally:
            adapter.close()
        text = str(caught.value)
        assert "statement or lock timeout" in text and "server is up" not in text


def test_a_duckdb_query_is_interrupted_at_the_timeout(tmp_path: Path) -> None:
    """DuckDB has no statement timeout of its own: the runner interrupts the query."""
    with database("duckdb", tmp_path) as (engine, wh, schema):
        make_events(engine, schema, [NOW], table="free")
        with engine.begin() as conn:  # a view whose every read is a long cross join
            conn.execute(sa.text(
                "CREATE VIEW locked AS SELECT now() AS ts FROM range(100000) a, range(100000) b "
                "WHERE a.range * b.range = -1"))
        config = config_from(tmp_path, two_monitors(wh, schema))
        runner = Runner(config, Store.open(f"sqlite:///{tmp_path}/s.db"), [])
        started = time.monotonic()
        try:
            result = runner.run_monitor("locked")
        finally:
            runner.close()
        assert result.reasons == ("CHECK_TIMEOUT",) and "newest query" in result.summary
        assert time.monotonic() - started < 4
