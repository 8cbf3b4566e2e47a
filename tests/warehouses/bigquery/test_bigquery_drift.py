"""The drift monitor end to end through the runner, on BigQuery: PSI over the bins, KS over the
fine grid (``ks_counts``), and mean |attribution| (``abs_means``).

The stand-in cannot compute, so the test computes what BigQuery would answer (numpy on the
same synthetic rows), records it with the parameters the check must bind, and checks what
the monitor reports against scipy and numpy on those rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.stats as sps

from tests.warehouses.bigquery.helpers import (
    COLUMN_SCHEMA,
    Fake,
    columns_rows,
    names,
    record,
    runner_for,
    sent,
    setup,
)
from watchdog.checks import stats
from watchdog.models import Predicate, Status, TableRef

NOW = datetime(2026, 3, 4, 12, 20, tzinfo=UTC)
EVENTS = TableRef(schema="analytics", name="events")
REFERENCE = TableRef(schema="analytics", name="reference")
#: The current window, [NOW - 1 day, NOW), as the client binds it.
WINDOW = {"w0": ["TIMESTAMP", "2026-03-03 12:20:00+00:00"],
          "w1": ["TIMESTAMP", "2026-03-04 12:20:00+00:00"]}
DRIFT = """\
- id: drift
  kind: drift
  warehouse: bq
  table: analytics.events
  time_column: ts
  window: 1d
  reference: {table: analytics.reference}
  features: [a, plan]
  bins: 4
  ks_resolution: 0
"""


def histogram_row(values: Sequence[float | None], edges: Sequence[float]) -> list[int]:
    """What the ``histograms`` query returns for one column: rows, missing, then the rows
    below each edge (``<=`` the last)."""
    real = [v for v in values if v is not None]
    cumulative = [sum(v < e for v in real) for e in edges[:-1]]
    return [len(values), len(values) - len(real), *cumulative,
            sum(v <= edges[-1] for v in real)]


def buckets(values: Sequence[float | None], edges: Sequence[float]) -> list[int]:
    """Below the first edge, each bin (the last one closed), above the last edge."""
    real = [v for v in values if v is not None]
    inner = [sum(lo <= v < hi for v in real) for lo, hi in zip(edges[:-2], edges[1:-1],
                                                                strict=True)]
    last = sum(edges[-2] <= v <= edges[-1] for v in real)
    return [sum(v < edges[0] for v in real), *inner, last, sum(v > edges[-1] for v in real)]


def edge_params(edges: Sequence[float], column: int = 0) -> dict[str, list[Any]]:
    return {f"c{column}_e{i}": ["FLOAT64", e] for i, e in enumerate(edges)}


def test_drift_through_the_runner(fake: Fake, tmp_path: Path) -> None:
    wh, config = setup(fake, tmp_path, DRIFT)
    monitor = config.monitor("drift")
    server = fake[0]
    live = [("ts", "TIMESTAMP", True), ("a", "FLOAT64", True), ("plan", "STRING", True)]
    record(server, wh.render("columns", tables=[EVENTS]).sql, COLUMN_SCHEMA,
           columns_rows(EVENTS, live), names("events"))
    ref_a = [float(i) for i in range(100)]
    cur_a: list[float | None] = [float(i) for i in range(50, 140)] + [None] * 10
    ref_sample = wh.render("sample", table=REFERENCE, columns=["a"],
                           limit=monitor.sample_size).sql  # type: ignore[attr-defined]
    record(server, ref_sample, [["a", "FLOAT"]], [[v] for v in ref_a],
           {"limit": ["INT64", "5000"]})
    edges = stats.quantile_edges(ref_a, 4)
    assert edges == [0.0, 24.75, 49.5, 74.25, 99.0]  # quartiles of 0..99
    hist_schema = [["row_count", "INTEGER"]] + [[f"f{i}_", "INTEGER"]
                                                for i in range(len(edges) + 1)]
    record(server, wh.render("histograms", table=REFERENCE, edges={"a": edges}).sql,
           hist_schema, [histogram_row(ref_a, edges)], edge_params(edges))
    where = [Predicate(column="ts", op=">=", value=NOW - timedelta(days=1)),
             Predicate(column="ts", op="<", value=NOW)]
    record(server, wh.render("histograms", table=EVENTS, edges={"a": edges}, where=where).sql,
           hist_schema, [histogram_row(cur_a, edges)], {**WINDOW, **edge_params(edges)})
    ref_plan = {"basic": 50, "pro": 50}
    record(server, wh.render("top_values", table=REFERENCE, column="plan",
                             limit=monitor.max_categories).sql,  # type: ignore[attr-defined]
           [["value", "STRING"], ["row_count", "INTEGER"], ["total_rows", "INTEGER"]],
           [[v, n, 100] for v, n in ref_plan.items()], {"limit": ["INT64", "51"]})
    cur_plan = {"basic": 10, "pro": 60}
    record(server, wh.render("value_counts", table=EVENTS, values={"plan": list(ref_plan)},
                             where=where).sql,
           [["feature", "INTEGER"], ["slot", "INTEGER"], ["value", "STRING"],
            ["row_count", "INTEGER"]],
           [[0, 0, v, n] for v, n in cur_plan.items()] + [[0, 1, None, 30]],
           {**WINDOW, "v0_0": ["STRING", "basic"], "v0_1": ["STRING", "pro"]})
    reads = {q: sql for q, sql in zip(
        ["sample", "ref_histograms", "top_values"],
        [ref_sample, wh.render("histograms", table=REFERENCE, edges={"a": edges}).sql,
         wh.render("top_values", table=REFERENCE, column="plan", limit=1).sql],
        strict=True)}
    wh.close()
    runner = runner_for(config, tmp_path, NOW)
    try:
        result = runner.check(monitor)
        n = len(sent(server))
        again = runner.check(monitor)  # from the stored profile: the reference is not read
    finally:
        runner.close()
    assert set(reads.values()) <= set(sent(server)[:n])
    assert not set(reads.values()) & set(sent(server)[n:])
    assert again.status is Status.FAIL and again.metrics == result.metrics
    assert result.status is Status.FAIL
    # 10 of the 100 current values of `a` are NULL: its missing rate moved by 0.1 (limit 0.05)
    # and 30 of plan's 100 values are neither of the reference's two: never seen before
    assert set(result.reasons) == {"PSI_ABOVE_THRESHOLD", "MISSING_RATE_CHANGED", "DATA_DRIFT",
                                   "UNSEEN_CATEGORY"}
    got = {(m.name.rsplit(".", 1)[1], t.split(":", 1)[1]): m.value for m in result.metrics
           for t in m.tags if t.startswith("feature:")}
    ref_buckets, cur_buckets = buckets(ref_a, edges), buckets(cur_a, edges)
    assert sum(ref_buckets) == 100 and sum(cur_buckets) == 90
    assert got[("psi", "a")] == pytest.approx(stats.psi(ref_buckets, cur_buckets))
    assert got[("missing_rate_change", "a")] == pytest.approx(10 / 100)
    plan_ref, plan_cur = [*ref_plan.values(), 0], [*cur_plan.values(), 30]
    assert got[("psi", "plan")] == pytest.approx(stats.psi(plan_ref, plan_cur))
    assert got[("l_infinity", "plan")] == pytest.approx(
        max(abs(r / 100 - c / 100) for r, c in zip(plan_ref, plan_cur, strict=True)))
    assert got[("drifted", "a")] == got[("drifted", "plan")] == 1.0
    assert "drift in 2 of 2 columns" in result.summary


# -- KS over the fine grid, and attributions ------------------------------------------------

FEATURES = ("a", "b", "c")
RESOLUTION = 25_600  # the grid's buckets at the default ks_resolution (1.28 x 20,000)
KS_DRIFT = """\
- id: drift_ks
  kind: drift
  warehouse: bq
  table: analytics.events
  time_column: ts
  window: 1d
  reference: {table: analytics.reference}
  features: [a, b, c]
  attribution_columns: {a: shap_a, b: shap_b, c: shap_c}
  bins: 4
  thresholds: {numeric: {ks_statistic: 0.1}}
  early_window: null  # the recording holds the whole window's queries only
"""


def quartile_edges(x: np.ndarray) -> list[float]:
    """The bin edges the profile takes (distinct quantiles at 0, 1/4, ..., 1)."""
    return [float(e) for e in np.unique(np.quantile(x, np.linspace(0, 1, 5)))]


def grid(x: np.ndarray) -> tuple[float, float]:
    """The fine KS grid of a reference sample: its median, and its IQR / 1.349 (README)."""
    q25, median, q75 = np.quantile(x, (0.25, 0.5, 0.75))
    return float(median), float((q75 - q25) / 1.349)


def fine_buckets(x: np.ndarray, center: float, scale: float) -> np.ndarray:
    """``floor(R/2 * (sign(d) - sign(d) * s / (s + |d|)) + R/2)``, ``d = x - c``: the softsign
    bucket as the ks_counts SQL computes it per row."""
    m, h, d = RESOLUTION / 2, RESOLUTION / 2, x - center
    return np.floor(m * (np.sign(d) - np.sign(d) * scale / (scale + np.abs(d))) + h
                    ).astype(np.int64)


def ks_rows(data: dict[str, np.ndarray], grids: dict[str, tuple[float, float]],
            moments: bool = False) -> list[list[Any]]:
    """The ks_counts answer: (feature, bucket, rows[, sum, sum of squares of x - center])
    per non-empty bucket."""
    rows: list[list[Any]] = []
    for j, name in enumerate(FEATURES):
        x, center = data[name], grids[name][0]
        buckets = fine_buckets(x, *grids[name])
        found, counts = np.unique(buckets, return_counts=True)
        for b, n in zip(found, counts, strict=True):
            d = x[buckets == b] - center
            rows.append([j, int(b), int(n)] + ([float(d.sum()), float((d * d).sum())]
                                               if moments else []))
    return rows


def ks_params(grids: dict[str, tuple[float, float]]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for j, name in enumerate(FEATURES):
        center, scale = grids[name]
        out |= {f"k{j}_c": ["FLOAT64", center], f"k{j}_s": ["FLOAT64", scale],
                f"k{j}_m": ["FLOAT64", RESOLUTION / 2],
                f"k{j}_h": ["FLOAT64", RESOLUTION / 2]}
    return out


def mean_abs(x: np.ndarray) -> float:
    """AVG(ABS(x)) over the non-NULL values (NaN stands for NULL here)."""
    return float(np.nanmean(np.abs(x)))


def test_fine_ks_and_attributions_through_the_runner(fake: Fake, tmp_path: Path) -> None:
    rng = np.random.default_rng(20260304)
    ref = {"a": rng.normal(0, 1, 400), "b": rng.normal(5, 2, 400), "c": rng.gamma(2, 1, 400)}
    cur = {"a": rng.normal(0.45, 1, 300), "b": rng.normal(5, 2, 300), "c": rng.gamma(2, 1, 300)}
    # attributions: `a` doubles and moves from last to first; NULLs (NaN) are left out
    ref_shap = {"a": rng.normal(0.1, 0.02, 400), "b": rng.normal(0.3, 0.05, 400),
                "c": rng.normal(-0.2, 0.05, 400)}
    cur_shap = {"a": rng.normal(0.4, 0.05, 300), "b": rng.normal(0.3, 0.05, 300),
                "c": rng.normal(-0.2, 0.05, 300)}
    ref_shap["b"][::7] = np.nan
    wh, config = setup(fake, tmp_path, KS_DRIFT)
    monitor = config.monitor("drift_ks")
    server = fake[0]
    live = [("ts", "TIMESTAMP", True)] + [(f, "FLOAT64", True) for f in FEATURES] + [
        (f"shap_{f}", "FLOAT64", True) for f in FEATURES]
    record(server, wh.render("columns", tables=[EVENTS]).sql, COLUMN_SCHEMA,
           columns_rows(EVENTS, live), names("events"))
    features, shap = list(FEATURES), [f"shap_{f}" for f in FEATURES]
    record(server, wh.render("sample", table=REFERENCE, columns=features, limit=5000).sql,
           [[f, "FLOAT"] for f in FEATURES],
           np.column_stack([ref[f] for f in FEATURES]).tolist(), {"limit": ["INT64", "5000"]})
    edges = {f: quartile_edges(ref[f]) for f in FEATURES}
    grids = {f: grid(ref[f]) for f in FEATURES}
    where = [Predicate(column="ts", op=">=", value=NOW - timedelta(days=1)),
             Predicate(column="ts", op="<", value=NOW)]
    kgrids = {f: (*grids[f], RESOLUTION) for f in FEATURES}
    ks_schema = [["feature", "INTEGER"], ["bucket", "INTEGER"], ["row_count", "INTEGER"]]
    sums_schema = [["s1", "FLOAT"], ["s2", "FLOAT"]]
    means_schema = [[f"f{i}_", "FLOAT"] for i in range(3)]
    for table, data, shaps, binds, filters in (
            (REFERENCE, ref, ref_shap, {}, []), (EVENTS, cur, cur_shap, WINDOW, where)):
        # the reference's one pass also sums the moments; the bins come from the fine counts
        moments = table is REFERENCE
        record(server, wh.render("ks_counts", table=table, grids=kgrids, where=filters,
                                 moments=moments).sql,
               ks_schema + (sums_schema if moments else []), ks_rows(data, grids, moments),
               {**binds, **ks_params(grids)})
        record(server, wh.render("abs_means", table=table, columns=shap, where=filters).sql,
               means_schema, [[mean_abs(shaps[f]) for f in FEATURES]], binds)
    wh.close()
    runner = runner_for(config, tmp_path, NOW)
    try:
        result = runner.check(monitor)
        again = runner.check(monitor)  # from the stored profile (the reference's fine counts)
    finally:
        runner.close()
    ks_sent = [q for q in sent(server) if "AS `feature`" in q]
    assert len(ks_sent) == 3 and ks_sent[1] == ks_sent[2]  # reference once, current twice
    assert again.metrics == result.metrics
    got = {(m.name.removeprefix("watchdog.drift."), t.split(":", 1)[1]): m.value
           for m in result.metrics for t in m.tags if t.startswith("feature:")}

    for f in FEATURES:
        n_ref, n_cur = len(ref[f]), len(cur[f])
        # the reported statistic: the largest CDF gap at the fine buckets' bounds or at the
        # PSI bins' edges (README, "KS in bins mode"), from the counts BigQuery returned
        fr = np.bincount(fine_buckets(ref[f], *grids[f]), minlength=RESOLUTION + 1) / n_ref
        fc = np.bincount(fine_buckets(cur[f], *grids[f]), minlength=RESOLUTION + 1) / n_cur
        fine = float(np.max(np.abs(np.cumsum(fr) - np.cumsum(fc))))
        e = edges[f]
        binned = max(abs(np.mean(ref[f] < v) - np.mean(cur[f] < v)) for v in e[:-1])
        assert binned < fine - 1e-3  # four bins alone would report less
        assert got[("ks_statistic", f)] == pytest.approx(fine, abs=1e-12)
        # and it is the exact statistic of the rows (scipy), to within what one bucket holds
        exact = sps.ks_2samp(ref[f], cur[f])
        error = float(np.max(np.minimum(fr, fc)))
        assert fine - 1e-12 <= exact.statistic <= fine + error
        asymp = sps.ks_2samp(ref[f], cur[f], method="asymp").pvalue
        assert got[("ks_pvalue", f)] == pytest.approx(asymp, rel=1e-6)
    drifted = {f for f in FEATURES if got[("drifted", f)]}
    assert drifted == {f for f in FEATURES if sps.ks_2samp(ref[f], cur[f]).statistic >= 0.1}
    assert drifted == {"a"}

    r = np.array([mean_abs(ref_shap[f]) for f in FEATURES])
    c = np.array([mean_abs(cur_shap[f]) for f in FEATURES])
    ranks = {f: (int(np.sum(np.abs(r) > abs(r[i]))) - int(np.sum(np.abs(c) > abs(c[i]))))
             for i, f in enumerate(FEATURES)}
    for i, f in enumerate(FEATURES):
        assert got[("attribution_mean_abs", f)] == pytest.approx(c[i])
        assert got[("attribution_change", f)] == pytest.approx((c[i] - r[i]) / abs(r[i]))
        assert got[("attribution_rank_change", f)] == ranks[f]
    assert ranks == {"a": 2, "b": -1, "c": -1}
    (rho,) = [m.value for m in result.metrics
              if m.name == "watchdog.drift.attribution_rank_correlation"]
    assert rho == pytest.approx(sps.spearmanr(r, c).statistic)
    assert result.status is Status.WARN
    assert set(result.reasons) == {"KS_STATISTIC_ABOVE_THRESHOLD", "ATTRIBUTION_DRIFT"}
    (moved,) = [x for x in result.findings if x.reason == "ATTRIBUTION_DRIFT"]
    assert moved.details["feature"] == "a"
