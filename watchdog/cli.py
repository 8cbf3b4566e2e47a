"""The ``watchdog`` command: thin wrappers over the modules. Exit 0 ok, 1 problems, 2 usage.

User mistakes get one line naming the file, the field and the fix — never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import traceback
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from watchdog import __version__, secrets
from watchdog.commands import MODULES, moment
from watchdog.config.models import Config
from watchdog.errors import ConfigError, WatchdogError
from watchdog.load import load_config
from watchdog.models import CheckResult, Status

log = logging.getLogger("watchdog")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="watchdog", description=(
        "Watch the data behind production ML models and tell their owners through Datadog."))
    p.add_argument("--version", action="version", version=f"watchdog {__version__}")
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    v = sub.add_parser("validate", help="check config.yaml and report every problem")
    v.add_argument("--config", "-c", default="config.yaml", help="path of config.yaml")
    v.set_defaults(func=cmd_validate)

    r = sub.add_parser("run", help="run the daemon, or one pass with --once")
    r.add_argument("--config", "-c", default="config.yaml")
    r.add_argument("--once", action="store_true", help="run the monitors once and exit")
    r.add_argument("--monitor", "-m", action="append", metavar="ID",
                   help="only this monitor (repeatable; implies --once)")
    r.set_defaults(func=cmd_run)

    d = sub.add_parser("demo", help="build the DuckDB demo warehouse and run every monitor once")
    d.add_argument("--config", "-c", default="config.yaml")
    d.add_argument("--rebuild", action="store_true", help="rebuild the demo data from scratch")
    where = d.add_mutually_exclusive_group()  # the Postgres demo watches a real audit log
    where.add_argument("--postgres", metavar="URL", help=(
        "instead, show on this Postgres database (DuckDB has no privileges) a stale table "
        "explained by a revoked grant and a failed dbt run: installs the DDL audit trigger "
        "there if absent, creates a schema and a role, revokes a grant, watches, drops them"))
    where.add_argument("--at", type=moment, metavar="TIME", help=(
        "as of TIME (ISO 8601, UTC unless it says otherwise) instead of now: the data is "
        "planted around that hour and the pass runs as if the clock read it; best in a "
        "fresh folder (a state store kept from other hours mixes them)"))
    d.set_defaults(func=cmd_demo)
    for name in MODULES:
        importlib.import_module(f"watchdog.commands.{name}").add_commands(sub)
    return p


def _setup_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(secrets.ScrubFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, root.level))


class _Scrubbed:
    """A text stream that scrubs registered secrets from everything written to it: what
    commands print (results, paths, progress) never shows a value from the environment."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(secrets.scrub_known(text))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Scrubbed(out), _Scrubbed(err)
    try:
        _setup_logging(args.log_level)
        return _run(args)
    finally:
        sys.stdout, sys.stderr = out, err


def _run(args: argparse.Namespace) -> int:
    """Run the command; every error is one scrubbed line on stderr and an exit code."""
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(secrets.scrub(str(exc)), file=sys.stderr)
        print(f"watchdog: {len(exc.problems)} problem(s) in the configuration", file=sys.stderr)
        return exc.exit_code
    except WatchdogError as exc:
        print(f"watchdog: error: {secrets.scrub(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception:  # a bug: its traceback, scrubbed (it may quote a setting)
        print(secrets.scrub(traceback.format_exc()), file=sys.stderr, end="")
        return 1


def cmd_validate(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    contracts = sum(m.kind == "contract" for m in config.monitors)
    print(f"{args.config}: OK ({len(config.warehouses)} warehouses, "
          f"{len(config.monitors)} monitors, {len(config.ownership.models)} models, "
          f"{contracts} contracts)")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from watchdog.daemon.runner import open_runner

    config = load_config(args.config)
    runner = open_runner(config)
    try:
        if args.once or args.monitor:
            results = runner.run_pass(args.monitor, trigger="once", progress=progress)
            _summary(results)
            return _exit_code(results, runner.sink_errors)
        from watchdog.daemon.scheduler import Daemon

        Daemon(runner).run()
        return 0
    finally:
        runner.close()


def cmd_demo(args: argparse.Namespace) -> int:
    from watchdog.daemon.runner import open_runner, replay_clock, utcnow
    from watchdog.demo import build

    if args.postgres:
        from watchdog.commands import access_demo

        return access_demo.run(args.postgres)

    config = load_config(args.config)
    if config.demo is None:
        raise WatchdogError(f"{args.config} has no `demo:` section",
                            hint="add `demo: {warehouse: <a duckdb warehouse>}`")
    path = str(config.warehouses[config.demo.warehouse].settings.get("path", "demo.duckdb"))
    runner = open_runner(config, replay_clock(args.at) if args.at else utcnow)
    try:
        # a new state store has no schema baseline: the planted schema change must be made
        # again after one is taken, so the data is rebuilt too
        info = build(path, runner.clock(),
                     force=args.rebuild or _no_schema_baseline(runner, config))
        state = "built" if info.built else "already current"
        rows = ", ".join(f"{k} {v}" for k, v in info.rows.items())
        print(f"demo warehouse {path}: {state} ({rows})")
        _demo_schema_baseline(runner, config, path, info.built)
        _demo_backtest_history(runner, config)
        results = runner.run_pass(None, trigger="demo", progress=progress)
    finally:
        runner.close()
    _summary(results)
    _demo_epilogue(config, results)
    _demo_charts(config, runner.clock())
    return 0 if not runner.sink_errors else 1


def _demo_charts(config: Config, now: datetime) -> None:
    """What is better seen than read: each volume, drift and backtest monitor's report, as
    HTML, as of ``now``."""
    from watchdog.commands import backtest, drift, volume

    writers = {"volume": volume.write_report, "drift": drift.write_report,
               "backtest": backtest.write_report}
    folder = Path(".watchdog")  # beside the demo's state and emitted.jsonl
    folder.mkdir(parents=True, exist_ok=True)
    lines = [writers[m.kind](config, m.id, str(folder / f"{m.id}.html"), now)
             for m in config.monitors if m.kind in writers]
    if lines:
        print("Charts (open in a browser):\n  " + "\n  ".join(lines))


def _no_schema_baseline(runner: Any, config: Config) -> bool:
    return any(runner.store.get_artifact("schema_state", m.id) is None
               for m in config.monitors if m.kind == "schema")


def _demo_schema_baseline(runner: Any, config: Config, path: str, rebuilt: bool) -> None:
    """On fresh demo data, let the schema monitors snapshot it (silently), then plant the
    upstream schema change that the pass after catches."""
    from watchdog.demo import apply_planted_changes

    schema = [m for m in config.monitors if m.kind == "schema"]
    if not schema or not (rebuilt or any(
            runner.store.get_artifact("schema_state", m.id) is None for m in schema)):
        return
    for monitor in schema:
        runner.check(monitor)
    if config.demo is not None:
        runner.warehouse(config.demo.warehouse).close()  # DuckDB: one writer per file
    apply_planted_changes(path)


def _demo_backtest_history(runner: Any, config: Config) -> None:
    """On a fresh state store, run each backtest monitor (silently) as of two feedback delays
    ago, as the daemon would have: the estimates it stored for the windows then waiting for
    their labels are checked against the labels now (``estimation_error``)."""
    from watchdog.checks.backtest.check import ESTIMATES_KIND
    from watchdog.checks.backtest.params import BacktestParams

    now = runner.clock()
    for m in config.monitors:
        if isinstance(m, BacktestParams) and runner.store.get_artifact(ESTIMATES_KIND,
                                                                       m.id) is None:
            runner.check(m, now=now - 2 * m.feedback_delay)


def _demo_epilogue(config: Config, results: list[CheckResult]) -> None:
    flagged = [r for r in results if r.status.is_problem]
    print(f"\n{len(results)} monitors ran; {len(flagged)} found a problem "
          "(the demo data has planted incidents).")
    print("Lost grants (kind: access): not in this demo, DuckDB has no roles or privileges. "
          "See them on a Postgres: watchdog demo --postgres postgresql://USER@HOST/DB "
          "(a throwaway database is best: it installs the DDL audit trigger there, creates a "
          "schema and a role, revokes a grant, and removes all of it at the end).")
    for name, settings in config.sinks.items():
        if name == "jsonl":
            where = (settings or {}).get("path", ".watchdog/emitted.jsonl")
            print(f"Everything that would go to Datadog was written to {Path(where)}.")


def _summary(results: list[CheckResult]) -> None:
    """Every result of the pass, aligned, after the per-monitor lines the sinks wrote."""
    from watchdog.sinks.console import table

    print("\n" + "\n".join(table(results)) if results else "no monitors ran", flush=True)


def progress(text: str) -> None:
    """Progress lines go to stderr so that stdout stays the result."""
    print(text, file=sys.stderr, flush=True)


def _exit_code(results: list[CheckResult], sink_errors: list[str]) -> int:
    bad = any(r.status in (Status.FAIL, Status.ERROR) for r in results)
    return 1 if bad or sink_errors else 0


if __name__ == "__main__":
    sys.exit(main())
