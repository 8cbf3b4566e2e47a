"""Golden SQL: every query of every adapter, rendered offline through the path that runs.

``tests/warehouses/golden/<adapter>/<query>.sql`` holds the SQL (in SQLAlchemy ``text()``
form) after a ``-- params:`` line with the bind values. Each file is also parsed by sqlglot
in the adapter's dialect, as a lint. To accept changes::

    WATCHDOG_UPDATE_GOLDEN=1 pytest tests/warehouses/test_golden.py
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from sqlglot import exp

from watchdog.errors import InvalidIdentifier
from watchdog.models import BacktestSpec, Predicate, Rule, TableRef
from watchdog.warehouses import available, create, get_class
from watchdog.warehouses.sqlbase import SqlWarehouse

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("WATCHDOG_UPDATE_GOLDEN") == "1"
#: Settings that construct each adapter without touching anything.
OFFLINE_SETTINGS: dict[str, dict[str, Any]] = {
    "duckdb": {},
    "sqlite": {"path": "golden.sqlite"},
    "postgres": {"host": "localhost", "database": "analytics"},
    "bigquery": {"project": "test-proj", "datasets": ["analytics", "other-proj.ml"]},
    "snowflake": {"account": "acme-prod", "user": "watchdog", "password": "x",
                  "database": "ANALYTICS"},
    "redshift": {"host": "localhost", "database": "analytics", "user": "watchdog",
                 "password": "x"},
}
EVENTS = TableRef(schema="analytics", name="events")
START = datetime(2026, 3, 1, tzinfo=UTC)
#: Contract checks rendered by contract_failures / failure_examples (see rulesql.py).
CONTRACT_RULES = [
    Rule(check="not_null", columns=("score",), family="float"),
    Rule(check="in_range", columns=("score",), family="float",
         args={"min_value": 0, "max_value": 1, "include_min": True, "include_max": False}),
    Rule(check="isin", columns=("status",), family="string", args={"values": ("ok", "retry")}),
    Rule(check="str_length", columns=("model",), family="string",
         args={"min_value": 1, "max_value": 40}),
    Rule(check="unique", columns=("id",), family="integer"),
    Rule(check="unique_combination", columns=("model", "ts"), family="other"),
]
#: The arguments each query is rendered with; a new query needs an entry here.
ARGS: dict[str, dict[str, Any]] = {
    "ping": {},
    "schema_version": {},
    "columns": {"tables": [EVENTS, TableRef(schema="analytics", name="Users")]},
    "schema_columns": {"patterns": [EVENTS, TableRef(schema="analytics", name="feat_*")]},
    "schema_fingerprints": {"patterns": [EVENTS, TableRef(schema="analytics", name="feat_*")]},
    "last_ddl": {"tables": [EVENTS, TableRef(schema="analytics", name="Users")]},
    "audit_events": {"since": 41, "limit": 5000},
    "audit_objects": {"query_ids": ["01b2c3d4-0000-0001", "01b2c3d4-0000-0002"],
                      "since": 1772323200000000},
    "audit_ddltext": {"since": 41, "limit": 5000},
    "schema_version_ddltext": {},
    "syslog_access": {},
    "own_access": {"tables": [EVENTS, TableRef(schema="analytics", name="Users")]},
    "access": {"principals": ["churn_svc", "Reporting"],
               "tables": [EVENTS, TableRef(schema="analytics", name="Users")],
               "privileges": ["select", "insert"]},
    "principal_grants": {"databases": ["ANALYTICS", "other"]},
    "revoke_events": {"since": START, "limit": 5000},
    "revoke_utilitytext": {"since": START, "limit": 5000},
    "revoke_jobs": {"hours": 24, "limit": 5000},
    "inherited_roles": {"principal": "churn_svc", "roles": ["readers", "Reporting"]},
    "count_rows": {
        "table": EVENTS, "time_column": "ts", "start": START, "end": START + timedelta(days=1),
        "bucket": timedelta(hours=1),
        "where": [Predicate(column="status", op="in", value=["ok", "retry"]),
                  Predicate(column="model", op="!=", value="shadow")],
    },
    "newest": {"table": EVENTS, "time_column": "ts",
               "where": [Predicate(column="ts", op=">=", value=START)]},
    "sample": {"table": EVENTS, "columns": ["id", "score"], "limit": 100,
               "where": [Predicate(column="score", op="is not null")]},
    "histogram": {"table": EVENTS, "column": "score", "edges": [0.0, 0.25, 0.5, 1.0],
                  "where": [Predicate(column="model", op="=", value="churn")]},
    "contract_failures": {"table": EVENTS, "rules": CONTRACT_RULES,
                          "where": [Predicate(column="ts", op=">=", value=START)]},
    "contract_scan": {"table": EVENTS, "rules": CONTRACT_RULES, "examples": [0, 5, 5, 5, 5, 0],
                      "where": [Predicate(column="ts", op=">=", value=START)]},
    "failure_examples": {"table": EVENTS, "rules": CONTRACT_RULES, "limit": 5,
                         "where": [Predicate(column="ts", op=">=", value=START)]},
    "histograms": {"table": EVENTS, "edges": {"score": [0.0, 0.5, 1.0], "age": [18.0, 65.0]},
                   "where": [Predicate(column="ts", op=">=", value=START)]},
    "top_values": {"table": EVENTS, "column": "plan", "limit": 20,
                   "where": [Predicate(column="ts", op=">=", value=START)]},
    "value_counts": {"table": EVENTS, "values": {"plan": ["basic", "pro"], "status": ["ok"]},
                     "where": [Predicate(column="ts", op=">=", value=START)]},
    "abs_means": {"table": EVENTS, "columns": ["shap_age", "shap_plan"],
                  "where": [Predicate(column="ts", op=">=", value=START)]},
    "extremes": {"table": EVENTS, "columns": ["score", "age"],
                 "where": [Predicate(column="ts", op=">=", value=START)]},
    "ks_counts": {"table": EVENTS, "grids": {"score": (0.5, 0.25, 20000), "age": (40.0, 12.0, 100)},
                  "where": [Predicate(column="ts", op=">=", value=START)], "moments": True},
    "count_successes": {
        "table": EVENTS, "time_column": "ts", "start": START, "end": START + timedelta(days=1),
        "window": timedelta(hours=1), "group_by": ["model", "model version"],
        "success": [Predicate(column="status", op="in", value=["ok", "cached"]),
                    Predicate(column="latency_ms", op="<", value=500)],
        "where": [Predicate(column="env", op="=", value="prod")],
        "time_type": "timestamp",  # a naive TIMESTAMP column: naive UTC binds (typed adapters)
    },
    "backtest": {
        "spec": BacktestSpec(
            predictions=EVENTS, labels=TableRef(schema="analytics", name="labels"),
            time_column="ts", key=("id", "model"), label_key=("event_id", "model"),
            score="score", label="churned", threshold=0.4, group_by=("model version",),
            label_time="observed_at"),
        "start": START, "end": START + timedelta(days=3), "window": timedelta(days=1),
    },
}


def _sql_classes() -> dict[str, type[SqlWarehouse]]:
    """The available adapters that render SQL, by name."""
    classes = {n: get_class(n) for n in available()}
    return {n: c for n, c in classes.items() if issubclass(c, SqlWarehouse)}


def _adapters() -> list[str]:
    return sorted(_sql_classes())


def _cases() -> list[tuple[str, str]]:
    return [(n, q) for n, cls in _sql_classes().items() for q in cls.queries()]


def _adapter(type_name: str) -> SqlWarehouse:
    wh = create("golden", type_name, OFFLINE_SETTINGS.get(type_name, {}))
    assert isinstance(wh, SqlWarehouse)
    return wh


def rendered(type_name: str, query: str) -> str:
    assert query in ARGS, f"add fixed arguments for the new query {query!r} to ARGS"
    stmt = _adapter(type_name).render(query, **ARGS[query])
    params = ", ".join(f"{k}={v!r}" for k, v in sorted(stmt.params.items())) or "(none)"
    return f"-- params: {params}\n{stmt.sql}\n"


@pytest.mark.parametrize(("type_name", "query"), _cases())
def test_rendered_sql_matches_golden(type_name: str, query: str) -> None:
    path = GOLDEN / type_name / f"{query}.sql"
    text = rendered(type_name, query)
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"no golden file {path}; run with WATCHDOG_UPDATE_GOLDEN=1"
    assert text == path.read_text(), f"{path} differs; if intended, WATCHDOG_UPDATE_GOLDEN=1"


@pytest.mark.parametrize(("type_name", "query"), _cases())
def test_golden_sql_parses_in_its_dialect(type_name: str, query: str) -> None:
    path = GOLDEN / type_name / f"{query}.sql"
    sql = path.read_text().replace("\\:", ":")  # text() form -> plain SQL
    dialect = _sql_classes()[type_name].DIALECT
    statements = sqlglot.parse(sql, read=dialect, error_level=sqlglot.ErrorLevel.RAISE)
    assert len([s for s in statements if s is not None]) == 1


def test_no_stale_golden_files() -> None:
    expected = {GOLDEN / n / f"{q}.sql" for n, q in _cases()}
    ours = set(_adapters())
    stale = [p for p in GOLDEN.glob("*/*.sql") if p not in expected and p.parent.name in ours]
    if UPDATE:
        for p in stale:
            p.unlink()
        stale = []
    assert not stale, f"golden files for queries that no longer exist: {stale}"


@pytest.mark.parametrize("type_name", _adapters())
@pytest.mark.parametrize("name", ['t" ; drop table y; --', "t` ; drop table y; --",
                                  "a:b %s %(x)s ?", "y'); drop table y; --"])
def test_identifiers_stay_identifiers(type_name: str, name: str) -> None:
    wh = _adapter(type_name)
    sql = wh.render("newest", table=TableRef(schema="s", name=name), time_column=name).sql
    statements = sqlglot.parse(sql.replace("\\:", ":"), read=wh.DIALECT)
    assert len(statements) == 1 and statements[0] is not None
    tables = list(statements[0].find_all(exp.Table))
    assert [t.name for t in tables] == [name]
    assert [c.name for c in statements[0].find_all(exp.Column)] == [name]
    with pytest.raises(InvalidIdentifier):
        wh.quote("")


NASTY_NAMES = ["a", 'we"ird %:name', "back`tick", "back\\slash", "ü", "model version", "''",
               '"', "`", "a.b", "--x", "x;DROP"]


@pytest.mark.parametrize("name", available())
def test_quoting_is_what_sqlglot_writes_for_the_dialect(name: str) -> None:
    wh = create("w", name, OFFLINE_SETTINGS[name])
    assert isinstance(wh, SqlWarehouse)
    dialect = "mysql" if name == "sqlite" else wh.DIALECT  # SQLite: backticks, always names
    for ident in NASTY_NAMES:
        expected = exp.to_identifier(ident, quoted=True).sql(dialect=dialect)
        assert wh.quote(ident) == expected.replace(":", "\\:"), ident
