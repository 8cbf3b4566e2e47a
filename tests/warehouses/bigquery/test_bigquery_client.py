"""What the adapter sends (dry run first, caps, labels, typed parameters), the stand-in's
check of bound values, the cost guard, error translation, credentials and the endpoint
override, against the loopback stand-in."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.warehouses.bigquery.conftest import RECORDINGS, golden_sql, settings_for
from tests.warehouses.bigquery.fake_server import FakeBigQuery, normalise
from tests.warehouses.test_golden import ARGS
from watchdog.errors import (
    ConfigError,
    PermissionDenied,
    QueryError,
    TableNotFound,
    WarehouseAuthError,
    WarehouseUnavailable,
)
from watchdog.models import Predicate
from watchdog.warehouses import Warehouse, create
from watchdog.warehouses.bigquery import CostGuardRefused

Fake = tuple[FakeBigQuery, str]


def test_each_query_is_dry_run_first_then_run_with_caps_and_labels(bq: Warehouse,
                                                                  fake: Fake) -> None:
    bq.count_rows(**ARGS["count_rows"])
    dry, real = fake[0].queries()
    assert dry.path.endswith("/jobs") and dry.body["configuration"]["dryRun"] is True
    assert real.path.endswith("/queries") and not real.body.get("dryRun")
    sent = normalise(real.body["query"])
    assert sent == normalise(golden_sql("count_rows"))
    assert normalise(dry.body["configuration"]["query"]["query"]) == sent
    assert real.body["maximumBytesBilled"] == str(10 * 1024**3)
    assert real.body["labels"] == {"app": "ml-watchdog"}
    assert real.body["useLegacySql"] is False and real.body["parameterMode"] == "NAMED"
    params = {p["name"]: (p["parameterType"], p["parameterValue"])
              for p in real.body["queryParameters"]}
    assert params["start"] == ({"type": "TIMESTAMP"}, {"value": "2026-03-01 00:00:00+00:00"})
    assert params["bucket_seconds"] == ({"type": "FLOAT64"}, {"value": 3600.0})
    assert params["w0_1"] == ({"type": "STRING"}, {"value": "retry"})


def test_array_parameters(bq: Warehouse, fake: Fake) -> None:
    bq.audit_events(**ARGS["audit_events"])
    real = fake[0].queries()[-1]
    params = {p["name"]: p for p in real.body["queryParameters"]}
    kinds = params["statement_types"]["parameterType"]
    assert kinds == {"type": "ARRAY", "arrayType": {"type": "STRING"}}
    values = [v["value"] for v in params["statement_types"]["parameterValue"]["arrayValues"]]
    assert "ALTER_TABLE" in values and "DROP_TABLE" in values
    assert params["since"]["parameterType"] == {"type": "INT64"}


def test_cost_guard_refuses_above_the_budget_and_runs_nothing(fake: Fake) -> None:
    wh = create("bq", "bigquery", settings_for(fake[1], dry_run_budget=1_000_000))
    with pytest.raises(CostGuardRefused) as info:
        wh.count_rows(**ARGS["count_rows"])
    message = str(info.value)
    assert "0.002 GB (2000000 bytes)" in message and "dry_run_budget" in message
    assert "count_rows on analytics.events" in message and info.value.warehouse == "bq"
    assert [r.path.rsplit("/", 1)[-1] for r in fake[0].queries()] == ["jobs"]  # dry run only
    assert wh.newest(**ARGS["newest"]) is not None  # 0.8 MB: under the budget


@pytest.mark.parametrize(("code", "error"), [(403, WarehouseAuthError), (401, WarehouseAuthError),
                                             (404, TableNotFound), (400, QueryError),
                                             (503, WarehouseUnavailable)])
def test_errors_are_translated(fake: Fake, code: int, error: type[Exception]) -> None:
    fake[0].record("SELECT 1", {"error": {"code": code, "message": f"boom {code}"}}, {})
    wh = create("bq", "bigquery", settings_for(fake[1], timeout=0.5))
    # a 401 makes google-auth refresh the credentials first, which anonymous ones cannot
    with pytest.raises(error, match=f"ping: (boom {code}|Anonymous credentials cannot)"):
        wh.ping()


def test_access_denied_on_a_table_is_permission_denied_with_the_grant(fake: Fake) -> None:
    message = ("Access Denied: Table test-proj:analytics.events: User does not have "
               "permission to query table test-proj:analytics.events, or perhaps it does not "
               "exist.")
    fake[0].record("SELECT 1", {"error": {"code": 403, "message": message}}, {})
    wh = create("bq", "bigquery", settings_for(fake[1], timeout=0.5))
    with pytest.raises(PermissionDenied) as info:
        wh.ping()
    assert "roles/bigquery.dataViewer on table test-proj.analytics.events" in (
        info.value.hint or "")


def test_missing_table_from_tables_or_sql_is_table_not_found(bq: Warehouse, fake: Fake) -> None:
    fake[0].record(bq.render("newest", table=_t("gone"), time_column="ts").sql,
                   {"error": {"code": 404, "message": "Not found: Table test-proj:analytics.gone"}},
                   {})
    with pytest.raises(TableNotFound, match="newest on analytics.gone"):
        bq.newest(_t("gone"), "ts")
    # with a time filter, the table's schema is read first (tables.get), which 404s
    since = [Predicate(column="ts", op=">=", value=datetime(2026, 3, 1, tzinfo=UTC))]
    with pytest.raises(TableNotFound, match="newest on analytics.gone: Not found: Table gone"):
        bq.newest(_t("gone"), "ts", where=since)
    assert fake[0].table_gets() == ["test-proj.analytics.gone"]


def _recorded(query: str) -> dict[str, Any]:
    return json.loads((RECORDINGS / f"{query}.json").read_text())


@pytest.mark.parametrize(("query", "name", "wrong"), [
    ("count_rows", "start", ["TIMESTAMP", "2026-03-01 01:00:00+00:00"]),  # another value
    ("count_rows", "start", ["DATETIME", "2026-03-01T00:00:00.000000"]),  # another type
    ("count_rows", "w0_1", ["STRING", "retried"]),
    ("count_rows", "bucket_seconds", ["FLOAT64", 60.0]),
    ("count_rows", "w2", ["STRING", "prod"]),  # recorded but not sent
    ("audit_events", "statement_types", ["ARRAY<STRING>", ["ALTER_TABLE", "DROP_TABLE"]]),
    ("audit_events", "since", ["INT64", "42"]),
])
def test_a_wrong_bound_value_fails_the_query(bq: Warehouse, fake: Fake, query: str, name: str,
                                             wrong: list[Any]) -> None:
    recorded = _recorded(query)
    fake[0].record(golden_sql(query), recorded, {**recorded["params"], name: wrong})
    call = getattr(bq, query)
    with pytest.raises(QueryError, match=f"bound parameters differ from the recording: "
                                         f"{name}: sent .*, recorded {re.escape(repr(wrong))}"):
        call(**ARGS[query])
    (mismatch,) = fake[0].mismatches
    assert mismatch.startswith(f"bound parameters differ from the recording: {name}: ")
    assert [r.path.rsplit("/", 1)[-1] for r in fake[0].queries()] == ["jobs"]  # dry run only
    fake[0].mismatches.clear()  # caught here; the fixture fails a test on any left


def test_unreachable_endpoint_is_unavailable() -> None:
    wh = create("bq", "bigquery", settings_for("http://127.0.0.1:9", timeout=0.5))
    with pytest.raises(WarehouseUnavailable) as info:
        wh.ping()
    assert "api_endpoint" in (info.value.hint or "")


def _key(tmp_path: Path, token_uri: str) -> dict[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return {"type": "service_account", "project_id": "test-proj", "private_key_id": "k1",
            "private_key": pem, "client_email": "watchdog@test-proj.iam.gserviceaccount.com",
            "client_id": "1", "token_uri": token_uri}


@pytest.mark.parametrize("how", ["credentials_info", "credentials_file", "application_default"])
def test_service_account_credentials(fake: Fake, tmp_path: Path, how: str,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    info = _key(tmp_path, f"{fake[1]}/token")
    path = tmp_path / "key.json"
    path.write_text(json.dumps(info))
    settings = settings_for(fake[1], anonymous=False)
    if how == "credentials_info":
        settings["credentials_info"] = json.dumps(info)
    elif how == "credentials_file":
        settings["credentials_file"] = str(path)
    else:
        monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path))
    create("bq", "bigquery", settings).ping()
    token, *queries = fake[0].requests
    assert token.path == "/token" and "assertion=" in token.body["form"]
    assert all(r.headers["authorization"] == "Bearer fake-token" for r in queries)


def test_secrets_stay_out_of_errors(fake: Fake, tmp_path: Path) -> None:
    info = _key(tmp_path, "http://127.0.0.1:9/token")
    wh = create("bq", "bigquery", settings_for(fake[1], anonymous=False, timeout=0.5,
                                               credentials_info=json.dumps(info)))
    with pytest.raises((WarehouseAuthError, WarehouseUnavailable)) as info_:
        wh.ping()
    assert "PRIVATE KEY" not in str(info_.value) and "PRIVATE KEY" not in repr(wh.settings)


def test_settings_are_validated() -> None:
    with pytest.raises(ConfigError, match="at most one"):
        create("bq", "bigquery", {"project": "p", "anonymous": True, "credentials_file": "k"})
    with pytest.raises(ConfigError, match="max_bytes_billed"):
        create("bq", "bigquery", {"project": "p", "max_bytes_billed": 1000})
    with pytest.raises(ConfigError, match="project"):
        create("bq", "bigquery", {})


def _t(name: str):
    from watchdog.models import TableRef

    return TableRef(schema="analytics", name=name)
