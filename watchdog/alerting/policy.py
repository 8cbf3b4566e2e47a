"""The alert policy: pure, no I/O. Given a result and what we remembered, what do we say?

One alert per dedup key (monitor + subject). A problem opens it; a different problem
(new reason, other severity) updates it; the same problem again says nothing; a pass
after a problem resolves it with a recovery event.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from watchdog.models import AlertState, CheckResult, Status

Action = Literal["open", "update", "suppress", "resolve", "none"]


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do now, and the alert state to remember (None: nothing to remember)."""

    action: Action
    state: AlertState | None

    @property
    def notify(self) -> bool:
        return self.action in ("open", "update", "resolve")


def dedup_key(result: CheckResult) -> str:
    return f"{result.monitor_id}:{result.subject or '-'}"


def fingerprint(result: CheckResult) -> str:
    """What the problem looks like: its status and reason codes, not its changing values."""
    text = result.status.value + "|" + ",".join(sorted(result.reasons))
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def decide(result: CheckResult, previous: AlertState | None, now: datetime) -> Decision:
    """Open, update, suppress or resolve the alert of ``result``'s dedup key."""
    is_open = previous is not None and previous.status == "open"
    if result.status is Status.SKIPPED:
        return Decision("none", previous)
    if not result.status.is_problem:
        if is_open and previous is not None:
            return Decision("resolve", replace(previous, status="resolved", updated_at=now))
        return Decision("none", previous)
    fp = fingerprint(result)
    if not is_open or previous is None:
        state = AlertState(
            dedup_key=dedup_key(result), monitor_id=result.monitor_id, status="open",
            severity=result.status, fingerprint=fp, opened_at=now, updated_at=now,
        )
        return Decision("open", state)
    seen = replace(previous, occurrences=previous.occurrences + 1)
    if fp != previous.fingerprint:
        return Decision("update", replace(seen, fingerprint=fp, severity=result.status,
                                          updated_at=now))
    return Decision("suppress", seen)
