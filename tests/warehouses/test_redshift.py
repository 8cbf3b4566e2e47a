"""Redshift specifics through redshift_connector, the loopback proxy and real PostgreSQL:
the audit log from SYS_QUERY_HISTORY or STL_DDLTEXT fixture rows, and auth settings."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

pytest.importorskip("redshift_connector")

from tests.warehouses.seeding import Seeder
from tests.warehouses.standins.redshift_backend import redshift_backend
from watchdog.errors import ConfigError, UnsupportedFeature
from watchdog.warehouses import create
from watchdog.warehouses.redshift import Redshift

pytestmark = pytest.mark.postgres
T = datetime(2026, 3, 4, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeder]:
    with redshift_backend(tmp_path_factory.mktemp("rs")) as seeder:
        seeder.execute(
            "INSERT INTO public.sys_query_history (query_id, user_id, query_type, status,"
            " query_text, start_time) SELECT q, (SELECT usesysid FROM pg_user WHERE"
            " usename = current_user), k, s, t, CAST(:t0 AS TIMESTAMP) + q * INTERVAL '1 minute'"
            " FROM (VALUES (101, 'DDL', 'success', 'ALTER TABLE wd_test.events ADD COLUMN x INT'),"
            " (102, 'SELECT', 'success', 'select 1'), (103, 'DDL', 'failed', 'drop table y'),"
            " (104, 'DDL', 'success', 'alter table wd_test.events rename column x to y'))"
            " AS v(q, k, s, t)", {"t0": T.replace(tzinfo=None)})
        chunk = "ALTER TABLE wd_test.events ADD COLUMN " + "c" * 162  # 200 characters
        seeder.execute(
            "INSERT INTO public.stl_ddltext (userid, xid, starttime, sequence, text) VALUES"
            " (100, 7, :t0, 1, ' INTEGER'), (100, 7, :t0, 0, :chunk),"
            " (100, 9, :t0, 0, 'DROP TABLE wd_test.old')",
            {"t0": T.replace(tzinfo=None), "chunk": chunk})
        yield seeder


def test_audit_events_from_sys_query_history(seed: Seeder) -> None:
    with seed.connect() as wh:
        events = wh.audit_events(0)
        assert [e.seq for e in events] == [101, 104]
        assert events[0].command == "ALTER TABLE" and events[0].at == T + timedelta(minutes=101)
        assert events[0].user == sa.make_url(seed.engine.url).username
        assert wh.audit_events(101) == events[1:] and wh.audit_events(0, limit=1) == events[:1]


def test_audit_events_from_stl_ddltext_join_the_chunks(seed: Seeder) -> None:
    with seed.connect(audit_source="stl_ddltext") as wh:
        events = wh.audit_events(0)
        assert [e.seq for e in events] == [7, 9]
        assert events[0].statement == "ALTER TABLE wd_test.events ADD COLUMN " + "c" * 162 + (
            " INTEGER")
        assert events[1].command == "DROP TABLE" and wh.audit_events(7, limit=5) == events[1:]


def test_without_the_audit_views_the_log_is_unsupported(seed: Seeder) -> None:
    seed.execute("ALTER TABLE public.sys_query_history RENAME TO sys_query_history_x")
    try:
        with seed.connect() as wh, pytest.raises(UnsupportedFeature):
            wh.audit_events(0)
    finally:
        seed.execute("ALTER TABLE public.sys_query_history_x RENAME TO sys_query_history")


def test_no_tablesample_the_documented_fallback_samples(seed: Seeder) -> None:
    table = seed.create_table("s", {"id": "integer"}, [{"id": i} for i in range(20)])
    with seed.connect() as wh:
        assert not wh.SUPPORTS_TABLESAMPLE and "ORDER BY random()" in wh.QUERIES["sample"]
        assert len({r["id"] for r in wh.sample(table, ["id"], 7)}) == 7


def test_iam_and_password_settings() -> None:
    with pytest.raises(ConfigError, match="user and password, or iam"):
        create("rs", "redshift", {"host": "h", "database": "d"})
    wh = create("rs", "redshift", {"host": "vpce-1.redshift.amazonaws.com", "port": 5440,
                                   "database": "dev", "iam": True, "user": "watchdog",
                                   "cluster_identifier": "prod", "region": "eu-west-1"})
    assert isinstance(wh, Redshift)
    args = wh.connect_args()
    assert args["iam"] is True and args["db_user"] == "watchdog" and "password" not in args
    assert (args["host"], args["port"], args["ssl"]) == ("vpce-1.redshift.amazonaws.com",
                                                         5440, True)
    with pytest.raises(UnsupportedFeature):
        wh.setup_audit()
