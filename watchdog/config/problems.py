"""Pydantic validation errors as ConfigProblems: ``file:line: yaml.path: message (did you
mean ...?)``, never echoing the input (it may be a secret)."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

import pydantic

from watchdog.config.loader import Document, Loc
from watchdog.errors import ConfigProblem


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
