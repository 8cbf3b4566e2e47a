"""A loopback stand-in for Airflow's stable REST API: ``/api/v2`` (Airflow 3) or, with
``api=1``, ``/api/v1`` (Airflow 2). The endpoints watchdog reads answer with bodies shaped as
each version's OpenAPI schema says: v2 ``DAGRunCollectionResponse`` and
``TaskInstanceCollectionResponse``; v1 ``DAGRunCollection`` and ``TaskInstanceCollection``
(airflow/api_connexion/openapi/v1.yaml, 2.9), every property present. The other version's
paths are 404, as on the real servers. It records each request: method, path, query,
Authorization header and JSON body."""

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
    method: str = "GET"
    body: Any = None


@dataclass
class FakeAirflow:
    url: str = ""
    #: dag_id → runs: dicts with run_id, state, start, end (datetimes), and per task
    #: ``tasks: {task_id: {state, try_number, max_tries, start, end}}``
    dags: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    status: int = 200
    delay: float = 0.0
    api: int = 2
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


    def answer_v1(self, path: str, query: dict[str, list[str]], body: Any) -> tuple[int, Any]:
        """Airflow 2's ``GET /api/v1/dags/{dag}/dagRuns`` (``order_by`` on execution_date)
        and ``POST /api/v1/dags/~/dagRuns/~/taskInstances/list``."""
        parts = path.strip("/").split("/")
        if parts == ["api", "v1", "dags", "~", "dagRuns", "~", "taskInstances", "list"]:
            if body is None:
                return 405, {"detail": "Method Not Allowed", "status": 405}
            found = [task_instance_v1(dag, r, task) for dag in body.get("dag_ids", [])
                     for r in sorted(self.dags.get(dag, []), key=lambda r: r["after"])
                     if r["run_id"] in body.get("dag_run_ids", [r["run_id"]])
                     for task in body.get("task_ids", []) if task in r.get("tasks", {})]
            return 200, {"task_instances": found, "total_entries": len(found)}
        if parts[:3] != ["api", "v1", "dags"] or parts[4:] != ["dagRuns"] or body is not None:
            return 404, {"detail": "Not Found", "status": 404, "title": "Not Found"}
        if parts[3] not in self.dags:
            return 404, {"detail": f"DAG with dag_id: '{parts[3]}' not found", "status": 404,
                         "title": "DAG not found", "type": "about:blank"}
        order = query.get("order_by", ["execution_date"])[0]
        runs = sorted(self.dags[parts[3]], key=lambda r: r["after"],
                      reverse=order.startswith("-"))
        limit = int(query.get("limit", ["100"])[0])
        body = [dag_run_v1(parts[3], r) for r in runs]
        return 200, {"dag_runs": body[:limit], "total_entries": len(body)}


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


def dag_run_v1(dag: str, r: dict[str, Any]) -> dict[str, Any]:
    """A v1 ``DAGRun``: times as ``+00:00`` offsets, as Airflow 2 writes them."""
    at = r["after"].isoformat()
    return {
        "conf": {}, "dag_id": dag, "dag_run_id": r["run_id"], "data_interval_end": at,
        "data_interval_start": at, "end_date": _v1(r.get("end")), "execution_date": at,
        "external_trigger": False, "last_scheduling_decision": _v1(r.get("end")),
        "logical_date": at, "note": None, "run_type": "scheduled",
        "start_date": _v1(r.get("start")), "state": r["state"],
    }


def task_instance_v1(dag: str, r: dict[str, Any], task: str) -> dict[str, Any]:
    """A v1 ``TaskInstance``."""
    ti = r["tasks"][task]
    start, end = ti.get("start"), ti.get("end")
    return {
        "dag_id": dag, "dag_run_id": r["run_id"],
        "duration": (end - start).total_seconds() if start and end else None,
        "end_date": _v1(end), "execution_date": r["after"].isoformat(), "executor": None,
        "executor_config": "{}", "hostname": "worker-1", "map_index": -1,
        "max_tries": ti["max_tries"], "note": None, "operator": "PythonOperator",
        "pid": 4242, "pool": "default_pool", "pool_slots": 1, "priority_weight": 1,
        "queue": "default", "queued_when": _v1(start), "rendered_fields": {},
        "rendered_map_index": None, "sla_miss": None, "start_date": _v1(start),
        "state": ti["state"], "task_display_name": task, "task_id": task, "trigger": None,
        "triggerer_job": None, "try_number": ti["try_number"], "unixname": "airflow",
    }


def _v1(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


@contextmanager
def serve(fake: FakeAirflow) -> Iterator[FakeAirflow]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # http.server's naming
            self.reply(None)

        def do_POST(self) -> None:  # http.server's naming
            length = int(self.headers.get("Content-Length") or 0)
            self.reply(json.loads(self.rfile.read(length)) if length else {})

        def reply(self, sent: Any) -> None:
            split = urlsplit(self.path)
            query = parse_qs(split.query)
            fake.seen.append(Seen(split.path, query, self.headers.get("Authorization"),
                                  self.command, sent))
            time.sleep(fake.delay)
            if fake.status != 200:
                status, body = fake.status, {"detail": "Not authenticated"}
            elif fake.api == 1:
                status, body = fake.answer_v1(split.path, query, sent)
            else:
                status, body = fake.answer(split.path, query) if sent is None else (
                    405, {"detail": "Method Not Allowed"})
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
