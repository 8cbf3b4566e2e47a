"""Drift findings an on-call reads: a column gone upstream is a finding about that column
(the other features are still judged), a value never seen in the reference is its own
finding, and a shift of the last hours is reported before it dominates the whole day."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from tests.checks.drift.test_check import NOW, create, make_data, monitor
from tests.helpers import config_from, database
from watchdog.checks import stats
from watchdog.daemon.runner import Runner
from watchdog.models import CheckResult, Status
from watchdog.state import Store

KINDS = ["duckdb", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def run_twice(tmp_path: Path, engine: sa.Engine, wh: dict, schema: str, change: str,
              extra: str = "") -> tuple[CheckResult, CheckResult]:
    """Profile and check, apply ``change`` to the current table, check again."""
    config = config_from(tmp_path, monitor(wh, schema, extra))
    runner = Runner(config, Store.open(f"sqlite:///{tmp_path}/state.db"), [],
                    clock=lambda: NOW)
    try:
        before = runner.check(config.monitor("drift"))
        with engine.begin() as con:
            con.execute(sa.text(change.format(t=f'"{schema}"."current"')))
        runner.warehouse("wh").close()  # no cached connection sees the old table
        return before, runner.check(config.monitor("drift"))
    finally:
        runner.close()


def reasons_of(result: CheckResult) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for f in result.problems():
        out.setdefault(f.about, set()).add(f.reason)
    return out


@pytest.mark.parametrize("kind", KINDS)
def test_a_renamed_column_is_a_finding_and_the_others_are_still_judged(
        kind: str, tmp_path: Path) -> None:
    with database(kind, tmp_path) as (engine, wh, schema):
        create(engine, schema, "reference", make_data(1, 3000, False))
        create(engine, schema, "current", make_data(2, 1500, True))
        before, after = run_twice(tmp_path, engine, wh, schema,
                                  "ALTER TABLE {t} RENAME COLUMN b TO b_v2")
    assert "b" in reasons_of(before) and "COLUMN_MISSING" not in before.reasons
    found = reasons_of(after)
    # its distribution is not judged any more (its attribution column still is)
    assert "COLUMN_MISSING" in found["b"] and found["b"] - {"COLUMN_MISSING"} <= {
        "ATTRIBUTION_DRIFT"}
    assert after.status is Status.FAIL and "b: no such column" in after.summary
    # everything else is judged as before: the same findings for the other features
    assert {k: v for k, v in found.items() if k != "b"} == \
        {k: v for k, v in reasons_of(before).items() if k != "b"}
    assert any(m.name == "watchdog.drift.psi" and "feature:plan" in m.tags
               for m in after.metrics)


@pytest.mark.parametrize("kind", ["duckdb", pytest.param("postgres",
                                                          marks=pytest.mark.postgres)])
def test_a_numeric_column_turned_text_is_a_type_mismatch(kind: str, tmp_path: Path) -> None:
    change = ("ALTER TABLE {t} ALTER COLUMN a TYPE VARCHAR" if kind == "duckdb"
              else "ALTER TABLE {t} ALTER COLUMN a TYPE TEXT")
    with database(kind, tmp_path) as (engine, wh, schema):
        create(engine, schema, "reference", make_data(1, 3000, False))
        create(engine, schema, "current", make_data(2, 1500, True))
        _, after = run_twice(tmp_path, engine, wh, schema, change)
    (mismatch,) = [f for f in after.problems() if f.about == "a" and f.reason != (
        "ATTRIBUTION_DRIFT")]
    assert mismatch.reason == "TYPE_MISMATCH" and mismatch.status is Status.FAIL
    assert "b" in reasons_of(after)  # still judged


@pytest.mark.parametrize("kind", KINDS)
def test_a_category_never_seen_in_the_reference_is_its_own_finding(
        kind: str, tmp_path: Path) -> None:
    ref, cur = make_data(1, 3000, False), make_data(2, 1500, True)
    assert "enterprise" not in {r["plan"] for r in ref}
    with database(kind, tmp_path) as (engine, wh, schema):
        create(engine, schema, "reference", ref)
        create(engine, schema, "current", cur)
        _, result = run_twice(tmp_path, engine, wh, schema, "SELECT 1")
    (unseen,) = [f for f in result.problems() if f.reason == "UNSEEN_CATEGORY"]
    plans = Counter(r["plan"] for r in cur)
    assert unseen.about == "plan" and unseen.details["values"] == ["enterprise"]
    assert unseen.details["share"] == pytest.approx(plans["enterprise"] / len(cur), abs=1e-6)
    assert f"'enterprise' ({plans['enterprise']})" in unseen.message


def shifted_day(seed: int, n: int, hours: float) -> list[dict]:
    """A day of rows like the reference, except feature b in the last ``hours`` hours."""
    rows = make_data(seed, n, False)
    rng = np.random.default_rng(seed + 100)
    for r in rows:
        if r["ts"] >= (NOW - timedelta(hours=hours)).replace(tzinfo=None):
            r["b"] = float(rng.normal(14, 2))
    return rows


@pytest.mark.parametrize("kind", KINDS)
def test_a_shift_of_the_last_hours_is_reported_before_it_dominates_the_day(
        kind: str, tmp_path: Path) -> None:
    ref, cur = make_data(1, 6000, False), shifted_day(3, 12000, 3)
    with database(kind, tmp_path) as (engine, wh, schema):
        create(engine, schema, "reference", ref)
        create(engine, schema, "current", cur)
        whole, _ = run_twice(tmp_path, engine, wh, schema, "SELECT 1")
        (tmp_path / "state.db").unlink()
        off, _ = run_twice(tmp_path, engine, wh, schema, "SELECT 1", "    early_window: null\n")
    (early,) = [f for f in whole.problems() if f.about == "b"]
    assert early.details["window"] == "6h" and "in the last 6h" in early.message
    assert early.reason == "PSI_ABOVE_THRESHOLD"
    # the whole day alone does not (yet) call b drifted: the early window saw it first
    assert "b" not in reasons_of(off)
    # and the early PSI is the textbook PSI of the last 6 hours' rows over the profile's bins
    day = [m for m in whole.metrics if m.name == "watchdog.drift.psi" and "feature:b" in m.tags]
    assert day and day[0].value < 0.2 <= early.details["psi"]
    recent = [r["b"] for r in cur if r["ts"] >= (NOW - timedelta(hours=6)).replace(tzinfo=None)]
    edges = np.quantile([r["b"] for r in ref], np.linspace(0, 1, 11))
    assert stats.psi(*[np.histogram(np.clip(x, edges[0], edges[-1]), edges)[0]
                       for x in ([r["b"] for r in ref], recent)]) >= 0.2
