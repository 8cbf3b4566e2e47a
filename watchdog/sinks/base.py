"""The sink interface and the one JSON encoding of what sinks carry (jsonl files, outbox).

The encoding is also where registered secrets are scrubbed from events and results
(:func:`watchdog.secrets.scrub_value`): whatever is written or queued has none.
"""

from __future__ import annotations

import abc
import dataclasses
import enum
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar, Self

import pydantic

from watchdog.models import AlertEvent, CheckResult, Emission, Metric, ServiceCheck
from watchdog.secrets import scrub_value


class SinkSettings(pydantic.BaseModel):
    """Base of every sink's settings: validated from ``sinks.<name>`` with no side effects."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)


class Sink(abc.ABC):
    """Somewhere results go. ``emit`` raises SinkError when it could not deliver."""

    NAME: ClassVar[str]
    #: Settings model validated from ``sinks.<name>``.
    Settings: ClassVar[type[SinkSettings]] = SinkSettings
    #: Deliveries go through the state store's outbox first, and are retried in order
    #: until the sink accepts them (for sinks that can tell success from failure).
    #: A class default; a sink whose durability depends on its settings sets it per instance.
    DURABLE: bool = False
    #: Record types (``"event"``, ``"metric"``, ``"service_check"``) that one ``emit`` sends
    #: in a single request however many there are; the outbox batches only these.
    BATCHED: ClassVar[frozenset[str]] = frozenset()

    @abc.abstractmethod
    def emit(self, emission: Emission) -> None:
        """Deliver everything in ``emission``."""

    def close(self) -> None:  # noqa: B027 - an optional hook, not abstract
        """Flush and release resources."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def encode(obj: Any) -> Any:
    """A JSON-ready form of a value object (dataclasses, enums, datetimes, tuples)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: encode(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, datetime):
        return obj.isoformat()
    if isinstance(obj, Mapping):
        return {str(k): encode(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [encode(v) for v in obj]
    return obj


def decode_event(data: Mapping[str, Any]) -> AlertEvent:
    return AlertEvent(**{**data, "tags": tuple(data.get("tags", ()))})


def decode_metric(data: Mapping[str, Any]) -> Metric:
    fields = {k: v for k, v in data.items() if k != "metric_type"}
    kind = data.get("metric_type", "gauge")
    return Metric(**{**fields, "type": kind, "tags": tuple(data.get("tags", ()))})


def _metric_record(metric: Metric) -> dict[str, Any]:
    # A record's "type" is its kind, so the metric's own type travels as "metric_type".
    fields = encode(metric)
    return {"type": "metric", "metric_type": fields.pop("type"), **fields}


def decode_service_check(data: Mapping[str, Any]) -> ServiceCheck:
    return ServiceCheck(**{**data, "tags": tuple(data.get("tags", ()))})


def emission_records(emission: Emission) -> list[dict[str, Any]]:
    """One ``{"type": ..., ...}`` record per event, metric and service check, in that order.

    ``type`` is the record's kind (``event``, ``metric``, ``service_check``); a metric's
    own type (gauge, count) is its ``metric_type``.
    """
    out: list[dict[str, Any]] = []
    out += [{"type": "event", **encode(e)} for e in emission.events]
    out += [_metric_record(m) for m in emission.metrics]
    out += [{"type": "service_check", **encode(c)} for c in emission.service_checks]
    return scrub_value(out)


def records_emission(records: Sequence[Mapping[str, Any]]) -> Emission:
    """The inverse of :func:`emission_records` (results are not carried)."""
    decoders = {
        "event": decode_event, "metric": decode_metric, "service_check": decode_service_check
    }
    buckets: dict[str, list[Any]] = {k: [] for k in decoders}
    for rec in records:
        kind = rec["type"]
        buckets[kind].append(decoders[kind]({k: v for k, v in rec.items() if k != "type"}))
    return Emission(
        events=tuple(buckets["event"]),
        metrics=tuple(buckets["metric"]),
        service_checks=tuple(buckets["service_check"]),
    )


def result_record(result: CheckResult) -> dict[str, Any]:
    return scrub_value({"type": "result", **encode(result)})
