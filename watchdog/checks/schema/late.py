"""Late attribution: audit rows that land after the change they explain.

Some audit logs lag (Snowflake's ACCOUNT_USAGE: 45 minutes to 3 hours), so a change can be
seen before the statement that made it is logged. Such a change is reported at once with
its author unknown and remembered here (artifact ``schema_unattributed``, per monitor) for
the warehouse's audit latency. Each later poll re-reads the audit log over that window
(skipping the rows it has read already), matches the new rows to the remembered changes
(same table, the column named in the statement, run before the change was seen) and sends
one ``[ATTRIBUTED]`` update event per table; changes still unmatched after the window are
forgotten without an event.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from watchdog.checks.schema import audit as schema_audit
from watchdog.checks.schema.events import label
from watchdog.models import AlertEvent, AuditEvent, SchemaChange

ARTIFACT = "schema_unattributed"
_WORD = re.compile(r"[a-z0-9_$]+")


@dataclass
class Late:
    """The remembered changes and the keys of the audit rows already read in the window."""

    changes: list[dict[str, Any]] = field(default_factory=list)
    seen: list[list[Any]] = field(default_factory=list)
    dirty: bool = False

    @classmethod
    def load(cls, store: Any, monitor_id: str) -> Late:
        found = store.get_artifact(ARTIFACT, monitor_id)
        doc = found[2] if found else {}
        return cls(list(doc.get("changes", [])), list(doc.get("seen", [])))

    def save(self, store: Any, monitor_id: str) -> None:
        if self.dirty:
            store.put_artifact(ARTIFACT, monitor_id, {"changes": self.changes,
                                                      "seen": self.seen})
            self.dirty = False

    def close(self, store: Any, monitor_id: str, now: datetime, window: timedelta) -> None:
        """End of a poll: expire what the window no longer covers, then save."""
        self.expire(now, window)
        self.save(store, monitor_id)

    def fresh(self, events: Sequence[AuditEvent], floor: int) -> list[AuditEvent]:
        """The events not read before; remembers them, forgets keys older than ``floor``."""
        known = {key for _, key in self.seen}
        digests: dict[str, str] = {}  # a script logged once per statement is hashed once
        keyed = [(e, _key(e, digests)) for e in events]
        new = [(e, key) for e, key in keyed if key not in known]
        kept = [[s, k] for s, k in self.seen if s >= floor]
        kept += [[e.seq, key] for e, key in new]
        if kept != self.seen:
            self.seen, self.dirty = kept, True
        return [e for e, _ in new]

    def remember(self, table: str, names: Sequence[str], changes: Sequence[SchemaChange],
                 now: datetime) -> None:
        """Changes of ``table`` reported without an author, seen at ``now``."""
        for c in changes:
            self.changes.append({"table": table, "names": list(names), "kind": c.kind,
                                 "column": c.column, "before": c.before, "after": c.after,
                                 "compat": c.compat, "probable": c.probable,
                                 "seen": now.isoformat()})
            self.dirty = True

    def expire(self, now: datetime, window: timedelta) -> None:
        """Forget, without an event, the changes no audit row explained within the window."""
        kept = [c for c in self.changes if datetime.fromisoformat(c["seen"]) + window >= now]
        if len(kept) != len(self.changes):
            self.changes, self.dirty = kept, True


def _key(event: AuditEvent, digests: dict[str, str] | None = None) -> str:
    """The key an audit row is known by; ``digests`` keeps the statements' hashes."""
    digest = digests.get(event.statement) if digests is not None else None
    if digest is None:
        digest = hashlib.sha1(event.statement.encode(), usedforsecurity=False).hexdigest()[:16]
        if digests is not None:
            digests[event.statement] = digest
    return f"{event.seq}:{event.user}:{event.command}:{digest}"


def _explains(item: schema_audit.Parsed, change: dict[str, Any]) -> bool:
    """The statement ran before the change was seen and names its column (if it has one)."""
    if item.event.at > datetime.fromisoformat(change["seen"]):
        return False
    words = [w.lower() for w in (change["column"], change["before"], change["after"]) if w]
    if change["kind"].startswith("table_") or not words:
        return True
    said = set(_WORD.findall(item.event.statement.lower()))
    return any(w in said for w in words)


def attribute(late: Late, parsed: Sequence[schema_audit.Parsed] | schema_audit.AuditIndex, *,
              default: str, dialect: str | None, monitor_id: str, warehouse: str,
              now: datetime) -> list[AlertEvent]:
    """One update event per table whose remembered changes the new audit rows explain."""
    found: dict[str, list[tuple[dict[str, Any], schema_audit.Parsed]]] = defaultdict(list)
    index = parsed if isinstance(parsed, schema_audit.AuditIndex) \
        else schema_audit.AuditIndex(parsed, default)
    for change in late.changes:
        hits = index.events_for(change["names"])
        match = [h for h in hits if _explains(h, change)]
        if match:
            found[change["table"]].append((change, match[-1]))
    if not found:
        return []
    matched = [id(c) for pairs in found.values() for c, _ in pairs]
    late.changes = [c for c in late.changes if id(c) not in matched]
    late.dirty = True
    return [_event(monitor_id, warehouse, table, pairs, default, dialect, now, index)
            for table, pairs in found.items()]


def _change_text(change: dict[str, Any]) -> str:
    text = label(SchemaChange(kind=change["kind"], table=change["table"],
                              column=change["column"], compat=change.get("compat"),
                              probable=bool(change.get("probable"))))
    if change["column"]:
        text += f" {change['column']}"
    if change["before"] or change["after"]:
        text += f" ({change['before'] or '-'} → {change['after'] or '-'})"
    return text


def _event(monitor_id: str, warehouse: str, table: str,
           pairs: Sequence[tuple[dict[str, Any], schema_audit.Parsed]], default: str,
           dialect: str | None, now: datetime,
           index: schema_audit.AuditIndex | None = None) -> AlertEvent:
    users = list(dict.fromkeys(item.event.user for _, item in pairs))
    lines = [f"The audit log of warehouse `{warehouse}` now says who made the schema "
             f"change(s) on `{table}` that monitor `{monitor_id}` reported with the author "
             "unknown.", "", "**Who / when / statement**"]
    for change, item in pairs:
        e = item.event
        text = schema_audit.shown_statement(item, change["names"], default, dialect,
                                            index.walk(item) if index else None)
        lines.append(f"- `{e.user}` at {e.at:%Y-%m-%d %H:%M:%S} UTC: `{text}` explains "
                     f"{_change_text(change)} (seen {change['seen'][:19]} UTC)")
    title = f"[ATTRIBUTED] Schema change on {table}: by {', '.join(users)}"
    return AlertEvent(
        title=title, text="\n".join(lines),
        alert_type="info", aggregation_key=f"watchdog:schema:{monitor_id}:{table}",
        tags=(f"table:{table}", "change:attributed"),
        priority="low", date_happened=int(now.timestamp()),
    )
