"""Entry point of the ``watchdog`` console script.

It lives outside the ``watchdog`` package so that it can still run, and say what is wrong,
when ``import watchdog`` resolves to the unrelated filesystem-events package of that name.
"""

from __future__ import annotations

import sys


def main() -> int:
    import watchdog

    if not getattr(watchdog, "ML_WATCHDOG", False):
        where = getattr(watchdog, "__file__", None) or list(getattr(watchdog, "__path__", []))
        print(
            f"watchdog: error: `import watchdog` resolves to another package at {where} "
            "(probably the filesystem-events library of the same name), not to ml-watchdog "
            "(fix: install ml-watchdog in its own virtual environment, or "
            "`pip uninstall watchdog && pip install --force-reinstall ml-watchdog`)",
            file=sys.stderr,
        )
        return 2
    from watchdog.cli import main as cli_main

    return cli_main()


if __name__ == "__main__":
    sys.exit(main())
