"""Appends everything emitted to a JSON Lines file: one object per result, event, metric
and service check, in the encoding of :mod:`watchdog.sinks.base` (``records_emission``
reads the non-result lines back)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pydantic

from watchdog.errors import SinkError
from watchdog.models import Emission
from watchdog.sinks.base import Sink, SinkSettings, emission_records, result_record

# Compact, UTF-8 as is; values JSON cannot hold (e.g. a Decimal in finding details) as text.
_JSON: dict[str, Any] = {"ensure_ascii": False, "separators": (",", ":"), "default": str}


class JsonlSettings(SinkSettings):
    """Settings of the JSON Lines sink."""

    path: Path = pydantic.Field(
        default=Path(".watchdog/emitted.jsonl"),
        description="File to append to; relative paths are relative to the working "
        "directory. Parent directories are created on first write.",
    )


class JsonlSink(Sink):
    """Appends one JSON object per line for every result and record; flushed per emit."""

    NAME = "jsonl"
    Settings = JsonlSettings

    def __init__(self, settings: JsonlSettings | None = None) -> None:
        self.settings = settings or JsonlSettings()

    @property
    def path(self) -> Path:
        return self.settings.path

    def emit(self, emission: Emission) -> None:
        """Append ``emission`` (results first) and flush; SinkError if the file is unwritable."""
        records = [result_record(r) for r in emission.results] + emission_records(emission)
        if not records:
            return
        text = "".join(json.dumps(rec, **_JSON) + "\n" for rec in records)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as f:
                f.write(text)
                f.flush()
        except OSError as exc:
            raise SinkError(f"jsonl sink: cannot write {self.path}: {exc.strerror or exc}") from exc
