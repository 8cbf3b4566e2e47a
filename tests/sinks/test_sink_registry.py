"""The sink registry: names, lazy imports, settings validation without side effects."""

from __future__ import annotations

import subprocess
import sys

import pydantic
import pytest

from watchdog import sinks
from watchdog.errors import UnknownName
from watchdog.sinks.console import ConsoleSink
from watchdog.sinks.datadog import DatadogSink
from watchdog.sinks.jsonl import JsonlSink


def test_names_and_classes() -> None:
    assert sinks.NAMES == ("console", "datadog", "jsonl")
    assert sinks.get_class("datadog") is DatadogSink
    assert isinstance(sinks.create("console"), ConsoleSink)
    jsonl = sinks.create("jsonl", {"path": "out/x.jsonl"})
    assert isinstance(jsonl, JsonlSink) and str(jsonl.path) == "out/x.jsonl"
    datadog = sinks.create("datadog", {"transport": "http", "api_key": "k" * 32,
                                       "api_url": "http://127.0.0.1:9"})
    assert isinstance(datadog, DatadogSink) and datadog.DURABLE
    assert not sinks.create("datadog", {}).DURABLE


def test_unknown_name_suggests() -> None:
    with pytest.raises(UnknownName, match=r"unknown sink 'datadgo' \(did you mean 'datadog'\?\)"):
        sinks.create("datadgo", {})
    with pytest.raises(UnknownName, match="choose one of: console, datadog, jsonl"):
        sinks.get_class("statsd")


@pytest.mark.parametrize("name", sinks.NAMES)
def test_settings_forbid_unknown_keys_and_are_frozen(name: str) -> None:
    model = sinks.get_class(name).Settings
    with pytest.raises(pydantic.ValidationError, match="Extra inputs are not permitted"):
        model.model_validate({"colour": "never"})
    settings, field = model(), next(iter(model.model_fields))
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        setattr(settings, field, getattr(settings, field))
    assert all(f.description for f in model.model_fields.values())


def test_console_does_not_import_datadog() -> None:
    code = (
        "import sys, watchdog.sinks as s; s.create('console'); s.create('jsonl');"
        "print(sorted(m for m in sys.modules if m.split('.')[0].startswith('datadog')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
