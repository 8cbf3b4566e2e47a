"""Load and validate config.yaml, with its contract files, into a frozen Config, reporting
every problem at once.

Each problem reads ``file:line: yaml.path: message (did you mean ...?)``. This sits above
the checks (each monitor is validated by its kind's ``Params``) and the scheduler (a cron
expression is checked by APScheduler), which ``watchdog.config`` may not import.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pydantic

from watchdog.checks import get_params
from watchdog.config.loader import Document, Loc, load
from watchdog.config.models import CRON_CHECK, Config
from watchdog.config.problems import pydantic_problems
from watchdog.config.references import check_references
from watchdog.config.salvage import salvage
from watchdog.contracts.loader import add_contracts
from watchdog.errors import ConfigError, ConfigProblem, UnknownName, WatchdogError
from watchdog.warehouses import available, get_class

__all__ = ["load_config"]


def _check_cron(expr: str, timezone: str) -> None:
    from watchdog.daemon.scheduler import check_cron  # APScheduler, only when a cron is given

    check_cron(expr, timezone)


#: Validation context of every model parsed from a file (see ``config.models.Schedule``).
CONTEXT = {CRON_CHECK: _check_cron}


def load_config(path: str | Path = "config.yaml", env: Mapping[str, str] | None = None) -> Config:
    """Read, interpolate and validate ``path``. Raises ConfigError listing every problem."""
    doc = load(path, env)
    if not isinstance(doc.data, dict):
        raise ConfigError([doc.problem((), "the file must hold a mapping of sections")])
    raw = dict(doc.data)
    raw_monitors = raw.pop("monitors", None) or []
    problems: list[ConfigProblem] = []
    invalid: set[Loc] = set()
    try:
        config: Config | None = Config.model_validate({**raw, "monitors": []}, context=CONTEXT)
    except pydantic.ValidationError as exc:
        problems += pydantic_problems(exc, Config, (), doc)
        config, invalid = salvage(raw, exc)  # the rest is still checked: every problem at once
    monitors = _validate_monitors(raw_monitors, doc, problems)
    if config is not None:
        config = config.model_copy(
            update={"monitors": tuple(monitors), "secrets": tuple(doc.secrets), "source": doc.file}
        )
        problems += check_references(config, doc, raw_monitors if isinstance(raw_monitors, list)
                                     else [], invalid)
        problems += _capabilities(config, doc, raw_monitors, invalid)
        if ("contracts",) not in invalid:
            config, found = add_contracts(config, Path(doc.file).parent, env, CONTEXT)
            problems += found
    if problems:
        raise ConfigError(problems)
    assert config is not None
    return config


def _capabilities(config: Config, doc: Document, raw: Any,
                  invalid: set[Loc]) -> list[ConfigProblem]:
    """A monitor whose kind needs a capability its warehouse lacks (``Check.REQUIRES``)
    fails here, naming the field and the fix, not at its first run."""
    out = []
    for i, item in enumerate(raw if isinstance(raw, list) else ()):
        name = item.get("warehouse") if isinstance(item, dict) else None
        wh = config.warehouses.get(name) if isinstance(name, str) else None
        if wh is None or ("warehouses", name) in invalid:
            continue
        try:
            params, cls = get_params(str(item.get("kind", ""))), get_class(wh.type)
        except WatchdogError:  # an unknown kind or type: reported where it is written
            continue
        for flag, what in params.REQUIRES.items():
            if not getattr(cls, flag, False):
                able = sorted(n for n, w in config.warehouses.items()
                              if _has(w.type, flag))
                fix = (f"use a warehouse that can, e.g. {', '.join(able)}, or remove the "
                       "monitor") if able else (
                    f"point it at a warehouse that can ({_able(flag)}), or remove the monitor")
                out.append(doc.problem(("monitors", i, "warehouse"),
                                       f"warehouse {name!r} ({wh.type}) cannot {what}", fix))
    return out


def _has(type_name: str, flag: str) -> bool:
    try:
        return bool(getattr(get_class(type_name), flag, False))
    except WatchdogError:
        return False


def _able(flag: str) -> str:
    """The warehouse types that have ``flag``."""
    return ", ".join(n for n in available() if _has(n, flag))


def _validate(
    model: type[pydantic.BaseModel], data: Any, prefix: Loc, doc: Document,
    problems: list[ConfigProblem],
) -> Any:
    try:
        return model.model_validate(data, context=CONTEXT)
    except pydantic.ValidationError as exc:
        problems += pydantic_problems(exc, model, prefix, doc)
        return None


def _validate_monitors(raw: Any, doc: Document, problems: list[ConfigProblem]) -> list[Any]:
    if not isinstance(raw, list):
        problems.append(doc.problem(("monitors",), "must be a list of monitors"))
        return []
    out = []
    for i, item in enumerate(raw):
        loc: Loc = ("monitors", i)
        if not isinstance(item, dict):
            problems.append(doc.problem(loc, "each monitor must be a mapping"))
            continue
        try:
            params = get_params(str(item.get("kind", "")))
        except UnknownName as exc:
            problems.append(doc.problem((*loc, "kind"), exc.message, exc.hint))
            continue
        monitor = _validate(params, item, loc, doc, problems)
        if monitor is not None:
            out.append(monitor)
    return out


