"""Who cares about a result: the models that read its tables, their teams and handles."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from watchdog.config.models import Config, MonitorConfig
from watchdog.models import Group, same_table


@dataclass(frozen=True, slots=True)
class Audience:
    models: tuple[str, ...]
    teams: tuple[str, ...]
    handles: tuple[str, ...]
    #: handles left out because they were notified already (with the incident's cause)
    notified: tuple[str, ...] = ()

    def tags(self) -> tuple[str, ...]:
        return (*(f"team:{t}" for t in self.teams), *(f"model:{m}" for m in self.models))

    def without(self, notified: Sequence[str]) -> Audience:
        """This audience, minus the handles notified already: nobody is paged twice."""
        left = tuple(h for h in self.handles if h not in notified)
        return replace(self, handles=left,
                       notified=tuple(h for h in self.handles if h in notified))


def audience(config: Config, monitor: MonitorConfig, group: Group = ()) -> Audience:
    """Who a result of ``monitor`` reaches: its owner, plus the owners of the models that
    read its tables; for one group of a grouped monitor, only the owners of the model(s)
    that group is (see :func:`group_models`), or every reader when no model claims it."""
    models = group_models(config, group) if group else []
    if not models:
        models = _readers(config, monitor)
    teams = [monitor.owner] if monitor.owner else []
    teams += [config.ownership.models[m].team for m in models]
    teams = list(dict.fromkeys(teams))
    handles = [h for t in teams if t in config.ownership.teams
               for h in config.ownership.teams[t].datadog]
    return Audience(tuple(models), tuple(teams), tuple(dict.fromkeys(handles)))


def group_models(config: Config, group: Group) -> list[str]:
    """The models one group is: those whose ``match`` names the group's value for one of
    its columns, else (no model has a match for these columns) the model named by a value."""
    values = dict(group)
    matched = [name for name, model in config.ownership.models.items()
               if any(values.get(col) in wanted for col, wanted in model.match.items())]
    if matched:
        return matched
    claimed = {col for model in config.ownership.models.values() for col in model.match}
    return [name for name in config.ownership.models
            if any(v == name for col, v in group if col not in claimed)]


def _readers(config: Config, monitor: MonitorConfig) -> list[str]:
    """The models the monitor says it is about; else those that read one of its tables,
    and those it names as consumers (a contract's)."""
    if monitor.models:
        return [m for m in monitor.models if m in config.ownership.models]
    tables = monitor.watched_tables()
    models = [
        name for name, model in config.ownership.models.items()
        if any(same_table(r.table, t) for r in model.reads for t in tables)
        and all(r.warehouse in (None, monitor.warehouse) for r in model.reads)
    ]
    # models a monitor names itself (a contract's consumers) are in the audience too
    declared = getattr(monitor, "consumer_models", ())
    models += [m for m in declared if m in config.ownership.models and m not in models]
    return models
