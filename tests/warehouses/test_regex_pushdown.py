"""``str_matches`` in the database on every adapter, against Python's ``re.match`` on the
same values; patterns a POSIX engine (Redshift, Snowflake) would read differently go to the
sampled path instead, and the SQL of the rule is pinned as golden per adapter."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
import sqlglot

from tests.warehouses.seeding import Seeder
from tests.warehouses.test_golden import OFFLINE_SETTINGS
from watchdog.contracts.compile import plan
from watchdog.contracts.model import ContractSpec
from watchdog.errors import UnsupportedFeature
from watchdog.models import Column, Rule, TableRef
from watchdog.warehouses import Warehouse, available, create, get_class
from watchdog.warehouses.regex import posix_portable
from watchdog.warehouses.sqlbase import SqlWarehouse

#: ASCII values without line breaks: there every engine's classes and anchors agree.
VALUES = ["A12", "a12", "", "B7x", "AB", "Z9", "12A", "A-1", "x.y", "xzy", "ab@cd.com",
          "ab@cd.org", " A1", "A1 ", "AAA", "aaa", "123-4567", "12-4567", "a|b", "abcd",
          "ab", "(ab)", "tab\tA1", "]x", "-", "AA9", "{x}"]
#: Patterns every engine reads as Python does, each failing on some values and not others.
PORTABLE = [r"[A-Z][0-9]+", r"\d{3}-\d{4}$", r"a|b", r"(ab)+c", r"x\.y", r"[^A-Z]",
            r"\w+@\w+\.com$", r"A{2,}", r".?1", r"[A-Z]*$", r"^A", r" ?A\d", r"(a|ab)(c|bcd)",
            r"\S+\s", r"[]x]", r"[-a]", r"\D\d", r"\W", r"A{1,2}9?$", r"\{x\}", r"a\|b"]
#: Constructs POSIX engines lack or read differently from Python.
UNPORTABLE = [r"(?:A)\d", r"A\d*?", r"A\d+?1", r"A??", r"A{1,2}?", r"A*+", r"(a)\1",
              r"\bab", r"\AA", r"A1\Z", r"\p{L}", r"A{,2}", r"x{", r"x}", r"[\d]",
              r"[[:alpha:]]", r"a|", r"(|a)", r"()", r"\t", r"A{300}", r"(?i)a", r"(?=A)A",
              r"(?<=a)b", r"\x41", r"(?P<n>a)", r"[a--b]", "", r"\u0041"]


def _rule(pattern: str) -> Rule:
    return Rule(check="str_matches", columns=("s",), family="string", args={"pattern": pattern})


def _python_failures(pattern: str) -> int:
    return sum(re.match(pattern, v) is None for v in VALUES)


@pytest.mark.parametrize("pattern", PORTABLE)
def test_portable_patterns_are_accepted(pattern: str) -> None:
    assert posix_portable(pattern)
    assert 0 < _python_failures(pattern) < len(VALUES)  # each pattern tells values apart


@pytest.mark.parametrize("pattern", UNPORTABLE)
def test_unportable_patterns_are_refused(pattern: str) -> None:
    assert not posix_portable(pattern)


@pytest.fixture
def strings(warehouse: tuple[Warehouse, Seeder]) -> tuple[Warehouse, TableRef]:
    wh, seed = warehouse
    if "regex_values" not in seed.tables:
        seed.create_table("regex_values", {"s": "string"}, [{"s": v} for v in [*VALUES, None]])
    return wh, seed.table("regex_values")


def test_portable_patterns_count_in_the_database_like_re_match(strings: Any) -> None:
    wh, table = strings
    if not wh.SUPPORTS_REGEX:
        assert not any(wh.pushes_regex(p) for p in PORTABLE)
        return
    assert all(wh.pushes_regex(p) for p in PORTABLE)
    counts = wh.contract_failures(table, [_rule(p) for p in PORTABLE])
    assert counts.rows == len(VALUES) + 1  # the NULL row is read, and never fails
    assert list(counts.failures) == [_python_failures(p) for p in PORTABLE]


#: Valid Python patterns that some engine lacks (a query error there) or reads otherwise
#: (``\b`` is a backspace in Postgres): lookarounds, backreferences, named groups, flags,
#: possessive and atomic forms, ``\Z``, ``{,n}``. Each engine must refuse them or agree.
ENGINE_SPECIFIC = [r"\w+\b", r".*\bA", r"(?=A)A\d", r"A(?!1)", r"(?<=a)b", r"(a)\1",
                   r"(?P<x>A)\d", r"(?P<x>a)(?P=x)", r"(?i)a1", r"(?x) A 1", r"A\d+\Z",
                   r"A1\b", r"A*+1", r"(?>A)1", r"A{,1}1", r"(?:A|B)\d", r"A\d*?2", r"\Aa"]


def test_every_engine_refuses_or_agrees_on_engine_specific_patterns(strings: Any) -> None:
    """Never an error, never a silently different count: a pattern an engine would fail on
    or read unlike Python runs on the sample instead."""
    wh, table = strings
    pushed = [p for p in ENGINE_SPECIFIC if wh.pushes_regex(p)]
    if not wh.SUPPORTS_REGEX:
        assert pushed == []
        return
    for pattern in ENGINE_SPECIFIC:
        if pattern in pushed:
            (failures,) = wh.contract_failures(table, [_rule(pattern)]).failures
            assert failures == _python_failures(pattern), pattern
        else:
            with pytest.raises(UnsupportedFeature, match="runs on the sample"):
                wh.contract_failures(table, [_rule(pattern)])
    expected = {"duckdb": 8, "postgres": 8, "redshift": 0, "snowflake": 0}
    assert len(pushed) == expected.get(wh.NAME, len(pushed)), (wh.NAME, pushed)


def test_examples_are_the_values_re_match_rejects(strings: Any) -> None:
    wh, table = strings
    if not wh.SUPPORTS_REGEX:
        pytest.skip(f"{wh.NAME} has no regex function: str_matches runs on the sample")
    patterns = [r"[A-Z][0-9]+", r"\d{3}-\d{4}$", r"[A-Z]*$"]
    found = wh.failure_examples(table, [_rule(p) for p in patterns], len(VALUES))
    for pattern, values in zip(patterns, found, strict=True):
        assert sorted(values) == sorted(v for v in VALUES if re.match(pattern, v) is None)


def test_posix_engines_send_unportable_patterns_to_the_sample(strings: Any) -> None:
    wh, table = strings
    if not wh.SUPPORTS_REGEX or wh.REGEX_SYNTAX != "posix":
        pytest.skip(f"{wh.NAME} is not a POSIX engine (see the engine-specific test)")
    for pattern in UNPORTABLE:
        assert not wh.pushes_regex(pattern)
        with pytest.raises(UnsupportedFeature, match="runs on the sample"):
            wh.contract_failures(table, [_rule(pattern)])


def test_the_plan_runs_each_pattern_where_the_warehouse_reads_it_right() -> None:
    spec = ContractSpec.model_validate({
        "warehouse": "wh", "table": "t", "columns": {
            "code": {"dtype": "str", "checks": {"str_matches": r"[A-Z]\d+"}},
            "lazy": {"dtype": "str", "checks": {"str_matches": r"[A-Z]\d+?"}}}})
    live = [Column(name=n, position=i, data_type="text", type_family="string", nullable=True)
            for i, n in enumerate(["code", "lazy"], 1)]
    for name in ("redshift", "snowflake", "postgres", "sqlite"):
        if name not in available():
            continue
        wh = create("wh", name, OFFLINE_SETTINGS[name])
        checks, _ = plan(spec, live, supports_regex=wh.pushes_regex)
        where = {c.column: c.where for c in checks}
        if name in ("redshift", "snowflake"):
            assert where == {"code": "warehouse", "lazy": "sample"}
        elif name == "postgres":
            assert where == {"code": "warehouse", "lazy": "warehouse"}
        else:
            assert where == {"code": "sample", "lazy": "sample"}


GOLDEN = Path(__file__).parent / "golden"
RULES = [_rule(r"[A-Z]{2}\d+$"), _rule(r"(ab|c)*\.x")]


def _regex_adapters() -> list[str]:
    names = [n for n in available() if n in OFFLINE_SETTINGS]
    return sorted(n for n in names if issubclass(get_class(n), SqlWarehouse)
                  and get_class(n).SUPPORTS_REGEX)


@pytest.mark.parametrize("type_name", _regex_adapters())
@pytest.mark.parametrize("query", ["contract_failures", "failure_examples"])
def test_str_matches_sql_matches_golden(type_name: str, query: str) -> None:
    wh = create("golden", type_name, OFFLINE_SETTINGS[type_name])
    assert isinstance(wh, SqlWarehouse)
    args: dict[str, Any] = {"table": TableRef(schema="analytics", name="events"), "rules": RULES}
    stmt = wh.render(query, **args, **({"limit": 5} if query == "failure_examples" else {}))
    params = ", ".join(f"{k}={v!r}" for k, v in sorted(stmt.params.items()))
    text = f"-- params: {params}\n{stmt.sql}\n"
    path = GOLDEN / type_name / "str_matches" / f"{query}.sql"
    if os.environ.get("WATCHDOG_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert text == path.read_text(), f"{path} differs; if intended, WATCHDOG_UPDATE_GOLDEN=1"
    sql = stmt.sql.replace("\\:", ":")
    assert len(sqlglot.parse(sql, read=wh.DIALECT, error_level=sqlglot.ErrorLevel.RAISE)) == 1
