"""Contract checks compiled into SQL: one aggregate scan for the counts, one bounded query
for example failing values. Used by :class:`~watchdog.warehouses.sqlbase.SqlWarehouse`.

Each rule (see :class:`~watchdog.models.Rule`) becomes one ``COUNT(CASE WHEN <fails> THEN 1
END)`` beside ``COUNT(*)``, so a contract costs a single pass over the table and only counts
leave the warehouse. Per-dialect pieces are the adapter's templates: ``MISSING`` (NULL, and
NaN where the type has one), ``REGEX_MATCH`` and ``REGEX_ANCHOR`` (for the patterns
``pushes_regex`` accepts), and ``ROW_VALUE`` / ``ROW_FIELD``.
Every value is a bind parameter ``:r<rule>_<n>``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from watchdog.errors import UnsupportedFeature
from watchdog.models import Predicate, Rule, RuleCounts, TableRef

if TYPE_CHECKING:
    from watchdog.warehouses.sqlbase import Parts, SqlWarehouse

#: The comparison operator of each single-value check (``args['value']``).
COMPARE = {"equal_to": "=", "not_equal_to": "<>", "greater_than": ">",
           "greater_than_or_equal_to": ">=", "less_than": "<", "less_than_or_equal_to": "<="}
#: Families whose values may be NaN (the adapter's MISSING template applies).
_NAN_FAMILIES = frozenset({"float", "decimal"})


class _Binds:
    """Collects the bind values of one rule as ``:r<i>_<n>``."""

    def __init__(self, wh: SqlWarehouse, index: int, params: dict[str, Any]) -> None:
        self.wh, self.prefix, self.params = wh, f"r{index}_", params

    def __call__(self, value: Any) -> str:
        name = f"{self.prefix}{sum(k.startswith(self.prefix) for k in self.params)}"
        self.params[name] = self.wh._bind_value(value)
        return f":{name}"


def missing(wh: SqlWarehouse, rule: Rule, column: str) -> str:
    """The condition under which ``column`` holds no value (NULL, or NaN for floats)."""
    if rule.family in _NAN_FAMILIES:
        return wh.MISSING.format(column=column)
    return f"{column} IS NULL"


def passes(wh: SqlWarehouse, rule: Rule, column: str, bind: _Binds) -> str:
    """The condition a non-missing value of a value check must meet."""
    a = rule.args
    if rule.check in COMPARE:
        return f"{column} {COMPARE[rule.check]} {bind(a['value'])}"
    if rule.check == "in_range":
        low = ">=" if a.get("include_min", True) else ">"
        high = "<=" if a.get("include_max", True) else "<"
        return (f"{column} {low} {bind(a['min_value'])} AND "
                f"{column} {high} {bind(a['max_value'])}")
    if rule.check in ("isin", "notin"):
        values = ", ".join(bind(v) for v in a["values"])
        if not values:
            return "1 = 0" if rule.check == "isin" else "1 = 1"
        return f"{column} {'IN' if rule.check == 'isin' else 'NOT IN'} ({values})"
    if rule.check == "str_matches":
        if not wh.pushes_regex(a["pattern"]):
            raise UnsupportedFeature(wh.name, f"the regular expression {a['pattern']!r} "
                                     "in the database (str_matches runs on the sample)")
        # pandera's str_matches is re.match: anchored at the start only
        pattern = bind(wh.REGEX_ANCHOR.format(pattern=a["pattern"]))
        return wh.REGEX_MATCH.format(column=column, pattern=pattern)
    if rule.check == "str_length":
        conds = []
        if a.get("min_value") is not None:
            conds.append(f"LENGTH({column}) >= {bind(a['min_value'])}")
        if a.get("max_value") is not None:
            conds.append(f"LENGTH({column}) <= {bind(a['max_value'])}")
        return " AND ".join(conds) or "1 = 1"
    raise ValueError(f"no SQL for contract check {rule.check!r}")


def _not_null_all(wh: SqlWarehouse, rule: Rule) -> str:
    return " AND ".join(f"NOT ({missing(wh, rule, wh.quote(c))})" for c in rule.columns)


#: One column of a combination as text that cannot run into its neighbour: CHR(30) escapes
#: itself and CHR(31), every field ends in CHR(31); for engines without a row value
#: (``ROW_VALUE = "{fields}"``). A NULL field makes the whole value NULL, like pandera's skip.
TEXT_FIELD = ("REPLACE(REPLACE(CAST({column} AS VARCHAR), CHR(30), CHR(30) || CHR(30)),"
              " CHR(31), CHR(30) || CHR(31)) || CHR(31)")


def aggregate(wh: SqlWarehouse, rule: Rule, bind: _Binds) -> str:
    """The aggregate whose value is the number of rows failing ``rule``."""
    cols = [wh.quote(c) for c in rule.columns]
    if rule.check == "not_null":
        return f"COUNT(CASE WHEN {missing(wh, rule, cols[0])} THEN 1 END)"
    if rule.check in ("unique", "unique_combination"):
        present = _not_null_all(wh, rule)
        fields = " || ".join(wh.ROW_FIELD.format(column=c) for c in cols)
        value = cols[0] if len(cols) == 1 else wh.ROW_VALUE.format(
            columns=", ".join(cols), fields=fields)
        # rows beyond the first of each value: pandas' duplicated(keep="first")
        return (f"COUNT(CASE WHEN {present} THEN 1 END)"
                f" - COUNT(DISTINCT CASE WHEN {present} THEN {value} END)")
    col = cols[0]
    return (f"COUNT(CASE WHEN NOT ({missing(wh, rule, col)})"
            f" AND NOT ({passes(wh, rule, col, bind)}) THEN 1 END)")


def _filters(wh: SqlWarehouse, where: Sequence[Predicate]) -> tuple[list[str], dict[str, Any]]:
    return wh._predicates(where)


def build_contract_failures(
    wh: SqlWarehouse, table: TableRef, rules: Sequence[Rule], where: Sequence[Predicate] = (),
) -> Parts:
    """Fragments of the ``contract_failures`` template."""
    conds, params = _filters(wh, where)
    aggregates = "".join(
        f",\n  {aggregate(wh, rule, _Binds(wh, i, params))} AS f{i}"
        for i, rule in enumerate(rules)
    )
    where_sql = "\nWHERE " + "\n  AND ".join(conds) if conds else ""
    return {"table": wh.qualified(table), "aggregates": aggregates, "where": where_sql}, params


def _example_branch(
    wh: SqlWarehouse, index: int, rule: Rule, table: str, conds: list[str], limit: int,
    params: dict[str, Any],
) -> str:
    cols = [wh.quote(c) for c in rule.columns]
    text = " || ', ' || ".join(f"CAST({c} AS VARCHAR)" for c in cols)
    if rule.check in ("unique", "unique_combination"):
        filters = [_not_null_all(wh, rule), *conds]
        tail = f"\nGROUP BY {', '.join(cols)}\nHAVING COUNT(*) > 1"
    else:
        fails = f"NOT ({passes(wh, rule, cols[0], _Binds(wh, index, params))})"
        filters = [f"NOT ({missing(wh, rule, cols[0])})", fails, *conds]
        tail = ""
    return (f"SELECT rule, value FROM (\nSELECT {index} AS rule, {text} AS value\n"
            f"FROM {table}\nWHERE " + "\n  AND ".join(filters) + f"{tail}\nLIMIT {int(limit)}"
            f"\n) AS e{index}")


def build_failure_examples(
    wh: SqlWarehouse, table: TableRef, rules: Sequence[Rule], limit: int,
    where: Sequence[Predicate] = (),
) -> Parts:
    """Fragments of the ``failure_examples`` template: one bounded branch per rule."""
    conds, params = _filters(wh, where)
    target = wh.qualified(table)
    branches = [_example_branch(wh, i, r, target, conds, limit, params)
                for i, r in enumerate(rules) if r.check != "not_null"]
    return {"branches": "\nUNION ALL\n".join(branches)}, params


def build_contract_scan(
    wh: SqlWarehouse, table: TableRef, rules: Sequence[Rule], examples: Sequence[int],
    where: Sequence[Predicate] = (),
) -> Parts:
    """Fragments of ``contract_scan`` (DuckDB): the counts of ``contract_failures`` and up to
    ``examples[i]`` failing values per rule, in one statement that reads each column once.

    A value rule adds ``min(x, n) FILTER (WHERE fails)`` (DuckDB's bounded top-n aggregate:
    the n smallest failing values, cast to text afterwards) beside its count. A uniqueness rule
    with examples moves from ``COUNT - COUNT(DISTINCT)`` (which cannot name the repeated
    values) to a GROUP BY of its columns joined beside the scan: rows beyond the first are
    ``SUM(n) - COUNT(*)`` over the groups, examples the smallest values with ``n > 1``; the
    hash table is the one COUNT(DISTINCT) builds, and the other columns are still read once.
    """
    conds, params = _filters(wh, where)
    target = wh.qualified(table)
    where_sql = "\nWHERE " + "\n  AND ".join(conds) if conds else ""
    aggregates, joins = [], []
    for i, rule in enumerate(rules):
        bind = _Binds(wh, i, params)
        n = int(examples[i]) if i < len(examples) else 0
        cols = [wh.quote(c) for c in rule.columns]
        if rule.check in ("unique", "unique_combination") and n > 0:
            present = " AND ".join([_not_null_all(wh, rule), *conds])
            # one column: group its values and cast only the n shown; a combination: text
            key = cols[0] if len(cols) == 1 else " || ', ' || ".join(
                f"CAST({c} AS VARCHAR)" for c in cols)
            joins.append(
                f",\n(SELECT COALESCE(SUM(n) - COUNT(*), 0) AS f{i},"
                f" {_as_text(f'min(k, {n}) FILTER (WHERE n > 1)')} AS x{i}\n"
                f" FROM (SELECT {key} AS k, COUNT(*) AS n FROM {target}\n"
                f"  WHERE {present}\n  GROUP BY {', '.join(cols)}) AS g{i}) AS u{i}")
            continue
        aggregates.append(f",\n  {aggregate(wh, rule, bind)} AS f{i}")
        if n > 0 and rule.check != "not_null":
            fails = (f"NOT ({missing(wh, rule, cols[0])})"
                     f" AND NOT ({passes(wh, rule, cols[0], bind)})")
            aggregates.append(
                f",\n  {_as_text(f'min({cols[0]}, {n}) FILTER (WHERE {fails})')} AS x{i}")
    return {"table": target, "aggregates": "".join(aggregates), "where": where_sql,
            "joins": "".join(joins)}, params


def _as_text(values: str) -> str:
    """A list of values as text, cast after the top-n aggregate (n casts, not one a row)."""
    return f"list_transform({values}, lambda x: CAST(x AS VARCHAR))"


def contract_failures(
    wh: SqlWarehouse, table: TableRef, rules: Sequence[Rule], where: Sequence[Predicate] = (),
    examples: Sequence[int] = (),
) -> RuleCounts:
    """See :meth:`watchdog.warehouses.base.Warehouse.contract_failures`."""
    if any(examples) and "contract_scan" in wh.QUERIES:
        stmt = wh.render("contract_scan", table=table, rules=rules, examples=examples,
                         where=where)
        got = wh._fetch(stmt)[0]._mapping
        return RuleCounts(
            rows=int(got["row_count"] or 0),
            failures=tuple(int(got[f"f{i}"] or 0) for i in range(len(rules))),
            examples=tuple(tuple(str(v) for v in (got.get(f"x{i}") or ()))
                           for i in range(len(rules))))
    stmt = wh.render("contract_failures", table=table, rules=rules, where=where)
    row = wh._rows(stmt)[0]
    return RuleCounts(rows=int(row[0] or 0), failures=tuple(int(v or 0) for v in row[1:]))


def failure_examples(
    wh: SqlWarehouse, table: TableRef, rules: Sequence[Rule], limit: int,
    where: Sequence[Predicate] = (),
) -> list[list[str]]:
    """See :meth:`watchdog.warehouses.base.Warehouse.failure_examples`."""
    out: list[list[str]] = [[] for _ in rules]
    if limit <= 0 or all(r.check == "not_null" for r in rules):
        return out
    stmt = wh.render("failure_examples", table=table, rules=rules, limit=limit, where=where)
    for index, value in wh._rows(stmt):
        out[int(index)].append(str(value))
    return out


#: DuckDB's one-statement counts and examples (merged into its QUERIES): see
#: :func:`build_contract_scan`.
DUCKDB_QUERIES: dict[str, str] = {
    "contract_scan": ("SELECT *\nFROM (\nSELECT COUNT(*) AS row_count{aggregates}\n"
                      "FROM {table}{where}\n) AS scan{joins}"),
}

#: The templates, merged into ``SqlWarehouse.QUERIES``.
QUERIES: dict[str, str] = {
    "contract_failures": "SELECT COUNT(*) AS row_count{aggregates}\nFROM {table}{where}",
    "failure_examples": "{branches}",
}
