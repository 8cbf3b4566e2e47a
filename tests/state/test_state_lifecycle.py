"""Opening, versioning, restarts, concurrency and pruning of the state store."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from watchdog.errors import StateError, StateSchemaMismatch
from watchdog.models import AlertState, Cause, CheckResult, Column, Metric, Status
from watchdog.state import SCHEMA_VERSION, Store
from watchdog.state import tables as t

NOW = datetime.now(UTC)
COLS = [Column(name="id", position=1, data_type="INT", type_family="integer", nullable=False)]


def result(monitor_id: str = "m1", value: float = 1.0, ts: float | None = None) -> CheckResult:
    metric = Metric(name="watchdog.volume.rows", value=value, timestamp=ts)
    return CheckResult(monitor_id=monitor_id, kind="volume", status=Status.OK, summary="ok",
                       metrics=(metric,))


def alert(key: str, status: str, updated_at: datetime) -> AlertState:
    return AlertState(dedup_key=key, monitor_id="m1", status=status,  # type: ignore[arg-type]
                      severity=Status.WARN, fingerprint="f", opened_at=updated_at,
                      updated_at=updated_at)


def test_outbox_survives_restart(url: str) -> None:
    with Store.open(url) as store:
        store.enqueue("datadog", [{"n": i} for i in range(4)])
        first = store.pending("datadog")
        store.mark_delivered([first[0][0]])
        store.mark_failed([first[1][0]], "boom")
    with Store.open(url) as store:  # a restart: same database, new engine
        assert store.pending("datadog") == first[1:]
        store.enqueue("datadog", [{"n": 4}])
        assert [r["n"] for _, r in store.pending("datadog")] == [1, 2, 3, 4]
        assert store.pending_count("datadog") == 4


def test_schema_version_mismatch(url: str, raw: sa.Engine) -> None:
    Store.open(url).close()
    with raw.begin() as conn:
        conn.execute(sa.update(t.meta).where(t.meta.c.key == "schema_version").values(value="0"))
    with pytest.raises(StateSchemaMismatch) as info:
        Store.open(url)
    message = str(info.value)
    assert "\n" not in message
    assert f"schema version 0, this watchdog expects {SCHEMA_VERSION}" in message
    assert "state.url" in message


def test_reopening_keeps_data(url: str) -> None:
    with Store.open(url) as store:
        store.record_result(result())
    with Store.open(url) as store:
        assert store.last_result("m1") == result()


def test_refuses_a_database_that_is_not_ours(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE runs (x INTEGER)")
    engine.dispose()
    with pytest.raises(StateError, match="not a watchdog state database"):
        Store.open(f"sqlite:///{path}")


def test_default_is_a_sqlite_file_under_dot_watchdog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with Store.open() as store:
        store.enqueue("jsonl", [{"a": 1}])
    assert (tmp_path / ".watchdog" / "state.db").is_file()
    with Store.open(None) as store:
        assert store.pending_count("jsonl") == 1


def test_in_memory_sqlite_works_across_threads() -> None:
    with Store.open("sqlite://") as store:
        threads = [threading.Thread(target=store.record_result, args=(result(),))
                   for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(store.results("m1")) == 4


def test_unreachable_database_names_url_without_password() -> None:
    url = "postgresql+psycopg://watchdog:s3cr3t-Pa55@127.0.0.1:1/state"
    with pytest.raises(StateError) as info:
        Store.open(url)
    message = str(info.value)
    assert "s3cr3t-Pa55" not in message and "s3cr3t-Pa55" not in repr(info.value.args)
    assert "postgresql+psycopg://watchdog:***@127.0.0.1:1/state" in message


@pytest.mark.parametrize("url", ["mysql://u:pw123@h/db", "not a url"])
def test_unusable_urls(url: str) -> None:
    with pytest.raises(StateError) as info:
        Store.open(url)
    assert "pw123" not in str(info.value)


def test_concurrent_writes_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    stores = [Store.open(url), Store.open(url)]  # also two engines, as two processes would
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def work(n: int) -> None:
        store = stores[n % 2]
        try:
            start.wait()
            for i in range(15):
                store.record_result(result(f"m{n}", float(i)))
                store.enqueue("jsonl", [{"n": n, "i": i}])
                store.put_alert(alert(f"k{i}", "open", NOW))
                store.mark_delivered([i for i, _ in store.pending("jsonl", limit=3)])
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        assert all(len(stores[0].results(f"m{n}")) == 15 for n in range(8))
        assert len(stores[1].metric_history("m3", "watchdog.volume.rows")) == 15
        assert len(stores[0].open_alerts()) == 15
    finally:
        for store in stores:
            store.close()


def test_prune(store: Store) -> None:
    old, recent = NOW - timedelta(days=30), NOW - timedelta(days=1)
    store.finish_run(store.start_run("once"), "OK")
    store.record_result(result(ts=old.timestamp()))
    store.record_result(result(ts=recent.timestamp()))
    store.enqueue("jsonl", [{"n": 1}, {"n": 2}])
    store.mark_delivered([store.pending("jsonl")[0][0]])
    store.put_alert(alert("open-old", "open", old))
    store.put_alert(alert("resolved-old", "resolved", old))
    store.put_alert(alert("resolved-late", "resolved", NOW + timedelta(days=1)))
    for days in (40, 35, 31):
        store.save_snapshot("m1", "main.p", COLS, NOW - timedelta(days=days))
    store.save_snapshot("m1", "main.q", COLS, old)

    # Older than 7 days: the old point, two superseded snapshots, the old resolved alert.
    assert store.prune(NOW - timedelta(days=7)) == 4
    assert store.metric_history("m1", "watchdog.volume.rows") == [(recent, 1.0)]
    assert store.latest_snapshot("m1", "main.p")[0] == NOW - timedelta(days=31)  # type: ignore[index]

    # The run, both results, the recent point and the delivered record.
    assert store.prune(NOW + timedelta(hours=1)) == 5
    assert store.results("m1") == [] and store.metric_history("m1", "watchdog.volume.rows") == []
    assert [r for _, r in store.pending("jsonl")] == [{"n": 2}]
    assert [a.dedup_key for a in store.open_alerts()] == ["open-old"]
    assert store.get_alert("resolved-late") is not None and store.get_alert("resolved-old") is None
    assert store.latest_snapshot("m1", "main.q") is not None
    assert store.prune(NOW + timedelta(hours=1)) == 0


def test_prune_refuses_naive_datetimes(store: Store) -> None:
    with pytest.raises(ValueError, match="naive"):
        store.prune(datetime(2024, 1, 1))


def test_a_version_2_database_is_upgraded_in_place_keeping_its_outbox(
        url: str, raw: sa.Engine) -> None:
    """Version 2 had no dead letters (outbox.rejected_at) and no leader lease: opening it
    adds both in place; pending records, snapshots and the rest stay."""
    with Store.open(url) as store:
        store.enqueue("datadog", [{"n": 1}, {"n": 2}])
        store.record_result(result())
    with raw.begin() as conn:  # what a version-2 watchdog left behind
        for column in ("subjects", "clean", "incident"):  # (version 4's)
            conn.execute(sa.text(f"ALTER TABLE alert_state DROP COLUMN {column}"))
        conn.execute(sa.text("DROP TABLE causes"))
        conn.execute(sa.text("ALTER TABLE outbox DROP COLUMN rejected_at"))
        conn.execute(sa.text("DROP TABLE leases"))
        conn.execute(sa.update(t.meta).where(t.meta.c.key == "schema_version").values(value="2"))
    with Store.open(url) as store:
        assert [r["n"] for _, r in store.pending("datadog")] == [1, 2]
        assert store.last_result("m1") == result()
        (first, _), _ = store.pending("datadog")
        store.mark_rejected([first], "answered 400")
        assert [r["n"] for _, r in store.pending("datadog")] == [2]
        assert store.acquire_lease("scheduler", "a", timedelta(minutes=1))
        now = datetime(2026, 3, 1, tzinfo=UTC)
        alert = AlertState(dedup_key="m1:t", monitor_id="m1", status="open",
                           severity=Status.FAIL, fingerprint="f", opened_at=now,
                           updated_at=now, subjects=("DRIFT:x",), clean=1, incident="k")
        store.put_alert(alert)
        assert store.get_alert("m1:t") == alert
        cause = Cause(kind="stale", monitor_id="f", warehouse="w", table="main.T", at=now,
                      expires=now + timedelta(hours=2), title="stale", aggregation_key="k")
        store.commit(replace(result("f"), causes=(cause,)))  # a cause comes with its run
        assert store.active_causes("w", "main.t", now) == [cause]
        assert store.active_causes("w", "main.t", now + timedelta(hours=3)) == []
        assert store.active_causes("other", "main.t", now) == []
    with raw.connect() as conn:
        version = conn.execute(sa.select(t.meta.c.value).where(
            t.meta.c.key == "schema_version")).scalar_one()
        assert version == str(SCHEMA_VERSION) == "4"
