"""``watchdog setup audit --warehouse NAME``: install (or ``--remove``) the DDL audit log."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_commands(sub: Any) -> None:
    """Add ``watchdog setup`` and its subcommands."""
    s = sub.add_parser("setup", help="one-time setup in a warehouse (the DDL audit log)")
    ssub = s.add_subparsers(dest="setup_command", required=True, metavar="SUBCOMMAND")
    audit = ssub.add_parser(
        "audit", help="install the DDL audit trigger that says who changed a schema",
        description="Install, idempotently, the event trigger that records who ran which DDL "
                    "and when (Postgres; needs a superuser once). --remove takes it out.")
    audit.add_argument("--warehouse", "-w", required=True, help="a name under `warehouses:`")
    audit.add_argument("--config", "-c", default="config.yaml")
    audit.add_argument("--url", help="connect as this (superuser) URL instead of the "
                                     "warehouse's own login, e.g. postgresql://admin@host/db")
    audit.add_argument("--grant", metavar="ROLE",
                       help="let ROLE (watchdog's login) read the audit log")
    audit.add_argument("--remove", action="store_true",
                       help="drop the triggers, the function and the audit schema")
    audit.set_defaults(func=cmd_audit)


def cmd_audit(args: argparse.Namespace) -> int:
    """Exit 0 when installed (or removed), 2 when the warehouse cannot have an audit log."""
    from watchdog.errors import UnknownName, WatchdogError
    from watchdog.load import load_config
    from watchdog.warehouses import create

    config = load_config(args.config)
    if args.warehouse not in config.warehouses:
        raise UnknownName("warehouse", args.warehouse, config.warehouses)
    wh_config = config.warehouses[args.warehouse]
    settings = {"url": args.url} if args.url else wh_config.settings
    wh = create(args.warehouse, wh_config.type, settings)
    if not wh.SUPPORTS_AUDIT_SETUP:
        raise WatchdogError(
            f"warehouse {args.warehouse!r} ({wh_config.type}) has no audit log to set up",
            hint="its schema monitors still diff snapshots and say who changed it: unknown")
    try:
        wh.setup_audit(remove=args.remove, grant_to=args.grant)
    finally:
        wh.close()
    if args.remove:
        print(f"{args.warehouse}: DDL audit log removed (schema watchdog_audit dropped)")
    else:
        print(f"{args.warehouse}: DDL audit log installed (schema watchdog_audit, event "
              "triggers watchdog_audit_ddl and watchdog_audit_drop)", file=sys.stdout)
    return 0
