"""Sinks: where results, events, metrics and service checks go.

A plain table of names to classes, imported lazily so that ``console`` never imports the
Datadog clients. ``get_class(name).Settings`` validates a sink's settings without side
effects; ``create(name, settings)`` builds the sink (and opens no connection).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from watchdog import secrets
from watchdog.errors import UnknownName
from watchdog.sinks.base import Sink, SinkSettings

__all__ = ["NAMES", "Sink", "SinkSettings", "create", "get_class"]

_REGISTRY: dict[str, str] = {
    "console": "watchdog.sinks.console:ConsoleSink",
    "jsonl": "watchdog.sinks.jsonl:JsonlSink",
    "datadog": "watchdog.sinks.datadog:DatadogSink",
}

#: Every sink name, sorted.
NAMES: tuple[str, ...] = tuple(sorted(_REGISTRY))


def get_class(name: str) -> type[Sink]:
    """The sink class registered as ``name``; UnknownName (with a suggestion) otherwise."""
    try:
        target = _REGISTRY[name]
    except KeyError:
        raise UnknownName("sink", name, _REGISTRY) from None
    module_name, _, class_name = target.partition(":")
    cls: type[Sink] = getattr(importlib.import_module(module_name), class_name)
    return cls


def create(name: str, settings: Mapping[str, Any] | None = None) -> Sink:
    """Validate ``settings`` with the sink's Settings model and build the sink.

    Raises UnknownName for an unknown sink and pydantic.ValidationError for bad settings
    (the config loader reports those with file and line before this is ever called).
    """
    cls = get_class(name)
    validated = cls.Settings.model_validate(dict(settings or {}))
    secrets.register_model(validated)  # also what the settings read from the environment
    return cls(validated)  # type: ignore[call-arg]
