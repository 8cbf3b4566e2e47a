"""A loopback stand-in for Airflow's stable REST API (``/api/v2``, Airflow 3): the two list
endpoints watchdog reads, answering with bodies shaped as the API's OpenAPI schema says
(``DAGRunCollectionResponse``, ``TaskInstanceCollectionResponse``: every property present,
required ones filled). It records each request: path, query, Authorization header."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Seen:
    path: str
    query: dict[str, list[str]]
    authorization: str | None


@dataclass
class FakeAirflow:
    url: str = ""
    #: dag_id → runs: dicts with run_id, state, start, end (datetimes), and per task
    #: ``tasks: {task_id: {state, try_number, max_tries, start, end}}``
    dags: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    status: int = 200
    delay: float = 0.0
    seen: list[Seen] = field(default_factory=list)

    def answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        parts = path.strip("/").split("/")  # api v2 dags <dag> dagRuns [<run> taskInstances]
        if parts[:3] != ["api", "v2", "dags"] or len(parts) < 5 or parts[4] != "dagRuns":
            return 404, {"detail": "Not Found"}
        dag = parts[3]
        if dag not in self.dags:
            return 404, {"detail": f"The Dag with ID: `{dag}` was not found"}
        runs = sorted(self.dags[dag], key=lambda r: r["after"], reverse=True)
        limit = int(query.get("limit", ["50"])[0])
        if len(parts) == 5:
            body = [dag_run(dag, r) for r in runs]
            return 200, {"dag_runs": body[:limit], "total_entries": len(body)}
        if parts[5:] == ["~", "taskInstances"]:
            task = query["task_id"][0]
            body = [task_instance(dag, r, task) for r in runs if task in r.get("tasks", {})]
            return 200, {"task_instances": body[:limit], "total_entries": len(body)}
        return 404, {"detail": "Not Found"}


def _iso(at: datetime | None) -> str | None:
    return at.isoformat().replace("+00:00", "Z") if at is not None else None


def _version(dag: str) -> dict[str, Any]:
    return {"bundle_name": "dags-folder", "bundle_url": None, "bundle_version": None,
            "created_at": "2026-01-01T00:00:00Z", "dag_display_name": dag, "dag_id": dag,
            "id": str(uuid.UUID(int=1)), "version_number": 1}


def dag_run(dag: str, r: dict[str, Any]) -> dict[str, Any]:
    """A ``DAGRunResponse``."""
    start, end = r.get("start"), r.get("end")
    return {
        "bundle_version": None, "conf": {}, "dag_display_name": dag, "dag_id": dag,
        "dag_run_id": r["run_id"], "dag_versions": [_version(dag)],
        "data_interval_end": _iso(r["after"]), "data_interval_start": _iso(r["after"]),
        "duration": (end - start).total_seconds() if start and end else None,
        "end_date": _iso(end), "last_scheduling_decision": _iso(end or start),
        "logical_date": _iso(r["after"]), "note": None, "partition_date": None,
        "partition_key": None, "queued_at": _iso(r["after"]), "run_after": _iso(r["after"]),
        "run_type": "scheduled", "start_date": _iso(start), "state": r["state"],
        "triggered_by": "timetable", "triggering_user_name": None,
    }


def task_instance(dag: str, r: dict[str, Any], task: str) -> dict[str, Any]:
    """A ``TaskInstanceResponse``."""
    ti = r["tasks"][task]
    start, end = ti.get("start"), ti.get("end")
    return {
        "dag_display_name": dag, "dag_id": dag, "dag_run_id": r["run_id"],
        "dag_version": _version(dag),
        "duration": (end - start).total_seconds() if start and end else None,
        "end_date": _iso(end), "executor": None, "executor_config": "{}",
        "hostname": "worker-1", "id": str(uuid.uuid5(uuid.NAMESPACE_URL, r["run_id"] + task)),
        "logical_date": _iso(r["after"]), "map_index": -1, "max_tries": ti["max_tries"],
        "note": None, "operator": "PythonOperator", "operator_name": "@task", "pid": 4242,
        "pool": "default_pool", "pool_slots": 1, "priority_weight": 1, "queue": "default",
        "queued_when": _iso(start), "rendered_fields": {}, "rendered_map_index": None,
        "run_after": _iso(r["after"]), "scheduled_when": _iso(start),
        "start_date": _iso(start), "state": ti["state"], "task_display_name": task,
        "task_id": task, "trigger": None, "triggerer_job": None,
        "try_number": ti["try_number"], "unixname": "airflow",
    }


@contextmanager
def serve(fake: FakeAirflow) -> Iterator[FakeAirflow]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # http.server's naming
            split = urlsplit(self.path)
            query = parse_qs(split.query)
            fake.seen.append(Seen(split.path, query, self.headers.get("Authorization")))
            time.sleep(fake.delay)
            status, body = (fake.answer(split.path, query) if fake.status == 200
                            else (fake.status, {"detail": "Not authenticated"}))
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

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
