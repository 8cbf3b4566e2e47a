"""The configuration's models (``config.yaml`` and what it names) and how a problem in it
is reported. Reading and validating a whole file is :func:`watchdog.load.load_config`."""

from __future__ import annotations

from watchdog.config.models import Config, MonitorConfig
from watchdog.config.problems import pydantic_problems

__all__ = ["Config", "MonitorConfig", "pydantic_problems"]
