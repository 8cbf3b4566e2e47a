"""The pure parts of the schema monitor: diff, type widening, renames, impact, audit text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from watchdog.checks.schema import audit as schema_audit
from watchdog.checks.schema.diff import RenameHints, diff, type_compat
from watchdog.checks.schema.impact import Reader, judge
from watchdog.models import AuditEvent, Column
from watchdog.warehouses.base import Warehouse


def cols(*spec: str, not_null: tuple[str, ...] = ()) -> list[Column]:
    """``cols("a int", "b text")``."""
    out = []
    for i, item in enumerate(spec, 1):
        name, raw = item.split(" ", 1)
        out.append(Column(name=name, position=i, data_type=raw,
                          type_family=Warehouse.type_family(raw), nullable=name not in not_null))
    return out


def kinds(changes: list) -> list[tuple[str, str | None]]:
    return [(c.kind, c.column) for c in changes]


@pytest.mark.parametrize(("old", "new", "compat"), [
    ("integer", "bigint", "widening"), ("bigint", "integer", "narrowing"),
    ("smallint", "INTEGER", "widening"), ("real", "double precision", "widening"),
    ("double precision", "real", "narrowing"), ("numeric(10,2)", "numeric(12,2)", "widening"),
    ("numeric(12,3)", "numeric(12,2)", "narrowing"), ("numeric(10,2)", "numeric", "widening"),
    ("numeric", "character varying", "family"), ("bigint", "text", "family"),
    ("character varying(20)", "character varying(50)", "widening"),
    ("character varying(50)", "character varying(20)", "narrowing"),
    ("character varying(50)", "text", "widening"), ("text", "character varying(10)", "narrowing"),
    ("integer", "numeric(12,0)", "widening"), ("bigint", "numeric(10,0)", "narrowing"),
    ("integer", "double precision", "widening"), ("bigint", "double precision", "narrowing"),
    ("date", "timestamp without time zone", "widening"),
    ("timestamp without time zone", "timestamp with time zone", "family"),
    ("timestamp(3) without time zone", "timestamp(6) without time zone", "widening"),
    ("json", "jsonb", "changed"),
])
def test_type_changes_are_told_apart_by_family(old: str, new: str, compat: str) -> None:
    (a,), (b,) = cols(f"x {old}"), cols(f"x {new}")
    assert type_compat(a, b) == compat


def test_every_kind_of_column_change_in_one_diff() -> None:
    before = {"s.t": cols("id bigint", "a integer", "b text", "c text", "d integer",
                          not_null=("id",))}
    after = {"s.t": cols("id integer", "a2 integer", "b text", "d integer", "e text",
                         not_null=("b",))}
    changes = diff(before, after)
    assert sorted(kinds(changes)) == sorted([
        ("column_renamed", "a2"), ("column_dropped", "c"), ("column_added", "e"),
        ("type_changed", "id"), ("nullability_changed", "id"), ("nullability_changed", "b")])
    renamed = next(c for c in changes if c.kind == "column_renamed")
    assert renamed.probable and renamed.before == "a"
    assert next(c for c in changes if c.kind == "type_changed").compat == "narrowing"
    assert {(c.column, c.after) for c in changes if c.kind == "nullability_changed"} == {
        ("id", "NULL"), ("b", "NOT NULL")}
    assert diff(before, before) == []


def test_a_rename_from_the_audit_log_is_certain_and_beats_the_heuristic() -> None:
    before = {"s.t": cols("a integer", "b integer")}
    after = {"s.t": cols("b integer", "x integer")}  # b moved, a gone, x new at the end
    assert [c.kind for c in diff(before, after)] == ["column_dropped", "column_added"]
    hinted = diff(before, after, RenameHints(columns={("s.t", "a"): "x"}))
    assert [(c.kind, c.before, c.after, c.probable) for c in hinted] == [
        ("column_renamed", "a", "x", False), ("order_changed", "a, b", "b, x", False)]


def test_tables_created_dropped_and_renamed() -> None:
    before = {"s.a": cols("id integer"), "s.b": cols("k text", "v integer"), "s.c": cols("z date")}
    after = {"s.a": cols("id integer"), "s.b2": cols("k text", "v integer"), "s.d": cols("q date")}
    changes = diff(before, after)
    assert sorted((c.kind, c.table, c.after, c.probable) for c in changes) == [
        ("table_created", "s.d", None, False), ("table_dropped", "s.c", None, False),
        ("table_renamed", "s.b", "s.b2", True)]
    hinted = diff(before, after, RenameHints(tables={"s.c": "s.elsewhere"}))
    assert ("table_renamed", "s.c", "s.elsewhere", False) in {
        (c.kind, c.table, c.after, c.probable) for c in hinted}


def test_order_change_alone() -> None:
    changes = diff({"s.t": cols("a int", "b int")}, {"s.t": cols("b int", "a int")})
    assert [(c.kind, c.before, c.after) for c in changes] == [
        ("order_changed", "a, b", "b, a")]


def test_breaking_is_judged_per_reader() -> None:
    before = {"s.t": cols("a integer", "b bigint", "c text", "d text")}
    after = {"s.t": cols("a bigint", "b integer", "c text", "e date")}
    changes = diff(before, after)  # a widened, b narrowed, d dropped, e added
    reads_a = Reader(model="m_a", team="t", handles=(), columns=("a",))
    reads_b = Reader(model="m_b", team="t", handles=(), columns=("B",))
    reads_all = Reader(model="m_all", team="t", handles=(), columns=())
    verdicts = {v.reader.model: v for v in judge(changes, [reads_a, reads_b, reads_all])}
    assert verdicts["m_a"].breaking == ()
    assert [c.column for c in verdicts["m_b"].breaking] == ["b"]
    assert sorted(c.column or "" for c in verdicts["m_all"].breaking) == ["b", "d"]


def test_now_nullable_breaks_only_where_the_contract_says_not_null() -> None:
    changes = diff({"s.t": cols("a int", "b int", not_null=("a", "b"))},
                   {"s.t": cols("a int", "b int")})
    reader = Reader(model="m", team="t", handles=(), columns=())
    (verdict,) = judge(changes, [reader], frozenset({"a"}))
    assert [c.column for c in verdict.breaking] == ["a"]
    assert [c.column for c in verdict.harmless] == ["b"]


def event(statement: str, objects: tuple[str, ...] = ()) -> AuditEvent:
    return AuditEvent(seq=1, at=datetime(2026, 3, 1, tzinfo=UTC), user="alice",
                      command="ALTER TABLE", statement=statement, objects=objects)


def test_renames_are_read_from_ddl_with_sqlglot() -> None:
    parsed = schema_audit.parse([
        event("ALTER TABLE s.t RENAME COLUMN a TO b; ALTER TABLE t RENAME c TO d"),
        event("ALTER TABLE s.old RENAME TO mid"), event("ALTER TABLE s.mid RENAME TO new"),
        event("this is not SQL at all ((")], "postgres")
    hints = schema_audit.rename_hints(parsed, "public")
    assert hints.columns == {("s.t", "a"): "b", ("public.t", "c"): "d"}
    assert hints.tables == {"s.old": "s.new", "s.mid": "s.new"}


def test_statements_are_shortened_and_never_echo_literals() -> None:
    text = ("ALTER TABLE s.t ADD COLUMN token text DEFAULT 'sk-live-123456', "
            "ADD COLUMN n int DEFAULT 987654 " + ", ADD COLUMN x int" * 30)
    (item,) = schema_audit.parse([event(text)], "postgres")
    shown = schema_audit.shown_statement(item, ["s.t"], "public", "postgres")
    assert "sk-live" not in shown and "987654" not in shown and len(shown) <= 200
    assert shown.startswith("ALTER TABLE s.t ADD COLUMN token TEXT DEFAULT ?")
    (bad,) = schema_audit.parse([event("ALTER TABLE s.t weird 'sk-live-1' 42 $$x$$")], "postgres")
    masked = schema_audit.shown_statement(bad, ["s.t"], "public", "postgres")
    assert "sk-live" not in masked and "42" not in masked


def test_columns_added_at_the_end_are_all_the_changes() -> None:
    from watchdog.checks.schema.diff import diff_columns

    old = [Column(name=n, position=i + 1, data_type="int", type_family="integer",
                  nullable=True) for i, n in enumerate("abc")]
    new = [*old, Column(name="d", position=4, data_type="text", type_family="string",
                        nullable=False)]
    assert [(c.kind, c.column, c.after) for c in diff_columns("s.t", old, new)] == [
        ("column_added", "d", "text")]
    # not a plain append: the same result as comparing column by column
    moved = [new[1], new[0], *new[2:]]
    assert [(c.kind, c.column) for c in diff_columns("s.t", old, moved)] == [
        ("column_added", "d"), ("order_changed", None)]
    assert diff_columns("s.t", old, old) == []
