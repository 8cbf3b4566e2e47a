"""Principals' privileges on Snowflake, from ``SNOWFLAKE.ACCOUNT_USAGE`` in one query.

``GRANTS_TO_ROLES`` (privileges on tables, views, schemas and databases, and roles granted
to roles) and ``GRANTS_TO_USERS`` (roles granted to users), current rows only
(``DELETED_ON IS NULL``), as one UNION ALL (a sqlglot tree rendered in the Snowflake
dialect). The role hierarchy is walked here, in Python: a principal (a role or a user)
holds what any role it reaches holds, PUBLIC included. A table privilege counts when held
on the table (or OWNERSHIP of it) and USAGE (or OWNERSHIP) is held on its schema and its
database, as Snowflake requires. Names compare case-insensitively (unquoted identifiers
are stored upper case). Both views lag: "latency up to 120 minutes" per Snowflake's docs
(https://docs.snowflake.com/en/sql-reference/account-usage/grants_to_roles,
https://docs.snowflake.com/en/sql-reference/account-usage/grants_to_users), so a REVOKE is
seen up to two hours late, and a regrant too.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from watchdog.lazy import lazy
from watchdog.models import AccessGrant, AuditEvent, TableRef
from watchdog.warehouses.base import as_utc
from watchdog.warehouses.tree_sql import Tree, bind

if TYPE_CHECKING:
    from sqlglot import exp

    from watchdog.warehouses.sqlbase import SqlWarehouse
else:
    exp = lazy("sqlglot.expressions")

#: Object kinds whose grants matter (a view's privileges are granted ON VIEW).
_OBJECTS = ("TABLE", "VIEW", "SCHEMA", "DATABASE")
_COLUMNS = ("kind", "grantee", "privilege", "granted_on", "catalog", "schema_name", "name")


def _view(name: str) -> exp.Table:
    return exp.Table(this=exp.to_identifier(name), db=exp.to_identifier("ACCOUNT_USAGE"),
                     catalog=exp.to_identifier("SNOWFLAKE"))


def _select(kind: str, fields: Sequence[exp.Expression], view: str,
            where: exp.Condition) -> exp.Select:
    names = [exp.alias_(f, c) for f, c in zip([exp.Literal.string(kind), *fields], _COLUMNS,
                                              strict=True)]
    return exp.select(*names).from_(_view(view)).where(where)


def build_principal_grants(wh: SqlWarehouse, databases: Sequence[str]) -> Tree:
    """Rows ``kind, grantee, privilege, granted_on, catalog, schema_name, name``: ``object``
    rows (privileges on objects of ``databases``), ``role`` rows (role ``name`` granted to
    role ``grantee``) and ``user`` rows (role ``name`` granted to user ``grantee``)."""
    params: dict[str, Any] = {}
    current = exp.Is(this=exp.column("DELETED_ON"), expression=exp.Null())
    upper = [bind(params, f"database_{i}", d.upper()) for i, d in enumerate(databases)]
    in_scope = exp.In(this=exp.Upper(this=exp.func(
        "COALESCE", exp.column("TABLE_CATALOG"), exp.column("NAME"))), expressions=upper) \
        if upper else exp.false()
    objects = _select("object", [exp.column(c) for c in (
        "GRANTEE_NAME", "PRIVILEGE", "GRANTED_ON", "TABLE_CATALOG", "TABLE_SCHEMA", "NAME")],
        "GRANTS_TO_ROLES", exp.and_(current, exp.In(
            this=exp.column("GRANTED_ON"),
            expressions=[exp.Literal.string(o) for o in _OBJECTS]), in_scope))
    roles = _select("role", [exp.column("GRANTEE_NAME"), exp.column("PRIVILEGE"),
                             exp.column("GRANTED_ON"), exp.Null(), exp.Null(),
                             exp.column("NAME")],
                    "GRANTS_TO_ROLES", exp.and_(current.copy(), exp.EQ(
                        this=exp.column("GRANTED_ON"), expression=exp.Literal.string("ROLE"))))
    users = _select("user", [exp.column("GRANTEE_NAME"), exp.Literal.string("USAGE"),
                             exp.Literal.string("ROLE"), exp.Null(), exp.Null(),
                             exp.column("ROLE")],
                    "GRANTS_TO_USERS", current.copy())
    tree = exp.union(exp.union(objects, roles, distinct=False), users, distinct=False)
    return tree, params


def build_revoke_events(wh: SqlWarehouse, since: datetime, limit: int) -> Tree:
    """The newest ``limit`` successful REVOKE statements since ``since`` from
    ``ACCOUNT_USAGE.QUERY_HISTORY`` (query type ``REVOKE``:
    https://docs.snowflake.com/en/sql-reference/account-usage/query_history), newest first:
    ``seq, start_time, user_name, query_type, query_text``."""
    params: dict[str, Any] = {}
    start = exp.column("START_TIME")  # quoted, so spelt as the view spells its columns
    seq = exp.func("DATE_PART", exp.var("EPOCH_MICROSECOND"), start.copy())
    tree = exp.select(
        exp.alias_(seq, "seq"), start.copy(), exp.column("USER_NAME"),
        exp.column("QUERY_TYPE"), exp.column("QUERY_TEXT"),
    ).from_(_view("QUERY_HISTORY")).where(exp.and_(
        exp.GTE(this=start.copy(), expression=bind(params, "since", since.isoformat(sep=" "))),
        exp.EQ(this=exp.column("EXECUTION_STATUS"), expression=exp.Literal.string("SUCCESS")),
        exp.EQ(this=exp.column("QUERY_TYPE"), expression=exp.Literal.string("REVOKE")),
    )).order_by(exp.Ordered(this=start.copy(), desc=True)).limit(
        bind(params, "limit", limit))
    return tree, params


def revoke_events(wh: SqlWarehouse, since: datetime, limit: int) -> list[AuditEvent]:
    """See :func:`build_revoke_events`; oldest first, as audit events."""
    rows = wh._rows(wh.render("revoke_events", since=since, limit=limit))
    return [AuditEvent(seq=int(seq), at=as_utc(at), user=str(user or ""), command="REVOKE",
                       statement=str(text or "")) for seq, at, user, _, text in reversed(rows)]


def access(wh: SqlWarehouse, principals: Sequence[str], tables: Sequence[TableRef],
           privileges: Sequence[str]) -> list[AccessGrant]:
    """See :meth:`Warehouse.access`. A table exists here when a grant names it (every
    object has an owner, so an OWNERSHIP row); ``granted`` is None for a principal that
    no grant names."""
    default = wh.settings.database  # type: ignore[attr-defined]
    refs = {t: ((t.database or default).upper(), t.schema.upper(), t.name.upper())
            for t in tables}
    if not (principals and refs and privileges):
        return []
    stmt = wh.render("principal_grants", databases=sorted({p[0] for p in refs.values()}))
    edges: dict[str, set[str]] = {}
    held: set[tuple[str, str, tuple[str, ...]]] = set()
    known: set[str] = {"PUBLIC"}
    for kind, grantee, privilege, on, catalog, schema, name in wh._rows(stmt):
        grantee, name = str(grantee).upper(), str(name).upper()
        known.add(grantee)
        if kind in ("role", "user"):
            known.add(name)
            edges.setdefault(grantee, set()).add(name)
            continue
        held.add((grantee, str(privilege).upper(), _key(str(on).upper(), catalog, schema, name)))
    out = []
    for principal in dict.fromkeys(principals):
        roles = _reach(principal.upper(), edges)
        for ref, (database, schema, name) in refs.items():
            keys = (("TABLE", database, schema, name), ("VIEW", database, schema, name))
            if not any(key in keys for _, _, key in held):
                continue  # no grant names the table: not there as far as the views say
            usage = _has(held, roles, ("DATABASE", database), "USAGE") and _has(
                held, roles, ("SCHEMA", database, schema), "USAGE")
            for privilege in dict.fromkeys(privileges):
                granted = any(_has(held, roles, k, privilege.upper()) for k in keys)
                out.append(AccessGrant(
                    principal=principal, table=ref, privilege=privilege,
                    granted=None if principal.upper() not in known else usage and granted,
                    schema_usage=usage))
    return out


def _key(on: str, catalog: Any, schema: Any, name: str) -> tuple[str, ...]:
    """An object as ``(kind, *names)``: a database by its name, a schema by its database
    and name, a table or view by all three (the views fill TABLE_CATALOG/TABLE_SCHEMA
    only where they apply)."""
    if on == "DATABASE":
        return (on, name)
    if on == "SCHEMA":
        return (on, str(catalog or "").upper(), name)
    return (on, str(catalog or "").upper(), str(schema or "").upper(), name)


def inherited_roles(wh: SqlWarehouse, principal: str, roles: Sequence[str]) -> set[str]:
    """See :meth:`Warehouse.inherited_roles` (upper-case names): the role and user rows of
    ``principal_grants`` (no database: no object rows), walked from ``principal``."""
    edges: dict[str, set[str]] = {}
    for kind, grantee, _, _, _, _, name in wh._rows(wh.render("principal_grants",
                                                              databases=[])):
        if kind in ("role", "user"):
            edges.setdefault(str(grantee).upper(), set()).add(str(name).upper())
    return _reach(principal.upper(), edges) & {r.upper() for r in roles}


def _reach(start: str, edges: dict[str, set[str]]) -> set[str]:
    """``start`` and every role it holds, directly or through other roles, and PUBLIC."""
    seen, todo = {start, "PUBLIC"}, [start, "PUBLIC"]
    while todo:
        for role in edges.get(todo.pop(), ()):
            if role not in seen:
                seen.add(role)
                todo.append(role)
    return seen


def _has(held: set[tuple[str, str, tuple[str, ...]]], roles: set[str], key: tuple[str, ...],
         privilege: str) -> bool:
    """Whether one of ``roles`` holds ``privilege`` (or OWNERSHIP) on the object ``key``."""
    return any((role, p, key) in held for role in roles for p in (privilege, "OWNERSHIP"))
