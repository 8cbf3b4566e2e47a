"""Datadog: events, metrics and service checks over DogStatsD (via the local Agent) or HTTP.

The only module that imports ``datadog`` (datadogpy, used for DogStatsD only) and
``datadog_api_client`` (the generated HTTP client), as their maintainers recommend
(DataDog/datadogpy#882). DogStatsD is fire-and-forget UDP, so that transport is not
durable; over HTTP every error is raised as SinkError and the outbox retries in order.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

import pydantic
from datadog.dogstatsd.base import DogStatsd

from watchdog.errors import SinkError
from watchdog.models import AlertEvent, Emission, Metric
from watchdog.secrets import scrub_value
from watchdog.sinks.base import Sink, SinkSettings
from watchdog.sinks.mentions import unmention

if TYPE_CHECKING:
    from watchdog.sinks.datadog_http import HttpTransport

#: Event text limit, in characters (https://docs.datadoghq.com/api/latest/events/#post-an-event).
EVENT_TEXT_LIMIT = 4000
#: The Agent reads at most this many bytes per DogStatsD datagram (``dogstatsd_buffer_size``);
#: datadogpy refuses events over 8 KB.
DATAGRAM_LIMIT = 8192
#: Ends a shortened event text.
TRUNCATED = "\n[... truncated by watchdog]"
#: aggregation_key limit of the v1 events API, in characters.
AGGREGATION_KEY_LIMIT = 100
# Event text is markdown; Datadog renders it only between these markers
# (https://docs.datadoghq.com/api/latest/events/#post-an-event, "text").
_MD_OPEN, _MD_CLOSE = "%%% \n", "\n %%%"
# DogStatsD escapes newlines in event text to the two characters "\n".
_escaped_size: Callable[[str], int] = lambda s: len(s.replace("\n", "\\n").encode("utf-8"))  # noqa: E731


def _env(name: str) -> str | None:
    return os.environ.get(name, "").strip() or None


def _env_or(name: str, default: str) -> str:
    return _env(name) or default


def _env_secret(name: str) -> pydantic.SecretStr | None:
    value = _env(name)
    return pydantic.SecretStr(value) if value else None


class DatadogSettings(SinkSettings):
    """Settings of the Datadog sink. Environment fallbacks are read when these are built."""

    transport: Literal["dogstatsd", "http"] = pydantic.Field(
        default="dogstatsd",
        description="'dogstatsd': UDP to the local Datadog Agent (fire-and-forget, not "
        "retried); 'http': the Datadog API directly, retried in order through the outbox.",
    )
    agent_host: str = pydantic.Field(
        default_factory=lambda: _env_or("DD_AGENT_HOST", "localhost"),
        description="DogStatsD host (the Agent); default $DD_AGENT_HOST, else localhost.",
    )
    dogstatsd_port: int = pydantic.Field(
        default_factory=lambda: _env_or("DD_DOGSTATSD_PORT", "8125"),
        validate_default=True, ge=1, le=65535,
        description="DogStatsD UDP port; default $DD_DOGSTATSD_PORT, else 8125.",
    )
    api_key: pydantic.SecretStr | None = pydantic.Field(
        default_factory=lambda: _env_secret("DD_API_KEY"),
        description="Datadog API key, required for transport 'http'; default $DD_API_KEY.",
    )
    app_key: pydantic.SecretStr | None = pydantic.Field(
        default_factory=lambda: _env_secret("DD_APP_KEY"),
        description="Datadog application key (not needed to submit data); default $DD_APP_KEY.",
    )
    site: str = pydantic.Field(
        default_factory=lambda: _env_or("DD_SITE", "datadoghq.com"),
        description="Datadog site, e.g. datadoghq.eu; default $DD_SITE, else datadoghq.com.",
    )
    api_url: str | None = pydantic.Field(
        default_factory=lambda: _env("DD_API_URL"),
        description="Full base URL of the API (a relay, a proxy, a test server); overrides "
        "site. Default $DD_API_URL.",
    )
    hostname: str | None = pydantic.Field(
        default=None,
        description="Host reported with events and service checks (and, over http, metrics); "
        "unset lets the Agent choose (dogstatsd) or sends hostless metrics (http).",
    )
    tags: tuple[str, ...] = pydantic.Field(
        default=(),
        description="Tags added to everything sent, e.g. ['env:prod', 'service:watchdog'].",
    )
    timeout: float = pydantic.Field(
        default=10.0, gt=0, description="HTTP request timeout in seconds."
    )
    mentions: Literal["events", "monitors"] = pydantic.Field(
        default="events",
        description="Who pages the owners: 'events' (watchdog's events @-mention them) or "
        "'monitors' (the Datadog monitors of `watchdog datadog apply` do, and events name "
        "the owners without an @, so nothing pages twice).",
    )

    @pydantic.field_validator("api_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("api_url must start with http:// or https://")
        return value.rstrip("/") if value else value

    @pydantic.model_validator(mode="after")
    def _check_http(self) -> DatadogSettings:
        if self.transport != "http":
            return self
        if self.api_key is None or not self.api_key.get_secret_value():
            raise ValueError(
                "transport 'http' needs an API key: set api_key or the DD_API_KEY "
                "environment variable"
            )
        sites = _known_sites()
        if self.api_url is None and self.site not in sites:
            # never echo the value: it is often ${DD_SITE}, and a typo may be a pasted key
            raise ValueError(f"site is not a Datadog site; choose one of: {', '.join(sites)}")
        return self


@functools.cache
def _known_sites() -> list[str]:
    from datadog_api_client import Configuration

    variables = Configuration().get_host_settings()[0]["variables"]
    return sorted(set(variables["site"]["enum_values"]))


class DatadogSink(Sink):
    """Sends events, service checks and metrics to Datadog; results themselves are not sent.

    Over DogStatsD, events longer than a datagram are shortened (with a marker) rather
    than dropped. Over HTTP each emit makes its requests in order: events (one request
    each), service checks (one), metrics (one), and raises SinkError at the first failure.
    """

    NAME = "datadog"
    Settings = DatadogSettings
    BATCHED = frozenset({"metric", "service_check"})

    def __init__(self, settings: DatadogSettings | None = None) -> None:
        self.settings = settings or DatadogSettings()
        self.DURABLE = self.settings.transport == "http"
        self._transport: _Statsd | HttpTransport
        if self.DURABLE:  # datadog-api-client is imported only when HTTP is configured
            from watchdog.sinks.datadog_http import HttpTransport

            self._transport = HttpTransport(self.settings)
        else:
            self._transport = _Statsd(self.settings)

    def emit(self, emission: Emission) -> None:
        """Send the emission's events, service checks and metrics; SinkError on failure."""
        if self.settings.mentions == "monitors":  # Datadog monitors own the page
            emission = dataclasses.replace(emission, events=tuple(
                dataclasses.replace(e, text=unmention(e.text)) for e in emission.events))
        self._transport.send(scrub_value(emission))

    def close(self) -> None:
        self._transport.close()


def shorten(text: str, limit: int, size: Callable[[str], int] = len) -> str:
    """``text`` cut so that ``size(result) <= limit``, ending with TRUNCATED when it was cut."""
    if size(text) <= limit:
        return text
    room = limit - size(TRUNCATED)
    lo, hi = 0, len(text)
    while lo < hi:  # the longest prefix that fits (size grows with the prefix)
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if size(text[:mid]) <= room else (lo, mid - 1)
    return text[:lo] + TRUNCATED


def event_text(text: str, limit: int = EVENT_TEXT_LIMIT, size: Callable[[str], int] = len) -> str:
    """Markdown ``text`` wrapped for Datadog and shortened to ``limit`` (wrapper included)."""
    room = limit - size(_MD_OPEN) - size(_MD_CLOSE)
    return f"{_MD_OPEN}{shorten(text, room, size)}{_MD_CLOSE}"


# -- DogStatsD -------------------------------------------------------------------------------


class _Statsd:
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
        title = shorten(event.title, 500)
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
            self._client.flush()
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


# -- HTTP ------------------------------------------------------------------------------------
