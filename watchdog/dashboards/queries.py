"""Query strings in Datadog's metric, service-check and event languages, built in one place.

Dashboards filter on the template variable ``$env`` (so one dashboard shows any env);
monitors filter on the literal ``env:<env>`` of the config they were exported from.
Tag values are lowercased, as Datadog lowercases tags at intake
(https://docs.datadoghq.com/getting_started/tagging/#define-tags).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import timedelta

#: The dashboards' template variable for ``env``.
ENV_VAR = "$env"


def tag(key: str, value: str) -> str:
    return f"{key}:{value.lower()}"


def scope(tags: Iterable[str], any_of: tuple[str, Sequence[str]] | None = None) -> str:
    """``{a:b,c:d}``; with ``any_of=(key, values)`` the boolean form
    ``{a:b AND c:d AND key IN (v1, v2)}`` (Datadog does not mix ``,`` with AND/IN:
    https://docs.datadoghq.com/metrics/advanced-filtering/)."""
    parts = list(tags)
    if any_of is None or not any_of[1]:
        return "{" + (",".join(parts) or "*") + "}"
    key, values = any_of
    parts.append(f"{key} IN ({', '.join(v.lower() for v in values)})")
    return "{" + " AND ".join(parts) + "}"


def metric(name: str, tags: Iterable[str], agg: str = "avg", by: Sequence[str] = (),
           any_of: tuple[str, Sequence[str]] | None = None) -> str:
    """``avg:watchdog.x{monitor:m,$env} by {feature}``."""
    text = f"{agg}:{name}{scope(tags, any_of)}"
    return f"{text} by {{{','.join(by)}}}" if by else text


def check(name: str, tags: Sequence[str], by: Sequence[str], last: int = 2) -> str:
    """A service-check monitor query: ``"name".over("a:b").by("k").last(n).count_by_status()``."""
    over = ",".join(f'"{t}"' for t in tags) or '"*"'
    group = ",".join(f'"{b}"' for b in by)
    return f'"{name}".over({over}).by({group}).last({last}).count_by_status()'


def events(search: str, window: timedelta, by: Sequence[str] = ()) -> str:
    """An event-v2 monitor query counting events that match ``search`` (log search syntax)."""
    escaped = search.replace('"', '\\"')
    group = f'.by("{",".join(by)}")' if by else ""
    return f'events("{escaped}").rollup("count"){group}.last("{_short(window, 2880)}")'


def event_search(tags: Iterable[str], text: str = "", any_of: Sequence[str] = ()) -> str:
    """Event search: ``"[BREAKING]" monitor:x env:y (table:a OR table:b)``."""
    parts = [f'"{text}"'] if text else []
    parts += list(tags)
    if any_of:
        parts.append("(" + " OR ".join(any_of) + ")")
    return " ".join(parts)


def monitor_window(span: timedelta) -> str:
    """A metric monitor's evaluation window: ``last_#m`` (≤ 10080), ``last_#h`` (≤ 168)."""
    minutes = max(1, math.ceil(span.total_seconds() / 60))
    if minutes % 60 or minutes < 120:
        return f"last_{min(minutes, 10080)}m"
    return f"last_{min(minutes // 60, 168)}h"


def _short(span: timedelta, max_minutes: int) -> str:
    minutes = min(max(1, math.ceil(span.total_seconds() / 60)), max_minutes)
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"


def number(value: float) -> str:
    """A threshold as Datadog shows it: ``0.2``, ``30``, never ``0.30000000000000004``."""
    return f"{round(value, 6):g}"
