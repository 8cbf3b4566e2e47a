"""Datadog as the product surface: dashboards and monitors as code, made from config.yaml.

:func:`build` turns a Config into the JSON bodies of Datadog's Dashboards and Monitors APIs,
each keyed by a stable identity (:mod:`.identity`); ``watchdog datadog export`` writes them,
``watchdog datadog apply`` (:mod:`.apply`) makes Datadog hold exactly them, and
``watchdog datadog preview`` (:mod:`.preview`) draws the dashboards from what the demo sent.
What each monitor kind contributes is one entry of :data:`.kinds.KINDS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from watchdog.config.models import Config


@dataclass(frozen=True, slots=True)
class Bundle:
    """Dashboard and monitor bodies by identity key."""

    dashboards: dict[str, dict[str, Any]]
    monitors: dict[str, dict[str, Any]]


def build(config: Config) -> Bundle:
    from watchdog.dashboards import layout, monitors

    return Bundle(dashboards=layout.build(config), monitors=monitors.build(config))
