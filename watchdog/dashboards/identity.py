"""Which Datadog objects are ours, which config object each was made from, and whether it
changed.

Monitors carry two tags: ``managed-by:ml-watchdog`` and ``watchdog-object:<key>``; the
Monitors API lists by tag (``monitor_tags``). Dashboards have no free tags (their ``tags``
field takes at most five ``team:<name>`` tags of Datadog Teams), so a dashboard carries
the same two markers in the last line of its description, which the dashboard list returns.
A key is ``<env>/<what>[/<monitor id>[/<signal>]]``, lowercased like Datadog's tags.
"""

from __future__ import annotations

import difflib
import json
import re
from typing import Any

from watchdog.errors import WatchdogError

MANAGED = "managed-by:ml-watchdog"
_OBJECT = "watchdog-object"
_KEY = re.compile(rf"{_OBJECT}:([a-z0-9_.:/\-]+)")
FOOTER = ("Managed by ml-watchdog from config.yaml (`watchdog datadog apply`): change the "
          "config, not this object, since edits made here are overwritten.")
_MISSING = "<missing>"


def key(env: str, *parts: str) -> str:
    """A stable identity: ``demo/status/features_drift``."""
    return re.sub(r"[^a-z0-9_.:/\-]", "_", "/".join((env, *parts)).lower())


def object_tag(object_key: str) -> str:
    return f"{_OBJECT}:{object_key}"


def describe(text: str, object_key: str) -> str:
    """A dashboard description ending in its identity markers."""
    return f"{text}\n\n{FOOTER}\n`{MANAGED}` `{object_tag(object_key)}`"


def of_monitor(tags: list[str]) -> str | None:
    """The key of a monitor we manage, from its tags; None for anyone else's."""
    if MANAGED not in tags:
        return None
    found = [t.split(":", 1)[1] for t in tags if t.startswith(f"{_OBJECT}:")]
    return found[0] if found else None


def of_dashboard(description: str | None) -> str | None:
    """The key of a dashboard we manage, from its description; None for anyone else's."""
    if not description or MANAGED not in description:
        return None
    found = _KEY.search(description)
    return found.group(1) if found else None


def duplicate(object_key: str) -> WatchdogError:
    return WatchdogError(
        f"two Datadog objects would share the identity {object_key!r}",
        hint="monitor ids must differ in more than letter case (Datadog lowercases tags)")


def projected(desired: Any, remote: Any) -> Any:
    """``remote`` cut to the shape of ``desired``: what Datadog adds (ids, defaults,
    timestamps) is left out, so only the fields watchdog sets are compared."""
    if isinstance(desired, dict):
        if not isinstance(remote, dict):
            return remote
        return {k: projected(v, remote[k]) if k in remote else _MISSING
                for k, v in desired.items()}
    if isinstance(desired, list) and isinstance(remote, list):
        head = [projected(d, r) for d, r in zip(desired, remote, strict=False)]
        return head + remote[len(desired):]
    return remote


def same(desired: Any, remote: Any) -> bool:
    """Whether Datadog already holds ``desired`` (tags compared as sets)."""
    return bool(_canonical(projected(desired, remote)) == _canonical(desired))


def diff(desired: Any, remote: Any, label: str) -> str:
    """A unified diff from what Datadog holds (cut to our fields) to what would be sent."""
    before = _dump(projected(desired, remote) if remote is not None else None)
    after = _dump(desired)
    lines = difflib.unified_diff(before, after, f"datadog: {label}", f"config: {label}",
                                 lineterm="", n=2)
    return "\n".join(lines)


def _canonical(value: Any, name: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _canonical(v, k) for k, v in value.items()}
    if isinstance(value, list):
        items = [_canonical(v) for v in value]
        if name == "tags" and all(isinstance(v, str) for v in items):
            return sorted(items)
        return items
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _dump(value: Any) -> list[str]:
    if value is None:
        return []
    return json.dumps(_canonical(value), indent=2, sort_keys=True,
                      ensure_ascii=False).splitlines()
