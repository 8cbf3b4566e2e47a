"""A loopback HTTP proxy between the Snowflake connector and the fakesnow server that records
what goes over the wire: every request's path and JSON body (un-gzipped). The adapter reaches
it through its own endpoint settings (host, port, protocol), as it would a PrivateLink host.

fakesnow accepts any credentials, so what the connector *sends* (the password, the key-pair
JWT, the OAuth token, the session parameters) is asserted here, and the SQL each poll sends.
"""

from __future__ import annotations

import gzip
import http.client
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

LOGIN = "/session/v1/login-request"
QUERY = "/queries/v1/query-request"
_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


@dataclass(frozen=True)
class Sent:
    """One request as the connector sent it: path (without the query string) and body."""

    path: str
    body: Any


class Recorder:
    """The requests seen so far, in order."""

    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self._lock = threading.Lock()

    def add(self, item: Sent) -> None:
        with self._lock:
            self.sent.append(item)

    def logins(self) -> list[dict[str, Any]]:
        """The ``data`` object of every login request."""
        return [s.body["data"] for s in self.sent if s.path == LOGIN]

    def queries(self) -> list[str]:
        """The SQL text of every query request."""
        return [s.body["sqlText"] for s in self.sent if s.path == QUERY]

    def clear(self) -> None:
        with self._lock:
            self.sent.clear()


def _handler(upstream: tuple[str, int], recorder: Recorder) -> type[BaseHTTPRequestHandler]:
    class Forward(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _forward(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = gzip.decompress(raw) if self.headers.get("Content-Encoding") == "gzip" else raw
            try:
                parsed: Any = json.loads(body) if body else None
            except ValueError:
                parsed = body
            recorder.add(Sent(self.path.split("?", 1)[0], parsed))
            conn = http.client.HTTPConnection(*upstream, timeout=60)
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
                conn.request(self.command, self.path, body=raw, headers=headers)
                reply = conn.getresponse()
                data = reply.read()
            finally:
                conn.close()
            self.send_response(reply.status)
            for k, v in reply.getheaders():
                if k.lower() not in _HOP:
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = _forward

        def log_message(self, format: str, *args: Any) -> None:
            return None

    return Forward


@contextmanager
def recording_proxy(host: str, port: int) -> Iterator[tuple[int, Recorder]]:
    """A proxy on 127.0.0.1 (an ephemeral port) forwarding to ``host:port``: yields the
    proxy's port and its recorder."""
    recorder = Recorder()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler((host, port), recorder))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="snowflake proxy", daemon=True)
    thread.start()
    try:
        yield server.server_address[1], recorder
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
