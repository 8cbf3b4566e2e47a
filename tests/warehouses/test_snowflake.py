"""Snowflake specifics through fakesnow: auth modes, the audit log from ACCOUNT_USAGE
fixture rows (fakesnow has none), and its latency. LAST_DDL is constant in fakesnow, so the
change probe is covered by the conformance suite (a new table changes the token) and by the
golden SQL, not by a moving LAST_DDL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fakesnow")

from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402

from tests.warehouses.standins.dbapi_seeder import DbApiSeeder  # noqa: E402
from tests.warehouses.standins.fakesnow_backend import snowflake_backend  # noqa: E402
from watchdog.errors import ConfigError  # noqa: E402
from watchdog.warehouses import create  # noqa: E402
from watchdog.warehouses.snowflake import Snowflake  # noqa: E402

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DbApiSeeder]:
    with snowflake_backend(tmp_path_factory.mktemp("sf")) as seeder:
        seeder.execute("DELETE FROM SNOWFLAKE.ACCOUNT_USAGE.QUERY_HISTORY")
        seeder.execute("DELETE FROM SNOWFLAKE.ACCOUNT_USAGE.ACCESS_HISTORY")
        yield seeder


def history(seed: DbApiSeeder, qid: str, at: datetime, qtype: str, text: str,
            status: str = "SUCCESS") -> None:
    seed.execute(
        "INSERT INTO SNOWFLAKE.ACCOUNT_USAGE.QUERY_HISTORY (query_id, query_text, query_type,"
        " user_name, execution_status, start_time) VALUES (:q, :t, :k, 'ALICE', :s, :at)",
        {"q": qid, "t": text, "k": qtype, "s": status, "at": at.isoformat(sep=" ")})


def test_audit_events_are_ddl_only_bounded_and_resume_from_the_cursor(seed: DbApiSeeder) -> None:
    history(seed, "q-old", NOW - timedelta(days=3), "ALTER_TABLE_ADD_COLUMN", "alter old")
    history(seed, "q1", NOW - timedelta(hours=2), "ALTER_TABLE_ADD_COLUMN",
            'ALTER TABLE "wd_test"."events" ADD COLUMN x INT')
    history(seed, "q-fail", NOW - timedelta(hours=2), "DROP", "drop t", status="FAIL")
    history(seed, "q-select", NOW - timedelta(hours=2), "SELECT", "select 1")
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
    seed.execute(
        "INSERT INTO SNOWFLAKE.ACCOUNT_USAGE.ACCESS_HISTORY (query_id, query_start_time,"
        " user_name, object_modified_by_ddl) SELECT 'q9', CAST(:at AS TIMESTAMP_LTZ), 'ALICE',"
        " PARSE_JSON(:obj)",
        {"at": (NOW - timedelta(minutes=30)).isoformat(sep=" "),
         "obj": '{"objectDomain": "Table", "objectName": "DB.WD_TEST.T1",'
                ' "operationType": "ALTER"}'})
    with seed.connect(access_history=True) as wh:
        (event,) = [e for e in wh.audit_events(0) if e.statement.startswith("ALTER TABLE t1")]
        assert event.objects == ("WD_TEST.T1",)


def test_no_account_usage_access_is_unsupported_not_an_error(tmp_path: Path) -> None:
    from watchdog.errors import UnsupportedFeature

    with snowflake_backend(tmp_path) as seed:
        seed.execute("DROP TABLE SNOWFLAKE.ACCOUNT_USAGE.QUERY_HISTORY")
        with seed.connect() as wh, pytest.raises(UnsupportedFeature):
            wh.audit_events(0)
        from tests.warehouses.standins.fakesnow_backend import ACCOUNT_USAGE

        for sql in ACCOUNT_USAGE:
            seed.execute(sql)


def _pem(passphrase: bytes | None = None) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    crypt: Any = (serialization.BestAvailableEncryption(passphrase) if passphrase
                  else serialization.NoEncryption())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             crypt).decode()


@pytest.mark.parametrize("auth", ["key_file", "key_text", "oauth"])
def test_key_pair_and_oauth_reach_the_endpoint(seed: DbApiSeeder, auth: str,
                                               tmp_path: Path) -> None:
    base = {k: v for k, v in seed.settings.items() if k != "password"}
    if auth == "key_file":
        (tmp_path / "k.p8").write_text(_pem(b"pass phrase"))
        extra: dict[str, Any] = {"private_key_path": str(tmp_path / "k.p8"),
                                 "private_key_passphrase": "pass phrase"}
    elif auth == "key_text":
        extra = {"private_key": _pem()}
    else:
        extra = {"token": "oauth-access-token"}
    wh = create("sf", "snowflake", {**base, **extra})
    assert isinstance(wh, Snowflake)
    args = wh.connect_args()
    assert args["authenticator"] == ("oauth" if auth == "oauth" else "SNOWFLAKE_JWT")
    assert args["host"] == "127.0.0.1" and args["protocol"] == "http"
    assert args["session_parameters"]["QUERY_TAG"] == "ml-watchdog"
    with wh:
        wh.ping()


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
