"""DatadogSink over DogStatsD: the exact datagrams a loopback UDP socket receives."""

from __future__ import annotations

import re

import pytest

from tests.sinks.sink_fakes import UdpListener
from watchdog.errors import SinkError
from watchdog.models import AlertEvent, Emission, Metric, ServiceCheck
from watchdog.sinks.datadog import DatadogSettings, DatadogSink
from watchdog.sinks.datadog.limits import DATAGRAM_LIMIT, TRUNCATED

TS = 1_700_000_000


def statsd_sink(udp: UdpListener, **settings: object) -> DatadogSink:
    base: dict[str, object] = {
        "agent_host": "127.0.0.1", "dogstatsd_port": udp.port, "tags": ("env:test",),
    }
    return DatadogSink(DatadogSettings.model_validate({**base, **settings}))


def test_not_durable_and_no_socket_before_emit() -> None:
    sink = DatadogSink(DatadogSettings(agent_host="nowhere.invalid"))
    assert sink.DURABLE is False
    sink.close()  # nothing was opened, nothing to flush


def test_exact_datagrams(udp: UdpListener) -> None:
    sink = statsd_sink(udp, hostname="h1")
    sink.emit(
        Emission(
            events=(
                AlertEvent(
                    title="Schema change: users", text="column `age` dropped\nsecond line",
                    alert_type="warning", aggregation_key="schema:users",
                    tags=("table:users",), date_happened=TS,
                ),
            ),
            metrics=(
                Metric(name="watchdog.feature.null_fraction", value=0.2,
                       tags=("table:users", "column:age"), timestamp=TS),
                Metric(name="watchdog.check.failures", value=1, type="count",
                       tags=("table:users",)),
                Metric(name="watchdog.table.rows", value=42, type="count", timestamp=TS),
            ),
            service_checks=(
                ServiceCheck(name="watchdog.contract", status=2, tags=("table:users",),
                             message="3 failed\nsee log", timestamp=TS),
            ),
        )
    )
    datagrams = udp.datagrams()
    assert all(d.endswith(b"\n") for d in datagrams)
    lines = [line for d in datagrams for line in d.split(b"\n") if line]
    text = "%%% \\ncolumn `age` dropped\\nsecond line\\n %%%"
    assert sorted(lines) == sorted([
        b"_e{20,%d}:Schema change: users|" % len(text) + text.encode()
        + b"|d:1700000000|h:h1|k:schema:users|p:normal|s:watchdog|t:warning"
        b"|#table:users,env:test",
        b"_sc|watchdog.contract|2|d:1700000000|h:h1|#table:users,env:test"
        b"|m:3 failed\\nsee log",
        b"watchdog.feature.null_fraction:0.2|g|#table:users,column:age,env:test|T1700000000",
        b"watchdog.check.failures:1|c|#table:users,env:test",
        b"watchdog.table.rows:42|c|#env:test|T1700000000",
    ])
    sink.close()


def test_no_hostname_lets_the_agent_choose(udp: UdpListener) -> None:
    with statsd_sink(udp) as sink:
        sink.emit(Emission(service_checks=(ServiceCheck(name="watchdog.up", status=0),)))
    assert udp.lines() == [b"_sc|watchdog.up|0|#env:test"]


@pytest.mark.parametrize(
    "text", ["é" * 10_000, "line\n" * 3_000, "x" * 20_000], ids=["utf8", "newlines", "ascii"]
)
def test_oversized_event_is_shortened_not_dropped(udp: UdpListener, text: str) -> None:
    tags = tuple(f"tag{i}:{'v' * 20}" for i in range(40))
    event = AlertEvent(title="Drift: predictions", text=text, alert_type="error",
                       aggregation_key="drift:predictions", tags=tags, date_happened=TS)
    with statsd_sink(udp, hostname="h1") as sink:
        sink.emit(Emission(events=(event,)))
    [datagram] = udp.datagrams()
    assert len(datagram) <= DATAGRAM_LIMIT
    header = re.match(rb"_e\{(\d+),(\d+)\}:", datagram)
    assert header is not None
    title_len, text_len = int(header[1]), int(header[2])
    rest = datagram[header.end():]
    assert rest[:title_len] == b"Drift: predictions"
    body = rest[title_len + 1 : title_len + 1 + text_len]
    assert body.endswith(TRUNCATED.replace("\n", "\\n").encode() + b"\\n %%%")
    assert rest[title_len + 1 + text_len :].startswith(b"|d:1700000000|h:h1|k:drift:predictions")
    assert datagram.endswith(b",tag39:" + b"v" * 20 + b",env:test\n")


def test_unresolvable_agent_is_an_error() -> None:
    sink = DatadogSink(DatadogSettings(agent_host="nowhere.invalid", dogstatsd_port=8125))
    try:
        with pytest.raises(SinkError, match=r"could not send to nowhere\.invalid:8125"):
            sink.emit(Emission(metrics=(Metric(name="watchdog.a.b", value=1),)))
    finally:
        sink.close()


def test_env_fallbacks(monkeypatch: pytest.MonkeyPatch, udp: UdpListener) -> None:
    monkeypatch.setenv("DD_AGENT_HOST", "127.0.0.1")
    monkeypatch.setenv("DD_DOGSTATSD_PORT", str(udp.port))
    settings = DatadogSettings()
    assert (settings.agent_host, settings.dogstatsd_port) == ("127.0.0.1", udp.port)
    with DatadogSink(settings) as sink:
        sink.emit(Emission(metrics=(Metric(name="watchdog.a.b", value=1.5),)))
    assert udp.lines() == [b"watchdog.a.b:1.5|g"]
