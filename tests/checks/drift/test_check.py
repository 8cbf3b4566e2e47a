"""The drift check end to end on DuckDB, SQLite and real Postgres: profile, current bins,
statistics, judgement, metrics, week over week, attribution, and no re-read of the reference."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from tests.helpers import config_from, database, yaml_block
from watchdog.checks import stats
from watchdog.checks.drift.analysis import analyse
from watchdog.checks.drift.profile import KIND, build_profile, load_profile
from watchdog.config.models import Config
from watchdog.daemon.runner import Runner
from watchdog.models import Status
from watchdog.state import Store
from watchdog.warehouses.sqlbase import Statement

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
KINDS = ["duckdb", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
FLOAT = {"duckdb": "DOUBLE", "sqlite": "REAL", "postgresql": "DOUBLE PRECISION"}
COLUMNS = ["a", "b", "n", "plan", "score", "shap_a", "shap_b"]


def make_data(seed: int, n: int, drift: bool) -> list[dict]:
    rng = np.random.default_rng(seed)
    plans = rng.choice(["basic", "plus", "pro", "enterprise"], n,
                       p=[0.3, 0.3, 0.3, 0.1] if drift else [0.5, 0.35, 0.15, 0.0])
    counts = rng.poisson(3, n).astype(float)
    if drift:
        counts[rng.random(n) < 0.2] = np.nan
    data = {"a": rng.normal(0, 1, n), "b": rng.normal(12 if drift else 10, 2, n), "n": counts,
            "plan": plans, "score": rng.beta(2, 5, n),
            "shap_a": rng.normal(0, 0.1 if drift else 0.6, n),
            "shap_b": rng.normal(0, 0.8 if drift else 0.2, n)}
    times = [NOW - timedelta(seconds=int(s)) for s in rng.integers(1, 86000, n)]
    return [{"ts": t.replace(tzinfo=None), **{c: _value(data[c][i]) for c in data}}
            for i, t in enumerate(times)]


def _value(v: object) -> object:
    if isinstance(v, np.floating):
        return None if np.isnan(v) else float(v)
    return str(v)


def create(engine: sa.Engine, schema: str, name: str, rows: list[dict]) -> None:
    kind = engine.dialect.name
    types = {c: "TEXT" if c == "plan" else FLOAT.get(kind, "DOUBLE") for c in COLUMNS}
    ts = "TEXT" if kind == "sqlite" else "TIMESTAMP"
    spec = ", ".join([f"ts {ts}", *(f"{c} {t}" for c, t in types.items())])
    with engine.begin() as con:
        con.execute(sa.text(f'CREATE TABLE "{schema}"."{name}" ({spec})'))
        if kind == "sqlite":
            rows = [{**r, "ts": r["ts"].isoformat(sep=" ")} for r in rows]
        binds = ", ".join(f":{c}" for c in ["ts", *COLUMNS])
        con.execute(sa.text(f'INSERT INTO "{schema}"."{name}" VALUES ({binds})'), rows)


def monitor(wh: dict, schema: str, extra: str = "") -> str:
    return (
        "env: test\nwarehouses:\n  wh:\n" + yaml_block(wh, 4) + "sinks: {}\n"
        "monitors:\n  - id: drift\n    kind: drift\n    warehouse: wh\n"
        f"    table: {schema}.current\n    time_column: ts\n    window: 1d\n"
        f"    reference: {{table: {schema}.reference}}\n"
        "    features: [a, b, n, plan]\n    prediction_columns: [score]\n"
        "    attribution_columns: {a: shap_a, b: shap_b}\n" + extra
    )


#: The reference (3,000 rows) and a drifted current window (1,500 rows) most tests use.
REF, CUR = (1, 3000, False), (2, 1500, True)


@contextmanager
def drift_warehouse(kind: str, tmp_path: Path) -> Iterator[
        tuple[sa.Engine, str, Config, Store, Runner]]:
    """REF and CUR in a warehouse of ``kind``, the drift monitor's config and a runner on a
    fresh state store; both closed after."""
    with database(kind, tmp_path) as (engine, wh, schema):
        create(engine, schema, "reference", make_data(*REF))
        create(engine, schema, "current", make_data(*CUR))
        config = config_from(tmp_path, monitor(wh, schema))
        store = Store.open(f"sqlite:///{tmp_path}/state.db")
        runner = Runner(config, store, [], clock=lambda: NOW)
        try:
            yield engine, schema, config, store, runner
        finally:
            runner.close()
            store.close()


@pytest.mark.parametrize("kind", KINDS)
def test_drift_is_found_in_the_warehouse_and_matches_exact_statistics(
        kind: str, tmp_path: Path) -> None:
    ref_rows, cur_rows = make_data(*REF), make_data(*CUR)
    with drift_warehouse(kind, tmp_path) as (engine, schema, config, store, runner):
        result = runner.check(config.monitor("drift"))
        assert result.status is Status.FAIL, result
        # the reference is gone: current runs use the stored profile only
        with engine.begin() as con:
            con.execute(sa.text(f'DROP TABLE "{schema}"."reference"'))
        again = runner.check(config.monitor("drift"))
        assert again.status is Status.FAIL and again.metrics == result.metrics
        version, profile = load_profile(store, config.monitor("drift"))  # type: ignore[misc]
        analysis = analyse(runner.warehouse("wh"), config.monitor("drift"), profile, version,
                           NOW)
    drifted = {f.name for f in analysis.features if f.drifted}
    assert drifted == {"b", "n", "plan"}
    assert set(result.reasons) >= {"PSI_ABOVE_THRESHOLD", "MISSING_RATE_CHANGED", "DATA_DRIFT"}
    assert "b (psi" in result.summary and analysis.share_drifted == 0.75
    for f in analysis.features:
        ref = np.array([np.nan if r[f.name] is None else r[f.name] for r in ref_rows], object)
        cur = np.array([np.nan if r[f.name] is None else r[f.name] for r in cur_rows], object)
        if f.type == "numeric":
            edges = profile["features"][f.name]["edges"]
            rc, rb, ra, rm = stats.bin_counts(ref.astype(float), edges)
            cc, cb, ca, cm = stats.bin_counts(cur.astype(float), edges)
            assert f.ref_counts == [rb, *rc, ra] and f.cur_counts == [cb, *cc, ca]
            assert f.cur_missing_rate == pytest.approx(cm / len(cur), abs=1e-12)
        else:
            cats = profile["features"][f.name]["categories"]
            assert set(cats) == {"basic", "plus", "pro"}
            expected_cur = [int((cur == c).sum()) for c in [*cats, "enterprise"]]
            assert f.cur_counts == expected_cur and f.cur_counts[-1] > 0
            assert f.statistics["chi2_pvalue"] == pytest.approx(
                stats.chi2_pvalue(f.ref_counts, expected_cur), abs=1e-12)
        assert f.statistics["psi"] == pytest.approx(stats.psi(f.ref_counts, f.cur_counts),
                                                    abs=1e-12)
    metrics = {(m.name, next((t for t in m.tags if t.startswith("feature:")), None)): m.value
               for m in result.metrics}
    assert metrics[("watchdog.drift.share_drifted", None)] == 0.75
    assert metrics[("watchdog.drift.psi", "feature:b")] > 0.2
    assert metrics[("watchdog.drift.psi", "feature:score")] < 0.2  # prediction did not drift
    # attribution: a's mean |shap| fell, b's rose and overtook it
    assert metrics[("watchdog.drift.attribution_rank_change", "feature:b")] == 1
    assert metrics[("watchdog.drift.attribution_change", "feature:a")] < -0.5
    assert "ATTRIBUTION_DRIFT" in result.reasons


@pytest.mark.parametrize("kind", KINDS)
def test_the_columns_fine_buckets_and_category_counts_are_asked_for_together(
        kind: str, tmp_path: Path) -> None:
    """The three reads of a comparison go out at once (one round trip's time where the
    warehouse runs statements side by side): each waits, as it is sent, until the other two
    are sent too; sent in turn, the first would wait alone until the barrier broke."""
    with drift_warehouse(kind, tmp_path) as (_, _, config, store, runner):
        first = runner.check(config.monitor("drift"))
        version, profile = load_profile(store, config.monitor("drift"))  # type: ignore[misc]
        barrier, sent = threading.Barrier(3, timeout=10), []

        def meet(stmt: Statement) -> None:
            sent.append(stmt.name)
            if stmt.name in ("columns", "ks_counts", "value_counts"):
                barrier.wait()

        adapter = runner.warehouse("wh")
        adapter.executor.listen(meet)  # type: ignore[attr-defined]
        analysis = analyse(adapter, config.monitor("drift"), profile, version, NOW)
    assert sorted(sent[:3]) == ["columns", "ks_counts", "value_counts"] and not barrier.broken
    assert first.status is Status.FAIL
    assert {f.name for f in analysis.features if f.drifted} == {"b", "n", "plan"}


@pytest.mark.parametrize("kind", KINDS)
def test_a_profile_reads_its_categorical_columns_while_it_reads_the_numeric_ones(
        kind: str, tmp_path: Path) -> None:
    """Building the profile, the first category count and the numeric sample go out
    together (each waits, as it is sent, for the other), and the profile is the one built
    reading in turn: every column's part as the single-column reads give it."""
    with drift_warehouse(kind, tmp_path) as (_, schema, config, _, runner):
        p = config.monitor("drift")
        adapter = runner.warehouse("wh")
        barrier, first = threading.Barrier(2, timeout=10), set()

        def meet(stmt: Statement) -> None:
            if stmt.name in ("top_values", "sample") and stmt.name not in first:
                first.add(stmt.name)
                barrier.wait()

        adapter.executor.listen(meet)  # type: ignore[attr-defined]
        profile = build_profile(adapter, p, NOW)
        table = adapter.table(f"{schema}.reference")
        plan = adapter.category_counts(table, "plan", limit=p.max_categories)
        means = adapter.abs_means(table, ["shap_a", "shap_b"])
    assert first == {"top_values", "sample"} and not barrier.broken
    assert profile["features"]["plan"]["categories"] == [v for v, _ in plan.counts]
    assert profile["features"]["plan"]["counts"] == [n for _, n in plan.counts]
    assert profile["attributions"] == {"a": means["shap_a"], "b": means["shap_b"]}
    assert profile["features"]["a"]["type"] == "numeric" and profile["features"]["a"]["ks"]


def test_sample_mode_gives_exact_ks_and_wasserstein_on_the_sample(tmp_path: Path) -> None:
    ref_rows, cur_rows = make_data(1, 2000, False), make_data(2, 800, True)
    with database("duckdb", tmp_path) as (engine, wh, schema):
        create(engine, schema, "reference", ref_rows)
        create(engine, schema, "current", cur_rows)
        extra = "    mode: sample\n    sample_size: 5000\n"
        config = config_from(tmp_path, monitor(wh, schema, extra))
        store = Store.open(f"sqlite:///{tmp_path}/state.db")
        runner = Runner(config, store, [], clock=lambda: NOW)
        result = runner.check(config.monitor("drift"))
        runner.close()
    metrics = {(m.name, m.tags[-2]): m.value for m in result.metrics if "feature:" in m.tags[-2]}
    cur_b = [r["b"] for r in cur_rows]
    ref_b = [r["b"] for r in ref_rows]  # the sample holds every row: both are small
    from scipy import stats as sps

    expected = sps.ks_2samp(ref_b, cur_b, method="asymp")
    assert metrics[("watchdog.drift.ks_statistic", "feature:b")] == pytest.approx(
        expected.statistic, abs=1e-9)
    w = sps.wasserstein_distance(ref_b, cur_b) / np.std(ref_b)
    assert metrics[("watchdog.drift.wasserstein", "feature:b")] == pytest.approx(w, abs=1e-9)


def test_week_over_week_change_is_a_metric_and_a_warning(tmp_path: Path) -> None:
    with database("duckdb", tmp_path) as (engine, wh, schema):
        create(engine, schema, "reference", make_data(1, 3000, False))
        mild = make_data(2, 1500, False)
        for r in mild:
            r["b"] += 0.5  # small drift a week ago
        create(engine, schema, "current", mild)
        extra = "    thresholds: {numeric: {psi: 0.3}, missing_rate_change: null}\n" \
                "    fail_share: 1.0\n    attribution_change: null\n"
        config = config_from(tmp_path, monitor(wh, schema, extra))
        store = Store.open(f"sqlite:///{tmp_path}/state.db")
        runner = Runner(config, store, [], clock=lambda: NOW)
        first = runner.check(config.monitor("drift"))
        # as if that run had been a week ago: its metrics go to the history then
        runner.process(replace(first, started_at=NOW - timedelta(days=7)))
        with engine.begin() as con:
            con.execute(sa.text(f'UPDATE "{schema}"."current" SET b = b + 1.0'))
        now = runner.check(config.monitor("drift"), now=NOW)
        runner.close()
        assert store.get_artifact(KIND, "drift") is not None
        store.close()
    wow = {m.tags[-2]: m.value for m in now.metrics if m.name == "watchdog.drift.psi.wow_change"}
    assert wow["feature:b"] > 0.5
    assert "DRIFT_UP_WEEK_OVER_WEEK" in now.reasons and now.status is Status.WARN
