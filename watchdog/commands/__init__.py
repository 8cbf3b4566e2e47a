"""Subcommands contributed by capabilities (``watchdog setup …``, ``watchdog drift …``).

Each module listed in MODULES exposes ``add_commands(sub)``, which adds its parsers to the
``watchdog`` command's subparsers and sets ``func`` (``args -> exit code``) on each.
A module is imported only to build the parser; keep heavy imports inside ``func``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime
from typing import Any

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


def moment(text: str) -> datetime:
    """``--at TIME``: an ISO 8601 time, UTC unless it says otherwise."""
    from datetime import UTC

    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 time (e.g. 2026-03-04T03:00 or "
            "2026-03-04T03:00+02:00)") from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def report_command(write: Callable[[Any, str, str, datetime], str]
                   ) -> Callable[[argparse.Namespace], int]:
    """The ``func`` of a ``<kind> report MONITOR -o FILE [--at TIME]`` command: load the
    config, ``write(config, monitor, output, at)`` and print its one-line summary."""
    def run(args: argparse.Namespace) -> int:
        from datetime import UTC

        from watchdog.load import load_config

        config = load_config(args.config)
        print(write(config, args.monitor, args.output,
                    getattr(args, "at", None) or datetime.now(UTC)))
        return 0
    return run
