"""@-mentions in event and monitor text: who Datadog notifies.

Datadog notifies every ``@handle`` written at the start of a word in an event's or a
monitor's text (``@slack-chan``, ``@pagerduty-svc``, ``@user@example.com``). Text that
should name owners without paging them writes the handle without its leading ``@``.
"""

from __future__ import annotations

import re

# An @ that starts a word: not one inside an address (bob@example.com) or a word.
_MENTION = re.compile(r"(?<![\w@.+-])@(?=[\w.+-])")


def unmention(text: str) -> str:
    """``text`` with every @-mention turned into the bare handle (nobody is notified)."""
    return _MENTION.sub("", text)


def has_mention(text: str) -> bool:
    return _MENTION.search(text) is not None
