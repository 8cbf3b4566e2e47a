"""Redshift's opt-in change probe through redshift_connector, the loopback proxy and real
PostgreSQL, whose event trigger logs each DDL into the SYS_QUERY_HISTORY / STL_DDLTEXT
fixtures as it runs (``redshift_backend(log_ddl=True)``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

pytest.importorskip("redshift_connector")

from tests.warehouses.seeding import Seeder
from tests.warehouses.standins.redshift_backend import XID, redshift_backend
from watchdog.daemon.runner import Runner
from watchdog.errors import UnsupportedFeature
from watchdog.load import load_config
from watchdog.state import Store

pytestmark = pytest.mark.postgres
SOURCES = ["sys_query_history", "stl_ddltext"]


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeder]:
    with redshift_backend(tmp_path_factory.mktemp("rs"), log_ddl=True) as seeder:
        yield seeder


def _grant(seed: Seeder, superuser: bool, access: str) -> None:
    seed.execute("UPDATE public.svv_user_info SET superuser = :s, syslog_access = :a"
                 " WHERE user_name = current_user", {"s": superuser, "a": access})


def _unlogged(seed: Seeder, sql: str) -> None:
    """DDL that the fixture trigger does not log (it would write to the table renamed)."""
    with seed.engine.begin() as conn:
        conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
        conn.execute(sa.text(sql))


def test_off_by_default_the_probe_reads_nothing(seed: Seeder) -> None:
    _unlogged(seed, "ALTER TABLE public.sys_query_history RENAME TO sys_query_history_x")
    try:
        with seed.connect() as wh:
            assert wh.SUPPORTS_SCHEMA_VERSION and wh.schema_version() is None
        with seed.connect(change_probe=True) as wh, \
                pytest.raises(UnsupportedFeature, match="change probe"):
            wh.schema_version()  # on, it needs the log
    finally:
        _unlogged(seed, "ALTER TABLE public.sys_query_history_x RENAME TO sys_query_history")


@pytest.mark.parametrize("source", SOURCES)
def test_the_token_stays_without_ddl_and_moves_with_a_logged_ddl(seed: Seeder, source: str) -> None:
    with seed.connect(change_probe=True, audit_source=source) as wh:
        before = wh.schema_version()
        assert wh.schema_version() == before
        seed.create_table(f"probe_{source}", {"a": "integer"})
        after = wh.schema_version()
        assert after != before
        assert wh.schema_version() == after
        seed.execute(f"ALTER TABLE {{schema}}.probe_{source} ADD COLUMN b INTEGER")
        assert wh.schema_version() not in (before, after)


def test_the_token_moves_again_when_a_logged_ddl_commits(seed: Seeder) -> None:
    """Redshift logs a DDL before its transaction commits: the columns read on that poll are
    the old ones, so the end of the transaction must move the token too."""
    table = seed.create_table("late_commit", {"a": "integer"})
    with seed.connect(change_probe=True) as wh, seed.engine.connect() as other:
        before = wh.schema_version()
        other.execute(sa.text("SET LOCAL session_replication_role = replica"))  # no trigger
        other.execute(sa.text(f'ALTER TABLE "{seed.schema}".late_commit ADD COLUMN b INTEGER'))
        xid = other.execute(sa.text(f"SELECT {XID}")).scalar_one()
        seed.execute(  # the row Redshift writes while the transaction is still open
            "INSERT INTO public.sys_query_history (query_id, user_id, query_type, status,"
            " query_text, start_time, transaction_id) VALUES (999999, 100, 'DDL', 'success',"
            " 'alter table late_commit add column b integer', now(), :xid)", {"xid": xid})
        logged = wh.schema_version()
        assert logged != before and logged.endswith(":1")  # one open DDL transaction
        assert [c.name for c in wh.columns([table])[table]] == ["a"]
        other.commit()
        committed = wh.schema_version()
        assert committed != logged and committed.endswith(":0")
        assert [c.name for c in wh.columns([table])[table]] == ["a", "b"]


def test_a_login_that_sees_only_its_own_rows_gets_no_probe(seed: Seeder) -> None:
    try:
        _grant(seed, superuser=False, access="RESTRICTED")
        with seed.connect(change_probe=True) as wh:
            with pytest.raises(UnsupportedFeature) as caught:
                wh.schema_version()
            text = str(caught.value)
            assert "change_probe" in text and "SYSLOG ACCESS UNRESTRICTED" in text
            assert "unused-with-trust" not in text
            _grant(seed, superuser=False, access="UNRESTRICTED")
            assert wh.schema_version() is not None
    finally:
        _grant(seed, superuser=True, access="RESTRICTED")


def test_the_schema_monitor_skips_the_column_read_until_a_ddl_is_logged(
    seed: Seeder, tmp_path: Path,
) -> None:
    seed.create_table("watched", {"id": "integer"})
    block = json.dumps({"type": "redshift", "settings": {**seed.settings, "change_probe": True}})
    (tmp_path / "config.yaml").write_text(
        f"env: test\nwarehouses:\n  wh: {block}\nsinks: {{}}\nmonitors:\n"
        f"  - {{id: sc, kind: schema, warehouse: wh, tables: [{seed.schema}.watched]}}\n")
    cfg = load_config(tmp_path / "config.yaml", {})
    runner = Runner(cfg, Store.open(f"sqlite:///{tmp_path}/state.db"), [],
                    clock=lambda: datetime(2026, 3, 4, 12, tzinfo=UTC))
    try:
        runner.check(cfg.monitor("sc"))  # the baseline
        quiet = runner.check(cfg.monitor("sc"))
        assert "NO_DDL" in {f.reason for f in quiet.findings}
        seed.execute(f"ALTER TABLE {{schema}}.{seed.quote('watched')} ADD COLUMN extra INTEGER")
        changed = runner.check(cfg.monitor("sc"))
        assert "NO_DDL" not in {f.reason for f in changed.findings}
        (event,) = changed.events
        assert "change:column_added" in event.tags
    finally:
        runner.close()
