"""Data contracts: what a table must look like, checked in the warehouse or on a sample.

Public helpers for other capabilities:

- :func:`contracts_for` — the contracts bound to a warehouse table, with their not-null
  and required columns and their consumers (e.g. for the impact of a schema change).
- :func:`lint` — every contract against its live table (``watchdog contracts lint``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from watchdog.config.models import Config
from watchdog.errors import WatchdogError
from watchdog.models import same_table


@dataclass(frozen=True, slots=True, kw_only=True)
class ContractInfo:
    """What a contract promises about a table, for other checks to quote."""

    id: str
    source: str
    warehouse: str
    table: str
    owner: str | None
    not_null: tuple[str, ...]
    required: tuple[str, ...]
    consumers: tuple[tuple[str, tuple[str, ...]], ...]  # (model, columns read; () = all)


def _contract_monitors(config: Config) -> list[Any]:
    return [m for m in config.monitors if m.kind == "contract" and hasattr(m, "spec")]


def contracts_for(config: Config, warehouse: str, table: str) -> list[ContractInfo]:
    """Contracts of ``warehouse`` whose table is ``table`` (``features`` matches
    ``main.features``; case-insensitive)."""
    out = []
    for m in _contract_monitors(config):
        if m.warehouse != warehouse or not same_table(m.table, table):
            continue
        cols = m.spec.columns
        out.append(ContractInfo(
            id=m.id, source=m.source, warehouse=m.warehouse, table=m.table, owner=m.owner,
            not_null=tuple(n for n, c in cols.items() if not c.nullable),
            required=tuple(n for n, c in cols.items() if c.required),
            consumers=tuple((c.model, c.columns) for c in m.spec.consumers),
        ))
    return out


def lint(config: Config) -> tuple[list[str], int]:
    """Problems of every contract against its live table, one line each, and the count."""
    from watchdog.contracts.compile import plan
    from watchdog.warehouses import create

    problems: list[str] = []
    monitors = _contract_monitors(config)
    for m in monitors:
        wc = config.warehouses[m.warehouse]
        try:
            with create(m.warehouse, wc.type, wc.settings) as wh:
                table = wh.table(m.table)
                live = wh.columns([table]).get(table)
                if live is None:
                    problems.append(_at(m.source, ("table",),
                                        f"{table} does not exist in {m.warehouse}"))
                    continue
                _, issues = plan(m.spec, live, supports_regex=wh.pushes_regex)
                problems += [_at(m.source, ("columns", i.column), i.message) for i in issues]
        except WatchdogError as exc:
            problems.append(f"{m.source}: {exc}")
    return problems, len(monitors)


def _at(source: str, loc: tuple[str, ...], message: str) -> str:
    """``file:line: path: message`` (the line read again from the contract file)."""
    from watchdog.config.loader import load

    line = None
    if source.endswith((".yaml", ".yml")):
        try:
            line = load(source, {}).line(loc)
        except WatchdogError:
            line = None
    where = f"{source}:{line}" if line else source
    return f"{where}: {'.'.join(loc)}: {message}"
