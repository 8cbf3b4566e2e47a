"""The alert policy: open, update, suppress, resolve — pure functions, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from watchdog.alerting.policy import decide
from watchdog.models import CheckResult, Status

T0 = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)


def result(status: Status, *reasons: str, summary: str = "s") -> CheckResult:
    return CheckResult(monitor_id="m", kind="freshness", status=status, summary=summary,
                       subject="main.t", reasons=reasons)


def test_lifecycle_open_suppress_update_resolve() -> None:
    first = decide(result(Status.FAIL, "DATA_STALE"), None, T0)
    assert first.action == "open" and first.notify
    assert first.state is not None and first.state.dedup_key == "m:main.t"

    same = decide(result(Status.FAIL, "DATA_STALE", summary="older now"), first.state,
                  T0 + timedelta(minutes=15))
    assert same.action == "suppress" and not same.notify
    assert same.state is not None and same.state.occurrences == 2

    changed = decide(result(Status.FAIL, "DATA_STALE", "ROWS_BELOW_MIN"), same.state,
                     T0 + timedelta(minutes=30))
    assert changed.action == "update" and changed.notify

    back = decide(result(Status.OK), changed.state, T0 + timedelta(hours=1))
    assert back.action == "resolve" and back.state is not None
    assert back.state.status == "resolved" and back.state.opened_at == T0

    quiet = decide(result(Status.OK), back.state, T0 + timedelta(hours=2))
    assert quiet.action == "none"
    again = decide(result(Status.FAIL, "DATA_STALE"), back.state, T0 + timedelta(hours=3))
    assert again.action == "open" and again.state is not None
    assert again.state.opened_at == T0 + timedelta(hours=3)


def test_severity_change_is_an_update_and_skipped_changes_nothing() -> None:
    warn = decide(result(Status.WARN, "DATA_STALE"), None, T0)
    fail = decide(result(Status.FAIL, "DATA_STALE"), warn.state, T0)
    assert fail.action == "update" and fail.state is not None
    assert fail.state.severity is Status.FAIL
    skipped = decide(result(Status.SKIPPED), fail.state, T0)
    assert skipped.action == "none" and skipped.state == fail.state


def test_ok_without_history_says_nothing() -> None:
    assert decide(result(Status.OK), None, T0).action == "none"
