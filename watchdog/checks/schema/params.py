"""``kind: schema``'s settings, apart from the check so that validating a config does not
import the check (it runs in the monitor's thread)."""

from __future__ import annotations

from pydantic import Field

from watchdog.config.models import MonitorConfig


class SchemaParams(MonitorConfig):
    """``kind: schema``: the tables to watch, by name or ``*`` pattern per schema."""

    kind: str = "schema"
    tables: tuple[str, ...] = Field(min_length=1, description=(
        "Tables to watch: schema.table, or a pattern such as analytics.features_*"))

    def watched_tables(self) -> tuple[str, ...]:
        """None: a schema monitor reports each table in its own events, and its ERROR alert
        (the monitor could not run) is one per monitor, for its owner."""
        return ()
