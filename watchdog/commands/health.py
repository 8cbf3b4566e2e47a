"""``watchdog health``: is this host's daemon alive? Its last heartbeat, read from the state
store; exit 0 when one is fresh, 1 when not. The container's HEALTHCHECK runs it."""

from __future__ import annotations

import argparse
import socket
from datetime import UTC, datetime
from typing import Any


def add_commands(sub: Any) -> None:
    """Add ``watchdog health``."""
    h = sub.add_parser(
        "health", help="exit 0 when this host's daemon is alive (its heartbeat is fresh)",
        description="Read the heartbeats daemons write into the state store every "
                    "daemon.heartbeat; exit 0 when one from this host (or, with --any-host, "
                    "from any host) is fresher than three heartbeats, else exit 1.")
    h.add_argument("--config", "-c", default="config.yaml")
    h.add_argument("--any-host", action="store_true",
                   help="any daemon sharing the state store will do, not only this host's")
    h.set_defaults(func=cmd_health)


def cmd_health(args: argparse.Namespace) -> int:
    from watchdog.load import load_config
    from watchdog.state import Store

    config = load_config(args.config)
    with Store.open(config.state.url) as store:
        beats = store.heartbeats()
    host = socket.gethostname()
    mine = [b for b in beats if args.any_host or b[0].startswith(f"{host}:")]
    now = datetime.now(UTC)
    alive = [b for b in mine if b[2] > now]
    if alive:
        holder, beat, _ = alive[0]
        print(f"healthy: daemon {holder} beat {(now - beat).total_seconds():.0f}s ago")
        return 0
    where = "any host" if args.any_host else f"host {host}"
    if mine:
        holder, beat, _ = mine[0]
        print(f"unhealthy: the last heartbeat from {where} ({holder}) is "
              f"{(now - beat).total_seconds():.0f}s old (more than three heartbeats)")
    else:
        print(f"unhealthy: no daemon on {where} has written a heartbeat to the state store "
              "(is `watchdog run` running with this config?)")
    return 1
