"""A starting contract from a sample: dtypes, nullability, and bounds with a margin.

Bounds are widened on purpose (the observed range plus half its width on each side, never
crossing zero when every value was non-negative), and a string column with few distinct
values gets an ``isin`` list; the result is a draft for the owner to edit, not a verdict.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

from watchdog.models import Column

_DTYPE = {"integer": "int64", "float": "float64", "decimal": "float64", "string": "str",
          "boolean": "bool", "timestamp": "datetime64[ns]", "timestamptz": "datetime64[ns, UTC]",
          "date": "date"}
MAX_CATEGORIES = 20


def widen(low: float, high: float, integer: bool) -> tuple[float, float]:
    """``[low, high]`` widened by half its width each side (at least 1), clamped at zero."""
    margin = max((high - low) * 0.5, abs(high) * 0.1, 1.0)
    lo, hi = low - margin, high + margin
    if low >= 0:
        lo = max(lo, 0.0)
    if integer:
        return float(math.floor(lo)), float(math.ceil(hi))
    digits = max(0, 2 - int(math.floor(math.log10(max(abs(hi), abs(lo), 1e-9)))))
    return round(lo, digits) if lo else 0.0, round(hi, digits)


def column_spec(col: Column, values: list[Any]) -> dict[str, Any]:
    """The contract entry for one column, from its sampled values."""
    present = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    spec: dict[str, Any] = {}
    if col.type_family in _DTYPE:
        spec["dtype"] = _DTYPE[col.type_family]
    if len(present) < len(values) or not values:
        spec["nullable"] = True
    if len(present) == len(set(map(str, present))) and len(present) >= 20 and col.type_family in (
            "integer", "string"):
        spec["unique"] = True
    checks = _checks(col.type_family, present)
    if checks:
        spec["checks"] = checks
    return spec


def _checks(family: str, present: list[Any]) -> dict[str, Any]:
    numbers = [float(v) for v in present if isinstance(v, int | float) and not isinstance(v, bool)
               and math.isfinite(float(v))]
    if family in ("integer", "float", "decimal") and numbers:
        lo, hi = widen(min(numbers), max(numbers), family == "integer")
        cast = int if family == "integer" else float
        return {"in_range": {"min_value": cast(lo), "max_value": cast(hi)}}
    if family == "string" and present:
        distinct = sorted({str(v) for v in present})
        if len(distinct) <= MAX_CATEGORIES and len(present) >= 5 * len(distinct):
            return {"isin": distinct}
    return {}


def infer(warehouse: str, table: str, columns: list[Column], rows: list[dict[str, Any]],
          time_column: str | None = None) -> dict[str, Any]:
    """A contract document (plain data, ready for YAML) for ``table``."""
    doc: dict[str, Any] = {"warehouse": warehouse, "table": table, "owner": None,
                           "description": f"Inferred from {len(rows)} sampled rows; edit me.",
                           "severity": "fail", "scan": "full"}
    if time_column:
        doc["read"] = {"time_column": time_column, "window": "1d"}
    doc["columns"] = {c.name: column_spec(c, [r.get(c.name) for r in rows]) for c in columns}
    doc["checks"] = {"row_count": {"min": 1}}
    return doc


def first_time_column(columns: list[Column], rows: list[dict[str, Any]]) -> str | None:
    """A timestamp column to window on, if the table has one."""
    for families in (("timestamp", "timestamptz"), ("date",)):
        for c in columns:
            if c.type_family in families:
                return c.name
    for c in columns:  # SQLite keeps times as text: look at the values
        if any(isinstance(r.get(c.name), datetime | date) for r in rows[:1]):
            return c.name
    return None
