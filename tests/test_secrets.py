"""The secrets registry and its boundaries: what is registered, how URLs are read, and that
each boundary (text, values, log records with tracebacks, errors) masks it."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pydantic
import pytest
import sqlalchemy as sa

from watchdog import secrets
from watchdog.errors import ConfigProblem, WatchdogError
from watchdog.models import AlertEvent, CheckResult, Finding, Metric, Status


@pytest.mark.parametrize(("url", "password", "host"), [
    ("postgresql://alice:S3cret@127.0.0.1:5499@127.0.0.1:5499/test",
     "S3cret@127.0.0.1:5499", "127.0.0.1:5499"),
    ("postgresql://bob:pa@ss:w@rd@db:5432/x", "pa@ss:w@rd", "db:5432"),
    ("postgresql://u:plain@db/x?options=a@b", "plain", "db"),
    ("postgresql://u:a/b@c@db/x", "a/b@c", "db"),
    ("postgresql://u:p%40ss@db/x", "p@ss", "db"),
])
def test_a_password_runs_to_the_last_at_before_the_host(url: str, password: str,
                                                        host: str) -> None:
    assert secrets.url_password(url) == password
    parsed = sa.make_url(secrets.normalize_url(url))
    assert parsed.password == password and f"{parsed.host}:{parsed.port}".startswith(host)


@pytest.mark.parametrize("url", [
    "sqlite:///.watchdog/state.db", "sqlite:////home/me@corp/state.db",
    "postgresql://user@db/x", "postgresql://db:5432/x", "postgresql://u:@db/x", "duckdb",
])
def test_urls_without_a_password_have_none(url: str) -> None:
    assert secrets.url_password(url) is None
    assert secrets.normalize_url(url) == url


def test_config_values_under_credential_names_and_url_passwords_are_registered() -> None:
    secrets.register_config({
        "warehouses": {"pg": {"settings": {"password": "pg-pass-1", "host": "db.internal",
                                           "private_key_path": "/keys/k.p8"}}},
        "state": {"url": "postgresql://w:url-pass@db/x"},
        "sinks": {"datadog": {"api_key": "dd-key-1", "tags": ["service:x"]}},
        "other": {"credentials_info": '{"private_key": "pem-body", "client_email": "a@b"}'},
    })
    assert set(secrets.known()) >= {"pg-pass-1", "url-pass", "dd-key-1", "pem-body"}
    assert not {"db.internal", "/keys/k.p8", "service:x", "a@b"} & set(secrets.known())


def test_a_settings_model_registers_its_secret_fields_also_from_the_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from watchdog.sinks.datadog import DatadogSettings

    monkeypatch.setenv("DD_API_KEY", "key-from-env-1")
    secrets.register_model(DatadogSettings(transport="http"))
    assert "key-from-env-1" in secrets.known()


def test_interpolated_values_are_registered_when_the_file_is_read(tmp_path: Path) -> None:
    text = ("warehouses:\n  d: {type: duckdb, settings: {path: '${DB_PATH}'}}\n"
            "state: {url: '${STATE_URL}'}\n")
    path = tmp_path / "config.yaml"
    path.write_text(text)
    from watchdog.load import load_config

    load_config(path, env={"DB_PATH": str(tmp_path / "from-env.duckdb"),
                           "STATE_URL": "postgresql://u:st@te-pw@db/x"})
    assert str(tmp_path / "from-env.duckdb") in secrets.known()
    assert "st@te-pw" in secrets.known()


def test_scrub_masks_registered_values_and_credential_patterns() -> None:
    secrets.register("hunter22", "x")  # too short to register: would garble the text
    text = "login hunter22 failed, password=abc and postgresql://u:p@ss@h/db (x)"
    assert secrets.scrub(text) == ("login *** failed, password=*** and "
                                   "postgresql://u:***@h/db (x)")
    # prose may say "token: 3": scrub_known leaves patterns other than URL credentials
    assert secrets.scrub_known("token: 3 rows, hunter22") == "token: 3 rows, ***"


def test_scrub_value_masks_text_but_keeps_identifiers() -> None:
    secrets.register("watchdog-secret")
    result = CheckResult(
        monitor_id="m", kind="freshness", status=Status.ERROR,
        summary="could not run: watchdog-secret refused", subject="s.t",
        metrics=(Metric(name="watchdog.monitor.status", value=1,
                        tags=("service:watchdog-secret",)),),
        findings=(Finding(reason="X", message="watchdog-secret",
                          details={"sample": ["watchdog-secret"], "n": 1}),),
        events=(AlertEvent(title="t watchdog-secret", text="", alert_type="error",
                           aggregation_key="k"),))
    clean = secrets.scrub_value(result)
    assert clean.summary == "could not run: *** refused"
    assert clean.findings[0].message == "***"
    assert clean.findings[0].details == {"sample": ["***"], "n": 1}
    assert clean.events[0].title == "t ***"
    assert clean.metrics[0].tags == ("service:watchdog-secret",)  # a tag the config chose
    untouched = CheckResult(monitor_id="m", kind="k", status=Status.OK, summary="fine")
    assert secrets.scrub_value(untouched) is untouched


def test_log_records_are_scrubbed_with_their_traceback() -> None:
    secrets.register("tb-secret-9")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(secrets.ScrubFilter())
    log = logging.getLogger("watchdog.test_secrets")
    log.addHandler(handler)
    try:
        try:
            raise RuntimeError("connect failed for tb-secret-9")
        except RuntimeError:
            log.error("dsn %s", "postgresql://u:tb-secret-9@h/db", exc_info=True)
    finally:
        log.removeHandler(handler)
    text = stream.getvalue()
    assert "Traceback" in text and "RuntimeError: connect failed for ***" in text
    assert "tb-secret-9" not in text


def test_errors_and_config_problems_never_carry_a_registered_value() -> None:
    secrets.register("err-secret-7")
    error = WatchdogError("bad err-secret-7", hint="not err-secret-7")
    assert "err-secret-7" not in f"{error} {error.message} {error.hint}"
    problem = ConfigProblem(file="c.yaml", line=3, path="x", message="err-secret-7 is bad")
    assert str(problem) == "c.yaml:3: x: *** is bad"


def test_a_settings_error_never_echoes_a_value_from_the_environment(tmp_path: Path) -> None:
    from watchdog.errors import ConfigError
    from watchdog.load import load_config

    path = tmp_path / "config.yaml"
    path.write_text("warehouses:\n  d: {type: duckdb}\n"
                    "sinks:\n  datadog: {transport: http, api_key: k123, site: '${DD_SITE}'}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={"DD_SITE": "SiteS3cretVal"})
    assert "site is not a Datadog site" in str(info.value)
    assert "SiteS3cretVal" not in str(info.value)
    with pytest.raises(pydantic.ValidationError):  # the value itself is still refused
        from watchdog.sinks.datadog import DatadogSettings

        DatadogSettings(transport="http", api_key="k", site="SiteS3cretVal")
