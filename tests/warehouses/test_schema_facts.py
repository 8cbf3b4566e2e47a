"""Conformance: the schema facts of every adapter (tables by pattern, change probe, audit log)."""

from __future__ import annotations

import pytest

from tests.warehouses.seeding import EVENTS_COLUMNS, WEIRD_TABLE, Seeder
from watchdog.errors import UnsupportedFeature
from watchdog.models import TableRef
from watchdog.warehouses import Warehouse

Env = tuple[Warehouse, Seeder]


def test_schema_columns_lists_tables_by_pattern_in_one_query(warehouse: Env) -> None:
    wh, seed = warehouse
    seed.create_table("feat_a1", {"id": "integer", "v": "float"}, not_null=("id",))
    seed.create_table("feat_b2", {"k": "string"})
    seed.create_table("featXa", {"k": "string"})  # `_` in the pattern is not a wildcard
    got = wh.schema_columns([seed.table("feat_*"), seed.table("events"),
                             seed.table(WEIRD_TABLE), seed.table("nope_*")])
    assert {t.name for t in got} == {"feat_a1", "feat_b2", "events", WEIRD_TABLE}
    a1 = got[TableRef(schema=seed.schema, name="feat_a1")]
    assert [(c.name, c.position, c.type_family, c.nullable) for c in a1] == [
        ("id", 1, "integer", False), ("v", 2, "float", True)]
    events = got[TableRef(schema=seed.schema, name="events")]
    assert [c.name for c in events] == list(EVENTS_COLUMNS)
    assert wh.schema_columns([]) == {}


def test_a_pattern_that_attempts_injection_matches_nothing(warehouse: Env) -> None:
    wh, seed = warehouse
    evil = seed.table("x'; DROP TABLE y; --*")
    assert wh.schema_columns([evil]) == {}
    assert TableRef(schema=seed.schema, name="y") in wh.schema_columns([seed.table("y")])


def test_audit_events_where_supported(warehouse: Env) -> None:
    wh, _seed = warehouse
    if not wh.SUPPORTS_AUDIT_LOG:
        with pytest.raises(UnsupportedFeature):
            wh.audit_events(0)
        return
    try:
        events = wh.audit_events(0, limit=5)
    except UnsupportedFeature:
        return  # the log is not installed in this database (see tests/checks for it live)
    assert len(events) <= 5 and all(e.seq > 0 for e in events)


def test_schema_fingerprints_tell_tables_apart_by_their_column_facts(warehouse: Env) -> None:
    wh, seed = warehouse
    seed.create_table("fp_a", {"id": "integer", "v": "float"})
    seed.create_table("fp_same", {"id": "integer", "v": "float"})
    seed.create_table("fp_null", {"id": "integer", "v": "float"}, not_null=("id",))
    seed.create_table("fp_type", {"id": "string", "v": "float"})
    seed.create_table("fp_order", {"v": "float", "id": "integer"})
    seed.create_table("fp_name", {"id": "integer", "w": "float"})
    patterns = [seed.table("fp_*"), seed.table("events"), seed.table(WEIRD_TABLE)]
    prints = {ref.name: fp for ref, fp in wh.schema_fingerprints(patterns).items()}
    assert set(prints) == {t.name for t in wh.schema_columns(patterns)}
    assert prints["fp_a"] == prints["fp_same"]
    others = [prints[t] for t in ("fp_a", "fp_null", "fp_type", "fp_order", "fp_name")]
    assert len(set(others)) == len(others)
    assert wh.schema_fingerprints(patterns) == wh.schema_fingerprints(patterns)  # stable
    seed.execute(f"ALTER TABLE {{schema}}.{seed.quote('fp_a')} ADD COLUMN x INTEGER")
    after = {ref.name: fp for ref, fp in wh.schema_fingerprints(patterns).items()}
    assert after["fp_a"] != prints["fp_a"]
    assert {t: fp for t, fp in after.items() if t != "fp_a"} == {
        t: fp for t, fp in prints.items() if t != "fp_a"}
    assert wh.schema_fingerprints([]) == {}
