"""Late attribution end to end on the Snowflake stand-in: a change seen before its
ACCOUNT_USAGE.QUERY_HISTORY row lands is reported at once, naming the catalog's LAST_DDL_BY,
then attributed by one update event when the row arrives (even with a start time before the
audit cursor). The change probe is on: the stand-in's LAST_DDL moves when a test stamps a
DDL, as Snowflake's does."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fakesnow")

from tests.helpers import config_from, schema_config
from tests.warehouses.standins.dbapi_seeder import DbApiSeeder
from tests.warehouses.standins.fakesnow_backend import (
    snowflake_backend,
    stamp_ddl,
)
from watchdog.checks.schema.late import ARTIFACT
from watchdog.daemon.runner import Runner
from watchdog.sinks import create as create_sink
from watchdog.state import Store

NOW = datetime.now(UTC).replace(microsecond=0)
KEY = "watchdog:schema:sc:wd_test.features"


@pytest.fixture
def seed(tmp_path: Path) -> Iterator[DbApiSeeder]:
    with snowflake_backend(tmp_path / "sf") as seeder:
        seeder.execute("DELETE FROM SNOWFLAKE.ACCOUNT_USAGE.QUERY_HISTORY")
        yield seeder


def alter(seed: DbApiSeeder, sql: str, by: str, at: datetime) -> None:
    """Run DDL on wd_test.features; the catalog records its time and author (LAST_DDL)."""
    seed.execute(sql)
    stamp_ddl(seed.settings["database"], "wd_test", "features", by, at)


def history(seed: DbApiSeeder, qid: str, at: datetime, text: str, user: str = "BOB") -> None:
    seed.execute(
        "INSERT INTO SNOWFLAKE.ACCOUNT_USAGE.QUERY_HISTORY (query_id, query_text, query_type,"
        " user_name, execution_status, start_time) VALUES (:q, :t, 'ALTER_TABLE_ADD_COLUMN',"
        " :u, 'SUCCESS', :at)", {"q": qid, "t": text, "u": user, "at": at.isoformat(sep=" ")})


def poll(tmp_path: Path, seed: DbApiSeeder, now: datetime = NOW) -> list[dict[str, Any]]:
    wh = {"type": "snowflake", "settings": {**seed.settings, "change_probe": True}}
    sink = create_sink("jsonl", {"path": str(tmp_path / "out.jsonl")})
    store = Store.open(f"sqlite:///{tmp_path}/state.db")
    r = Runner(config_from(tmp_path, schema_config(wh, ["wd_test.features"])), store, [sink],
               clock=lambda: now)
    try:
        r.run_pass()
    finally:
        r.close()
    path = tmp_path / "out.jsonl"
    records = [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []
    path.unlink(missing_ok=True)
    return [x for x in records if x["type"] == "event"]


def test_a_late_audit_row_attributes_the_change_once(seed: DbApiSeeder, tmp_path: Path) -> None:
    seed.execute('CREATE TABLE {schema}."features" (a INTEGER, b INTEGER)')
    # DDL from before the first poll is never taken for the author of a later change
    history(seed, "q0", NOW - timedelta(hours=2), 'ALTER TABLE "wd_test"."features" ADD b INT',
            user="EVE")
    assert poll(tmp_path, seed) == []  # baseline
    assert poll(tmp_path, seed) == []  # no DDL: the probe stops the poll
    ran = NOW - timedelta(minutes=10)
    alter(seed, 'ALTER TABLE {schema}."features" ADD COLUMN d INTEGER DEFAULT 42', "BOB", ran)
    # a row for another table moves the audit cursor past the late row's start time
    history(seed, "q1", NOW - timedelta(minutes=5), 'ALTER TABLE "wd_test"."other" ADD x INT')
    (reported,) = poll(tmp_path, seed)
    # the author at once, from the catalog; the statement follows when QUERY_HISTORY has it
    assert reported["aggregation_key"] == KEY and (
        f"Changed by: `BOB` (the catalog's last DDL on the table, at {ran:%Y-%m-%d %H:%M:%S}"
        " UTC)") in reported["text"]
    assert "ADD d" not in reported["text"]

    history(seed, "q2", NOW - timedelta(minutes=10),
            'ALTER TABLE "wd_test"."features" ADD COLUMN d INT DEFAULT 42')
    (update,) = poll(tmp_path, seed)
    assert update["title"] == "[ATTRIBUTED] Schema change on wd_test.features: by BOB"
    assert update["alert_type"] == "info" and update["aggregation_key"] == KEY
    text = update["text"]
    assert "`BOB` at" in text and "ADD d INT DEFAULT ?`" in text and "42`" not in text
    assert "explains column added D" in text and "EVE" not in text
    assert poll(tmp_path, seed) == []
    with Store.open(f"sqlite:///{tmp_path}/state.db") as store:
        found = store.get_artifact(ARTIFACT, "sc")
        assert found is not None and found[2]["changes"] == []


def test_an_unattributed_change_is_forgotten_after_the_latency(
        seed: DbApiSeeder, tmp_path: Path) -> None:
    seed.execute('CREATE TABLE {schema}."features" (a INTEGER)')
    assert poll(tmp_path, seed) == []
    alter(seed, 'ALTER TABLE {schema}."features" ADD COLUMN e INTEGER', "CAROL", NOW)
    (reported,) = poll(tmp_path, seed)
    assert "Changed by: `CAROL` (the catalog's last DDL" in reported["text"]
    later = NOW + timedelta(hours=3, minutes=1)
    history(seed, "q3", NOW - timedelta(minutes=1),
            'ALTER TABLE "wd_test"."features" ADD COLUMN e INT')
    assert poll(tmp_path, seed, later) == []  # expired silently
    assert poll(tmp_path, seed, later) == []
