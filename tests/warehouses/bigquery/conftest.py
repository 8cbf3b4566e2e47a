"""Fixtures: the loopback BigQuery stand-in with the recordings and the tables' schemas, and
adapters pointed at it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.warehouses.bigquery.fake_server import FakeBigQuery, serve
from tests.warehouses.test_golden import GOLDEN, OFFLINE_SETTINGS
from watchdog.warehouses import Warehouse, create

RECORDINGS = Path(__file__).parent / "recordings"
#: What tables.get serves: the tables the recordings and tests compare time values in.
TABLES: dict[str, list[list[Any]]] = {
    "test-proj.analytics.events": [
        ["id", "INTEGER"], ["ts", "TIMESTAMP"], ["score", "FLOAT"], ["status", "STRING"],
        ["model", "STRING"], ["model version", "STRING"], ["plan", "STRING"],
        ["latency_ms", "INTEGER"], ["env", "STRING"], ["a", "FLOAT"], ["b", "FLOAT"],
        ["shap_a", "FLOAT"], ["shap_b", "FLOAT"], ["shap_age", "FLOAT"], ["shap_plan", "FLOAT"],
        ["ctx", "RECORD", [["device", "STRING"], ["version", "INTEGER"]]]],
    # a prediction log written with a wall-clock (DATETIME) time column, and one per day
    "test-proj.analytics.predictions": [
        ["id", "INTEGER"], ["ts", "DATETIME"], ["status", "STRING"], ["model", "STRING"]],
    "test-proj.analytics.daily": [["day", "DATE"], ["model", "STRING"]],
}


def golden_sql(query: str) -> str:
    """The BigQuery SQL of ``query`` as checked in (without its ``-- params:`` line)."""
    text = (GOLDEN / "bigquery" / f"{query}.sql").read_text()
    return text.split("\n", 1)[1]


def load_recordings(fake: FakeBigQuery) -> None:
    """Every recording, keyed by the golden SQL of the query it answers."""
    for path in sorted(RECORDINGS.glob("*.json")):
        rec = json.loads(path.read_text())
        sql, params = golden_sql(rec.pop("golden")), rec.pop("params")
        fake.record(sql, rec, params)


@pytest.fixture
def fake() -> Iterator[tuple[FakeBigQuery, str]]:
    """``(fake, base URL)``: a fresh stand-in serving the recordings and :data:`TABLES`; the
    test fails if any query came with parameters other than its recording's."""
    state = FakeBigQuery()
    load_recordings(state)
    for table_id, fields in TABLES.items():
        state.add_table(table_id, fields)
    server, url = serve(state)
    try:
        yield state, url
    finally:
        server.shutdown()
        server.server_close()
    assert not state.mismatches, "\n".join(state.mismatches)


def settings_for(url: str, **overrides: Any) -> dict[str, Any]:
    """The golden settings (so rendered SQL equals the golden files), at the stand-in."""
    return {**OFFLINE_SETTINGS["bigquery"], "api_endpoint": url, "anonymous": True,
            "timeout": 5, **overrides}


@pytest.fixture
def bq(fake: tuple[FakeBigQuery, str]) -> Iterator[Warehouse]:
    """A BigQuery adapter (through the registry) on the stand-in."""
    wh = create("bq", "bigquery", settings_for(fake[1]))
    try:
        yield wh
    finally:
        wh.close()
