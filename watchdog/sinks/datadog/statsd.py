"""DogStatsD through datadogpy: fire-and-forget UDP to the local Agent (not durable).

The only module that imports ``datadog`` (datadogpy), as its maintainers recommend
(DataDog/datadogpy#882).
"""

from __future__ import annotations

from collections.abc import Callable

from datadog.dogstatsd.base import DogStatsd

from watchdog.errors import SinkError
from watchdog.models import AlertEvent, Emission, Metric
from watchdog.sinks.datadog.limits import DATAGRAM_LIMIT, event_text
from watchdog.sinks.datadog.settings import DatadogSettings

# DogStatsD escapes newlines in event text to the two characters "\n".
_escaped_size: Callable[[str], int] = lambda s: len(s.replace("\n", "\\n").encode("utf-8"))  # noqa: E731


class StatsdTransport:
    """DogStatsD through datadogpy, buffered and flushed once per emit."""

    def __init__(self, settings: DatadogSettings) -> None:
        self.settings = settings
        self._client: DogStatsd | None = None  # created on first use: no socket before

    @property
    def client(self) -> DogStatsd:
        if self._client is None:
            self._client = DogStatsd(
                host=self.settings.agent_host,
                port=self.settings.dogstatsd_port,
                constant_tags=list(self.settings.tags),
                disable_telemetry=True,
                origin_detection_enabled=False,
                disable_buffering=False,
                flush_interval=0,  # no background flush thread: emit flushes
            )
        return self._client

    def send(self, emission: Emission) -> None:
        client = self.client
        for event in emission.events:
            self._event(client, event)
        for check in emission.service_checks:
            client.service_check(
                check.name, check.status, tags=list(check.tags), timestamp=check.timestamp,
                hostname=self.settings.hostname, message=check.message or None,
            )
        for metric in emission.metrics:
            _send_metric(client, metric)
        if not client.flush():
            raise SinkError(
                f"datadog dogstatsd: could not send to {self.settings.agent_host}:"
                f"{self.settings.dogstatsd_port} (is the Datadog Agent running there?)"
            )

    def _event(self, client: DogStatsd, event: AlertEvent) -> None:
        title = event.title  # already fitted (limits.fit)
        budget = DATAGRAM_LIMIT - 1 - self._event_overhead(client, event, title)
        text = event_text(event.text)
        if _escaped_size(text) > budget:  # cut the original: still <= EVENT_TEXT_LIMIT chars
            text = event_text(event.text, budget, _escaped_size)
        try:
            client.event(
                title, text, alert_type=event.alert_type, aggregation_key=event.aggregation_key,
                source_type_name=event.source_type_name, date_happened=event.date_happened,
                priority=event.priority, tags=list(event.tags), hostname=self.settings.hostname,
            )
        except ValueError as exc:  # still too big: the tags alone fill the datagram
            raise SinkError(f"datadog dogstatsd: event {title!r} not sent: {exc}") from exc

    def _event_overhead(self, client: DogStatsd, event: AlertEvent, title: str) -> int:
        """Bytes of an event datagram other than its text (a slight overestimate)."""
        fields = [
            title, str(event.date_happened or ""), self.settings.hostname or "",
            event.aggregation_key, event.priority, event.source_type_name, event.alert_type,
            *event.tags, *client.constant_tags,
        ]
        return len("_e{00000,00000}:|") + sum(_escaped_size(f) + 3 for f in fields)

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.flush()
            finally:  # an agent that cannot be reached still leaves no open socket
                self._client.close_socket()


def _send_metric(client: DogStatsd, metric: Metric) -> None:
    tags = list(metric.tags)
    if metric.type == "gauge" and metric.timestamp is not None:
        client.gauge_with_timestamp(metric.name, metric.value, int(metric.timestamp), tags=tags)
    elif metric.type == "gauge":
        client.gauge(metric.name, metric.value, tags=tags)
    elif metric.timestamp is not None:
        client.count_with_timestamp(metric.name, metric.value, int(metric.timestamp), tags=tags)
    else:
        client.count(metric.name, metric.value, tags=tags)
