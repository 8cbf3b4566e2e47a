"""The one event per changed table: what changed, who changed it, whom it breaks.

alert_type ``error`` when a change breaks any reader, ``info`` when every change only adds
(a table created, a column added), ``warning`` otherwise. Owners of models it breaks (and
the monitor's owner) are @-mentioned; on a warning every reader's owners are; an info event
mentions nobody but the monitor's owner, so additive changes never page. The owners of the
table's data contracts that a change breaches are @-mentioned too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from watchdog.checks.schema.diff import ADDITIVE
from watchdog.checks.schema.impact import Terms, Verdict
from watchdog.models import AlertEvent, SchemaChange

_LABEL = {
    "table_created": "table created", "table_dropped": "table dropped",
    "table_renamed": "table renamed", "column_added": "column added",
    "column_dropped": "column dropped", "column_renamed": "column renamed",
    "nullability_changed": "nullability changed", "order_changed": "column order changed",
}
_COMPAT = {"widening": "type widened", "narrowing": "type narrowed",
           "family": "type family changed", "changed": "type changed"}


@dataclass(frozen=True, slots=True)
class Attribution:
    """Who changed a table, when, with which (shortened, literal-free) statements."""

    known: bool
    lines: tuple[str, ...]
    by: str | None = None  # the latest statement's user (or the catalog's DDL author)
    statement: str | None = None  # the latest statement, shortened and literal-free


def label(change: SchemaChange) -> str:
    """``"type narrowed"``, ``"column renamed (probable)"``, …"""
    text = _COMPAT.get(change.compat or "", "type changed") if change.kind == "type_changed" \
        else _LABEL[change.kind]
    return f"{text} (probable)" if change.probable else text


def alert_type(changes: Sequence[SchemaChange], verdicts: Sequence[Verdict],
               contracts: Sequence[Terms] = ()) -> str:
    if any(v.breaking for v in verdicts) or _breached(changes, contracts):
        return "error"
    if all(c.kind in ADDITIVE for c in changes):
        return "info"
    return "warning"


def _cell(value: str | None) -> str:
    return (value or "").replace("|", "/").replace("\n", " ")


def _table(changes: Sequence[SchemaChange], verdicts: Sequence[Verdict]) -> list[str]:
    rows = ["| change | column | before | after | breaks |", "|---|---|---|---|---|"]
    for c in changes[:25]:
        broken = ", ".join(v.reader.model for v in verdicts if c in v.breaking) or "-"
        rows.append(f"| {label(c)} | {_cell(c.column) or '-'} | {_cell(c.before) or '-'} "
                    f"| {_cell(c.after) or '-'} | {broken} |")
    if len(changes) > 25:
        rows.append(f"| … | {len(changes) - 25} more | | | |")
    return rows


def _models(verdicts: Sequence[Verdict], kind: str, owner_handles: Sequence[str]) -> list[str]:
    if not verdicts:
        return ["No model in `ownership.models` reads this table."]
    lines = []
    for v in verdicts:
        r = v.reader
        mention = " ".join(r.handles) if v.breaking or kind == "warning" else ""
        if v.breaking:
            what = ", ".join(f"{label(c)} {c.column or c.before or ''}".strip()
                             for c in v.breaking)
            lines.append(f"- **{r.model}** (team {r.team}): **BREAKING**: {what} {mention}")
        else:
            lines.append(f"- **{r.model}** (team {r.team}): not affected {mention}".rstrip())
    if owner_handles:
        lines.append(f"Monitor owner: {' '.join(owner_handles)}")
    return lines


def _breached(changes: Sequence[SchemaChange],
              contracts: Sequence[Terms]) -> list[tuple[Terms, list[SchemaChange]]]:
    found = [(t, [c for c in changes if t.breached_by(c)]) for t in contracts]
    return [(t, hits) for t, hits in found if hits]


def _contracts(changes: Sequence[SchemaChange], contracts: Sequence[Terms]) -> list[str]:
    if not contracts:
        return []
    breached = dict((t.id, hits) for t, hits in _breached(changes, contracts))
    lines = ["", "**Data contracts**"]
    for t in contracts:
        who = f"owner {t.owner}" if t.owner else "no owner"
        if t.id in breached:
            what = ", ".join(f"{label(c)} {c.column or c.before or ''}".strip()
                             for c in breached[t.id])
            lines.append(f"- `{t.id}` ({t.source}, {who}): **BREACHED**: {what} "
                         f"{' '.join(t.handles)}".rstrip())
        else:
            lines.append(f"- `{t.id}` ({t.source}, {who}): holds")
    return lines


def compose(*, monitor_id: str, warehouse: str, table: str, changes: Sequence[SchemaChange],
            verdicts: Sequence[Verdict], who: Attribution, owner: str | None,
            owner_handles: Sequence[str], now: datetime,
            contracts: Sequence[Terms] = ()) -> AlertEvent:
    """The event for one table's changes in one poll."""
    kind = alert_type(changes, verdicts, contracts)
    first = changes[0]
    head = f"{label(first)} {_named(first)}".strip()
    more = f" and {len(changes) - 1} more" if len(changes) > 1 else ""
    prefix = "[BREAKING] " if kind == "error" else ""
    title = f"{prefix}Schema change on {table}: {head}{more}"
    lines = [f"**{len(changes)} schema change(s)** on `{table}` (warehouse `{warehouse}`), "
             f"found by monitor `{monitor_id}`.", "", *_table(changes, verdicts), "",
             "**Who / when / statement**", *who.lines, "", "**Models reading it**",
             *_models(verdicts, kind, owner_handles), *_contracts(changes, contracts)]
    teams = dict.fromkeys([*(v.reader.team for v in verdicts), *([owner] if owner else []),
                           *(t.owner for t in contracts if t.owner)])
    tags = (f"table:{table}", *(f"change:{k}" for k in dict.fromkeys(c.kind for c in changes)),
            *(f"team:{t}" for t in teams), *(f"model:{v.reader.model}" for v in verdicts),
            *(f"contract:{t.id}" for t in contracts))
    return AlertEvent(
        title=title, text="\n".join(lines),
        alert_type=kind,  # type: ignore[arg-type]
        aggregation_key=f"watchdog:schema:{monitor_id}:{table}", tags=tags,
        priority="normal" if kind == "error" else "low", date_happened=int(now.timestamp()),
    )


def _named(change: SchemaChange) -> str:
    """What a title names: both names of a rename (``f_num_7 → f_num_7_v2``), else the
    column (or the new table)."""
    if change.kind in ("column_renamed", "table_renamed") and change.before and change.after:
        return f"{change.before} → {change.after}"
    return change.column or change.after or ""


def missing_event(monitor_id: str, warehouse: str, table: str, now: datetime,
                  denied: str | None = None) -> AlertEvent:
    """A configured table that is not there (or not visible): said once, when first seen.
    ``denied``: the table is there but watchdog's login may not read it (and the fix)."""
    if denied is not None:
        return AlertEvent(
            title=f"Schema monitor may not read {table}",
            text=(f"`{table}` is watched by monitor `{monitor_id}` but watchdog's login on "
                  f"warehouse `{warehouse}` may not read it: {denied}."),
            alert_type="warning", aggregation_key=f"watchdog:schema:{monitor_id}:{table}",
            tags=(f"table:{table}", "change:permission_denied"), priority="low",
            date_happened=int(now.timestamp()),
        )
    return AlertEvent(
        title=f"Schema monitor cannot see {table}",
        text=(f"`{table}` is watched by monitor `{monitor_id}` but warehouse `{warehouse}` "
              "shows no such table: it was never created, has another name, or watchdog's "
              "login may not see it. Fix the name under `tables:` or grant access."),
        alert_type="warning", aggregation_key=f"watchdog:schema:{monitor_id}:{table}",
        tags=(f"table:{table}", "change:table_missing"), priority="low",
        date_happened=int(now.timestamp()),
    )
