"""Contract checks compiled to SQL, on every adapter, against counts computed in Python.

The same rows also go through the sampled pandera path (a "sample" holding every row), and
both paths must report the same failure counts: that is what lets a contract switch between
``scan: full`` and ``scan: sample`` without changing its meaning.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any

import pytest

from tests.warehouses.seeding import Seeder
from watchdog.contracts.compile import Planned
from watchdog.contracts.sample import evaluate, frame
from watchdog.errors import UnsupportedFeature
from watchdog.models import Predicate, Rule
from watchdog.warehouses import Warehouse

COLUMNS = {"id": "integer", "age": "float", "country": "string", "code": "string",
           "day": "integer"}


def contract_rows() -> list[dict[str, Any]]:
    """60 rows with planted NULLs, NaN, infinities, out-of-range values and duplicates."""
    rows = []
    for i in range(60):
        age: float | None = float(i % 90)
        if i % 11 == 0:
            age = None
        elif i % 13 == 0:
            age = math.nan
        elif i % 17 == 0:
            age = -5.0 if i % 2 else 500.0
        elif i == 59:
            age = math.inf
        country = ["US", "FR", "DE", "XX", None][i % 5]
        code = None if i % 7 == 0 else (f"A{i:02d}" if i % 9 else f"b{i}")
        rows.append({"id": i if i % 10 else i + 1, "age": age, "country": country,
                     "code": code, "day": i % 20})
    return rows


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def expected(rows: list[dict[str, Any]], rule: Rule) -> int:
    """The failing rows of ``rule``, computed directly from the seeded rows."""
    col = rule.columns[0]
    values = [r[col] for r in rows]
    present = [v for v in values if not _missing(v)]
    if rule.check == "not_null":
        return len(values) - len(present)
    if rule.check == "unique":
        return len(present) - len(set(present))
    if rule.check == "unique_combination":
        combos = [tuple(r[c] for c in rule.columns) for r in rows]
        full = [c for c in combos if not any(_missing(v) for v in c)]
        return len(full) - len(set(full))
    a = rule.args
    tests = {
        "in_range": lambda v: a["min_value"] <= v <= a["max_value"],
        "greater_than": lambda v: v > a["value"],
        "less_than_or_equal_to": lambda v: v <= a["value"],
        "isin": lambda v: v in a["values"],
        "notin": lambda v: v not in a["values"],
        "str_matches": lambda v: re.match(a["pattern"], v) is not None,
        "str_length": lambda v: a["min_value"] <= len(v) <= a["max_value"],
        "equal_to": lambda v: v == a["value"],
    }
    return sum(not tests[rule.check](v) for v in present)


RULES = [
    Rule(check="not_null", columns=("age",), family="float"),
    Rule(check="not_null", columns=("country",), family="string"),
    Rule(check="in_range", columns=("age",), family="float",
         args={"min_value": 0, "max_value": 130, "include_min": True, "include_max": True}),
    Rule(check="greater_than", columns=("age",), family="float", args={"value": 1}),
    Rule(check="less_than_or_equal_to", columns=("day",), family="integer", args={"value": 15}),
    Rule(check="isin", columns=("country",), family="string", args={"values": ("US", "FR")}),
    Rule(check="notin", columns=("country",), family="string", args={"values": ("XX",)}),
    Rule(check="str_length", columns=("code",), family="string",
         args={"min_value": 3, "max_value": 3}),
    Rule(check="equal_to", columns=("day",), family="integer", args={"value": 3}),
    Rule(check="unique", columns=("id",), family="integer"),
    Rule(check="unique", columns=("day",), family="integer"),
    Rule(check="unique_combination", columns=("day", "country"), family="other"),
]
REGEX = Rule(check="str_matches", columns=("code",), family="string",
             args={"pattern": "[A-Z][0-9]+"})


@pytest.fixture
def seeded(warehouse: tuple[Warehouse, Seeder]) -> tuple[Warehouse, Any, list[dict[str, Any]]]:
    wh, seed = warehouse
    name = "contract_rows"
    rows = contract_rows()
    if name not in seed.tables:
        seed.create_table(name, COLUMNS, rows)
    return wh, seed.table(name), rows


def _stored(rows: list[dict[str, Any]], wh: Warehouse) -> list[dict[str, Any]]:
    """Rows as this warehouse keeps them (SQLite stores NaN as NULL)."""
    if wh.NAME != "sqlite":
        return rows
    return [{k: None if isinstance(v, float) and math.isnan(v) else v for k, v in r.items()}
            for r in rows]


def test_one_scan_counts_every_rule_like_python(seeded: Any) -> None:
    wh, table, rows = seeded
    counts = wh.contract_failures(table, RULES)
    assert counts.rows == len(rows)
    want = [expected(_stored(rows, wh), r) for r in RULES]
    assert list(counts.failures) == want
    assert all(n > 0 for n in want[:-1])  # every planted problem is really there


def test_filters_apply_to_the_scan(seeded: Any) -> None:
    wh, table, rows = seeded
    where = [Predicate(column="day", op="<", value=10)]
    counts = wh.contract_failures(table, RULES, where)
    kept = [r for r in _stored(rows, wh) if r["day"] < 10]
    assert counts.rows == len(kept)
    assert list(counts.failures) == [expected(kept, r) for r in RULES]


def test_regex_runs_in_the_database_only_where_supported(seeded: Any) -> None:
    wh, table, rows = seeded
    if not wh.SUPPORTS_REGEX:
        with pytest.raises(UnsupportedFeature):
            wh.contract_failures(table, [REGEX])
        return
    assert wh.contract_failures(table, [REGEX]).failures == (expected(rows, REGEX),)


def test_examples_are_failing_values_and_bounded(seeded: Any) -> None:
    wh, table, rows = seeded
    rules = [RULES[2], RULES[5], RULES[9], RULES[11], RULES[0]]
    found = wh.failure_examples(table, rules, 3)
    assert len(found) == len(rules) and found[-1] == []  # not_null: no examples
    in_range = {float(v) for v in found[0]}
    assert 0 < len(in_range) <= 3 and all(v < 0 or v > 130 for v in in_range)
    assert set(found[1]) <= {"DE", "XX"} and found[1]
    dup_ids = {k for k, n in Counter(r["id"] for r in rows).items() if n > 1}
    assert {int(v) for v in found[2]} <= dup_ids and found[2]
    assert all(", " in v for v in found[3]) and 0 < len(found[3]) <= 3


@pytest.mark.parametrize("filtered", [False, True])
def test_examples_asked_with_the_counts_change_no_count(seeded: Any, filtered: bool) -> None:
    """With ``examples``, an adapter may collect failing values in the same scan (DuckDB);
    the counts stay the same, and each example is a failing value of its rule."""
    wh, table, rows = seeded
    where = [Predicate(column="day", op="<", value=10)] if filtered else []
    limits = [3 if i % 4 else 0 for i in range(len(RULES))]  # some rules want none
    plain = wh.contract_failures(table, RULES, where)
    counts = wh.contract_failures(table, RULES, where, limits)
    assert counts.rows == plain.rows and counts.failures == plain.failures
    if counts.examples is None:  # this adapter reads them in a second query
        assert "contract_scan" not in getattr(wh, "TREES", {})
        return
    every = wh.failure_examples(table, RULES, 100_000, where)
    for i, rule in enumerate(RULES):
        shown = counts.examples[i]
        if not limits[i] or rule.check == "not_null" or not counts.failures[i]:
            assert shown == (), rule
            continue
        assert 0 < len(shown) <= 3 and set(shown) <= set(every[i]), rule
        if rule.check == "unique":  # the smallest repeated values, each once
            kept = [r for r in rows if not where or r["day"] < 10]
            repeated = sorted(v for v, k in Counter(r[rule.columns[0]] for r in kept).items()
                              if k > 1 and v is not None)
            assert list(shown) == [str(v) for v in repeated[:3]], rule
    # the smallest failing values (repeats included, as a LIMIT gives them): the same again
    assert wh.contract_failures(table, RULES, where, limits).examples == counts.examples


def test_full_scan_and_sample_path_agree_on_the_same_rows(seeded: Any) -> None:
    wh, table, rows = seeded
    rules = RULES + ([REGEX] if wh.SUPPORTS_REGEX else [])
    counts = wh.contract_failures(table, rules)
    planned = [Planned(column=None if r.check == "unique_combination" else r.columns[0],
                       check=r.check, rule=r, where="sample") for r in rules]
    sampled = wh.sample(table, list(COLUMNS), len(rows) + 10)
    tallies = evaluate(planned, frame(sampled, list(COLUMNS)), examples=3)
    assert [t.count for t in tallies] == list(counts.failures)
