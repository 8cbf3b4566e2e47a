"""A contract as a monitor: what :mod:`watchdog.contracts.loader` makes of each contract
file, and what ``kind: contract`` checks (:mod:`watchdog.checks.contract`)."""

from __future__ import annotations

from pydantic import Field

from watchdog.config.models import MonitorConfig
from watchdog.contracts.model import ContractSpec


class ContractParams(MonitorConfig):
    """A contract as a monitor. Written in contracts/, never under ``monitors:``."""

    kind: str = "contract"
    table: str
    spec: ContractSpec
    source: str = Field(description="The contract file.")
    python_model: str | None = Field(None, description="'file.py:Class' of a Python contract.")
    consumer_models: tuple[str, ...] = ()
