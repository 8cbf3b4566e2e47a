"""Warehouse adapters: typed facts (columns, counts, samples, histograms) from a warehouse.

Look adapters up by their config name; modules and drivers are imported on first use::

    wh = create("analytics", "duckdb", {"path": "demo.duckdb"})
"""

from __future__ import annotations

from watchdog.warehouses.base import Warehouse, WarehouseSettings, buckets
from watchdog.warehouses.registry import WAREHOUSES, available, create, get_class

__all__ = [
    "WAREHOUSES",
    "Warehouse",
    "WarehouseSettings",
    "available",
    "buckets",
    "create",
    "get_class",
]
