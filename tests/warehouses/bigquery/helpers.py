"""Builders for the BigQuery tests that run monitors through the Runner on the stand-in: the
config around them, recordings of the queries a check sends, and the requests received."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.helpers import config_from, yaml_block
from tests.warehouses.bigquery.conftest import settings_for
from tests.warehouses.bigquery.fake_server import FakeBigQuery
from watchdog.config.models import Config
from watchdog.daemon.runner import Runner
from watchdog.models import TableRef
from watchdog.sinks import create as create_sink
from watchdog.state import Store
from watchdog.warehouses import create
from watchdog.warehouses.bigquery import BigQuery

Fake = tuple[FakeBigQuery, str]
Params = Mapping[str, Sequence[Any]]
HEAD = """\
env: test
warehouses:
  bq:
    type: bigquery
    settings:
{settings}
ownership:
  teams:
    data-platform: {{datadog: ["@slack-data"]}}
sinks: {{}}
monitors:
"""
COLUMN_SCHEMA = [["table_schema", "STRING"], ["table_name", "STRING"],
                 ["column_name", "STRING"], ["data_type", "STRING"], ["nullable", "BOOLEAN"]]


def record(fake: FakeBigQuery, sql: str, schema: Sequence[Sequence[str]],
           rows: Sequence[Sequence[Any]], params: Params, also: bool = False) -> None:
    """Serve ``rows`` (values as the REST API sends them: text or null) for ``sql`` sent with
    exactly ``params`` (``{name: [type, wire value]}``, see ``fake_server``); ``also`` keeps
    what ``sql`` was recorded with for other parameters."""
    fake.record(sql, {"schema": [list(f) for f in schema], "bytes": 1_000_000,
                      "rows": [[None if v is None else str(v) for v in row] for row in rows]},
                {k: list(v) for k, v in params.items()}, also=also)


def names(*tables: str) -> dict[str, list[Any]]:
    """The parameter of a metadata query over tables of one dataset."""
    return {"tables_0": ["ARRAY<STRING>", list(tables)]}


def columns_rows(table: TableRef, cols: Sequence[tuple[str, str, bool]]) -> list[list[Any]]:
    return [[table.schema, table.name, name, kind, str(nullable).lower()]
            for name, kind, nullable in cols]


def setup(fake: Fake, tmp_path: Path, monitors: str,
          contracts: dict[str, str] | None = None) -> tuple[BigQuery, Config]:
    """An adapter on the stand-in (to render the SQL to record) and the monitors' config."""
    settings = settings_for(fake[1])
    for name, text in (contracts or {}).items():
        (tmp_path / "contracts").mkdir(exist_ok=True)
        (tmp_path / "contracts" / name).write_text(textwrap.dedent(text))
    text = HEAD.format(settings=yaml_block(settings, 6)) + textwrap.indent(monitors, "  ")
    wh = create("bq", "bigquery", settings)
    assert isinstance(wh, BigQuery)
    return wh, config_from(tmp_path, text)


def runner_for(config: Config, tmp_path: Path, now: datetime) -> Runner:
    """A fresh Runner (as after a restart) on the same state database, at ``now``."""
    sink = create_sink("jsonl", {"path": str(tmp_path / "out.jsonl")})
    clock: Callable[[], datetime] = lambda: now  # noqa: E731
    return Runner(config, Store.open(f"sqlite:///{tmp_path}/state.db"), [sink], clock=clock)


def sent(fake: FakeBigQuery) -> list[str]:
    """The SQL of the real (not dry-run) queries the client sent, in order."""
    return [r.body["query"] for r in fake.queries() if r.path.endswith("/queries")]


def sent_params(fake: FakeBigQuery, sql: str) -> list[dict[str, Any]]:
    """The ``queryParameters`` of each real run of ``sql``, as sent."""
    return [r.body.get("queryParameters", []) for r in fake.queries()
            if r.path.endswith("/queries") and r.body["query"] == sql]
