"""``kind: schema``: every schema change of the watched tables, who made it, whom it breaks.

One poll: probe the warehouse's cheap DDL counter (SQLite ``schema_version``, the Postgres
audit trigger's counter) and stop there when it has not moved; else read the columns of
every watched table in one metadata query, diff them against the persisted snapshots
(``schema.diff``), attribute the changes from the audit log (``schema.audit``), judge them
per reading model (``schema.impact``) and compose one event per changed table
(``schema.events``). The new snapshots are saved after the result is built, so a change is
reported exactly once: not again next poll, not again after a restart, and not missed
while watchdog was down (the diff is against what was last persisted).
"""

from __future__ import annotations

import contextlib
import fnmatch
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from watchdog import gcpause
from watchdog.checks.base import Check, CheckContext, History, Outcome, unreadable
from watchdog.checks.schema import audit as schema_audit
from watchdog.checks.schema import late as schema_late
from watchdog.checks.schema.diff import ADDITIVE, RenameHints, diff
from watchdog.checks.schema.events import Attribution, compose, missing_event
from watchdog.checks.schema.impact import contract_terms, judge, readers
from watchdog.checks.schema.params import SchemaParams
from watchdog.errors import CheckTimeout, UnsupportedFeature, WarehouseError
from watchdog.models import (
    AlertEvent,
    Cause,
    CheckResult,
    Column,
    SchemaChange,
    Status,
    TableRef,
)
from watchdog.warehouses.base import Warehouse

ARTIFACT = "schema_state"
#: The snapshot token of a table that is not there (dropped, or configured but missing).
ABSENT = "absent"


def _matches(table: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(table.lower(), p.lower()) for p in patterns)


class SchemaChangeCheck(Check[SchemaParams]):
    """Snapshots, diffs, attributes and judges schema changes; one event per changed table."""

    KIND = "schema"
    Params = SchemaParams
    LIFECYCLE_ALERTS = False

    def run(self, ctx: CheckContext) -> CheckResult:
        with gcpause.paused():  # a migration's poll builds millions of objects
            return self._poll(ctx)

    def _poll(self, ctx: CheckContext) -> CheckResult:
        p = self.monitor
        store = ctx.history
        if store is None or not hasattr(store, "snapshot_tokens"):
            raise RuntimeError("the schema monitor needs the state store")
        wh = ctx.warehouse
        patterns = [wh.table(t) for t in p.tables]
        globs = [str(t) for t in patterns]
        out = self.outcome(None)
        found = store.get_artifact(ARTIFACT, p.id)
        state = found[2] if found else None
        token = _probe(wh, patterns)
        self._late = schema_late.Late.load(store, p.id)
        self._late.expire(ctx.now, wh.audit_latency)  # before anything may attribute them
        if token is not None and state and state.get("token") == token \
                and state.get("patterns") == globs:
            return _with_events(self._unchanged(out, state, globs),
                                self._late_only(ctx, store, state))
        refs = {str(ref): (ref, fp) for ref, fp in wh.schema_fingerprints(patterns).items()}
        prints = {t: fp for t, (_, fp) in refs.items()}
        out.metric("tables", len(prints))
        known = store.snapshot_tokens(p.id)
        before, fresh = _suspects(store, wh, p.id, known, patterns, refs)
        after = fresh
        if state is not None and state.get("patterns") != globs:
            before, after = _rescope(before, fresh, state.get("patterns", []), globs)
        events, changed = self._judge(ctx, out, state, before, after)
        missing = [g for g in globs if "*" not in g
                   and not any(t.lower() == g.lower() for t in prints)]
        newly_missing = [m for m in missing if m not in known]
        denied = {str(t): f"{e.detail} ({e.hint})"
                  for t, e in unreadable(wh, [wh.table(m) for m in missing]).items()}
        _report_missing(out, missing, denied)
        # every suspect is saved: new, changed, or a stale token over the same columns
        saves: dict[str, list[Column]] = dict.fromkeys([*changed, *newly_missing], []) | fresh
        store.save_snapshots(p.id, saves, ctx.now,
                             {t: prints.get(t, ABSENT) if cols else ABSENT
                              for t, cols in saves.items()})
        store.put_artifact(ARTIFACT, p.id, {
            "token": token, "patterns": globs, "tables": len(prints),
            "audit_seq": self._cursor, "missing": missing, "denied": denied})
        self._late.close(store, p.id, ctx.now, wh.audit_latency)
        if state is not None:
            events += [missing_event(p.id, p.warehouse, m, ctx.now, denied.get(m))
                       for m in newly_missing]
        return _with_events(out.result(_summary(state, len(prints), len(events))), events)

    @staticmethod
    def _unchanged(out: Outcome, state: dict[str, Any], globs: list[str]) -> CheckResult:
        """The probe did not move: no metadata query, the standing findings only."""
        out.metric("tables", state.get("tables", 0))
        out.add(Status.OK, "NO_DDL", "no DDL since the last poll")
        _report_missing(out, state.get("missing", []), state.get("denied") or {})
        return out.result(f"{len(globs)} pattern(s): no DDL since the last poll")

    # -- judging ------------------------------------------------------------------------

    _cursor: int = 0
    _late: schema_late.Late

    def _late_only(self, ctx: CheckContext, store: History,
                   state: dict[str, Any]) -> list[AlertEvent]:
        """No DDL since the last poll: only attribute remembered changes, if any."""
        p, wh = self.monitor, ctx.warehouse
        if self._late.changes:
            self._cursor = int(state.get("audit_seq") or 0)
            parsed, _ = self._audit_events(wh)
            events = self._attribute(ctx, schema_audit.AuditIndex(parsed, wh.DEFAULT_SCHEMA))
            if self._cursor != state.get("audit_seq"):
                store.put_artifact(ARTIFACT, p.id, {**state, "audit_seq": self._cursor})
        else:
            events = []
        self._late.save(store, p.id)
        return events

    def _attribute(self, ctx: CheckContext, parsed: schema_audit.AuditIndex) -> list[AlertEvent]:
        p, wh = self.monitor, ctx.warehouse
        if not parsed.parsed or not self._late.changes:
            return []
        return schema_late.attribute(
            self._late, parsed, default=wh.DEFAULT_SCHEMA, dialect=wh.DIALECT,
            monitor_id=p.id, warehouse=p.warehouse, now=ctx.now)

    def _judge(
        self, ctx: CheckContext, out: Outcome, state: dict[str, Any] | None,
        previous: dict[str, list[Column]], current: dict[str, list[Column]],
    ) -> tuple[list[AlertEvent], set[str]]:
        """Diff, attribute and judge; returns the events and the tables to snapshot anew."""
        wh = ctx.warehouse
        self._cursor = int((state or {}).get("audit_seq") or 0)
        if state is None:  # the first poll: a baseline, nothing to compare with
            self._cursor = _latest_seq(wh)
            self._mark_seen(wh)
            return [], set()
        parsed, unknown = self._audit_events(wh)
        default = wh.DEFAULT_SCHEMA
        index = schema_audit.AuditIndex(parsed, default)  # walked once, looked up per table
        late = self._attribute(ctx, index)
        hints = schema_audit.rename_hints(parsed, default) if parsed else RenameHints()
        changes = diff(previous, current, hints)
        groups = _group(changes)
        authors = schema_audit.CatalogAuthors(
            wh, [n for table, group in groups.items() for n in _names(table, group)])
        events = late + [self._table_event(ctx, out, table, group, index, unknown, authors)
                         for table, group in groups.items()]
        changed = {c.table for c in changes} | {c.after for c in changes
                                                if c.kind == "table_renamed" and c.after}
        return events, changed

    def _mark_seen(self, wh: Warehouse) -> None:
        """The baseline: rows already in the re-read window are no news to later polls."""
        floor = wh.audit_rewind(self._cursor)
        if not wh.SUPPORTS_AUDIT_LOG or floor == self._cursor:
            return
        with contextlib.suppress(WarehouseError):
            self._late.fresh(schema_audit.read(wh, floor), floor)

    def _audit_events(self, wh: Warehouse) -> tuple[list[schema_audit.Parsed], str]:
        if not wh.SUPPORTS_AUDIT_LOG:
            return [], f"unknown (warehouse `{wh.name}` keeps no DDL audit log)"
        try:
            floor = wh.audit_rewind(self._cursor)
            events = self._late.fresh(schema_audit.read(wh, floor), floor)
        except CheckTimeout:
            raise
        except UnsupportedFeature:
            return [], (f"unknown (no audit log yet: run `watchdog setup audit --warehouse "
                        f"{wh.name}` once as a superuser)")
        except WarehouseError as exc:
            return [], f"unknown (the audit log could not be read: {exc.message})"
        if events:
            self._cursor = max(self._cursor, *(e.seq for e in events))
        return schema_audit.parse(events, wh.DIALECT), "unknown (not in the " \
            "audit log)"

    def _table_event(
        self, ctx: CheckContext, out: Outcome, table: str, changes: list[SchemaChange],
        parsed: schema_audit.AuditIndex, unknown: str, authors: schema_audit.CatalogAuthors,
    ) -> AlertEvent:
        p, wh = self.monitor, ctx.warehouse
        names = _names(table, changes)
        default = wh.DEFAULT_SCHEMA
        terms = contract_terms(ctx.config, p.warehouse, names)
        table_readers = readers(ctx.config, p.warehouse, names, default, terms)
        not_null = frozenset(c for t in terms for c in t.not_null)
        verdicts = judge(changes, table_readers, not_null)
        who = _attribution(parsed, names, default, wh.DIALECT, unknown)
        if not who.known:
            who = authors.attribution(names, who)
        if not who.known and wh.SUPPORTS_AUDIT_LOG and wh.audit_latency:
            self._late.remember(table, names, changes, ctx.now)
        for change in changes:
            broken = [v.reader.model for v in verdicts if change in v.breaking]
            breached = [t.id for t in terms if t.breached_by(change)]
            status = Status.FAIL if broken or breached else (
                Status.OK if change.kind in ADDITIVE else Status.WARN)
            out.add(status, change.kind.upper(), _message(change, broken), table=table,
                    column=change.column, before=change.before, after=change.after,
                    compat=change.compat, probable=change.probable, breaks=broken,
                    contracts=breached)
        for kind in dict.fromkeys(c.kind for c in changes):
            n = sum(c.kind == kind for c in changes)
            out.metric("changes", n, f"table:{table}", f"change:{kind}", type="count")
        owner = ctx.config.ownership.teams.get(p.owner) if p.owner else None
        event = compose(monitor_id=p.id, warehouse=p.warehouse, table=table, changes=changes,
                        verdicts=verdicts, who=who, owner=p.owner,
                        owner_handles=owner.datadog if owner else (), now=ctx.now,
                        contracts=terms)
        out.causes.append(_cause(p.id, p.warehouse, table, changes, who, event, ctx.now))
        return event


#: Suspect tables whose columns are read by name per statement (a condition per table).
BY_NAME_LIMIT = 1000


def _suspects(
    store: History, wh: Warehouse, monitor_id: str, known: Mapping[str, str | None],
    patterns: Sequence[TableRef], prints: Mapping[str, tuple[TableRef, str]],
) -> tuple[dict[str, list[Column]], dict[str, list[Column]]]:
    """The tables whose columns may differ from their snapshot (by fingerprint), before and
    after; only their snapshots are read from the store, only their columns from the
    warehouse."""
    seen = {t for t, v in known.items() if v != ABSENT}
    present = [ref for t, (ref, fp) in prints.items() if known.get(t) != fp]
    names = [str(ref) for ref in present]
    before = store.latest_snapshots(
        monitor_id, [t for t in [*names, *(t for t in seen if t not in prints)] if t in seen])
    return before, _columns_of(wh, patterns, present, len(prints))


def _columns_of(wh: Warehouse, patterns: Sequence[TableRef], tables: Sequence[TableRef],
                watched: int) -> dict[str, list[Column]]:
    """The columns of ``tables`` (matched by ``patterns``, ``watched`` tables in all): by
    name, BY_NAME_LIMIT tables per statement, while they are at most half of the watched
    tables; else every watched table's in one scan by pattern. By name costs per table
    named, the scan per table watched: on Postgres, 10,000 tables × 30 columns, the
    columns of 2,000 tables by name took 0.70 s and the scan of all 10,000 1.7–1.8 s
    (``bench/schema/bench_schema.py``, its two "columns of" rows)."""
    if not tables:
        return {}
    wanted = {str(ref) for ref in tables}
    if 2 * len(tables) > watched:
        found = wh.schema_columns(patterns)
    else:
        found = {}
        for start in range(0, len(tables), BY_NAME_LIMIT):
            found |= wh.columns(tables[start:start + BY_NAME_LIMIT])
    return {name: cols for ref, cols in found.items() if (name := str(ref)) in wanted}


def _summary(state: dict[str, Any] | None, tables: int, events: int) -> str:
    if state is None:
        return f"baseline of {tables} table(s) taken"
    if events:
        return f"{tables} table(s) watched; additive changes on {events}"
    return f"{tables} table(s) watched; no schema change"


def _report_missing(out: Outcome, missing: Sequence[str], denied: Mapping[str, str]) -> None:
    """TABLE_NOT_FOUND per missing table, or PERMISSION_DENIED (with the GRANT) where the
    warehouse says the table is there but watchdog's login may not read it."""
    for m in missing:
        if m in denied:
            out.add(Status.WARN, "PERMISSION_DENIED", denied[m])
        else:
            out.add(Status.WARN, "TABLE_NOT_FOUND", _not_found(m))


def _not_found(table: str) -> str:
    return f"{table}: table not found, or not visible to watchdog's login"


def _probe(wh: Warehouse, patterns: Sequence[TableRef]) -> str | None:
    if not wh.SUPPORTS_SCHEMA_VERSION:
        return None
    try:
        return wh.schema_version(patterns)
    except UnsupportedFeature:
        return None


def _latest_seq(wh: Warehouse, page: int = schema_audit.PAGE) -> int:
    """The audit log's newest sequence number (0 without a readable log).

    Events come oldest first, so the log is paged forward to its end: only the first poll
    of a monitor does this, and later polls read from the cursor it leaves."""
    if not wh.SUPPORTS_AUDIT_LOG:
        return 0
    seq = 0
    try:
        while events := wh.audit_events(seq, limit=page):
            seq = events[-1].seq
            if len(events) < page:
                break
    except CheckTimeout:
        raise
    except WarehouseError:  # not a capability probe (the flag is read above): the log
        # exists but cannot be read now (not installed, no grant, a failed read), and a
        # missing baseline only means the next poll reads the whole audit window
        pass
    return seq


def _rescope(previous: dict[str, list[Column]], current: dict[str, list[Column]],
             old: Sequence[str], new: Sequence[str],
             ) -> tuple[dict[str, list[Column]], dict[str, list[Column]]]:
    """After the monitor's tables changed: compare only tables both configs watch."""
    prev = {t: c for t, c in previous.items() if _matches(t, new)}
    curr = {t: c for t, c in current.items() if t in prev or _matches(t, old)}
    return prev, curr


def _group(changes: Sequence[SchemaChange]) -> dict[str, list[SchemaChange]]:
    """Changes by table; a renamed table's column changes join its rename, under the old name."""
    renamed = {c.after: c.table for c in changes if c.kind == "table_renamed" and c.after}
    groups: dict[str, list[SchemaChange]] = defaultdict(list)
    for change in changes:
        groups[renamed.get(change.table, change.table)].append(change)
    return dict(groups)


def _attribution(parsed: schema_audit.AuditIndex, names: Sequence[str], default: str,
                 dialect: str | None, unknown: str) -> Attribution:
    hits = parsed.events_for(names)
    if not hits:
        return Attribution(known=False, lines=(f"Changed by: {unknown}.",))
    lines = []
    text = ""
    for item in hits[-3:]:
        e = item.event
        text = schema_audit.shown_statement(item, names, default, dialect,
                                            parsed.walk(item))
        lines.append(f"- `{e.user}` at {e.at:%Y-%m-%d %H:%M:%S} UTC: `{text}`")
    if len(hits) > 3:
        lines.insert(0, f"({len(hits) - 3} earlier statements not shown)")
    return Attribution(known=True, lines=tuple(lines), by=hits[-1].event.user, statement=text)


#: An @-mention in an event's text (not inside an address or a quoted name).
_HANDLE = re.compile(r"(?<![\w`])@[\w.@-]+")
#: How long a schema change may explain other monitors' failures on its table.
CAUSE_TTL = timedelta(hours=48)


def _cause(monitor_id: str, warehouse: str, table: str, changes: Sequence[SchemaChange],
           who: Attribution, event: AlertEvent, now: datetime) -> Cause:
    """The change, as the cause of what other monitors of the table find next (a drift
    check erroring on a renamed column, a contract failing on a narrowed type)."""
    columns = dict.fromkeys(n for c in changes for n in (c.column, c.before, c.after)
                            if n and c.kind.startswith(("column", "type", "nullab")))
    # most events mention nobody: skip the regex's scan of their text (a migration's 10,000)
    handles = tuple(dict.fromkeys(_HANDLE.findall(event.text))) if "@" in event.text else ()
    return Cause(kind="schema_change", monitor_id=monitor_id, warehouse=warehouse,
                 table=table, at=now, expires=now + CAUSE_TTL, title=event.title,
                 aggregation_key=event.aggregation_key, columns=tuple(columns), by=who.by,
                 statement=who.statement, handles=handles)


def _names(table: str, changes: Sequence[SchemaChange]) -> list[str]:
    """A changed table's names: as it was, and as renamed."""
    return [table, *(c.after for c in changes if c.kind == "table_renamed" and c.after)]


def _message(change: SchemaChange, broken: Sequence[str]) -> str:
    from watchdog.checks.schema.events import label

    what = f"{change.table}: {label(change)}"
    if change.column:
        what += f" {change.column}"
    if change.before or change.after:
        what += f" ({change.before or '-'} → {change.after or '-'})"
    return what + (f"; breaks {', '.join(broken)}" if broken else "")


def _with_events(result: CheckResult, events: list[AlertEvent]) -> CheckResult:
    from dataclasses import replace

    return replace(result, events=tuple(events))
