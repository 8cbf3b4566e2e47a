"""The quick start's demo sending to Datadog for real: over HTTP to a loopback API that
fails and then recovers, and over DogStatsD to a loopback UDP socket."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from tests.sinks.sink_fakes import FakeDatadog, UdpListener, serve
from watchdog.state import Store

ROOT = Path(__file__).resolve().parents[1]
API_KEY = "0123456789abcdef-not-a-real-key"


def config_with(tmp_path: Path, datadog: dict) -> None:
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    config["sinks"] = {"console": {}, "datadog": datadog}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))


def watchdog(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "PYTHONPATH": str(ROOT), "WATCHDOG_ENV": "test", **env}
    return subprocess.run([sys.executable, "-m", "watchdog", *args], cwd=tmp_path, env=full,
                          capture_output=True, text=True, timeout=120)


def test_datadog_down_loses_nothing_and_delivers_once_when_back(tmp_path: Path) -> None:
    fake = FakeDatadog(status=500)
    server = serve(fake)
    try:
        config_with(tmp_path, {"transport": "http", "api_key": "${DD_API_KEY}",
                               "api_url": "${DD_API_URL}"})
        env = {"DD_API_KEY": API_KEY, "DD_API_URL": fake.url}
        first = watchdog(tmp_path, "demo", **env)
        assert first.returncode == 1
        errors = [line for line in first.stderr.splitlines() if "sink datadog" in line]
        assert len(errors) == 1 and "500" in errors[0]
        assert API_KEY not in first.stderr + first.stdout and "Traceback" not in first.stderr
        assert "labels_freshness" in first.stdout  # the console still shows the results
        with Store.open(f"sqlite:///{tmp_path}/.watchdog/state.db") as store:
            waiting = store.pending_count("datadog")
        assert waiting > 0

        fake.status = 202
        second = watchdog(tmp_path, "run", "--once", **env)
        assert second.returncode == 1, second.stderr  # labels_freshness still FAILs
        assert "sink datadog" not in second.stderr
        with Store.open(f"sqlite:///{tmp_path}/.watchdog/state.db") as store:
            assert store.pending_count("datadog") == 0
        titles = [r.body["title"] for r in fake.accepted() if r.path == "/api/v1/events"]
        # the alerts opened during the outage are delivered once, in the order they were
        # opened (pipeline monitors run first in a pass); the repeat pass adds none
        assert [t for t in titles if t.startswith("[FAIL] labels_pipeline")] == [titles[0]]
        assert [t for t in titles if t.startswith("[FAIL] labels_freshness")] == [titles[1]]
        assert all(r.headers.get("DD-API-KEY") == API_KEY for r in fake.accepted())
    finally:
        server.shutdown()
        server.server_close()


def test_dogstatsd_receives_the_event_metrics_and_service_checks(tmp_path: Path) -> None:
    udp = UdpListener()
    try:
        config_with(tmp_path, {"transport": "dogstatsd", "agent_host": "127.0.0.1",
                               "dogstatsd_port": udp.port})
        proc = watchdog(tmp_path, "demo")
        assert proc.returncode == 0, proc.stderr
        lines = udp.lines()
    finally:
        udp.sock.close()
    events = [x for x in lines if x.startswith(b"_e{")]
    assert any(b"[FAIL] labels_freshness" in e and b"#" in e and b"env:test" in e for e in events)
    assert any(x.startswith(b"_sc|watchdog.up|0|") for x in lines)
    assert any(x.startswith(b"watchdog.freshness.age_seconds:") and b"monitor:labels_freshness"
               in x for x in lines)


def test_an_event_datadog_refuses_is_set_aside_and_said_once(tmp_path: Path) -> None:
    """A 400 for one event (the payload at fault): one stderr line says so, the rest of the
    run's records are delivered, and the refused one waits in no queue."""
    fake = FakeDatadog(refuse=lambda path, body: path == "/api/v1/events"
                       and "labels_freshness" in body["title"])
    server = serve(fake)
    try:
        config_with(tmp_path, {"transport": "http", "api_key": "${DD_API_KEY}",
                               "api_url": "${DD_API_URL}"})
        env = {"DD_API_KEY": API_KEY, "DD_API_URL": fake.url}
        run = watchdog(tmp_path, "demo", **env)
        errors = [line for line in run.stderr.splitlines() if "sink datadog" in line]
        assert len(errors) == 1 and "1 record(s) refused for good" in errors[0], run.stderr
        assert "answered 400" in errors[0] and API_KEY not in run.stderr
        with Store.open(f"sqlite:///{tmp_path}/.watchdog/state.db") as store:
            assert store.pending_count("datadog") == 0
            (dead,) = store.rejected("datadog")
        assert "labels_freshness" in dead[1]["title"]
        titles = [r.body["title"] for r in fake.accepted() if r.path == "/api/v1/events"]
        assert titles and not any("labels_freshness" in t for t in titles)
    finally:
        server.shutdown()
        server.server_close()
