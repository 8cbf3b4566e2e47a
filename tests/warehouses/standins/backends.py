"""Registers the stand-in backends with the conformance suite, where their clients exist.

Each backend is imported when first used (the backend modules import ``seeding`` too).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _snowflake(tmp: Path) -> Any:
    from tests.warehouses.standins.fakesnow_backend import snowflake_backend

    return snowflake_backend(tmp)


def _redshift(tmp: Path) -> Any:
    from tests.warehouses.standins.redshift_backend import redshift_backend

    return redshift_backend(tmp)


def register(backends: dict[str, Callable[[Path], Any]], marks: dict[str, str]) -> None:
    """Add ``snowflake`` (fakesnow) and ``redshift`` (proxy to Postgres) when installed."""
    if importlib.util.find_spec("fakesnow") and importlib.util.find_spec("snowflake.connector"):
        backends["snowflake"] = _snowflake
    if importlib.util.find_spec("redshift_connector"):
        backends["redshift"] = _redshift
        marks["redshift"] = "postgres"
