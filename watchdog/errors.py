"""One exception tree. Every error a user can cause says what went wrong and how to fix it.

Driver exceptions are translated at the adapter boundary (``raise WarehouseUnavailable(...)
from exc``) so that nothing above ``watchdog/warehouses/`` ever sees a driver's exception.
Messages never contain secrets: every message and hint is scrubbed of the registered ones
(:mod:`watchdog.secrets`) when the error is made, and adapters pass driver text through
:func:`redact` first.
"""

from __future__ import annotations

from collections.abc import Iterable

from watchdog.secrets import scrub, scrub_known


class WatchdogError(Exception):
    """Base of every error watchdog raises on purpose. ``exit_code`` is what the CLI returns."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = scrub_known(message)
        self.hint = scrub_known(hint) if hint else hint
        super().__init__(self.message if not hint else f"{self.message} ({self.hint})")


class ConfigError(WatchdogError):
    """The configuration (config.yaml, a contract, CLI arguments) is invalid."""

    exit_code = 2

    def __init__(self, problems: Iterable[ConfigProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class ConfigProblem:
    """One problem in one file: rendered as ``file:line: yaml.path: message (hint)``."""

    __slots__ = ("file", "line", "path", "message", "hint")

    def __init__(
        self, *, file: str, line: int | None, path: str, message: str, hint: str | None = None
    ) -> None:
        self.file, self.line, self.path = file, line, path
        self.message, self.hint = scrub_known(message), scrub_known(hint) if hint else hint

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        text = f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"
        return f"{text} ({self.hint})" if self.hint else text

    def __repr__(self) -> str:
        return f"ConfigProblem({self})"


class ContractError(WatchdogError):
    """A data contract cannot be loaded or bound."""

    exit_code = 2


class MissingExtra(WatchdogError):
    """An optional dependency is not installed; the message names the extra to install."""

    exit_code = 2

    def __init__(self, package: str, extra: str) -> None:
        super().__init__(
            f"the Python package {package!r} is not installed",
            hint=f"install it with: pip install 'ml-watchdog[{extra}]'",
        )


class UnknownName(WatchdogError):
    """A name looked up in a registry (warehouse type, check kind, sink) does not exist."""

    exit_code = 2

    def __init__(self, what: str, name: str, choices: Iterable[str]) -> None:
        import difflib

        options = sorted(choices)
        close = difflib.get_close_matches(name, options, n=1)
        self.suggestion = close[0] if close else None
        hint = f"did you mean {close[0]!r}?" if close else f"choose one of: {', '.join(options)}"
        super().__init__(f"unknown {what} {name!r}", hint=hint)


class WarehouseError(WatchdogError):
    """Something went wrong talking to a warehouse."""

    def __init__(self, warehouse: str, message: str, *, hint: str | None = None) -> None:
        self.warehouse = warehouse
        self.detail = redact(message)  #: the message without the warehouse's name
        super().__init__(f"warehouse {warehouse!r}: {self.detail}", hint=hint)


class WarehouseUnavailable(WarehouseError):
    """The warehouse cannot be reached (down, network, timeout)."""


class WarehouseAuthError(WarehouseError):
    """The warehouse refused our credentials or lacks a privilege."""


class PermissionDenied(WarehouseAuthError):
    """watchdog's login may not read a table it watches, or use its schema; the hint is the
    GRANT that fixes it. Reported as ``PERMISSION_DENIED``, never as a missing table."""


class TableNotFound(WarehouseError):
    """A configured table (or column) does not exist, or we cannot see it."""


class InvalidIdentifier(WarehouseError):
    """A table or column name from config cannot be used safely as an identifier."""


class QueryError(WarehouseError):
    """The warehouse rejected a query watchdog issued (a bug or an unsupported type)."""


class CheckTimeout(WarehouseError):
    """A monitor's check ran past its ``timeout``; the statement it was running was cancelled."""


class UnsupportedFeature(WarehouseError):
    """A capability flag is off for this warehouse; checks degrade gracefully on it."""

    def __init__(self, warehouse: str, feature: str) -> None:
        self.feature = feature
        super().__init__(warehouse, f"does not support {feature}")


class StateError(WatchdogError):
    """The state store cannot be opened or written."""


class StateSchemaMismatch(StateError):
    """The state database was written by another version of watchdog."""

    exit_code = 2


class SinkError(WatchdogError):
    """A sink could not deliver (Datadog unreachable, answered with an error, file unwritable).

    ``rejected``: the receiver refused what was sent for good (a 400 or 413: the payload
    itself is at fault), so sending it again cannot succeed; otherwise the failure is
    transient or a setting (network, 5xx, 429, a bad API key) and a retry may succeed.
    """

    def __init__(self, message: str, *, hint: str | None = None,
                 rejected: bool = False) -> None:
        self.rejected = rejected
        super().__init__(message, hint=hint)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove registered secrets, ``secrets`` and anything that looks like a credential from
    ``text`` (see :func:`watchdog.secrets.scrub`)."""
    return scrub(text, secrets)


class PipelineError(WatchdogError):
    """A pipeline source (Airflow's API, dbt's artifacts) could not be read."""
