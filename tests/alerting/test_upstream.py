"""What upstream broke, in one sentence: a table's writer losing a write privilege (as its
access monitor stored it) and its failed run, in the title of a freshness (volume, contract,
drift) event, through ``alert_event`` with the policy's own decision."""

from __future__ import annotations

from datetime import UTC, datetime

from watchdog.alerting.events import alert_event, upstream
from watchdog.alerting.policy import decide
from watchdog.alerting.routing import Audience
from watchdog.models import AccessLoss, CheckResult, PipelineRun, Status

NOW = datetime(2026, 12, 6, 4, 0, tzinfo=UTC)
LOSS = AccessLoss(principal="etl_svc", table="main.features", privileges=("INSERT",),
                  by="alice", at=datetime(2026, 12, 6, 3, 2, tzinfo=UTC))
FAILED = PipelineRun(source="dbt", job="features", label="dbt model features", run_id="r1",
                     state="failed", finished_at=datetime(2026, 12, 6, 3, 10, tzinfo=UTC))
OK_RUN = PipelineRun(source="dbt", job="features", label="dbt model features", run_id="r0",
                     state="success", finished_at=datetime(2026, 12, 6, 2, 10, tzinfo=UTC))


def _event(kind: str, lost: list[AccessLoss], writers: list[PipelineRun]) -> tuple[str, str]:
    result = CheckResult(monitor_id="features_freshness", kind=kind, status=Status.FAIL,
                         summary="main.features: newest row is 5h old (limit 2h)",
                         warehouse="wh", subject="main.features", reasons=("DATA_STALE",))
    event = alert_event(result, decide(result, None, NOW), Audience((), (), ()), (), NOW,
                        writers=writers, lost=lost)
    return event.title, event.text


def test_a_lost_grant_and_a_failed_run_are_one_sentence() -> None:
    title, text = _event("freshness", [LOSS], [FAILED])
    sentence = ("etl_svc lost INSERT on main.features (REVOKE by alice at 03:02) and dbt model "
                "features failed at 03:10")
    assert title.endswith(f"(limit 2h); {sentence}")
    assert f"**Upstream:** {sentence}." in text.splitlines()


def test_either_cause_alone_and_neither() -> None:
    assert _event("volume", [LOSS], [OK_RUN])[0].endswith(
        "; etl_svc lost INSERT on main.features (REVOKE by alice at 03:02)")
    assert _event("drift", [], [FAILED])[0].endswith("; dbt model features failed at 03:10")
    title, text = _event("freshness", [], [OK_RUN])
    assert title == "[FAIL] features_freshness: main.features: newest row is 5h old (limit 2h)"
    assert "Upstream" not in text and "Latest run of its writer: dbt model features " \
        "success at 02:10" in text


def test_a_schema_event_names_neither() -> None:
    title, text = _event("schema_change", [LOSS], [FAILED])
    assert "lost INSERT" not in title + text and "failed at" not in title + text


def test_unknown_and_probable_revokers_and_several_losses() -> None:
    unknown = AccessLoss(principal="loader", table="main.features",
                         privileges=("INSERT", "UPDATE"))
    probable = AccessLoss(principal="etl_svc", table="main.features", privileges=("DELETE",),
                          by="bob", at=datetime(2026, 12, 6, 1, 5, tzinfo=UTC), probable=True)
    assert upstream([unknown, probable], [FAILED]) == (
        "loader lost INSERT, UPDATE on main.features (who revoked it is unknown), etl_svc "
        "lost DELETE on main.features (REVOKE probably by bob at 01:05) and dbt model "
        "features failed at 03:10")
    assert upstream([], [OK_RUN]) == ""
    assert AccessLoss.from_json(probable.to_json()) == probable
