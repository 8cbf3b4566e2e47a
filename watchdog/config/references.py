"""Checks that span sections: names that must refer to something defined elsewhere."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Set
from typing import Any

import pydantic

from watchdog import secrets
from watchdog.config.loader import Document, Loc
from watchdog.config.models import Config
from watchdog.config.problems import pydantic_problems
from watchdog.errors import ConfigProblem, WarehouseError, WatchdogError


def check_references(
    config: Config, doc: Document, raw_monitors: list[Any], invalid: Set[Loc] = frozenset()
) -> list[ConfigProblem]:
    """Every cross-reference problem in ``config`` (monitors as written, valid or not).

    ``invalid``: entries that failed validation (``("warehouses", name)``, …) and stand in
    for themselves in ``config`` (see salvage.py): they are not looked into again.
    """
    problems: list[ConfigProblem] = []
    problems += _monitor_refs(config, doc, raw_monitors, invalid)
    problems += _ownership_refs(config, doc, invalid)
    if config.demo is not None and config.demo.warehouse not in config.warehouses:
        problems.append(undefined(doc, ("demo", "warehouse"), "warehouses", config.demo.warehouse,
                                  config.warehouses))
    warehouses = {n: (w.type, w.settings) for n, w in config.warehouses.items()
                  if ("warehouses", n) not in invalid}
    problems += _plugin_settings(doc, "warehouses", warehouses, _warehouse_settings)
    sinks = {n: (n, s or {}) for n, s in config.sinks.items() if ("sinks", n) not in invalid}
    problems += _plugin_settings(doc, "sinks", sinks, _sink_settings)
    return problems


def undefined(doc: Document, loc: Loc, what: str, name: str,
              choices: Iterable[str]) -> ConfigProblem:
    """``name`` is not defined under ``what``: a problem with a did-you-mean hint."""
    options = sorted(choices)
    close = difflib.get_close_matches(name, options, n=1)
    hint = f"did you mean {close[0]}?" if close else (
        f"defined: {', '.join(options)}" if options else f"define it under {what}"
    )
    return doc.problem(loc, f"{name!r} is not defined under {what}", hint)


def _monitor_refs(config: Config, doc: Document, raw: list[Any],
                  invalid: Set[Loc]) -> list[ConfigProblem]:
    out = []
    seen: set[str] = set()
    for i, m in enumerate(raw):
        if not isinstance(m, dict):
            continue
        if isinstance(m.get("id"), str) and m["id"] in seen:
            out.append(doc.problem(("monitors", i, "id"), f"duplicate monitor id {m['id']!r}"))
        seen.add(str(m.get("id")))
        listed = m.get("models")
        for j, model in enumerate(listed if isinstance(listed, list) else ()):
            if isinstance(model, str) and model not in config.ownership.models:
                out.append(undefined(doc, ("monitors", i, "models", j), "ownership.models", model,
                                     config.ownership.models))
        warehouse, owner = m.get("warehouse"), m.get("owner")
        if isinstance(warehouse, str) and warehouse not in config.warehouses:
            out.append(undefined(doc, ("monitors", i, "warehouse"), "warehouses", warehouse,
                                 config.warehouses))
        elif isinstance(warehouse, str) and ("warehouses", warehouse) not in invalid:
            out += _table_names(config, doc, ("monitors", i), warehouse, m)
        if isinstance(owner, str) and owner not in config.ownership.teams:
            out.append(undefined(doc, ("monitors", i, "owner"), "ownership.teams", owner,
                                 config.ownership.teams))
    return out


def _table_names(config: Config, doc: Document, loc: Loc, warehouse: str,
                 monitor: dict[str, Any]) -> list[ConfigProblem]:
    """A table name the warehouse cannot hold (``a.b.c`` on Postgres) is a config problem,
    not a query error at run time."""
    reference = monitor.get("reference")
    names: list[tuple[Loc, Any]] = [((*loc, "table"), monitor.get("table"))]
    names += [((*loc, "tables", j), t) for j, t in enumerate(monitor.get("tables") or ())
              if isinstance(monitor.get("tables"), list)]
    if isinstance(reference, dict):
        names.append(((*loc, "reference", "table"), reference.get("table")))
    return [p for at, name in names if isinstance(name, str)
            and (p := table_problem(config, doc, at, warehouse, name)) is not None]


def table_problem(config: Config, doc: Document, loc: Loc, warehouse: str,
                  table: str) -> ConfigProblem | None:
    """The problem with ``table`` as a table name of ``warehouse``, if it has one."""
    try:
        _warehouse_class(config.warehouses[warehouse].type).table(table)
    except WarehouseError as exc:
        return doc.problem(loc, exc.detail, exc.hint)
    except WatchdogError:  # an unknown type or a missing extra: reported with the warehouse
        return None
    return None


def _ownership_refs(config: Config, doc: Document, invalid: Set[Loc]) -> list[ConfigProblem]:
    out = []
    teams = config.ownership.teams
    for name, model in config.ownership.models.items():
        loc: Loc = ("ownership", "models", name)
        if loc in invalid:
            continue
        if model.team not in teams:
            out.append(undefined(doc, (*loc, "team"), "ownership.teams", model.team, teams))
        for j, read in enumerate(model.reads):
            if read.warehouse is not None and read.warehouse not in config.warehouses:
                out.append(undefined(doc, (*loc, "reads", j, "warehouse"), "warehouses",
                                     read.warehouse, config.warehouses))
    return out


def _warehouse_class(type_name: str) -> Any:
    from watchdog.warehouses import get_class

    return get_class(type_name)


def _warehouse_settings(type_name: str) -> type[pydantic.BaseModel]:
    settings: type[pydantic.BaseModel] = _warehouse_class(type_name).Settings
    return settings


def _sink_settings(name: str) -> type[pydantic.BaseModel]:
    from watchdog.sinks import get_class

    return get_class(name).Settings


def _plugin_settings(
    doc: Document, section: str, entries: dict[str, tuple[str, dict[str, Any]]],
    settings_of: Callable[[str], type[pydantic.BaseModel]],
) -> list[ConfigProblem]:
    out: list[ConfigProblem] = []
    for name, (type_name, settings) in entries.items():
        is_sink = section == "sinks"
        type_loc: Loc = (section, name) if is_sink else (section, name, "type")
        try:
            model = settings_of(type_name)
        except WatchdogError as exc:
            out.append(doc.problem(type_loc, exc.message, exc.hint))
            continue
        try:
            secrets.register_model(model.model_validate(settings))
        except pydantic.ValidationError as exc:
            prefix: Loc = (section, name) if is_sink else (section, name, "settings")
            out += pydantic_problems(exc, model, prefix, doc)
    return out
