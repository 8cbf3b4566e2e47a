"""Subcommands contributed by capabilities (``watchdog setup …``, ``watchdog drift …``).

Each module listed in MODULES exposes ``add_commands(sub)``, which adds its parsers to the
``watchdog`` command's subparsers and sets ``func`` (``args -> exit code``) on each.
A module is imported only to build the parser; keep heavy imports inside ``func``.
"""

from __future__ import annotations

#: Modules (under watchdog.commands) whose subcommands the CLI offers, in --help order.
MODULES: tuple[str, ...] = ("contracts", "drift", "setup", "volume")
