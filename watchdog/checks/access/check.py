"""``kind: access``: the principals (roles, users) that must keep privileges on tables.

One poll asks the warehouse, in one query, whether each principal holds each privilege on
each table (role membership included, ``SUPPORTS_ACCESS_CHECK``). Each principal x table is
a group of its own: a lost privilege FAILs that group (its own alert), a regained one
resolves it. Per monitor only for now: ``ownership.models.<m>.principals``, routing to the
models' owners and naming who revoked the grant are not built yet (issue #14).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from watchdog.checks.base import Check, CheckContext
from watchdog.config.models import MonitorConfig
from watchdog.errors import UnsupportedFeature
from watchdog.models import CheckResult, Status

Privilege = Literal["select", "insert", "update", "delete"]


class Principal(BaseModel):
    """A role or user that must keep ``needs`` on the monitor's tables."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1, description="Role or user name, as the warehouse spells it.")
    needs: tuple[Privilege, ...] = Field(("select",), min_length=1, description=(
        "Privileges it must keep: select, insert, update, delete."))


class AccessParams(MonitorConfig):
    """``kind: access``: who must keep which privileges on which tables."""

    kind: str = "access"
    principals: tuple[Principal, ...] = Field(min_length=1, description=(
        "Roles or users that must keep privileges, e.g. [{name: churn_svc, needs: [select]}]."))
    tables: tuple[str, ...] = Field(min_length=1, description="Tables they need, schema.table.")

    def watched_tables(self) -> tuple[str, ...]:
        """None: each principal x table is reported in its own group."""
        return ()


class AccessCheck(Check[AccessParams]):
    """FAIL per principal x table that lost a needed privilege; OK again once regained."""

    KIND = "access"
    Params = AccessParams

    def run(self, ctx: CheckContext) -> CheckResult:
        p, wh = self.monitor, ctx.warehouse
        if not wh.SUPPORTS_ACCESS_CHECK:
            raise UnsupportedFeature(wh.name, "kind: access (reading principals' privileges; "
                                     "Postgres and Redshift only for now)")
        tables = {str(t): t for t in (wh.table(name) for name in p.tables)}
        needs = {q.name: q.needs for q in p.principals}
        privileges = sorted({n for q in p.principals for n in q.needs})
        grants = wh.access(list(needs), list(tables.values()), privileges)
        seen = {str(g.table) for g in grants}
        out = self.outcome(None)
        for name in tables:
            if name not in seen:
                out.add(Status.WARN, "TABLE_NOT_FOUND", f"{name}: table not found")
        missing: dict[tuple[str, str], list[str]] = {}
        unknown: dict[str, None] = {}  # one finding per principal, not per table x privilege
        for g in grants:
            if g.privilege in needs.get(g.principal, ()):
                key = (g.principal, str(g.table))
                missing.setdefault(key, [])
                if g.granted is None:
                    unknown[g.principal] = None
                elif not g.granted:
                    what = g.privilege.upper() if g.schema_usage else (
                        f"{g.privilege.upper()} (no USAGE on schema {g.table.schema})")
                    missing[key].append(what)
        for principal in unknown:
            out.add(Status.WARN, "PRINCIPAL_NOT_FOUND", f"{principal}: no such role or user")
        for (principal, table), lost in sorted(missing.items()):
            group = (("principal", principal), ("table", table))
            out.metric("missing", len(lost), f"principal:{principal}", f"table:{table}")
            if lost:
                out.add_for(group, Status.FAIL, "ACCESS_LOST",
                            f"{principal} lost {', '.join(lost)} on {table}")
            else:
                out.add_for(group, Status.OK, "ACCESS_HELD", f"{principal} keeps its access "
                            f"to {table}")
        held = sum(not lost for lost in missing.values())
        return out.result(f"{held} of {len(missing)} principal x table pair(s) keep their "
                          "access")
