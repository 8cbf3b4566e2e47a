"""``watchdog volume report MONITOR -o volume-report.html``: volume over time, as a chart."""

from __future__ import annotations

from typing import Any

from watchdog.commands import moment, report_command


def add_commands(sub: Any) -> None:
    """Add ``watchdog volume`` and its subcommand."""
    v = sub.add_parser("volume", help="volume monitors: chart successful predictions over time")
    vsub = v.add_subparsers(dest="volume_command", required=True, metavar="SUBCOMMAND")
    rep = vsub.add_parser(
        "report", help="write a self-contained HTML chart of the lookback, per group",
        description="Count the monitor's lookback as a poll does (one query), judge every "
                    "window against its seasonal baseline, and write one HTML file with a "
                    "chart per group: counts, expectations, the quiet band, anomalous "
                    "windows. Nothing is changed in the state store.")
    rep.add_argument("monitor", help="id of a `kind: volume` monitor")
    rep.add_argument("--output", "-o", default="volume-report.html", help="HTML file to write")
    rep.add_argument("--at", type=moment, default=None, metavar="TIME",
                     help="draw the lookback as a poll at this time saw it (ISO 8601, UTC "
                          "unless it says otherwise), e.g. after an incident; default: now")
    rep.add_argument("--config", "-c", default="config.yaml")
    rep.set_defaults(func=report_command(write_report))


def write_report(config: Any, monitor_id: str, output: str, now: Any) -> str:
    """Write the volume report of one monitor as of ``now``; returns a one-line summary."""
    from watchdog.checks.volume.check import read_series
    from watchdog.checks.volume.params import VolumeParams
    from watchdog.commands import write_page
    from watchdog.errors import WatchdogError
    from watchdog.reports.volume import render
    from watchdog.state import Store
    from watchdog.warehouses import create

    monitor = config.monitor(monitor_id)
    if not isinstance(monitor, VolumeParams):
        raise WatchdogError(f"monitor {monitor_id!r} is a {monitor.kind} monitor, not volume")
    wh_config = config.warehouses[monitor.warehouse]
    with Store.open(config.state.url) as store, \
            create(monitor.warehouse, wh_config.type, wh_config.settings) as wh:
        found = read_series(wh, monitor, now, store)
        table = str(wh.table(monitor.table))
    write_page(output, render(monitor, table, found, now))
    flagged = sum(v.anomaly is not None for s in found.series for v in s.verdicts.values())
    return (f"{output}: {len(found.series)} group(s), {flagged} anomalous window(s) in "
            "the lookback")
