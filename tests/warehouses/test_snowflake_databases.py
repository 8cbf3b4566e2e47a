"""Several databases per Snowflake warehouse entry: tables written ``DB.SCHEMA.TABLE`` are
read from that database's INFORMATION_SCHEMA, in the same one statement as the default
database's, and come back named as the config wrote them. Two databases in one fakesnow
server; the SQL sent is recorded by the loopback proxy."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fakesnow")

import sqlglot

from tests.helpers import config_from, schema_config
from tests.warehouses.standins.dbapi_seeder import DbApiSeeder
from tests.warehouses.standins.fakesnow_backend import (
    other_database,
    snowflake_backend,
    stamp_ddl,
)
from tests.warehouses.standins.snowflake_proxy import Recorder, recording_proxy
from tests.warehouses.test_golden import GOLDEN, OFFLINE_SETTINGS, UPDATE
from watchdog.daemon.runner import Runner
from watchdog.models import TableRef
from watchdog.sinks import create as create_sink
from watchdog.state import Store
from watchdog.warehouses import create
from watchdog.warehouses.base import column_fingerprint
from watchdog.warehouses.snowflake import Snowflake

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DbApiSeeder, str, Recorder,
                                                                   dict[str, Any]]]:
    """(seeder, the second database, the proxy's recorder, settings through the proxy)."""
    with snowflake_backend(tmp_path_factory.mktemp("sf2")) as seed:
        s = seed.settings
        with recording_proxy(s["host"], s["port"]) as (port, recorder):
            yield seed, other_database(seed), recorder, {**s, "port": port}


def columns_sql(recorder: Recorder) -> list[str]:
    return [q for q in recorder.queries() if "INFORMATION_SCHEMA" in q]


def test_metadata_of_two_databases_is_one_statement_named_as_configured(two: Any) -> None:
    seed, db2, recorder, settings = two
    seed.execute('CREATE TABLE {schema}."same" (a INTEGER, b VARCHAR(8))')
    seed.execute(f'CREATE TABLE {db2}."wd_test"."same" (a INTEGER)')
    seed.execute(f'CREATE TABLE {db2}."wd_test"."feat_x" (z DOUBLE)')
    here = TableRef(schema="wd_test", name="same")
    there = TableRef(database=db2, schema="wd_test", name="same")
    feat = TableRef(database=db2, schema="wd_test", name="feat_x")
    with create("sf", "snowflake", settings) as wh:
        recorder.clear()
        cols = wh.columns([here, there, feat, TableRef(database=db2, schema="wd_test",
                                                        name="absent")])
        (sql,) = columns_sql(recorder)
        assert sql.count("UNION ALL") == 1 and f'"{db2}".INFORMATION_SCHEMA.COLUMNS' in sql
        assert set(cols) == {here, there, feat}
        assert [c.name for c in cols[here]] == ["A", "B"] and [c.name for c in cols[there]] == ["A"]
        assert cols[feat][0].type_family == "float"

        recorder.clear()
        found = wh.schema_columns([here, TableRef(database=db2, schema="wd_test", name="*")])
        assert len(columns_sql(recorder)) == 1
        assert {str(r) for r in found} == {"wd_test.same", f"{db2}.wd_test.same",
                                           f"{db2}.wd_test.feat_x"}
        prints = wh.schema_fingerprints([here, there])
        assert set(prints) == {here, there} and prints[here] != prints[there]
        # the same columns give the same fingerprint in either database
        seed.execute(f'CREATE TABLE {db2}."wd_test"."twin" (a INTEGER, b VARCHAR(8))')
        twin = TableRef(database=db2, schema="wd_test", name="twin")
        assert wh.schema_fingerprints([twin])[twin] == prints[here]
        assert column_fingerprint(wh.columns([twin])[twin]) == column_fingerprint(cols[here])


def test_last_ddl_names_each_tables_author_in_its_database(two: Any) -> None:
    seed, db2, recorder, settings = two
    seed.execute('CREATE TABLE {schema}."stamped" (a INTEGER)')
    seed.execute(f'CREATE TABLE {db2}."wd_test"."stamped" (a INTEGER)')
    here = TableRef(schema="wd_test", name="stamped")
    there = TableRef(database=db2, schema="wd_test", name="stamped")
    at_here = stamp_ddl(seed.settings["database"], "wd_test", "stamped", "ALICE")
    at_there = stamp_ddl(db2, "wd_test", "stamped", "BOB")
    with create("sf", "snowflake", settings) as wh:
        recorder.clear()
        stamps = wh.last_ddl([here, there, TableRef(schema="wd_test", name="absent")])
        assert len(columns_sql(recorder)) == 1
    assert set(stamps) == {here, there}
    assert (stamps[here].by, stamps[here].at) == ("ALICE", at_here)
    assert (stamps[there].by, stamps[there].at) == ("BOB", at_there)


def test_the_probe_reads_every_database_the_patterns_name(two: Any) -> None:
    seed, db2, recorder, settings = two
    seed.execute(f'CREATE TABLE {db2}."wd_test"."probed" (a INTEGER)')
    watched = [TableRef(schema="wd_test", name="*"),
               TableRef(database=db2, schema="wd_test", name="*")]
    with create("sf", "snowflake", settings) as wh:
        default_only, both = wh.schema_version(), wh.schema_version(watched)
        stamp_ddl(db2, "wd_test", "probed", "BOB")
        assert wh.schema_version() == default_only  # the other database is not probed
        recorder.clear()
        assert wh.schema_version(watched) != both
        (sql,) = recorder.queries()
        assert f'"{db2}".INFORMATION_SCHEMA.TABLES' in sql and "UNION ALL" in sql


def test_data_queries_qualify_the_database(two: Any) -> None:
    seed, db2, recorder, settings = two
    seed.execute(f'CREATE TABLE {db2}."wd_test"."events" (ts TIMESTAMP_NTZ, v DOUBLE)')
    seed.execute(f"INSERT INTO {db2}.\"wd_test\".\"events\" VALUES ('2026-03-01 10:00:00', 1.5),"
                 " ('2026-03-01 12:30:00', 2.5)")
    seed.execute('CREATE TABLE {schema}."events" (ts TIMESTAMP_NTZ, v DOUBLE)')  # empty
    table = TableRef(database=db2, schema="wd_test", name="events")
    with create("sf", "snowflake", settings) as wh:
        recorder.clear()
        assert wh.newest(table, "ts") == datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
        assert f'FROM "{db2}"."wd_test"."events"' in recorder.queries()[-1]
        assert wh.newest(TableRef(schema="wd_test", name="events"), "ts") is None
        start = datetime(2026, 3, 1, tzinfo=UTC)
        counts = wh.count_rows(table, "ts", start, start + timedelta(days=1), timedelta(days=1))
        assert [c.rows for c in counts] == [2]


# -- golden SQL of the multi-database rendering --------------------------------------------

MULTI = GOLDEN / "snowflake" / "multi_database"
OTHER = TableRef(database="RAW", schema="events", name="clicks")
ARGS: dict[str, dict[str, Any]] = {
    "columns": {"tables": [TableRef(schema="analytics", name="events"), OTHER]},
    "schema_columns": {"patterns": [TableRef(schema="analytics", name="feat_*"),
                                    TableRef(database="RAW", schema="events", name="*")]},
    "schema_fingerprints": {"patterns": [TableRef(schema="analytics", name="events"),
                                         TableRef(database="RAW", schema="events", name="*")]},
    "last_ddl": {"tables": [TableRef(schema="analytics", name="events"), OTHER]},
    "schema_version": {"patterns": [TableRef(schema="analytics", name="*"), OTHER,
                                    TableRef(database="ML", schema="features", name="*")]},
    "newest": {"table": OTHER, "time_column": "ts"},
}


@pytest.mark.parametrize("query", sorted(ARGS))
def test_multi_database_sql_matches_golden(query: str) -> None:
    wh = create("golden", "snowflake", OFFLINE_SETTINGS["snowflake"])
    assert isinstance(wh, Snowflake)
    stmt = wh.render(query, **ARGS[query])
    params = ", ".join(f"{k}={v!r}" for k, v in sorted(stmt.params.items())) or "(none)"
    text = f"-- params: {params}\n{stmt.sql}\n"
    path = MULTI / f"{query}.sql"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"no golden file {path}; run with WATCHDOG_UPDATE_GOLDEN=1"
    assert text == path.read_text(), f"{path} differs; if intended, WATCHDOG_UPDATE_GOLDEN=1"
    parsed = sqlglot.parse(stmt.sql.replace("\\:", ":"), read="snowflake",
                           error_level=sqlglot.ErrorLevel.RAISE)
    assert len([s for s in parsed if s is not None]) == 1


# -- end to end: a schema monitor over both databases --------------------------------------



def history(seed: DbApiSeeder, qid: str, at: datetime, text: str, user: str,
            database: str) -> None:
    seed.execute(
        "INSERT INTO SNOWFLAKE.ACCOUNT_USAGE.QUERY_HISTORY (query_id, query_text, query_type,"
        " user_name, execution_status, start_time, database_name, schema_name) VALUES (:q, :t,"
        " 'ALTER_TABLE_ADD_COLUMN', :u, 'SUCCESS', :at, :d, 'wd_test')",
        {"q": qid, "t": text, "u": user, "at": at.isoformat(sep=" "), "d": database})


def poll(tmp_path: Path, settings: dict[str, Any], db2: str) -> list[dict[str, Any]]:
    wh = {"type": "snowflake", "settings": settings}
    sink = create_sink("jsonl", {"path": str(tmp_path / "out.jsonl")})
    store = Store.open(f"sqlite:///{tmp_path}/state.db")
    text = schema_config(wh, ["wd_test.kept", f"{db2}.wd_test.moved"])
    runner = Runner(config_from(tmp_path, text), store, [sink], clock=lambda: NOW)
    try:
        runner.run_pass()
    finally:
        runner.close()
    path = tmp_path / "out.jsonl"
    records = [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []
    path.unlink(missing_ok=True)
    return [x for x in records if x["type"] == "event"]


def test_a_schema_monitor_sees_a_change_in_the_second_database(tmp_path: Path) -> None:
    with snowflake_backend(tmp_path / "sf") as seed:
        seed.execute("DELETE FROM SNOWFLAKE.ACCOUNT_USAGE.QUERY_HISTORY")
        db2 = other_database(seed)
        default = seed.settings["database"]
        seed.execute('CREATE TABLE {schema}."kept" (a INTEGER)')
        seed.execute('CREATE TABLE {schema}."moved" (a INTEGER)')  # same name, not watched
        seed.execute(f'CREATE TABLE {db2}."wd_test"."moved" (a INTEGER)')
        assert poll(tmp_path, seed.settings, db2) == []  # baseline
        seed.execute(f'ALTER TABLE {db2}."wd_test"."moved" ADD COLUMN c INTEGER')
        stamp_ddl(db2, "wd_test", "moved", "BOB")
        # BOB ran it in the second database with a short name; EVE's statement with the
        # same short name ran in the default database, on the table nobody watches
        history(seed, "q-bob", NOW - timedelta(minutes=2),
                'ALTER TABLE "wd_test"."moved" ADD COLUMN c INT', "BOB", db2)
        history(seed, "q-eve", NOW - timedelta(minutes=1),
                'ALTER TABLE "wd_test"."moved" ADD COLUMN c INT', "EVE", default)
        (event,) = poll(tmp_path, seed.settings, db2)
        assert event["aggregation_key"] == f"watchdog:schema:sc:{db2}.wd_test.moved"
        assert "change:column_added" in event["tags"]
        assert '`BOB` at' in event["text"] and "EVE" not in event["text"]
        assert '`ALTER TABLE "wd_test"."moved" ADD c INT`' in event["text"]
        assert poll(tmp_path, seed.settings, db2) == []
        # no QUERY_HISTORY row yet: the second database's catalog names the author at once
        seed.execute(f'ALTER TABLE {db2}."wd_test"."moved" ADD COLUMN d INTEGER')
        at = stamp_ddl(db2, "wd_test", "moved", "CAROL")
        (event,) = poll(tmp_path, seed.settings, db2)
        said = f"Changed by: `CAROL` (the catalog's last DDL on the table, at {at:%Y-%m-%d %H:%M}"
        assert said in event["text"]


def test_a_short_name_run_in_the_default_database_is_attributed(tmp_path: Path) -> None:
    """QUERY_HISTORY says the statement ran in the default database and schema wd_test:
    its bare "kept" is wd_test.kept, not PUBLIC.kept, so its author is named."""
    with snowflake_backend(tmp_path / "sf") as seed:
        seed.execute("DELETE FROM SNOWFLAKE.ACCOUNT_USAGE.QUERY_HISTORY")
        db2 = other_database(seed)
        seed.execute('CREATE TABLE {schema}."kept" (a INTEGER)')
        seed.execute(f'CREATE TABLE {db2}."wd_test"."moved" (a INTEGER)')
        assert poll(tmp_path, seed.settings, db2) == []  # baseline
        seed.execute('ALTER TABLE {schema}."kept" ADD COLUMN c INTEGER')
        stamp_ddl(seed.settings["database"], "wd_test", "kept", "DAN")
        history(seed, "q-dan", NOW - timedelta(minutes=2),
                'ALTER TABLE "kept" ADD COLUMN c INT', "DAN", seed.settings["database"])
        (event,) = poll(tmp_path, seed.settings, db2)
        assert event["aggregation_key"] == "watchdog:schema:sc:wd_test.kept"
        assert '`DAN` at' in event["text"]
        assert '`ALTER TABLE "kept" ADD c INT`' in event["text"]
        assert "catalog's last DDL" not in event["text"]
