"""Read a warehouse's DDL audit events (paged): renames for the diff, and who changed each
table, from the log or, while the log lags, from the catalog's last-DDL author.

Statements are parsed with sqlglot in the warehouse's dialect. What reaches an event is
shortened, and literal values are replaced by ``?`` (a DEFAULT or a CHECK may hold data);
a statement sqlglot cannot parse has its quoted strings and numbers masked instead.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from watchdog import sqltext
from watchdog.checks.schema.diff import RenameHints
from watchdog.checks.schema.events import Attribution
from watchdog.errors import CheckTimeout, UnsupportedFeature, WarehouseError
from watchdog.lazy import lazy
from watchdog.models import AuditEvent, DdlStamp, TableRef
from watchdog.warehouses.base import Warehouse

if TYPE_CHECKING:
    from sqlglot import exp
else:  # sqlglot is imported when audit statements are parsed, not at start-up
    exp = lazy("sqlglot.expressions")

MAX_STATEMENT = 200
_STRING = re.compile(r"'(?:[^']|'')*'|\$([A-Za-z_]*)\$.*?\$\1\$", re.DOTALL)
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.])")


@dataclass(frozen=True, slots=True)
class Parsed:
    """One audit event with the statements in it parsed (None where sqlglot failed)."""

    event: AuditEvent
    statements: tuple[exp.Expr | None, ...]


def parse(events: Sequence[AuditEvent], dialect: str | None) -> list[Parsed]:
    """Parse every event's statement text (it may hold several statements). Events with the
    same text share one parse: a migration sent as one multi-statement script logs that whole
    script once per statement in it (Postgres' ``current_query()``)."""
    out = []
    seen: dict[str, tuple[exp.Expr | None, ...]] = {}
    for event in events:
        trees = seen.get(event.statement)
        if trees is None:
            trees = seen[event.statement] = sqltext.parse(event.statement, dialect)
        out.append(Parsed(event, trees))
    return out


#: Audit events read per request, and the most requests one poll makes: a busy account can
#: log more DDL in the re-read latency window (Snowflake: 3 hours) than one page holds.
PAGE = 5000
PAGES = 50


def read(wh: Warehouse, since: int) -> list[AuditEvent]:
    """Every audit event after cursor ``since``, oldest first, paged by sequence.

    A page ends on the last event's sequence; events sharing it with the next page (two
    statements in the same microsecond) are read again from one below it and de-duplicated.
    Past ``PAGES`` pages the rest waits for the next poll (the cursor moves on)."""
    out: list[AuditEvent] = []
    seen: set[tuple[int, str, str, str]] = set()
    cursor = since
    for _ in range(PAGES):
        batch = wh.audit_events(cursor, limit=PAGE)
        for e in batch:
            key = (e.seq, e.user, e.command, e.statement)
            if key not in seen:
                seen.add(key)
                out.append(e)
        if len(batch) < PAGE:
            break
        last = batch[-1].seq
        cursor = last - 1 if last - 1 > cursor else last
    return out


class CatalogAuthors:
    """The catalog's last-DDL authors (Snowflake's LAST_DDL_BY) of a poll's changed tables,
    named at once while the audit log lags (the statement follows as ``[ATTRIBUTED]``).
    Read in one query, the first time a table's audit row is missing, for all of them."""

    def __init__(self, wh: Warehouse, names: Sequence[str]) -> None:
        self._wh, self._names = wh, names
        self._stamps: dict[TableRef, DdlStamp] | None = None

    def attribution(self, names: Sequence[str], who: Attribution) -> Attribution:
        if self._stamps is None:
            try:
                self._stamps = self._wh.last_ddl([self._wh.table(n) for n in self._names])
            except CheckTimeout:
                raise
            except (UnsupportedFeature, WarehouseError):
                self._stamps = {}
        found = [s for n in names if (s := self._stamps.get(self._wh.table(n)))]
        if not found:
            return who
        stamp = max(found, key=lambda s: s.at)
        return Attribution(known=False, by=stamp.by, lines=(
            f"Changed by: `{stamp.by}` (the catalog's last DDL on the table, at "
            f"{stamp.at:%Y-%m-%d %H:%M:%S} UTC); the statement is not in the audit log yet "
            "and follows as an update when it lands.",))


def _table_name(table: exp.Table, default_schema: str) -> str:
    return f"{table.db or default_schema}.{table.name}"


def _qualified_names(table: exp.Table, default_schema: str) -> list[str]:
    """``schema.table``, and ``db.schema.table`` too when the statement names a database."""
    name = _table_name(table, default_schema)
    return [name, f"{table.catalog}.{name}"] if table.catalog else [name]


def _names(table: exp.Table, default_schema: str, logged: set[str]) -> set[str]:
    """What a table in a statement is called, lower case (see :func:`_qualified_names`). A
    name without a database (or schema) is where the log placed it, if it did: a
    ``[db.]schema.table`` among the event's ``objects``, resolved where the session ran;
    else the default schema of the default database."""
    if table.catalog:
        return {n.lower() for n in _qualified_names(table, default_schema)}
    schema, short = (table.db or "").lower(), table.name.lower()
    placed = {o for o in logged if len(p := o.split(".")) >= 2 and p[-1] == short
              and (not schema or p[-2] == schema)}
    return placed or {_table_name(table, default_schema).lower()}


def rename_hints(parsed: Sequence[Parsed], default_schema: str) -> RenameHints:
    """Table and column renames stated by ``ALTER TABLE … RENAME``, in commit order."""
    tables: dict[str, str] = {}
    columns: dict[tuple[str, str], str] = {}
    previous = None
    for item in parsed:
        if item.statements is previous:  # the same script logged again for its next statement
            continue
        previous = item.statements
        for tree in item.statements:
            if not isinstance(tree, exp.Alter) or not isinstance(tree.this, exp.Table):
                continue
            for name in _qualified_names(tree.this, default_schema):
                schema = name.rsplit(".", 1)[0]
                for action in tree.args.get("actions") or ():
                    if isinstance(action, exp.RenameColumn):
                        columns[(name, action.this.name)] = action.args["to"].name
                    elif isinstance(action, exp.AlterRename):
                        # Postgres' `RENAME a TO b` (a column) parses as a table rename + TO
                        to = [o for o in tree.args.get("options") or ()
                              if isinstance(o, exp.ToTableProperty)]
                        if to:
                            columns[(name, action.this.name)] = to[0].this.name
                        else:
                            tables[name] = f"{schema}.{action.this.name}"
    return RenameHints(tables=_follow(tables), columns=columns)


def _follow(renames: dict[str, str]) -> dict[str, str]:
    """``a→b, b→c`` becomes ``a→c, b→c`` (a table renamed twice between two polls)."""
    out = {}
    for old, new in renames.items():
        seen = {old}
        while new in renames and new not in seen:
            seen.add(new)
            new = renames[new]
        out[old] = new
    return out


def tree_names(item: Parsed, default_schema: str) -> list[set[str] | None]:
    """The tables each statement of an event names (lower case; None for an unparsed one)."""
    logged = {o.lower() for o in item.event.objects}
    return [None if tree is None else
            {n for t in tree.find_all(exp.Table) for n in _names(t, default_schema, logged)}
            for tree in item.statements]


def touched(item: Parsed, default_schema: str, walked: Walk | None = None, *,
            logged_per_statement: bool = False) -> set[str]:
    """Tables (``schema.table`` or ``db.schema.table``, lower case) an event names, by its
    log and its statements (``walked``: the :class:`Walk` of its statements, if known).

    ``logged_per_statement``: the event's text is a script that the log holds once per
    statement in it (Postgres' ``current_query()``: a migration of 500 ``ALTER``s logs its
    whole text 500 times, each with the one table that statement changed). Then, where some
    statements name one of the event's logged objects, only those count: each event touches
    its own table (and the other names of its statement: a rename's new name), not every
    table of the script (each table's event list was the script's 500 statements)."""
    logged = {o.lower() for o in item.event.objects}
    if walked is None:
        walked = Walk(tree_names(item, default_schema))
    names = set(logged)
    # its own statement's names, if the text has it (found by look-up, not by a scan of
    # the script per event: 10,000 events of 20 scripts were 690,000 set intersections)
    mine = walked.naming(logged) if logged_per_statement and logged \
        else range(len(walked.names))
    for i in mine:
        names |= walked.names[i] or set()
    return names


class Walk:
    """:func:`tree_names` of one event's statements, with the statements naming each table
    found by look-up: a migration's 10,000 changed tables each showed their own statement
    of the same 500-statement script, and scanning the script per table was most of it."""

    __slots__ = ("_at", "names", "rendered", "unparsed")

    def __init__(self, names: list[set[str] | None],
                 rendered: dict[int, str] | None = None) -> None:
        """``rendered``: where the statements shown are kept, by tree, for the poll (each
        tree is rendered once, in place; None: each time, on a copy)."""
        self.names = names
        self.rendered = rendered
        self.unparsed = any(found is None for found in names)
        self._at: dict[str, list[int]] = {}
        for i, found in enumerate(names):
            for name in found or ():
                self._at.setdefault(name, []).append(i)

    def naming(self, wanted: set[str]) -> list[int]:
        """The statements (positions, in order) that name one of ``wanted`` (lower case)."""
        return sorted({i for name in wanted for i in self._at.get(name, ())})

    def nameless(self) -> list[int]:
        """The statements that name no table."""
        return [i for i, found in enumerate(self.names) if not found]


class AuditIndex:
    """A poll's parsed audit events indexed by the tables they touched (:func:`touched`),
    walked once: looking up a changed table's events costs its own hits, not a walk of every
    parsed statement (a migration changing 10,000 tables made that 10,000 walks)."""

    def __init__(self, parsed: Sequence[Parsed], default_schema: str) -> None:
        self.parsed = list(parsed)
        self._by_table: dict[str, list[int]] = {}
        # events sharing a parse (one script, logged per statement) share its walk, unless
        # their logged objects could place a table elsewhere (three-part names)
        walks: dict[tuple[int, frozenset[str]], Walk] = {}
        rendered: dict[int, str] = {}  # the statements shown, by tree: one render each
        self._walks: dict[int, Walk] = {}
        shared = Counter(id(item.statements) for item in self.parsed
                         if len(item.statements) > 1)
        for i, item in enumerate(self.parsed):
            key = (id(item.statements),
                   frozenset(o.lower() for o in item.event.objects if o.count(".") >= 2))
            if key not in walks:
                walks[key] = Walk(tree_names(item, default_schema), rendered)
            self._walks[i] = walks[key]
            for name in touched(item, default_schema, walks[key],
                                logged_per_statement=shared[id(item.statements)] > 1):
                self._by_table.setdefault(name, []).append(i)
        self._position = {id(item): i for i, item in enumerate(self.parsed)}

    def events_for(self, tables: Sequence[str]) -> list[Parsed]:
        """The events that touched any of ``tables`` (old and new names), oldest first."""
        hits = sorted({i for t in tables for i in self._by_table.get(t.lower(), ())})
        return [self.parsed[i] for i in hits]

    def walk(self, item: Parsed) -> Walk | None:
        """The :class:`Walk` of an indexed event (walked once per poll)."""
        i = self._position.get(id(item))
        return None if i is None else self._walks[i]


def events_for(parsed: Sequence[Parsed] | AuditIndex, tables: Sequence[str],
               default_schema: str) -> list[Parsed]:
    """The events that touched any of ``tables`` (old and new names), oldest first; pass an
    :class:`AuditIndex` to look up many tables in the same events."""
    index = parsed if isinstance(parsed, AuditIndex) else AuditIndex(parsed, default_schema)
    return index.events_for(tables)


def shown_statement(item: Parsed, tables: Sequence[str], default_schema: str,
                    dialect: str | None, walked: Walk | None = None) -> str:
    """The statement(s) of ``item`` about ``tables``, literals masked, at most 200 chars
    (``walked``: the event's :class:`Walk`, if known): those naming one of ``tables``;
    else those naming no table; else, where the log names one of ``tables`` but no
    statement of the kept text does (a script cut by the log's length limit), the command
    and the table, said so; else the whole text."""
    wanted = {t.lower() for t in tables}
    if walked is None:
        walked = Walk(tree_names(item, default_schema))
    if walked.unparsed:
        return _clip(_mask(item.event.statement))
    mine = walked.naming(wanted)
    if not mine:
        logged = [o for o in item.event.objects if o.lower() in wanted]
        if logged:
            return _clip(f"{item.event.command} {logged[0]} (its statement is past the part "
                         "of the script's text that the log keeps)")
        mine = walked.nameless()
    trees = [item.statements[i] for i in mine]
    return _clip("; ".join(_shown(t, dialect, walked.rendered) for t in trees if t is not None)
                 or _mask(item.event.statement))


def _shown(tree: exp.Expr, dialect: str | None, rendered: dict[int, str] | None) -> str:
    """:func:`_masked_tree`, once per tree where ``rendered`` keeps them (the poll's
    :class:`AuditIndex`): then the tree is rendered in place, not copied first (the
    copy was a third of rendering a migration's 1,400 kept statements), since nothing
    reads it after."""
    if rendered is None:
        return _masked_tree(tree, dialect)
    text = rendered.get(id(tree))
    if text is None:
        text = rendered[id(tree)] = _masked_tree(tree, dialect, copy=False)
    return text


def _masked_tree(tree: exp.Expr, dialect: str | None, *, copy: bool = True) -> str:
    """``tree`` as SQL, its literals shown as ``?``; ``copy=False`` lets the generator
    change ``tree`` (sqlglot copies it first by default)."""
    if isinstance(tree, exp.Command):  # sqlglot kept the text unparsed: mask it as text
        return _mask(tree.sql(dialect=dialect, copy=copy))

    if tree.find(exp.Literal) is None:  # nothing to mask: no masked copy
        return tree.sql(dialect=dialect, copy=copy)

    def mask(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Literal):
            return exp.var("?")
        return node

    masked = tree.copy().transform(mask, copy=False)  # one copy, changed and rendered
    return masked.sql(dialect=dialect, copy=False)


def _mask(text: str) -> str:
    return _NUMBER.sub("?", _STRING.sub("?", text))


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_STATEMENT else text[: MAX_STATEMENT - 1] + "…"
