"""Airflow runs through the stable REST API (``/api/v2``) with ``apache-airflow-client``.

A job ``dag_id`` is read as its DAG runs; ``dag_id/task_id`` as that task's instances across
the DAG's runs (dag_run_id ``~``), both newest first in one call, with the call's timeout.
Ids keep their dots (``team.features`` / ``group.compute``): ``/`` is never in an Airflow id.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from watchdog.config.models import AirflowSource
from watchdog.errors import MissingExtra, PipelineError
from watchdog.models import PipelineRun, split_job_ref
from watchdog.pipelines.base import PipelineReader

#: Airflow's states, as the ones watchdog judges (others keep their own word)
_STATES = {"success": "success", "failed": "failed", "upstream_failed": "failed",
           "skipped": "skipped", "removed": "skipped", "up_for_retry": "retrying"}


#: What to check, by HTTP status of a refused call
HINTS = {
    401: "check pipelines.sources.{name}'s token or username/password",
    403: "check pipelines.sources.{name}'s token or username/password",
    404: "check the job in pipelines.writes: dag_id, or dag_id/task_id (ids keep their "
         "dots); and pipelines.sources.{name}.api_version: 1 for Airflow 2, 2 for Airflow 3",
}


class AirflowReader(PipelineReader):
    """One Airflow deployment; token (bearer) or basic auth."""

    source: AirflowSource

    def __init__(self, name: str, source: AirflowSource, base_dir: Path) -> None:
        super().__init__(name, source, base_dir)
        try:
            import airflow_client.client as client
        except ImportError as exc:
            raise MissingExtra("apache-airflow-client", "airflow") from exc
        token = source.token.get_secret_value() if source.token else None
        password = source.password.get_secret_value() if source.password else None
        conf = client.Configuration(host=source.url.rstrip("/"), access_token=token,
                                    username=source.username, password=password,
                                    retries=0)
        conf.verify_ssl = source.verify_ssl
        header = conf.get_basic_auth_token() if source.username is not None else None
        self._api = client.ApiClient(conf, header_name="Authorization" if header else None,
                                     header_value=header)
        self._dag_runs = client.DagRunApi(self._api)
        self._task_instances = client.TaskInstanceApi(self._api)
        self._timeout = source.timeout.total_seconds()

    def runs(self, job: str) -> list[PipelineRun]:
        dag_id, task_id = split_job_ref(job)
        if task_id:
            found = self._call(self._task_instances.get_task_instances, dag_id, "~",
                               task_id=task_id, limit=self.source.runs,
                               order_by=["-run_after"])
            return [self._task_run(ti) for ti in found.task_instances]
        found = self._call(self._dag_runs.get_dag_runs, dag_id, limit=self.source.runs,
                           order_by=["-run_after"])
        return [self._dag_run(run) for run in found.dag_runs]

    def _call(self, method: Any, *args: Any, **kwargs: Any) -> Any:
        """One API call with the source's timeout; its failure as a PipelineError."""
        from airflow_client.client.exceptions import ApiException, OpenApiException
        from urllib3.exceptions import HTTPError

        try:
            return method(*args, _request_timeout=self._timeout, **kwargs)
        except ApiException as exc:
            hint = HINTS.get(exc.status or 0, "").format(name=self.name) or None
            raise PipelineError(f"Airflow source {self.name!r}: HTTP {exc.status} "
                                f"{exc.reason or ''}".strip(), hint=hint) from None
        except (HTTPError, OpenApiException, ValueError) as exc:
            raise PipelineError(f"Airflow source {self.name!r} ({self.source.url}) could not "
                                f"be read: {self._why(exc)}") from None

    def _why(self, exc: Exception) -> str:
        """What went wrong, in words an on-call can act on (never the driver's message,
        which may carry a request's headers)."""
        from urllib3.exceptions import MaxRetryError, NewConnectionError, TimeoutError

        reason = exc.reason if isinstance(exc, MaxRetryError) else exc
        if isinstance(reason, NewConnectionError):
            return "cannot connect (check pipelines.sources." + self.name + ".url, and that " \
                "Airflow's API server is up)"
        if isinstance(reason, TimeoutError):
            return (f"no answer within {self._timeout} s (raise pipelines.sources."
                    f"{self.name}.timeout if Airflow is slow)")
        return type(reason).__name__

    def _dag_run(self, run: Any) -> PipelineRun:
        return airflow_run(self.name, run.dag_id, run.dag_run_id,
                           run.state.value if run.state is not None else None,
                           run.start_date, run.end_date)

    def _task_run(self, ti: Any) -> PipelineRun:
        return airflow_run(self.name, ti.dag_id, ti.dag_run_id,
                           ti.state.value if ti.state is not None else None, ti.start_date,
                           ti.end_date, task=ti.task_id, try_number=ti.try_number,
                           max_tries=ti.max_tries)

    def close(self) -> None:
        self._api.rest_client.pool_manager.clear()


def airflow_run(source: str, dag_id: str, run_id: str, state: str | None,
                started: datetime | None, ended: datetime | None, *, task: str | None = None,
                try_number: int | None = None, max_tries: int | None = None) -> PipelineRun:
    """A DAG run, or a task's instance in one, as either API version gives it."""
    word = state or ("none" if task else "unknown")
    label = f"DAG {dag_id} task {task}" if task else f"DAG {dag_id}"
    return PipelineRun(source=source, job=dag_id, task=task, label=label, run_id=run_id,
                       state=_STATES.get(word, word), started_at=started, finished_at=ended,
                       try_number=try_number,
                       tries=max_tries + 1 if max_tries is not None else None)
