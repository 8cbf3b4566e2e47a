"""Who a schema change hurts: the models that read the table, and whether it breaks each.

Readers come from ``ownership.models[*].reads`` (a table and the columns the model reads;
no columns means all of them) and from the consumers of the table's data contracts
(``watchdog.contracts.contracts_for``). A change breaks a reader when it removes or renames a
column the reader reads (or the whole table), narrows its type or changes its type family,
or makes it nullable where the table's contract says it is not null. Everything else (a
column added, a type widened, a column the model does not read, nullability tightened,
columns reordered) is harmless to that reader. A contract is breached by a change that
would break a reader of all its columns, given its not-null columns; its owner is then told.
Pure: no I/O (contracts come from the loaded config).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from watchdog.config.models import Config
from watchdog.contracts import contracts_for
from watchdog.models import SchemaChange

#: Type changes that can lose values or break code that reads the column.
BREAKING_COMPAT = frozenset({"narrowing", "family", "changed"})


@dataclass(frozen=True, slots=True)
class Reader:
    """A model reading a table: its team, the team's handles, and the columns it reads."""

    model: str
    team: str
    handles: tuple[str, ...]
    columns: tuple[str, ...]  # () = every column

    def reads(self, column: str | None) -> bool:
        return column is None or not self.columns or column.lower() in {
            c.lower() for c in self.columns}


@dataclass(frozen=True, slots=True)
class Verdict:
    """What one table's changes mean for one reader."""

    reader: Reader
    breaking: tuple[SchemaChange, ...]
    harmless: tuple[SchemaChange, ...]


@dataclass(frozen=True, slots=True)
class Terms:
    """A data contract on the table, as the schema check needs it."""

    id: str
    source: str
    owner: str | None
    handles: tuple[str, ...]  # the owner team's
    not_null: frozenset[str]  # lower case
    columns: tuple[str, ...]  # every column it names (not-null, required, consumed)
    consumers: tuple[tuple[str, tuple[str, ...]], ...]

    def breached_by(self, change: SchemaChange) -> bool:
        """Whether ``change`` breaks the contract's promise about its own columns."""
        whole = Reader(model=self.id, team=self.owner or "", handles=(), columns=self.columns)
        return breaks(change, whole, self.not_null)


def contract_terms(config: Config, warehouse: str, tables: Sequence[str]) -> list[Terms]:
    """The contracts of ``warehouse`` on any of ``tables`` (a table's old and new name)."""
    found = {i.id: i for t in tables for i in contracts_for(config, warehouse, t)}
    out = []
    for info in found.values():
        team = config.ownership.teams.get(info.owner) if info.owner else None
        consumed = [c for _, cols in info.consumers for c in cols]
        every_column = any(not cols for _, cols in info.consumers)
        columns = () if every_column else tuple(
            dict.fromkeys([*info.not_null, *info.required, *consumed]))
        out.append(Terms(id=info.id, source=info.source, owner=info.owner,
                         handles=team.datadog if team else (),
                         not_null=frozenset(c.lower() for c in info.not_null),
                         columns=columns, consumers=info.consumers))
    return out


def same_table(configured: str, actual: str, default_schema: str) -> bool:
    """``features`` (no schema: the warehouse's default) matches ``main.features``."""
    a = configured.lower() if "." in configured else f"{default_schema}.{configured}".lower()
    return a == actual.lower() or a.split(".")[-2:] == actual.lower().split(".")[-2:]


def readers(config: Config, warehouse: str, tables: Sequence[str], default_schema: str,
            contracts: Sequence[Terms] = ()) -> list[Reader]:
    """The models that read any of ``tables`` (a table's old and new name) in ``warehouse``:
    from ``ownership.models`` and, merged by model, the consumers of ``contracts``."""
    out = _owned_readers(config, warehouse, tables, default_schema)
    by_model = {r.model: i for i, r in enumerate(out)}
    for model, cols in (c for terms in contracts for c in terms.consumers):
        if model in by_model:
            old = out[by_model[model]]
            merged = () if not old.columns or not cols else tuple(
                dict.fromkeys([*old.columns, *cols]))
            out[by_model[model]] = Reader(model=model, team=old.team, handles=old.handles,
                                          columns=merged)
            continue
        owned = config.ownership.models.get(model)
        team_name = owned.team if owned else "unknown"
        team = config.ownership.teams.get(team_name)
        by_model[model] = len(out)
        out.append(Reader(model=model, team=team_name, handles=team.datadog if team else (),
                          columns=tuple(cols)))
    return out


def _owned_readers(config: Config, warehouse: str, tables: Sequence[str],
                   default_schema: str) -> list[Reader]:
    out = []
    for name, model in config.ownership.models.items():
        reads = [r for r in model.reads if r.warehouse in (None, warehouse)
                 and any(same_table(r.table, t, default_schema) for t in tables)]
        if not reads:
            continue
        columns: tuple[str, ...] = ()
        if all(r.columns for r in reads):
            columns = tuple(dict.fromkeys(c for r in reads for c in r.columns))
        team = config.ownership.teams.get(model.team)
        out.append(Reader(model=name, team=model.team,
                          handles=team.datadog if team else (), columns=columns))
    return out


def breaks(change: SchemaChange, reader: Reader, not_null: frozenset[str]) -> bool:
    """Whether ``change`` breaks ``reader`` (``not_null``: the contract's not-null columns)."""
    kind = change.kind
    if kind in ("table_dropped", "table_renamed"):
        return True
    if kind == "column_dropped":
        return reader.reads(change.column)
    if kind == "column_renamed":
        return reader.reads(change.before)
    if kind == "type_changed":
        return change.compat in BREAKING_COMPAT and reader.reads(change.column)
    if kind == "nullability_changed":
        column = (change.column or "").lower()
        return change.after == "NULL" and column in not_null and reader.reads(change.column)
    return False


def judge(changes: Sequence[SchemaChange], table_readers: Sequence[Reader],
          not_null: frozenset[str] = frozenset()) -> list[Verdict]:
    """One verdict per reader of the table the changes are about."""
    verdicts = []
    for reader in table_readers:
        bad = tuple(c for c in changes if breaks(c, reader, not_null))
        fine = tuple(c for c in changes if c not in bad)
        verdicts.append(Verdict(reader=reader, breaking=bad, harmless=fine))
    return verdicts


def not_null_columns(contracts: Mapping[str, frozenset[str]], tables: Sequence[str],
                     default_schema: str) -> frozenset[str]:
    """The not-null columns the contracts give for any of ``tables`` (lower case)."""
    out: set[str] = set()
    for table, columns in contracts.items():
        if any(same_table(table, t, default_schema) for t in tables):
            out |= {c.lower() for c in columns}
    return frozenset(out)
