"""A grouped monitor's groups (``group_by: [model]``): as alert groups and as labels."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from watchdog.models import Group


def alert_group(group_by: Sequence[str], values: tuple[Any, ...]) -> Group:
    """The alert group of one series: ``(("model", "churn"),)``; () when not grouped."""
    return tuple((c, str(v)) for c, v in zip(group_by, values, strict=True))


def group_label(group_by: Sequence[str], values: tuple[Any, ...]) -> str:
    """``model=churn, region=eu``, or "all predictions" when not grouped."""
    if not group_by:
        return "all predictions"
    return ", ".join(f"{c}={v}" for c, v in zip(group_by, values, strict=True))
