"""Check kinds, looked up lazily by the ``kind`` of a monitor."""

from __future__ import annotations

import importlib
from typing import Any

from watchdog.checks.base import Check, CheckContext
from watchdog.config.models import MonitorConfig
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

#: kind → "module:Class" of its settings, in a module lighter than the check's: validating a
#: config imports these, and each check module is imported by the first monitor of its
#: kind that runs (in that monitor's thread), not before the first query.
PARAMS: dict[str, str] = {
    "access": "watchdog.checks.access.check:AccessParams",
    "freshness": "watchdog.checks.freshness.params:FreshnessParams",
    "schema": "watchdog.checks.schema.params:SchemaParams",
    "contract": "watchdog.contracts.params:ContractParams",
    "drift": "watchdog.checks.drift.params:DriftParams",
    "volume": "watchdog.checks.volume.params:VolumeParams",
    "backtest": "watchdog.checks.backtest.params:BacktestParams",
    "pipeline": "watchdog.checks.pipeline.params:PipelineParams",
}

__all__ = ["PARAMS", "REGISTRY", "Check", "CheckContext", "get_check", "get_params"]


def get_check(kind: str) -> type[Check[Any]]:
    """The Check class for ``kind``; UnknownName (with did-you-mean) for an unknown kind."""
    if kind not in REGISTRY:
        raise UnknownName("monitor kind", kind, REGISTRY)
    module, _, cls = REGISTRY[kind].partition(":")
    check: type[Check[Any]] = getattr(importlib.import_module(module), cls)
    return check


def get_params(kind: str) -> type[MonitorConfig]:
    """The settings model of ``kind`` (its check's ``Params``), without importing the check
    where ``PARAMS`` names it (a kind registered with its check alone: from the check)."""
    if kind not in PARAMS:
        return get_check(kind).Params
    module, _, cls = PARAMS[kind].partition(":")
    params: type[MonitorConfig] = getattr(importlib.import_module(module), cls)
    return params
