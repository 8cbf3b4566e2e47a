"""``kind: access``: the principals (roles, users) that must keep privileges on tables.

Two ways to say who needs what:

- the monitor lists ``principals`` and ``tables`` itself: each principal x table is a group
  (``principal``, ``table``), alerting the monitor's owner;
- the monitor lists neither: it checks every model's ``ownership.models.<m>.principals`` on
  the tables that model ``reads`` in the monitor's warehouse. Each model x principal x
  table is a group (``model``, ``principal``, ``table``), so a lost privilege is that
  model's alert, routed to that model's owners only (``alerting.routing.group_models``:
  the group's ``model`` value names it), and the message names the model and its team.

One poll asks the warehouse, in one query, whether each principal holds each privilege on
each table (role membership included, ``SUPPORTS_ACCESS_CHECK``). A lost privilege FAILs
its group; a regained one resolves it. Where the warehouse keeps a DDL audit log
(``SUPPORTS_AUDIT_LOG``), a loss is put down to the newest matching REVOKE in it
(``revokes.py``), read only on a poll that found a loss. The check keeps no state of its
own: the open alert is the alerting policy's, committed with the run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from pydantic import Field, model_validator

from watchdog.checks.access import revokes
from watchdog.checks.base import Check, CheckContext, Outcome
from watchdog.config.models import Config, MonitorConfig, Principal
from watchdog.errors import UnsupportedFeature
from watchdog.models import (
    ACCESS_LOSSES,
    WRITE_PRIVILEGES,
    AccessGrant,
    AccessLoss,
    AuditEvent,
    CheckResult,
    Group,
    Status,
    writer_runs_key,
)
from watchdog.warehouses.base import Warehouse

__all__ = ["AccessCheck", "AccessParams", "Principal"]


class AccessParams(MonitorConfig):
    """``kind: access``: who must keep which privileges on which tables."""

    kind: str = "access"
    #: Its losses of write privileges are named in the table's other monitors' events.
    RUNS_FIRST: ClassVar[bool] = True
    REQUIRES: ClassVar[Mapping[str, str]] = {
        "SUPPORTS_ACCESS_CHECK": "read principals' privileges (kind: access)"}
    principals: tuple[Principal, ...] = Field((), description=(
        "Roles or users that must keep privileges, e.g. [{name: churn_svc, needs: [select]}]. "
        "Leave out (with `tables`) to check every model's ownership.models.<m>.principals "
        "on the tables it reads in this warehouse."))
    tables: tuple[str, ...] = Field((), description="Tables they need, schema.table.")

    @model_validator(mode="after")
    def _both_or_neither(self) -> AccessParams:
        if bool(self.principals) != bool(self.tables):
            given, missing = ("principals", "tables") if self.principals else (
                "tables", "principals")
            raise ValueError(
                f"{given} without {missing}: list both, or neither to check the principals "
                "under ownership.models.<m>.principals on the tables each model reads")
        return self

    def watched_tables(self) -> tuple[str, ...]:
        """None: each principal x table is reported in its own group."""
        return ()


@dataclass(frozen=True, slots=True)
class Need:
    """One principal's needs on one table, for one model (None: the monitor's own)."""

    model: str | None
    principal: str
    needs: tuple[str, ...]
    table: str


def needs_of(monitor: AccessParams, config: Config) -> list[Need]:
    """What the monitor checks: its own principals x tables, else every model's principals
    on the tables it reads in the monitor's warehouse."""
    if monitor.principals:
        return [Need(model=None, principal=p.name, needs=p.needs, table=t)
                for p in monitor.principals for t in monitor.tables]
    out = []
    for name, model in config.ownership.models.items():
        tables = [r.table for r in model.reads if r.warehouse in (None, monitor.warehouse)]
        out += [Need(model=name, principal=p.name, needs=p.needs, table=t)
                for p in model.principals for t in dict.fromkeys(tables)]
    return out


class AccessCheck(Check[AccessParams]):
    """FAIL per principal x table that lost a needed privilege; OK again once regained."""

    KIND = "access"
    Params = AccessParams

    def run(self, ctx: CheckContext) -> CheckResult:
        wh = ctx.warehouse
        if not wh.SUPPORTS_ACCESS_CHECK:
            raise UnsupportedFeature(wh.name, "kind: access (reading principals' privileges)")
        wanted = needs_of(self.monitor, ctx.config)
        out = self.outcome(None)
        if not wanted:
            return out.result("no principals to check: list them on the monitor or under "
                              "ownership.models.<m>.principals")
        tables = {t: wh.table(t) for t in dict.fromkeys(n.table for n in wanted)}
        privileges = sorted({p for n in wanted for p in n.needs})
        grants = wh.access(list(dict.fromkeys(n.principal for n in wanted)),
                           list(tables.values()), privileges)
        index = {(g.principal, str(g.table), g.privilege): g for g in grants}
        seen = {str(g.table) for g in grants}
        for name, ref in tables.items():
            if str(ref) not in seen:
                out.add(Status.WARN, "TABLE_NOT_FOUND", f"{name}: table not found")
        unknown = dict.fromkeys(g.principal for g in grants if g.granted is None)
        for principal in unknown:  # one finding per principal, not per table x privilege
            out.add(Status.WARN, "PRINCIPAL_NOT_FOUND", f"{principal}: no such role or user")
        losses = []
        for need in wanted:
            ref = tables[need.table]
            held = [index.get((need.principal, str(ref), p)) for p in need.needs]
            if str(ref) not in seen or need.principal in unknown or None in held:
                continue
            lost = [g for g in held if g is not None and not g.granted]
            losses.append((need, lost))
        self._report(ctx, out, losses, [str(ref) for ref in tables.values()])
        return out.result(f"{sum(not lost for _, lost in losses)} of {len(losses)} "
                          "principal x table pair(s) keep their access")

    def _report(self, ctx: CheckContext, out: Outcome,
                losses: list[tuple[Need, list[AccessGrant]]], tables: list[str]) -> None:
        events = _audit(ctx.warehouse) if any(lost for _, lost in losses) else None
        writes: dict[str, list[AccessLoss]] = {t: [] for t in tables}
        for need, lost in losses:
            table = str(lost[0].table) if lost else str(ctx.warehouse.table(need.table))
            group: Group = (("principal", need.principal), ("table", table))
            if need.model is not None:
                group = (("model", need.model), *group)
            out.metric("missing", len(lost), f"principal:{need.principal}", f"table:{table}",
                       *((f"model:{need.model}",) if need.model else ()))
            if not lost:
                out.add_for(group, Status.OK, "ACCESS_HELD",
                            f"{need.principal} keeps its access to {table}")
                continue
            what = [g.privilege.upper() if g.schema_usage else
                    f"{g.privilege.upper()} (no USAGE on schema {g.table.schema})" for g in lost]
            text = f"{need.principal} lost {', '.join(what)} on {table}"
            if need.model is not None:
                text += f", which model {need.model} reads ({_owners(ctx.config, need.model)})"
            found = _cause(ctx.warehouse, events, need.principal, lost)
            text += "; " + _revoked(events, found)
            by = {"revoked_by": found.event.user} if isinstance(found, revokes.Cause) else {}
            out.add_for(group, Status.FAIL, "ACCESS_LOST", text, **by)
            written = [g.privilege.upper() for g in lost if g.privilege in WRITE_PRIVILEGES]
            if written:
                writes[str(ctx.warehouse.table(need.table))].append(AccessLoss(
                    principal=need.principal, table=table, privileges=tuple(written),
                    by=found.event.user if found else None, at=found.event.at if found else None,
                    probable=found.probable if found else False))
        self._keep_losses(ctx, writes)

    def _keep_losses(self, ctx: CheckContext, writes: dict[str, list[AccessLoss]]) -> None:
        """Per table, the write privileges its principals lost (under this monitor's id, in
        the table's document): other monitors' events on the table name them."""
        if ctx.history is None:
            return
        for table, found in writes.items():
            key = writer_runs_key(self.monitor.warehouse, table)
            stored = ctx.history.get_artifact(ACCESS_LOSSES, key)
            payload = dict(stored[2]) if stored else {}
            entry = [loss.to_json() for loss in dict.fromkeys(found)]
            if payload.get(self.monitor.id, []) != entry:
                ctx.history.put_artifact(ACCESS_LOSSES, key, {**payload, self.monitor.id: entry})


def _owners(config: Config, model: str) -> str:
    team = config.ownership.models[model].team
    handles = config.ownership.teams[team].datadog if team in config.ownership.teams else ()
    return f"owners: {team}" + (f" {' '.join(handles)}" if handles else "")


def _audit(wh: Warehouse) -> list[AuditEvent] | str:
    """The newest audit events, or why there are none to read."""
    if not wh.SUPPORTS_AUDIT_LOG:
        return f"{wh.NAME} keeps no DDL audit log"  # the type's name: no log on any of them
    try:
        return wh.recent_audit_events()
    except UnsupportedFeature as exc:
        return f"{wh.name} {exc.detail}"


def _inherited(wh: Warehouse, principal: str, roles: set[str]) -> set[str]:
    """The roles of ``roles`` ``principal`` inherits from; none where that is not known."""
    try:
        return wh.inherited_roles(principal, sorted(roles))
    except UnsupportedFeature:
        return set()


def _cause(wh: Warehouse, events: list[AuditEvent] | str | None, principal: str,
           lost: list[AccessGrant]) -> revokes.Cause | None:
    """The logged statement that took ``lost`` from ``principal``, if the log has it."""
    if not isinstance(events, list):
        return None
    return revokes.cause(events, wh.DIALECT, principal, lost[0].table,
                         [g.privilege for g in lost], any(not g.schema_usage for g in lost),
                         lambda roles: _inherited(wh, principal, roles),
                         fold_case=wh.PRINCIPALS_CASE_INSENSITIVE, roles=wh.ROLE_PRIVILEGES,
                         names=wh.revoked_from)


def _revoked(events: list[AuditEvent] | str | None, found: revokes.Cause | None) -> str:
    """``revoked by <user> at <time>: <statement>``, or why that is not known. A revoker
    learnt on a later poll (the log lags) is a new subject of the open alert: the policy
    sends one update naming it, then nothing more."""
    if not isinstance(events, list):
        return f"who revoked it is unknown ({events})"
    if found is None:
        return ("who revoked it is unknown: no matching REVOKE or DROP in the audit log (a role "
                "membership change, ALTER/DROP ROLE, or a change the log has not (yet) got)")
    return f"revoked {found.line()}"

