"""The alert policy: pure, no I/O. Given a result and what we remembered, what do we say?

One alert per dedup key (monitor + subject, and group for grouped monitors). A problem
opens it; another severity, or a new failing subject (a new reason, one more feature,
check or column) updates it; the same problem again says nothing, and so does a failing
subject that goes away. ``recover_after`` clean results in a row
resolve it with a recovery event, so one blip inside an incident does not flap it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from watchdog.models import AlertState, CheckResult, Group, Status

Action = Literal["open", "update", "suppress", "resolve", "none"]


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do now, and the alert state to remember (None: nothing to remember)."""

    action: Action
    state: AlertState | None

    @property
    def notify(self) -> bool:
        return self.action in ("open", "update", "resolve")


def dedup_key(result: CheckResult, group: Group = ()) -> str:
    """``monitor:subject``, and ``:column=value,…`` for one group of a grouped monitor."""
    return alert_key(result.monitor_id, result.subject, group)


def alert_key(monitor_id: str, subject: str | None, group: Group = ()) -> str:
    """The dedup key of a monitor's alert on ``subject`` (and ``group``)."""
    key = f"{monitor_id}:{subject or '-'}"
    return f"{key}:{group_label(group)}" if group else key


def group_label(group: Group) -> str:
    """``model=churn`` (``model=churn,region=eu``)."""
    return ",".join(f"{k}={v}" for k, v in group)


def fingerprint(result: CheckResult) -> str:
    """What the problem looks like: its status and reason codes, not its changing values."""
    text = result.status.value + "|" + ",".join(sorted(result.reasons))
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def subjects(result: CheckResult) -> tuple[str, ...]:
    """What is failing: each reason code, and ``reason:about`` of every problem finding
    (``about``: the feature, column or check it names)."""
    named = {f"{f.reason}:{f.about}" for f in result.problems() if f.about}
    return tuple(sorted({*result.reasons, *named}))


def decide(result: CheckResult, previous: AlertState | None, now: datetime,
           recover_after: int = 1, key: str | None = None) -> Decision:
    """Open, update, suppress or resolve the alert ``key`` (default: the result's)."""
    is_open = previous is not None and previous.status == "open"
    if result.status is Status.SKIPPED:
        return Decision("none", previous)
    if not result.status.is_problem:
        if not is_open or previous is None:
            return Decision("none", previous)
        clean = previous.clean + 1
        if clean >= recover_after:
            return Decision("resolve", replace(previous, status="resolved", updated_at=now,
                                               clean=clean))
        return Decision("none", replace(previous, clean=clean))  # recovering, not yet
    fp, now_failing = fingerprint(result), subjects(result)
    if not is_open or previous is None:
        state = AlertState(
            dedup_key=key or dedup_key(result), monitor_id=result.monitor_id, status="open",
            severity=result.status, fingerprint=fp, opened_at=now, updated_at=now,
            subjects=now_failing,
        )
        return Decision("open", state)
    seen = replace(previous, occurrences=previous.occurrences + 1, clean=0, fingerprint=fp)
    grown = set(now_failing) - set(previous.subjects)
    if result.status is not previous.severity or grown:
        announced = tuple(sorted({*previous.subjects, *now_failing}))
        return Decision("update", replace(seen, severity=result.status, updated_at=now,
                                          subjects=announced))
    return Decision("suppress", seen)
