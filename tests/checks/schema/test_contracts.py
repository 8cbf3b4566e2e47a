"""The schema monitor reads the table's data contracts: not-null promises make a column that
turns nullable breaking, contract consumers count as readers, and the contract owner is told.
End to end on real DuckDB and Postgres, with a contract file in the folder that config.yaml's
``contracts:`` key names."""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.helpers import database, yaml_block
from watchdog.daemon.runner import Runner
from watchdog.load import load_config
from watchdog.models import CheckResult, Status
from watchdog.sinks import create as create_sink
from watchdog.state import Store

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
CONFIG = """\
warehouses:
  wh:
{wh}
contracts: promises
ownership:
  teams:
    ml: {{datadog: ["@slack-ml"]}}
    bi: {{datadog: ["@slack-bi"]}}
    data: {{datadog: ["@slack-data-owner"]}}
  models:
    churn: {{team: ml}}
    report: {{team: bi, reads: [{{table: {schema}.features, columns: [note]}}]}}
sinks: {{}}
monitors:
  - id: sc
    kind: schema
    warehouse: wh
    tables: ["{schema}.features"]
"""
CONTRACT = """\
id: features_contract
warehouse: wh
table: {schema}.features
owner: data
consumers:
  - model: churn
    columns: [score, label]
columns:
  id: {{dtype: int64}}
  score: {{dtype: float64}}
  label: {{dtype: int64, nullable: true}}
  note: {{dtype: str, nullable: true}}
"""


def _poll(tmp_path: Path, wh: dict[str, Any], schema: str) -> tuple[CheckResult, list[dict]]:
    folder = tmp_path / "promises"
    folder.mkdir(exist_ok=True)
    (folder / "features.yaml").write_text(textwrap.dedent(CONTRACT.format(schema=schema)))
    (tmp_path / "config.yaml").write_text(CONFIG.format(wh=yaml_block(wh, 4), schema=schema))
    config = load_config(tmp_path / "config.yaml", {})
    sink = create_sink("jsonl", {"path": str(tmp_path / "out.jsonl")})
    runner = Runner(config, Store.open(f"sqlite:///{tmp_path}/state.db"), [sink],
                    clock=lambda: NOW)
    try:
        (result,) = runner.run_pass(["sc"])
    finally:
        runner.close()
    out = tmp_path / "out.jsonl"
    records = [json.loads(x) for x in out.read_text().splitlines()] if out.exists() else []
    out.unlink(missing_ok=True)
    return result, [r for r in records if r["type"] == "event"]


def _ddl(engine: sa.Engine, *statements: str) -> None:
    with engine.begin() as con:
        for sql in statements:
            con.execute(sa.text(sql))


@pytest.mark.parametrize("kind", ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_contract_not_null_and_consumers_decide_the_impact(kind: str, tmp_path: Path) -> None:
    with database(kind, tmp_path) as (engine, wh, schema):
        s = f'"{schema}"'
        _ddl(engine, f"CREATE TABLE {s}.features (id INTEGER NOT NULL, score DOUBLE PRECISION "
             "NOT NULL, label INTEGER, note TEXT NOT NULL, extra TEXT NOT NULL)")
        assert _poll(tmp_path, wh, schema)[1] == []  # the baseline
        # score: the contract says not null and churn (a consumer only) reads it
        _ddl(engine, f"ALTER TABLE {s}.features ALTER COLUMN score DROP NOT NULL")
        result, (event,) = _poll(tmp_path, wh, schema)
        assert result.status is Status.FAIL and event["alert_type"] == "error"
        (finding,) = [f for f in result.findings if f.reason == "NULLABILITY_CHANGED"]
        assert finding.details["breaks"] == ["churn"]
        assert finding.details["contracts"] == ["features_contract"]
        text = event["text"]
        assert "**churn** (team ml): **BREAKING**: nullability changed score @slack-ml" in text
        assert "**report** (team bi): not affected" in text  # reads note only
        assert "`features_contract`" in text and "**BREACHED**: nullability changed score" in text
        assert "@slack-data-owner" in text
        assert {"team:data", "contract:features_contract", "model:churn"} <= set(event["tags"])

        # note: nullable in the contract, so harmless to report although report reads it;
        # extra: no contract promise and no reader
        _ddl(engine, f"ALTER TABLE {s}.features ALTER COLUMN note DROP NOT NULL",
             f"ALTER TABLE {s}.features ALTER COLUMN extra DROP NOT NULL")
        result, (event,) = _poll(tmp_path, wh, schema)
        assert result.status is Status.WARN and event["alert_type"] == "warning"
        assert "`features_contract`" in event["text"] and "holds" in event["text"]
        assert "BREAKING" not in event["text"]

        # a column a consumer reads is dropped: breaks churn through the contract alone
        _ddl(engine, f"ALTER TABLE {s}.features DROP COLUMN label")
        result, (event,) = _poll(tmp_path, wh, schema)
        assert event["alert_type"] == "error"
        assert "**churn** (team ml): **BREAKING**: column dropped label" in event["text"]
        assert "**report** (team bi): not affected" in event["text"]
