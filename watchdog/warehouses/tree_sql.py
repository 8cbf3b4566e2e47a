"""Queries built once as sqlglot trees, rendered per warehouse by its dialect (``dialects.py``).

A tree builder is ``build(warehouse, **args) -> (tree, params)``, listed in
``SqlWarehouse.TREES``; values are ``exp.Placeholder`` binds, never literals, and names are
quoted identifiers checked by ``SqlWarehouse.quote``'s rules. What differs per warehouse
(NaN tests, casts, quoting) is the dialect's business, not the builder's.

sqlglot is imported on first use, so that start-up does not pay for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from watchdog.lazy import lazy
from watchdog.models import Predicate, TableRef

if TYPE_CHECKING:
    from sqlglot import exp

    from watchdog.warehouses.sqlbase import SqlWarehouse
else:
    exp = lazy("sqlglot.expressions")

Tree = tuple["exp.Expression", dict[str, Any]]
#: What a query's SQL depends on besides the adapter: its names and the filters' form,
#: never a bound value (``sqlcache.py``).
Shape = tuple[Any, ...]
#: A query's parts: its shape and its binds, computed without sqlglot.
Parts = tuple[Shape, dict[str, Any]]


def ident(wh: SqlWarehouse, name: str) -> exp.Identifier:
    """``name`` as a quoted identifier (refused as ``SqlWarehouse.quote`` refuses it)."""
    wh.quote(name)  # raises InvalidIdentifier (with the adapter's hint) for a bad name
    return exp.to_identifier(name, quoted=True)


def column(wh: SqlWarehouse, name: str) -> exp.Column:
    return exp.Column(this=ident(wh, name))


def table(wh: SqlWarehouse, ref: TableRef) -> exp.Table:
    """The table, ``[catalog.]db.name`` as ``SqlWarehouse.table_parts`` names it."""
    *prefix, name = wh.table_parts(ref)
    parts = dict(zip(("catalog", "db")[2 - len(prefix):], prefix, strict=True))
    return exp.Table(this=ident(wh, name), **{k: ident(wh, v) for k, v in parts.items()})


def bind(params: dict[str, Any], name: str, value: Any) -> exp.Placeholder:
    params[name] = value
    return exp.Placeholder(this=name)


def name(wh: SqlWarehouse, text: str) -> str:
    """``text``, refused as ``SqlWarehouse.quote`` refuses a name (no sqlglot needed)."""
    wh.quote(text)
    return text


def table_shape(wh: SqlWarehouse, ref: TableRef) -> tuple[str, ...]:
    """The names ``table`` renders, checked as ``ident`` checks them."""
    return tuple(name(wh, part) for part in wh.table_parts(ref))


def condition_parts(wh: SqlWarehouse, where: Iterable[Predicate], prefix: str = "w"
                    ) -> Parts:
    """The filters' shape (column, operator and, for a list, how many values) and their
    binds ``:<prefix><i>[_<j>]``, without sqlglot: what :func:`conditions` renders and binds
    (a query's parts, ``sqlcache.py``)."""
    shape: list[tuple[Any, ...]] = []
    params: dict[str, Any] = {}
    for i, p in enumerate(where):
        name(wh, p.column)
        if p.op in ("is null", "is not null") or p.op in _COMPARE:
            shape.append((p.column, p.op))
            if p.op in _COMPARE:
                params[f"{prefix}{i}"] = wh._bind_value(p.value)
        elif p.op in ("in", "not in"):
            if isinstance(p.value, str | bytes) or not isinstance(p.value, Iterable):
                raise ValueError(f"filter {p.column} {p.op} needs a list of values")
            values = list(p.value)
            params.update({f"{prefix}{i}_{j}": wh._bind_value(v) for j, v in enumerate(values)})
            shape.append((p.column, p.op, len(values)))
        else:
            raise ValueError(f"unsupported filter operator {p.op!r}")
    return tuple(shape), params


def conditions(wh: SqlWarehouse, where: Iterable[Predicate], prefix: str = "w"
               ) -> tuple[list[exp.Expression], dict[str, Any]]:
    """The filters as conditions, their values as binds ``:<prefix><i>[_<j>]`` (the names
    ``SqlWarehouse._predicates`` gives them; the values :func:`condition_parts` binds)."""
    shape, params = condition_parts(wh, where, prefix)
    conds: list[exp.Expression] = []
    for i, (column_name, op, *count) in enumerate(shape):
        col = column(wh, column_name)
        if op in ("is null", "is not null"):
            test: exp.Expression = exp.Is(this=col, expression=exp.Null())
            conds.append(test if op == "is null" else exp.not_(test))
        elif op in ("in", "not in"):
            binds = [exp.Placeholder(this=f"{prefix}{i}_{j}") for j in range(count[0])]
            if not binds:
                conds.append(exp.false() if op == "in" else exp.true())
                continue
            found = exp.In(this=col, expressions=binds)
            conds.append(found if op == "in" else exp.not_(found))
        else:
            value = exp.Placeholder(this=f"{prefix}{i}")
            conds.append(getattr(exp, _COMPARE[op])(this=col, expression=value))
    return conds, params


#: sqlglot's expression type of each comparison operator.
_COMPARE = {"=": "EQ", "!=": "NEQ", "<": "LT", "<=": "LTE", ">": "GT", ">=": "GTE"}


def missing(col: exp.Expression) -> exp.Condition:
    """``col`` holds no number: NULL, or NaN (the dialect says how NaN is found). Types are
    given as ``DataType.Type`` members: a type name would be parsed on every call."""
    return exp.or_(exp.Is(this=col.copy(), expression=exp.Null()),
                   exp.IsNan(this=exp.cast(col.copy(), exp.DataType.Type.DOUBLE, copy=False)),
                   copy=False)


def _present(col: exp.Expression, then: exp.Expression) -> exp.Expression:
    """``CASE WHEN NOT (<missing>) THEN then END``."""
    case: exp.Expression = exp.Case(
        ifs=[exp.If(this=exp.not_(exp.paren(missing(col))), true=then)])
    return case


def _scan(wh: SqlWarehouse, ref: TableRef, aggregates: Sequence[exp.Expression],
          where: Sequence[Predicate]) -> Tree:
    conds, params = conditions(wh, where)
    tree = exp.select(*(aggregates or [exp.Literal.number(1)])).from_(table(wh, ref))
    if conds:
        tree = tree.where(exp.and_(*conds))
    return tree, params


def build_abs_means(wh: SqlWarehouse, table: TableRef, columns: Sequence[str],
                    where: Sequence[Predicate] = ()) -> Tree:
    """Mean absolute value of each column, NULL and NaN left out."""
    cols = [column(wh, c) for c in columns]
    return _scan(wh, table, [exp.Avg(this=_present(c, exp.Abs(this=c.copy()))) for c in cols],
                 where)


def build_extremes(wh: SqlWarehouse, table: TableRef, columns: Sequence[str],
                   where: Sequence[Predicate] = ()) -> Tree:
    """``MIN`` and ``MAX`` of each column, NULL and NaN left out."""
    aggregates: list[exp.Expression] = []
    for name in columns:
        c = column(wh, name)
        aggregates += [exp.Min(this=_present(c, c.copy())), exp.Max(this=_present(c, c.copy()))]
    return _scan(wh, table, aggregates, where)
