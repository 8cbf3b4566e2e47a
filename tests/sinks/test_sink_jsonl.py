"""JsonlSink: one JSON object per line, read back with records_emission."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from watchdog.errors import SinkError
from watchdog.models import (
    AlertEvent,
    CheckResult,
    Emission,
    Finding,
    Metric,
    ServiceCheck,
    Status,
)
from watchdog.sinks.base import records_emission
from watchdog.sinks.jsonl import JsonlSink

RESULT = CheckResult(
    monitor_id="users_contract", kind="contract", status=Status.FAIL, summary="2 checks failed",
    warehouse="demo", subject="main.users", reasons=("CONTRACT_VIOLATED",),
    metrics=(Metric(name="watchdog.contract.failed", value=2.0, tags=("table:users",)),),
    findings=(Finding(reason="CONTRACT_VIOLATED", message="age < 0 in 3 rows", subject="age",
                      details={"failing_rows": 3, "sample": [-1, -4]}),),
    started_at=datetime(2024, 5, 1, 3, 0, tzinfo=UTC), duration_s=0.25,
)
EMISSION = Emission(
    results=(RESULT,),
    events=(AlertEvent(title="Contract failed: users", text="age < 0\nin 3 rows",
                       alert_type="error", aggregation_key="users_contract",
                       tags=("table:users",), date_happened=1_700_000_000),),
    metrics=(
        Metric(name="watchdog.contract.failed", value=2.0, tags=("table:users",),
               timestamp=1_700_000_000.5),
        Metric(name="watchdog.contract.runs", value=1, type="count"),
    ),
    service_checks=(ServiceCheck(name="watchdog.contract", status=2, tags=("table:users",),
                                 message="2 checks failed", timestamp=1_700_000_000),),
)


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_lines_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "emitted.jsonl"
    sink = JsonlSink(JsonlSink.Settings(path=path))
    sink.emit(EMISSION)
    records = read(path)
    assert [r["type"] for r in records] == ["result", "event", "metric", "metric", "service_check"]
    result = records[0]
    assert result["status"] == "FAIL" and result["started_at"] == "2024-05-01T03:00:00+00:00"
    assert result["findings"][0]["details"] == {"failing_rows": 3, "sample": [-1, -4]}
    assert records[3]["metric_type"] == "count"
    assert records_emission(records[1:]) == Emission(
        events=EMISSION.events, metrics=EMISSION.metrics, service_checks=EMISSION.service_checks
    )


def test_appends_and_flushes_per_emit(tmp_path: Path) -> None:
    path = tmp_path / "emitted.jsonl"
    sink = JsonlSink(JsonlSink.Settings(path=path))
    sink.emit(Emission(metrics=EMISSION.metrics[:1]))
    assert len(read(path)) == 1  # on disk before the sink is closed
    sink.emit(Emission(metrics=EMISSION.metrics[1:]))
    sink.emit(Emission())
    assert [r["name"] for r in read(path)] == ["watchdog.contract.failed", "watchdog.contract.runs"]


def test_unwritable_path_is_a_sink_error(tmp_path: Path) -> None:
    sink = JsonlSink(JsonlSink.Settings(path=tmp_path))  # a directory
    with pytest.raises(SinkError, match=f"jsonl sink: cannot write {tmp_path}"):
        sink.emit(EMISSION)


def test_default_path() -> None:
    assert JsonlSink.Settings().path == Path(".watchdog/emitted.jsonl")
