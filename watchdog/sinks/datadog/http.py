"""The Datadog HTTP API transport, through datadog-api-client: events, service checks and
metrics, one request per event and one per batch; every failure becomes SinkError, marked
``rejected`` when the API refused the payload itself (see ``outbox``)."""

from __future__ import annotations

import functools
import os
import socket
import time
from collections.abc import Callable
from typing import Any, TypeVar

import urllib3
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
from watchdog.sinks.datadog.limits import event_text
from watchdog.sinks.datadog.settings import DatadogSettings, env

#: Statuses that refuse the payload itself (bad request, too large): resending it cannot
#: succeed. 401/403 (keys), 408/429 and 5xx are retried: the records are not at fault.
REJECTED = frozenset({400, 413, 422})

_T = TypeVar("_T")
# Unified service tagging from the environment, as the DogStatsD client adds it.
_ENV_TAGS = {"DD_ENV": "env", "DD_SERVICE": "service", "DD_VERSION": "version"}


class HttpTransport:
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
            aggregation_key=event.aggregation_key,
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
            raise self._error(f"{where} {verb}: {_api_error(exc)}",
                              rejected=exc.status in REJECTED) from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise self._error(f"{where} failed: {_connection_error(exc)}") from exc
        except OpenApiException as exc:  # client-side validation of what we were to send
            raise self._error(f"{where} not sent, invalid payload: {exc}",
                              rejected=True) from exc

    def _error(self, message: str, *, rejected: bool = False) -> SinkError:
        text = "datadog http: " + " ".join(redact(message, self._secrets).split())
        return SinkError(text, rejected=rejected)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def _environment_tags() -> list[str]:
    tags = [t for t in os.environ.get("DATADOG_TAGS", "").split(",") if t]
    return tags + [f"{tag}:{os.environ[var]}" for var, tag in _ENV_TAGS.items() if env(var)]


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
