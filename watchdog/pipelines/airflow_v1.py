"""Airflow 2 runs through its stable REST API ``/api/v1``, over plain HTTP.

Why not ``apache-airflow-client`` 2.x: it installs the same ``airflow_client.client``
package as the 3.x client that ``/api/v2`` needs, so the two cannot live in one
environment; and ``/api/v1`` is a small, documented, frozen surface. Two endpoints
(the v1 OpenAPI spec, ``airflow/api_connexion/openapi/v1.yaml``):

- ``GET /api/v1/dags/{dag_id}/dagRuns?limit=N&order_by=-execution_date``: a DAG's runs;
- ``POST /api/v1/dags/~/dagRuns/~/taskInstances/list`` with ``dag_ids``, ``dag_run_ids`` and
  ``task_ids`` (2.7.1+): one task's instances in those runs. The GET list of task
  instances has no task filter nor order, so a task is read as its DAG's newest runs, then
  their instances of the task: two calls, each bounded by ``runs`` and the timeout.
"""

from __future__ import annotations

import base64
import json
import ssl
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from watchdog.config.models import AirflowSource
from watchdog.errors import PipelineError
from watchdog.models import PipelineRun, split_job_ref
from watchdog.pipelines.airflow import HINTS, airflow_run
from watchdog.pipelines.base import PipelineReader


class AirflowV1Reader(PipelineReader):
    """One Airflow 2 deployment; token (bearer) or basic auth."""

    source: AirflowSource

    def __init__(self, name: str, source: AirflowSource, base_dir: Path) -> None:
        super().__init__(name, source, base_dir)
        self._base = source.url.rstrip("/") + "/api/v1"
        if source.token is not None:
            self._auth = f"Bearer {source.token.get_secret_value()}"
        elif source.username is not None and source.password is not None:
            pair = f"{source.username}:{source.password.get_secret_value()}".encode()
            self._auth = "Basic " + base64.b64encode(pair).decode()
        else:
            self._auth = ""
        self._ssl = ssl.create_default_context()
        if not source.verify_ssl:
            self._ssl.check_hostname, self._ssl.verify_mode = False, ssl.CERT_NONE
        self._timeout = source.timeout.total_seconds()

    def runs(self, job: str) -> list[PipelineRun]:
        dag_id, task_id = split_job_ref(job)
        query = urlencode({"limit": self.source.runs, "order_by": "-execution_date"})
        found = self._call(f"/dags/{quote(dag_id, safe='')}/dagRuns?{query}")
        dag_runs = found.get("dag_runs") or []
        if not task_id:
            return [airflow_run(self.name, r["dag_id"], r["dag_run_id"], r.get("state"),
                                _time(r.get("start_date")), _time(r.get("end_date")))
                    for r in dag_runs]
        if not dag_runs:
            return []
        order = [r["dag_run_id"] for r in dag_runs]
        found = self._call("/dags/~/dagRuns/~/taskInstances/list", {
            "dag_ids": [dag_id], "dag_run_ids": order, "task_ids": [task_id]})
        instances = sorted(found.get("task_instances") or [],
                           key=lambda ti: (order.index(ti["dag_run_id"])
                                           if ti["dag_run_id"] in order else len(order),
                                           ti.get("map_index", -1)))
        return [airflow_run(self.name, ti["dag_id"], ti["dag_run_id"], ti.get("state"),
                            _time(ti.get("start_date")), _time(ti.get("end_date")),
                            task=ti["task_id"], try_number=ti.get("try_number"),
                            max_tries=ti.get("max_tries"))
                for ti in instances]

    def _call(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """One GET (or POST of ``body``) with the source's timeout; its JSON answer."""
        request = urllib.request.Request(
            self._base + path, data=json.dumps(body).encode() if body is not None else None,
            headers={"Accept": "application/json", "Content-Type": "application/json",
                     **({"Authorization": self._auth} if self._auth else {})})
        try:
            with urllib.request.urlopen(request, timeout=self._timeout,
                                        context=self._ssl) as answer:
                data = json.loads(answer.read())
        except urllib.error.HTTPError as exc:
            exc.close()
            hint = HINTS.get(exc.code, "").format(name=self.name) or None
            raise PipelineError(f"Airflow source {self.name!r}: HTTP {exc.code} "
                                f"{exc.reason or ''}".strip(), hint=hint) from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise PipelineError(f"Airflow source {self.name!r} ({self.source.url}) could not "
                                f"be read: {self._why(exc)}") from None
        except ValueError:
            raise PipelineError(f"Airflow source {self.name!r} ({self.source.url}) did not "
                                "answer JSON: is it Airflow's API server?") from None
        if not isinstance(data, dict):
            raise PipelineError(f"Airflow source {self.name!r}: unexpected answer to {path}")
        return data

    def _why(self, exc: Exception) -> str:
        """What went wrong, in words an on-call can act on (never a request's headers)."""
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        if isinstance(reason, TimeoutError):
            return (f"no answer within {self._timeout} s (raise pipelines.sources."
                    f"{self.name}.timeout if Airflow is slow)")
        if isinstance(reason, ConnectionError | OSError):
            return ("cannot connect (check pipelines.sources." + self.name + ".url, and that "
                    "Airflow's webserver is up)")
        return type(reason).__name__


def _time(value: Any) -> datetime | None:
    """The API's ISO 8601 times (``2026-03-10T03:10:00+00:00``) as aware datetimes."""
    return datetime.fromisoformat(str(value)) if value else None
