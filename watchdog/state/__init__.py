"""Persistent state: run history, results, metric history, snapshots, alert state, outbox."""

from __future__ import annotations

from watchdog.state.store import Store
from watchdog.state.tables import SCHEMA_VERSION

__all__ = ["SCHEMA_VERSION", "Store"]
