"""Datadog's limits, enforced here and nowhere else: what the Datadog sink sends is cut to
fit just before it leaves (other sinks keep everything whole).

Titles and service-check messages are clipped with "…"; an event's text is wrapped as
markdown and shortened with a marker, to the API's limit or to what is left of a DogStatsD
datagram.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from watchdog.models import Emission

#: Event title limit, in characters.
TITLE_LIMIT = 200
#: Event text limit, in characters (https://docs.datadoghq.com/api/latest/events/#post-an-event).
EVENT_TEXT_LIMIT = 4000
#: aggregation_key limit of the v1 events API, in characters.
AGGREGATION_KEY_LIMIT = 100
#: Service check message limit, in characters.
CHECK_MESSAGE_LIMIT = 500
#: The Agent reads at most this many bytes per DogStatsD datagram (``dogstatsd_buffer_size``);
#: datadogpy refuses events over 8 KB.
DATAGRAM_LIMIT = 8192
#: Ends a shortened event text.
TRUNCATED = "\n[... truncated by watchdog]"
# Event text is markdown; Datadog renders it only between these markers
# (https://docs.datadoghq.com/api/latest/events/#post-an-event, "text").
_MD_OPEN, _MD_CLOSE = "%%% \n", "\n %%%"


def clip(text: str, n: int) -> str:
    """``text`` cut to ``n`` characters, its last one "…" when it was cut."""
    return text if len(text) <= n else text[: n - 1] + "…"


def fit(emission: Emission) -> Emission:
    """``emission`` with every title, aggregation key and service-check message cut to
    Datadog's limits (event text is fitted by each transport: see :func:`event_text`)."""
    events = tuple(dataclasses.replace(
        e, title=clip(e.title, TITLE_LIMIT),
        aggregation_key=e.aggregation_key[:AGGREGATION_KEY_LIMIT]) for e in emission.events)
    checks = tuple(dataclasses.replace(c, message=clip(c.message, CHECK_MESSAGE_LIMIT))
                   for c in emission.service_checks)
    return dataclasses.replace(emission, events=events, service_checks=checks)


def shorten(text: str, limit: int, size: Callable[[str], int] = len) -> str:
    """``text`` cut so that ``size(result) <= limit``, ending with TRUNCATED when it was cut."""
    if size(text) <= limit:
        return text
    room = limit - size(TRUNCATED)
    lo, hi = 0, len(text)
    while lo < hi:  # the longest prefix that fits (size grows with the prefix)
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if size(text[:mid]) <= room else (lo, mid - 1)
    return text[:lo] + TRUNCATED


def event_text(text: str, limit: int = EVENT_TEXT_LIMIT, size: Callable[[str], int] = len) -> str:
    """Markdown ``text`` wrapped for Datadog and shortened to ``limit`` (wrapper included)."""
    room = limit - size(_MD_OPEN) - size(_MD_CLOSE)
    return f"{_MD_OPEN}{shorten(text, room, size)}{_MD_CLOSE}"


