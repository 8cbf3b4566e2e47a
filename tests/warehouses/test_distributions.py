"""Conformance of the drift facts (histograms, category_counts, value_counts, abs_means, fine
KS counts, extremes) on every adapter."""

from __future__ import annotations

import math
from collections import Counter
from datetime import timedelta

import numpy as np
import pytest

from tests.warehouses.seeding import T0, Seeder, events_rows
from tests.warehouses.test_conformance import selected
from watchdog.checks import stats
from watchdog.models import FineGrid
from watchdog.models import Predicate as P
from watchdog.warehouses import Warehouse

Env = tuple[Warehouse, Seeder]
WINDOW = (P(column="ts", op=">=", value=T0), P(column="ts", op="<", value=T0 + timedelta(hours=6)))


def _numbers(rows: list[dict], column: str) -> np.ndarray:
    return np.array([np.nan if r[column] is None else float(r[column]) for r in rows])


@pytest.mark.parametrize("where", [(), WINDOW, (P(column="category", op="=", value="a"),)])
def test_histograms_of_several_columns_in_one_scan_match_numpy(warehouse: Env, where) -> None:
    wh, seed = warehouse
    rows = selected(events_rows(), where)
    edges = {"amount": [-5.5, 0, 33.3, 66.6, 99.9], "id": [0, 50, 100, 200],
             "price": [0, 25, 50, 75]}
    got = wh.histograms(seed.table("events"), edges, where)
    assert list(got) == list(edges)
    for column, col_edges in edges.items():
        values = _numbers(rows, column)
        finite_or_nan = np.where(np.isinf(values), np.sign(values) * 1e300, values)
        counts, below, above, missing = stats.bin_counts(finite_or_nan, col_edges)
        h = got[column]
        assert h.edges == tuple(float(e) for e in col_edges)
        assert (list(h.counts), h.below, h.above, h.missing) == (counts, below, above, missing)
        assert h.total == len(rows)
    assert got["amount"].missing > 0 and got["amount"].above > 0 or where


def test_histograms_agree_with_the_single_column_fact(warehouse: Env) -> None:
    wh, seed = warehouse
    edges = [0.0, 10.0, 10.0, 50.0, 100.0]  # a tie: an empty bin
    (one,) = wh.histograms(seed.table("events"), {"amount": edges}).values()
    assert one == wh.histogram(seed.table("events"), "amount", edges)
    assert wh.histograms(seed.table("events"), {}) == {}
    with pytest.raises(ValueError):
        wh.histograms(seed.table("events"), {"amount": [1.0, math.inf]})


def test_category_counts_top_k_plus_other_and_missing(warehouse: Env) -> None:
    wh, seed = warehouse
    rows = selected(events_rows(), WINDOW)
    tally = Counter(r["category"] for r in rows)
    got = wh.category_counts(seed.table("events"), "category", limit=2, where=WINDOW)
    ranked = sorted(((v, n) for v, n in tally.items() if v is not None),
                    key=lambda x: (-x[1], x[0]))
    assert got.counts == tuple(ranked[:2])
    assert got.other == sum(n for _, n in ranked[2:]) and got.missing == tally[None]
    assert got.total == len(rows)


@pytest.mark.parametrize("where", [(), WINDOW])
def test_value_counts_of_several_columns_put_unseen_ones_in_other(warehouse: Env, where) -> None:
    wh, seed = warehouse
    rows = selected(events_rows(), where)
    tally = Counter(r["category"] for r in rows)
    one, two = rows[0]["id"], rows[1]["id"]
    sent: list[str] = []
    stop = wh.executor.listen(lambda stmt: sent.append(stmt.name))  # type: ignore[attr-defined]
    got = wh.value_counts(seed.table("events"), {"category": ["b", "zz", "a"],
                                                 "id": [str(one), str(two)], "price": []},
                         where)
    stop()
    assert sent == ["value_counts"]  # every column in one statement
    assert list(got) == ["category", "id", "price"]
    category = got["category"]
    assert category.counts == (("b", tally["b"]), ("zz", 0), ("a", tally["a"]))
    assert category.other == tally["c"] and category.missing == tally[None]
    # an integer column compares as text; the rest of its values are "other"
    assert got["id"].counts == ((str(one), 1), (str(two), 1))
    assert got["id"].other == len(rows) - 2 and got["id"].missing == 0
    prices = sum(r["price"] is not None for r in rows)
    assert got["price"].counts == () and got["price"].other == prices
    assert got["price"].missing == len(rows) - prices
    assert wh.value_counts(seed.table("events"), {}) == {}


def test_abs_means_ignore_null_and_nan(warehouse: Env) -> None:
    wh, seed = warehouse
    rows = [r for r in selected(events_rows(), WINDOW)]
    got = wh.abs_means(seed.table("events"), ["id", "price"], WINDOW)
    assert got["id"] == pytest.approx(np.mean([abs(r["id"]) for r in rows]), rel=1e-12)
    assert got["price"] == pytest.approx(np.mean([float(r["price"]) for r in rows]), rel=1e-9)
    empty = wh.abs_means(seed.table("events"), ["id"], [P(column="id", op="<", value=0)])
    assert empty == {"id": None}


def _buckets(x: np.ndarray, grid: FineGrid) -> np.ndarray:
    """Each value's bucket, computed as the ks_counts SQL writes it for the grid's map."""
    center, scale, resolution, how = grid
    d = x - center
    if how == "atan":
        return np.floor(resolution / np.pi * np.arctan(d / scale) + resolution / 2)
    squashed = np.sign(d) - np.sign(d) * scale / (scale + np.abs(d))
    return np.floor(resolution / 2 * squashed + resolution / 2)


@pytest.mark.parametrize("how", ["softsign", "atan"])
@pytest.mark.parametrize("where", [(), WINDOW])
def test_ks_counts_match_numpy_on_the_same_fine_grid(warehouse: Env, where, how: str) -> None:
    wh, seed = warehouse
    rows = selected(events_rows(), where)
    grids = {"amount": FineGrid(40.0, 25.0, 2000, how), "id": FineGrid(100.0, 30.0, 50, how),
             "price": FineGrid(10.0, 5.0, 7, how)}
    got = wh.ks_counts(seed.table("events"), grids, where)
    assert list(got) == list(grids)
    for column, grid in grids.items():
        resolution = grid.resolution
        x = _numbers(rows, column)
        missing = int(np.isnan(x).sum())
        x = x[~np.isnan(x)]
        bucket = _buckets(x, grid)
        expected = np.bincount(np.clip(bucket.astype(int), 0, resolution),
                               minlength=resolution + 1)
        assert got[column].counts.tolist() == expected.tolist(), column
        assert got[column].missing == missing, column
        assert got[column].total == len(rows)
        assert got[column].sum is None and got[column].sum_sq is None
    assert wh.ks_counts(seed.table("events"), {}) == {}


@pytest.mark.parametrize("where", [(), WINDOW])
def test_ks_counts_with_moments_give_the_exact_mean_and_variance(warehouse: Env, where) -> None:
    wh, seed = warehouse
    rows = selected(events_rows(), where)
    grids = {"id": (100.0, 30.0, 50), "price": (10.0, 5.0, 7)}
    got = wh.ks_counts(seed.table("events"), grids, where, moments=True)
    for column, (center, _, _) in grids.items():
        x = _numbers(rows, column)
        f = got[column]
        assert f.sum == pytest.approx(float(np.sum(x - center)), rel=1e-9, abs=1e-9)
        assert f.sum_sq == pytest.approx(float(np.sum((x - center) ** 2)), rel=1e-9)
        mean = center + f.sum / f.present
        std = math.sqrt(f.sum_sq / f.present - (f.sum / f.present) ** 2)
        assert mean == pytest.approx(float(np.mean(x)), rel=1e-9)
        assert std == pytest.approx(float(np.std(x)), rel=1e-7)


def test_ks_counts_of_a_column_with_only_missing_values(warehouse: Env) -> None:
    """Every value NULL or NaN: all in the missing count, and the sums (SQL NULLs, a masked
    value where rows come as arrays) are 0."""
    wh, seed = warehouse
    rows = events_rows()
    gone = [r["id"] for r in rows if r["amount"] is None or math.isnan(r["amount"])][:3]
    got = wh.ks_counts(seed.table("events"), {"amount": (40.0, 25.0, 100)},
                       [P(column="id", op="in", value=gone)], moments=True)["amount"]
    assert got.counts.tolist() == [0] * 101 and got.missing == len(gone) == 3
    assert (got.sum, got.sum_sq) == (0.0, 0.0)


def test_extremes_ignore_null_and_nan(warehouse: Env) -> None:
    wh, seed = warehouse
    rows = selected(events_rows(), WINDOW)
    got = wh.extremes(seed.table("events"), ["amount", "id"], WINDOW)
    amount = _numbers(rows, "amount")
    amount = amount[~np.isnan(amount)]
    assert got["amount"] == (float(amount.min()), float(amount.max()))
    assert got["id"] == (float(min(r["id"] for r in rows)), float(max(r["id"] for r in rows)))
    empty = wh.extremes(seed.table("events"), ["id"], [P(column="id", op="<", value=0)])
    assert empty == {"id": None}
    assert wh.extremes(seed.table("events"), []) == {}


def test_duckdb_memory_limit_and_threads_are_applied(tmp_path) -> None:
    from watchdog.warehouses import create

    wh = create("d", "duckdb", {"memory_limit": "64MB", "threads": 1})
    stmt = "SELECT current_setting('memory_limit'), current_setting('threads')"
    limit, threads = wh.executor.connection().execute(stmt).fetchone()  # type: ignore[attr-defined]
    assert limit.startswith("61") and int(threads) == 1  # 64 MB, shown in MiB
    for bad in ({"memory_limit": "lots"}, {"threads": 0}):
        with pytest.raises(Exception, match="memory_limit|threads"):
            create("d", "duckdb", bad)


def test_duckdb_caps_its_memory_by_default_and_lifts_the_cap_only_for_a_statement_it_fails(
) -> None:
    from watchdog.errors import QueryError
    from watchdog.warehouses import create
    from watchdog.warehouses.sqlbase import Statement

    wh = create("d", "duckdb", {})
    settings = ("SELECT current_setting('memory_limit'),"
                " current_setting('preserve_insertion_order'),"
                " current_setting('perfect_ht_threshold')")
    limit, order, perfect = wh._fetch(Statement(name="s", sql=settings))[0]  # type: ignore[attr-defined]
    assert limit.startswith("95") and order is False and perfect == 16  # 100 MB, in MiB
    # a list aggregate cannot spill: 30M integers need ~240 MB, more than the default cap
    big = Statement(name="big", sql="SELECT sum(len(l)) FROM (SELECT list(i) AS l "
                                    "FROM range(30000000) AS t(i))")
    assert wh._fetch(big)[0][0] == 30_000_000  # type: ignore[attr-defined]
    assert wh._fetch(Statement(name="s", sql=settings))[0][0] == limit  # the cap is back
    capped = create("d", "duckdb", {"memory_limit": "100MB"})  # a cap the user chose holds
    with pytest.raises(QueryError, match="Out of Memory"):
        capped._fetch(big)  # type: ignore[attr-defined]
    none = create("d", "duckdb", {"memory_limit": None})
    got = none._fetch(Statement(name="s", sql=settings))[0][0]  # type: ignore[attr-defined]
    assert not got.startswith("95")  # DuckDB's own default


def test_duckdb_settings_do_not_clash_with_a_connection_already_open_in_the_process(
        tmp_path) -> None:
    import duckdb
    import sqlalchemy as sa

    from watchdog.errors import WarehouseUnavailable
    from watchdog.warehouses import create
    from watchdog.warehouses.sqlbase import Statement

    path = str(tmp_path / "shared.duckdb")
    other = duckdb.connect(path)  # e.g. a loader, with DuckDB's defaults
    other.execute("CREATE TABLE t AS SELECT 1 AS x")
    wh = create("d", "duckdb", {"path": path, "threads": 1})
    assert wh._fetch(Statement(name="s", sql="SELECT x FROM t"))[0][0] == 1  # type: ignore[attr-defined]
    wh.close()
    other.close()
    # duckdb-engine's own connect adds an option DuckDB counts as another configuration:
    # the error says so in one line, with what to do
    engine = sa.create_engine(f"duckdb:///{path}")
    with engine.connect():
        wh = create("d", "duckdb", {"path": path})
        with pytest.raises(WarehouseUnavailable, match="other options.*duckdb.connect"):
            wh._fetch(Statement(name="s", sql="SELECT x FROM t"))  # type: ignore[attr-defined]
    engine.dispose()


@pytest.mark.parametrize("how", ["softsign", "atan"])
def test_ks_counts_put_infinities_and_huge_values_in_the_end_buckets(warehouse: Env,
                                                                      how: str) -> None:
    """+-inf and finite values far out land in the unbounded end buckets (the softsign SQL
    is written so that inf / inf never happens), NaN and NULL in the missing count."""
    wh, seed = warehouse
    if "far" not in seed.tables:
        values = [-math.inf, -1e300, -3.0, 0.0, 2.5, 1e300, math.inf, math.nan, None]
        seed.create_table("far", {"x": "float"}, [{"x": v} for v in values])
    resolution = 1000
    got = wh.ks_counts(seed.table("far"), {"x": FineGrid(0.0, 1.0, resolution, how)})["x"]
    expected = _buckets(np.array([-3.0, 0.0, 2.5]), FineGrid(0.0, 1.0, resolution, how))
    assert got.counts[0] == 2 and got.counts[resolution] == 2
    assert sorted(int(b) for b in np.flatnonzero(got.counts)[1:-1]) == sorted(expected)
    assert got.missing == 2 and got.total == 9
