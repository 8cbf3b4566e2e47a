"""``sinks.datadog.mentions``: when Datadog monitors own the page, watchdog's events reach
Datadog without @-mentions (the owners are still named), so nobody is paged twice."""

from __future__ import annotations

import pytest

from tests.sinks.sink_fakes import FakeDatadog, UdpListener
from watchdog.models import AlertEvent, Emission
from watchdog.sinks.datadog import DatadogSettings, DatadogSink

TEXT = ("**FAIL.** main.features: drift\nOwners: @slack-churn-ml-alerts @pagerduty-churn-ml "
        "@ana@example.com\nmail bob@example.com")
EVENT = AlertEvent(title="[FAIL] features_drift: drift", text=TEXT, alert_type="error",
                   aggregation_key="watchdog:features_drift", tags=("monitor:features_drift",))


def sink(**settings: object) -> DatadogSink:
    return DatadogSink(DatadogSettings.model_validate(settings))


@pytest.mark.parametrize("mentions", ["events", "monitors"])
def test_event_text_over_http(fake_api: FakeDatadog, mentions: str) -> None:
    with sink(transport="http", api_key="k" * 32, api_url=fake_api.url,
              mentions=mentions) as s:
        s.emit(Emission(events=(EVENT,)))
    (request,) = fake_api.requests
    text = request.body["text"]
    if mentions == "events":
        assert "Owners: @slack-churn-ml-alerts @pagerduty-churn-ml @ana@example.com" in text
    else:
        assert "Owners: slack-churn-ml-alerts pagerduty-churn-ml ana@example.com" in text
        assert "@slack" not in text and "@pagerduty" not in text and " @ana" not in text
    assert "mail bob@example.com" in text  # an address is not a mention: left alone
    assert request.body["title"] == EVENT.title


def test_event_text_over_dogstatsd(udp: UdpListener) -> None:
    with sink(transport="dogstatsd", agent_host="127.0.0.1", dogstatsd_port=udp.port,
              mentions="monitors") as s:
        s.emit(Emission(events=(EVENT,)))
    (datagram,) = [line for line in udp.lines() if line.startswith(b"_e{")]
    assert b"Owners: slack-churn-ml-alerts pagerduty-churn-ml" in datagram
    assert b"@slack" not in datagram


def test_default_is_events_and_a_typo_is_refused() -> None:
    assert DatadogSettings().mentions == "events"
    with pytest.raises(ValueError, match="'events' or 'monitors'"):
        DatadogSettings.model_validate({"mentions": "monitor"})
