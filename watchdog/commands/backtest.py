"""``watchdog backtest report MONITOR -o backtest-report.html``: each metric over time."""

from __future__ import annotations

from typing import Any

from watchdog.commands import moment, report_command


def add_commands(sub: Any) -> None:
    """Add ``watchdog backtest`` and its subcommand."""
    b = sub.add_parser("backtest", help="backtest monitors: chart model quality over time")
    bsub = b.add_subparsers(dest="backtest_command", required=True, metavar="SUBCOMMAND")
    rep = bsub.add_parser(
        "report", help="write a self-contained HTML chart of each metric per version",
        description="Read the monitor's lookback as a run does (one query; a second over the "
                    "reference window when the monitor has one) and write one HTML "
                    "file: each metric per window and group with its baseline and judged "
                    "band, and the label coverage. Nothing is changed in the state store.")
    rep.add_argument("monitor", help="id of a `kind: backtest` monitor")
    rep.add_argument("--output", "-o", default="backtest-report.html", help="HTML file to write")
    rep.add_argument("--at", type=moment, default=None, metavar="TIME",
                     help="draw the lookback as a run at this time saw it (ISO 8601, UTC "
                          "unless it says otherwise); default: now")
    rep.add_argument("--config", "-c", default="config.yaml")
    rep.set_defaults(func=report_command(write_report))


def write_report(config: Any, monitor_id: str, output: str, now: Any) -> str:
    """Write the backtest report of one monitor as of ``now``; returns a one-line summary."""
    from watchdog.checks.backtest.check import read, spec_of
    from watchdog.checks.backtest.params import BacktestParams
    from watchdog.checks.backtest.reference import attach
    from watchdog.commands import write_page
    from watchdog.errors import WatchdogError
    from watchdog.reports.backtest import render
    from watchdog.warehouses import create

    monitor = config.monitor(monitor_id)
    if not isinstance(monitor, BacktestParams):
        raise WatchdogError(f"monitor {monitor_id!r} is a {monitor.kind} monitor, not backtest")
    wh_config = config.warehouses[monitor.warehouse]
    with create(monitor.warehouse, wh_config.type, wh_config.settings) as wh:
        end, groups = read(wh, monitor, now)
        attach(wh, monitor, spec_of(wh, monitor), None, groups, now)  # a second query
        table = str(wh.table(monitor.predictions.table))
    write_page(output, render(monitor, table, end, groups, now))
    return (f"{output}: {len(groups)} group(s), {len(monitor.metrics)} metric(s) over "
            f"{monitor.lookback_windows} windows")
