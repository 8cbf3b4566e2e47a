"""The drift queries as sqlglot trees (``SqlWarehouse.TREES``), rendered by each dialect.

Every numeric column's bins in one scan (cumulative conditional counts, ``exp.CountIf``,
which every dialect runs vectorised and which need no GROUP BY per column), one column's
bins by GROUP BY, top-K category counts (the rest folded into "other" by the caller),
counts of known values and fine buckets for KS (each: one GROUP BY per column, all the
columns in one statement). Spellings are the dialect's (``dialects.py``: ``count_if`` or
``COUNT(CASE ...)``, the text type, the NaN test); where a warehouse runs a query faster in
another shape, the builder asks the adapter's capability flag (``GROUPED_VALUE_COUNTS``,
``PACKED_KS_COUNTS``), never its name.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from watchdog.lazy import lazy
from watchdog.models import FineGrid, Predicate, TableRef
from watchdog.warehouses import tree_sql
from watchdog.warehouses.distributions import KsGrid
from watchdog.warehouses.tree_sql import Parts, Tree, bind, condition_parts, conditions, missing

if TYPE_CHECKING:
    from sqlglot import exp

    from watchdog.warehouses.sqlbase import SqlWarehouse
else:
    exp = lazy("sqlglot.expressions")

#: A packed KS count is ``bucket * 2**40 + count`` (``distributions._unpack``).
PACK = 2**40


def _num(n: int) -> exp.Expr:
    return exp.Literal.number(n)


def _count() -> exp.Count:
    return exp.Count(this=exp.Star())


def _as(expression: exp.Expr, name: str | exp.Identifier) -> exp.Expr:
    """``expression AS name``; the expression is used as it is (sqlglot's ``alias_`` would
    copy it, and every expression here is built for its one place)."""
    return exp.alias_(expression, name, copy=False)


def _case(*whens: tuple[exp.Expr, exp.Expr], default: exp.Expr | None = None) -> exp.Case:
    return exp.Case(ifs=[exp.If(this=c, true=t) for c, t in whens], default=default)


def _text(col: exp.Expr) -> exp.Cast:
    """The value as text (TEXT, or the dialect's name for it: STRING on BigQuery)."""
    return exp.cast(col.copy(), exp.DataType.Type.TEXT, copy=False)


def _select(wh: SqlWarehouse, ref: TableRef, columns: Sequence[exp.Expr],
            where: Sequence[Predicate]) -> tuple[exp.Select, dict[str, Any]]:
    """``SELECT columns FROM ref [WHERE filters]`` and the filters' binds."""
    conds, params = conditions(wh, where)
    tree = exp.select(*columns, copy=False).from_(tree_sql.table(wh, ref), copy=False)
    if conds:
        tree = tree.where(exp.and_(*conds, copy=False), copy=False)
    return tree, params


def build_histogram(wh: SqlWarehouse, table: TableRef, column: str, edges: Sequence[float],
                    where: Sequence[Predicate] = ()) -> Tree:
    """One column's bins by GROUP BY over a CASE (``models.Histogram``'s bin numbers: -2
    missing, -1 below, 0..k-1 the bins, k above)."""
    col = tree_sql.column(wh, column)
    k = len(edges) - 1
    params: dict[str, Any] = {}
    e = [bind(params, f"edge_{i}", float(x)) for i, x in enumerate(edges)]
    whens = [(missing(col), _num(-2)), (exp.LT(this=col.copy(), expression=e[0]), _num(-1))]
    whens += [(exp.LT(this=col.copy(), expression=e[i + 1]), _num(i)) for i in range(k - 1)]
    whens.append((exp.LTE(this=col.copy(), expression=e[k]), _num(k - 1)))
    tree, binds = _select(wh, table, [_as(_case(*whens, default=_num(k)), "bin"),
                                      _as(_count(), "row_count")], where)
    return tree.group_by(_num(1)), {**binds, **params}


def build_histograms(wh: SqlWarehouse, table: TableRef, edges: Mapping[str, Sequence[float]],
                     where: Sequence[Predicate] = ()) -> Tree:
    """Rows, then per column its missing count and the rows below each edge (``<=`` the
    last), in one scan."""
    params: dict[str, Any] = {}
    counts: list[exp.Expr] = [_as(_count(), "row_count")]
    for j, (name, col_edges) in enumerate(edges.items()):
        col = tree_sql.column(wh, name)
        counts.append(exp.CountIf(this=missing(col)))
        last = len(col_edges) - 1
        for i, edge in enumerate(col_edges):
            op = exp.LTE if i == last else exp.LT
            value = bind(params, f"c{j}_e{i}", float(edge))
            counts.append(exp.CountIf(this=op(this=col.copy(), expression=value)))
    tree, binds = _select(wh, table, counts, where)
    return tree, {**binds, **params}


def build_top_values(wh: SqlWarehouse, table: TableRef, column: str, limit: int,
                     where: Sequence[Predicate] = ()) -> Tree:
    """The ``limit`` most frequent values as text (ties by value), the NULL group ranked
    first (room is left for it), with the total row count on every row."""
    col = tree_sql.column(wh, column)
    # only the NULL group's text is NULL, and the first key already ranks it: NULLS FIRST
    # is the dialects' own order where they write none (BigQuery, SQLite), explicit elsewhere
    rank = exp.Window(this=exp.RowNumber(), over="OVER", order=exp.Order(expressions=[
        exp.Ordered(this=_case((exp.Is(this=col.copy(), expression=exp.Null()), _num(0)),
                               default=_num(1)), nulls_first=True),
        exp.Ordered(this=_count(), desc=True), exp.Ordered(this=_text(col), nulls_first=True)]))
    ranked, params = _select(wh, table, [
        _as(_text(col), "value"), _as(_count(), "row_count"),
        _as(exp.Window(this=exp.Sum(this=_count()), over="OVER"), "total_rows"),
        _as(rank, "position")], where)
    position = exp.column("position")
    tree = (exp.select(*map(exp.column, ("value", "row_count", "total_rows")))
            .from_(ranked.group_by(col.copy()).subquery("ranked"))
            .where(exp.LTE(this=position, expression=bind(params, "limit", int(limit) + 1)))
            .order_by(position.copy()))
    return tree, params


def build_value_counts(wh: SqlWarehouse, table: TableRef, values: Mapping[str, Sequence[str]],
                       where: Sequence[Predicate] = ()) -> Tree:
    """``(feature, slot, value, rows)`` of several columns in one statement (one GROUP BY
    per column, in one UNION ALL; ``feature`` is the column's position in ``values``): slot
    -1 the NULLs, 0 a known value (as text), 1 the rest. With ``GROUPED_VALUE_COUNTS`` the
    rows are grouped by value first, and only the groups are classified."""
    params: dict[str, Any] = {}
    selects = []
    for j, (column, known_values) in enumerate(values.items()):
        col = tree_sql.column(wh, column)
        names = [bind(params, f"v{j}_{i}", str(v)) for i, v in enumerate(known_values)]
        if not wh.GROUPED_VALUE_COUNTS:
            text: exp.Expr = _text(col)
            rows: exp.Expr = _count()
            source, binds = _select(wh, table, [], where)
        else:
            text, rows = col, exp.Sum(this=exp.column("wd_rows"))
            grouped, binds = _select(wh, table, [
                _as(_text(col), tree_sql.ident(wh, column)),
                _as(_count(), "wd_rows")], where)
            source = exp.select().from_(grouped.group_by(_num(1), copy=False).subquery(
                "grouped", copy=False), copy=False)
        known = (exp.In(this=text.copy(), expressions=names) if names else exp.false())
        slot = _case((exp.Is(this=col.copy(), expression=exp.Null()), _num(-1)),
                     (known, _num(0)), default=_num(1))
        select = source.select(_as(_num(j), "feature"), _as(slot, "slot"),
                               _as(_case((known.copy(), text.copy())), "value"),
                               _as(rows, "row_count"), copy=False)
        selects.append(select.group_by(_num(2), _num(3), copy=False))
        params.update(binds)  # the same filter binds each time
    if not selects:
        raise ValueError("value_counts needs at least one column")
    tree = exp.union(*selects, distinct=False, copy=False) if len(selects) > 1 else selects[0]
    return tree, params


def build_ks_counts(wh: SqlWarehouse, table: TableRef, grids: Mapping[str, KsGrid],
                    where: Sequence[Predicate] = (), moments: bool = False) -> Tree:
    """``(feature, bucket, rows[, s1, s2])``: one GROUP BY per column (bucket -1 holds the
    missing values), in one UNION ALL; with ``PACKED_KS_COUNTS``, one row per feature with
    its ``bucket * 2**40 + rows`` list (unordered, so no sort) and the sums over the
    buckets that are not missing."""
    params: dict[str, Any] = {}
    selects = []
    for j, (name, grid) in enumerate(grids.items()):
        col = tree_sql.column(wh, name)
        center, scale, resolution, how = FineGrid(*grid)
        c, s, m, h = (bind(params, f"k{j}_{k}", v) for k, v in (
            ("c", float(center)), ("s", float(scale)), ("m", _slope(resolution, how)),
            ("h", resolution / 2)))
        offset = exp.Sub(this=col.copy(), expression=c)
        bucket = exp.cast(exp.Floor(this=exp.Add(
            this=exp.Mul(this=m, expression=_squashed(offset, s, how)), expression=h)),
            exp.DataType.Type.INT, copy=False)
        fields = [_as(_num(j), "feature"),
                  _as(_case((missing(col), _num(-1)), default=bucket), "bucket"),
                  _as(_count(), "row_count")]
        if moments:
            fields += [_as(exp.Sum(this=offset.copy()), "s1"), _as(exp.Sum(
                this=exp.Mul(this=exp.paren(offset.copy(), copy=False),
                             expression=exp.paren(offset.copy(), copy=False))),
                "s2")]
        select, binds = _select(wh, table, fields, where)  # the same filter binds each time
        selects.append(select.group_by(_num(2), copy=False))
        params.update(binds)
    if not selects:
        raise ValueError("ks_counts needs at least one column")
    fine = exp.union(*selects, distinct=False, copy=False) if len(selects) > 1 else selects[0]
    return (_packed(fine, moments) if wh.PACKED_KS_COUNTS else fine), params


def _slope(resolution: int, how: str) -> float:
    """``m`` of bucket ``floor(m * g + R/2)``: R/2 for softsign (g in (-1, 1)), R/pi for
    atan (g = atan(t), in (-pi/2, pi/2))."""
    return resolution / math.pi if how == "atan" else resolution / 2


def _squashed(offset: exp.Expr, s: exp.Expr, how: str) -> exp.Expr:
    """The grid's map of ``t = offset / s`` (``models.FineGrid``): ``atan(t)``, or
    ``t / (1 + |t|)`` as ``sign(offset) - sign(offset) * s / (s + |offset|)``, so that
    +-inf give +-1 (not inf / inf) with arithmetic only."""
    if how == "atan":
        return exp.Atan(this=exp.Div(this=exp.paren(offset.copy(), copy=False),
                                     expression=s.copy(), typed=True))
    if how != "softsign":
        raise ValueError(f"unknown fine grid map {how!r}")
    sign = exp.Sign(this=offset.copy())
    return exp.paren(exp.Sub(this=sign, expression=exp.Div(
        this=exp.Mul(this=sign.copy(), expression=s.copy()),
        expression=exp.paren(exp.Add(this=s.copy(), expression=exp.Abs(this=offset.copy())),
                             copy=False), typed=True)), copy=False)


def _packed(fine: exp.Select | exp.Union, moments: bool) -> exp.Select:
    """The fine counts as one row per feature: ``(feature, [bucket * 2**40 + rows, ...][,
    s1, s2])``, the sums over the buckets that are not missing."""
    pack = exp.Add(this=exp.Mul(this=exp.column("bucket"), expression=_num(PACK)),
                   expression=exp.column("row_count"))
    fields: list[exp.Expr] = [exp.column("feature"), _as(exp.ArrayAgg(this=pack), "packed")]
    if moments:
        present = exp.Where(this=exp.GTE(this=exp.column("bucket"), expression=_num(0)))
        fields += [_as(exp.Filter(this=exp.Sum(this=exp.column(f)),
                                         expression=present.copy()), f) for f in ("s1", "s2")]
    return (exp.select(*fields, copy=False).from_(fine.subquery("fine", copy=False), copy=False)
            .group_by(exp.column("feature"), copy=False))


# -- parts: each query's shape and binds without sqlglot (``sqlcache.py``) --------------------

def _base(wh: SqlWarehouse, table: TableRef, where: Sequence[Predicate]
          ) -> tuple[tuple[Any, ...], dict[str, Any]]:
    shape, params = condition_parts(wh, where)
    return (tree_sql.table_shape(wh, table), shape), params


def histogram_parts(wh: SqlWarehouse, table: TableRef, column: str, edges: Sequence[float],
                    where: Sequence[Predicate] = ()) -> Parts:
    base, params = _base(wh, table, where)
    params.update({f"edge_{i}": float(x) for i, x in enumerate(edges)})
    return (*base, tree_sql.name(wh, column), len(edges)), params


def histograms_parts(wh: SqlWarehouse, table: TableRef, edges: Mapping[str, Sequence[float]],
                     where: Sequence[Predicate] = ()) -> Parts:
    base, params = _base(wh, table, where)
    for j, col_edges in enumerate(edges.values()):
        params.update({f"c{j}_e{i}": float(edge) for i, edge in enumerate(col_edges)})
    return (*base, tuple((tree_sql.name(wh, n), len(e)) for n, e in edges.items())), params


def top_values_parts(wh: SqlWarehouse, table: TableRef, column: str, limit: int,
                     where: Sequence[Predicate] = ()) -> Parts:
    base, params = _base(wh, table, where)
    params["limit"] = int(limit) + 1
    return (*base, tree_sql.name(wh, column)), params


def value_counts_parts(wh: SqlWarehouse, table: TableRef,
                       values: Mapping[str, Sequence[str]],
                       where: Sequence[Predicate] = ()) -> Parts:
    if not values:
        raise ValueError("value_counts needs at least one column")
    base, params = _base(wh, table, where)
    for j, known in enumerate(values.values()):
        params.update({f"v{j}_{i}": str(v) for i, v in enumerate(known)})
    return (*base, tuple((tree_sql.name(wh, c), len(v)) for c, v in values.items())), params


def ks_counts_parts(wh: SqlWarehouse, table: TableRef, grids: Mapping[str, KsGrid],
                    where: Sequence[Predicate] = (), moments: bool = False) -> Parts:
    if not grids:
        raise ValueError("ks_counts needs at least one column")
    base, params = _base(wh, table, where)
    maps = []
    for j, grid in enumerate(grids.values()):
        center, scale, resolution, how = FineGrid(*grid)
        params.update({f"k{j}_c": float(center), f"k{j}_s": float(scale),
                       f"k{j}_m": _slope(resolution, how), f"k{j}_h": resolution / 2})
        maps.append(how)
    return (*base, tuple(tree_sql.name(wh, n) for n in grids), bool(moments),
            tuple(maps)), params


def columns_parts(wh: SqlWarehouse, table: TableRef, columns: Sequence[str],
                  where: Sequence[Predicate] = ()) -> Parts:
    """``extremes``' and ``abs_means``' shape and binds."""
    base, params = _base(wh, table, where)
    return (*base, tuple(tree_sql.name(wh, c) for c in columns)), params


#: Each builder's parts (``sqlcache.py``).
PARTS: dict[Callable[..., Tree], Callable[..., Parts]] = {
    build_histogram: histogram_parts,
    build_histograms: histograms_parts,
    build_top_values: top_values_parts,
    build_value_counts: value_counts_parts,
    build_ks_counts: ks_counts_parts,
    tree_sql.build_extremes: columns_parts,
    tree_sql.build_abs_means: columns_parts,
}
