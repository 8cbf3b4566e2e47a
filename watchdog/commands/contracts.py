"""``watchdog contracts lint|infer``: check contracts against live tables; draft new ones."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import yaml


def add_commands(sub: Any) -> None:
    """Add ``watchdog contracts`` and its subcommands."""
    c = sub.add_parser("contracts", help="lint data contracts against live tables, or infer one")
    csub = c.add_subparsers(dest="contracts_command", required=True, metavar="SUBCOMMAND")
    lint = csub.add_parser("lint", help="every contract parses, binds, and fits its live table")
    lint.add_argument("--config", "-c", default="config.yaml")
    lint.set_defaults(func=cmd_lint)
    inf = csub.add_parser("infer", help="write a starting contract from a sample of a table")
    inf.add_argument("warehouse", help="a warehouse name under `warehouses:`")
    inf.add_argument("table", help="e.g. main.features")
    inf.add_argument("--sample", type=int, default=10_000, help="rows to sample (10000)")
    inf.add_argument("--output", "-o", help="write here instead of stdout")
    inf.add_argument("--config", "-c", default="config.yaml")
    inf.set_defaults(func=cmd_infer)


def cmd_lint(args: argparse.Namespace) -> int:
    """Exit 0 when every contract fits its table, 1 when some do not (listed one per line)."""
    from watchdog.contracts import lint
    from watchdog.load import load_config

    config = load_config(args.config)
    problems, count = lint(config)
    for line in problems:
        print(line)
    print(f"{count} contract(s) checked, {len(problems)} problem(s)", file=sys.stderr)
    return 1 if problems else 0


def cmd_infer(args: argparse.Namespace) -> int:
    """Print (or write) a draft contract inferred from a sample of the table."""
    from watchdog.contracts.infer import first_time_column, infer
    from watchdog.errors import TableNotFound, UnknownName
    from watchdog.load import load_config
    from watchdog.warehouses import create

    config = load_config(args.config)
    if args.warehouse not in config.warehouses:
        raise UnknownName("warehouse", args.warehouse, config.warehouses)
    wc = config.warehouses[args.warehouse]
    with create(args.warehouse, wc.type, wc.settings) as wh:
        table = wh.table(args.table)
        columns = wh.columns([table]).get(table)
        if columns is None:
            raise TableNotFound(args.warehouse, f"table {table} does not exist")
        rows = wh.sample(table, [c.name for c in columns], args.sample)
    doc = infer(args.warehouse, args.table, columns, rows, first_time_column(columns, rows))
    text = "# Inferred by `watchdog contracts infer`: a draft, widened bounds; edit it.\n"
    text += yaml.safe_dump(doc, sort_keys=False, default_flow_style=None, width=100)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        print(text, end="")
    return 0
