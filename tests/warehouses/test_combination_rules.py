"""Unique-combination rules count on every adapter what the sampled pandera path counts on
the same rows, NULLs and separator characters included: Redshift and Snowflake (no ROW()
there: escaped text fields) as Postgres, DuckDB and SQLite do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.warehouses.seeding import BACKENDS, SERVER_MARKS
from watchdog.contracts.compile import Planned
from watchdog.contracts.sample import evaluate, frame
from watchdog.models import Rule

SEP, ESC = "\x1f", "\x1e"  # what the Redshift encoding ends and escapes fields with
COLUMNS = {"a": "string", "b": "string", "n": "integer"}
ROWS: list[tuple[Any, ...]] = [
    ("x", "y", 1), ("x", "y", 1), ("x", "y", 2),
    ("x" + SEP, "y", 1), ("x", SEP + "y", 1), ("x" + SEP, "y", 1),
    ("x" + ESC, SEP + "y", 1), ("x" + ESC + SEP, "y", 1), ("x", ESC + SEP + "y", 1),
    ("x" + ESC, ESC + "y", 1), ("x" + ESC + ESC, "y", 1), ("x" + ESC + ESC, "y", 1),
    ("x" + ESC, "y" + SEP + "z", 1), ("x" + SEP + "y" + ESC, "z", 1),  # if ESC went unescaped
    (None, "y", 1), (None, "y", 1), ("x", None, 1), ("x", None, 1), (None, None, None),
    ("a ", "b", 2), ("a", " b", 2), ("a", "b", 2), ("a", "b", 2),
    ("", "", 3), ("", "", 3), ("", SEP, 3), (SEP, "", 3),
]
RULES = [Rule(check="unique_combination", columns=("a", "b", "n"), family="other"),
         Rule(check="unique_combination", columns=("a", "b"), family="other"),
         Rule(check="unique_combination", columns=("n", "b"), family="other")]


def _records() -> list[dict[str, Any]]:
    return [dict(zip(COLUMNS, row, strict=True)) for row in ROWS]


def _duplicates(rule: Rule) -> int:
    """Complete combinations beyond the first of each (pandas' duplicated(keep="first"))."""
    combos = [tuple(r[c] for c in rule.columns) for r in _records()]
    full = [c for c in combos if None not in c]
    return len(full) - len(set(full))


def _counts(kind: str, tmp: Path) -> list[int]:
    with BACKENDS[kind](tmp) as seed:
        table = seed.create_table("combos", COLUMNS, _records())
        with seed.connect() as wh:
            return list(wh.contract_failures(table, RULES).failures)


def test_the_encoding_is_needed_and_pandera_counts_as_python() -> None:
    want = [_duplicates(r) for r in RULES]
    naive = [len([c for c in combos if None not in c])
             - len({SEP.join(map(str, c)) for c in combos if None not in c})
             for combos in ([tuple(r[c] for c in rule.columns) for r in _records()]
                            for rule in RULES)]
    assert naive != want  # joining with the separator alone would merge distinct rows
    planned = [Planned(column=None, check="unique", rule=r, where="sample") for r in RULES]
    sampled = [t.count for t in evaluate(planned, frame(_records(), list(COLUMNS)), 3)]
    assert sampled == want


@pytest.mark.parametrize("kind", [pytest.param(k, marks=getattr(pytest.mark, SERVER_MARKS[k]))
                                  if k in SERVER_MARKS else k for k in BACKENDS])
def test_each_adapter_counts_combinations_as_pandera(kind: str, tmp_path: Path) -> None:
    assert _counts(kind, tmp_path) == [_duplicates(r) for r in RULES]
