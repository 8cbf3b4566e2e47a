"""``count_successes`` on every adapter: totals and successes per window and group, one query.

Expectations are computed in Python from the rows the seeder wrote (see seeding.py).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.warehouses.seeding import (
    T0,
    WEIRD_TABLE,
    WEIRD_TIME,
    WEIRD_VALUE,
    WINDOW,
    Seeder,
    events_rows,
    weird_rows,
)
from tests.warehouses.test_conformance import selected
from watchdog.models import Predicate, WindowCount
from watchdog.warehouses import Warehouse, buckets

Env = tuple[Warehouse, Seeder]
P = Predicate
SUCCESS_CASES: list[tuple[tuple[Predicate, ...], tuple[str, ...], tuple[Predicate, ...]]] = [
    ((P(column="flag", op="=", value=True),), (), ()),
    ((P(column="flag", op="=", value=True),), ("category",), ()),
    ((P(column="category", op="in", value=["a", "b"]), P(column="id", op=">", value=40)),
     ("flag",), (P(column="id", op="<", value=220),)),
    ((P(column="category", op="is not null"),), ("category", "flag"), ()),
    ((P(column="category", op="=", value="a'; DROP TABLE y; --"),), ("category",), ()),
]


def expected(rows: list[dict[str, Any]], success: tuple[Predicate, ...],
             group_by: tuple[str, ...], where: tuple[Predicate, ...],
             start: datetime, end: datetime, window: timedelta) -> list[WindowCount]:
    """What count_successes must return, computed row by row in Python."""
    spans = buckets(start, end, window)
    cells: dict[tuple[Any, ...], dict[int, list[Any]]] = defaultdict(dict)
    for row in selected(rows, where):
        ts = row["ts"]
        if not start <= ts < end:
            continue
        i = int((ts - start) / window)
        cell = cells[tuple(row[c] for c in group_by)].setdefault(i, [0, 0, None])
        cell[0] += 1
        if selected([row], success):
            cell[1] += 1
            cell[2] = ts if cell[2] is None else max(cell[2], ts)
    if not group_by:
        cells.setdefault((), {})
    out = []
    for group in sorted(cells, key=lambda g: [str(v) for v in g]):
        for i, (s, e) in enumerate(spans):
            total, ok, last = cells[group].get(i, (0, 0, None))
            out.append(WindowCount(start=s, end=e, group=group, total=total, successes=ok,
                                   last_success=last))
    return out


def _same(actual: list[WindowCount], wanted: list[WindowCount]) -> None:
    def key(w: WindowCount) -> tuple[Any, ...]:
        last = None if w.last_success is None else round(w.last_success.timestamp(), 3)
        return (w.start, w.end, w.group, w.total, w.successes, last)

    assert [key(w) for w in actual] == [key(w) for w in wanted]


@pytest.mark.parametrize(("success", "group_by", "where"), SUCCESS_CASES)
def test_count_successes_matches_python(
    warehouse: Env, success: tuple[Predicate, ...], group_by: tuple[str, ...],
    where: tuple[Predicate, ...],
) -> None:
    wh, seed = warehouse
    start, end, window = WINDOW
    got = wh.count_successes(seed.table("events"), "ts", start, end, window, success,
                             group_by, where)
    _same(got, expected(events_rows(), success, group_by, where, start, end, window))
    assert sum(w.total for w in got) > 0


def test_groups_that_vanish_get_zero_windows_and_empty_ranges_are_empty(warehouse: Env) -> None:
    wh, seed = warehouse
    rows = [{"ts": T0 + timedelta(minutes=10 * i), "model": "a" if i < 12 else "b",
             "status": "ok" if i % 3 else "error"} for i in range(18)]
    table = seed.create_table(f"vanish_{seed.type_name}", {"ts": "timestamp", "model": "string",
                                                           "status": "string"}, rows)
    ok = (P(column="status", op="=", value="ok"),)
    got = wh.count_successes(table, "ts", T0, T0 + timedelta(hours=4), timedelta(hours=1), ok,
                             ["model"])
    by_group = {(w.group, w.start): (w.total, w.successes) for w in got}
    assert len(got) == 8  # two groups x four windows, zeros included
    assert by_group[(("a",), T0)] == (6, 4)
    assert by_group[(("a",), T0 + timedelta(hours=2))] == (0, 0)
    assert by_group[(("b",), T0)] == (0, 0)
    assert by_group[(("b",), T0 + timedelta(hours=2))] == (6, 4)
    last_a = max(r["ts"] for r in rows if r["model"] == "a" and r["status"] == "ok")
    (a1,) = [w for w in got if w.group == ("a",) and w.start == T0 + timedelta(hours=1)]
    assert a1.last_success == last_a and a1.last_success.tzinfo is not None
    assert a1.success_ratio == pytest.approx(4 / 6)
    later = T0 + timedelta(days=30)
    empty = wh.count_successes(table, "ts", later, later + timedelta(hours=2),
                               timedelta(hours=1), ok)
    assert [(w.total, w.successes, w.last_success) for w in empty] == [(0, 0, None)] * 2
    assert wh.count_successes(table, "ts", later, later, timedelta(hours=1), ok) == []
    assert wh.count_successes(table, "ts", later, later + timedelta(hours=1),
                              timedelta(hours=1), ok, ["model"]) == []


def test_count_successes_on_names_that_need_quoting(warehouse: Env) -> None:
    wh, seed = warehouse
    rows = weird_rows()
    success = (P(column=WEIRD_VALUE, op=">=", value=4.0),)
    start = T0 - timedelta(minutes=30)
    got = wh.count_successes(seed.table(WEIRD_TABLE), WEIRD_TIME, start,
                             start + timedelta(hours=6), timedelta(hours=2), success,
                             [WEIRD_VALUE])
    assert sum(w.total for w in got) == len(rows)
    assert sum(w.successes for w in got) == sum(r[WEIRD_VALUE] >= 4.0 for r in rows)
    assert {w.group for w in got} == {(r[WEIRD_VALUE],) for r in rows}
    newest = max(r[WEIRD_TIME] for r in rows)
    assert max(w.last_success for w in got if w.last_success) == newest.astimezone(UTC)
