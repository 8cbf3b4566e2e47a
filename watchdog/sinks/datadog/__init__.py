"""Datadog: events, metrics and service checks over DogStatsD (via the local Agent) or HTTP.

DogStatsD (``statsd.py``) is fire-and-forget UDP, so that transport is not durable; over
HTTP (``http.py``, the generated ``datadog_api_client``) every error is raised as SinkError
and the outbox retries in order. Datadog's limits are enforced in ``limits.py`` only.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from watchdog.models import Emission
from watchdog.secrets import scrub_value
from watchdog.sinks.base import Sink
from watchdog.sinks.datadog.limits import fit
from watchdog.sinks.datadog.settings import DatadogSettings
from watchdog.sinks.mentions import unmention

if TYPE_CHECKING:
    from watchdog.sinks.datadog.http import HttpTransport
    from watchdog.sinks.datadog.statsd import StatsdTransport

__all__ = ["DatadogSettings", "DatadogSink"]


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
        self._transport: StatsdTransport | HttpTransport
        if self.DURABLE:  # datadog-api-client is imported only when HTTP is configured
            from watchdog.sinks.datadog.http import HttpTransport

            self._transport = HttpTransport(self.settings)
        else:
            from watchdog.sinks.datadog.statsd import StatsdTransport

            self._transport = StatsdTransport(self.settings)

    def emit(self, emission: Emission) -> None:
        """Send the emission's events, service checks and metrics; SinkError on failure."""
        if self.settings.mentions == "monitors":  # Datadog monitors own the page
            emission = dataclasses.replace(emission, events=tuple(
                dataclasses.replace(e, text=unmention(e.text)) for e in emission.events))
        self._transport.send(fit(scrub_value(emission)))

    def close(self) -> None:
        self._transport.close()
