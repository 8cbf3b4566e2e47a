"""Round trips of every Store method, on SQLite and PostgreSQL."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from watchdog.errors import StateError
from watchdog.models import AlertState, CheckResult, Column, Finding, Metric, Status
from watchdog.state import Store
from watchdog.state import tables as t

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
CEST = timezone(timedelta(hours=2))


def make_result(monitor_id: str = "m1", **kw: object) -> CheckResult:
    fields: dict[str, object] = {
        "monitor_id": monitor_id, "kind": "volume", "status": Status.FAIL,
        "summary": "rows fell", "warehouse": "demo", "subject": "main.predictions",
        "reasons": ("VOLUME_BELOW_BASELINE", "COLUMN_DROPPED"),
        "metrics": (
            Metric(name="watchdog.volume.rows", value=12.0, tags=("table:p", "monitor:m1")),
            Metric(name="watchdog.volume.ratio", value=0.25, timestamp=T0.timestamp() - 60,
                   type="count"),
        ),
        "findings": (
            Finding(reason="VOLUME_BELOW_BASELINE", message="12 rows, expected ~100",
                    subject="main.predictions",
                    details={"rows": 12, "baseline": {"mean": 100.5, "n": [1, 2]}, "ok": False}),
            Finding(reason="COLUMN_DROPPED", message="score dropped"),
        ),
        "started_at": T0.astimezone(CEST),
        "duration_s": 1.5,
    }
    fields.update(kw)
    return CheckResult(**fields)  # type: ignore[arg-type]


def assert_utc(value: datetime) -> None:
    assert value.tzinfo is not None and value.utcoffset() == timedelta(0)


def test_runs(store: Store, raw: sa.Engine) -> None:
    first, second = store.start_run("once"), store.start_run("daemon")
    assert second > first
    store.finish_run(first, "FAIL")
    with raw.connect() as conn:
        rows = {r.id: r for r in conn.execute(sa.select(t.runs))}
    assert (rows[first].trigger, rows[first].status) == ("once", "FAIL")
    assert rows[first].finished_at is not None
    assert (rows[second].status, rows[second].finished_at) == ("running", None)
    with pytest.raises(StateError, match="no run with id 999999"):
        store.finish_run(999999, "OK")


def test_result_round_trips(store: Store) -> None:
    run = store.start_run("once")
    result = make_result()
    store.record_result(result, run_id=run)
    back = store.last_result("m1")
    assert back == result
    assert back is not None and back.started_at is not None
    assert_utc(back.started_at)
    assert back.findings[0].details == {"rows": 12, "baseline": {"mean": 100.5, "n": [1, 2]},
                                        "ok": False}


def test_minimal_result_round_trips(store: Store) -> None:
    result = CheckResult(monitor_id="m2", kind="schema_change", status=Status.OK, summary="ok")
    store.record_result(result)
    assert store.last_result("m2") == result
    assert store.last_result("nope") is None


def test_results_newest_first(store: Store) -> None:
    for i in range(5):
        store.record_result(make_result(summary=f"pass {i}"))
    store.record_result(make_result("other"))
    assert [r.summary for r in store.results("m1")] == [f"pass {i}" for i in range(4, -1, -1)]
    assert [r.summary for r in store.results("m1", limit=2)] == ["pass 4", "pass 3"]
    assert store.last_result("m1").summary == "pass 4"  # type: ignore[union-attr]


def test_awkward_values_are_stored_plainly(store: Store) -> None:
    details = {"when": T0, "pair": (1, 2), "psi": math.inf, "status": Status.WARN}
    metrics = (Metric(name="watchdog.drift.psi", value=math.nan),)
    store.record_result(make_result(
        metrics=metrics, findings=(Finding(reason="X", message="m", details=details),),
    ))
    back = store.last_result("m1")
    assert back is not None
    assert back.findings[0].details == {
        "when": T0.isoformat(), "pair": [1, 2], "psi": "inf", "status": "WARN",
    }
    assert math.isnan(back.metrics[0].value)
    assert store.metric_history("m1", "watchdog.drift.psi") == []  # NaN is no history point


def test_metric_history(store: Store) -> None:
    store.record_result(make_result())  # rows at started_at, ratio at its own timestamp
    later = make_result(started_at=T0 + timedelta(hours=1), metrics=(
        Metric(name="watchdog.volume.rows", value=15, tags=("monitor:m1", "table:p")),
        Metric(name="watchdog.volume.rows", value=99, tags=("table:q",)),
    ))
    store.record_result(later)
    tags = ["table:p", "monitor:m1", "table:p"]  # order and duplicates do not matter
    assert store.metric_history("m1", "watchdog.volume.rows", tags) == [
        (T0, 12.0), (T0 + timedelta(hours=1), 15.0),
    ]
    assert store.metric_history("m1", "watchdog.volume.rows", tags, since=T0.astimezone(CEST)
                                + timedelta(minutes=1)) == [(T0 + timedelta(hours=1), 15.0)]
    assert [v for _, v in store.metric_history("m1", "watchdog.volume.rows")] == [12, 15, 99]
    assert store.metric_history("m1", "watchdog.volume.ratio", ()) == [
        (T0 - timedelta(seconds=60), 0.25)
    ]
    assert store.metric_history("m2", "watchdog.volume.rows") == []
    for ts, _ in store.metric_history("m1", "watchdog.volume.rows"):
        assert_utc(ts)


def test_metric_without_any_time_uses_now(store: Store) -> None:
    before = datetime.now(UTC)
    store.record_result(make_result(started_at=None))
    (ts, value), = store.metric_history("m1", "watchdog.volume.rows")
    assert before <= ts <= datetime.now(UTC) and value == 12.0


def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="naive"):
        store.metric_history("m1", "watchdog.volume.rows", since=datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="naive"):
        store.record_result(make_result(started_at=datetime(2024, 1, 1)))


def make_alert(key: str = "m1:t", **kw: object) -> AlertState:
    fields: dict[str, object] = {
        "dedup_key": key, "monitor_id": "m1", "status": "open", "severity": Status.FAIL,
        "fingerprint": "abc", "opened_at": T0.astimezone(CEST), "updated_at": T0,
    }
    fields.update(kw)
    return AlertState(**fields)  # type: ignore[arg-type]


def test_alert_state(store: Store) -> None:
    assert store.get_alert("m1:t") is None
    first = make_alert()
    store.put_alert(first)
    back = store.get_alert("m1:t")
    assert back == first
    assert back is not None
    assert_utc(back.opened_at)
    updated = make_alert(severity=Status.ERROR, fingerprint="def", occurrences=3,
                         updated_at=T0 + timedelta(hours=1))
    store.put_alert(updated)
    assert store.get_alert("m1:t") == updated
    store.put_alert(make_alert("m2:t", monitor_id="m2", opened_at=T0 - timedelta(days=1)))
    store.put_alert(make_alert("m3:t", status="resolved"))
    assert [a.dedup_key for a in store.open_alerts()] == ["m2:t", "m1:t"]


def test_schema_snapshots(store: Store) -> None:
    v1 = [Column(name="id", position=1, data_type="BIGINT", type_family="integer",
                 nullable=False)]
    v2 = [*v1, Column(name="score", position=2, data_type="DOUBLE", type_family="float",
                      nullable=True)]
    assert store.latest_snapshot("m1", "main.p") is None
    store.save_snapshot("m1", "main.p", v2, T0 + timedelta(hours=1), version_token="v2")
    store.save_snapshot("m1", "main.p", v1, T0.astimezone(CEST))  # older, saved later
    store.save_snapshot("m1", "main.q", v1, T0 + timedelta(days=1))
    taken_at, columns, token = store.latest_snapshot("m1", "main.p")  # type: ignore[misc]
    assert (taken_at, columns, token) == (T0 + timedelta(hours=1), v2, "v2")
    assert_utc(taken_at)
    assert store.latest_snapshot("m2", "main.p") is None


def test_outbox(store: Store, raw: sa.Engine) -> None:
    store.enqueue("datadog", [{"type": "metric", "n": i, "at": T0} for i in range(5)])
    store.enqueue("jsonl", [{"type": "event"}])
    store.enqueue("datadog", [])
    pending = store.pending("datadog")
    assert [record["n"] for _, record in pending] == [0, 1, 2, 3, 4]
    assert pending[0][1] == {"type": "metric", "n": 0, "at": T0.isoformat()}
    assert [i for i, _ in store.pending("datadog", limit=2)] == [i for i, _ in pending[:2]]
    ids = [i for i, _ in pending]
    store.mark_failed(ids[:2], "POST https://user:hunter22@api/x failed: api_key=abc123")
    store.mark_failed(ids[:1], "timeout")
    store.mark_delivered(ids[1:3])
    assert [record["n"] for _, record in store.pending("datadog")] == [0, 3, 4]
    assert (store.pending_count("datadog"), store.pending_count("jsonl")) == (3, 1)
    assert store.pending_count("console") == 0
    with raw.connect() as conn:
        rows = {r.id: r for r in conn.execute(sa.select(t.outbox))}
    assert (rows[ids[0]].attempts, rows[ids[0]].last_error) == (2, "timeout")
    assert rows[ids[1]].attempts == 1 and rows[ids[1]].delivered_at is not None
    assert "hunter22" not in rows[ids[1]].last_error and "abc123" not in rows[ids[1]].last_error


def test_outbox_handles_many_ids(store: Store) -> None:
    store.enqueue("jsonl", [{"n": i} for i in range(1200)])
    ids = [i for i, _ in store.pending("jsonl", limit=2000)]
    assert len(ids) == 1200
    store.mark_delivered(ids[:1100])
    assert [r["n"] for _, r in store.pending("jsonl")] == list(range(1100, 1200))


def test_artifacts_are_versioned_per_kind_and_key(store: Store) -> None:
    assert store.get_artifact("drift_profile", "m1") is None
    assert store.put_artifact("drift_profile", "m1", {"edges": [0.0, 1.5]}) == 1
    assert store.put_artifact("drift_profile", "m1", {"edges": [0.0, 2.5]}) == 2
    assert store.put_artifact("drift_profile", "m2", {"edges": []}) == 1
    version, created, payload = store.get_artifact("drift_profile", "m1")  # type: ignore[misc]
    assert (version, payload) == (2, {"edges": [0.0, 2.5]}) and created.tzinfo is not None
    assert store.get_artifact("drift_profile", "m1", version=1)[2] == {"edges": [0.0, 1.5]}  # type: ignore[index]
    assert store.get_artifact("volume_flags", "m1") is None


def test_snapshot_columns_are_stored_as_rows_of_every_column_field(
        store: Store, raw: sa.Engine) -> None:
    import dataclasses

    from watchdog.state.snapshots import FIELDS

    cols = [Column(name="a b", position=1, data_type="varchar(3)", type_family="string",
                   nullable=False), Column(name="x", position=2, data_type="int",
                                           type_family="integer", nullable=True)]
    assert tuple(f.name for f in dataclasses.fields(Column)) == FIELDS
    store.save_snapshots("m1", {"main.p": cols, "main.q": cols[1:]}, T0)
    with raw.connect() as conn:
        stored = conn.execute(sa.select(t.schema_snapshots.c.columns)
                              .where(t.schema_snapshots.c.table_name == "main.p")).scalar()
    assert stored == [["a b", 1, "varchar(3)", "string", False], ["x", 2, "int", "integer", True]]
    got = store.latest_snapshots("m1")
    assert got == {"main.p": cols, "main.q": cols[1:]}
    assert got["main.p"][1] is got["main.q"][0]  # an equal column is built once per read


def test_tables_holding_the_same_column_objects_store_the_same_rows(
        store: Store, raw: sa.Engine) -> None:
    """Tables alike share one encoded text when saved; each stored row is still its own
    table's columns, equal or not to the others'."""
    shared = [Column(name="id", position=1, data_type="int", type_family="integer",
                     nullable=False), Column(name='q"1', position=2, data_type="text",
                                             type_family="string", nullable=True)]
    equal_copy = [Column(name=c.name, position=c.position, data_type=c.data_type,
                         type_family=c.type_family, nullable=c.nullable) for c in shared]
    other = [*shared[:1], Column(name="é", position=2, data_type="text",
                                 type_family="string", nullable=True)]
    tables = {"s.a": shared, "s.b": list(shared), "s.c": equal_copy, "s.d": other,
              "s.e": []}
    store.save_snapshots("m1", tables, T0)
    with raw.connect() as conn:
        stored = dict(conn.execute(sa.select(t.schema_snapshots.c.table_name,
                                             t.schema_snapshots.c.columns)).all())
    rows = [["id", 1, "int", "integer", False], ['q"1', 2, "text", "string", True]]
    assert stored == {"s.a": rows, "s.b": rows, "s.c": rows,
                      "s.d": [rows[0], ["é", 2, "text", "string", True]], "s.e": []}
    assert store.latest_snapshots("m1") == tables


def test_snapshots_written_as_one_object_per_column_are_still_read(
        store: Store, raw: sa.Engine) -> None:
    cols = [Column(name="id", position=1, data_type="BIGINT", type_family="integer",
                   nullable=False)]
    with raw.begin() as conn:
        conn.execute(sa.insert(t.schema_snapshots), [{
            "monitor_id": "m1", "table_name": "main.p", "taken_at": T0, "version_token": "v1",
            "columns": [{"name": "id", "position": 1, "data_type": "BIGINT",
                         "type_family": "integer", "nullable": False}]}])
    assert store.latest_snapshots("m1") == {"main.p": cols}
    assert store.latest_snapshot("m1", "main.p") == (T0, cols, "v1")
