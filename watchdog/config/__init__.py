"""Load and validate config.yaml into a frozen Config, reporting every problem at once.

Each problem reads ``file:line: yaml.path: message (did you mean ...?)``.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pydantic

from watchdog.config.loader import Document, Loc, load
from watchdog.config.models import Config, MonitorConfig
from watchdog.config.references import check_references
from watchdog.config.salvage import salvage
from watchdog.errors import ConfigError, ConfigProblem, UnknownName

__all__ = ["Config", "MonitorConfig", "load_config", "pydantic_problems"]


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
        config: Config | None = Config.model_validate({**raw, "monitors": []})
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
        if ("contracts",) not in invalid:
            from watchdog.contracts.loader import add_contracts

            config, found = add_contracts(config, Path(doc.file).parent, env)
            problems += found
    if problems:
        raise ConfigError(problems)
    assert config is not None
    return config


def _validate(
    model: type[pydantic.BaseModel], data: Any, prefix: Loc, doc: Document,
    problems: list[ConfigProblem],
) -> Any:
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        problems += pydantic_problems(exc, model, prefix, doc)
        return None


def pydantic_problems(
    exc: pydantic.ValidationError, model: type[pydantic.BaseModel], prefix: Loc, doc: Document
) -> list[ConfigProblem]:
    """Turn a ValidationError into problems; never echoes input values (they may be secrets)."""
    out = []
    for err in exc.errors(include_input=False, include_url=False):
        loc = tuple(p for p in err["loc"] if isinstance(p, int) or not _is_internal(p))
        hint = None
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
            hint = _did_you_mean(str(loc[-1]), _fields_at(model, loc[:-1]))
        elif err["type"] == "missing":
            msg = "required key is missing"
        out.append(doc.problem((*prefix, *loc), msg, hint))
    return out


def _is_internal(part: Any) -> bool:
    return isinstance(part, str) and ("[" in part or part.startswith("function-"))


def _did_you_mean(name: str, choices: list[str]) -> str | None:
    close = difflib.get_close_matches(name, choices, n=1)
    if close:
        return f"did you mean {close[0]}?"
    return f"allowed: {', '.join(choices)}" if choices else None


def _fields_at(model: Any, loc: Loc) -> list[str]:
    """The field names of the model reached by following ``loc`` from ``model``."""
    current: Any = model
    for part in loc:
        current = _step(current, part)
        if current is None:
            return []
    return list(current.model_fields) if _is_model(current) else []


def _step(tp: Any, part: str | int) -> Any:
    if _is_model(tp):
        field = tp.model_fields.get(part) if isinstance(part, str) else None
        return _unwrap(field.annotation) if field else None
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (list, tuple) and args:
        return _unwrap(args[0])
    if origin is dict and len(args) == 2:
        return _unwrap(args[1])
    return None


def _unwrap(tp: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        options = [a for a in typing.get_args(tp) if a is not type(None)]
        return _unwrap(options[0]) if len(options) == 1 else tp
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(tp)[0])
    return tp


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, pydantic.BaseModel)


def _validate_monitors(raw: Any, doc: Document, problems: list[ConfigProblem]) -> list[Any]:
    from watchdog.checks import get_check

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
            params = get_check(str(item.get("kind", ""))).Params
        except UnknownName as exc:
            problems.append(doc.problem((*loc, "kind"), exc.message, exc.hint))
            continue
        monitor = _validate(params, item, loc, doc, problems)
        if monitor is not None:
            out.append(monitor)
    return out


