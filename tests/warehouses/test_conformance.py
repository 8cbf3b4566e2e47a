"""One suite for every warehouse adapter: the same seeded data, the same answers.

Expectations are computed in Python from the rows the seeder wrote. A test that needs a
capability looks at the adapter's flag: without it, the same test expects UnsupportedFeature.
"""

from __future__ import annotations

import math
import operator
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from tests.warehouses.seeding import (
    BACKENDS,
    EVENTS_COLUMNS,
    T0,
    USERS_COLUMNS,
    WEIRD_TABLE,
    WEIRD_TIME,
    WEIRD_VALUE,
    WINDOW,
    Seeder,
    events_rows,
    users_rows,
    weird_rows,
)
from watchdog.errors import (
    InvalidIdentifier,
    TableNotFound,
    UnsupportedFeature,
    WarehouseUnavailable,
)
from watchdog.models import Predicate, TableRef
from watchdog.warehouses import Warehouse, buckets, create
from watchdog.warehouses.base import as_utc

Env = tuple[Warehouse, Seeder]
P = Predicate
_CMP: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
    ">": operator.gt, ">=": operator.ge,
}
FILTERS: list[tuple[Predicate, ...]] = [
    (),
    (P(column="category", op="=", value="a"),),
    (P(column="category", op="in", value=["a", "b"]), P(column="flag", op="=", value=True)),
    (P(column="category", op="is null"),),
    (P(column="category", op="not in", value=["c"]), P(column="id", op=">", value=100)),
    (P(column="category", op="!=", value="b"), P(column="id", op="<=", value=150)),
    (P(column="category", op="is not null"), P(column="id", op=">=", value=200),
     P(column="id", op="<", value=230)),
    (P(column="category", op="in", value=[]),),
    (P(column="category", op="=", value="a'; DROP TABLE y; --"),),
]
EVIL_NAMES = ["x; drop table y", 't" ; drop table y; --', "t` ; drop table y; --",
              "y]; drop table y; --", "y'; drop table y; --"]


def holds(row: dict[str, Any], p: Predicate) -> bool:
    """``p`` under SQL semantics: NULL satisfies only ``is null``."""
    value = row.get(p.column)
    if p.op in ("is null", "is not null"):
        return (value is None) == (p.op == "is null")
    if value is None:
        return False
    if p.op in ("in", "not in"):
        return (value in p.value) == (p.op == "in")
    return _CMP[p.op](value, p.value)


def selected(rows: list[dict[str, Any]], where: Sequence[Predicate]) -> list[dict[str, Any]]:
    return [r for r in rows if all(holds(r, p) for p in where)]


def instant(value: Any) -> datetime:
    """A sampled time as aware UTC (SQLite hands back the stored ISO text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@pytest.fixture
def statements(warehouse: Env) -> Iterator[list[str]]:
    """SQL statements the adapter's executor sends from now on (after a warm-up ping)."""
    wh, _ = warehouse
    wh.ping()
    seen: list[str] = []
    stop = wh.executor.listen(lambda stmt: seen.append(stmt.sql))  # type: ignore[attr-defined]
    yield seen
    stop()


# -- columns ------------------------------------------------------------------------------

def test_columns_of_many_tables_in_one_query(warehouse: Env, statements: list[str]) -> None:
    wh, seed = warehouse
    events, users, weird = seed.table("events"), seed.table("users"), seed.table(WEIRD_TABLE)
    missing = [seed.table("no_such_table"), TableRef(schema="no_such_schema", name="events")]
    got = wh.columns([events, users, weird, *missing])
    assert len(statements) == 1
    assert set(got) == {events, users, weird}
    for ref, spec in [(events, EVENTS_COLUMNS), (users, USERS_COLUMNS)]:
        assert [(c.name, c.type_family) for c in got[ref]] == list(spec.items())
        assert [c.position for c in got[ref]] == list(range(1, len(spec) + 1))
        assert all(c.data_type for c in got[ref])
    assert [c.name for c in got[weird]] == [WEIRD_TIME, WEIRD_VALUE]
    nullable = {c.name: c.nullable for c in got[events] + got[users]}
    assert not nullable["id"] and not nullable["ts"] and not nullable["name"]
    assert nullable["amount"] and nullable["created_at"] and nullable["category"]


def test_columns_folds_case_only_where_names_are_case_insensitive(warehouse: Env) -> None:
    wh, seed = warehouse
    shouting = TableRef(schema=seed.schema.upper(), name="EVENTS")
    assert (shouting in wh.columns([shouting])) == getattr(wh, "NAMES_CASE_INSENSITIVE", False)
    assert wh.columns([]) == {}


# -- count_rows -----------------------------------------------------------------------------

def _filter_id(where: tuple[Predicate, ...]) -> str:
    return " & ".join(f"{p.column} {p.op}" for p in where) or "all"


@pytest.mark.parametrize("where", FILTERS, ids=_filter_id)
def test_count_rows_matches_python(warehouse: Env, where: tuple[Predicate, ...]) -> None:
    wh, seed = warehouse
    start, end, bucket = WINDOW
    got = wh.count_rows(seed.table("events"), "ts", start, end, bucket, where)
    rows = selected(events_rows(), where)
    spans = buckets(start, end, bucket)
    assert [(b.start, b.end) for b in got] == spans
    assert [b.rows for b in got] == [sum(s <= r["ts"] < e for r in rows) for s, e in spans]
    if not where:
        assert got[3].rows == got[5].rows == 0 and got[0].rows > 0


@pytest.mark.parametrize("bucket", [timedelta(minutes=25), timedelta(days=1)])
def test_count_rows_uneven_buckets_and_naive_timestamps(warehouse: Env, bucket: timedelta) -> None:
    wh, seed = warehouse
    start, end = datetime(2025, 12, 3, tzinfo=UTC), datetime(2025, 12, 15, 17, tzinfo=UTC)
    got = wh.count_rows(seed.table("users"), "created_at", start, end, bucket)
    spans = buckets(start, end, bucket)
    times = [r["created_at"] for r in users_rows()]
    assert [b.rows for b in got] == [sum(s <= t < e for t in times) for s, e in spans]
    assert got[-1].end == end


@pytest.mark.parametrize(("column", "family"), [("created_at", "timestamp"), ("joined", "date")])
def test_count_rows_bind_times_in_the_columns_own_type(warehouse: Env, column: str,
                                                         family: str) -> None:
    wh, seed = warehouse
    users = seed.table("users")
    start = datetime(2025, 12, 3, 10, tzinfo=UTC)  # not a midnight: a date must round
    end, bucket = datetime(2026, 1, 2, 10, tzinfo=UTC), timedelta(days=1)
    got = wh.count_rows(users, column, start, end, bucket)
    values = [r[column] for r in users_rows()]
    if family == "date":  # a day counts as its midnight, UTC
        values = [datetime(d.year, d.month, d.day, tzinfo=UTC) for d in values]
    spans = buckets(start, end, bucket)
    assert [b.rows for b in got] == [sum(s <= as_utc(t) < e for t in values) for s, e in spans]
    typed = getattr(wh, "TYPED_TIME_BINDS", False)
    assert wh.time_type(users, column) == (family if typed else None)  # type: ignore[attr-defined]
    if typed:  # what is bound: the column's own type, so the engine compares it directly
        stmt = wh.render("count_rows", table=users, time_column=column, start=start,  # type: ignore[attr-defined]
                         end=end, bucket=bucket, time_type=family)
        bound = stmt.params["start"]
        if family == "timestamp":
            assert bound == datetime(2025, 12, 3, 10) and bound.tzinfo is None
        else:
            assert bound == date(2025, 12, 4)  # 10:00 on the 3rd: from the 4th on


def test_count_rows_on_names_that_need_quoting(warehouse: Env) -> None:
    wh, seed = warehouse
    where = [P(column=WEIRD_VALUE, op=">=", value=2.0)]
    end = T0 + timedelta(hours=5)
    got = wh.count_rows(seed.table(WEIRD_TABLE), WEIRD_TIME, T0, end, timedelta(hours=1), where)
    times = [r[WEIRD_TIME] for r in selected(weird_rows(), where)]
    assert [b.rows for b in got] == [sum(b.start <= t < b.end for t in times) for b in got]
    assert sum(b.rows for b in got) == 10
    histogram = wh.histogram(seed.table(WEIRD_TABLE), WEIRD_VALUE, [0, 6, 12], where)
    assert histogram.counts == (4, 6)


# -- newest ---------------------------------------------------------------------------------

def test_newest_is_aware_utc(warehouse: Env) -> None:
    wh, seed = warehouse
    rows = events_rows()
    got = wh.newest(seed.table("events"), "ts")
    assert got == max(r["ts"] for r in rows) and got is not None and got.tzinfo is UTC
    only_b = [P(column="category", op="=", value="b")]
    assert wh.newest(seed.table("events"), "ts", only_b) == max(
        r["ts"] for r in selected(rows, only_b))
    assert wh.newest(seed.table("events"), "ts", [P(column="id", op="<", value=0)]) is None
    naive = wh.newest(seed.table("users"), "created_at")
    assert naive == max(r["created_at"] for r in users_rows()) and naive.tzinfo is UTC


# -- sample ---------------------------------------------------------------------------------

def test_sample_is_bounded_and_from_the_table(warehouse: Env) -> None:
    wh, seed = warehouse
    by_id = {r["id"]: r for r in events_rows()}
    got = wh.sample(seed.table("events"), ["id", "category", "ts"], 10)
    assert len(got) == 10 and len({r["id"] for r in got}) == 10
    for row in got:
        assert set(row) == {"id", "category", "ts"}
        assert row["category"] == by_id[row["id"]]["category"]
        assert instant(row["ts"]) == by_id[row["id"]]["ts"]
    assert wh.sample(seed.table("events"), ["id"], 0) == []


def test_sample_filters_before_sampling(warehouse: Env) -> None:
    wh, seed = warehouse
    where = [P(column="category", op="=", value="a")]
    expected = {r["id"] for r in selected(events_rows(), where)}
    got = wh.sample(seed.table("events"), ["id", "category"], 1000, where)
    assert {r["id"] for r in got} == expected and len(got) == len(expected)
    assert len(wh.sample(seed.table("events"), ["id"], 3, where)) == 3
    everything = wh.sample(seed.table("users"), [], 2)
    assert len(everything) == 2 and set(everything[0]) == set(USERS_COLUMNS)


# -- histogram ------------------------------------------------------------------------------

@pytest.mark.parametrize(("column", "edges", "where"), [
    ("amount", [0, 10, 25, 50, 100], ()),
    ("amount", [-5.5, 0, 33.3, 66.6, 99.9], (P(column="category", op="=", value="a"),)),
    ("id", [0, 50, 100, 200], ()),
    ("price", [0, 25, 50, 75], (P(column="flag", op="=", value=False),)),
])
def test_histogram_matches_numpy(
    warehouse: Env, column: str, edges: list[float], where: tuple[Predicate, ...]
) -> None:
    wh, seed = warehouse
    values = [r[column] for r in selected(events_rows(), where)]
    missing = [v for v in values if v is None or math.isnan(v)]
    present = np.array([float(v) for v in values if v is not None and not math.isnan(v)])
    expected, _ = np.histogram(present, bins=edges)
    got = wh.histogram(seed.table("events"), column, edges, where)
    assert got.edges == tuple(float(e) for e in edges)
    assert list(got.counts) == expected.tolist()
    assert got.below == int((present < edges[0]).sum())
    assert got.above == int((present > edges[-1]).sum())
    assert got.missing == len(missing)
    assert got.total == len(values)
    if column == "amount" and not where:
        assert got.missing > 0 and got.below > 0 and got.above > 0


def test_histogram_rejects_bad_edges(warehouse: Env) -> None:
    wh, seed = warehouse
    for edges in ([1.0], [2.0, 1.0], [0.0, math.inf]):
        with pytest.raises(ValueError):
            wh.histogram(seed.table("events"), "amount", edges)


# -- safety and errors ----------------------------------------------------------------------

@pytest.mark.parametrize("name", EVIL_NAMES)
def test_injected_names_are_only_missing_names(warehouse: Env, name: str) -> None:
    wh, seed = warehouse
    evil, events = seed.table(name), seed.table("events")
    start, end, bucket = WINDOW
    attempts: list[Callable[[], object]] = [
        lambda: wh.count_rows(evil, "ts", start, end, bucket),
        lambda: wh.newest(evil, "ts"),
        lambda: wh.sample(evil, ["id"], 5),
        lambda: wh.histogram(evil, "id", [0, 1]),
        lambda: wh.newest(TableRef(schema=name, name="events"), "ts"),
        lambda: wh.newest(events, name),
        lambda: wh.sample(events, ["id", name], 5),
        lambda: wh.count_rows(events, "ts", start, end, bucket, [P(column=name, op="=", value=1)]),
    ]
    for attempt in attempts:
        with pytest.raises(TableNotFound):
            attempt()
    assert wh.columns([evil]) == {}
    assert wh.sample(seed.table("y"), ["id"], 5) == [{"id": 1}]


@pytest.mark.parametrize("name", ["x.y; drop table z", "other_db.schema.t"])
def test_a_dotted_name_is_a_database_only_where_there_are_databases(warehouse: Env,
                                                                    name: str) -> None:
    wh, seed = warehouse
    if wh.SUPPORTS_DATABASE_NAMES:
        assert wh.table(f"{name}.t").database == name.rsplit(".", 1)[0]
        return
    # not a query error ("may be a bug in watchdog"): the name itself, said before any SQL
    with pytest.raises(InvalidIdentifier, match="more than one dot") as info:
        wh.table(f"{name}.t")
    assert "bug" not in f"{info.value}"


def test_missing_table_and_column_are_named(warehouse: Env) -> None:
    wh, seed = warehouse
    start, end, bucket = WINDOW
    with pytest.raises(TableNotFound, match="no_such_table"):
        wh.count_rows(seed.table("no_such_table"), "ts", start, end, bucket)
    with pytest.raises(TableNotFound) as info:
        wh.histogram(seed.table("events"), "no_such_column", [0, 1])
    assert "no_such_column" in str(info.value) and "events" in str(info.value)
    assert info.value.hint


def test_unreachable_is_unavailable_and_keeps_secrets(warehouse_env: Seeder) -> None:
    wh = create("down", warehouse_env.type_name, warehouse_env.unreachable)  # must not connect
    secrets = [v for k, v in warehouse_env.unreachable.items() if k in ("password", "url")]
    with pytest.raises(WarehouseUnavailable) as info:
        wh.ping()
    text = f"{info.value} {info.value.hint} {wh.settings!r} {wh.settings}"
    assert "\n" not in str(info.value)
    assert not [s for s in secrets if s in text]
    wh.close()


def test_naive_timestamps_are_utc_whatever_the_local_zone(
    warehouse_env: Seeder, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        with BACKENDS[warehouse_env.type_name](tmp_path) as seed:
            rows = [{"ts": T0 + timedelta(minutes=30)}]
            table = seed.create_table("naive", {"ts": "timestamp"}, rows)
            with seed.connect() as wh:
                got = wh.count_rows(table, "ts", T0, T0 + timedelta(hours=2), timedelta(hours=1))
                assert [b.rows for b in got] == [1, 0]
                assert wh.newest(table, "ts") == T0 + timedelta(minutes=30)
    finally:
        monkeypatch.undo()
        time.tzset()


# -- capabilities ---------------------------------------------------------------------------

def test_schema_version_moves_on_ddl(warehouse: Env) -> None:
    wh, seed = warehouse
    if not wh.SUPPORTS_SCHEMA_VERSION:
        with pytest.raises(UnsupportedFeature):
            wh.schema_version()
        return
    before = wh.schema_version()
    seed.create_table(f"probe_{time.monotonic_ns()}", {"a": "integer"})
    after = wh.schema_version()
    if before is None:  # the probe needs a one-time setup here (Postgres: setup audit)
        assert after is None
        return
    assert isinstance(before, str) and isinstance(after, str) and before != after


def test_access_is_answered_or_unsupported_by_flag(warehouse: Env) -> None:
    """``kind: access`` and watchdog's own access, by their flags: an adapter without one
    raises UnsupportedFeature (the config validation refuses the monitor before that)."""
    wh, seed = warehouse
    name = f"probe_{time.monotonic_ns()}"
    seed.create_table(name, {"a": "integer"})
    table = seed.table(name)
    if not wh.SUPPORTS_ACCESS_CHECK:
        with pytest.raises(UnsupportedFeature):
            wh.access(["churn_svc"], [table], ["select"])
    else:
        grants = wh.access(["wd_no_such_principal"], [table], ["select"])
        assert all(g.table == table and g.privilege == "select" and not g.granted
                   for g in grants)
    if not wh.SUPPORTS_OWN_ACCESS:
        with pytest.raises(UnsupportedFeature):
            wh.own_access([table])
    else:
        assert wh.own_access([table]) == {}  # the seeding login reads its own table


def test_ping_and_reuse_after_close(warehouse: Env) -> None:
    wh, seed = warehouse
    wh.ping()
    wh.close()
    assert wh.sample(seed.table("y"), ["id"], 1) == [{"id": 1}]
