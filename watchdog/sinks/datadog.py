"""Datadog: events, metrics and service checks over DogStatsD (via the local Agent) or HTTP.

The only module that imports ``datadog`` (datadogpy, used for DogStatsD only) and
``datadog_api_client`` (the generated HTTP client), as their maintainers recommend
(DataDog/datadogpy#882). DogStatsD is fire-and-forget UDP, so that transport is not
durable; over HTTP every error is raised as SinkError and the outbox retries in order.
"""

from __future__ import annotations

import functools
import os
import socket
import time
from collections.abc import Callable
from typing import Any, Literal, TypeVar

import pydantic
import urllib3
from datadog.dogstatsd.base import DogStatsd
from datadog_api_client import ApiClient, Configuration
from datadog_api_client.exceptions import ApiException, OpenApiException
from datadog_api_client.v1.api.events_api import EventsApi
from datadog_api_client.v1.api.service_checks_api import ServiceChecksApi
from datadog_api_client.v1.model.event_alert_type import EventAlertType
from datadog_api_client.v1.model.event_create_request import EventCreateRequest
from datadog_api_client.v1.model.event_priority import EventPriority
from datadog_api_client.v1.model.service_check import ServiceCheck as ApiServiceCheck
from datadog_api_client.v1.model.service_check_status import ServiceCheckStatus
from datadog_api_client.v1.model.service_checks import ServiceChecks
from datadog_api_client.v2.api.metrics_api import MetricsApi
from datadog_api_client.v2.model.metric_intake_type import MetricIntakeType
from datadog_api_client.v2.model.metric_payload import MetricPayload
from datadog_api_client.v2.model.metric_point import MetricPoint
from datadog_api_client.v2.model.metric_resource import MetricResource
from datadog_api_client.v2.model.metric_series import MetricSeries

from watchdog.errors import SinkError, redact
from watchdog.models import AlertEvent, Emission, Metric, ServiceCheck
from watchdog.sinks.base import Sink, SinkSettings

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
            raise ValueError(f"unknown site {self.site!r}; choose one of: {', '.join(sites)}")
        return self


@functools.cache
def _known_sites() -> list[str]:
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
        self._transport: _Statsd | _Http = (
            _Http(self.settings) if self.DURABLE else _Statsd(self.settings)
        )

    def emit(self, emission: Emission) -> None:
        """Send the emission's events, service checks and metrics; SinkError on failure."""
        self._transport.send(emission)

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

_T = TypeVar("_T")
# Unified service tagging from the environment, as the DogStatsD client adds it.
_ENV_TAGS = {"DD_ENV": "env", "DD_SERVICE": "service", "DD_VERSION": "version"}


class _Http:
    """The Datadog API through datadog-api-client; every failure becomes SinkError."""

    def __init__(self, settings: DatadogSettings) -> None:
        self.settings = settings
        self.base_url = settings.api_url or f"https://api.{settings.site}"
        self.tags = [*settings.tags, *_environment_tags()]
        # Service checks need a host_name; without a configured one, this machine's.
        self.check_host = settings.hostname or socket.gethostname()
        self._client: ApiClient | None = None  # created on first use
        self._secrets = [
            k.get_secret_value() for k in (settings.api_key, settings.app_key) if k is not None
        ]

    @property
    def client(self) -> ApiClient:
        if self._client is None:
            self._client = ApiClient(self._configuration())
        return self._client

    def _configuration(self) -> Configuration:
        s = self.settings
        keys = {"apiKeyAuth": s.api_key.get_secret_value() if s.api_key else ""}
        if s.app_key is not None:
            keys["appKeyAuth"] = s.app_key.get_secret_value()
        config = Configuration(host=s.api_url, api_key=keys, request_timeout=s.timeout)
        if s.api_url is None:
            # Configuration() lets $DD_SITE override its argument; the settings win here.
            config.server_variables["site"] = s.site
        return config

    def send(self, emission: Emission) -> None:
        call, client = functools.partial, self.client
        for event in emission.events:
            create_event = EventsApi(client).create_event
            self._call("/api/v1/events", call(create_event, self._event(event)))
        if emission.service_checks:
            checks = ServiceChecks([self._check(c) for c in emission.service_checks])
            submit_checks = ServiceChecksApi(client).submit_service_check
            self._call("/api/v1/check_run", call(submit_checks, checks))
        if emission.metrics:
            payload = MetricPayload(series=[self._series(m) for m in emission.metrics])
            self._call("/api/v2/series", call(MetricsApi(client).submit_metrics, payload))

    def _event(self, event: AlertEvent) -> EventCreateRequest:
        extra: dict[str, Any] = {}
        if event.date_happened is not None:
            extra["date_happened"] = int(event.date_happened)
        if self.settings.hostname:
            extra["host"] = self.settings.hostname
        return EventCreateRequest(
            title=event.title, text=event_text(event.text),
            alert_type=EventAlertType(event.alert_type), priority=EventPriority(event.priority),
            aggregation_key=event.aggregation_key[:AGGREGATION_KEY_LIMIT],
            source_type_name=event.source_type_name, tags=[*event.tags, *self.tags], **extra,
        )

    def _check(self, check: ServiceCheck) -> ApiServiceCheck:
        extra: dict[str, Any] = {}
        if check.message:
            extra["message"] = check.message
        if check.timestamp is not None:
            extra["timestamp"] = int(check.timestamp)
        return ApiServiceCheck(
            check=check.name, status=ServiceCheckStatus(check.status),
            host_name=self.check_host, tags=[*check.tags, *self.tags], **extra,
        )

    def _series(self, metric: Metric) -> MetricSeries:
        extra: dict[str, Any] = {}
        if self.settings.hostname:
            extra["resources"] = [MetricResource(name=self.settings.hostname, type="host")]
        when = metric.timestamp if metric.timestamp is not None else time.time()
        return MetricSeries(
            metric=metric.name,
            type=MetricIntakeType.GAUGE if metric.type == "gauge" else MetricIntakeType.COUNT,
            points=[MetricPoint(timestamp=int(when), value=float(metric.value))],
            tags=[*metric.tags, *self.tags], **extra,
        )

    def _call(self, path: str, request: Callable[[], _T]) -> _T:
        where = f"POST {self.base_url}{path}"
        try:
            return request()
        except ApiException as exc:  # status 0: no answer (TLS failed, say)
            verb = f"answered {exc.status}" if exc.status else "failed"
            raise self._error(f"{where} {verb}: {_api_error(exc)}") from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise self._error(f"{where} failed: {_connection_error(exc)}") from exc
        except OpenApiException as exc:  # client-side validation of what we were to send
            raise self._error(f"{where} not sent, invalid payload: {exc}") from exc

    def _error(self, message: str) -> SinkError:
        return SinkError("datadog http: " + " ".join(redact(message, self._secrets).split()))

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def _environment_tags() -> list[str]:
    tags = [t for t in os.environ.get("DATADOG_TAGS", "").split(",") if t]
    return tags + [f"{tag}:{os.environ[var]}" for var, tag in _ENV_TAGS.items() if _env(var)]


def _api_error(exc: ApiException) -> str:
    """The API's own error text: its ``errors`` list, else the body, else the reason."""
    body = exc.body
    if isinstance(body, dict) and body.get("errors"):
        return "; ".join(str(e) for e in body["errors"])
    if isinstance(body, str | bytes) and body.strip():
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        return text.strip()[:300]
    return str(exc.reason or "no error text")


def _connection_error(exc: BaseException) -> str:
    """``Connection refused (NewConnectionError)`` rather than urllib3's object reprs."""
    reason = getattr(exc, "reason", None) or exc  # MaxRetryError wraps what went wrong
    errors = (e for e in (reason, reason.__context__) if isinstance(e, OSError) and e.strerror)
    text = next((e.strerror for e in errors), None) or str(reason).rpartition(">: ")[2]
    return f"{text} ({type(reason).__name__})"
