"""Loopback stand-ins for Datadog: a UDP socket for DogStatsD and an HTTP server for the API.

Both record exactly what the real client libraries put on the wire; nothing of ours is
mocked. The HTTP fake answers schema-valid bodies, because datadog-api-client validates
responses. (A uniquely named module, so that test files can import it by name.)
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class UdpListener:
    """A DogStatsD stand-in: a bound loopback UDP socket."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(2.0)
        self.port: int = self.sock.getsockname()[1]

    def datagrams(self, quiet: float = 0.2) -> list[bytes]:
        """Every datagram received until the socket has been quiet for ``quiet`` seconds."""
        out = [self.sock.recv(65535)]  # the first one may take a moment
        self.sock.settimeout(quiet)
        try:
            while True:
                out.append(self.sock.recv(65535))
        except TimeoutError:
            return out
        finally:
            self.sock.settimeout(2.0)

    def lines(self) -> list[bytes]:
        """The DogStatsD lines of every datagram (each datagram ends in a newline)."""
        return [line for d in self.datagrams() for line in d.split(b"\n") if line]

@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    status: int


@dataclass
class FakeDatadog:
    """What the fake API received, and how it should answer (``status`` for every request)."""

    url: str = ""
    status: int = 202
    script: list[int] = field(default_factory=list)  # statuses for the next requests, first
    delay: float = 0.0  # seconds to wait before answering
    #: answers 400 (the payload refused) to a request whose (path, body) this says yes to
    refuse: Callable[[str, Any], bool] | None = None
    #: called with each request once recorded, before it is answered (e.g. to kill the
    #: client while its request is in flight)
    on_receive: Callable[[Request], None] | None = None
    requests: list[Request] = field(default_factory=list)

    def accepted(self) -> list[Request]:
        """The requests answered with success, in arrival order."""
        return [r for r in self.requests if 200 <= r.status < 300]


def _answer(path: str, body: Any) -> dict[str, Any]:
    """A schema-valid success body for each intake endpoint."""
    if path == "/api/v1/events":
        event = {k: body[k] for k in ("title", "text", "tags", "date_happened") if k in body}
        return {"status": "ok", "event": {"id": 1, "id_str": "1", **event}}
    if path == "/api/v2/series":
        return {"errors": []}
    return {"status": "ok"}


def _handler(fake: FakeDatadog) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # http.server's naming
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            body = json.loads(raw) if raw else None
            status = fake.script.pop(0) if fake.script else fake.status
            if fake.refuse is not None and fake.refuse(self.path, body):
                status = 400
            time.sleep(fake.delay)
            request = Request("POST", self.path, dict(self.headers), body, status)
            fake.requests.append(request)
            if fake.on_receive is not None:
                fake.on_receive(request)
            if 200 <= status < 300:
                answer = _answer(self.path, body)
            else:
                answer = {"errors": ["Bad Request" if status == 400
                                     else "Internal Server Error"]}
            data = json.dumps(answer).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client died while its request was in flight (on purpose)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler



def serve(fake: FakeDatadog) -> ThreadingHTTPServer:
    """Start the fake API on a loopback port in a thread; sets ``fake.url``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()
    return server
