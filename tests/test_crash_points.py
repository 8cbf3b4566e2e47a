"""The crash-point suite: kill watchdog (SIGKILL, a real process) at every step that changes
state or sends something, restart it, and check what reached the loopback Datadog API.

The planted incident, on real Postgres: a column of ``t9`` is dropped and another added
(a schema event), and a freshness monitor goes FAIL (an alert opens). The run that sees
both is killed at one named point (``watchdog/crashpoints.py``); the next run must deliver
each event at least once. Only a kill while a request is in flight (after Datadog took it,
before watchdog marked it) may deliver one twice.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
from sklearn.metrics import accuracy_score

from tests.conftest import POSTGRES_URL
from tests.helpers import database, duckdb_engine, make_events, yaml_block
from tests.sinks.sink_fakes import FakeDatadog, Request, serve
from watchdog.crashpoints import POINTS

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[1]
API_KEY = "crash-suite-key-0000"
#: Points after which Datadog may have an event that watchdog has not marked delivered.
IN_FLIGHT = {"deliver.sent", "http.in_flight"}


def is_schema_event(r: Request) -> bool:
    return "t9" in r.body["title"] and "column" in r.body["text"].lower()


def is_stale_event(r: Request) -> bool:
    return r.body["title"].startswith("[FAIL] stale")


@contextmanager
def incident(tmp_path: Path, state: str) -> Iterator[tuple[sa.Engine, FakeDatadog, str]]:
    """(warehouse engine, fake Datadog, schema) with config.yaml written in ``tmp_path``."""
    fake = FakeDatadog()
    server = serve(fake)
    with database("postgres", tmp_path) as (engine, wh, schema), state_url(tmp_path, state) as url:
        with engine.begin() as conn:
            conn.execute(sa.text(f'CREATE TABLE "{schema}".t9 (a INT, keep INT)'))
        make_events(engine, schema, [datetime.now(UTC) - timedelta(days=2)])
        (tmp_path / "config.yaml").write_text(
            "env: test\nwarehouses:\n  wh:\n" + yaml_block(wh, 4)
            + f"state: {{url: '{url}'}}\n"
            "sinks:\n  datadog: {transport: http, api_key: '${DD_API_KEY}', "
            "api_url: '${DD_API_URL}'}\n"
            "daemon: {workers: 1, heartbeat: 1h}\n"
            "monitors:\n"
            f"  - {{id: sch, kind: schema, warehouse: wh, tables: [{schema}.t9],"
            " schedule: {every: 1h}}\n"
            f"  - {{id: stale, kind: freshness, warehouse: wh, table: {schema}.events,"
            " time_column: ts, max_age: 1h, schedule: {every: 1h}}\n")
        try:
            yield engine, fake, schema
        finally:
            server.shutdown()
            server.server_close()


@contextmanager
def state_url(tmp_path: Path, kind: str) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path}/state.db"
        return
    name = f"wd_crash_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://"),
                             isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(POSTGRES_URL).set(database=name).render_as_string(False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def start(tmp_path: Path, fake: FakeDatadog, *args: str, crash: str = "") -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DD_API_KEY": API_KEY,
           "DD_API_URL": fake.url, "WATCHDOG_CRASH_AT": crash}
    return subprocess.Popen([sys.executable, "-m", "watchdog", *args], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def run(tmp_path: Path, fake: FakeDatadog, *args: str, crash: str = "") -> tuple[int, str]:
    proc = start(tmp_path, fake, *args, crash=crash)
    _, err = proc.communicate(timeout=120)
    return proc.returncode, err


def events(fake: FakeDatadog) -> list[Request]:
    return [r for r in fake.accepted() if r.path == "/api/v1/events"]


def crash_then_restart(tmp_path: Path, engine: sa.Engine, fake: FakeDatadog, schema: str,
                       point: str) -> tuple[int, list[Request]]:
    """Baseline, plant the change, kill the run that sees it at ``point``, run again; the
    killed run's exit code and the events Datadog received from the killed run on."""
    code, err = run(tmp_path, fake, "run", "--once", "--monitor", "sch")
    assert code == 0, err
    fake.requests.clear()
    with engine.begin() as conn:
        conn.execute(sa.text(f'ALTER TABLE "{schema}".t9 DROP COLUMN a, ADD COLUMN b TEXT'))
    if point == "http.in_flight":  # Datadog takes the first event, then the client dies
        proc = start(tmp_path, fake, "run", "--once")
        fake.on_receive = lambda r: os.kill(proc.pid, signal.SIGKILL) \
            if r.path == "/api/v1/events" else None
        proc.communicate(timeout=120)
        fake.on_receive = None
        killed = proc.returncode
    else:
        killed, _ = run(tmp_path, fake, "run", "--once", crash=point)
    code, err = run(tmp_path, fake, "run", "--once")
    assert code == 1 and "Traceback" not in err, err  # stale still FAILs; nothing crashed
    return killed, events(fake)


def check_delivery(point: str, killed: int, received: list[Request]) -> None:
    assert killed == -signal.SIGKILL, f"{point}: the process was not killed there"
    schema_events = [r for r in received if is_schema_event(r)]
    stale_events = [r for r in received if is_stale_event(r)]
    assert schema_events and stale_events, (point, [r.body["title"] for r in received])
    duplicates = len(schema_events) + len(stale_events) - 2
    if point in IN_FLIGHT:
        assert duplicates <= 1, (point, [r.body["title"] for r in received])
    else:
        assert duplicates == 0, (point, [r.body["title"] for r in received])


@pytest.mark.parametrize("point", [*POINTS, "http.in_flight"])
def test_a_kill_at_any_point_loses_no_event(point: str, tmp_path: Path) -> None:
    with incident(tmp_path, "sqlite") as (engine, fake, schema):
        killed, received = crash_then_restart(tmp_path, engine, fake, schema, point)
    check_delivery(point, killed, received)


@pytest.mark.parametrize("point", ["commit.alert", "commit.outbox", "commit.done"])
def test_a_kill_inside_a_postgres_state_commit_loses_no_event(point: str,
                                                              tmp_path: Path) -> None:
    with incident(tmp_path, "postgres") as (engine, fake, schema):
        killed, received = crash_then_restart(tmp_path, engine, fake, schema, point)
    check_delivery(point, killed, received)


def test_the_daemon_killed_mid_commit_delivers_after_restart(tmp_path: Path) -> None:
    """Dies inside the commit of the run that saw the change; the next daemon sends it."""
    with incident(tmp_path, "sqlite") as (engine, fake, schema):
        code, err = run(tmp_path, fake, "run", "--once", "--monitor", "sch")
        assert code == 0, err
        fake.requests.clear()
        with engine.begin() as conn:
            conn.execute(sa.text(f'ALTER TABLE "{schema}".t9 DROP COLUMN a'))
        killed = start(tmp_path, fake, "run", crash="commit.state")
        killed.communicate(timeout=60)
        assert killed.returncode == -signal.SIGKILL
        assert not [r for r in events(fake) if is_schema_event(r)]
        again = start(tmp_path, fake, "run")
        try:
            assert wait(lambda: any(is_schema_event(r) for r in events(fake))
                        and any(is_stale_event(r) for r in events(fake)))
        finally:
            again.send_signal(signal.SIGTERM)
            again.communicate(timeout=60)
    assert again.returncode == 0
    assert sum(is_schema_event(r) for r in events(fake)) == 1


def wait(cond: Any, limit: float = 30) -> bool:
    import time

    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and not cond():
        time.sleep(0.2)
    return bool(cond())


# -- the pipeline check's state paths ------------------------------------------------------

def is_run_event(r: Request) -> bool:
    return r.body["title"].startswith("[FAIL] runs")


@contextmanager
def failed_writer(tmp_path: Path) -> Iterator[FakeDatadog]:
    """A stale DuckDB table whose dbt writer failed at its last run (the demo's artifacts),
    a pipeline monitor and a freshness monitor on it."""
    from watchdog.demo import write_dbt_artifacts

    fake = FakeDatadog()
    server = serve(fake)
    engine = duckdb_engine(tmp_path / "w.duckdb")
    make_events(engine, "main", [datetime.now(UTC) - timedelta(days=2)], table="ground_truth")
    engine.dispose()
    write_dbt_artifacts(tmp_path / "target", "w", datetime.now(UTC))
    (tmp_path / "config.yaml").write_text(
        "env: test\nwarehouses:\n"
        f"  wh: {{type: duckdb, settings: {{path: '{tmp_path / 'w.duckdb'}'}}}}\n"
        f"state: {{url: 'sqlite:///{tmp_path}/state.db'}}\n"
        "sinks:\n  datadog: {transport: http, api_key: '${DD_API_KEY}', "
        "api_url: '${DD_API_URL}'}\n"
        "daemon: {workers: 1, heartbeat: 1h}\n"
        "pipelines: {sources: {dbt: {type: dbt, target: target, warehouse: wh}}}\n"
        "monitors:\n"
        "  - {id: stale, kind: freshness, warehouse: wh, table: main.ground_truth,"
        " time_column: ts, max_age: 1h}\n"
        "  - {id: runs, kind: pipeline, warehouse: wh, table: main.ground_truth}\n")
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("point", POINTS)
def test_a_kill_while_a_pipeline_monitor_commits_loses_no_event(point: str,
                                                                tmp_path: Path) -> None:
    """The pipeline monitor runs first in a pass, so the kill lands in its run; after the
    restart its event arrives once, and the stale table's event names the failed run."""
    with failed_writer(tmp_path) as fake:
        killed, _ = run(tmp_path, fake, "run", "--once", crash=point)
        code, err = run(tmp_path, fake, "run", "--once")
        received = events(fake)
    assert killed == -signal.SIGKILL, f"{point}: the process was not killed there"
    assert code == 1 and "Traceback" not in err, err
    runs = [r for r in received if is_run_event(r)]
    stale = [r for r in received if is_stale_event(r)]
    assert len(runs) == 1 or (point in IN_FLIGHT and len(runs) == 2), [
        r.body["title"] for r in received]
    assert "dbt model ground_truth failed" in runs[0].body["title"]
    assert len(stale) == 1, [r.body["title"] for r in received]
    assert "Latest run of its writer: dbt model ground_truth failed" in stale[0].body["text"]


# -- the backtest check: metrics, an event and staged estimates in one run -----------------

DAY = timedelta(days=1)
BACKTEST = (
    "  - id: bt\n    kind: backtest\n    warehouse: wh\n"
    "    predictions: {table: main.predictions, time_column: predicted_at,"
    " key: [prediction_id], score: score}\n"
    "    labels: {table: main.ground_truth, key: [prediction_id], label: churned}\n"
    "    task: classification\n    group_by: [model_version]\n    window: 1d\n"
    "    feedback_delay: 1d\n    lookback_windows: 3\n    min_labelled_rows: 200\n"
    "    coverage_drop: null\n    thresholds: {auroc: {min: 0.6}}\n")
#: (prediction id, window index, score, label) of one day's predictions, scores calibrated
Rows = list[tuple[int, int, float, bool]]


def day_rows(index: int, seed: int) -> Rows:
    import random

    rng = random.Random(seed)
    out = []
    for n in range(600):
        score = round(rng.uniform(0.02, 0.98), 4)
        out.append((index * 1000 + n, index, score, rng.random() < score))
    return out


def today() -> datetime:
    """The start of today (UTC), the end of the newest window; waits out a day change
    that would land between this test's runs (windows are aligned to days)."""
    import time

    now = datetime.now(UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    left = (midnight + DAY - now).total_seconds()
    if left < 300:
        time.sleep(left + 1)
        return midnight + DAY
    return midnight


def write_backtest(path: Path, day: datetime, predictions: Rows, labels: Rows) -> None:
    """The prediction log and its labels in a DuckDB file, rewritten whole; window ``i``
    is the day ``[day + i, day + i + 1)``."""
    engine = duckdb_engine(path)
    with engine.begin() as con:
        con.execute(sa.text("CREATE OR REPLACE TABLE predictions (prediction_id INTEGER, "
                            "predicted_at TIMESTAMP, score DOUBLE, model_version VARCHAR)"))
        con.execute(sa.text("CREATE OR REPLACE TABLE ground_truth (prediction_id INTEGER, "
                            "churned BOOLEAN)"))
        con.execute(sa.text("INSERT INTO predictions VALUES (:id, :at, :score, 'v1')"), [
            {"id": pid, "at": (day + i * DAY + timedelta(seconds=pid % 86400 // 2))
             .replace(tzinfo=None), "score": score} for pid, i, score, _ in predictions])
        con.execute(sa.text("INSERT INTO ground_truth VALUES (:id, :y)"),
                    [{"id": pid, "y": y} for pid, _, _, y in labels])
    engine.dispose()


def expected_accuracy(rows: Rows) -> float:
    """Confidence-based estimate: Σ_{s≥0.5} p + Σ_{s<0.5} (1 - p), over n."""
    return sum(s if s >= 0.5 else 1 - s for _, _, s, _ in rows) / len(rows)


def series(fake: FakeDatadog, name: str) -> list[tuple[int, float, tuple[str, ...]]]:
    """(timestamp, value, tags) of every point of ``name`` Datadog accepted."""
    return [(p["timestamp"], p["value"], tuple(s["tags"]))
            for r in fake.accepted() if r.path == "/api/v2/series"
            for s in r.body["series"] if s["metric"] == name for p in s["points"]]


def estimates(url: str) -> tuple[int, dict[str, Any]]:
    """(how many versions, the latest payload) of the backtest's estimates document."""
    from watchdog.state import Store

    store = Store.open(url)
    try:
        found = store.get_artifact("backtest_estimates", "bt")
    finally:
        store.close()
    return (found[0], found[2]) if found else (0, {})


def backtest_crash(tmp_path: Path, fake: FakeDatadog, state: str, day: datetime,
                   rows: dict[int, Rows], point: str) -> tuple[int, int, str]:
    """The first run, the labels landing, the run killed at ``point``, the restart: the
    killed run's exit code, and the restart's exit code and stderr."""
    warehouse = tmp_path / "w.duckdb"
    write_backtest(warehouse, day, rows[-4] + rows[-3] + rows[-2], rows[-4] + rows[-2])
    (tmp_path / "config.yaml").write_text(
        "env: test\nwarehouses:\n"
        f"  wh: {{type: duckdb, settings: {{path: '{warehouse}'}}}}\n"
        f"state: {{url: '{state}'}}\n"
        "sinks:\n  datadog: {transport: http, api_key: '${DD_API_KEY}', "
        "api_url: '${DD_API_URL}'}\n"
        "daemon: {workers: 1, heartbeat: 1h}\nmonitors:\n" + BACKTEST)
    code, err = run(tmp_path, fake, "run", "--once")
    assert code == 0, err
    assert estimates(state)[0] == 1
    fake.requests.clear()
    flipped = [(pid, i, s, not y) for pid, i, s, y in rows[-2]]
    write_backtest(warehouse, day, [r for i in (-4, -3, -2, -1) for r in rows[i]],
                   rows[-4] + rows[-3] + flipped)
    if point == "http.in_flight":  # Datadog takes the event, then the client dies
        proc = start(tmp_path, fake, "run", "--once")
        fake.on_receive = lambda r: os.kill(proc.pid, signal.SIGKILL) \
            if r.path == "/api/v1/events" else None
        proc.communicate(timeout=120)
        fake.on_receive = None
        killed = proc.returncode
    else:
        killed, _ = run(tmp_path, fake, "run", "--once", crash=point)
    code, err = run(tmp_path, fake, "run", "--once")
    return killed, code, err


@pytest.mark.parametrize(("point", "state"), [
    *((p, "sqlite") for p in [*POINTS, "http.in_flight"]),
    *((p, "postgres") for p in ["commit.state", "commit.outbox", "commit.done"])])
def test_a_kill_while_a_backtest_sends_and_stages_estimates_loses_nothing(
        point: str, state: str, tmp_path: Path) -> None:
    """Three label-complete days (-4, -3, -2; -2 judged) and yesterday (-1) waiting for its
    labels. The first run stores the estimate of day -3, whose labels are late. Then they
    land, day -2's labels turn out to be the opposite of the scores (a quality drop) and
    yesterday's predictions are loaded: the run that sees it sends an event, the estimation
    error of day -3 and the estimates of day -1, and stages the estimates document again;
    it is killed at ``point`` and run again. Every point arrives with the values of the
    estimates made before the labels, and the document has one version per change."""
    fake = FakeDatadog()
    server = serve(fake)
    day = today()
    rows = {i: day_rows(i, seed=40 + i) for i in (-4, -3, -2, -1)}
    with state_url(tmp_path, state) as url:
        try:
            killed, code, err = backtest_crash(tmp_path, fake, url, day, rows, point)
            versions, latest = estimates(url)
        finally:
            server.shutdown()
            server.server_close()
    assert killed == -signal.SIGKILL, f"{point}: the process was not killed there"
    assert code == 1 and "Traceback" not in err, err
    fails = [r for r in events(fake) if r.body["title"].startswith("[FAIL] bt")]
    assert len(fails) == 1 or (point in IN_FLIGHT and len(fails) == 2), [
        r.body["title"] for r in events(fake)]
    assert "auroc" in fails[0].body["title"] and "model_version:v1" in fails[0].body["tags"]
    late = rows[-3]
    realised = accuracy_score([y for *_, y in late], [s >= 0.5 for _, _, s, _ in late])
    errors = series(fake, "watchdog.backtest.estimation_error.accuracy")
    # one point (day -3's end), the same value however often it was sent
    assert {(at, tags) for at, _, tags in errors} == {
        (int((day - 2 * DAY).timestamp()), tags) for *_, tags in errors}
    assert len({at for at, _, _ in errors}) == 1
    assert np.allclose([v for _, v, _ in errors], realised - expected_accuracy(late),
                       rtol=0, atol=1e-9)
    assert {"monitor:bt", "table:main.predictions", "model_version:v1"} <= set(errors[0][2])
    estimated = series(fake, "watchdog.backtest.estimated.accuracy")
    assert {at for at, _, _ in estimated} == {int(day.timestamp())}
    assert np.allclose([v for _, v, _ in estimated], expected_accuracy(rows[-1]),
                       rtol=0, atol=1e-9)
    assert versions == 2, latest  # stored once per change: killed or not
    kept = latest["estimates"]["model_version=v1"]
    assert set(kept) == {str(int((day - 2 * DAY).timestamp())), str(int(day.timestamp()))}


def reference_doc(url: str) -> tuple[int, dict[str, Any]]:
    """(how many versions, the latest payload) of the backtest's reference document."""
    from watchdog.state import Store

    store = Store.open(url)
    try:
        found = store.get_artifact("backtest_reference", "bt")
    finally:
        store.close()
    return (found[0], found[2]) if found else (0, {})


@pytest.mark.parametrize("point", ["check.done", "commit.state", "commit.outbox",
                                   "commit.done", "deliver.sent"])
def test_a_kill_while_a_backtest_stores_its_reference_window_stores_it_once(
        point: str, tmp_path: Path) -> None:
    """The reference days (-8, -7) were well scored; the judged day (-2) has labels
    opposite to its scores. The first run reads the reference and stages it with its
    result; killed at ``point`` and run again: before the commit nothing of it was kept
    and the restart reads it again, after it the restart uses the stored one; either way
    one version is stored and one event names the reference window."""
    fake = FakeDatadog()
    server = serve(fake)
    day = today()
    rows = {i: day_rows(i, seed=60 + i) for i in (-8, -7, -4, -3, -2)}
    flipped = [(pid, i, s, not y) for pid, i, s, y in rows[-2]]
    start_, end_ = (day - 8 * DAY).date(), (day - 6 * DAY).date()
    config = BACKTEST.replace("thresholds: {auroc: {min: 0.6}}",
                              "thresholds: {auroc: {max_drop: 0.1}}\n"
                              f"    reference: {{start: {start_}, end: {end_}}}")
    with state_url(tmp_path, "sqlite") as url:
        try:
            warehouse = tmp_path / "w.duckdb"
            every = [r for i in (-8, -7, -4, -3, -2) for r in rows[i]]
            write_backtest(warehouse, day, every,
                           rows[-8] + rows[-7] + rows[-4] + rows[-3] + flipped)
            (tmp_path / "config.yaml").write_text(
                "env: test\nwarehouses:\n"
                f"  wh: {{type: duckdb, settings: {{path: '{warehouse}'}}}}\n"
                f"state: {{url: '{url}'}}\n"
                "sinks:\n  datadog: {transport: http, api_key: '${DD_API_KEY}', "
                "api_url: '${DD_API_URL}'}\n"
                "daemon: {workers: 1, heartbeat: 1h}\nmonitors:\n" + config)
            killed, _ = run(tmp_path, fake, "run", "--once", crash=point)
            kept_after_kill = reference_doc(url)[0]
            code, err = run(tmp_path, fake, "run", "--once")
            versions, latest = reference_doc(url)
        finally:
            server.shutdown()
            server.server_close()
    assert killed == -signal.SIGKILL, f"{point}: the process was not killed there"
    # the points up to commit.outbox are inside the run's one transaction
    assert kept_after_kill == (1 if point in ("commit.done", "deliver.sent") else 0)
    assert code == 1 and "Traceback" not in err, err
    assert versions == 1, latest
    assert set(latest["groups"]) == {"model_version=v1"}
    assert latest["groups"]["model_version=v1"]["labelled"] == 1200
    fails = [r for r in events(fake) if r.body["title"].startswith("[FAIL] bt")]
    assert len(fails) == 1 or (point in IN_FLIGHT and len(fails) == 2), [
        r.body["title"] for r in events(fake)]
    assert f"the reference window {start_}–{end_}" in fails[0].body["text"]
