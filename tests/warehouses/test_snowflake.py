"""Snowflake specifics through fakesnow: settings, and the audit log from ACCOUNT_USAGE
fixture rows (fakesnow has none) and its latency. Authentication on the wire is in
test_snowflake_auth.py, the moving LAST_DDL probe in test_snowflake_probe.py, several
databases in test_snowflake_databases.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

pytest.importorskip("fakesnow")

from tests.warehouses.standins.dbapi_seeder import DbApiSeeder
from tests.warehouses.standins.fakesnow_backend import snowflake_backend
from watchdog.errors import ConfigError
from watchdog.warehouses import create
from watchdog.warehouses.snowflake import Snowflake

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DbApiSeeder]:
    with snowflake_backend(tmp_path_factory.mktemp("sf")) as seeder:
        seeder.execute("DELETE FROM SNOWFLAKE.ACCOUNT_USAGE.QUERY_HISTORY")
        seeder.execute("DELETE FROM SNOWFLAKE.ACCOUNT_USAGE.ACCESS_HISTORY")
        yield seeder


def history(seed: DbApiSeeder, qid: str, at: datetime, qtype: str, text: str,
            status: str = "SUCCESS", database: str | None = None) -> None:
    seed.execute(
        "INSERT INTO SNOWFLAKE.ACCOUNT_USAGE.QUERY_HISTORY (query_id, query_text, query_type,"
        " user_name, execution_status, start_time, database_name, schema_name) VALUES (:q, :t,"
        " :k, 'ALICE', :s, :at, :d, 'wd_test')",
        {"q": qid, "t": text, "k": qtype, "s": status, "at": at.isoformat(sep=" "),
         "d": database})


def test_audit_events_are_ddl_only_bounded_and_resume_from_the_cursor(seed: DbApiSeeder) -> None:
    history(seed, "q-old", NOW - timedelta(days=3), "ALTER_TABLE_ADD_COLUMN", "alter old")
    history(seed, "q1", NOW - timedelta(hours=2), "ALTER_TABLE_ADD_COLUMN",
            'ALTER TABLE "wd_test"."events" ADD COLUMN x INT')
    history(seed, "q-fail", NOW - timedelta(hours=2), "DROP", "drop t", status="FAIL")
    history(seed, "q-select", NOW - timedelta(hours=2), "SELECT", "select 1")
    history(seed, "q-session", NOW - timedelta(hours=2), "ALTER_SESSION", "alter session")
    history(seed, "q-user", NOW - timedelta(hours=2), "ALTER_USER", "alter user bob")
    history(seed, "q2", NOW - timedelta(hours=1), "RENAME_COLUMN",
            'ALTER TABLE "wd_test"."events" RENAME COLUMN x TO y')
    with seed.connect() as wh:
        events = wh.audit_events(0)
        assert [e.statement.split()[-1] for e in events] == ["INT", "y"]
        assert events[0].seq < events[1].seq and events[0].user == "ALICE"
        assert events[0].at == NOW - timedelta(hours=2) and events[1].command == "RENAME_COLUMN"
        assert wh.audit_events(events[0].seq) == events[1:]
        assert wh.audit_events(0, limit=1) == events[:1]
        # a row that lands late (ACCOUNT_USAGE latency) is read once it is there, if it is
        # newer than the cursor
        cursor = events[-1].seq
        assert wh.audit_events(cursor) == []
        history(seed, "q3", NOW - timedelta(minutes=50), "ALTER_TABLE_DROP_COLUMN",
                'ALTER TABLE "wd_test"."events" DROP COLUMN y')
        (late,) = wh.audit_events(cursor)
        assert late.command == "ALTER_TABLE_DROP_COLUMN" and late.objects == ()
        # a table DDL type not in any list we know still counts (types match by family)
        history(seed, "q4", NOW - timedelta(minutes=40), "ALTER_TABLE_ALTER_COLUMN_TYPE",
                'ALTER TABLE "wd_test"."events" ALTER COLUMN z SET DATA TYPE BIGINT')
        (novel,) = wh.audit_events(late.seq)
        assert novel.command == "ALTER_TABLE_ALTER_COLUMN_TYPE"


def test_a_late_row_that_ran_before_the_cursor_is_read_again_by_the_rewind(
        seed: DbApiSeeder) -> None:
    history(seed, "q-l1", NOW - timedelta(minutes=20), "ALTER_TABLE_ADD_COLUMN",
            'ALTER TABLE "wd_test"."late" ADD COLUMN a INT')
    with seed.connect() as wh:
        assert wh.audit_latency == timedelta(hours=3)
        (cursor,) = [e.seq for e in wh.audit_events(0) if '"late" ADD COLUMN a' in e.statement]
        history(seed, "q-l2", NOW - timedelta(minutes=40), "ALTER_TABLE_ADD_COLUMN",
                'ALTER TABLE "wd_test"."late" ADD COLUMN b INT')
        assert not [e for e in wh.audit_events(cursor) if "COLUMN b" in e.statement]
        again = [e for e in wh.audit_events(wh.audit_rewind(cursor)) if '"late"' in e.statement]
        assert [e.statement.split()[-2] for e in again] == ["b", "a"]
        assert wh.audit_rewind(0) == 0
    with seed.connect(audit_latency_minutes=0) as wh:
        assert wh.audit_rewind(cursor) == cursor


def test_access_history_names_the_changed_tables(seed: DbApiSeeder) -> None:
    history(seed, "q9", NOW - timedelta(minutes=30), "ALTER_TABLE",
            "ALTER TABLE t1 SWAP WITH t2")
    default = seed.settings["database"]
    for name in (f"{default}.WD_TEST.T1", "OTHER.WD_TEST.T2"):
        seed.execute(
            "INSERT INTO SNOWFLAKE.ACCOUNT_USAGE.ACCESS_HISTORY (query_id, query_start_time,"
            " user_name, object_modified_by_ddl) SELECT 'q9', CAST(:at AS TIMESTAMP_LTZ),"
            " 'ALICE', PARSE_JSON(:obj)",
            {"at": (NOW - timedelta(minutes=30)).isoformat(sep=" "),
             "obj": f'{{"objectDomain": "Table", "objectName": "{name}",'
                    ' "operationType": "ALTER"}'})
    with seed.connect(access_history=True) as wh:
        (event,) = [e for e in wh.audit_events(0) if e.statement.startswith("ALTER TABLE t1")]
        # the default database's tables as the config names them; others keep theirs
        assert sorted(event.objects) == ["OTHER.WD_TEST.T2", "WD_TEST.T1"]
    with seed.connect() as wh:  # off: ACCESS_HISTORY is not read
        (event,) = [e for e in wh.audit_events(0) if e.statement.startswith("ALTER TABLE t1")]
        assert event.objects == ()


def test_a_short_name_is_named_with_the_schema_and_database_it_ran_in(seed: DbApiSeeder) -> None:
    history(seed, "q-db2", NOW - timedelta(minutes=25), "ALTER_TABLE_ADD_COLUMN",
            'ALTER TABLE "clicks" ADD COLUMN a INT', database="RAW")
    history(seed, "q-db3", NOW - timedelta(minutes=24), "ALTER_TABLE_ADD_COLUMN",
            'ALTER TABLE ml.feats ADD COLUMN a INT; ALTER TABLE x.y.z ADD COLUMN b INT',
            database="RAW")
    history(seed, "q-here", NOW - timedelta(minutes=23), "ALTER_TABLE_ADD_COLUMN",
            'ALTER TABLE "clicks" ADD COLUMN b INT', database=seed.settings["database"])
    with seed.connect() as wh:
        got = {e.statement: e.objects for e in wh.audit_events(0)}
    # QUERY_HISTORY's database_name and schema_name resolve what the statement left out
    assert got['ALTER TABLE "clicks" ADD COLUMN a INT'] == ("RAW.wd_test.clicks",)
    assert got["ALTER TABLE ml.feats ADD COLUMN a INT; ALTER TABLE x.y.z ADD COLUMN b INT"] \
        == ("RAW.ml.feats",)
    # ...also in the default database, named as the config names its tables (not PUBLIC)
    assert got['ALTER TABLE "clicks" ADD COLUMN b INT'] == ("wd_test.clicks",)


def test_no_account_usage_access_is_unsupported_not_an_error(tmp_path: Path) -> None:
    from watchdog.errors import UnsupportedFeature

    with snowflake_backend(tmp_path) as seed:
        seed.execute("DROP TABLE SNOWFLAKE.ACCOUNT_USAGE.QUERY_HISTORY")
        with seed.connect() as wh, pytest.raises(UnsupportedFeature):
            wh.audit_events(0)
        from tests.warehouses.standins.fakesnow_backend import ACCOUNT_USAGE

        for sql in ACCOUNT_USAGE:
            seed.execute(sql)


def test_settings_need_exactly_one_authentication() -> None:
    base = {"account": "a", "user": "u", "database": "D"}
    with pytest.raises(ConfigError, match="exactly one"):
        create("sf", "snowflake", base)
    with pytest.raises(ConfigError, match="exactly one"):
        create("sf", "snowflake", {**base, "password": "p", "token": "t"})
    wh = create("sf", "snowflake", {**base, "password": "p", "host": "acct.privatelink."
                                    "snowflakecomputing.com", "port": 443})
    assert isinstance(wh, Snowflake) and wh.connect_args()["host"].endswith("privatelink."
                                                                            "snowflakecomputing.com")


def test_number_types_fold_to_integer_or_decimal() -> None:
    assert Snowflake.type_family("NUMBER(38,0)") == "integer"
    assert Snowflake.type_family("NUMBER(12,3)") == "decimal"
    assert Snowflake.type_family("TIMESTAMP_NTZ") == "timestamp"
    assert Snowflake.type_family("TIMESTAMP_LTZ") == "timestamptz"
    assert Snowflake.type_family("TEXT(16777216)") == "string"
