"""Privileges on tables, read from the catalog in one query (Postgres and Redshift).

Two facts: which watched tables watchdog's own login may not read (``own_access``: the
schema's USAGE, then the table's SELECT, for ``current_user``), and which privileges each
configured principal holds on each watched table (``access``: ``has_table_privilege`` with
the principal's name, which counts privileges held through role membership). Both are
sqlglot trees (``SqlWarehouse.TREES``) that the Postgres adapter lists and Redshift
inherits: the functions and catalogs they read exist on both with the same meaning; only
where the principals' names are listed differs (``PRINCIPAL_CATALOG``). The table privilege
is asked only once the schema's USAGE is known to be held (a ``CASE``), so that the name
lookup in ``has_table_privilege`` never trips over a schema the principal may not use.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from watchdog.errors import PermissionDenied
from watchdog.lazy import lazy
from watchdog.models import AccessGrant, TableRef
from watchdog.warehouses.tree_sql import Tree, bind

if TYPE_CHECKING:
    from typing import Any

    from sqlglot import exp

    from watchdog.warehouses.sqlbase import SqlWarehouse
else:
    exp = lazy("sqlglot.expressions")

#: Table privileges an access monitor may require (``has_table_privilege`` spells them so).
PRIVILEGES = ("select", "insert", "update", "delete")
#: ``pg_class.relkind`` of the relations a monitor may name: tables, partitioned tables,
#: views, materialized views, foreign tables.
_RELKINDS = ("r", "p", "v", "m", "f")


def _col(table: str, name: str) -> exp.Column:
    return exp.column(name, table=table)


def _fn(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def _catalog(name: str, alias: str) -> exp.Table:
    return exp.Table(this=exp.to_identifier(name), db=exp.to_identifier("pg_catalog"),
                     alias=exp.TableAlias(this=exp.to_identifier(alias)))


def _relations(tables: Sequence[TableRef], params: dict[str, Any]) -> exp.Condition:
    """``c`` (pg_class) is a table, view or the like, and one of ``tables`` by name."""
    matches: list[exp.Expression] = []
    for i, ref in enumerate(tables):
        matches.append(exp.paren(exp.and_(
            exp.EQ(this=_col("n", "nspname"), expression=bind(params, f"schema_{i}", ref.schema)),
            exp.EQ(this=_col("c", "relname"), expression=bind(params, f"table_{i}", ref.name)))))
    kinds = exp.In(this=_col("c", "relkind"),
                   expressions=[exp.Literal.string(k) for k in _RELKINDS])
    return exp.and_(kinds, exp.paren(exp.or_(*matches)) if matches else exp.false())


def _qualified_name() -> exp.Expression:
    """``quote_ident(schema) || '.' || quote_ident(table)``: the name has_table_privilege
    parses (quoted, so that mixed case and odd characters survive)."""
    return exp.DPipe(this=exp.DPipe(this=_fn("quote_ident", _col("n", "nspname")),
                                    expression=exp.Literal.string(".")),
                     expression=_fn("quote_ident", _col("c", "relname")))


def _with_namespace(tree: exp.Select) -> exp.Select:
    on = exp.EQ(this=_col("n", "oid"), expression=_col("c", "relnamespace"))
    return tree.join(_catalog("pg_namespace", "n"), on=on)


def build_own_access(wh: SqlWarehouse, tables: Sequence[TableRef]) -> Tree:
    """Per existing table: ``table_schema, table_name, schema_usage, can_select, login``
    (``current_user``'s USAGE on the schema, then its SELECT on the table)."""
    params: dict[str, Any] = {}
    usage = _fn("has_schema_privilege", _col("n", "nspname"), exp.Literal.string("USAGE"))
    select = _fn("has_table_privilege", _qualified_name(), exp.Literal.string("SELECT"))
    tree = exp.select(
        exp.alias_(_col("n", "nspname"), "table_schema"),
        exp.alias_(_col("c", "relname"), "table_name"),
        exp.alias_(usage, "schema_usage"),
        exp.alias_(exp.Case(ifs=[exp.If(this=usage.copy(), true=select)]), "can_select"),
        exp.alias_(exp.cast(exp.CurrentUser(), "VARCHAR(128)"), "login"),
    ).from_(_catalog("pg_class", "c"))
    return _with_namespace(tree).where(_relations(tables, params)), params


def _values(params: dict[str, Any], prefix: str, values: Sequence[str], column: str,
            width: int) -> exp.Query:
    """``SELECT CAST(:<prefix>_0 AS VARCHAR(width)) AS column UNION ALL ...`` (no rows when
    ``values`` is empty)."""
    selects: list[exp.Query] = [
        exp.select(exp.alias_(exp.cast(bind(params, f"{prefix}_{i}", v), f"VARCHAR({width})"),
                              column))
        for i, v in enumerate(values)]
    if not selects:
        return exp.select(exp.alias_(exp.Null(), column)).where(exp.false())
    out = selects[0]
    for nxt in selects[1:]:
        out = exp.union(out, nxt, distinct=False)
    return out


def build_access(wh: SqlWarehouse, principals: Sequence[str], tables: Sequence[TableRef],
                 privileges: Sequence[str]) -> Tree:
    """Per principal x existing table x privilege: ``principal, table_schema, table_name,
    privilege, principal_exists, schema_usage, granted``. A principal the catalog does not
    know is answered (``principal_exists`` false) without calling the privilege functions,
    which would fail on it."""
    for privilege in privileges:
        if privilege not in PRIVILEGES:
            raise ValueError(f"unknown privilege {privilege!r}: one of {', '.join(PRIVILEGES)}")
    params: dict[str, Any] = {}
    names = _values(params, "principal", principals, "principal", 128)
    kinds = _values(params, "privilege", [p.upper() for p in privileges], "privilege", 16)
    schema, table, name_column = wh.PRINCIPAL_CATALOG  # type: ignore[attr-defined]
    roles = exp.select(exp.alias_(exp.column(name_column), "name")).from_(
        exp.Table(this=exp.to_identifier(table), db=exp.to_identifier(schema)))
    exists = exp.not_(exp.Is(this=_col("r", "name"), expression=exp.Null()))
    usage = _fn("has_schema_privilege", _col("p", "principal"), _col("n", "nspname"),
                exp.Literal.string("USAGE"))
    granted = _fn("has_table_privilege", _col("p", "principal"), _qualified_name(),
                  _col("v", "privilege"))
    tree = exp.select(
        _col("p", "principal"),
        exp.alias_(_col("n", "nspname"), "table_schema"),
        exp.alias_(_col("c", "relname"), "table_name"),
        _col("v", "privilege"),
        exp.alias_(exists, "principal_exists"),
        exp.alias_(exp.Case(ifs=[exp.If(this=exists.copy(), true=usage)]), "schema_usage"),
        exp.alias_(exp.Case(ifs=[exp.If(this=exp.and_(exists.copy(), usage.copy()),
                                        true=granted)]), "granted"),
    ).from_(names.subquery("p"))
    tree = tree.join(roles.subquery("r"), join_type="left",
                     on=exp.EQ(this=_col("r", "name"), expression=_col("p", "principal")))
    tree = tree.join(kinds.subquery("v"), join_type="cross")
    tree = tree.join(_catalog("pg_class", "c"), join_type="cross")
    tree = _with_namespace(tree).where(_relations(tables, params))
    return tree.order_by(*(exp.Literal.number(i) for i in range(1, 5))), params


def build_inherited_roles(wh: SqlWarehouse, principal: str, roles: Sequence[str]) -> Tree:
    """``name`` of each of ``roles`` whose privileges ``principal`` uses (``pg_has_role``
    with USAGE: membership with INHERIT, direct or through other roles). Only existing roles
    reach ``pg_has_role``, which fails on unknown names."""
    params: dict[str, Any] = {}
    schema, table, name_column = wh.PRINCIPAL_CATALOG  # type: ignore[attr-defined]
    name = exp.column(name_column, table="r")
    names = [bind(params, f"role_{i}", r) for i, r in enumerate(roles)]
    uses = _fn("pg_has_role", exp.cast(bind(params, "principal", principal), "VARCHAR(128)"),
               name.copy(), exp.Literal.string("USAGE"))
    known = exp.In(this=name.copy(), expressions=names) if names else exp.false()
    tree = exp.select(exp.alias_(name, "name")).from_(exp.Table(
        this=exp.to_identifier(table), db=exp.to_identifier(schema),
        alias=exp.TableAlias(this=exp.to_identifier("r"))))
    # CASE keeps pg_has_role from running on a name the IN has not vouched for
    return tree.where(exp.Case(ifs=[exp.If(this=known, true=uses)], default=exp.false())), params


def inherited_roles(wh: SqlWarehouse, principal: str, roles: Sequence[str]) -> set[str]:
    """See :meth:`Warehouse.inherited_roles`."""
    if not roles:
        return set()
    stmt = wh.render("inherited_roles", principal=principal, roles=list(dict.fromkeys(roles)))
    return {str(name) for (name,) in wh._rows(stmt)}


def own_access(wh: SqlWarehouse, tables: Sequence[TableRef]) -> dict[TableRef, PermissionDenied]:
    """The tables in ``tables`` that exist but that watchdog's login may not read, each with
    the error that names the GRANT fixing it (absent tables are not in the answer)."""
    wanted = {(t.schema, t.name): t for t in tables}
    if not wanted:
        return {}
    out: dict[TableRef, PermissionDenied] = {}
    for schema, name, usage, select, login in wh._rows(wh.render("own_access",
                                                                 tables=list(wanted.values()))):
        ref = wanted.get((schema, name))
        if ref is None or (usage and select):
            continue
        out[ref] = denied(wh.name, ref, login, schema_usage=bool(usage))
    return out


def denied(warehouse: str, table: TableRef, login: str, *, schema_usage: bool,
           privilege: str = "SELECT") -> PermissionDenied:
    """The one-line error for a table ``login`` may not read, with the GRANT that fixes it."""
    if not schema_usage:
        return PermissionDenied(
            warehouse, f"{table}: login {login!r} may not use schema {table.schema!r}",
            hint=f"GRANT USAGE ON SCHEMA {table.schema} TO {login}")
    return PermissionDenied(
        warehouse, f"{table}: login {login!r} may not {privilege.lower()} the table",
        hint=f"GRANT {privilege.upper()} ON {table} TO {login}")


def access(wh: SqlWarehouse, principals: Sequence[str], tables: Sequence[TableRef],
           privileges: Sequence[str]) -> list[AccessGrant]:
    """One row per principal x table x privilege that the catalog knows (tables that do
    not exist are absent); ``granted`` is None for a principal that does not exist."""
    wanted = {(t.schema, t.name): t for t in tables}
    if not (principals and wanted and privileges):
        return []
    stmt = wh.render("access", principals=list(dict.fromkeys(principals)),
                     tables=list(wanted.values()), privileges=list(dict.fromkeys(privileges)))
    out = []
    for principal, schema, name, privilege, exists, usage, granted in wh._rows(stmt):
        ref = wanted.get((schema, name))
        if ref is None:
            continue
        out.append(AccessGrant(
            principal=principal, table=ref, privilege=str(privilege).lower(),
            granted=None if not exists else bool(usage) and bool(granted),
            schema_usage=bool(usage)))
    return out
