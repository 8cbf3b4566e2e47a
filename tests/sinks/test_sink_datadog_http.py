"""DatadogSink over HTTP: the exact requests datadog-api-client sends to a loopback API."""

from __future__ import annotations

import time

import pydantic
import pytest

from tests.sinks.sink_fakes import FakeDatadog
from watchdog.errors import SinkError
from watchdog.models import AlertEvent, Emission, Metric, ServiceCheck
from watchdog.sinks.datadog import DatadogSettings, DatadogSink
from watchdog.sinks.datadog.limits import TRUNCATED

TS = 1_700_000_000
API_KEY = "0123456789abcdef0123456789abcdef"

EMISSION = Emission(
    metrics=(
        Metric(name="watchdog.feature.null_fraction", value=0.125,
               tags=("table:users", "column:age"), timestamp=TS),
        Metric(name="watchdog.check.failures", value=2, type="count", tags=("table:users",),
               timestamp=TS),
    ),
    service_checks=(
        ServiceCheck(name="watchdog.contract", status=2, tags=("table:users",),
                     message="3 checks failed", timestamp=TS),
    ),
    events=(
        AlertEvent(title="Schema change: users", text="column `age` dropped",
                   alert_type="warning", aggregation_key="schema:users",
                   tags=("table:users",), date_happened=TS),
    ),
)


def http_sink(url: str, **settings: object) -> DatadogSink:
    base: dict[str, object] = {
        "transport": "http", "api_key": API_KEY, "api_url": url, "tags": ("env:test",),
        "hostname": "watchdog-1",
    }
    return DatadogSink(DatadogSettings.model_validate({**base, **settings}))


def test_exact_requests_in_order(fake_api: FakeDatadog) -> None:
    sink = http_sink(fake_api.url)
    assert sink.DURABLE is True
    sink.emit(EMISSION)
    events, checks, series = fake_api.requests
    assert [(r.method, r.path) for r in fake_api.requests] == [
        ("POST", "/api/v1/events"), ("POST", "/api/v1/check_run"), ("POST", "/api/v2/series"),
    ]
    for request in fake_api.requests:
        assert request.headers["DD-API-KEY"] == API_KEY
        assert request.headers["Content-Type"] == "application/json"
        assert "DD-APPLICATION-KEY" not in request.headers  # intake needs the API key only
    assert events.body == {
        "title": "Schema change: users",
        "text": "%%% \ncolumn `age` dropped\n %%%",
        "alert_type": "warning", "priority": "normal", "aggregation_key": "schema:users",
        "source_type_name": "watchdog", "tags": ["table:users", "env:test"],
        "date_happened": TS, "host": "watchdog-1",
    }
    assert checks.body == [{
        "check": "watchdog.contract", "host_name": "watchdog-1", "status": 2,
        "message": "3 checks failed", "tags": ["table:users", "env:test"], "timestamp": TS,
    }]
    host = [{"name": "watchdog-1", "type": "host"}]
    assert series.body == {"series": [
        {"metric": "watchdog.feature.null_fraction", "type": 3, "resources": host,
         "points": [{"timestamp": TS, "value": 0.125}],
         "tags": ["table:users", "column:age", "env:test"]},
        {"metric": "watchdog.check.failures", "type": 1, "resources": host,
         "points": [{"timestamp": TS, "value": 2.0}], "tags": ["table:users", "env:test"]},
    ]}


def test_env_fallbacks_and_defaults(monkeypatch: pytest.MonkeyPatch, fake_api: FakeDatadog) -> None:
    monkeypatch.setenv("DD_API_KEY", API_KEY)
    monkeypatch.setenv("DD_API_URL", fake_api.url + "/")
    monkeypatch.setenv("DD_ENV", "prod")
    sink = DatadogSink(DatadogSettings(transport="http"))
    before = int(time.time())
    sink.emit(Emission(metrics=(Metric(name="watchdog.up.seconds", value=1.0),)))
    [request] = fake_api.requests
    assert request.path == "/api/v2/series" and request.headers["DD-API-KEY"] == API_KEY
    [series] = request.body["series"]
    assert "resources" not in series  # no hostname configured: a hostless metric
    assert series["tags"] == ["env:prod"]  # unified service tagging, as DogStatsD does
    assert before <= series["points"][0]["timestamp"] <= int(time.time())


def test_long_event_text_and_key_are_shortened(fake_api: FakeDatadog) -> None:
    event = AlertEvent(title="t", text="x" * 5000, alert_type="error", aggregation_key="k" * 150)
    http_sink(fake_api.url).emit(Emission(events=(event,)))
    body = fake_api.requests[0].body
    assert len(body["text"]) == 4000 and body["text"].endswith(TRUNCATED + "\n %%%")
    assert body["aggregation_key"] == "k" * 100


def test_server_error_is_a_sink_error_without_the_key(fake_api: FakeDatadog) -> None:
    fake_api.status = 500
    with pytest.raises(SinkError) as info:
        http_sink(fake_api.url).emit(EMISSION)
    message = str(info.value)
    assert message == (
        f"datadog http: POST {fake_api.url}/api/v1/events answered 500: Internal Server Error"
    )
    assert API_KEY not in message and "\n" not in message
    assert len(fake_api.requests) == 1  # stopped at the first failure


def test_metrics_rejected_after_events_went_through(fake_api: FakeDatadog) -> None:
    fake_api.script = [202, 202, 400]
    with pytest.raises(SinkError, match=r"/api/v2/series answered 400"):
        http_sink(fake_api.url).emit(EMISSION)


def test_server_down_is_a_sink_error_without_the_key(closed_port: int) -> None:
    url = f"http://127.0.0.1:{closed_port}"
    with pytest.raises(SinkError) as info:
        http_sink(url).emit(EMISSION)
    message = str(info.value)
    assert message.startswith(f"datadog http: POST {url}/api/v1/events failed: ")
    assert "refused" in message.lower()
    assert API_KEY not in message and "\n" not in message


def test_a_hung_api_times_out(fake_api: FakeDatadog) -> None:
    fake_api.delay = 1.0
    started = time.monotonic()
    with pytest.raises(SinkError, match=r"/api/v1/events failed: .*timed out"):
        http_sink(fake_api.url, timeout=0.2).emit(EMISSION)
    assert time.monotonic() - started < 0.9


def test_app_key_is_not_sent_to_intake(fake_api: FakeDatadog) -> None:
    # datadog-api-client sends only the auth an endpoint declares: intake takes the API key.
    http_sink(fake_api.url, app_key="fedcba9876543210fedcba9876543210").emit(EMISSION)
    assert all("DD-APPLICATION-KEY" not in r.headers for r in fake_api.requests)


def test_http_needs_an_api_key() -> None:
    with pytest.raises(pydantic.ValidationError) as info:
        DatadogSettings(transport="http")
    [error] = info.value.errors()
    assert error["msg"] == (
        "Value error, transport 'http' needs an API key: set api_key or the DD_API_KEY "
        "environment variable"
    )


def test_site_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DD_SITE", "datadoghq.eu")
    monkeypatch.setenv("DD_API_KEY", API_KEY)
    assert DatadogSettings(transport="http").site == "datadoghq.eu"
    assert DatadogSettings(transport="http", site="us5.datadoghq.com").site == "us5.datadoghq.com"


def test_settings_are_checked_without_side_effects() -> None:
    with pytest.raises(pydantic.ValidationError, match="site is not a Datadog site") as bad:
        DatadogSettings(transport="http", api_key=API_KEY, site="datadoghq.con")
    # the message never echoes the value: it often comes from ${DD_SITE}
    (error,) = bad.value.errors(include_input=False)
    assert "datadoghq.con" not in error["msg"]
    with pytest.raises(pydantic.ValidationError, match="api_url must start with http"):
        DatadogSettings(transport="http", api_key=API_KEY, api_url="localhost:8080")
    with pytest.raises(pydantic.ValidationError, match="Extra inputs are not permitted"):
        DatadogSettings.model_validate({"transport": "http", "api_kye": API_KEY})
    settings = DatadogSettings(transport="http", api_key=API_KEY, site="datadoghq.eu")
    assert API_KEY not in repr(settings)
    DatadogSink(settings).close()  # constructing and closing touch no network
