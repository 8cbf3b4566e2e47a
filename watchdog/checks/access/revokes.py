"""Who took a privilege away, with which statement: the newest matching REVOKE (or DROP of
the table) in the warehouse's DDL audit log.

Statements are tokenized with sqlglot in the warehouse's dialect (quoted names keep their
case, unquoted ones fold to lower case, as Postgres folds them); a multi-statement script
is split at its semicolons. A REVOKE matches a lost privilege on ``schema.table`` for a
principal when it names the table (or ``ALL TABLES IN SCHEMA`` of its schema, or, for a
lost USAGE, the schema itself), one of the lost privileges (or ALL), and the principal (or
PUBLIC; a warehouse whose grantees are IAM members says which name the principal,
``Warehouse.revoked_from``). A role revoked where the warehouse grants roles, not
privileges (BigQuery's ``roles/bigquery.dataViewer``), stands for the privileges it carries
(``Warehouse.ROLE_PRIVILEGES``), and one revoked on a whole schema (a BigQuery dataset)
covers its tables. Failing that, a REVOKE of the same privilege from a role the principal inherits
privileges from (asked of the warehouse: ``Warehouse.inherited_roles``) is named as the
probable cause, and then a DROP of the table (a re-created table starts without grants).
Postgres' event triggers never fire for role membership (``REVOKE role FROM principal``),
``ALTER ROLE`` or ``DROP ROLE`` (global objects): such a loss is said to be unattributed, and why.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from watchdog.models import AuditEvent, TableRef

if TYPE_CHECKING:
    from sqlglot.tokenizer_core import Token

MAX_STATEMENT = 200
_STRING = re.compile(r"'(?:[^']|'')*'")
#: Words that end a REVOKE's grantee list.
_END = {"cascade", "restrict", "granted"}
#: Words before a grantee's name that say what it is (Snowflake's ``FROM ROLE r``).
_KINDS = {"role", "user", "group", "database", "application", "share"}


@dataclass(frozen=True, slots=True)
class Revoke:
    """One REVOKE statement: what, on which objects, from whom (names folded)."""

    privileges: frozenset[str]  # lower case; "all" for ALL [PRIVILEGES]
    scope: str  # "table", "all_tables_in_schema" or "schema"
    objects: tuple[tuple[str, ...], ...]  # name parts: ("schema", "table") or ("table",)
    grantees: frozenset[str]


@dataclass(frozen=True, slots=True)
class Cause:
    """The statement a loss is put down to, and how sure that is."""

    event: AuditEvent
    probable: bool  # from another role, or a DROP: the principal's own REVOKE is not logged

    def line(self) -> str:
        hedge = "probably " if self.probable else ""
        return (f"{hedge}by {self.event.user} at {self.event.at:%Y-%m-%d %H:%M} UTC: "
                f"{shown(self.event.statement)}")


def shown(statement: str) -> str:
    """The statement on one line, its string literals masked, cut to ``MAX_STATEMENT``."""
    text = " ".join(_STRING.sub("?", statement).split())
    return text if len(text) <= MAX_STATEMENT else text[:MAX_STATEMENT - 1] + "…"


def _name(token: Token) -> str:
    return token.text if token.token_type.name == "IDENTIFIER" else token.text.lower()


def _statements(text: str, dialect: str | None) -> list[list[Token]]:
    from sqlglot.dialects.dialect import Dialect
    from sqlglot.errors import SqlglotError
    try:
        tokens = Dialect.get_or_raise(dialect).tokenize(text)
    except SqlglotError:
        return []
    out: list[list[Token]] = [[]]
    for token in tokens:
        if token.token_type.name == "SEMICOLON":
            out.append([])
        else:
            out[-1].append(token)
    return [s for s in out if s]


def _split(tokens: Sequence[Token]) -> list[list[Token]]:
    items: list[list[Token]] = [[]]
    for token in tokens:
        if token.token_type.name == "COMMA":
            items.append([])
        else:
            items[-1].append(token)
    return [i for i in items if i]


def parse_revoke(tokens: Sequence[Token]) -> Revoke | None:
    """A REVOKE of privileges on objects (not of a role membership), else None."""
    kinds = [t.token_type.name for t in tokens]
    if not tokens or tokens[0].text.lower() != "revoke" or "ON" not in kinds \
            or "FROM" not in kinds:
        return None
    on, src = kinds.index("ON"), kinds.index("FROM")
    if [t.text.lower() for t in tokens[1:4]] == ["grant", "option", "for"]:
        return None  # takes only the right to grant it on: the privilege itself stays
    privileges = frozenset(item[0].text.lower() for item in _split(tokens[1:on]))
    words = [t.text.lower() for t in tokens[on + 1:src]]
    if words[:1] == ["future"]:
        return None  # future grants: the tables that exist keep theirs
    if words[:4] == ["all", "tables", "in", "schema"]:
        scope, names = "all_tables_in_schema", tokens[on + 5:src]
    elif words[:1] == ["schema"]:
        scope, names = "schema", tokens[on + 2:src]
    else:
        scope = "table"
        names = tokens[on + 2:src] if words[:1] == ["table"] else tokens[on + 1:src]
    objects = tuple(tuple(_name(t) for t in item if t.token_type.name != "DOT")
                    for item in _split(names))
    grantees: list[str] = []
    for item in _split(tokens[src + 1:]):
        while len(item) > 1 and item[0].text.lower() in _KINDS:
            item = item[1:]  # Snowflake: FROM ROLE r, FROM DATABASE ROLE d.r
        if item[0].text.lower() in _END:
            break
        grantees.append(_name(item[0]))
        if len(item) > 1 and item[1].text.lower() in _END:
            break
    return Revoke(privileges=privileges, scope=scope, objects=objects,
                  grantees=frozenset(grantees))


def _folded(revoke: Revoke) -> Revoke:
    """``revoke`` with every name upper case (where names compare case-insensitively)."""
    return Revoke(privileges=revoke.privileges, scope=revoke.scope,
                  objects=tuple(tuple(p.upper() for p in o) for o in revoke.objects),
                  grantees=frozenset(g.upper() for g in revoke.grantees))


def _roles(revoke: Revoke, roles: Mapping[str, frozenset[str]]) -> Revoke:
    """``revoke`` with each role it names replaced by the privileges the role carries."""
    held = frozenset().union(*(roles.get(p, frozenset({p})) for p in revoke.privileges))
    return Revoke(privileges=held, scope=revoke.scope, objects=revoke.objects,
                  grantees=revoke.grantees)


def _parts(name: tuple[str, ...]) -> tuple[str, ...]:
    """Name parts, with a quoted ``project.dataset.table`` (BigQuery) split at its dots."""
    return tuple(".".join(name).split("."))


def _covers(revoke: Revoke, table: TableRef, lost: Sequence[str], usage_lost: bool) -> bool:
    """Whether ``revoke`` takes one of ``lost`` on ``table`` (from whomever)."""
    objects = [_parts(o) for o in revoke.objects]
    in_schema = any(o[-1:] == (table.schema,) for o in objects)
    if revoke.scope == "schema":  # USAGE; or a role on a whole dataset (BigQuery)
        return in_schema and (usage_lost and bool(revoke.privileges & {"usage", "all"})
                              or bool(revoke.privileges & {*lost}))
    if not revoke.privileges & {*lost, "all"}:
        return False
    if revoke.scope == "all_tables_in_schema":
        return in_schema
    return any(o[-2:] == (table.schema, table.name) or o == (table.name,) for o in objects)


def cause(events: Sequence[AuditEvent], dialect: str | None, principal: str,
          table: TableRef, lost: Sequence[str], usage_lost: bool,
          inherits: Callable[[set[str]], set[str]], fold_case: bool = False,
          roles: Mapping[str, frozenset[str]] | None = None,
          names: Callable[[str, str], bool] | None = None) -> Cause | None:
    """The newest logged statement that explains ``principal`` losing ``lost`` (lower-case
    privileges) on ``table``: its own REVOKE (or PUBLIC's) first; then a REVOKE from a role
    it inherits privileges from (``inherits`` answers which of the named roles it does,
    asked only when needed); then a DROP of the table. ``fold_case``: names compare
    case-insensitively (Snowflake's roles and tables, as its access check reads them).
    ``roles``: lower-case role name -> the privileges it carries; ``names(principal,
    grantee)``: whether a grantee is the principal (default: the same name)."""
    same = names or (lambda a, b: a == b)
    if fold_case:
        principal = principal.upper()
        table = TableRef(database=table.database, schema=table.schema.upper(),
                         name=table.name.upper())
    own: AuditEvent | None = None
    others: list[tuple[AuditEvent, frozenset[str]]] = []
    dropped: AuditEvent | None = None
    for event in events:  # oldest first: the last match is the newest
        if event.command.upper() == "DROP TABLE" and str(table) in event.objects:
            dropped = event
        if event.command.upper() != "REVOKE":
            continue
        for tokens in _statements(event.statement, dialect):
            revoke = parse_revoke(tokens)
            if revoke is not None and fold_case:
                revoke = _folded(revoke)
            if revoke is not None and roles:
                revoke = _roles(revoke, roles)
            if revoke is None or not _covers(revoke, table, lost, usage_lost):
                continue
            if revoke.grantees & {"public", "PUBLIC"} or any(
                    same(principal, g) for g in revoke.grantees):
                own = event
            else:
                others.append((event, revoke.grantees))
    if own is not None:
        return Cause(event=own, probable=False)
    via = inherits({g for _, names in others for g in names}) if others else set()
    through = [event for event, names in others if names & via]
    found = through[-1] if through else dropped
    return Cause(event=found, probable=True) if found is not None else None
