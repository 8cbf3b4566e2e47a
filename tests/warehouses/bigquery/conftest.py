"""Fixtures: the loopback BigQuery stand-in with the recordings, and adapters pointed at it."""

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


def golden_sql(query: str) -> str:
    """The BigQuery SQL of ``query`` as checked in (without its ``-- params:`` line)."""
    text = (GOLDEN / "bigquery" / f"{query}.sql").read_text()
    return text.split("\n", 1)[1]


def load_recordings(fake: FakeBigQuery) -> None:
    """Every recording, keyed by the golden SQL of the query it answers."""
    for path in sorted(RECORDINGS.glob("*.json")):
        rec = json.loads(path.read_text())
        fake.record(golden_sql(rec.pop("golden")), rec)


@pytest.fixture
def fake() -> Iterator[tuple[FakeBigQuery, str]]:
    """``(fake, base URL)``: a fresh stand-in serving the recordings."""
    state = FakeBigQuery()
    load_recordings(state)
    server, url = serve(state)
    try:
        yield state, url
    finally:
        server.shutdown()
        server.server_close()


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
