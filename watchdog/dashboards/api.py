"""Datadog's Dashboards and Monitors APIs through datadog-api-client (the only module of
this package that imports it). Every body is turned into the client's model class first
(:func:`to_model`), so a body the API schema does not know fails here, before any write."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import urllib3
from datadog_api_client import ApiClient, Configuration
from datadog_api_client.exceptions import ApiException, OpenApiException
from datadog_api_client.model_utils import (
    ModelComposed,
    ModelNormal,
    OpenApiModel,
    validate_and_convert_types,
)
from datadog_api_client.v1.api.dashboards_api import DashboardsApi
from datadog_api_client.v1.api.monitors_api import MonitorsApi
from datadog_api_client.v1.model.dashboard import Dashboard
from datadog_api_client.v1.model.monitor import Monitor
from datadog_api_client.v1.model.monitor_update_request import MonitorUpdateRequest

from watchdog.config.models import Config
from watchdog.dashboards import identity
from watchdog.errors import WatchdogError, redact

Body = dict[str, Any]
_T = TypeVar("_T")
#: What an application key must be allowed to do, said when Datadog answers 403.
_SCOPES = "dashboards_read, dashboards_write, monitors_read and monitors_write"


@dataclass(frozen=True, slots=True)
class Remote:
    """An object Datadog holds that we manage: its id and its body as Datadog returns it."""

    id: str
    body: Body


@dataclass(frozen=True, slots=True)
class Credentials:
    api_key: str
    app_key: str
    api_url: str | None
    site: str


def credentials(config: Config) -> Credentials:
    """Keys and endpoint from ``sinks.datadog`` where given, else ``DD_API_KEY``,
    ``DD_APP_KEY``, ``DD_API_URL``, ``DD_SITE``."""
    sink = config.sinks.get("datadog") or {}

    def pick(field: str, env: str) -> str:
        return str(sink.get(field) or os.environ.get(env, "")).strip()

    api_key, app_key = pick("api_key", "DD_API_KEY"), pick("app_key", "DD_APP_KEY")
    missing = [(f, e) for f, e, v in (("api_key", "DD_API_KEY", api_key),
                                      ("app_key", "DD_APP_KEY", app_key)) if not v]
    if missing:
        fields = " and ".join(f"sinks.datadog.{f}" for f, _ in missing)
        envs = " and ".join(e for _, e in missing)
        error = WatchdogError(
            f"{config.source}: reading and writing dashboards and monitors needs {envs} "
            f"(or {fields})",
            hint=f"set {envs} in the environment; keys are made under Organization Settings "
                 f"in Datadog, and the application key needs {_SCOPES}")
        error.exit_code = 2
        raise error
    url = pick("api_url", "DD_API_URL").rstrip("/") or None
    return Credentials(api_key, app_key, url, pick("site", "DD_SITE") or "datadoghq.com")


def to_model(body: Mapping[str, Any], cls: type[_T], what: str) -> _T:
    """``body`` as the client's model ``cls``; WatchdogError when the API schema does not
    know a key, a type (widget, monitor) or an enum value in it."""
    try:
        model: _T = validate_and_convert_types(dict(body), (cls,), [what], True, True,
                                           Configuration())
    except OpenApiException as exc:
        raise WatchdogError(f"{what}: not a valid {cls.__name__}: {exc}") from None
    problem = unknown(model, what)
    if problem:
        raise WatchdogError(f"{problem}: not part of Datadog's {cls.__name__} schema")
    return model


def unknown(model: Any, path: str) -> str | None:
    """The path of the first unknown key or unparsed value under ``model``, if any."""
    if isinstance(model, list):
        return next((p for i, v in enumerate(model) if (p := unknown(v, f"{path}[{i}]"))), None)
    if not isinstance(model, OpenApiModel):
        return None
    if model._unparsed:
        return f"{path} (unknown type or value)"
    if isinstance(model, ModelComposed):
        return unknown(model.get_oneof_instance(), path)
    if not isinstance(model, ModelNormal):
        return None
    for name, value in model._data_store.items():
        if name not in model.attribute_map:
            return f"{path}.{name}"
        if found := unknown(value, f"{path}.{name}"):
            return found
    return None


class DatadogApi:
    """The managed dashboards and monitors of one Datadog organisation."""

    def __init__(self, creds: Credentials, timeout: float = 30.0) -> None:
        keys = {"apiKeyAuth": creds.api_key, "appKeyAuth": creds.app_key}
        config = Configuration(host=creds.api_url, api_key=keys, request_timeout=timeout)
        if creds.api_url is None:  # Configuration() lets $DD_SITE override its argument
            config.server_variables["site"] = creds.site
        self.client = ApiClient(config)
        self.base_url = creds.api_url or f"https://api.{creds.site}"
        self._secrets = [creds.api_key, creds.app_key]

    def close(self) -> None:
        self.client.close()

    # -- reads ----------------------------------------------------------------------------

    def monitors(self) -> dict[str, list[Remote]]:
        """Our monitors by key (a key with two objects means a duplicate to prune)."""
        api = MonitorsApi(self.client)
        found = self._call("GET /api/v1/monitor", lambda: list(
            api.list_monitors_with_pagination(monitor_tags=identity.MANAGED, page_size=100)))
        return _by_key((identity.of_monitor(list(m.get("tags", []))), str(m["id"]), m.to_dict())
                       for m in found)

    def dashboards(self) -> dict[str, list[Remote]]:
        api = DashboardsApi(self.client)
        found = self._call("GET /api/v1/dashboard", lambda: list(
            api.list_dashboards_with_pagination(filter_shared=False, count=100)))
        ours = [(k, str(d["id"])) for d in found
                if (k := identity.of_dashboard(d.get("description")))]
        return _by_key((k, i, self._get_dashboard(api, i)) for k, i in ours)

    def _get_dashboard(self, api: DashboardsApi, dashboard_id: str) -> Body:
        found = self._call(f"GET /api/v1/dashboard/{dashboard_id}",
                           lambda: api.get_dashboard(dashboard_id))
        return dict(found.to_dict())

    # -- writes ---------------------------------------------------------------------------

    def create_monitor(self, body: Body, what: str) -> str:
        model = to_model(body, Monitor, what)
        made = self._call("POST /api/v1/monitor",
                          lambda: MonitorsApi(self.client).create_monitor(model))
        return str(made["id"])

    def update_monitor(self, monitor_id: str, body: Body, what: str) -> None:
        model = to_model(body, MonitorUpdateRequest, what)
        self._call(f"PUT /api/v1/monitor/{monitor_id}",
                   lambda: MonitorsApi(self.client).update_monitor(int(monitor_id), model))

    def delete_monitor(self, monitor_id: str) -> None:
        self._call(f"DELETE /api/v1/monitor/{monitor_id}",
                   lambda: MonitorsApi(self.client).delete_monitor(int(monitor_id)))

    def create_dashboard(self, body: Body, what: str) -> str:
        model = to_model(body, Dashboard, what)
        made = self._call("POST /api/v1/dashboard",
                          lambda: DashboardsApi(self.client).create_dashboard(model))
        return str(made["id"])

    def update_dashboard(self, dashboard_id: str, body: Body, what: str) -> None:
        model = to_model(body, Dashboard, what)
        self._call(f"PUT /api/v1/dashboard/{dashboard_id}",
                   lambda: DashboardsApi(self.client).update_dashboard(dashboard_id, model))

    def delete_dashboard(self, dashboard_id: str) -> None:
        self._call(f"DELETE /api/v1/dashboard/{dashboard_id}",
                   lambda: DashboardsApi(self.client).delete_dashboard(dashboard_id))

    def _call(self, request: str, send: Callable[[], _T]) -> _T:
        try:
            return send()
        except ApiException as exc:
            raise self._error(request, exc) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise WatchdogError(redact(f"cannot reach Datadog at {self.base_url} ({request}): "
                                       f"{exc}", self._secrets),
                                hint="check DD_API_URL / DD_SITE and the network") from None
        except OpenApiException as exc:
            raise WatchdogError(redact(f"{request}: unexpected answer from Datadog: {exc}",
                                       self._secrets)) from None

    def _error(self, request: str, exc: ApiException) -> WatchdogError:
        hints = {401: "check DD_API_KEY, DD_APP_KEY and DD_SITE (keys belong to one site)",
                 403: f"the application key needs the scopes {_SCOPES}"}
        body = str(exc.body or "").strip().replace("\n", " ")[:300]
        text = f"Datadog answered {exc.status} {exc.reason or ''} to {request}: {body}"
        return WatchdogError(redact(text, self._secrets), hint=hints.get(exc.status or 0))


def _by_key(found: Iterable[tuple[str | None, str, Body]]) -> dict[str, list[Remote]]:
    out: dict[str, list[Remote]] = {}
    for object_key, object_id, body in found:
        if object_key is not None:
            out.setdefault(object_key, []).append(Remote(object_id, body))
    return out
