"""Fixtures: a clean Datadog environment, a loopback DogStatsD socket, a fake Datadog API."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from tests.sinks.sink_fakes import FakeDatadog, UdpListener, serve

# Environment the Datadog clients read on their own; tests must not depend on the host's.
_DD_ENV = [
    "DD_AGENT_HOST", "DD_DOGSTATSD_PORT", "DD_DOGSTATSD_URL", "DD_DOGSTATSD_DISABLE",
    "DD_API_KEY", "DD_APP_KEY", "DD_SITE", "DD_API_URL", "DD_ENV", "DD_SERVICE", "DD_VERSION",
    "DD_ENTITY_ID", "DD_EXTERNAL_ENV", "DATADOG_TAGS", "DD_ORIGIN_DETECTION_ENABLED",
    "DD_TELEMETRY_HOST", "DD_TELEMETRY_PORT", "DATADOG_API_KEY", "DATADOG_APP_KEY", "NO_COLOR",
]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _DD_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def udp() -> Iterator[UdpListener]:
    listener = UdpListener()
    yield listener
    listener.sock.close()


@pytest.fixture
def fake_api() -> Iterator[FakeDatadog]:
    fake = FakeDatadog()
    server = serve(fake)
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def closed_port() -> int:
    """A loopback TCP port nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
