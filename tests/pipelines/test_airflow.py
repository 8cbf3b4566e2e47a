"""Airflow runs through apache-airflow-client against a loopback /api/v2 stand-in: the
requests the client makes (paths, query, auth header), the runs read back, and the pipeline
check end to end (routing, metrics, recovery, lateness, the writer named in a stale table's
event)."""

from __future__ import annotations

import base64
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import duckdb_engine, make_events
from tests.pipelines.airflow_fake import FakeAirflow, serve
from watchdog.config.models import AirflowSource
from watchdog.daemon.runner import Runner
from watchdog.errors import PipelineError
from watchdog.load import load_config
from watchdog.models import CheckResult, Emission, Status
from watchdog.pipelines import open_reader
from watchdog.state import Store
from watchdog.state.staged import StagedHistory

TOKEN = "tok-secret-123456"
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
DAG, TASK = "feature_build", "compute_features"


def daily(days: int, last_state: str = "failed") -> list[dict[str, Any]]:
    """Daily runs at 03:00 for ``days`` days up to NOW's day, the task finishing at 03:10
    (03:1x: a few minutes' jitter); the last one ``last_state`` after 3 tries."""
    runs = []
    for i in range(days):
        day = (NOW - timedelta(days=days - 1 - i)).replace(hour=3, minute=0)
        last = i == days - 1
        end = day + timedelta(minutes=10 + (0 if last else i % 3))
        task = {"state": last_state if last else "success", "try_number": 3 if last else 1,
                "max_tries": 2, "start": day + timedelta(minutes=1), "end": end}
        runs.append({"run_id": f"scheduled__{day:%Y-%m-%dT%H:%M:%S}+00:00", "after": day,
                     "state": task["state"], "start": day, "end": end,
                     "tasks": {TASK: task}})
    return runs


def source(url: str, **auth: Any) -> AirflowSource:
    return AirflowSource.model_validate({"type": "airflow", "url": url, **auth})


def test_task_runs_are_read_with_one_call_its_query_and_bearer_token(tmp_path: Path) -> None:
    fake = FakeAirflow(dags={DAG: daily(4)})
    with serve(fake), open_reader("af", source(fake.url, token=TOKEN), tmp_path) as reader:
        runs = reader.runs(f"{DAG}/{TASK}")
    (seen,) = fake.seen
    assert seen.path == f"/api/v2/dags/{DAG}/dagRuns/~/taskInstances"
    assert seen.query == {"task_id": [TASK], "limit": ["25"], "order_by": ["-run_after"]}
    assert seen.authorization == f"Bearer {TOKEN}"
    assert [r.state for r in runs] == ["failed", "success", "success", "success"]
    assert runs[0].text() == f"DAG {DAG} task {TASK} failed at 03:10, try 3/3"
    assert (runs[0].job, runs[0].task, runs[0].duration_s) == (DAG, TASK, 540.0)
    assert runs[0].finished_at == NOW.replace(hour=3, minute=10)


def test_dag_runs_with_basic_auth(tmp_path: Path) -> None:
    fake = FakeAirflow(dags={DAG: daily(3, "success")})
    with serve(fake), open_reader("af", source(fake.url, username="ops", password="pw-secret-9",
                                               runs=2), tmp_path) as reader:
        runs = reader.runs(DAG)
    (seen,) = fake.seen
    assert seen.path == f"/api/v2/dags/{DAG}/dagRuns"
    assert seen.query == {"limit": ["2"], "order_by": ["-run_after"]}
    assert seen.authorization == "Basic " + base64.b64encode(b"ops:pw-secret-9").decode()
    assert [(r.label, r.state, r.try_number) for r in runs] == [(f"DAG {DAG}", "success", None)] * 2


def test_refused_credentials_and_timeouts_are_one_line_errors(tmp_path: Path) -> None:
    fake = FakeAirflow(dags={DAG: daily(2)}, status=401)
    with (serve(fake), open_reader("af", source(fake.url, token=TOKEN), tmp_path) as reader,
          pytest.raises(PipelineError) as refused):
        reader.runs(DAG)
    assert "HTTP 401" in str(refused.value) and "pipelines.sources.af" in str(refused.value)
    assert TOKEN not in str(refused.value)
    slow = FakeAirflow(dags={DAG: daily(2)}, delay=3.0)
    with serve(slow), open_reader("af", source(slow.url, token=TOKEN, timeout=0.3),
                                  tmp_path) as reader:
        started = time.perf_counter()
        with pytest.raises(PipelineError, match="could not be read: no answer within 0.3 s"):
            reader.runs(DAG)
        assert time.perf_counter() - started < 2.0


def test_an_airflow_that_is_down_is_named_as_such(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with open_reader("af", source(f"http://127.0.0.1:{port}", token=TOKEN, timeout=2),
                     tmp_path) as reader, pytest.raises(PipelineError) as down:
        reader.runs(DAG)
    assert "cannot connect" in str(down.value) and "pipelines.sources.af.url" in str(down.value)
    assert TOKEN not in str(down.value)


def test_auth_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="not both"):
        source("http://x", token=TOKEN, username="a", password="b")
    with pytest.raises(ValueError, match="needs both"):
        source("http://x", username="a")
    with pytest.raises(ValueError, match="http:// or https://"):
        source("airflow.example.com", token=TOKEN)


# -- the check, end to end ---------------------------------------------------------------

CONFIG = """\
env: test
warehouses:
  wh: {{type: duckdb, settings: {{path: '{db}'}}}}
sinks: {{}}
ownership:
  teams:
    ml: {{datadog: ['@slack-ml']}}
    fraud: {{datadog: ['@slack-fraud']}}
  models:
    churn: {{team: ml, reads: [{{table: main.features}}]}}
    fraud: {{team: fraud, reads: [{{table: main.other}}]}}
pipelines:
  sources:
    af: {{type: airflow, url: '{url}', token: '${{AIRFLOW_TOKEN}}'}}
  writes:
    - {{source: af, job: {dag}/{task}, tables: [main.features]}}
monitors:
  - {{id: runs, kind: pipeline, warehouse: wh, table: main.features}}
  - {{id: stale, kind: freshness, warehouse: wh, table: main.features, time_column: ts,
     max_age: 2h}}
"""


def run(runner: Runner, store: Store, monitor_id: str) -> tuple[CheckResult, Emission]:
    """What Runner.run_monitor does, keeping the emission: check, then commit."""
    monitor = runner.config.monitor(monitor_id)
    staged = StagedHistory(store)
    result = runner.check(monitor, history=staged)
    return result, runner.process(result, None, staged.writes, None, monitor)


def metric(emission: Emission, name: str) -> tuple[float, tuple[str, ...]]:
    (found,) = [m for m in emission.metrics if m.name == name]
    return found.value, found.tags


def test_a_failed_run_alerts_the_readers_and_names_itself_in_the_stale_event(
        tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    engine = duckdb_engine(db)
    make_events(engine, "main", [NOW - timedelta(hours=9)], table="features")
    engine.dispose()
    fake = FakeAirflow(dags={DAG: daily(6)})
    with serve(fake):
        (tmp_path / "config.yaml").write_text(CONFIG.format(db=db, url=fake.url, dag=DAG,
                                                            task=TASK))
        config = load_config(tmp_path / "config.yaml", {"AIRFLOW_TOKEN": TOKEN})
        clock = [NOW]
        store = Store.open(f"sqlite:///{tmp_path}/state.db")
        runner = Runner(config, store, [], clock=lambda: clock[0])
        try:
            result, emission = run(runner, store, "runs")
            assert (result.status, result.reasons) == (Status.FAIL, ("RUN_FAILED",))
            (event,) = emission.events
            assert f"DAG {DAG} task {TASK} failed at 03:10, try 3/3" in event.title
            assert "@slack-ml" in event.text and "@slack-fraud" not in event.text
            assert {"model:churn", "team:ml", "job:feature_build/compute_features"} <= set(
                event.tags)
            value, tags = metric(emission, "watchdog.pipeline.run.failed")
            assert value == 1.0
            assert {"job:feature_build", "task:compute_features", "table:main.features"} <= set(
                tags)
            assert metric(emission, "watchdog.pipeline.run.duration_seconds")[0] == 540.0
            # learned: daily; the last run finished today, so it is not late
            assert metric(emission, "watchdog.pipeline.run.lateness_seconds")[0] == 0.0

            stale, fresh_emission = run(runner, store, "stale")
            assert stale.status is Status.FAIL
            (stale_event,) = fresh_emission.events
            assert (f"Latest run of its writer: DAG {DAG} task {TASK} failed at 03:10, "
                    "try 3/3") in stale_event.text
            assert stale_event.title.endswith(f"DAG {DAG} task {TASK} failed at 03:10, try 3/3")

            # the retry succeeds: one good run resolves the alert
            fixed = daily(6, "success")
            fixed[-1]["tasks"][TASK]["end"] = NOW + timedelta(minutes=20)
            fake.dags[DAG] = fixed
            clock[0] = NOW + timedelta(minutes=30)
            result, emission = run(runner, store, "runs")
            assert result.status is Status.OK
            (recovered,) = emission.events
            assert recovered.title.startswith("[RECOVERED]") and recovered.alert_type == "success"

            # two days without a run: late by now - (last finish + the median gap)
            clock[0] = NOW + timedelta(days=2)
            result, emission = run(runner, store, "runs")
            assert result.reasons == ("RUN_LATE",)
            finishes = sorted(r["tasks"][TASK]["end"] for r in fixed)
            gap = statistics.median(
                (b - a).total_seconds() for a, b in zip(finishes, finishes[1:], strict=False))
            expected = (clock[0] - finishes[-1]).total_seconds() - gap
            assert metric(emission, "watchdog.pipeline.run.lateness_seconds")[0] == expected
            assert all(s.authorization == f"Bearer {TOKEN}" for s in fake.seen)
            assert TOKEN not in repr(emission)
        finally:
            runner.close()
            store.close()


def test_a_source_that_cannot_be_read_is_an_error_naming_it(tmp_path: Path) -> None:
    fake = FakeAirflow(dags={DAG: daily(2)}, status=403)
    with serve(fake):
        (tmp_path / "config.yaml").write_text(CONFIG.format(
            db=tmp_path / "w.duckdb", url=fake.url, dag=DAG, task=TASK))
        config = load_config(tmp_path / "config.yaml", {"AIRFLOW_TOKEN": TOKEN})
        store = Store.open(f"sqlite:///{tmp_path}/state.db")
        runner = Runner(config, store, [], clock=lambda: NOW)
        try:
            result = runner.check(config.monitor("runs"))
        finally:
            runner.close()
            store.close()
    assert (result.status, result.reasons) == (Status.ERROR, ("PIPELINE_ERROR",))
    assert "HTTP 403" in result.summary and TOKEN not in result.summary


def test_ids_with_dots_and_dashes_round_trip(tmp_path: Path) -> None:
    """Airflow ids may hold dots (a task in a task group is ``group.task``) and dashes: the
    reference ``dag_id/task_id`` splits at the slash only, and each run reads back as it."""
    dag, task = "team.features-daily", "build.compute_v2"
    runs = daily(2)
    for r in runs:
        r["tasks"] = {task: r["tasks"][TASK]}
    fake = FakeAirflow(dags={dag: runs})
    with serve(fake), open_reader("af", source(fake.url, token=TOKEN), tmp_path) as reader:
        task_runs = reader.runs(f"{dag}/{task}")
        dag_runs = reader.runs(dag)
    assert [s.path for s in fake.seen] == [f"/api/v2/dags/{dag}/dagRuns/~/taskInstances",
                                           f"/api/v2/dags/{dag}/dagRuns"]
    assert fake.seen[0].query["task_id"] == [task]
    assert {(r.job, r.task, r.ref) for r in task_runs} == {(dag, task, f"{dag}/{task}")}
    assert {(r.job, r.task, r.ref) for r in dag_runs} == {(dag, None, dag)}
    assert task_runs[0].text() == f"DAG {dag} task {task} failed at 03:10, try 3/3"


def test_a_dag_that_is_not_there_says_how_jobs_are_written(tmp_path: Path) -> None:
    fake = FakeAirflow(dags={DAG: daily(2)})
    with (serve(fake), open_reader("af", source(fake.url, token=TOKEN), tmp_path) as reader,
          pytest.raises(PipelineError) as missing):
        reader.runs(f"{DAG}.{TASK}")  # dag_id.task_id: read as one DAG's id
    assert fake.seen[0].path == f"/api/v2/dags/{DAG}.{TASK}/dagRuns"
    assert "HTTP 404" in str(missing.value) and "dag_id/task_id" in str(missing.value)


@pytest.mark.parametrize(("job", "ok"), [
    ("team.features-daily", True), ("team.features/group.compute", True),
    ("a/b/c", False), ("dag id", False), ("dag/", False), ("/task", False)])
def test_job_references_are_checked_against_airflows_id_rule(job: str, ok: bool) -> None:
    from watchdog.config.models import PipelinesConfig

    data = {"sources": {"af": {"type": "airflow", "url": "http://x", "token": TOKEN}},
            "writes": [{"source": "af", "job": job, "tables": ["main.t"]}]}
    if ok:
        PipelinesConfig.model_validate(data)
    else:
        with pytest.raises(ValueError, match=r"writes\[0\]\.job .*dag_id/task_id"):
            PipelinesConfig.model_validate(data)
