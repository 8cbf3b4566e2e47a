"""Who revoked a principal's access on BigQuery: the REVOKE jobs of the same region's
INFORMATION_SCHEMA.JOBS, read through the real google-cloud-bigquery client from the
loopback stand-in, with the request it sends asserted. A REVOKE names IAM roles (a
dataViewer stands for SELECT) and IAM members (``serviceAccount:...``); one on the whole
dataset covers its tables; one on another table or from another member is not the cause."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from tests.helpers import config_from, yaml_block
from tests.warehouses.bigquery.conftest import golden_sql, settings_for
from tests.warehouses.bigquery.fake_server import FakeBigQuery, normalise
from watchdog.daemon.runner import Runner
from watchdog.sinks import create as create_sink
from watchdog.state import Store

SVC = "serviceAccount:churn@test-proj.iam.gserviceaccount.com"
T = datetime(2026, 3, 1, 3, 2, tzinfo=UTC)
SCHEMA = [["seq", "INTEGER"], ["end_time", "TIMESTAMP"], ["user_email", "STRING"],
          ["statement_type", "STRING"], ["query", "STRING"]]
PARAMS = {"hours": ["INT64", "24"], "limit": ["INT64", "5000"]}


def _job(minutes: int, user: str, query: str) -> list[str]:
    micros = str(int(T.timestamp() * 1_000_000) + minutes * 60_000_000)
    return [micros, micros, user, "REVOKE", query]


def _run(fake: FakeBigQuery, url: str, tmp_path: Path, rows: list[list[str]]) -> str:
    """The access monitor's summary once SVC has lost SELECT on analytics.events."""
    fake.record(golden_sql("revoke_jobs"), {"schema": SCHEMA, "rows": rows}, PARAMS)
    fake.policies["test-proj.analytics.events"] = []
    fake.datasets["test-proj.analytics"] = []
    wh = {"type": "bigquery", "settings": settings_for(url)}
    config = config_from(tmp_path, (
        "env: test\nwarehouses:\n  bq:\n" + yaml_block(wh, 4) + "sinks: {}\n"
        "monitors:\n  - {id: grants, kind: access, warehouse: bq,"
        f" principals: [{{name: '{SVC}', needs: [select]}}], tables: [analytics.events]}}\n"))
    out = tmp_path / "out.jsonl"
    with Store.open(f"sqlite:///{tmp_path}/s.db") as store:
        runner = Runner(config, store, [create_sink("jsonl", {"path": str(out)})],
                        clock=lambda: T)
        (result,) = runner.run_pass(["grants"])
        runner.close()
    assert result.status.value == "FAIL", result.summary
    (event,) = [r for r in map(json.loads, out.read_text().splitlines()) if r["type"] == "event"]
    assert result.summary in event["text"]
    return result.summary


def test_the_revoke_job_names_who_took_the_role(fake: tuple[FakeBigQuery, str],
                                                 tmp_path: Path) -> None:
    state, url = fake
    summary = _run(state, url, tmp_path, [
        _job(9, "carol@example.com", 'REVOKE `roles/bigquery.dataViewer` ON TABLE '
             '`test-proj.analytics.events` FROM "user:someone@example.com"'),
        _job(8, "bob@example.com", 'REVOKE `roles/bigquery.dataViewer` ON TABLE '
             f'analytics.labels FROM "{SVC}"'),
        _job(0, "alice@example.com", 'REVOKE `roles/bigquery.dataViewer`, `roles/bigquery.'
             f'jobUser` ON TABLE `test-proj.analytics.events` FROM "{SVC}", "user:x@y.z"'),
    ])
    assert (f"{SVC} lost SELECT on analytics.events; revoked by alice@example.com at "
            "2026-03-01 03:02 UTC: REVOKE `roles/bigquery.dataViewer`") in summary

    # the request on the wire: a dry run then the job, the region's JOBS, bound values
    dry, real = [r for r in state.queries()
                 if "INFORMATION_SCHEMA.JOBS" in json.dumps(r.body)]
    assert dry.body["configuration"]["dryRun"] is True
    sent = normalise(real.body["query"])
    assert "FROM `test-proj`.`region-us`.INFORMATION_SCHEMA.JOBS" in sent
    assert "AND statement_type = 'REVOKE'" in sent
    params = {p["name"]: (p["parameterType"]["type"], p["parameterValue"]["value"])
              for p in real.body["queryParameters"]}
    assert params == {"hours": ("INT64", "24"), "limit": ("INT64", "5000")}
    assert real.body["maximumBytesBilled"] and real.body["timeoutMs"]


def test_a_role_revoked_on_the_dataset_covers_its_tables(fake: tuple[FakeBigQuery, str],
                                                          tmp_path: Path) -> None:
    state, url = fake
    summary = _run(state, url, tmp_path, [
        _job(1, "dana@example.com", "REVOKE `roles/bigquery.dataViewer` ON SCHEMA "
             '`test-proj`.analytics FROM "serviceAccount:CHURN@test-proj.iam.gserviceaccount.com"'),
    ])
    assert "revoked by dana@example.com at 2026-03-01 03:03 UTC: REVOKE" in summary


def test_no_matching_revoke_is_said(fake: tuple[FakeBigQuery, str], tmp_path: Path) -> None:
    state, url = fake
    summary = _run(state, url, tmp_path, [
        _job(1, "erin@example.com", "REVOKE `roles/bigquery.jobUser` ON TABLE "
             f'analytics.events FROM "{SVC}"'),  # a role that carries no table privilege
    ])
    assert "who revoked it is unknown: no matching REVOKE" in summary
