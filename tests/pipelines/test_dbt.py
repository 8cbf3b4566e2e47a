"""dbt runs from the artifacts of a REAL ``dbt run`` (dbt-duckdb) of the tiny project in
tests/fixtures/dbt_project, where ``features`` builds and ``broken`` fails; and the demo's
hand-written artifacts, read by the same reader.

dbt runs in its own interpreter: dbt-core needs protobuf < 7 and the Google BigQuery client
stack in requirements.lock is on protobuf 7, so dbt-duckdb cannot share the test
environment (see tests/pipelines/README.md). The dbt executable is ``$WATCHDOG_DBT``, else
``.venv-dbt/bin/dbt`` at the repository's root, else ``dbt`` on PATH.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from watchdog.config.models import DbtSource
from watchdog.daemon.runner import Runner
from watchdog.demo import MANIFEST_SCHEMA, RUN_RESULTS_SCHEMA, write_dbt_artifacts
from watchdog.errors import PipelineError
from watchdog.load import load_config
from watchdog.models import Status
from watchdog.pipelines import open_reader
from watchdog.state import Store

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "dbt_project"


def dbt_executable() -> str | None:
    for candidate in (os.environ.get("WATCHDOG_DBT"), str(ROOT / ".venv-dbt" / "bin" / "dbt")):
        if candidate and Path(candidate).is_file():
            return candidate
    return shutil.which("dbt")


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project folder after ``dbt run``: target/ holds its artifacts, w.duckdb its data."""
    dbt = dbt_executable()
    if dbt is None:
        if os.environ.get("WATCHDOG_REQUIRE_DBT") == "1":  # CI builds .venv-dbt (.ci/run)
            pytest.fail("WATCHDOG_REQUIRE_DBT=1 but no dbt: .ci/run builds .venv-dbt")
        pytest.skip("dbt is not installed: set WATCHDOG_DBT to a dbt executable with "
                    "dbt-duckdb, or create .venv-dbt (tests/pipelines/README.md)")
    project = tmp_path_factory.mktemp("dbt") / "project"
    shutil.copytree(FIXTURE, project)
    env = {**os.environ, "WD_DBT_DB": str(project / "w.duckdb"),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    done = subprocess.run([dbt, "run", "--project-dir", str(project), "--profiles-dir",
                           str(project)], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr  # one model fails, by design
    assert "PASS=1" in done.stdout and "ERROR=1" in done.stdout, done.stdout
    return project


def artifact(folder: Path, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / name).read_text())
    return data


def test_real_artifacts_say_which_model_wrote_what_and_how_it_went(real_run: Path) -> None:
    target = real_run / "target"
    src = DbtSource(type="dbt", target="target")
    with open_reader("dbt", src, real_run) as reader:
        writes = reader.writes()
        ok, = reader.runs("features")
        failed, = reader.runs("model.wd_fixture.broken")
        assert reader.runs("no_such_model") == []
    assert writes == {"features": ("w.main.features",), "broken": ("w.main.broken",)}
    results = {r["unique_id"]: r for r in artifact(target, "run_results.json")["results"]}
    meta = artifact(target, "run_results.json")["metadata"]
    for run, uid in ((ok, "model.wd_fixture.features"), (failed, "model.wd_fixture.broken")):
        timing = results[uid]["timing"]  # independently: the first start, the last end
        assert run.started_at == datetime.fromisoformat(timing[0]["started_at"])
        assert run.finished_at == datetime.fromisoformat(timing[-1]["completed_at"])
        assert run.run_id == meta["invocation_id"]
        assert run.finished_at is not None and run.finished_at.tzinfo is not None
    assert (ok.state, failed.state) == ("success", "failed")
    assert failed.label == "dbt model broken" and failed.job == "broken"
    assert failed.text() == f"dbt model broken failed at {failed.finished_at:%H:%M}"


def test_the_pipeline_check_on_real_artifacts(real_run: Path, tmp_path: Path) -> None:
    (real_run / "config.yaml").write_text(f"""\
env: test
warehouses:
  wh: {{type: duckdb, settings: {{path: '{real_run / "w.duckdb"}'}}}}
sinks: {{}}
pipelines:
  sources:
    dbt: {{type: dbt, target: target, warehouse: wh}}
monitors:
  - {{id: broken_runs, kind: pipeline, warehouse: wh, table: main.broken}}
  - {{id: features_runs, kind: pipeline, warehouse: wh, table: main.features}}
  - {{id: nobody, kind: pipeline, warehouse: wh, table: main.orphan}}
""")
    config = load_config(real_run / "config.yaml", {})
    store = Store.open(f"sqlite:///{tmp_path}/state.db")
    runner = Runner(config, store, [], clock=lambda: datetime.now(UTC))
    try:
        broken = runner.check(config.monitor("broken_runs"))
        features = runner.check(config.monitor("features_runs"))
        orphan = runner.check(config.monitor("nobody"))
    finally:
        runner.close()
        store.close()
    assert (broken.status, broken.reasons) == (Status.FAIL, ("RUN_FAILED",))
    assert "dbt model broken failed at" in broken.summary
    assert features.status is Status.OK
    failed = [m.value for m in broken.metrics if m.name == "watchdog.pipeline.run.failed"]
    assert failed == [1.0]
    assert orphan.status is Status.ERROR
    assert "no job writes table 'main.orphan'" in orphan.summary
    assert "pipelines.writes" in orphan.summary


def test_demo_artifacts_are_shaped_as_the_real_ones(real_run: Path, tmp_path: Path) -> None:
    """Same schema versions as the dbt the tests run; every key the demo writes is one dbt
    writes, at each level; and they parse through the same reader."""
    demo = write_dbt_artifacts(tmp_path / "target", "warehouse", datetime(2026, 3, 1, 12))
    real = real_run / "target"
    for name, schema in (("run_results.json", RUN_RESULTS_SCHEMA),
                         ("manifest.json", MANIFEST_SCHEMA)):
        ours, theirs = artifact(demo, name), artifact(real, name)
        assert ours["metadata"]["dbt_schema_version"] == schema
        assert theirs["metadata"]["dbt_schema_version"] == schema
        assert set(ours) <= set(theirs)
        assert set(ours["metadata"]) <= set(theirs["metadata"])
    ours_result = artifact(demo, "run_results.json")["results"][0]
    theirs_result = artifact(real, "run_results.json")["results"][0]
    assert set(ours_result) == set(theirs_result)
    ours_node = next(iter(artifact(demo, "manifest.json")["nodes"].values()))
    theirs_node = artifact(real, "manifest.json")["nodes"]["model.wd_fixture.features"]
    assert set(ours_node) <= set(theirs_node)
    assert set(ours_node["config"]) <= set(theirs_node["config"])


def test_demo_artifacts_parse_without_dbt(tmp_path: Path) -> None:
    write_dbt_artifacts(tmp_path / "target", "warehouse", datetime(2026, 3, 1, 12))
    with open_reader("demo", DbtSource(type="dbt", target="target"), tmp_path) as reader:
        assert reader.writes()["ground_truth"] == ("warehouse.main.ground_truth",)
        run, = reader.runs("ground_truth")
    assert run.state == "failed"
    assert run.finished_at == datetime(2026, 3, 1, 10, 1, 30, tzinfo=UTC)
    assert run.text() == "dbt model ground_truth failed at 10:01"


def test_missing_artifacts_name_the_setting_to_fix(tmp_path: Path) -> None:
    with (open_reader("prod", DbtSource(type="dbt", target="nowhere"), tmp_path) as reader,
          pytest.raises(PipelineError, match=r"pipelines\.sources\.prod\.target")):
        reader.runs("x")


@contextmanager
def http_folder(folder: Path, delay: float = 0.0) -> Iterator[str]:
    """``folder`` served on a loopback port; yields its base URL."""
    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(folder), **kwargs)

        def do_GET(self) -> None:  # http.server's naming
            time.sleep(delay)
            super().do_GET()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_artifacts_from_an_http_url(tmp_path: Path) -> None:
    write_dbt_artifacts(tmp_path / "site" / "target", "warehouse", datetime(2026, 3, 1, 12))
    with http_folder(tmp_path / "site") as url:
        src = DbtSource(type="dbt", target=f"{url}/target")
        with open_reader("web", src, tmp_path) as reader:
            assert reader.writes()["ground_truth"] == ("warehouse.main.ground_truth",)
            run, = reader.runs("ground_truth")
        assert run.text() == "dbt model ground_truth failed at 10:01"
        gone = DbtSource(type="dbt", target=f"{url}/elsewhere/")
        with (open_reader("web", gone, tmp_path) as reader,
              pytest.raises(PipelineError, match=r"elsewhere/run_results\.json does not exist")):
            reader.runs("ground_truth")
    with http_folder(tmp_path / "site", delay=3.0) as url:
        slow = DbtSource.model_validate({"type": "dbt", "target": f"{url}/target",
                                         "timeout": 0.3})
        started = time.perf_counter()
        with (open_reader("web", slow, tmp_path) as reader,
              pytest.raises(PipelineError, match="could not be read")):
            reader.runs("ground_truth")
        assert time.perf_counter() - started < 2.0
