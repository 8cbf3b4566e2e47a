"""``watchdog drift baseline MONITOR`` and ``watchdog drift report MONITOR -o report.html``."""

from __future__ import annotations

import argparse
from typing import Any

from watchdog.commands import report_command


def add_commands(sub: Any) -> None:
    """Add ``watchdog drift`` and its subcommands."""
    d = sub.add_parser("drift", help="drift monitors: rebuild a reference profile, write a report")
    dsub = d.add_subparsers(dest="drift_command", required=True, metavar="SUBCOMMAND")
    base = dsub.add_parser(
        "baseline", help="profile the reference again and store it as a new version",
        description="Read the monitor's reference once (a bounded sample for the bin edges, "
                    "then one scan for the exact counts) and store the profile, versioned, in "
                    "the state store. Runs compare against the latest version.")
    base.add_argument("monitor", help="id of a `kind: drift` monitor")
    base.add_argument("--config", "-c", default="config.yaml")
    base.set_defaults(func=cmd_baseline)
    rep = dsub.add_parser(
        "report", help="write a self-contained HTML report of the current window's drift",
        description="Compare the current window with the stored profile (building it if "
                    "there is none) and write one HTML file that fetches nothing when viewed.")
    rep.add_argument("monitor", help="id of a `kind: drift` monitor")
    rep.add_argument("--output", "-o", default="drift-report.html", help="HTML file to write")
    rep.add_argument("--config", "-c", default="config.yaml")
    rep.set_defaults(func=report_command(write_report))


def _monitor(config: Any, monitor_id: str) -> Any:
    from watchdog.checks.drift.params import DriftParams
    from watchdog.errors import WatchdogError

    monitor = config.monitor(monitor_id)
    if not isinstance(monitor, DriftParams):
        raise WatchdogError(f"monitor {monitor_id!r} is a {monitor.kind} monitor, not drift")
    return monitor


def cmd_baseline(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from watchdog.checks.drift.profile import rebuild
    from watchdog.load import load_config
    from watchdog.state import Store
    from watchdog.warehouses import create

    config = load_config(args.config)
    monitor = _monitor(config, args.monitor)
    wh_config = config.warehouses[monitor.warehouse]
    with Store.open(config.state.url) as store, \
            create(monitor.warehouse, wh_config.type, wh_config.settings) as wh:
        version, profile = rebuild(store, wh, monitor, datetime.now(UTC))
    ref = profile["reference"]
    print(f"{monitor.id}: reference profile v{version} stored ({len(profile['features'])} "
          f"columns of {ref['table']})")
    return 0


def write_report(config: Any, monitor_id: str, output: str, now: Any) -> str:
    """Write the drift report of one monitor as of ``now``; returns a one-line summary."""
    from watchdog.checks.drift.analysis import analyse
    from watchdog.checks.drift.profile import load_or_build
    from watchdog.commands import write_page
    from watchdog.reports.drift import render
    from watchdog.state import Store
    from watchdog.warehouses import create

    monitor = _monitor(config, monitor_id)
    wh_config = config.warehouses[monitor.warehouse]
    with Store.open(config.state.url) as store, \
            create(monitor.warehouse, wh_config.type, wh_config.settings) as wh:
        version, profile, _ = load_or_build(store, wh, monitor, now)
        analysis = analyse(wh, monitor, profile, version, now)
    write_page(output, render(analysis))
    drifted = [f.name for f in analysis.features if f.drifted]
    return (f"{output}: {len(analysis.features)} columns, drifted: "
            f"{', '.join(drifted) or 'none'}")
