"""The rendered-statement cache (``sqlcache.py``): a statement kept on disk is the one sqlglot
renders for the same adapter and shape, its binds are the tree's, and no other identifier,
filter form or adapter is ever served a kept statement."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from watchdog.errors import InvalidIdentifier
from watchdog.models import BacktestSpec, FineGrid, Predicate, Rule, TableRef
from watchdog.warehouses import available, create, get_class, sqlcache
from watchdog.warehouses.distributions import KsGrid
from watchdog.warehouses.sqlbase import SqlWarehouse

from .test_golden import OFFLINE_SETTINGS

START = datetime(2026, 3, 1, tzinfo=UTC)
TABLES = [TableRef(schema="analytics", name="events"),
          TableRef(schema="analytics", name="Events"), TableRef(schema="ml", name="events"),
          TableRef(database="other", schema="ml", name="events"),
          TableRef(schema="analytics", name='ev"ents:x')]
WHERES: list[list[Predicate]] = [
    [],
    [Predicate(column="status", op="=", value="ok")],
    [Predicate(column="status", op="=", value="retry")],  # another value: the same SQL
    [Predicate(column="status", op="!=", value="ok")],
    [Predicate(column="Status", op="=", value="ok")],
    [Predicate(column="status", op="in", value=["ok", "retry"])],
    [Predicate(column="status", op="in", value=["ok", "retry", "late"])],
    [Predicate(column="status", op="in", value=[])],
    [Predicate(column="status", op="not in", value=["ok"])],
    [Predicate(column="status", op="is null")],
    [Predicate(column="status", op="is not null")],
    [Predicate(column="status", op="=", value="ok"), Predicate(column="ts", op="<", value=START)],
]
TIMES = ["Ts", "created at"]


def adapters() -> list[SqlWarehouse]:
    out = []
    for name in available():
        if issubclass(get_class(name), SqlWarehouse) and name in OFFLINE_SETTINGS:
            wh = create(name, name, OFFLINE_SETTINGS[name])
            assert isinstance(wh, SqlWarehouse)
            out.append(wh)
    return out


FACTS = ("newest", "count_rows", "count_successes")
DRIFT = ("histogram", "histograms", "top_values", "value_counts", "ks_counts", "extremes",
         "abs_means")


BACKTEST = ("backtest",)
CATALOG = ("columns", "schema_columns", "schema_fingerprints")
_A, _B = TableRef(schema="analytics", name="events"), TableRef(schema="analytics", name="users")
_C, _D = TableRef(schema="ml", name="events"), TableRef(schema="Analytics", name="events")
_P, _Q = TableRef(schema="analytics", name="feat_*"), TableRef(schema="ml", name="x*_y")
#: Lists of tables: one, two in one schema, in two, interleaved, patterns among names.
REFS = [[_A], [_B], [_D], [_A, _B], [_A, _C], [_C, _A], [_A, _C, _B], [_A, _B, _C], [_A, _D],
        [_P], [_Q], [_A, _P], [_P, _A], [_P, _Q, _A, _B], []]


CONTRACT = ("contract_failures", "contract_scan", "failure_examples")
#: Rule sets differing in each part of a rule's shape, and in values alone (the same SQL).
_RULES = [
    [Rule(check="not_null", columns=("age",), family="float")],
    [Rule(check="not_null", columns=("age",), family="integer")],
    [Rule(check="in_range", columns=("age",), family="float",
          args={"min_value": 0, "max_value": 1})],
    [Rule(check="in_range", columns=("age",), family="float",
          args={"min_value": 5, "max_value": 9})],  # values alone
    [Rule(check="in_range", columns=("age",), family="float",
          args={"min_value": 0, "max_value": 1, "include_min": False})],
    [Rule(check="greater_than", columns=("Age",), family="integer", args={"value": 1})],
    [Rule(check="isin", columns=("status",), family="string", args={"values": ["a"]})],
    [Rule(check="isin", columns=("status",), family="string", args={"values": ["a", "b"]})],
    [Rule(check="notin", columns=("status",), family="string", args={"values": ["a"]})],
    [Rule(check="str_length", columns=("status",), family="string", args={"min_value": 2})],
    [Rule(check="str_length", columns=("status",), family="string",
          args={"min_value": 2, "max_value": 4})],
    [Rule(check="unique", columns=("id",), family="integer")],
    [Rule(check="unique_combination", columns=("id", "status"), family="other")],
    [Rule(check="not_null", columns=("age",), family="float"),
     Rule(check="isin", columns=("status",), family="string", args={"values": ["a"]}),
     Rule(check="unique", columns=("id",), family="integer")],
]


def _contracts(query: str, table: TableRef, where: list[Predicate]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for rules in _RULES:
        base = {"table": table, "rules": rules, "where": where}
        if query == "contract_failures":
            out.append(base)
        elif query == "failure_examples":  # never asked of not_null rules alone
            out += [{**base, "limit": n} for n in (3, 5)
                    if any(r.check != "not_null" for r in rules)]
        else:
            out += [{**base, "examples": e} for e in ([], [3] * len(rules), [5] * len(rules))]
    return out


def variants(query: str) -> list[dict[str, Any]]:
    """Arguments differing in every way a shape can (names, filters, times, groups, and
    how many edges, values or columns), and in values alone (the same SQL)."""
    if query in CATALOG:
        return [{"tables" if query == "columns" else "patterns": refs} for refs in REFS]
    if query in BACKTEST:
        return _backtests()
    if query in CONTRACT:
        # tables and filters vary as for every query; two of each keep the test short
        return [v for table, where in itertools.product(TABLES[:2], WHERES[4:6])
                for v in _contracts(query, table, where)]
    if query in DRIFT:
        return [{"table": table, "where": where, **extra}
                for table, where, column in itertools.product(TABLES[::2], WHERES[::3], TIMES)
                for extra in _drift(query, column)]
    out: list[dict[str, Any]] = []
    for table, where, time_column in itertools.product(TABLES, WHERES, TIMES):
        base = {"table": table, "time_column": time_column, "where": where}
        if query == "newest":
            out.append(base)
            continue
        window = {"start": START, "end": START + timedelta(days=1), "time_type": None}
        if query == "count_rows":
            out.append({**base, **window, "bucket": timedelta(hours=1)})
            out.append({**base, **window, "bucket": timedelta(hours=6), "end": START,
                        "time_type": "date"})
        elif query == "count_successes":
            for success, group_by in [
                (where or [Predicate(column="ok", op="=", value=True)], []),
                ([Predicate(column="ok", op="=", value=True)], ["model"]),
                ([Predicate(column="ok", op="=", value=True)], ["model", "version"]),
            ]:
                out.append({**base, **window, "window": timedelta(hours=1),
                            "success": success, "group_by": group_by})
    return out


def _backtests() -> list[dict[str, Any]]:
    """Backtests differing in each name, the task, the label time, how many key and group
    columns (the same names split another way), and in values alone (the same SQL)."""
    base = BacktestSpec(predictions=TABLES[0], labels=TableRef(schema="analytics", name="labels"),
                        time_column="ts", key=("id",), label_key=("id",), score="score",
                        label="label")
    specs = [
        base, replace(base, threshold=0.3, resolution=100),  # values alone
        replace(base, predictions=TABLES[1]), replace(base, labels=TABLES[3]),
        replace(base, time_column="Ts"), replace(base, score="p"), replace(base, label="y"),
        replace(base, key=("ID",)), replace(base, label_key=("id2",)),
        replace(base, key=("id", "day"), label_key=("id", "day")),
        replace(base, group_by=("day",)), replace(base, group_by=("day", "model")),
        replace(base, key=("id", "day"), label_key=("id", "model")),  # names split differently
        replace(base, key=("id",), label_key=("id",), group_by=("day", "id", "model")),
        replace(base, label_time="seen"), replace(base, task="regression"),
        replace(base, task="regression", label_time="seen", group_by=("day",)),
        replace(base, key=(), label_key=()),  # refused by both
    ]
    out: list[dict[str, Any]] = []
    for spec in specs:
        for window, time_type in ((timedelta(days=1), None), (timedelta(hours=6), "date")):
            out.append({"spec": spec, "start": START, "end": START + timedelta(days=7),
                        "window": window, "table": spec.predictions, "time_type": time_type})
    return out


def _drift(query: str, column: str) -> list[dict[str, Any]]:
    grid: KsGrid = (0.5, 2.0, 1000)
    other: KsGrid = (-3.0, 0.25, 20000)
    atan: KsGrid = FineGrid(0.5, 2.0, 1000, "atan")  # a profile of layout 3: other SQL
    return {
        "histogram": [{"column": column, "edges": e} for e in ([0, 1], [0, 2], [0, 1, 5])],
        "histograms": [{"edges": e} for e in ({column: [0, 1]}, {column: [0.5, 3]},
                                              {column: [0, 1, 2]},
                                              {column: [0, 1], "other": [1, 2]})],
        "top_values": [{"column": column, "limit": n} for n in (5, 10)],
        "value_counts": [{"values": v} for v in (
            {column: []}, {column: ["a"]}, {column: ["b"]}, {column: ["a", "b"]},
            {column: ["a"], "other": ["a"]}, {column: ["a"], "other": ["a", "b"]},
            {"other": ["a"], column: ["a"]})],
        "ks_counts": [{"grids": g, "moments": m} for g, m in (
            ({column: grid}, False), ({column: other}, False), ({column: grid}, True),
            ({column: grid, "other": other}, False), ({column: atan}, False),
            ({column: grid, "other": atan}, True))],
        "extremes": [{"columns": c} for c in ([column], [column, "other"])],
        "abs_means": [{"columns": c} for c in ([column], ["other", column])],
    }[query]


def _cached_queries(wh: SqlWarehouse) -> list[str]:
    return [q for q, build in wh.TREES.items() if build in wh.PARTS]


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(sqlcache.ENV, str(tmp_path / "sql"))
    return tmp_path / "sql"


@pytest.mark.parametrize("wh", adapters(), ids=lambda wh: wh.NAME)
def test_same_key_means_same_sql_and_the_parts_bind_what_the_tree_binds(
        wh: SqlWarehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    from watchdog.warehouses import dialects

    monkeypatch.setenv(sqlcache.ENV, "off")
    queries = _cached_queries(wh)
    shared = {*FACTS, *DRIFT, *BACKTEST, "contract_failures", "failure_examples"}
    assert shared <= set(queries)
    for query in queries:
        build, parts = wh.TREES[query], wh.PARTS[wh.TREES[query]]
        seen: dict[str, str] = {}
        for args in variants(query):
            try:
                tree, binds = build(wh, **args)
            except ValueError:  # e.g. no fingerprints query here: the parts refuse it too
                with pytest.raises(ValueError):
                    parts(wh, **args)
                continue
            shape, params = parts(wh, **args)
            assert params == binds, (query, args)
            assert all(type(params[k]) is type(binds[k]) for k in binds)
            sql = dialects.render(tree, wh.DIALECT, type(wh).dialect_overrides)
            key = sqlcache.key(type(wh), query, shape)
            assert key is not None
            assert seen.setdefault(key, sql) == sql, (query, args)  # never another's SQL
        # the variants render to many statements, each under a key of its own
        assert len(seen) == len(set(seen.values())) > 2


def test_keys_differ_by_adapter_and_query() -> None:
    whs = adapters()
    # the shared catalog builders are kept too (adapters with their own render every time)
    assert sum("columns" in _cached_queries(wh) for wh in whs) >= 3
    shape = (("analytics", "events"), "ts", ())
    keys = {sqlcache.key(type(wh), q, shape) for wh in whs for q in ("newest", "count_rows")}
    assert len(keys) == 2 * len(whs)


def test_a_kept_statement_is_the_rendered_one_and_needs_no_sqlglot(cache_dir: Path) -> None:
    code = (
        "import json, sys\n"
        "from datetime import datetime, timezone\n"
        "from watchdog.models import Predicate, TableRef\n"
        "from watchdog.warehouses import create\n"
        "wh = create('demo', 'duckdb', {})\n"
        "stmt = wh.render('newest', table=TableRef(schema='main', name=sys.argv[1]),\n"
        "                 time_column='ts', where=[Predicate(column='ts', op='<=',\n"
        "                 value=datetime(2026, 1, int(sys.argv[2]), tzinfo=timezone.utc))])\n"
        "print(json.dumps([stmt.sql, {k: str(v) for k, v in stmt.params.items()},\n"
        "                  'sqlglot' in sys.modules]))\n")

    def render(table: str, day: int) -> list[Any]:
        out = subprocess.run([sys.executable, "-c", code, table, str(day)], check=True,
                             capture_output=True, text=True)
        return list(json.loads(out.stdout))

    first = render("predictions", 1)
    assert first[2] is True  # rendered by sqlglot, then kept
    (kept,) = cache_dir.glob("*/*.sql")
    assert kept.read_text() == first[0] and "2026" not in first[0]  # values stay binds
    again = render("predictions", 2)  # another value, the same shape: kept SQL, new binds
    assert again == [first[0], {"w0": "2026-01-02 00:00:00+00:00"}, False]
    other = render("labels", 2)  # another table: rendered, never the kept statement
    assert other[2] is True and other[0] != first[0] and '"labels"' in other[0]
    assert len(list(cache_dir.glob("*/*.sql"))) == 2


def test_a_backtest_run_again_sends_its_kept_statement_without_sqlglot(
        cache_dir: Path, tmp_path: Path) -> None:
    import duckdb

    path = tmp_path / "bt.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE p AS SELECT i AS id, TIMESTAMP '2026-03-01' + i * INTERVAL 1 HOUR"
                    " AS ts, i / 48.0 AS score, CASE WHEN i % 3 = 0 THEN NULL ELSE 'v' || (i % 2)"
                    " END AS g FROM range(48) t(i)")
        con.execute("CREATE TABLE l AS SELECT id, CAST(id % 2 AS INT) AS y FROM p WHERE id < 40")
    code = (
        "import json, sys\n"
        "from datetime import datetime, timedelta, timezone\n"
        "from watchdog.models import BacktestSpec, TableRef\n"
        "from watchdog.warehouses import create\n"
        "wh = create('demo', 'duckdb', {'path': sys.argv[1], 'read_only': True})\n"
        "spec = BacktestSpec(predictions=TableRef(schema='main', name='p'),\n"
        "                    labels=TableRef(schema='main', name='l'), time_column='ts',\n"
        "                    key=('id',), label_key=('id',), score='score', label='y',\n"
        "                    group_by=('g',))\n"
        "start = datetime(2026, 3, 1, tzinfo=timezone.utc)\n"
        "found = wh.backtest(spec, start, start + timedelta(days=2), timedelta(days=1))\n"
        "print(json.dumps([[str(w.start), list(w.group), w.sums.predictions, w.sums.tp]\n"
        "                  for w in found] + ['sqlglot' in sys.modules]))\n")

    def run() -> list[Any]:
        out = subprocess.run([sys.executable, "-c", code, str(path)], check=True,
                             capture_output=True, text=True)
        return list(json.loads(out.stdout))

    first = run()
    assert first[-1] is True and len(first) == 7  # two days by groups v0, v1 and NULL
    assert any('"wd_rows"' in f.read_text() for f in cache_dir.glob("*/*.sql"))
    assert run() == [*first[:-1], False]  # the same sums, from the kept statement


def test_a_backtest_reads_its_columns_in_the_order_it_renders_them() -> None:
    from watchdog.warehouses import backtest_sql

    for args in _backtests():
        spec = args["spec"]
        rendered = [name for name, _ in backtest_sql._aggregates(spec, {})]
        assert backtest_sql.sums_names(spec) == rendered, spec


def test_a_bad_name_is_refused_on_a_cache_hit_too(cache_dir: Path) -> None:
    wh = create("demo", "duckdb", {})
    assert isinstance(wh, SqlWarehouse)
    wh.render("newest", table=TableRef(schema="main", name="t"), time_column="ts")
    assert list(cache_dir.glob("*/*.sql"))
    with pytest.raises(InvalidIdentifier):
        wh.render("newest", table=TableRef(schema="main", name="t"), time_column="")
    with pytest.raises(InvalidIdentifier):
        wh.render("newest", table=TableRef(schema="main", name="t"), time_column="ts",
                  where=[Predicate(column="a\x00b", op="=", value=1)])


def test_statements_of_older_code_are_removed(cache_dir: Path) -> None:
    old = cache_dir / ("0" * 16)
    old.mkdir(parents=True)
    (old / "x.sql").write_text("SELECT 1")
    keep = cache_dir / "notes"  # not a code fingerprint: left alone
    keep.mkdir()
    wh = create("demo", "duckdb", {})
    assert isinstance(wh, SqlWarehouse)
    wh.render("newest", table=TableRef(schema="main", name="t"), time_column="ts")
    assert not old.exists() and keep.exists()
    assert len(list(cache_dir.glob("*/*.sql"))) == 1


def test_without_a_writable_folder_or_when_off_it_renders(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("")
    args = {"table": TableRef(schema="main", name="t"), "time_column": "ts"}
    for setting in (str(blocked / "sql"), "off"):
        monkeypatch.setenv(sqlcache.ENV, setting)
        wh = create("demo", "duckdb", {})
        assert isinstance(wh, SqlWarehouse)
        assert 'MAX("ts")' in wh.render("newest", **args).sql
    assert list(tmp_path.iterdir()) == [blocked]


def test_a_change_to_an_adapter_s_code_changes_every_key(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    source = tmp_path / "wd_plugin_adapter.py"
    monkeypatch.syspath_prepend(str(tmp_path))
    shape = (("main", "t"), "ts", ())
    keys = []
    for body in ("", "# the same class, other code\n"):
        source.write_text("from watchdog.warehouses.duckdb import DuckDB\n" + body +
                          "class Plugin(DuckDB):\n    pass\n")
        sys.modules.pop("wd_plugin_adapter", None)
        keys.append(sqlcache.key(importlib.import_module("wd_plugin_adapter").Plugin,
                                 "newest", shape))
    assert None not in keys and keys[0] != keys[1]
    sys.modules.pop("wd_plugin_adapter", None)
