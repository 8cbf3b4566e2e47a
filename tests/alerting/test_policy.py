"""The alert policy: open, update, suppress, resolve — pure functions, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from watchdog.alerting.policy import decide
from watchdog.models import CheckResult, Finding, Status

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


def drift(*features: str) -> CheckResult:
    found = tuple(Finding(reason="PSI_ABOVE_THRESHOLD", message=f"{f} drifted",
                          status=Status.WARN, details={"feature": f}) for f in features)
    return CheckResult(monitor_id="m", kind="drift", status=Status.WARN, summary="s",
                       subject="main.t", reasons=("PSI_ABOVE_THRESHOLD",), findings=found)


def test_a_new_failing_feature_under_an_open_alert_is_an_update() -> None:
    """Same reason code, one more feature: the on-call hears of it at once."""
    first = decide(drift("f_num_1"), None, T0)
    more = decide(drift("f_num_1", "f_cat_1"), first.state, T0 + timedelta(hours=1))
    assert more.action == "update" and more.state is not None
    assert more.state.subjects == ("PSI_ABOVE_THRESHOLD", "PSI_ABOVE_THRESHOLD:f_cat_1",
                                   "PSI_ABOVE_THRESHOLD:f_num_1")
    fewer = decide(drift("f_cat_1"), more.state, T0 + timedelta(hours=2))
    assert fewer.action == "suppress"  # one went back to normal: nothing to say
    back = decide(drift("f_num_1"), fewer.state, T0 + timedelta(hours=3))
    assert back.action == "suppress"  # announced before, under this same alert


def test_recovery_waits_for_clean_runs_in_a_row() -> None:
    opened = decide(result(Status.FAIL, "DATA_STALE"), None, T0)
    one = decide(result(Status.OK), opened.state, T0 + timedelta(hours=1), recover_after=3)
    assert one.action == "none" and one.state is not None and one.state.clean == 1
    blip = decide(result(Status.FAIL, "DATA_STALE"), one.state, T0 + timedelta(hours=2),
                  recover_after=3)
    assert blip.action == "suppress" and blip.state is not None and blip.state.clean == 0
    state = blip.state
    for hour in (3, 4):
        step = decide(result(Status.OK), state, T0 + timedelta(hours=hour), recover_after=3)
        assert step.action == "none" and step.state is not None
        state = step.state
    done = decide(result(Status.OK), state, T0 + timedelta(hours=5), recover_after=3)
    assert done.action == "resolve" and done.state is not None
    assert done.state.opened_at == T0  # one incident: one open, one recovery
