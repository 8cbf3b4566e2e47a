"""Bins mode against scipy on the same rows: the fine grid brings KS within 1e-4 and the
normed Wasserstein distance within 1e-3, each with a bound that holds."""

from __future__ import annotations

import base64
import copy
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest
from scipy import stats as sps

from watchdog.checks import stats
from watchdog.checks.drift.analysis import DriftAnalysis, analyse
from watchdog.checks.drift.params import DriftParams
from watchdog.checks.drift.profile import (
    KIND,
    build_profile,
    fine_histogram,
    load_profile,
    pack_counts,
    snap_edges,
    unpack_counts,
)
from watchdog.models import FineGrid
from watchdog.state import Store
from watchdog.warehouses import create

NOW = datetime(2026, 3, 4, tzinfo=UTC)
TOL = 1e-4
Tables = tuple[str, dict[str, Any]]


def _data(seed: int, n: int, current: bool) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    shift = 0.02 if current else 0.0
    # outliers past the fine grid's last bounded buckets (±6366 scales): Wasserstein then
    # needs the extremes, asked for in a second query
    outliers = rng.normal(shift * 20, 1, n)
    outliers[::20_000] = 1e7 * rng.choice([-1.0, 1.0], len(outliers[::20_000]))
    return {"normal": rng.normal(0, 1, n), "shifted": rng.normal(shift, 1, n),
            "skewed": rng.lognormal(shift, 0.8, n), "heavy": rng.standard_t(3, n) + shift,
            "wide": rng.normal(1e4, 50 + 5 * current, n), "outliers": outliers}


def write_tables(path: str, ref_rows: int = 400_000, cur_rows: int = 300_000
                 ) -> dict[str, Any]:
    """The tables ``ref`` and ``cur`` of the six columns in a new DuckDB file at ``path``
    (also bench/drift/ks_bound.py's data); returns their values."""
    data = {"ref": _data(1, ref_rows, False), "cur": _data(2, cur_rows, True)}
    with duckdb.connect(path) as con:
        for name, columns in data.items():
            con.register("frame", columns)
            con.execute(f"CREATE TABLE {name} AS SELECT TIMESTAMP '2026-03-03 12:00' AS ts, *"
                        " FROM frame")
            con.unregister("frame")
    return data


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> Tables:
    path = str(Path(tmp_path_factory.mktemp("ks")) / "ks.duckdb")
    return path, write_tables(path)


def _run(path: str, **extra: Any) -> DriftAnalysis:
    p = DriftParams(id="ks", warehouse="w", table="main.cur", time_column="ts", window="100w",
                    reference={"table": "main.ref"}, **extra)
    wh = create("w", "duckdb", {"path": path, "read_only": True, "memory_limit": "200MB"})
    try:
        return analyse(wh, p, build_profile(wh, p, NOW), 1, NOW)
    finally:
        wh.close()


def test_bins_mode_ks_is_within_1e4_of_scipy_with_a_bound_that_holds(tables: Tables) -> None:
    path, data = tables
    analysis = _run(path)
    for f in analysis.features:
        exact = sps.ks_2samp(data["ref"][f.name], data["cur"][f.name]).statistic
        d, err = f.statistics["ks_statistic"], f.ks_error
        assert err is not None and d - 1e-12 <= exact <= d + err + 1e-12, f.name
        assert abs(d - exact) <= TOL, (f.name, d, exact)
        assert err <= TOL, (f.name, err)  # the guarantee, not just this draw


def test_bins_mode_wasserstein_is_within_1e3_of_scipy_on_all_rows(tables: Tables) -> None:
    path, data = tables
    analysis = _run(path)
    for f in analysis.features:
        ref, cur = data["ref"][f.name], data["cur"][f.name]
        exact = sps.wasserstein_distance(ref, cur) / np.std(ref)  # Evidently's definition
        w, err = f.statistics["wasserstein"], f.wasserstein_error
        assert err is not None and abs(w - exact) <= err + 1e-12, (f.name, w, exact, err)
        if f.name != "outliers":  # inside the unbounded end buckets only the bound holds
            assert abs(w - exact) <= 1e-3 and err <= 1e-3, (f.name, w, exact, err)


def test_without_the_fine_grid_the_bins_only_bound_the_statistic(tables: Tables) -> None:
    path, data = tables
    analysis = _run(path, ks_resolution=0)
    misses = []
    for f in analysis.features:
        exact = sps.ks_2samp(data["ref"][f.name], data["cur"][f.name]).statistic
        d, err = f.statistics["ks_statistic"], f.ks_error
        assert err is not None and d - 1e-12 <= exact <= d + err + 1e-12, f.name
        misses.append(abs(d - exact) > TOL)
    assert any(misses)  # 10 quantile bins alone miss 1e-4: the fine grid is what closes it


@pytest.mark.parametrize(("top", "width"), [(0, 1), (255, 1), (256, 2), (70_000, 4),
                                            (2**40 + 3, 8)])
def test_fine_counts_survive_the_json_profile(top: int, width: int) -> None:
    counts = np.array([0, 5, top, 0, 7], dtype=np.int64)
    text = pack_counts(counts)
    assert isinstance(text, str) and text.startswith(f"u{width}:")
    assert unpack_counts(text).tolist() == counts.tolist()
    # a profile stored before the width prefix: 8-byte counts, no prefix
    old = base64.b64encode(zlib.compress(counts.astype("<u8").tobytes())).decode("ascii")
    assert unpack_counts(old).tolist() == counts.tolist()


def _as_layout_3(wh: Any, profile: dict[str, Any], p: DriftParams) -> dict[str, Any]:
    """``profile`` as a watchdog before layout 4 stored it: every fine grid an atan grid of
    ``ks_resolution`` buckets (no ``map``), its counts, bins and edge buckets from that grid."""
    old = copy.deepcopy(profile)
    old["schema"] = 3
    table = wh.table("main.ref")
    for name, f in old["features"].items():
        ks = f.get("ks")
        if not ks:
            continue
        grid = FineGrid(ks["center"], ks["scale"], p.ks_resolution, "atan")
        fine = wh.ks_counts(table, {name: grid}, moments=True)[name]
        cuts = snap_edges(stats.quantile_edges(np.asarray(f["sample"]), p.bins), grid)
        h = fine_histogram(fine.counts, cuts, stats.grid_boundaries(*grid), fine.missing)
        f.update(edges=list(h.edges), counts=list(h.counts), below=h.below, above=h.above,
                 missing=h.missing, total=h.total, edge_buckets=cuts)
        del ks["map"]
        ks.update(resolution=grid.resolution, counts=pack_counts(fine.counts))
    return old


def test_a_profile_of_layout_3_is_read_with_its_atan_grid_not_rebuilt(
        tables: Tables, tmp_path: Path) -> None:
    """Profiles stored before the softsign grid keep working as they are: the check asks
    the warehouse for atan buckets and its KS and Wasserstein still bracket scipy's."""
    path, data = tables
    p = DriftParams(id="ks", warehouse="w", table="main.cur", time_column="ts", window="100w",
                    reference={"table": "main.ref"})
    wh = create("w", "duckdb", {"path": path, "read_only": True})
    sent: list[str] = []
    try:
        old = _as_layout_3(wh, build_profile(wh, p, NOW), p)
        store = Store.open(f"sqlite:///{tmp_path}/state.db")
        try:
            version = store.put_artifact(KIND, p.id, old)
            assert load_profile(store, p) == (version, old)  # kept: not rebuilt
        finally:
            store.close()
        wh.executor.listen(lambda stmt: sent.append(stmt.sql))  # type: ignore[attr-defined]
        analysis = analyse(wh, p, old, version, NOW)
    finally:
        wh.close()
    assert any("ATAN(" in sql for sql in sent) and not any("SIGN(" in sql for sql in sent)
    for f in analysis.features:
        ref, cur = data["ref"][f.name], data["cur"][f.name]
        exact = sps.ks_2samp(ref, cur).statistic
        d, err = f.statistics["ks_statistic"], f.ks_error
        assert err is not None and d - 1e-12 <= exact <= d + err + 1e-12, f.name
        assert abs(d - exact) <= TOL and err <= TOL, (f.name, d, exact, err)
        w = sps.wasserstein_distance(ref, cur) / np.std(ref)
        assert abs(f.statistics["wasserstein"] - w) <= f.wasserstein_error + 1e-12, f.name
