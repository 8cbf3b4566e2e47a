"""The schema, contract, volume and drift checks end to end through the Runner on the
Snowflake (fakesnow) and Redshift (redshift_connector via the proxy) stand-ins."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.warehouses.seeding import BACKENDS, Seeder
from watchdog.daemon.runner import Runner
from watchdog.load import load_config
from watchdog.models import Status
from watchdog.state import Store

NOW = datetime(2026, 3, 4, 12, 20, tzinfo=UTC)
JUDGED = datetime(2026, 3, 4, 11, tzinfo=UTC)
KINDS = [pytest.param(k, marks=[pytest.mark.postgres] if k == "redshift" else [])
         for k in ("snowflake", "redshift") if k in BACKENDS]
USERS = [{"id": 1, "age": 30.0, "country": "US"}, {"id": 2, "age": None, "country": "FR"},
         {"id": 2, "age": 31.0, "country": "FR"}, {"id": 3, "age": -4.0, "country": "us"},
         {"id": 4, "age": 200.0, "country": "DE"}, {"id": 6, "age": 41.0, "country": None}]
WANT = {("id", "unique"): 1, ("age", "in_range"): 2, ("country", "isin"): 2,
        ("country", "not_null"): 1}
CONTRACT = """\
warehouse: wh
table: {schema}.users
scan: full
columns:
  id: {{dtype: int64, unique: true}}
  age: {{dtype: float64, nullable: true, checks: {{in_range: {{min_value: 0, max_value: 130}}}}}}
  country: {{dtype: str, checks: {{isin: [US, FR]}}}}
"""


def config(tmp: Path, seed: Seeder) -> Any:
    s = seed.schema
    block = json.dumps({"type": seed.type_name, "settings": seed.settings})
    (tmp / "contracts").mkdir(exist_ok=True)
    (tmp / "contracts" / "users.yaml").write_text(CONTRACT.format(schema=s))
    (tmp / "config.yaml").write_text(
        f"env: test\nwarehouses:\n  wh: {block}\ncontracts: contracts\nsinks: {{}}\n"
        "monitors:\n"
        f"  - {{id: sc, kind: schema, warehouse: wh, tables: [{s}.users]}}\n"
        f"  - {{id: vol, kind: volume, warehouse: wh, table: {s}.preds, time_column: ts,"
        " success: {column: status, value: ok}, baseline_weeks: 3}\n"
        f"  - {{id: drift, kind: drift, warehouse: wh, table: {s}.preds, time_column: ts,"
        f" window: 1d, reference: {{table: {s}.reference}}, features: [a, plan]}}\n")
    return load_config(tmp / "config.yaml", {})


def seed_tables(seed: Seeder) -> None:
    rng = random.Random(7)
    seed.create_table("users", {"id": "integer", "age": "float", "country": "string"}, USERS)
    preds = [{"ts": JUDGED - timedelta(weeks=w) + timedelta(seconds=30 * i), "status": "ok",
              "a": rng.gauss(5, 1), "plan": rng.choice(["pro", "pro", "basic"])}
             for w in range(4) for i in range(40)]
    preds += [{"ts": JUDGED - timedelta(hours=h, seconds=40 * i), "status": "ok",
               "a": rng.gauss(5, 1), "plan": rng.choice(["pro", "pro", "basic"])}
              for h in range(1, 11) for i in range(60)]
    cols = {"ts": "timestamp", "status": "string", "a": "float", "plan": "string"}
    seed.create_table("preds", cols, preds)
    seed.create_table("reference", cols, [
        {**r, "a": rng.gauss(0, 1), "plan": rng.choice(["basic", "basic", "pro"])}
        for r in preds])


@pytest.mark.parametrize("kind", KINDS)
def test_schema_contract_volume_and_drift_run_end_to_end(kind: str, tmp_path: Path) -> None:
    with BACKENDS[kind](tmp_path) as seed:
        seed_tables(seed)
        cfg = config(tmp_path, seed)
        runner = Runner(cfg, Store.open(f"sqlite:///{tmp_path}/state.db"), [],
                        clock=lambda: NOW)
        try:
            results = {m: runner.check(cfg.monitor(m)) for m in ("sc", "vol", "drift", "users")}
            assert all(r.status is not Status.ERROR for r in results.values()), results
            vol = {m.name.rsplit(".", 1)[1]: m.value for m in results["vol"].metrics}
            assert vol["count"] == 40, results["vol"]
            assert results["vol"].status is Status.OK
            assert results["drift"].status is Status.FAIL
            assert "PSI_ABOVE_THRESHOLD" in results["drift"].reasons
            got = {}
            for m in results["users"].metrics:
                if m.name == "watchdog.contract.failures":
                    tags = dict(t.split(":", 1) for t in m.tags)
                    got[(tags["column"], tags["check"])] = m.value
            assert {k: v for k, v in got.items() if v} == WANT
            wh = runner.warehouse("wh")
            before = wh.schema_fingerprints([seed.table("users")])
            seed.execute(f"ALTER TABLE {{schema}}.{seed.quote('users')} ADD COLUMN extra INTEGER")
            assert wh.schema_fingerprints([seed.table("users")]) != before
            if kind == "snowflake":  # the catalog's LAST_DDL moves with the DDL, as there
                quiet = runner.check(cfg.monitor("sc"))  # ... which the stand-in needs told
                assert "NO_DDL" in {f.reason for f in quiet.findings}
                from tests.warehouses.standins.fakesnow_backend import stamp_ddl

                stamp_ddl(seed.settings["database"], seed.schema, "users", "BOB")
            changed = runner.check(cfg.monitor("sc"))
            (event,) = changed.events
            assert "change:column_added" in event.tags, changed
            if kind == "snowflake":
                assert "Changed by: `BOB` (the catalog's last DDL" in event.text
        finally:
            runner.close()
