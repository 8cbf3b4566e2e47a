"""deliver(): durable sinks through the state store's outbox, against the real Store and a
loopback Datadog API that fails, goes down and comes back."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sinks.sink_fakes import FakeDatadog
from watchdog.models import AlertEvent, Emission, Metric, ServiceCheck
from watchdog.sinks.console import ConsoleSink
from watchdog.sinks.datadog import DatadogSettings, DatadogSink
from watchdog.sinks.outbox import DeliveryReport, deliver, groups
from watchdog.state import Store

TS = 1_700_000_000
API_KEY = "0123456789abcdef0123456789abcdef"


def event(n: int) -> AlertEvent:
    return AlertEvent(title=f"event {n}", text="t", alert_type="error",
                      aggregation_key=f"k{n}", date_happened=TS + n)


def metric(n: int) -> Metric:
    return Metric(name="watchdog.test.value", value=float(n), tags=(f"n:{n}",), timestamp=TS + n)


def check(n: int) -> ServiceCheck:
    return ServiceCheck(name="watchdog.test.check", status=0, tags=(f"n:{n}",), timestamp=TS + n)


FIRST = Emission(events=(event(1), event(2)), metrics=(metric(1), metric(2)),
                 service_checks=(check(1),))
SECOND = Emission(events=(event(3),), metrics=(metric(3),), service_checks=(check(2),))
# What a healthy API receives for FIRST then SECOND: one request per event, metrics and
# service checks batched per run of records of one type, in the outbox's order.
DELIVERED = [
    ("/api/v1/events", "event 1"), ("/api/v1/events", "event 2"),
    ("/api/v2/series", [1.0, 2.0]), ("/api/v1/check_run", ["n:1"]),
    ("/api/v1/events", "event 3"), ("/api/v2/series", [3.0]), ("/api/v1/check_run", ["n:2"]),
]


def sent(fake: FakeDatadog) -> list[tuple[str, object]]:
    """What the API accepted, summarised per request."""
    out: list[tuple[str, object]] = []
    for r in fake.accepted():
        if r.path == "/api/v1/events":
            out.append((r.path, r.body["title"]))
        elif r.path == "/api/v2/series":
            out.append((r.path, [s["points"][0]["value"] for s in r.body["series"]]))
        else:
            out.append((r.path, [c["tags"][0] for c in r.body]))
    return out


def sink(url: str) -> DatadogSink:
    return DatadogSink(DatadogSettings(transport="http", api_key=API_KEY, api_url=url))


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/state.db"


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url)
    yield s
    s.close()


def test_healthy_api_gets_everything_once_in_order(store: Store, fake_api: FakeDatadog) -> None:
    datadog = sink(fake_api.url)
    assert deliver(datadog, store, FIRST) == DeliveryReport(delivered=5, pending=0)
    assert deliver(datadog, store, SECOND) == DeliveryReport(delivered=3, pending=0)
    assert deliver(datadog, store, Emission()) == DeliveryReport(delivered=0, pending=0)
    assert sent(fake_api) == DELIVERED


def test_failures_keep_records_pending_until_the_api_answers(
    store: Store, fake_api: FakeDatadog
) -> None:
    datadog = sink(fake_api.url)
    fake_api.status = 500
    report = deliver(datadog, store, FIRST)
    assert (report.delivered, report.pending) == (0, 5)
    assert report.error is not None and "answered 500" in report.error
    assert API_KEY not in report.error
    report = deliver(datadog, store, SECOND)
    assert (report.delivered, report.pending) == (0, 8)
    assert len(fake_api.requests) == 2  # each pass stopped at its first failure

    fake_api.status = 202
    assert deliver(datadog, store, Emission()) == DeliveryReport(delivered=8, pending=0)
    assert sent(fake_api) == DELIVERED
    assert store.pending_count("datadog") == 0


def test_a_record_delivered_before_a_failure_is_not_resent(
    store: Store, fake_api: FakeDatadog
) -> None:
    datadog = sink(fake_api.url)
    fake_api.script = [202, 202, 503]  # event 1, event 2, then the metrics batch fails
    report = deliver(datadog, store, FIRST)
    assert (report.delivered, report.pending) == (2, 3)
    assert deliver(datadog, store, SECOND) == DeliveryReport(delivered=6, pending=0)
    assert sent(fake_api) == DELIVERED
    assert [r.status for r in fake_api.requests][:3] == [202, 202, 503]


def test_down_then_restart_delivers_once_in_order(
    db_url: str, fake_api: FakeDatadog, closed_port: int
) -> None:
    store = Store.open(db_url)
    down = sink(f"http://127.0.0.1:{closed_port}")
    report = deliver(down, store, FIRST)
    assert (report.delivered, report.pending) == (0, 5)
    assert report.error is not None and "failed" in report.error
    assert deliver(down, store, SECOND).pending == 8
    down.close()
    store.close()

    store = Store.open(db_url)  # a new process: same file, new store and sink
    try:
        assert store.pending_count("datadog") == 8
        assert deliver(sink(fake_api.url), store, Emission()).delivered == 8
        assert sent(fake_api) == DELIVERED
        assert deliver(sink(fake_api.url), store, Emission()).delivered == 0
    finally:
        store.close()


def test_pages_through_a_long_backlog(store: Store, fake_api: FakeDatadog) -> None:
    datadog = sink(fake_api.url)
    fake_api.status = 500
    deliver(datadog, store, FIRST)
    deliver(datadog, store, SECOND)
    fake_api.status = 202
    assert deliver(datadog, store, Emission(), batch=3).delivered == 8
    # A page boundary may split a batch of metrics; the order never changes.
    assert [p for p, _ in sent(fake_api)] == [
        "/api/v1/events", "/api/v1/events", "/api/v2/series", "/api/v2/series",
        "/api/v1/check_run", "/api/v1/events", "/api/v2/series", "/api/v1/check_run",
    ]


def test_missing_times_are_stamped_when_queued(store: Store, fake_api: FakeDatadog) -> None:
    fake_api.status = 500
    before = int(time.time())
    untimed = Emission(metrics=(Metric(name="watchdog.test.value", value=1.0),),
                       service_checks=(ServiceCheck(name="watchdog.up", status=0),))
    deliver(sink(fake_api.url), store, untimed)
    [(_, m), (_, c)] = store.pending("datadog")
    assert before <= m["timestamp"] <= int(time.time()) and c["timestamp"] == m["timestamp"]


def test_non_durable_sinks_just_emit(store: Store) -> None:
    out = io.StringIO()
    report = deliver(ConsoleSink(stream=out), store, FIRST)
    assert report == DeliveryReport(delivered=5, pending=0)
    assert "2 events to send" in out.getvalue()
    assert store.pending_count("console") == 0


def test_groups_batch_only_what_one_request_carries() -> None:
    rows = [(1, {"type": "event"}), (2, {"type": "event"}), (3, {"type": "metric"}),
            (4, {"type": "metric"}), (5, {"type": "service_check"}), (6, {"type": "metric"})]
    assert [ids for ids, _ in groups(rows, frozenset({"metric", "service_check"}))] == [
        [1], [2], [3, 4], [5], [6],
    ]


def test_a_record_refused_for_good_is_set_aside_not_blocking_the_rest(
    store: Store, fake_api: FakeDatadog
) -> None:
    """A 400 for event 1 and for metric 2 (inside a batch): those two become dead letters,
    everything behind and beside them is delivered, and they are never sent again."""
    fake_api.refuse = lambda path, body: (
        (path == "/api/v1/events" and body["title"] == "event 1")
        or (path == "/api/v2/series" and 2.0 in [s["points"][0]["value"]
                                                 for s in body["series"]]))
    datadog = sink(fake_api.url)
    report = deliver(datadog, store, FIRST)
    assert (report.delivered, report.pending, report.error, report.rejected) == (3, 0, None, 2)
    assert report.rejection is not None and "answered 400" in report.rejection
    assert sent(fake_api) == [("/api/v1/events", "event 2"), ("/api/v2/series", [1.0]),
                              ("/api/v1/check_run", ["n:1"])]
    dead = store.rejected("datadog")
    assert [r["type"] for _, r, _ in dead] == ["metric", "event"]  # newest first
    assert all("answered 400" in e and API_KEY not in e for _, _, e in dead)
    fake_api.refuse = None
    assert deliver(datadog, store, SECOND) == DeliveryReport(delivered=3, pending=0)
    assert [p for p, _ in sent(fake_api)].count("/api/v1/events") == 2  # event 1 not resent


@pytest.mark.parametrize("status", [401, 403, 429, 500])
def test_keys_throttling_and_outages_are_not_refusals(
    store: Store, fake_api: FakeDatadog, status: int
) -> None:
    fake_api.status = status
    report = deliver(sink(fake_api.url), store, FIRST)
    assert (report.rejected, report.pending) == (0, 5) and store.rejected("datadog") == []
