"""Check kinds, looked up lazily by the ``kind`` of a monitor."""

from __future__ import annotations

import importlib
from typing import Any

from watchdog.checks.base import Check, CheckContext
from watchdog.errors import UnknownName

#: kind → "module:Class". Each module is imported only when a monitor of that kind exists.
REGISTRY: dict[str, str] = {
    "access": "watchdog.checks.access.check:AccessCheck",
    "freshness": "watchdog.checks.freshness.check:FreshnessCheck",
    "schema": "watchdog.checks.schema.check:SchemaChangeCheck",
    "contract": "watchdog.checks.contract.check:ContractCheck",
    "drift": "watchdog.checks.drift.check:DriftCheck",
    "volume": "watchdog.checks.volume.check:VolumeCheck",
    "backtest": "watchdog.checks.backtest.check:BacktestCheck",
    "pipeline": "watchdog.checks.pipeline.check:PipelineCheck",
}

__all__ = ["REGISTRY", "Check", "CheckContext", "get_check"]


def get_check(kind: str) -> type[Check[Any]]:
    """The Check class for ``kind``; UnknownName (with did-you-mean) for an unknown kind."""
    if kind not in REGISTRY:
        raise UnknownName("monitor kind", kind, REGISTRY)
    module, _, cls = REGISTRY[kind].partition(":")
    check: type[Check[Any]] = getattr(importlib.import_module(module), cls)
    return check
