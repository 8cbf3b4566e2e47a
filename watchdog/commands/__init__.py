"""Subcommands contributed by capabilities (``watchdog setup …``, ``watchdog drift …``).

Each module listed in MODULES exposes ``add_commands(sub)``, which adds its parsers to the
``watchdog`` command's subparsers and sets ``func`` (``args -> exit code``) on each.
A module is imported only to build the parser; keep heavy imports inside ``func``.
"""

from __future__ import annotations

#: Modules (under watchdog.commands) whose subcommands the CLI offers, in --help order.
MODULES: tuple[str, ...] = ("backtest", "contracts", "datadog", "drift", "health", "setup",
                            "volume")


def write_page(output: str, text: str) -> None:
    """Write a report page; an unwritable ``--output`` is one line and exit 2, not a
    traceback."""
    from pathlib import Path

    from watchdog.errors import WatchdogError

    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        error = WatchdogError(f"cannot write {output}: {exc.strerror or exc}",
                              hint="choose an --output whose folder exists and is writable")
        error.exit_code = 2
        raise error from None
