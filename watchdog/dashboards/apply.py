"""Make Datadog hold exactly the dashboards and monitors of config.yaml, idempotently.

Each object is found by its identity (:mod:`.identity`), never by name: an object of ours
that is already as the config says is left alone (no write), one that differs is updated
in place (PUT to the same id, never a second copy), a missing one is created, and one whose
config entry is gone is listed as an orphan (deleted only with ``prune``). Objects of other
environments (another ``env`` in the key) are never touched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from watchdog.dashboards import Bundle, identity
from watchdog.dashboards.api import Remote

Action = Literal["create", "update", "unchanged", "orphan"]
Body = dict[str, Any]


class Api(Protocol):
    """What :func:`apply` needs from :class:`watchdog.dashboards.api.DatadogApi`."""

    def monitors(self) -> dict[str, list[Remote]]: ...
    def dashboards(self) -> dict[str, list[Remote]]: ...
    def create_monitor(self, body: Body, what: str) -> str: ...
    def update_monitor(self, monitor_id: str, body: Body, what: str) -> None: ...
    def delete_monitor(self, monitor_id: str) -> None: ...
    def create_dashboard(self, body: Body, what: str) -> str: ...
    def update_dashboard(self, dashboard_id: str, body: Body, what: str) -> None: ...
    def delete_dashboard(self, dashboard_id: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Change:
    kind: Literal["monitor", "dashboard"]
    action: Action
    key: str
    name: str
    remote_id: str | None = None
    body: Body | None = None  # what would be sent (create, update)
    remote: Body | None = None  # what Datadog holds (update, orphan)

    def line(self) -> str:
        where = f" (id {self.remote_id})" if self.remote_id else ""
        text = f"{self.kind:<9} {self.action:<9} {self.key}{where}: {self.name}"
        if self.action == "orphan":
            text += " [no longer in the config]"
        return text


def plan(bundle: Bundle, env: str, monitors: dict[str, list[Remote]],
         dashboards: dict[str, list[Remote]]) -> list[Change]:
    """What apply would do, object by object: creates, updates, unchanged, orphans."""
    return (_plan("monitor", bundle.monitors, monitors, env, "name")
            + _plan("dashboard", bundle.dashboards, dashboards, env, "title"))


def _plan(kind: Literal["monitor", "dashboard"], desired: dict[str, Body],
          remote: dict[str, list[Remote]], env: str, title: str) -> list[Change]:
    out = []
    for object_key, body in desired.items():
        found = remote.get(object_key, [])
        if not found:
            out.append(Change(kind, "create", object_key, body[title], body=body))
            continue
        first = found[0]
        action: Action = "unchanged" if identity.same(body, first.body) else "update"
        out.append(Change(kind, action, object_key, body[title], first.id, body, first.body))
    mine = [(k, r) for k, rs in remote.items() if k.startswith(f"{env}/")
            for n, r in enumerate(rs) if k not in desired or n > 0]
    out += [Change(kind, "orphan", k, str(r.body.get(title, "")), r.id, remote=r.body)
            for k, r in mine]
    return out


def apply(api: Api, bundle: Bundle, env: str, *, dry_run: bool, prune: bool,
          say: Callable[[str], None]) -> dict[str, int]:
    """Plan, print each change (with its diff on a dry run), then send the writes.

    Returns counts per outcome: created, updated, unchanged, deleted, orphaned."""
    changes = plan(bundle, env, api.monitors(), api.dashboards())
    counts = dict.fromkeys(("created", "updated", "unchanged", "deleted", "orphaned"), 0)
    for change in changes:
        if change.action == "unchanged":
            counts["unchanged"] += 1
            continue
        say(change.line())
        if dry_run and change.action in ("create", "update"):
            say(_indent(identity.diff(change.body, change.remote, change.key)))
        outcome = _outcome(change, prune)
        counts[outcome] += 1
        if not dry_run:
            _send(api, change, prune)
    return counts


def _outcome(change: Change, prune: bool) -> str:
    if change.action == "orphan":
        return "deleted" if prune else "orphaned"
    return {"create": "created", "update": "updated"}[change.action]


def _send(api: Api, change: Change, prune: bool) -> None:
    what = f"{change.kind} {change.key}"
    monitor = change.kind == "monitor"
    if change.action == "create" and change.body is not None:
        (api.create_monitor if monitor else api.create_dashboard)(change.body, what)
    elif change.action == "update" and change.body is not None and change.remote_id:
        (api.update_monitor if monitor else api.update_dashboard)(
            change.remote_id, change.body, what)
    elif change.action == "orphan" and prune and change.remote_id:
        (api.delete_monitor if monitor else api.delete_dashboard)(change.remote_id)


def summary(counts: dict[str, int], dry_run: bool, prune: bool) -> str:
    verb = "would be " if dry_run else ""
    parts = [f"{counts['created']} {verb}created", f"{counts['updated']} {verb}updated",
             f"{counts['unchanged']} unchanged"]
    if prune:
        parts.append(f"{counts['deleted']} {verb}deleted")
    elif counts["orphaned"]:
        parts.append(f"{counts['orphaned']} orphaned, kept (--prune deletes them)")
    tail = " (dry run: nothing was sent)" if dry_run else ""
    return ", ".join(parts) + tail


def _indent(text: str) -> str:
    return "\n".join(f"    {line}" for line in text.splitlines())
