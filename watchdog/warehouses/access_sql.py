"""Privileges on tables, read from the catalog in one query (Postgres and Redshift).

Two facts: which watched tables watchdog's own login may not read (``own_access``: the
schema's USAGE, then the table's SELECT, for ``current_user``), and which privileges each
configured principal holds on each watched table (``access``: ``has_table_privilege`` with
the principal's name, which counts privileges held through role membership). Both are
fixed templates in the Postgres adapter's ``QUERIES`` that Redshift inherits: the functions
and catalogs they read exist on both with the same meaning. The table privilege is asked
only once the schema's USAGE is known to be held (a ``CASE``), so that the name lookup in
``has_table_privilege`` never trips over a schema the principal may not use.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from watchdog.errors import PermissionDenied
from watchdog.models import AccessGrant, TableRef

if TYPE_CHECKING:
    from watchdog.warehouses.sqlbase import Parts, SqlWarehouse

#: Table privileges an access monitor may require (``has_table_privilege`` spells them so).
PRIVILEGES = ("select", "insert", "update", "delete")


def _matches(tables: Sequence[TableRef]) -> tuple[str, dict[str, Any]]:
    params: dict[str, Any] = {}
    conds = []
    for i, ref in enumerate(tables):
        params[f"schema_{i}"], params[f"table_{i}"] = ref.schema, ref.name
        conds.append(f"(n.nspname = :schema_{i} AND c.relname = :table_{i})")
    return "\n   OR ".join(conds) or "1 = 0", params


def build_own_access(wh: SqlWarehouse, tables: Sequence[TableRef]) -> Parts:
    match, params = _matches(tables)
    return {"tables": match}, params


def build_access(wh: SqlWarehouse, principals: Sequence[str], tables: Sequence[TableRef],
                 privileges: Sequence[str]) -> Parts:
    match, params = _matches(tables)
    names = []
    for i, name in enumerate(principals):
        params[f"principal_{i}"] = name
        names.append(f"SELECT CAST(:principal_{i} AS VARCHAR(128)) AS principal")
    kinds = []
    for i, privilege in enumerate(privileges):
        if privilege not in PRIVILEGES:
            raise ValueError(f"unknown privilege {privilege!r}: one of {', '.join(PRIVILEGES)}")
        params[f"privilege_{i}"] = privilege.upper()
        kinds.append(f"SELECT CAST(:privilege_{i} AS VARCHAR(16)) AS privilege")
    return {
        "principals": "\n  UNION ALL ".join(names) or "SELECT NULL AS principal WHERE 1 = 0",
        "privileges": "\n  UNION ALL ".join(kinds) or "SELECT NULL AS privilege WHERE 1 = 0",
        "roles": wh.PRINCIPAL_CATALOG,  # type: ignore[attr-defined]
        "tables": match,
    }, params


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
