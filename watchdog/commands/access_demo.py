"""``watchdog demo --postgres URL``: the access monitor, shown where privileges exist.

The embedded demo's DuckDB has no roles or privileges, so a revoked grant cannot happen
there; ``watchdog demo`` says so and points here. This stages one in the Postgres at URL
(a login that may CREATE ROLE and CREATE SCHEMA): a schema ``wd_demo_<hex>`` with a
``features`` table, a role ``wd_demo_<hex>_churn_svc`` that model ``churn_model`` runs as
(``ownership.models.churn_model.principals``), then runs a ``kind: access`` monitor three
times: with the grant held, after ``REVOKE SELECT``, after the grant is given back. The
events are what Datadog would get. Everything it created is dropped at the end, and its
state store and config live in a temporary folder: nothing else is touched. Where the DDL
audit trigger is installed in that database (``watchdog setup audit``), the event says who
revoked the grant, with which statement.
"""

from __future__ import annotations

import json
import tempfile
import uuid
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
      principals: [{{name: {role}, needs: [select]}}]
monitors:
  - id: model_grants
    kind: access
    warehouse: demo_pg
    recover_after: 1
"""


def run(url: str) -> int:
    """Stage, watch and undo a lost grant in the Postgres at ``url``; 0 when the monitor
    saw all three steps as expected, 1 otherwise."""
    from watchdog.daemon.runner import open_runner
    from watchdog.load import load_config
    from watchdog.warehouses import create, pg_demo

    suffix = uuid.uuid4().hex[:8]
    schema, role = f"wd_demo_{suffix}", f"wd_demo_{suffix}_churn_svc"
    wh: Any = create("demo_pg", "postgres", {"url": url})  # Postgres: quote, apply_script
    quote = wh.quote
    try:
        wh.apply_script("access demo setup", pg_demo.setup(quote, schema, role))
        with tempfile.TemporaryDirectory(prefix="watchdog-access-demo-") as folder:
            events = Path(folder) / "events.jsonl"
            path = Path(folder) / "config.yaml"
            path.write_text(_CONFIG.format(events=events, state=Path(folder) / "state.db",
                                           schema=schema, role=role))
            config = load_config(path, {"WATCHDOG_DEMO_POSTGRES_URL": url})
            runner = open_runner(config)
            seen = []
            try:
                for title, script in (
                        (f"{role} holds SELECT on {schema}.features", ()),
                        (f"a migration runs REVOKE SELECT ON {schema}.features FROM {role}",
                         pg_demo.revoke(quote, schema, role)),
                        ("the grant is given back", pg_demo.regrant(quote, schema, role))):
                    if script:
                        wh.apply_script("access demo", script)
                    (result,) = runner.run_pass(["model_grants"], trigger="demo")
                    seen.append(result.status.value)
                    print(f"\n== {title}\n{result.status.value}: {result.summary}")
                    for line in _events(events):
                        print(line)
            finally:
                runner.close()
                runner.store.close()
    finally:
        try:
            wh.apply_script("access demo teardown", pg_demo.teardown(quote, schema, role))
        finally:
            wh.close()
    print(f"\nDropped schema {schema} and role {role}.")
    return 0 if seen == ["OK", "FAIL", "OK"] else 1


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
