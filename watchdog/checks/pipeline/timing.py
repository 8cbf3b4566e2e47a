"""When a job usually finishes: the history of its finish times, and how late it is. Pure."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

#: Finish times kept per job (the learned gap is the median of the gaps between them).
KEEP = 50


def merged(stored: Mapping[str, str], seen: Mapping[str, datetime]) -> dict[str, datetime]:
    """Each run's finish time: stored ones (ISO text) updated with those seen now (a run
    cleared and run again finishes anew), the newest KEEP, oldest first."""
    times = {run: datetime.fromisoformat(t) for run, t in stored.items()} | dict(seen)
    return dict(sorted(times.items(), key=lambda kv: kv[1])[-KEEP:])


def usual_gap(finishes: Sequence[datetime], min_history: int) -> timedelta | None:
    """The median time between consecutive finishes; None with fewer than ``min_history``
    gaps to learn from."""
    gaps = [(b - a).total_seconds() for a, b in zip(finishes, finishes[1:], strict=False)]
    gaps = [g for g in gaps if g > 0]
    if len(gaps) < min_history:
        return None
    return timedelta(seconds=statistics.median(gaps))


def lateness(last_finish: datetime, gap: timedelta, now: datetime) -> timedelta:
    """How long past its usual finish the next run is (negative: not due yet)."""
    return now - (last_finish + gap)
