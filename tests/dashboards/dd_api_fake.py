"""A loopback stand-in for Datadog's Dashboards and Monitors APIs (v1), with state.

It keeps what it is sent, answers as the API does (ids, and fields the server adds: widget
ids, timestamps, option defaults, monitor state), and records every request, so that
tests assert on what datadog-api-client put on the wire. Nothing of ours is mocked.
"""

from __future__ import annotations

import copy
import itertools
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

_NOW = "2026-01-05T10:00:00.000000+00:00"


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class FakeDatadogApi:
    url: str = ""
    monitors: dict[int, dict[str, Any]] = field(default_factory=dict)
    dashboards: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    #: answer this status (with an error body) to every request, when set
    status: int | None = None
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1001))

    def writes(self) -> list[Call]:
        return [c for c in self.calls if c.method != "GET"]

    def seed_monitor(self, body: dict[str, Any]) -> int:
        monitor_id = next(self._ids)
        self.monitors[monitor_id] = {**copy.deepcopy(body), "id": monitor_id}
        return monitor_id

    def seed_dashboard(self, body: dict[str, Any]) -> str:
        dashboard_id = f"abc-{next(self._ids)}-xyz"
        self.dashboards[dashboard_id] = self._dashboard(dashboard_id, body)
        return dashboard_id

    # -- what the server does -------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, list[str]],
               body: Any) -> tuple[int, Any]:
        parts = path.strip("/").split("/")  # api, v1, monitor|dashboard[, id]
        what, ident = parts[2], (parts[3] if len(parts) > 3 else None)
        handler = getattr(self, f"_{method.lower()}_{what}", None)
        if handler is None:
            return 404, {"errors": ["Not found"]}
        return handler(ident, query, body)  # type: ignore[no-any-return]

    def _get_monitor(self, ident: str | None, query: dict[str, list[str]],
                     body: Any) -> tuple[int, Any]:
        if ident is not None:
            found = self.monitors.get(int(ident))
            return (200, found) if found else (404, {"errors": ["Monitor not found"]})
        wanted = [t for t in query.get("monitor_tags", [""])[0].split(",") if t]
        found = [m for m in self.monitors.values() if all(t in m["tags"] for t in wanted)]
        if "page" in query:
            size = int(query.get("page_size", ["100"])[0])
            page = int(query["page"][0])
            found = found[page * size:(page + 1) * size]
        return 200, found

    def _post_monitor(self, ident: str | None, query: dict[str, list[str]],
                      body: Any) -> tuple[int, Any]:
        monitor_id = next(self._ids)
        options = {"new_host_delay": 300, "silenced": {}, **body.get("options", {})}
        self.monitors[monitor_id] = {
            **body, "options": options, "id": monitor_id, "created": _NOW, "modified": _NOW,
            "overall_state": "No Data", "multi": " by " in body["query"], "priority": None}
        return 200, self.monitors[monitor_id]

    def _put_monitor(self, ident: str | None, query: dict[str, list[str]],
                     body: Any) -> tuple[int, Any]:
        current = self.monitors.get(int(ident or 0))
        if current is None:
            return 404, {"errors": ["Monitor not found"]}
        current.update(body)  # "Edit a monitor": the fields given replace the old ones
        current["modified"] = _NOW
        return 200, current

    def _delete_monitor(self, ident: str | None, query: dict[str, list[str]],
                        body: Any) -> tuple[int, Any]:
        if self.monitors.pop(int(ident or 0), None) is None:
            return 404, {"errors": ["Monitor not found"]}
        return 200, {"deleted_monitor_id": int(ident or 0)}

    def _dashboard(self, dashboard_id: str, body: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(body)
        for n, widget in enumerate(_all_widgets(out["widgets"])):
            widget["id"] = 7000 + n  # the server numbers every widget
        return {**out, "id": dashboard_id, "url": f"/dashboard/{dashboard_id}",
                "author_handle": "ops@example.com", "created_at": _NOW, "modified_at": _NOW}

    def _get_dashboard(self, ident: str | None, query: dict[str, list[str]],
                       body: Any) -> tuple[int, Any]:
        if ident is not None:
            found = self.dashboards.get(ident)
            return (200, found) if found else (404, {"errors": ["Dashboard not found"]})
        start, count = int(query.get("start", ["0"])[0]), int(query.get("count", ["100"])[0])
        keys = ("id", "title", "description", "layout_type", "url", "author_handle",
                "created_at", "modified_at")
        summaries = [{k: d[k] for k in keys if k in d} for d in self.dashboards.values()]
        return 200, {"dashboards": summaries[start:start + count]}

    def _post_dashboard(self, ident: str | None, query: dict[str, list[str]],
                        body: Any) -> tuple[int, Any]:
        dashboard_id = f"wdg-{next(self._ids)}-dsh"
        self.dashboards[dashboard_id] = self._dashboard(dashboard_id, body)
        return 200, self.dashboards[dashboard_id]

    def _put_dashboard(self, ident: str | None, query: dict[str, list[str]],
                       body: Any) -> tuple[int, Any]:
        if ident not in self.dashboards:
            return 404, {"errors": ["Dashboard not found"]}
        self.dashboards[ident] = self._dashboard(ident, body)  # PUT replaces the dashboard
        return 200, self.dashboards[ident]

    def _delete_dashboard(self, ident: str | None, query: dict[str, list[str]],
                          body: Any) -> tuple[int, Any]:
        if self.dashboards.pop(ident or "", None) is None:
            return 404, {"errors": ["Dashboard not found"]}
        return 200, {"deleted_dashboard_id": ident}


def _all_widgets(widgets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for w in widgets:
        out.append(w)
        out += _all_widgets(w["definition"].get("widgets", []))
    return out


def _handler(fake: FakeDatadogApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
            body = json.loads(raw) if raw else None
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            fake.calls.append(Call(self.command, url.path, query, dict(self.headers), body))
            if fake.status is not None:
                status, answer = fake.status, {"errors": ["Forbidden"]}
            else:
                status, answer = fake.handle(self.command, url.path, query, body)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = _serve  # http.server's naming

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def serve(fake: FakeDatadogApi) -> ThreadingHTTPServer:
    """Start the fake on a loopback port in a thread; sets ``fake.url``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()
    return server
