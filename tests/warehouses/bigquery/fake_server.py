"""A loopback stand-in for the BigQuery REST API, serving recorded responses by SQL text.

The real google-cloud-bigquery client talks to it over HTTP (``api_endpoint``). It answers
jobs.insert (dry run and real), jobs.query, getQueryResults, tables.get, tables.getIamPolicy,
datasets.get and an OAuth token endpoint, keeps every request it received for the tests to
assert on, and cannot execute SQL: a query without a recording is answered with a 400 that
names the SQL.

A recording is ``{"schema": [[name, type], ...], "rows": [[...], ...], "bytes": n}`` (values
as the REST API sends them: text, ``null``), or ``{"error": {"code": 403, "message": ...}}``;
each is registered with the query parameters it expects, ``{name: [type, value]}`` as the
client puts them on the wire (``["TIMESTAMP", "2026-03-01 00:00:00+00:00"]``, ``["INT64",
"41"]``, ``["FLOAT64", 0.5]``, arrays as ``["ARRAY<STRING>", ["a", "b"]]``). A query whose
parameters differ (name, type or value) is answered with a 400 naming the difference, and the
difference is kept in ``mismatches`` (the fixture fails the test on any).
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

_PREFIX = "/bigquery/v2/projects/"


def normalise(sql: str) -> str:
    """SQL text with runs of whitespace folded, the key of a recording."""
    return re.sub(r"\s+", " ", sql).strip()


@dataclass
class Request:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class FakeBigQuery:
    """The server's state: recordings, tables for tables.get, and the request log."""

    recordings: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: tables.getIamPolicy: ``project.dataset.table`` -> bindings ``[{role, members}]``
    policies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: datasets.get: ``project.dataset`` -> its ``access`` entries, as the REST API has them
    datasets: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, sql: str, response: dict[str, Any], params: dict[str, list[Any]],
               also: bool = False) -> None:
        """Answer ``sql`` with ``response`` when it comes with exactly ``params``; replaces
        what ``sql`` was recorded with, unless ``also`` (one SQL text, several parameters)."""
        entries = self.recordings.get(normalise(sql), []) if also else []
        self.recordings[normalise(sql)] = [*entries, {**response, "params": params}]

    def add_table(self, table_id: str, fields: list[list[Any]]) -> None:
        """Serve ``project.dataset.table`` on tables.get with these ``[name, type]`` fields
        (``[name, "RECORD", [fields]]`` for a nested one)."""
        project, dataset, table = table_id.split(".")
        self.tables[table_id] = {
            "kind": "bigquery#table", "id": f"{project}:{dataset}.{table}",
            "tableReference": {"projectId": project, "datasetId": dataset, "tableId": table},
            "schema": {"fields": _fields(fields)}, "type": "TABLE"}

    def table_gets(self) -> list[str]:
        """The ``project.dataset.table`` of each tables.get received, in order."""
        return [".".join(r.path[len(_PREFIX):].split("/")[0::2]) for r in self.requests
                if r.method == "GET" and "/tables/" in r.path]

    def queries(self) -> list[Request]:
        """The query requests (dry runs and real runs), in order."""
        return [r for r in self.requests if r.method == "POST" and "query" in _config(r.body)]

    def answer(self, req: Request) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.requests.append(req)
        parts = req.path[len(_PREFIX):].split("/") if req.path.startswith(_PREFIX) else []
        if req.path == "/token":
            return 200, {"access_token": "fake-token", "expires_in": 3600,
                         "token_type": "Bearer"}
        if len(parts) == 2 and req.method == "POST" and parts[1] == "jobs":
            return self._insert(parts[0], req.body)
        if len(parts) == 2 and req.method == "POST" and parts[1] == "queries":
            return self._query(parts[0], req.body)
        if len(parts) == 3 and parts[1] == "queries":
            return 200, self._results(self.jobs[parts[2]])
        if len(parts) == 3 and parts[1] == "jobs":
            return 200, self.jobs[parts[2]]["job"]
        if len(parts) == 5 and req.method == "POST" and parts[4].endswith(":getIamPolicy"):
            table_id = ".".join([parts[0], parts[2], parts[4].removesuffix(":getIamPolicy")])
            if table_id not in self.policies:
                return _error(404, f"Not found: Table {table_id}")
            return 200, {"version": 1, "etag": "BwX=", "bindings": self.policies[table_id]}
        if len(parts) == 3 and req.method == "GET" and parts[1] == "datasets":
            dataset_id = f"{parts[0]}.{parts[2]}"
            if dataset_id not in self.datasets:
                return _error(404, f"Not found: Dataset {dataset_id}")
            return 200, {"kind": "bigquery#dataset", "id": f"{parts[0]}:{parts[2]}",
                         "datasetReference": {"projectId": parts[0], "datasetId": parts[2]},
                         "access": self.datasets[dataset_id]}
        if len(parts) == 5 and parts[1] == "datasets" and parts[3] == "tables":
            table = self.tables.get(".".join([parts[0], parts[2], parts[4]]))
            return (200, table) if table else _error(404, f"Not found: Table {parts[4]}")
        return _error(404, f"the fake has no route for {req.method} {req.path}")

    def _recording(self, sql: str, sent: list[dict[str, Any]] | None
                   ) -> tuple[int, dict[str, Any]] | dict[str, Any]:
        entries = self.recordings.get(normalise(sql))
        if not entries:
            return _error(400, f"no recording for: {normalise(sql)}")
        got = wire_params(sent or [])
        found = next((e for e in entries if e["params"] == got), entries[-1])
        want = found["params"]
        if got != want:
            diff = "; ".join(f"{k}: sent {got.get(k)!r}, recorded {want.get(k)!r}"
                             for k in sorted(set(got) | set(want)) if got.get(k) != want.get(k))
            message = f"bound parameters differ from the recording: {diff}"
            with self.lock:
                self.mismatches.append(f"{message} (SQL: {normalise(sql)[:120]})")
            return _error(400, message, "invalidQuery")
        if "error" in found:
            return _error(found["error"]["code"], found["error"]["message"],
                          found["error"].get("reason", "invalid"))
        return found

    def _insert(self, project: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        config = body["configuration"]
        found = self._recording(config["query"]["query"], config["query"].get("queryParameters"))
        if isinstance(found, tuple):
            return found
        ref = {**body.get("jobReference", {}), "projectId": project, "location": "US"}
        ref.setdefault("jobId", uuid.uuid4().hex)
        size = str(found.get("bytes", 0))
        job = {"jobReference": ref, "configuration": config, "status": {"state": "DONE"},
               "statistics": {"totalBytesProcessed": size,
                              "query": {"totalBytesProcessed": size}}}
        if not config.get("dryRun"):
            self.jobs[ref["jobId"]] = {"job": job, "found": found}
        return 200, job

    def _query(self, project: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        found = self._recording(body["query"], body.get("queryParameters"))
        if isinstance(found, tuple):
            return found
        ref = {"projectId": project, "jobId": uuid.uuid4().hex, "location": "US"}
        job = {"jobReference": ref, "status": {"state": "DONE"}, "configuration": {
            "query": {"query": body["query"]}}, "statistics": {}}
        self.jobs[ref["jobId"]] = {"job": job, "found": found}
        return 200, self._results(self.jobs[ref["jobId"]])

    @staticmethod
    def _results(entry: dict[str, Any]) -> dict[str, Any]:
        found = entry["found"]
        fields = [{"name": n, "type": t, "mode": "NULLABLE"} for n, t in found["schema"]]
        rows = [{"f": [{"v": v} for v in row]} for row in found["rows"]]
        return {"jobReference": entry["job"]["jobReference"], "jobComplete": True,
                "schema": {"fields": fields}, "rows": rows, "totalRows": str(len(rows))}


def wire_params(sent: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """``queryParameters`` of a request as ``{name: [type, value]}`` (see the module doc)."""
    out: dict[str, list[Any]] = {}
    for p in sent:
        kind, value = p["parameterType"], p.get("parameterValue") or {}
        if kind["type"] == "ARRAY":
            out[p["name"]] = [f"ARRAY<{kind['arrayType']['type']}>",
                              [v.get("value") for v in value.get("arrayValues", [])]]
        else:
            out[p["name"]] = [kind["type"], value.get("value")]
    return out


def _fields(fields: list[list[Any]]) -> list[dict[str, Any]]:
    return [{"name": f[0], "type": f[1], "mode": "NULLABLE",
             **({"fields": _fields(f[2])} if len(f) > 2 else {})} for f in fields]


def _config(body: dict[str, Any]) -> dict[str, Any]:
    """The query part of a jobs.insert or jobs.query body."""
    return body.get("configuration", body) if isinstance(body, dict) else {}


def _error(code: int, message: str, reason: str = "notFound") -> tuple[int, dict[str, Any]]:
    return code, {"error": {"code": code, "message": message,
                            "errors": [{"reason": reason, "message": message}]}}


def serve(fake: FakeBigQuery) -> tuple[ThreadingHTTPServer, str]:
    """Start the fake on an ephemeral loopback port; returns the server and its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            url = urlparse(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else {}
            except ValueError:  # the OAuth token request is form-encoded
                body = {"form": raw.decode()}
            req = Request(self.command, url.path, parse_qs(url.query), body,
                          {k.lower(): v for k, v in self.headers.items()})
            status, payload = fake.answer(req)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _handle

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                     daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"
