"""The schema monitor end to end on real DuckDB, SQLite and Postgres: runner, state, events."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.helpers import config_from, database, yaml_block
from watchdog.daemon.runner import Runner
from watchdog.models import CheckResult, Status
from watchdog.sinks import create as create_sink
from watchdog.state import Store

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
EVIL = 'x"; DROP TABLE features; --'

TEMPLATE = """\
env: test
warehouses:
  wh:
{wh}
ownership:
  teams:
    ml: {{datadog: ["@slack-ml"]}}
    bi: {{datadog: ["@slack-bi"]}}
  models:
    churn: {{team: ml, reads: [{{table: {schema}.features, columns: [a, b]}}]}}
    report: {{team: bi, reads: [{{table: {schema}.features, columns: [z]}}]}}
sinks: {{}}
monitors:
  - id: sc
    kind: schema
    warehouse: wh
    tables: ["{schema}.features", "{schema}.feat_*", {evil}]
"""


def runner(tmp_path: Path, wh: dict[str, Any], schema: str) -> Runner:
    """A fresh Runner (as after a restart) on the same state database."""
    text = TEMPLATE.format(wh=yaml_block(wh, 4), schema=schema,
                           evil=json.dumps(f"{schema}.{EVIL}"))
    sink = create_sink("jsonl", {"path": str(tmp_path / "out.jsonl")})
    return Runner(config_from(tmp_path, text), Store.open(f"sqlite:///{tmp_path}/state.db"),
                  [sink], clock=lambda: NOW)


def poll(tmp_path: Path, wh: dict[str, Any], schema: str) -> tuple[CheckResult, list[dict]]:
    r = runner(tmp_path, wh, schema)
    try:
        (result,) = r.run_pass()
    finally:
        r.close()
    path = tmp_path / "out.jsonl"
    records = [json.loads(x) for x in path.read_text().splitlines()]
    path.unlink()
    return result, [x for x in records if x["type"] == "event"]


def ddl(engine: sa.Engine, *statements: str) -> None:
    with engine.begin() as con:
        for sql in statements:
            con.execute(sa.text(sql))


BACKENDS = ["duckdb", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.mark.parametrize("kind", BACKENDS)
def test_changes_are_reported_once_with_impact_per_model(kind: str, tmp_path: Path) -> None:
    with database(kind, tmp_path) as (engine, wh, schema):
        s = f'"{schema}"'
        ddl(engine, f"CREATE TABLE {s}.features (a INTEGER, b INTEGER, c TEXT, z TEXT)",
            f"CREATE TABLE {s}.other (id INTEGER)")
        first, events = poll(tmp_path, wh, schema)
        assert first.status is Status.WARN and events == []  # baseline; the evil name is absent
        assert [f.reason for f in first.findings] == ["TABLE_NOT_FOUND"]
        assert EVIL in first.findings[0].message
        ddl(engine, f"ALTER TABLE {s}.features RENAME COLUMN b TO b2",
            f"ALTER TABLE {s}.features ADD COLUMN d TEXT",
            f"CREATE TABLE {s}.feat_new (id INTEGER)", f"ALTER TABLE {s}.other ADD COLUMN x TEXT")
        result, events = poll(tmp_path, wh, schema)
        assert result.status is Status.FAIL and "breaks churn" in result.summary
        by_table = {e["aggregation_key"]: e for e in events}
        assert set(by_table) == {f"watchdog:schema:sc:{schema}.features",
                                 f"watchdog:schema:sc:{schema}.feat_new"}
        feats = by_table[f"watchdog:schema:sc:{schema}.features"]
        assert feats["alert_type"] == "error" and "[BREAKING]" in feats["title"]
        assert {f"table:{schema}.features", "change:column_renamed", "change:column_added",
                "team:ml", "team:bi", "model:churn", "model:report", "monitor:sc",
                "warehouse:wh", "env:test"} <= set(feats["tags"])
        text = feats["text"]
        assert "| column renamed (probable) | b2 | b | b2 | churn |" in text
        assert "| column added | d | - | " in text
        assert "**churn** (team ml): **BREAKING**" in text and "@slack-ml" in text
        assert "**report** (team bi): not affected" in text
        assert "Changed by: unknown" in text
        assert by_table[f"watchdog:schema:sc:{schema}.feat_new"]["alert_type"] == "info"
        metrics = [m for m in result.metrics if m.name == "watchdog.schema.changes"]
        assert {(t, m.value) for m in metrics for t in m.tags if t.startswith("change:")} == {
            ("change:column_renamed", 1), ("change:column_added", 1), ("change:table_created", 1)}

        # the next poll, and a restart: nothing new
        again, events = poll(tmp_path, wh, schema)
        assert events == [] and again.status is Status.WARN  # only the evil name, still absent

        # a change made while watchdog was down is reported when it comes back
        ddl(engine, f"ALTER TABLE {s}.features DROP COLUMN z")
        down, events = poll(tmp_path, wh, schema)
        (event,) = events
        assert event["alert_type"] == "error" and "**report** (team bi): **BREAKING**" in (
            event["text"])
        assert poll(tmp_path, wh, schema)[1] == []
        with engine.connect() as con:  # the injection attempt ran nothing
            assert con.execute(sa.text(f"SELECT count(*) FROM {s}.features")).scalar() == 0


@pytest.mark.parametrize("kind", BACKENDS)
def test_dropped_and_renamed_tables(kind: str, tmp_path: Path) -> None:
    with database(kind, tmp_path) as (engine, wh, schema):
        s = f'"{schema}"'
        ddl(engine, f"CREATE TABLE {s}.features (a INTEGER, b INTEGER)",
            f"CREATE TABLE {s}.feat_x (k TEXT, v INTEGER)")
        poll(tmp_path, wh, schema)
        ddl(engine, f"DROP TABLE {s}.features", f"ALTER TABLE {s}.feat_x RENAME TO feat_y")
        result, events = poll(tmp_path, wh, schema)
        found = {(f.reason, f.details.get("table"), f.details.get("after")) for f in
                 result.findings if f.reason.startswith("TABLE_")}
        assert {("TABLE_DROPPED", f"{schema}.features", None),
                ("TABLE_RENAMED", f"{schema}.feat_x", f"{schema}.feat_y")} <= found
        assert len(events) == 2
        # the dropped table is a standing finding but says nothing more
        later, events = poll(tmp_path, wh, schema)
        assert events == [] and any(f.reason == "TABLE_NOT_FOUND" and "features" in f.message
                                    for f in later.findings)


@pytest.mark.parametrize("kind", ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_type_and_nullability_changes(kind: str, tmp_path: Path) -> None:
    with database(kind, tmp_path) as (engine, wh, schema):
        s = f'"{schema}"'
        ddl(engine, f"CREATE TABLE {s}.features (a INTEGER, b BIGINT, z INTEGER NOT NULL)")
        poll(tmp_path, wh, schema)
        ddl(engine, f"ALTER TABLE {s}.features ALTER COLUMN a TYPE BIGINT",
            f"ALTER TABLE {s}.features ALTER COLUMN b TYPE INTEGER",
            f"ALTER TABLE {s}.features ALTER COLUMN z DROP NOT NULL")
        result, (event,) = poll(tmp_path, wh, schema)
        table = event["text"]
        assert "| type widened | a |" in table and "| type narrowed | b |" in table
        assert "| nullability changed | z | NOT NULL | NULL | - |" in table
        assert event["alert_type"] == "error"  # b narrowed, and churn reads b
        assert "**report** (team bi): not affected" in table  # z: no contract says not null
        ddl(engine, f"ALTER TABLE {s}.features ALTER COLUMN z SET NOT NULL")
        result, (event,) = poll(tmp_path, wh, schema)
        assert event["alert_type"] == "warning" and result.status is Status.WARN


def test_sqlite_skips_the_snapshot_when_schema_version_did_not_move(tmp_path: Path) -> None:
    with database("sqlite", tmp_path) as (engine, wh, schema):
        ddl(engine, "CREATE TABLE features (a INTEGER)")
        poll(tmp_path, wh, schema)
        quiet, _ = poll(tmp_path, wh, schema)
        assert "NO_DDL" in [f.reason for f in quiet.findings]
        ddl(engine, "ALTER TABLE features ADD COLUMN b TEXT")
        changed, (event,) = poll(tmp_path, wh, schema)
        assert "NO_DDL" not in [f.reason for f in changed.findings]
        assert event["alert_type"] == "info"


@contextmanager
def _audited_postgres() -> Iterator[tuple[sa.Engine, str]]:
    """A database of its own (event triggers are per database), dropped afterwards."""
    import uuid

    from tests.conftest import POSTGRES_URL

    name = f"wd_audit_{uuid.uuid4().hex[:8]}"
    base = POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://")
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as con:
        con.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = base.rsplit("/", 1)[0] + f"/{name}"
    engine = sa.create_engine(url)
    try:
        yield engine, url.replace("postgresql+psycopg://", "postgresql://")
    finally:
        engine.dispose()
        with admin.connect() as con:
            con.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.postgres
def test_postgres_audit_trigger_says_who_and_which_statement(tmp_path: Path) -> None:
    from watchdog.warehouses import create

    with _audited_postgres() as (engine, url):
        wh = {"type": "postgres", "settings": {"url": url}}
        adapter = create("wh", "postgres", {"url": url})
        assert adapter.schema_version() is None  # not installed yet
        adapter.setup_audit()
        adapter.setup_audit()  # idempotent
        ddl(engine, "CREATE SCHEMA app", "CREATE TABLE app.features (a INTEGER, b BIGINT, "
            "c TEXT NOT NULL, z TEXT)")
        first, _ = poll(tmp_path, wh, "app")
        ddl(engine, "ALTER TABLE app.features RENAME COLUMN a TO a_new",
            "ALTER TABLE app.features ALTER COLUMN b TYPE INTEGER, "
            "ADD COLUMN secret TEXT DEFAULT 'sk-live-0042'",
            "ALTER TABLE app.features ALTER COLUMN c DROP NOT NULL")
        token = adapter.schema_version()
        result, (event,) = poll(tmp_path, wh, "app")
        text = event["text"]
        assert "| column renamed | a_new | a | a_new | churn |" in text  # not "probable"
        # the title names the old and the new column
        assert event["title"].startswith("[BREAKING] Schema change on app.features: column "
                                         "renamed a → a_new and ")
        assert "`postgres` at " in text and "RENAME COLUMN a TO a_new" in text
        assert "sk-live" not in text and "DEFAULT ?" in text
        assert result.status is Status.FAIL
        quiet, events = poll(tmp_path, wh, "app")  # the counter did not move: no snapshot
        assert events == [] and "NO_DDL" in [f.reason for f in quiet.findings]
        assert adapter.schema_version() == token
        ddl(engine, "ALTER TABLE app.features RENAME TO features_v2")
        renamed, (event,) = poll(tmp_path, wh, "app")
        assert "| table renamed | - | app.features | app.features_v2 | churn, report |" in (
            event["text"])
        adapter.setup_audit(remove=True)
        assert adapter.schema_version() is None
        adapter.close()


def test_the_first_poll_of_a_new_state_store_is_a_baseline(tmp_path: Path) -> None:
    with database("duckdb", tmp_path) as (engine, wh, schema):
        ddl(engine, "CREATE TABLE features (a INTEGER)", "CREATE TABLE feat_1 (b INTEGER)")
        result, events = poll(tmp_path, wh, schema)
        tables = [m.value for m in result.metrics if m.name == "watchdog.schema.tables"]
        assert events == [] and tables == [2]
        assert [f.reason for f in result.findings] == ["TABLE_NOT_FOUND"]
        (tmp_path / "state.db").unlink()  # state lost: a new baseline, not a flood of events
        ddl(engine, "ALTER TABLE features ADD COLUMN c TEXT")
        assert poll(tmp_path, wh, schema)[1] == []


def _cli(*args: str, cwd: Path) -> Any:
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    return subprocess.run([sys.executable, "-m", "watchdog", *args], cwd=cwd, text=True,
                          capture_output=True, env={**os.environ, "PYTHONPATH": str(root)},
                          timeout=120)


@pytest.mark.postgres
def test_setup_audit_command_installs_idempotently_and_removes(tmp_path: Path) -> None:
    from watchdog.warehouses import create

    with _audited_postgres() as (_engine, url):
        (tmp_path / "config.yaml").write_text(
            f"warehouses:\n  pg: {{type: postgres, settings: {{url: '{url}'}}}}\n"
            f"  lite: {{type: sqlite, settings: {{path: {tmp_path}/x.db}}}}\nsinks: {{}}\n")
        for _ in range(2):
            proc = _cli("setup", "audit", "--warehouse", "pg", cwd=tmp_path)
            assert proc.returncode == 0 and "installed" in proc.stdout, proc.stderr
        adapter = create("pg", "postgres", {"url": url})
        assert adapter.schema_version() == "0"
        proc = _cli("setup", "audit", "--warehouse", "pg", "--remove", cwd=tmp_path)
        assert proc.returncode == 0 and "removed" in proc.stdout
        assert adapter.schema_version() is None
        adapter.close()
        lite = _cli("setup", "audit", "--warehouse", "lite", cwd=tmp_path)
        assert lite.returncode == 1 and "has no audit log to set up" in lite.stderr
        assert "Traceback" not in lite.stderr


def test_many_suspects_and_stale_tokens_cost_no_false_events(tmp_path: Path) -> None:
    """When most tables are suspects the columns are read by pattern; tokens that no
    longer match the warehouse's fingerprints (an older watchdog) are refreshed silently."""
    from watchdog.warehouses import create

    with database("duckdb", tmp_path) as (engine, wh, schema):
        n = 25
        ddl(engine, *(f"CREATE TABLE feat_{i:03d} (a INTEGER, b TEXT)" for i in range(n)))
        first, events = poll(tmp_path, wh, schema)
        assert events == [] and [m.value for m in first.metrics
                                 if m.name == "watchdog.schema.tables"] == [n]
        with Store.open(f"sqlite:///{tmp_path}/state.db") as store:
            old = {t: cols for t, cols in store.latest_snapshots("sc").items() if cols}
            store.save_snapshots("sc", old, NOW, dict.fromkeys(old, "sha1-of-an-older-release"))
        ddl(engine, "ALTER TABLE feat_007 ADD COLUMN c TEXT")
        _, events = poll(tmp_path, wh, schema)
        assert [e["aggregation_key"] for e in events] == [f"watchdog:schema:sc:{schema}.feat_007"]
        adapter = create("wh", "duckdb", wh["settings"])
        prints = {str(r): fp for r, fp in adapter.schema_fingerprints(
            [adapter.table(f"{schema}.feat_*")]).items()}
        adapter.close()
        with Store.open(f"sqlite:///{tmp_path}/state.db") as store:
            assert {t: v for t, v in store.snapshot_tokens("sc").items() if v != "absent"} == prints
        assert poll(tmp_path, wh, schema)[1] == []


def test_a_few_suspects_are_read_by_name_in_statements_of_at_most_the_limit(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fewer than half the tables changed: their columns are read by name, in statements of
    BY_NAME_LIMIT tables; every changed table is found, whichever statement read it."""
    from watchdog.checks.schema import check

    monkeypatch.setattr(check, "BY_NAME_LIMIT", 3)
    with database("duckdb", tmp_path) as (engine, wh, schema):
        ddl(engine, *(f"CREATE TABLE feat_{i:03d} (a INTEGER, b TEXT)" for i in range(20)))
        assert poll(tmp_path, wh, schema)[1] == []
        changed = [1, 4, 5, 9, 12, 13, 17, 19]
        ddl(engine, *(f"ALTER TABLE feat_{i:03d} ADD COLUMN c{i} TEXT" for i in changed))
        _, events = poll(tmp_path, wh, schema)
        assert sorted(e["aggregation_key"] for e in events) == [
            f"watchdog:schema:sc:{schema}.feat_{i:03d}" for i in changed]
        assert poll(tmp_path, wh, schema)[1] == []


@pytest.mark.postgres
def test_ddl_from_before_the_first_poll_is_never_attributed_to_later_changes(
        tmp_path: Path) -> None:
    from watchdog.warehouses import create

    with _audited_postgres() as (engine, url):
        wh = {"type": "postgres", "settings": {"url": url}}
        adapter = create("wh", "postgres", {"url": url})
        adapter.setup_audit()
        ddl(engine, "CREATE SCHEMA app", "CREATE TABLE app.features (old_a INTEGER, z TEXT)",
            "ALTER TABLE app.features RENAME COLUMN old_a TO a",
            "ALTER TABLE app.features ADD COLUMN b BIGINT")
        poll(tmp_path, wh, "app")  # baseline, with three DDL statements already logged
        ddl(engine, "ALTER TABLE app.features ADD COLUMN extra TEXT")
        _result, (event,) = poll(tmp_path, wh, "app")
        adapter.close()
    assert "ADD COLUMN extra" in event["text"]
    assert "RENAME COLUMN old_a" not in event["text"] and "ADD COLUMN b" not in event["text"]


@pytest.mark.postgres
def test_a_script_logged_once_per_statement_reads_back_whole_on_every_row() -> None:
    """Postgres logs a multi-statement script once per statement in it; the read sends a
    text the row before holds only once, and every event still carries the whole text,
    page by page as in one page (checked against the log's own rows)."""
    from watchdog.warehouses import create

    first = "CREATE TABLE a (x int); CREATE TABLE b (y int); ALTER TABLE a ADD COLUMN z int"
    second = "CREATE TABLE c (w int)"
    third = "ALTER TABLE b ADD COLUMN v int; ALTER TABLE c ADD COLUMN u int"
    with _audited_postgres() as (engine, url):
        adapter = create("wh", "postgres", {"url": url})
        adapter.setup_audit()
        for script in (first, second, third):
            with engine.begin() as conn:
                conn.exec_driver_sql(script)
        with engine.connect() as conn:
            logged = conn.execute(sa.text(
                "SELECT seq, statement FROM watchdog_audit.ddl_log ORDER BY seq")).all()
        whole = adapter.audit_events(0, limit=100)
        pages, since = [], 0
        while page := adapter.audit_events(since, limit=2):
            pages += page
            since = page[-1].seq
        adapter.close()
    assert [e.statement for e in whole] == [first] * 3 + [second] + [third] * 2
    assert [(e.seq, e.statement) for e in whole] == [tuple(row) for row in logged]
    assert pages == whole


@pytest.mark.postgres
def test_the_audit_read_pages_past_one_page_of_ddl(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """More DDL between two polls than one audit page holds: every statement is read (the
    newest one says who made the last change), none twice."""
    from watchdog.checks.schema import audit as schema_audit
    from watchdog.warehouses import create

    monkeypatch.setattr(schema_audit, "PAGE", 2)  # the page size, not the behaviour
    with _audited_postgres() as (engine, url):
        wh = {"type": "postgres", "settings": {"url": url}}
        adapter = create("wh", "postgres", {"url": url})
        adapter.setup_audit()
        ddl(engine, "CREATE SCHEMA app", "CREATE TABLE app.features (a INTEGER, z TEXT)")
        poll(tmp_path, wh, "app")
        ddl(engine, *(f"ALTER TABLE app.features ADD COLUMN c{i} INTEGER" for i in range(7)))
        assert len(schema_audit.read(adapter, 0)) == 9  # 2 + 7 statements, 5 pages
        _result, (event,) = poll(tmp_path, wh, "app")
        adapter.close()
    text = event["text"]
    assert "(4 earlier statements not shown)" in text
    assert [f"ADD COLUMN c{i}" in text for i in range(7)] == [False] * 4 + [True] * 3
