"""Airflow 2 (``api_version: 1``): plain HTTP against a loopback ``/api/v1`` stand-in shaped
as the v1 OpenAPI schema: the requests made (paths, query, POST body, auth), the runs read
back, the check end to end, and what a server of the other version answers."""

from __future__ import annotations

import base64
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.pipelines.airflow_fake import FakeAirflow, serve
from tests.pipelines.test_airflow import CONFIG, DAG, NOW, TASK, TOKEN, daily, metric, run
from watchdog.config.models import AirflowSource
from watchdog.daemon.runner import Runner
from watchdog.errors import PipelineError
from watchdog.load import load_config
from watchdog.models import Status
from watchdog.pipelines import open_reader
from watchdog.state import Store


def source(url: str, **settings: Any) -> AirflowSource:
    return AirflowSource.model_validate({"type": "airflow", "url": url, "api_version": 1,
                                         **settings})


def test_dag_runs_newest_first_with_basic_auth(tmp_path: Path) -> None:
    fake = FakeAirflow(dags={DAG: daily(3, "success")}, api=1)
    with serve(fake), open_reader("af2", source(fake.url, username="ops",
                                                password="pw-secret-9", runs=2),
                                  tmp_path) as reader:
        runs = reader.runs(DAG)
    (seen,) = fake.seen
    assert (seen.method, seen.path) == ("GET", f"/api/v1/dags/{DAG}/dagRuns")
    assert seen.query == {"limit": ["2"], "order_by": ["-execution_date"]}
    assert seen.authorization == "Basic " + base64.b64encode(b"ops:pw-secret-9").decode()
    newest = sorted(daily(3, "success"), key=lambda r: r["after"])[-2:][::-1]
    assert [(r.run_id, r.label, r.state) for r in runs] == [
        (r["run_id"], f"DAG {DAG}", "success") for r in newest]
    assert runs[0].finished_at == newest[0]["end"]


def test_a_tasks_instances_are_its_dags_newest_runs_then_one_batch_call(tmp_path: Path) -> None:
    dag, task = "team.features-daily", "build.compute_v2"  # ids with dots, as Airflow allows
    runs = daily(4)
    for r in runs:
        r["tasks"] = {task: r["tasks"][TASK], "other": r["tasks"][TASK]}
    fake = FakeAirflow(dags={dag: runs}, api=1)
    with serve(fake), open_reader("af2", source(fake.url, token=TOKEN, runs=3),
                                  tmp_path) as reader:
        found = reader.runs(f"{dag}/{task}")
    first, second = fake.seen
    assert (first.method, first.path) == ("GET", f"/api/v1/dags/{dag}/dagRuns")
    assert first.query == {"limit": ["3"], "order_by": ["-execution_date"]}
    newest = [r["run_id"] for r in sorted(runs, key=lambda r: r["after"])[-3:][::-1]]
    assert (second.method, second.path) == ("POST", "/api/v1/dags/~/dagRuns/~/taskInstances/list")
    assert second.body == {"dag_ids": [dag], "dag_run_ids": newest, "task_ids": [task]}
    assert {s.authorization for s in fake.seen} == {f"Bearer {TOKEN}"}
    assert [r.run_id for r in found] == newest  # newest first, whatever order the server had
    assert {(r.job, r.task, r.ref) for r in found} == {(dag, task, f"{dag}/{task}")}
    assert found[0].text() == f"DAG {dag} task {task} failed at 03:10, try 3/3"
    assert found[0].finished_at == NOW.replace(hour=3, minute=10)


def test_the_check_on_an_airflow_2_server(tmp_path: Path) -> None:
    fake = FakeAirflow(dags={DAG: daily(6)}, api=1)
    with serve(fake):
        (tmp_path / "config.yaml").write_text(CONFIG.format(
            db=tmp_path / "w.duckdb", url=fake.url, dag=DAG, task=TASK).replace(
            "type: airflow,", "type: airflow, api_version: 1,"))
        config = load_config(tmp_path / "config.yaml", {"AIRFLOW_TOKEN": TOKEN})
        store = Store.open(f"sqlite:///{tmp_path}/state.db")
        runner = Runner(config, store, [], clock=lambda: NOW + timedelta(minutes=5))
        try:
            result, emission = run(runner, store, "runs")
        finally:
            runner.close()
            store.close()
    assert (result.status, result.reasons) == (Status.FAIL, ("RUN_FAILED",))
    (event,) = emission.events
    assert f"DAG {DAG} task {TASK} failed at 03:10, try 3/3" in event.title
    assert "@slack-ml" in event.text and f"job:{DAG}/{TASK}" in event.tags
    assert metric(emission, "watchdog.pipeline.run.duration_seconds")[0] == 540.0
    assert TOKEN not in repr(emission)


@pytest.mark.parametrize("server_api", [1, 2])
def test_a_server_of_the_other_version_says_to_set_api_version(
        tmp_path: Path, server_api: int) -> None:
    fake = FakeAirflow(dags={DAG: daily(2)}, api=server_api)
    settings = {"type": "airflow", "url": "", "token": TOKEN, "api_version": 3 - server_api}
    with serve(fake):
        settings["url"] = fake.url
        src = AirflowSource.model_validate(settings)
        with (open_reader("af", src, tmp_path) as reader,
              pytest.raises(PipelineError) as wrong):
            reader.runs(DAG)
    assert fake.seen[0].path.startswith(f"/api/v{3 - server_api}/")
    assert "HTTP 404" in str(wrong.value)
    assert "pipelines.sources.af.api_version: 1 for Airflow 2" in str(wrong.value)
    assert TOKEN not in str(wrong.value)


def test_refused_slow_and_down_are_one_line_errors(tmp_path: Path) -> None:
    import socket

    refused = FakeAirflow(dags={DAG: daily(2)}, api=1, status=401)
    with (serve(refused), open_reader("af", source(refused.url, token=TOKEN), tmp_path) as r,
          pytest.raises(PipelineError) as caught):
        r.runs(DAG)
    assert "HTTP 401" in str(caught.value) and "token or username/password" in str(caught.value)
    assert TOKEN not in str(caught.value)
    slow = FakeAirflow(dags={DAG: daily(2)}, api=1, delay=3.0)
    with (serve(slow), open_reader("af", source(slow.url, token=TOKEN, timeout=0.3),
                                   tmp_path) as r,
          pytest.raises(PipelineError, match=r"no answer within 0\.3 s")):
        r.runs(DAG)  # without the timeout: an answer, after 3 s
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with (open_reader("af", source(f"http://127.0.0.1:{port}", token=TOKEN), tmp_path) as r,
          pytest.raises(PipelineError, match=r"cannot connect .*pipelines\.sources\.af\.url")):
        r.runs(DAG)


def test_airflow_2_needs_no_airflow_client(tmp_path: Path) -> None:
    """api_version 1 imports neither apache-airflow-client nor the v2 reader's client."""
    code = ("import sys; from pathlib import Path; from watchdog.config.models import "
            "AirflowSource; from watchdog.pipelines import open_reader; "
            "s = AirflowSource.model_validate({'type': 'airflow', 'url': 'http://x', "
            "'api_version': 1}); open_reader('af', s, Path('.')).close(); "
            "print('airflow_client' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout.strip() == "False"
