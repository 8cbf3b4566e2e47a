"""Audit matching with database-qualified tables (Snowflake entries that watch several
databases): a watched ``db.schema.table`` matches a statement that names it so, or a short
``schema.table`` the log places in that database; a name without a schema is placed where
the log says the session ran, else in the default schema."""

from __future__ import annotations

from datetime import UTC, datetime

from watchdog.checks.schema import audit as schema_audit
from watchdog.models import AuditEvent


def parsed(statement: str, objects: tuple[str, ...] = (),
           dialect: str = "snowflake") -> schema_audit.Parsed:
    event = AuditEvent(seq=1, at=datetime(2026, 3, 1, tzinfo=UTC), user="BOB",
                       command="ALTER_TABLE_ADD_COLUMN", statement=statement, objects=objects)
    (item,) = schema_audit.parse([event], dialect)
    return item


def matches(item: schema_audit.Parsed, table: str) -> bool:
    return bool(schema_audit.events_for([item], [table], "PUBLIC"))


def test_a_three_part_name_matches_a_statement_naming_its_database() -> None:
    item = parsed("ALTER TABLE raw.events.clicks ADD COLUMN x INT")
    assert matches(item, "RAW.EVENTS.CLICKS")
    assert not matches(item, "ML.EVENTS.CLICKS")
    # a two-part name still matches whatever database the statement names (as before: the
    # check does not know the default database; BigQuery statements name their project)
    assert matches(item, "events.clicks")


def test_a_short_name_matches_the_database_the_log_places_it_in() -> None:
    ran_in_raw = parsed('ALTER TABLE "events"."clicks" ADD COLUMN x INT',
                        objects=("RAW.events.clicks",))
    assert matches(ran_in_raw, "RAW.events.clicks")
    # ...and then it is not the default database's table of the same name
    assert not matches(ran_in_raw, "events.clicks")
    ran_here = parsed('ALTER TABLE "events"."clicks" ADD COLUMN x INT')
    assert matches(ran_here, "events.clicks")
    assert not matches(ran_here, "RAW.events.clicks")


def test_a_placed_short_name_is_shown_as_its_statement() -> None:
    item = parsed("ALTER TABLE events.clicks ADD COLUMN token VARCHAR DEFAULT 'sk-1'; "
                  "ALTER TABLE events.other ADD COLUMN y INT",
                  objects=("RAW.events.clicks",))
    shown = schema_audit.shown_statement(item, ["RAW.events.clicks"], "PUBLIC", "snowflake")
    assert shown == "ALTER TABLE events.clicks ADD token VARCHAR DEFAULT ?"


def test_renames_in_a_named_database_hint_the_three_part_name() -> None:
    hints = schema_audit.rename_hints([
        parsed("ALTER TABLE RAW.events.clicks RENAME COLUMN a TO b"),
        parsed("ALTER TABLE RAW.events.old RENAME TO new")], "PUBLIC")
    assert hints.columns == {("events.clicks", "a"): "b", ("RAW.events.clicks", "a"): "b"}
    assert hints.tables == {"events.old": "events.new", "RAW.events.old": "RAW.events.new"}


def test_a_short_name_in_the_default_database_is_in_the_schema_the_log_names() -> None:
    # QUERY_HISTORY: database_name=ML (the default), schema_name=FEATURES; the adapter
    # places the statement's USERS there, and the default schema PUBLIC is not guessed
    item = parsed("ALTER TABLE USERS ADD COLUMN x INT", objects=("FEATURES.USERS",))
    assert matches(item, "FEATURES.USERS")
    assert not matches(item, "PUBLIC.USERS") and not matches(item, "USERS")
    shown = schema_audit.shown_statement(item, ["FEATURES.USERS"], "PUBLIC", "snowflake")
    assert shown == "ALTER TABLE USERS ADD x INT"
    # a name the log does not place still defaults to the default schema
    assert matches(parsed("ALTER TABLE USERS ADD COLUMN x INT"), "PUBLIC.USERS")


def test_two_part_postgres_names_are_placed_by_the_log_too() -> None:
    item = parsed("ALTER TABLE s.t ADD COLUMN x int; ALTER TABLE t ADD COLUMN y int",
                  objects=("s.t",), dialect="postgres")
    assert schema_audit.touched(item, "public") == {"s.t"}
    other = parsed("ALTER TABLE s.t ADD COLUMN x int; ALTER TABLE u ADD COLUMN y int",
                   objects=("s.t",), dialect="postgres")
    assert schema_audit.touched(other, "public") == {"s.t", "public.u"}


def test_an_index_walks_each_statement_once_and_finds_what_a_walk_per_table_finds(
        monkeypatch) -> None:
    events = [AuditEvent(seq=i, at=datetime(2026, 3, 1, tzinfo=UTC), user="BOB",
                         command="ALTER", statement=f"ALTER TABLE s.t{i % 50} ADD COLUMN c{i} INT")
              for i in range(500)]
    items = schema_audit.parse(events, "postgres")
    brute = {t: [p for p in items if schema_audit.touched(p, "public") & {f"s.t{t}"}]
             for t in range(50)}  # a walk of every event per table, as before the index
    walks = []
    real = schema_audit.tree_names
    monkeypatch.setattr(schema_audit, "tree_names",
                        lambda item, default: walks.append(item) or real(item, default))
    index = schema_audit.AuditIndex(items, "public")
    assert len(walks) == 500
    for t in range(50):
        got = index.events_for([f"S.T{t}", "s.renamed"])
        assert [g.event.seq for g in got] == [i for i in range(500) if i % 50 == t]
        assert got == brute[t]
    assert len(walks) == 500  # 50 look-ups walked nothing more


def test_a_script_logged_once_per_statement_is_parsed_and_walked_once(monkeypatch) -> None:
    """A migration sent as one multi-statement script: Postgres logs the whole script once
    per statement; each changed table's event shows its own statement."""
    script = "; ".join(f"ALTER TABLE s.t{i} ADD COLUMN m INT" for i in range(300))
    events = [AuditEvent(seq=i, at=datetime(2026, 3, 1, tzinfo=UTC), user="BOB",
                         command="ALTER TABLE", statement=script, objects=(f"s.t{i}",))
              for i in range(300)]
    parses = []
    real_parse = schema_audit.sqltext.parse
    monkeypatch.setattr(schema_audit.sqltext, "parse",
                        lambda text, dialect: parses.append(text) or real_parse(text, dialect))
    items = schema_audit.parse(events, "postgres")
    assert len(parses) == 1
    index = schema_audit.AuditIndex(items, "public")
    hits = index.events_for(["s.t7"])
    # every event carries the whole script, but touches only the table its row names (its
    # event showed the script's last three statements, and "297 earlier not shown")
    assert [h.event.seq for h in hits] == [7]
    shown = schema_audit.shown_statement(hits[0], ["s.t7"], "public", "postgres",
                                         index.walk(hits[0]))
    assert shown == "ALTER TABLE s.t7 ADD COLUMN m INT"


def test_one_event_holding_two_statements_touches_both_tables() -> None:
    # not a script logged once per statement (one row holds it): the table its log does
    # not name is still found by its text
    alone = schema_audit.parse([AuditEvent(
        seq=9, at=datetime(2026, 3, 1, tzinfo=UTC), user="bob", command="ALTER TABLE",
        statement="ALTER TABLE s.a ADD COLUMN x int; ALTER TABLE s.b ADD COLUMN y int",
        objects=("s.a",))], "postgres")
    index = schema_audit.AuditIndex(alone, "public")
    assert index.events_for(["s.b"]) == index.events_for(["s.a"]) == alone


def test_a_table_past_the_cut_of_a_logged_script_is_named_by_the_log_alone() -> None:
    # Postgres keeps the first 4,000 characters of a statement's text: the tables past the
    # cut are found by the row's object, and their events say the statement is not kept
    script = "; ".join(f"ALTER TABLE s.t{i} ADD COLUMN c{i} int" for i in range(200))
    kept = script[:4000]
    events = [AuditEvent(seq=i + 1, at=datetime(2026, 3, 1, tzinfo=UTC), user="bob",
                         command="ALTER TABLE", statement=kept, objects=(f"s.t{i}",))
              for i in range(200)]
    index = schema_audit.AuditIndex(schema_audit.parse(events, "postgres"), "public")
    for i in (3, 150):
        hits = index.events_for([f"s.t{i}"])
        assert [h.event.seq for h in hits] == [i + 1]
        shown = schema_audit.shown_statement(hits[0], [f"s.t{i}"], "public", "postgres",
                                             index.walk(hits[0]))
        if i == 3:
            assert shown == "ALTER TABLE s.t3 ADD COLUMN c3 INT"
        else:
            assert shown.startswith("ALTER TABLE s.t150 (its statement is past the part")
