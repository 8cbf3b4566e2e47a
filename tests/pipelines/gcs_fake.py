"""A loopback stand-in for the Google Cloud Storage JSON API, as google-cloud-storage calls it
under ``STORAGE_EMULATOR_HOST``: object media downloads
(``GET /download/storage/v1/b/{bucket}/o/{object}?alt=media``, with the generation
preconditions ``ifGenerationMatch``/``ifGenerationNotMatch`` answered 304 as GCS does) and
bucket metadata (``GET /storage/v1/b/{bucket}``). Answers carry GCS's download headers
(``x-goog-generation``, ``x-goog-hash`` with the crc32c the client verifies) and its JSON
error bodies. It records each request: path, query, Authorization header.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import google_crc32c


@dataclass
class Seen:
    path: str
    query: dict[str, list[str]]
    authorization: str | None
    status: int = 0


@dataclass
class FakeGcs:
    url: str = ""
    #: bucket → object name → (generation, bytes)
    buckets: dict[str, dict[str, tuple[int, bytes]]] = field(default_factory=dict)
    status: int | None = None  # answer every request with this status (403: refused)
    delay: float = 0.0  # seconds before each answer
    seen: list[Seen] = field(default_factory=list)

    def put(self, bucket: str, name: str, body: bytes) -> None:
        objects = self.buckets.setdefault(bucket, {})
        generation = objects[name][0] + 1 if name in objects else 1_700_000_000_000_001
        objects[name] = (generation, body)

    def answer(self, path: str, query: dict[str, list[str]]
               ) -> tuple[int, dict[str, str], bytes]:
        if self.status is not None:
            return _error(self.status, "Caller does not have storage.objects.get access.")
        parts = path.strip("/").split("/")
        if parts[:4] == ["download", "storage", "v1", "b"] and len(parts) == 7:
            return self._media(unquote(parts[4]), unquote(parts[6]), query)
        if parts[:3] == ["storage", "v1", "b"] and len(parts) == 4:
            if parts[3] not in self.buckets:
                return _error(404, "The specified bucket does not exist.")
            return 200, {"Content-Type": "application/json"}, json.dumps(
                {"kind": "storage#bucket", "id": parts[3], "name": parts[3]}).encode()
        return _error(404, "Not Found")

    def _media(self, bucket: str, name: str, query: dict[str, list[str]]
               ) -> tuple[int, dict[str, str], bytes]:
        if bucket not in self.buckets:
            return _error(404, "The specified bucket does not exist.")
        if name not in self.buckets[bucket]:
            return _error(404, f"No such object: {bucket}/{name}")
        generation, body = self.buckets[bucket][name]
        not_match = query.get("ifGenerationNotMatch")
        if not_match and int(not_match[0]) == generation:
            return 304, {}, b""
        crc = base64.b64encode(google_crc32c.Checksum(body).digest()).decode()
        return 200, {"Content-Type": "application/json", "x-goog-generation": str(generation),
                     "x-goog-metageneration": "1", "x-goog-hash": f"crc32c={crc}",
                     "x-goog-storage-class": "STANDARD", "ETag": f'"{generation}"'}, body


def _error(status: int, message: str) -> tuple[int, dict[str, str], bytes]:
    body = {"error": {"code": status, "message": message,
                      "errors": [{"message": message, "domain": "global",
                                  "reason": "notFound" if status == 404 else "forbidden"}]}}
    return status, {"Content-Type": "application/json"}, json.dumps(body).encode()


@contextmanager
def serve(fake: FakeGcs) -> Iterator[FakeGcs]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # http.server's naming
            split = urlsplit(self.path)
            query = parse_qs(split.query)
            time.sleep(fake.delay)
            status, headers, body = fake.answer(split.path, query)
            fake.seen.append(Seen(split.path, query, self.headers.get("Authorization"),
                                  status))
            self.send_response(status)
            for k, v in {**headers, "Content-Length": str(len(body))}.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
