"""Who cares about a result: the models that read its tables, their teams and handles."""

from __future__ import annotations

from dataclasses import dataclass

from watchdog.config.models import Config, MonitorConfig


@dataclass(frozen=True, slots=True)
class Audience:
    models: tuple[str, ...]
    teams: tuple[str, ...]
    handles: tuple[str, ...]

    def tags(self) -> tuple[str, ...]:
        return (*(f"team:{t}" for t in self.teams), *(f"model:{m}" for m in self.models))


def _same_table(a: str, b: str) -> bool:
    """``main.features`` matches ``features`` (a name without schema matches any schema)."""
    a_parts, b_parts = a.lower().split("."), b.lower().split(".")
    n = min(len(a_parts), len(b_parts))
    return a_parts[-n:] == b_parts[-n:]


def audience(config: Config, monitor: MonitorConfig) -> Audience:
    """The monitor's owner plus the owners of every model that reads one of its tables."""
    tables = monitor.watched_tables()
    models = [
        name for name, model in config.ownership.models.items()
        if any(_same_table(r.table, t) for r in model.reads for t in tables)
        and all(r.warehouse in (None, monitor.warehouse) for r in model.reads)
    ]
    # models a monitor names itself (a contract's consumers) are in the audience too
    declared = getattr(monitor, "consumer_models", ())
    models += [m for m in declared if m in config.ownership.models and m not in models]
    teams = [monitor.owner] if monitor.owner else []
    teams += [config.ownership.models[m].team for m in models]
    teams = list(dict.fromkeys(teams))
    handles = [h for t in teams if t in config.ownership.teams
               for h in config.ownership.teams[t].datadog]
    return Audience(tuple(models), tuple(teams), tuple(dict.fromkeys(handles)))
