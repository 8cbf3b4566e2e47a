"""Settings of the Datadog sink, with their environment fallbacks (``DD_API_KEY``, …)."""

from __future__ import annotations

import functools
import os
from typing import Literal

import pydantic

from watchdog.sinks.base import SinkSettings


def env(name: str) -> str | None:
    """The environment variable ``name``, stripped; None when unset or blank."""
    return os.environ.get(name, "").strip() or None


def _env_or(name: str, default: str) -> str:
    return env(name) or default


def _env_secret(name: str) -> pydantic.SecretStr | None:
    value = env(name)
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
        default_factory=lambda: env("DD_API_URL"),
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


