"""Read YAML keeping the line of every value, and expand ``${VAR}`` / ``${VAR:-default}``.

Line numbers let every config problem be reported as ``file:line: yaml.path: message``.
Expanded values, credential-named values and URL passwords are registered as secrets
(:mod:`watchdog.secrets`) so that no message ever echoes them. A key written twice in one
mapping is an error naming both lines (YAML itself would silently keep the last).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from watchdog import secrets
from watchdog.errors import ConfigError, ConfigProblem

Loc = tuple[str | int, ...]

#: libyaml's parser where PyYAML was built with it (~15x less CPU than the pure-Python one;
#: the same nodes, with their lines).
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


@dataclass
class Document:
    """A parsed YAML file: plain data, the line of every path, and the values from env."""

    file: str
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)

    def line(self, loc: Loc) -> int | None:
        """The line of ``loc`` or of its nearest ancestor that has one."""
        for cut in range(len(loc), -1, -1):
            if loc[:cut] in self.lines:
                return self.lines[loc[:cut]]
        return None

    def problem(self, loc: Loc, message: str, hint: str | None = None) -> ConfigProblem:
        return ConfigProblem(
            file=self.file, line=self.line(loc), path=format_loc(loc), message=message, hint=hint
        )


def format_loc(loc: Loc) -> str:
    """``("monitors", 0, "max_age")`` → ``monitors[0].max_age``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def load(path: str | Path, env: Mapping[str, str] | None = None) -> Document:
    """Parse ``path``; raise ConfigError (file:line) for unreadable or malformed YAML."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        problem = ConfigProblem(
            file=name, line=None, path="", message=f"cannot read the file: {exc.strerror}",
            hint="pass --config with the path of your config.yaml",
        )
        raise ConfigError([problem]) from None
    return loads(text, name, os.environ if env is None else env)


def loads(text: str, name: str, env: Mapping[str, str]) -> Document:
    """Parse YAML text into a Document."""
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        msg = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(
            [ConfigProblem(file=name, line=line, path="", message=f"invalid YAML: {msg}")]
        ) from None
    doc = Document(file=name, data=None)
    builder = _Builder(doc, env)
    doc.data = builder.convert(node, ()) if node is not None else {}
    secrets.register(*doc.secrets)
    secrets.register_config(doc.data)
    if builder.problems:
        raise ConfigError(builder.problems)
    return doc


class _Builder:
    """Turns a YAML node tree into plain data, recording lines and expanding ${VAR}."""

    def __init__(self, doc: Document, env: Mapping[str, str]) -> None:
        self.doc, self.env = doc, env
        self.problems: list[ConfigProblem] = []
        self.ctor = yaml.constructor.SafeConstructor()

    def convert(self, node: yaml.Node, loc: Loc) -> Any:
        self.doc.lines.setdefault(loc, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, loc)
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, (*loc, i)) for i, item in enumerate(node.value)]
        value = self.ctor.construct_object(node, deep=True)
        if isinstance(value, str) and "${" in value:
            return _expand(value, loc, self.doc, self.env, self.problems)
        return value

    def _mapping(self, node: yaml.MappingNode, loc: Loc) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = self.ctor.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if key in out:
                first = self.doc.lines[(*loc, key)]
                self.problems.append(ConfigProblem(
                    file=self.doc.file, line=line, path=format_loc((*loc, key)),
                    message=f"duplicate key {key!r}, first written at line {first}",
                    hint="write it once: YAML would silently keep only the last"))
            self.doc.lines[(*loc, key)] = line
            out[key] = self.convert(value_node, (*loc, key))
        return out


def _expand(
    value: str, loc: Loc, doc: Document, env: Mapping[str, str], problems: list[ConfigProblem]
) -> str:
    def repl(match: re.Match[str]) -> str:
        var, default = match.group(1), match.group(2)
        if var in env and env[var] != "":
            doc.secrets.append(env[var])
            return env[var]
        if default is not None:
            return default
        problems.append(
            doc.problem(
                loc,
                f"environment variable {var} is not set",
                hint=f"export {var}=... or write ${{{var}:-default}}",
            )
        )
        return ""

    return _VAR.sub(repl, value)
