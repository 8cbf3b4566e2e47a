"""``watchdog demo --postgres URL``: a revoked grant and a failed dbt run explain a stale
table, shown where privileges exist.

The embedded demo's DuckDB has no roles or privileges, so a revoked grant cannot happen
there; ``watchdog demo`` says so and points here. This stages one in the Postgres database
at URL (a login that may CREATE ROLE and CREATE SCHEMA; a superuser to install the DDL
audit trigger): a schema ``wd_demo_<hex>`` with a ``features`` table written hourly by dbt
model ``features`` as role ``wd_demo_<hex>_etl_svc``, which model ``churn_model`` lists
under ``ownership.models.churn_model.principals`` (SELECT and INSERT). Three monitors (the
grants, the dbt model's runs, the table's freshness) run three times: all well; after a
migration's ``REVOKE INSERT`` and the dbt run that then fails, two hours on, when the table
is stale and its event says both causes in one sentence; after the grant is given back
and dbt runs again. The events are what Datadog would get.

The audit trigger (``watchdog setup audit``) is installed in that database for the demo,
so that the REVOKE is put down to who ran it, and removed at the end unless it was there
before; without a superuser the demo runs on, and says who revoked it is unknown.
Everything else it created is dropped at the end too, and its state store, dbt artifacts
and config live in a temporary folder.
"""

from __future__ import annotations

import json
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

_CONFIG = """\
env: demo
warehouses:
  demo_pg: {{type: postgres, settings: {{url: "${{WATCHDOG_DEMO_POSTGRES_URL}}"}}}}
sinks:
  jsonl: {{path: "{events}"}}
state: {{url: "sqlite:///{state}"}}
ownership:
  teams:
    churn-ml: {{datadog: ["@slack-churn-ml-alerts"]}}
  models:
    churn_model:
      team: churn-ml
      reads: [{{table: {schema}.features}}]
      principals: [{{name: {role}, needs: [select, insert]}}]
pipelines:
  sources:
    demo_dbt: {{type: dbt, target: "{dbt}", warehouse: demo_pg}}
monitors:
  - {{id: model_grants, kind: access, warehouse: demo_pg, recover_after: 1}}
  - {{id: features_pipeline, kind: pipeline, warehouse: demo_pg, table: {schema}.features,
     every: 1d}}
  - {{id: features_freshness, kind: freshness, warehouse: demo_pg, table: {schema}.features,
     time_column: updated_at, max_age: 2h, window: 1d, recover_after: 1}}
"""
MONITORS = ["model_grants", "features_pipeline", "features_freshness"]
_DENIED = "Database Error in model features (models/features.sql)\n  permission denied " \
          "for table features"


def run(url: str) -> int:
    """Stage, watch and undo a lost grant and a failed run in the Postgres at ``url``; 0
    when every monitor saw each step as expected, 1 otherwise."""
    from watchdog.warehouses import create, pg_demo

    suffix = uuid.uuid4().hex[:8]
    schema, role = f"wd_demo_{suffix}", f"wd_demo_{suffix}_etl_svc"
    wh: Any = create("demo_pg", "postgres", {"url": url})  # Postgres: quote, apply_script
    installed = False
    try:
        installed = _install_audit(wh)
        wh.apply_script("access demo setup", pg_demo.setup(wh.quote, schema, role))
        seen = _watch(wh, url, schema, role)
    finally:
        try:
            wh.apply_script("access demo teardown", pg_demo.teardown(wh.quote, schema, role))
            if installed:
                wh.setup_audit(remove=True)
        finally:
            wh.close()
    removed = " and the audit trigger it installed" if installed else ""
    print(f"\nDropped schema {schema}, role {role}{removed}.")
    return 0 if seen == [["OK"] * 3, ["FAIL"] * 3, ["OK"] * 3] else 1


def _install_audit(wh: Any) -> bool:
    """Install the DDL audit trigger in the URL's database unless there; True if installed."""
    from watchdog.errors import WarehouseError

    if wh.schema_version() is not None:
        print("The DDL audit trigger is installed in this database: REVOKEs are attributed.")
        return False
    try:
        wh.setup_audit()
    except WarehouseError as exc:
        print(f"No DDL audit trigger ({exc.detail}): who revokes the grant will be unknown.")
        return False
    print("Installed the DDL audit trigger in this database for the demo (removed at the "
          "end), so that the REVOKE is put down to who ran it.")
    return True


def _steps(wh: Any, schema: str, role: str) -> list[tuple[str, tuple[str, ...],
                                                         tuple[str, str, timedelta], timedelta]]:
    """Each step: what happens, its statements, the dbt run it ends with (status, message,
    start from now) and how far on the clock then is."""
    from watchdog.warehouses import pg_demo

    return [
        (f"{role} holds SELECT, INSERT on {schema}.features; dbt model features wrote it an "
         "hour ago", (), ("success", "OK", -timedelta(hours=1)), timedelta(0)),
        (f"a migration runs REVOKE INSERT ON {schema}.features FROM {role}; the next dbt run "
         "of features fails; two hours on", pg_demo.revoke(wh.quote, schema, role),
         ("error", _DENIED, timedelta(minutes=8)), timedelta(hours=2)),
        ("the grant is given back and dbt model features runs again",
         pg_demo.regrant(wh.quote, schema, role, minutes_on=125),
         ("success", "OK", timedelta(minutes=124)), timedelta(minutes=130)),
    ]


def _watch(wh: Any, url: str, schema: str, role: str) -> list[list[str]]:
    """Run the monitors at each step, on a clock moved on as the step says; the statuses
    each step saw."""
    from sqlalchemy.engine import make_url

    from watchdog.daemon.runner import Runner
    from watchdog.demo import write_dbt_artifacts
    from watchdog.load import load_config
    from watchdog.sinks import create as create_sink
    from watchdog.state import Store

    start = datetime.now(UTC).replace(microsecond=0)
    offset = [timedelta(0)]
    database = make_url(url).database or "postgres"
    with tempfile.TemporaryDirectory(prefix="watchdog-access-demo-") as folder:
        events, dbt = Path(folder) / "events.jsonl", Path(folder) / "dbt_target"
        path = Path(folder) / "config.yaml"
        path.write_text(_CONFIG.format(events=events, state=Path(folder) / "state.db",
                                       schema=schema, role=role, dbt=dbt))
        config = load_config(path, {"WATCHDOG_DEMO_POSTGRES_URL": url})
        store = Store.open(config.state.url)
        sinks = [create_sink(name, settings or {}) for name, settings in config.sinks.items()]
        runner = Runner(config, store, sinks, clock=lambda: start + offset[0])
        seen = []
        try:
            for title, script, (status, message, ran), at in _steps(wh, schema, role):
                if script:
                    wh.apply_script("access demo", script)
                write_dbt_artifacts(dbt, database, start, schema=schema, adapter="postgres",
                                    models={"features": (status, message)}, start=start + ran)
                offset[0] = at
                results = runner.run_pass(MONITORS, trigger="demo")
                seen.append([r.status.value for r in results])
                print(f"\n== {title}")
                print("\n".join(f"{r.status.value}: {r.monitor_id}: {r.summary}"
                                for r in results))
                for line in _events(events):
                    print(line)
        finally:
            runner.close()
            store.close()
    return seen


def _events(path: Path) -> list[str]:
    """The events written since the last call (the file is emptied), as text to print."""
    if not path.exists():
        return []
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    path.write_text("")
    out = []
    for row in (r for r in rows if r.get("type") == "event"):
        out += [f"event ({row['alert_type']}): {row['title']}",
                *(f"  {line}" for line in row["text"].splitlines() if line.strip()),
                f"  tags: {', '.join(row['tags'])}"]
    return out
