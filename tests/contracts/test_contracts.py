"""Contract files (parsing, problems as file:line) and contract monitors run end to end on
real DuckDB (and Postgres) tables: missing tables and columns, both scan modes, routing,
metrics, service checks and the open/recover event lifecycle."""

from __future__ import annotations

import json
import math
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.helpers import database
from watchdog.contracts import contracts_for, lint
from watchdog.daemon.runner import Runner
from watchdog.errors import ConfigError
from watchdog.load import load_config
from watchdog.models import Status
from watchdog.sinks.jsonl import JsonlSink
from watchdog.state import Store

NOW = datetime(2026, 3, 2, tzinfo=UTC)
CONFIG = """\
warehouses:
  wh: {type: duckdb, settings: {path: "%s"}}
ownership:
  teams:
    data-platform: {datadog: ["@slack-data"]}
    churn-ml: {datadog: ["@slack-churn"]}
  models:
    churn_model: {team: churn-ml}
"""
CONTRACT = """\
warehouse: wh
table: %s.users
owner: data-platform
consumers:
  - model: churn_model
    columns: [age]
scan: %s
columns:
  id: {dtype: int64, unique: true}
  age:
    dtype: float64
    nullable: true
    checks:
      in_range: {min_value: 0, max_value: 130}
  country:
    dtype: str
    checks:
      isin: [US, FR]
      str_matches: '[A-Z]{2}'
checks:
  row_count: {min: 1, max: 1000}
  unique:
    - [country, age]
"""


def write(tmp: Path, config: str, contracts: dict[str, str]) -> Path:
    (tmp / "contracts").mkdir(exist_ok=True)
    (tmp / "config.yaml").write_text(config)
    for name, text in contracts.items():
        (tmp / "contracts" / name).write_text(textwrap.dedent(text))
    return tmp / "config.yaml"


def problems(tmp: Path, contract: str, path: str = "/nonexistent.duckdb") -> list[str]:
    cfg = write(tmp, CONFIG % path, {"c.yaml": contract})
    with pytest.raises(ConfigError) as err:
        load_config(cfg, {})
    return [str(p) for p in err.value.problems]


@pytest.mark.parametrize(("change", "want"), [
    (("in_range:", "in_rnage:"),
     "contracts/c.yaml:14: columns.age.checks.in_rnage: unknown check (did you mean in_range?)"),
    (("scan:", "scna:"), "contracts/c.yaml:7: scna: unknown key (did you mean scan?)"),
    (("dtype: float64", "dtype: flaot64"), "unknown dtype 'flaot64' (did you mean float64?)"),
    (("'[A-Z]{2}'", "'[A-Z'"), "columns.country.checks.str_matches: invalid regular expression"),
    (("warehouse: wh", "warehouse: wj"), "c.yaml:1: warehouse: 'wj' is not defined under "
                                         "warehouses (defined: wh)"),
    (("model: churn_model", "model: churn"), "consumers[0].model: 'churn' is not defined"),
    (("- [country, age]", "- [country, agee]"), "checks.unique names columns not under"),
    (("columns: [age]", "columns: [aeg]"), "consumers[0].columns: columns not under columns"),
    (("owner: data-platform", "owner: [oops"), "contracts/c.yaml:4: invalid YAML"),
    (("owner: data-platform", "owner: data-platform\nowner: ml"),
     "contracts/c.yaml:4: owner: duplicate key 'owner', first written at line 3"),
])
def test_malformed_contracts_are_reported_at_file_and_line(
        tmp_path: Path, change: tuple[str, str], want: str) -> None:
    text = CONTRACT.replace(*change)
    text = text % ("main", "full") if "%s" in text else text.replace("%s.users", "main.users")
    found = problems(tmp_path, text)
    assert any(want in p for p in found), found


def seed_users(engine: sa.Engine, schema: str, rows: list[dict[str, Any]]) -> None:
    with engine.begin() as con:
        con.execute(sa.text(f'CREATE TABLE "{schema}".users '
                            "(id BIGINT, age DOUBLE PRECISION, country VARCHAR(8))"))
        con.execute(sa.text(f'INSERT INTO "{schema}".users VALUES (:id, :age, :country)'), rows)


ROWS = [{"id": 1, "age": 30.0, "country": "US"}, {"id": 2, "age": math.nan, "country": "FR"},
        {"id": 2, "age": None, "country": "FR"}, {"id": 3, "age": -4.0, "country": "us"},
        {"id": 4, "age": 200.0, "country": "DE"}, {"id": 5, "age": 30.0, "country": "US"},
        {"id": 6, "age": 41.0, "country": None}]
#: Failing rows per (column, check), computed by hand from ROWS.
WANT = {("id", "unique"): 1, ("age", "in_range"): 2, ("country", "isin"): 2,
        ("country", "str_matches"): 1, ("country", "not_null"): 1, ("id", "not_null"): 0,
        ("country,age", "unique"): 1}


def run_contract(tmp: Path, kind: str, scan: str, rows: list[dict[str, Any]]) -> tuple[Any, ...]:
    tmp.mkdir(parents=True, exist_ok=True)
    with database(kind, tmp) as (engine, block, schema):
        seed_users(engine, schema, rows)
        cfg = CONFIG.replace('{type: duckdb, settings: {path: "%s"}}', json.dumps(block))
        config = load_config(write(tmp, cfg, {"users.yaml": CONTRACT % (schema, scan)}), {})
        store = Store.open(f"sqlite:///{tmp / 'state.db'}")
        sink = JsonlSink(JsonlSink.Settings(path=str(tmp / "out.jsonl")))
        runner = Runner(config, store, [sink], clock=lambda: NOW)
        try:
            result = runner.check(config.monitor("users"))
            emission = runner.process(result)
        finally:
            runner.close()
        return result, emission, config


def failures(result: Any) -> dict[tuple[str, str], float]:
    out = {}
    for m in result.metrics:
        if m.name == "watchdog.contract.failures":
            tags = dict(t.split(":", 1) for t in m.tags)
            out[(tags["column"], tags["check"])] = m.value
    return out


@pytest.mark.parametrize("kind", ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_both_scan_modes_report_the_same_failures(tmp_path: Path, kind: str) -> None:
    full, emission, config = run_contract(tmp_path / "full", kind, "full", ROWS)
    sample, _, _ = run_contract(tmp_path / "sample", kind, "sample", ROWS)
    assert full.status is sample.status is Status.FAIL
    got = failures(full)
    assert {k: got[k] for k in WANT} == WANT
    assert failures(sample) == got
    assert got[("-", "row_count")] == 0
    assert "CONTRACT_CHECK_FAILED" in full.reasons
    rates = {m.value for m in full.metrics if m.name == "watchdog.contract.failure_rate"
             and "check:in_range" in m.tags}
    assert rates == {round(2 / len(ROWS), 6)}
    (event,) = emission.events
    assert "@slack-data" in event.text and "@slack-churn" in event.text
    assert "contract:users" in event.tags
    assert {s.name for s in emission.service_checks} == {"watchdog.monitor", "watchdog.contract"}
    info = contracts_for(config, "wh", "users")
    assert [(i.id, i.not_null, i.consumers) for i in info] == [
        ("users", ("id", "country"), (("churn_model", ("age",)),))]


def test_clean_table_holds_and_recovery_is_announced(tmp_path: Path) -> None:
    with database("duckdb", tmp_path) as (engine, block, schema):
        seed_users(engine, schema, ROWS)
        config = load_config(write(tmp_path, CONFIG % block["settings"]["path"],
                                   {"users.yaml": CONTRACT % (schema, "full")}), {})
        store = Store.open(f"sqlite:///{tmp_path / 'state.db'}")
        runner = Runner(config, store, [], clock=lambda: NOW)
        first = runner.process(runner.check(config.monitor("users")))
        with engine.begin() as con:
            con.execute(sa.text(f'DELETE FROM "{schema}".users WHERE id <> 1'))
        result = runner.check(config.monitor("users"))
        recovering = runner.process(result)  # alerting.recover_after: 2 clean runs
        second = runner.process(runner.check(config.monitor("users")))
        runner.close()
    assert result.status is Status.OK and "holds" in result.summary
    assert [e.alert_type for e in first.events] == ["error"]
    assert recovering.events == ()
    assert [e.alert_type for e in second.events] == ["success"]
    assert second.events[0].title.startswith("[RECOVERED] users")


def test_missing_table_column_and_wrong_dtype_are_said_plainly(tmp_path: Path) -> None:
    with database("duckdb", tmp_path) as (engine, block, schema):
        path = block["settings"]["path"]
        contract = CONTRACT.replace("dtype: str", "dtype: int64").replace(
            "id: {dtype: int64, unique: true}", "id: {dtype: int64, unique: true}\n  email: {}")
        config = load_config(write(tmp_path, CONFIG % path, {
            "users.yaml": contract % (schema, "full"),
            "ghost.yaml": (CONTRACT % (schema, "full")).replace("users", "ghosts")}), {})
        seed_users(engine, schema, ROWS)
        runner = Runner(config, Store.open(f"sqlite:///{tmp_path / 's.db'}"), [],
                        clock=lambda: NOW)
        ghost, users = runner.check(config.monitor("ghost")), runner.check(config.monitor("users"))
        lines, count = lint(config)
        runner.close()
    assert ghost.status is Status.FAIL and ghost.reasons == ("TABLE_MISSING",)
    assert "main.ghosts does not exist" in ghost.summary
    assert {"COLUMN_MISSING", "DTYPE_MISMATCH"} <= set(users.reasons)
    assert "column email is missing" in users.summary
    assert "column country is VARCHAR, the contract says int64" in users.summary
    assert count == 2 and len(lines) == 3
    assert any(":10: columns.email: column email is missing" in x for x in lines)
    assert any("ghost.yaml" in x and "table: main.ghosts does not exist" in x for x in lines)


def test_python_contract_runs_a_dataframe_model_on_a_sample(tmp_path: Path) -> None:
    model = '''
        import pandera.pandas as pa
        from pandera.typing import Series

        CONTRACT = {"warehouse": "wh", "table": "main.users", "owner": "data-platform"}

        class Users(pa.DataFrameModel):
            age: Series[float] = pa.Field(nullable=True, ge=0)
            country: Series[str] = pa.Field(nullable=True)

            @pa.check("country", name="two_letters")
            def two_letters(cls, s):
                return s.isna() | (s.str.len() == 2)
    '''
    with database("duckdb", tmp_path) as (engine, block, schema):
        seed_users(engine, schema, ROWS + [{"id": 9, "age": 1.0, "country": "USA"}])
        config = load_config(write(tmp_path, CONFIG % block["settings"]["path"],
                                   {"users.py": model}), {})
        runner = Runner(config, Store.open(f"sqlite:///{tmp_path / 's.db'}"), [],
                        clock=lambda: NOW)
        result = runner.check(config.monitor("users"))
        runner.close()
    assert result.status is Status.FAIL, result.summary
    got = failures(result)
    assert got[("age", "greater_than_or_equal_to(0)")] == 1
    assert got[("country", "two_letters")] == 1


@pytest.mark.parametrize(("bounds", "want"), [("{min: 10}", "7 rows, the contract wants 10..∞"),
                                              ("{max: 0}", "7 rows, the contract wants 0..0")])
def test_row_count_bounds_are_stated_as_written(tmp_path: Path, bounds: str, want: str) -> None:
    with database("duckdb", tmp_path) as (engine, block, schema):
        seed_users(engine, schema, ROWS)
        contract = (CONTRACT % (schema, "full")).replace("{min: 1, max: 1000}", bounds)
        config = load_config(write(tmp_path, CONFIG % block["settings"]["path"],
                                   {"users.yaml": contract}), {})
        runner = Runner(config, Store.open(f"sqlite:///{tmp_path / 's.db'}"), [],
                        clock=lambda: NOW)
        result = runner.check(config.monitor("users"))
        runner.close()
    assert "ROW_COUNT_OUT_OF_BOUNDS" in result.reasons
    assert f"{schema}.users: {want}" in result.summary
