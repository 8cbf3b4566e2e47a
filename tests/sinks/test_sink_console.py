"""ConsoleSink: the exact text a person reads."""

from __future__ import annotations

import io

import pytest

from watchdog.models import AlertEvent, CheckResult, Emission, Metric, ServiceCheck, Status
from watchdog.sinks.console import ConsoleSink

RESULTS = (
    CheckResult(monitor_id="users_schema", kind="schema_change", status=Status.FAIL,
                summary="column age dropped", subject="main.users"),
    CheckResult(monitor_id="orders_volume", kind="volume", status=Status.OK,
                summary="1204 rows in the last hour\n(baseline 1180)", subject="main.orders"),
    CheckResult(monitor_id="preds_drift", kind="drift", status=Status.ERROR,
                summary="warehouse 'demo' unreachable"),
)
EMISSION = Emission(
    results=RESULTS,
    events=(
        AlertEvent(title="users_schema FAIL: column age dropped", text="...",
                   alert_type="error", aggregation_key="users_schema"),
        AlertEvent(title="orders_volume resolved", text="...", alert_type="success",
                   aggregation_key="orders_volume"),
    ),
    metrics=(Metric(name="watchdog.volume.rows", value=1204.0),),
    service_checks=(ServiceCheck(name="watchdog.check", status=0),) * 3,
)
TEXT = """\
MONITOR        KIND           STATUS  SUBJECT      SUMMARY
users_schema   schema_change  FAIL    main.users   column age dropped
orders_volume  volume         OK      main.orders  1204 rows in the last hour (baseline 1180)
preds_drift    drift          ERROR   -            warehouse 'demo' unreachable
3 results: 1 ERROR, 1 FAIL, 1 OK
2 events to send:
  error    users_schema FAIL: column age dropped
  success  orders_volume resolved
1 metric, 3 service checks to send
"""


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def emit(stream: io.StringIO, color: str = "auto", emission: Emission = EMISSION) -> str:
    settings = ConsoleSink.Settings.model_validate({"color": color})
    ConsoleSink(settings, stream=stream).emit(emission)
    return stream.getvalue()


def test_table_events_and_counts() -> None:
    assert emit(io.StringIO()) == TEXT


def test_colour_only_on_a_terminal_or_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    coloured = emit(Tty())
    assert "\x1b[31mFAIL\x1b[0m    main.users" in coloured
    assert "\x1b[1;31mERROR\x1b[0m   -" in coloured
    assert coloured.replace("\x1b[31m", "").replace("\x1b[32m", "").replace(
        "\x1b[1;31m", "").replace("\x1b[0m", "") == TEXT  # colour never shifts a column
    assert emit(io.StringIO(), color="always") == coloured
    assert emit(Tty(), color="never") == TEXT
    monkeypatch.setenv("NO_COLOR", "1")
    assert emit(Tty()) == TEXT


def test_one_monitor_run_is_one_line() -> None:
    one = Emission(results=RESULTS[:1], events=EMISSION.events[:1], metrics=EMISSION.metrics)
    assert emit(io.StringIO(), emission=one) == (
        "FAIL users_schema (schema_change) on main.users: column age dropped\n"
        "1 event to send:\n  error  users_schema FAIL: column age dropped\n"
        "1 metric, 0 service checks to send\n")
    assert emit(Tty(), emission=Emission(results=RESULTS[2:])).startswith(
        "\x1b[1;31mERROR\x1b[0m preds_drift (drift): warehouse")


def test_only_what_there_is() -> None:
    assert emit(io.StringIO(), emission=Emission()) == ""
    events_only = Emission(events=EMISSION.events[:1])
    assert emit(io.StringIO(), emission=events_only) == (
        "1 event to send:\n  error  users_schema FAIL: column age dropped\n"
    )
