"""Contract checks compiled into sqlglot trees: one aggregate scan for the counts, one
bounded query for example failing values, or both in one statement where the warehouse
can (``contract_scan``: DuckDB's :func:`build_contract_scan`, Postgres'
:func:`build_contract_scan_lazy`). Used by
:class:`~watchdog.warehouses.sqlbase.SqlWarehouse` (``TREES``); each builder's parts
(shape and binds without sqlglot, ``PARTS``) let ``sqlcache.py`` keep its SQL.

Each rule (see :class:`~watchdog.models.Rule`) becomes one ``COUNT(CASE WHEN <fails> THEN 1
END)`` beside ``COUNT(*)``, so a contract costs a single pass over the table and only counts
leave the warehouse. What each warehouse spells its own way is the dialect's
(``dialects.py``): NaN (``exp.IsNan``, for float and decimal columns), the regex match
(``exp.RegexpLike``, for the patterns ``pushes_regex`` accepts, bound as
``dialects.anchored_regex`` writes them) and the row value of a combination
(``dialects.RowValue``). Every value is a bind parameter ``:r<rule>_<n>``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from watchdog.errors import UnsupportedFeature
from watchdog.lazy import lazy
from watchdog.models import Predicate, Rule, RuleCounts, TableRef
from watchdog.warehouses import tree_sql
from watchdog.warehouses.tree_sql import Parts, Tree, column, condition_parts, conditions

if TYPE_CHECKING:
    from sqlglot import exp

    from watchdog.warehouses import dialects
    from watchdog.warehouses.sqlbase import SqlWarehouse
else:
    exp = lazy("sqlglot.expressions")
    dialects = lazy("watchdog.warehouses.dialects")

#: The comparison operator of each single-value check (``args['value']``).
COMPARE = {"equal_to": "=", "not_equal_to": "<>", "greater_than": ">",
           "greater_than_or_equal_to": ">=", "less_than": "<", "less_than_or_equal_to": "<="}
#: sqlglot's expression type of each operator of :data:`COMPARE`.
_OPERATORS = {"=": "EQ", "<>": "NEQ", ">": "GT", ">=": "GTE", "<": "LT", "<=": "LTE"}
#: Families whose values may be NaN (the dialect's NaN test applies).
_NAN_FAMILIES = frozenset({"float", "decimal"})
_UNIQUE = ("unique", "unique_combination")


class _Binds:
    """Collects the bind values of one rule as ``:r<i>_<n>``."""

    def __init__(self, wh: SqlWarehouse, index: int, params: dict[str, Any]) -> None:
        self.wh, self.prefix, self.params = wh, f"r{index}_", params

    def __call__(self, value: Any) -> exp.Placeholder:
        name = f"{self.prefix}{sum(k.startswith(self.prefix) for k in self.params)}"
        return tree_sql.bind(self.params, name, self.wh._bind_value(value))


def _compare(op: str, col: exp.Expr, value: exp.Expr) -> exp.Expr:
    found: exp.Expr = getattr(exp, _OPERATORS[op])(this=col.copy(), expression=value)
    return found


def _number(value: int) -> exp.Expr:
    return exp.Literal.number(int(value))


def missing(rule: Rule, col: exp.Column) -> exp.Expr:
    """The condition under which ``col`` holds no value (NULL, or NaN for floats)."""
    if rule.family in _NAN_FAMILIES:
        return tree_sql.missing(col)
    return exp.Is(this=col.copy(), expression=exp.Null())


def _not(condition: exp.Expr) -> exp.Expr:
    """``NOT (condition)``."""
    return exp.not_(exp.paren(condition))


def passes(wh: SqlWarehouse, rule: Rule, col: exp.Column, bind: _Binds) -> exp.Expr:
    """The condition a non-missing value of a value check must meet."""
    a = rule.args
    if rule.check in COMPARE:
        return _compare(COMPARE[rule.check], col, bind(a["value"]))
    if rule.check == "in_range":
        low = ">=" if a.get("include_min", True) else ">"
        high = "<=" if a.get("include_max", True) else "<"
        return exp.and_(_compare(low, col, bind(a["min_value"])),
                    _compare(high, col, bind(a["max_value"])))
    if rule.check in ("isin", "notin"):
        values = [bind(v) for v in a["values"]]
        if not values:
            return exp.false() if rule.check == "isin" else exp.true()
        found = exp.In(this=col.copy(), expressions=values)
        return found if rule.check == "isin" else exp.not_(found)
    if rule.check == "str_matches":
        if not wh.pushes_regex(a["pattern"]):
            raise UnsupportedFeature(wh.name, f"the regular expression {a['pattern']!r} "
                                     "in the database (str_matches runs on the sample)")
        # pandera's str_matches is re.match: anchored at the start only
        pattern = bind(dialects.anchored_regex(a["pattern"], wh.DIALECT))
        return exp.RegexpLike(this=col.copy(), expression=pattern)
    if rule.check == "str_length":
        length = exp.Length(this=col.copy())
        conds = []
        if a.get("min_value") is not None:
            conds.append(_compare(">=", length, bind(a["min_value"])))
        if a.get("max_value") is not None:
            conds.append(_compare("<=", length, bind(a["max_value"])))
        return exp.and_(*conds) if conds else exp.true()
    raise ValueError(f"no SQL for contract check {rule.check!r}")


def _fails(wh: SqlWarehouse, rule: Rule, col: exp.Column, bind: _Binds) -> exp.Expr:
    """A value check fails: ``NOT (<missing>) AND NOT (<passes>)``."""
    return exp.and_(_not(missing(rule, col)), _not(passes(wh, rule, col, bind)))


def _present(rule: Rule, cols: Sequence[exp.Column]) -> exp.Expr:
    """No column of the rule is missing."""
    return exp.and_(*(_not(missing(rule, c)) for c in cols))


def _count_when(condition: exp.Expr) -> exp.Expr:
    return exp.Count(this=_case(condition, _number(1)))


def _case(condition: exp.Expr, then: exp.Expr) -> exp.Expr:
    case: exp.Expr = exp.Case(ifs=[exp.If(this=condition, true=then)])
    return case


def aggregate(wh: SqlWarehouse, rule: Rule, bind: _Binds) -> exp.Expr:
    """The aggregate whose value is the number of rows failing ``rule``."""
    cols = [column(wh, c) for c in rule.columns]
    if rule.check == "not_null":
        return _count_when(missing(rule, cols[0]))
    if rule.check in _UNIQUE and len(cols) == 1 and rule.family not in _NAN_FAMILIES:
        # NULL is its only missing value, which COUNT skips: no CASE to evaluate per row
        # (5-10% of the contract's scan on Postgres, bench/contracts/pg_statements.py)
        return exp.Sub(this=exp.Count(this=cols[0].copy()),
                       expression=exp.Count(this=exp.Distinct(expressions=[cols[0].copy()])))
    if rule.check in _UNIQUE:
        value = cols[0] if len(cols) == 1 else dialects.RowValue(expressions=cols)
        # rows beyond the first of each value: pandas' duplicated(keep="first")
        distinct = exp.Distinct(expressions=[_case(_present(rule, cols), value.copy())])
        return exp.Sub(this=_count_when(_present(rule, cols)),
                       expression=exp.Count(this=distinct))
    return _count_when(_fails(wh, rule, cols[0], bind))


def _select(wh: SqlWarehouse, table: TableRef, selects: Sequence[exp.Expr],
            conds: Sequence[exp.Expr]) -> exp.Select:
    tree = exp.select(*selects).from_(tree_sql.table(wh, table))
    return tree.where(exp.and_(*conds)) if conds else tree


def _row_count() -> exp.Expr:
    return exp.alias_(exp.Count(this=exp.Star()), "row_count")


def build_contract_failures(
    wh: SqlWarehouse, table: TableRef, rules: Sequence[Rule], where: Sequence[Predicate] = (),
) -> Tree:
    """``SELECT COUNT(*) AS row_count, <failures of rule i> AS f<i>, ... FROM table``."""
    conds, params = conditions(wh, where)
    aggregates = [exp.alias_(aggregate(wh, rule, _Binds(wh, i, params)), f"f{i}")
                  for i, rule in enumerate(rules)]
    return _select(wh, table, [_row_count(), *aggregates], conds), params


def _as_text(cols: Sequence[exp.Expr]) -> exp.Expr:
    """The columns as one text value, ``', '``-separated."""
    text: exp.Expr = exp.cast(cols[0].copy(), "varchar")
    for col in cols[1:]:
        text = exp.DPipe(this=exp.DPipe(this=text, expression=exp.Literal.string(", ")),
                         expression=exp.cast(col.copy(), "varchar"))
    return text


def _example_branch(
    wh: SqlWarehouse, index: int, rule: Rule, table: TableRef,
    conds: Sequence[exp.Expr], limit: int, params: dict[str, Any],
) -> exp.Select:
    """``SELECT rule, value FROM (<up to limit failing values of rule index>) AS e<index>``."""
    cols = [column(wh, c) for c in rule.columns]
    selects = [exp.alias_(_number(index), "rule"), exp.alias_(_as_text(cols), "value")]
    if rule.check in _UNIQUE:
        found = _select(wh, table, selects, [_present(rule, cols), *conds]).group_by(
            *(c.copy() for c in cols)).having(
            exp.GT(this=exp.Count(this=exp.Star()), expression=_number(1)))
    else:
        fails = _not(passes(wh, rule, cols[0], _Binds(wh, index, params)))
        found = _select(wh, table, selects, [_not(missing(rule, cols[0])), fails, *conds])
    return exp.select(exp.column("rule", quoted=True), exp.column("value", quoted=True)).from_(
        found.limit(_number(limit)).subquery(f"e{index}"))


def build_failure_examples(
    wh: SqlWarehouse, table: TableRef, rules: Sequence[Rule], limit: int,
    where: Sequence[Predicate] = (),
) -> Tree:
    """One bounded branch per rule (but ``not_null``), joined by UNION ALL."""
    conds, params = conditions(wh, where)
    branches = [_example_branch(wh, i, r, table, conds, limit, params)
                for i, r in enumerate(rules) if r.check != "not_null"]
    tree: exp.Expression = branches[0]
    for branch in branches[1:]:
        tree = exp.union(tree, branch, distinct=False)
    return tree, params


def _top_text(values: exp.Expr, n: int, condition: exp.Expr) -> exp.Expr:
    """DuckDB's bounded top-n aggregate ``min(values, n) FILTER (WHERE condition)`` (the n
    smallest), as text cast afterwards (n casts, not one a row)."""
    top = exp.Filter(this=exp.Min(this=values, expressions=[_number(n)]),
                     expression=exp.Where(this=condition))
    x = exp.to_identifier("x", quoted=True)
    return exp.Transform(this=top, expression=exp.Lambda(
        this=exp.cast(exp.column(x.copy()), "varchar"), expressions=[x], colon=True))


def _duplicates(wh: SqlWarehouse, index: int, rule: Rule, n: int, table: TableRef,
                conds: Sequence[exp.Expr]) -> exp.Expr:
    """A uniqueness rule with examples, as a GROUP BY of its columns beside the scan: rows
    beyond the first are ``SUM(n) - COUNT(*)`` over the groups, examples the smallest values
    with ``n > 1``."""
    cols = [column(wh, c) for c in rule.columns]
    # one column: group its values and cast only the n shown; a combination: text
    key = cols[0].copy() if len(cols) == 1 else _as_text(cols)
    groups = _select(wh, table, [exp.alias_(key, "k"), exp.alias_(
        exp.Count(this=exp.Star()), "n")], [_present(rule, cols), *conds]).group_by(
        *(c.copy() for c in cols))
    k, rows = exp.column("k", quoted=True), exp.column("n", quoted=True)
    extra = exp.Sub(this=exp.Sum(this=rows.copy()), expression=exp.Count(this=exp.Star()))
    counts = exp.Coalesce(this=extra, expressions=[_number(0)])
    repeated = exp.GT(this=rows.copy(), expression=_number(1))
    return exp.select(exp.alias_(counts, f"f{index}"),
                      exp.alias_(_top_text(k, n, repeated), f"x{index}")).from_(
        groups.subquery(f"g{index}")).subquery(f"u{index}")


def build_contract_scan(
    wh: SqlWarehouse, table: TableRef, rules: Sequence[Rule], examples: Sequence[int],
    where: Sequence[Predicate] = (),
) -> Tree:
    """DuckDB: the counts of ``contract_failures`` and up to ``examples[i]`` failing values
    per rule, in one statement that reads each column once.

    A value rule adds ``min(x, n) FILTER (WHERE fails)`` (DuckDB's bounded top-n aggregate:
    the n smallest failing values, cast to text afterwards) beside its count. A uniqueness rule
    with examples moves from ``COUNT - COUNT(DISTINCT)`` (which cannot name the repeated
    values) to a GROUP BY of its columns joined beside the scan (:func:`_duplicates`); the
    hash table is the one COUNT(DISTINCT) builds, and the other columns are still read once.
    """
    conds, params = conditions(wh, where)
    aggregates: list[exp.Expr] = [_row_count()]
    joins = []
    for i, rule in enumerate(rules):
        bind = _Binds(wh, i, params)
        n = int(examples[i]) if i < len(examples) else 0
        if rule.check in _UNIQUE and n > 0:
            joins.append(_duplicates(wh, i, rule, n, table, conds))
            continue
        aggregates.append(exp.alias_(aggregate(wh, rule, bind), f"f{i}"))
        if n > 0 and rule.check != "not_null":
            col = column(wh, rule.columns[0])
            aggregates.append(exp.alias_(_top_text(col, n, _fails(wh, rule, col, bind)),
                                         f"x{i}"))
    tree = exp.select(exp.Star()).from_(
        _select(wh, table, aggregates, conds).subquery("scan"))
    for join in joins:
        tree = tree.join(join, join_type="cross")
    return tree, params


def _examples_query(wh: SqlWarehouse, rule: Rule, n: int, table: TableRef,
                    conds: Sequence[exp.Expr], fails: exp.Expr | None) -> exp.Select:
    """Up to ``n`` failing values of ``rule`` as text, in a query that stops early: a value
    rule's first ``n`` in scan order (``LIMIT`` ends the scan there), a uniqueness rule's
    ``n`` smallest repeated values (its groups come sorted, so the ``LIMIT`` ends the
    grouping there too; only the sort holds every value, and it spills to disk)."""
    cols = [column(wh, c) for c in rule.columns]
    value = exp.alias_(_as_text(cols), "value")
    if fails is None:
        found = _select(wh, table, [value], [_present(rule, cols), *conds]).group_by(
            *(c.copy() for c in cols)).having(
            exp.GT(this=exp.Count(this=exp.Star()), expression=_number(1))).order_by(
            *(c.copy() for c in cols))
    else:
        found = _select(wh, table, [value], [fails.copy(), *conds])
    return found.limit(_number(n))


def build_contract_scan_lazy(
    wh: SqlWarehouse, table: TableRef, rules: Sequence[Rule], examples: Sequence[int],
    where: Sequence[Predicate] = (),
) -> Tree:
    """Postgres: the counts of ``contract_failures`` and up to ``examples[i]`` failing values
    per rule in one statement, without a bounded top-n aggregate (DuckDB's ``min(x, n)``).

    ``SELECT *, CASE WHEN f<i> > 0 THEN ARRAY(<examples query>) END AS x<i> FROM (<counts>)``:
    each examples query (:func:`_examples_query`) is an uncorrelated subquery, which Postgres
    runs as an InitPlan on first use only, so a rule that passes reads nothing more, and a
    failing one reads only until its ``n``-th failure (a uniqueness rule: its sort). The
    counts are the same aggregates, with the same binds, as ``contract_failures``.
    """
    conds, params = conditions(wh, where)
    aggregates: list[exp.Expr] = [_row_count()]
    extra: list[exp.Expr] = []
    for i, rule in enumerate(rules):
        bind = _Binds(wh, i, params)
        n = int(examples[i]) if i < len(examples) else 0
        fails = None
        if rule.check in _UNIQUE or rule.check == "not_null":
            aggregates.append(exp.alias_(aggregate(wh, rule, bind), f"f{i}"))
        else:
            fails = _fails(wh, rule, column(wh, rule.columns[0]), bind)
            aggregates.append(exp.alias_(_count_when(fails), f"f{i}"))
        if n > 0 and rule.check != "not_null":
            failing = exp.GT(this=exp.column(f"f{i}", table="scan", quoted=True),
                             expression=_number(0))
            found = exp.Array(expressions=[_examples_query(wh, rule, n, table, conds, fails)])
            extra.append(exp.alias_(_case(failing, found), f"x{i}"))
    counts = _select(wh, table, aggregates, conds).subquery("scan")
    return exp.select(exp.Star(), *extra).from_(counts), params


def contract_failures(
    wh: SqlWarehouse, table: TableRef, rules: Sequence[Rule], where: Sequence[Predicate] = (),
    examples: Sequence[int] = (),
) -> RuleCounts:
    """See :meth:`watchdog.warehouses.base.Warehouse.contract_failures`."""
    if any(examples) and "contract_scan" in wh.TREES:
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


# -- parts: each query's shape and binds without sqlglot (``sqlcache.py``) ---------------


def _rule_values(wh: SqlWarehouse, rule: Rule) -> tuple[tuple[Any, ...], list[Any]]:
    """The form of a rule's condition (what its SQL depends on besides names) and the values
    :func:`passes` binds, in its order; raises where :func:`passes` raises."""
    a = rule.args
    if rule.check in ("not_null", *_UNIQUE):
        return (), []
    if rule.check in COMPARE:
        return (), [a["value"]]
    if rule.check == "in_range":
        return ((bool(a.get("include_min", True)), bool(a.get("include_max", True))),
                [a["min_value"], a["max_value"]])
    if rule.check in ("isin", "notin"):
        return (len(a["values"]),), list(a["values"])
    if rule.check == "str_matches":
        if not wh.pushes_regex(a["pattern"]):
            raise UnsupportedFeature(wh.name, f"the regular expression {a['pattern']!r} "
                                     "in the database (str_matches runs on the sample)")
        from watchdog.warehouses import dialects as regex_dialects  # a regex: sqlglot

        return (), [regex_dialects.anchored_regex(a["pattern"], wh.DIALECT)]
    if rule.check == "str_length":
        given = [a.get(k) for k in ("min_value", "max_value")]
        return tuple(v is not None for v in given), [v for v in given if v is not None]
    raise ValueError(f"no SQL for contract check {rule.check!r}")


def _rule_parts(wh: SqlWarehouse, index: int, rule: Rule, params: dict[str, Any],
                times: int = 1) -> tuple[Any, ...]:
    """A rule's shape, its values bound ``times`` times as :class:`_Binds` names them."""
    names = tuple(tree_sql.name(wh, c) for c in rule.columns)
    form, values = _rule_values(wh, rule)
    bound = [wh._bind_value(v) for v in values] * times
    params.update({f"r{index}_{n}": v for n, v in enumerate(bound)})
    return rule.check, names, rule.family in _NAN_FAMILIES, form


def _wanted(rules: Sequence[Rule], examples: Sequence[int]) -> list[int]:
    """The examples each rule's SQL asks for (none for ``not_null``)."""
    return [int(examples[i]) if i < len(examples) and r.check != "not_null" else 0
            for i, r in enumerate(rules)]


def contract_failures_parts(wh: SqlWarehouse, table: TableRef, rules: Sequence[Rule],
                            where: Sequence[Predicate] = ()) -> Parts:
    conds, params = condition_parts(wh, where)
    shape = tuple(_rule_parts(wh, i, r, params) for i, r in enumerate(rules))
    return (tree_sql.table_shape(wh, table), conds, shape), params


def contract_scan_parts(wh: SqlWarehouse, table: TableRef, rules: Sequence[Rule],
                        examples: Sequence[int], where: Sequence[Predicate] = ()) -> Parts:
    """:func:`build_contract_scan_lazy`'s parts: the counts' binds, used again by the
    examples' subqueries."""
    base, params = contract_failures_parts(wh, table, rules, where)
    return (*base, tuple(_wanted(rules, examples))), params


def duckdb_contract_scan_parts(wh: SqlWarehouse, table: TableRef, rules: Sequence[Rule],
                               examples: Sequence[int], where: Sequence[Predicate] = ()
                               ) -> Parts:
    """:func:`build_contract_scan`'s parts: a value rule with examples binds its values
    twice (its count, then its ``min(x, n) FILTER``)."""
    conds, params = condition_parts(wh, where)
    wanted = _wanted(rules, examples)
    shape = tuple(_rule_parts(wh, i, r, params, 2 if n and r.check not in _UNIQUE else 1)
                  for i, (r, n) in enumerate(zip(rules, wanted, strict=True)))
    return (tree_sql.table_shape(wh, table), conds, shape, tuple(wanted)), params


def failure_examples_parts(wh: SqlWarehouse, table: TableRef, rules: Sequence[Rule],
                           limit: int, where: Sequence[Predicate] = ()) -> Parts:
    """:func:`build_failure_examples`'s parts (``not_null`` rules have no branch)."""
    conds, params = condition_parts(wh, where)
    shape = tuple(("not_null",) if r.check == "not_null" else _rule_parts(wh, i, r, params)
                  for i, r in enumerate(rules))
    return (tree_sql.table_shape(wh, table), conds, shape, int(limit)), params


PARTS: dict[Callable[..., Tree], Callable[..., Parts]] = {
    build_contract_failures: contract_failures_parts,
    build_contract_scan_lazy: contract_scan_parts,
    build_contract_scan: duckdb_contract_scan_parts,
    build_failure_examples: failure_examples_parts,
}
