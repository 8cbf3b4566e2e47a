"""The backtest query as a sqlglot tree (``SqlWarehouse.TREES``), rendered by each dialect.

One scan of the predictions in ``[start, end)``, left-joined to their labels on the key
(the ``wd_rows`` CTE): each prediction's window of prediction time (``Epoch``), groups,
score and label (NULL unless both are there: a labelled prediction), its log loss (of the
clipped score) and Brier terms, its fine score bucket and its label delay. The range is
``TimeRange`` (the bare time column against binds in its own type, as the volume and
freshness queries compare it, so partitions prune); the window is found on
``Epoch(time)`` against a bound epoch, which reads the same in every dialect.

Off that scan, ``UNION ALL`` of narrow aggregates, ordered by window, group, part and
bucket (``build_backtest``): per window and group one row of every sum of
``models.BacktestSums`` (part 0: the confusion counts, log loss and Brier sums, the
regression sums, and over every scored prediction, labelled or not, the expected
confusion counts of confidence-based estimation ``est_*``); per score bucket only what
AUROC, calibration and the estimated AUROC need (part 1); per logarithmic bucket of the
label delay (``floor(ln(1 + delay) / ln(DELAY_BASE))``, delays of 0 or less in bucket 0)
the labelled rows, for its quantiles (part 2). Only aggregates leave the warehouse; the
ordered columns are folded with numpy (``_fold``), not row by row.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from watchdog.lazy import lazy
from watchdog.models import BacktestSpec, BacktestSums, BacktestWindow, Buckets, TableRef
from watchdog.warehouses import tree_sql
from watchdog.warehouses.base import as_utc, buckets
from watchdog.warehouses.tree_sql import Parts, Tree, bind

if TYPE_CHECKING:
    import numpy as np
    from sqlglot import exp

    from watchdog.warehouses.sqlbase import SqlWarehouse
else:
    exp = lazy("sqlglot.expressions")
    np = lazy("numpy")

#: Scores are clipped to [eps, 1 - eps] in the log loss (``metrics.LOG_LOSS_EPS``).
LOG_LOSS_EPS = 1e-15
#: Label delay buckets grow by this factor: 1 + delay is known to within ``DELAY_BASE``.
DELAY_BASE = 1.01

Agg = Callable[[], "exp.Expr"]


def _col(name: str) -> exp.Column:
    return exp.column(name)


def _qualified(wh: SqlWarehouse, alias: str, name: str) -> exp.Column:
    return exp.Column(this=tree_sql.ident(wh, name), table=exp.to_identifier(alias))


def _case(cond: exp.Expr, then: exp.Expr, default: exp.Expr | None = None) -> exp.Case:
    return exp.Case(ifs=[exp.If(this=cond, true=then)], default=default)


def _num(n: int) -> exp.Expr:
    return exp.Literal.number(n)


def _epoch(col: exp.Expr) -> exp.Expr:
    from watchdog.warehouses.dialects import Epoch  # imports sqlglot's dialects

    return Epoch(this=col)


def _sq(e: Agg) -> exp.Expr:
    return exp.Mul(this=exp.paren(e()), expression=exp.paren(e()))


def _fourth(e: Agg) -> exp.Expr:
    return exp.Mul(this=exp.paren(_sq(e)), expression=exp.paren(_sq(e)))


def _classification(params: dict[str, Any]) -> list[tuple[str, exp.Expr]]:
    s, y, loss, brier = _col("wd_s"), _col("wd_y"), _col("wd_l"), _col("wd_b")
    threshold = bind(params, "threshold", 0.0)
    pos = exp.EQ(this=y.copy(), expression=_num(1))
    neg = exp.EQ(this=y.copy(), expression=_num(0))

    def hit() -> exp.Expr:
        return exp.GTE(this=s.copy(), expression=threshold.copy())

    miss = exp.LT(this=s.copy(), expression=threshold.copy())
    q = _col("wd_q")

    def expect(side: type[exp.Expr], negative: bool) -> exp.Expr:
        value = exp.Sub(this=_num(1), expression=q.copy()) if negative else q.copy()
        cond = side(this=q.copy(), expression=threshold.copy())
        return exp.Sum(this=_case(cond, value))

    estimated = [("scored", exp.Count(this=q.copy())),
                 ("est_tp", expect(exp.GTE, False)), ("est_fp", expect(exp.GTE, True)),
                 ("est_fn", expect(exp.LT, False)), ("est_tn", expect(exp.LT, True))]
    return [
        ("tp", exp.CountIf(this=exp.and_(hit(), pos.copy()))),
        ("fp", exp.CountIf(this=exp.and_(hit(), neg.copy()))),
        ("fn", exp.CountIf(this=exp.and_(miss, pos.copy()))),
        ("positives", exp.CountIf(this=pos.copy())), ("score_sum", exp.Sum(this=s.copy())),
        ("log_loss_sum", exp.Sum(this=loss.copy())),
        ("log_loss_sq", exp.Sum(this=exp.Mul(this=loss.copy(), expression=loss.copy()))),
        ("brier_sum", exp.Sum(this=brier.copy())),
        ("brier_sq", exp.Sum(this=exp.Mul(this=brier.copy(), expression=brier.copy()))),
        *estimated,
    ]


def _regression() -> list[tuple[str, exp.Expr]]:
    s, y = _col("wd_s"), _col("wd_y")
    nonzero = exp.NEQ(this=y.copy(), expression=_num(0))

    def err() -> exp.Expr:
        return exp.Sub(this=s.copy(), expression=y.copy())

    def label() -> exp.Expr:
        return y.copy()

    def ape() -> exp.Expr:
        return _case(nonzero.copy(), exp.Div(this=exp.Abs(this=err()),
                                             expression=exp.Abs(this=y.copy())))

    return [
        ("error_sum", exp.Sum(this=err())), ("abs_error_sum", exp.Sum(this=exp.Abs(this=err()))),
        ("sq_error_sum", exp.Sum(this=_sq(err))), ("quartic_error_sum", exp.Sum(this=_fourth(err))),
        ("label_sum", exp.Sum(this=label())), ("label_sq_sum", exp.Sum(this=_sq(label))),
        ("ape_sum", exp.Sum(this=ape())), ("ape_sq_sum", exp.Sum(this=_sq(ape))),
        ("ape_rows", exp.CountIf(this=nonzero.copy())),
    ]


def _aggregates(spec: BacktestSpec, params: dict[str, Any]) -> list[tuple[str, exp.Expr]]:
    """The outer select's aggregates, named as ``BacktestSums``' fields."""
    out: list[tuple[str, exp.Expr]] = [
        ("predictions", exp.Count(this=exp.Star())), ("labelled", exp.Count(this=_col("wd_y")))]
    if spec.task == "classification":
        out += _classification(params)
        params["threshold"] = float(spec.threshold)
    else:
        out += _regression()
    if spec.label_time is not None:
        out += [("delay_sum", exp.Sum(this=_col("wd_delay"))),
                ("delay_max", exp.Max(this=_col("wd_delay")))]
    return out


def sums_names(spec: BacktestSpec) -> list[str]:
    """The names of :func:`_aggregates`, in order, without sqlglot (a kept statement is run
    without importing it)."""
    out = ["predictions", "labelled"]
    if spec.task == "classification":
        out += ["tp", "fp", "fn", "positives", "score_sum", "log_loss_sum", "log_loss_sq",
                "brier_sum", "brier_sq", "scored", "est_tp", "est_fp", "est_fn", "est_tn"]
    else:
        out += ["error_sum", "abs_error_sum", "sq_error_sum", "quartic_error_sum", "label_sum",
                "label_sq_sum", "ape_sum", "ape_sq_sum", "ape_rows"]
    if spec.label_time is not None:
        out += ["delay_sum", "delay_max"]
    return out


def _inner(wh: SqlWarehouse, spec: BacktestSpec, params: dict[str, Any]) -> exp.Select:
    """Each prediction in the range: its window, groups, and (when labelled) score, label,
    clipped score, score bucket and label delay."""
    when = _qualified(wh, "p", spec.time_column)
    score = exp.cast(_qualified(wh, "p", spec.score), "double")
    raw = _qualified(wh, "l", spec.label)
    scored = exp.not_(exp.paren(tree_sql.missing(score)))
    labelled = exp.and_(scored.copy(), exp.not_(exp.Is(this=raw.copy(), expression=exp.Null())))
    start, seconds = exp.Placeholder(this="start_epoch"), exp.Placeholder(this="window_seconds")
    window = exp.cast(exp.Floor(this=exp.Div(this=exp.paren(exp.Sub(
        this=_epoch(when.copy()), expression=start)), expression=seconds)), "bigint")
    fields: list[exp.Expr] = [exp.alias_(window, "wd_window")]
    fields += [exp.alias_(_qualified(wh, "p", g), f"wd_g{i}") for i, g in enumerate(spec.group_by)]
    if spec.task == "classification":
        positive = exp.NEQ(this=exp.cast(raw, "int"), expression=_num(0))
        truth: exp.Expr = _case(positive, _num(1), _num(0))
        eps = bind(params, "eps", LOG_LOSS_EPS)
        top = bind(params, "one_minus_eps", 1 - LOG_LOSS_EPS)
        clipped = exp.Case(ifs=[
            exp.If(this=exp.LT(this=score.copy(), expression=eps), true=eps.copy()),
            exp.If(this=exp.GT(this=score.copy(), expression=top), true=top.copy())],
            default=score.copy())
        bucket = exp.cast(exp.Round(this=exp.Mul(this=score.copy(), expression=bind(
            params, "resolution", int(spec.resolution)))), "bigint")
        one = exp.EQ(this=truth.copy(), expression=_num(1))
        loss = exp.Neg(this=_case(one, exp.Ln(this=clipped.copy()), exp.Ln(
            this=exp.Sub(this=_num(1), expression=clipped.copy()))))
        gap = exp.paren(exp.Sub(this=score.copy(), expression=truth.copy()))
        fields += [exp.alias_(_case(labelled.copy(), loss), "wd_l"),
                   exp.alias_(_case(labelled.copy(), exp.Mul(this=gap, expression=gap.copy())),
                              "wd_b"),
                   exp.alias_(_case(scored.copy(), bucket), "wd_bucket"),
                   exp.alias_(_case(scored.copy(), score.copy()), "wd_q")]
    else:
        truth = exp.cast(raw, "double")
    fields += [exp.alias_(_case(labelled.copy(), score.copy()), "wd_s"),
               exp.alias_(_case(labelled.copy(), truth), "wd_y")]
    if spec.label_time is not None:
        delay = exp.Sub(this=_epoch(_qualified(wh, "l", spec.label_time)),
                        expression=_epoch(when.copy()))
        log = exp.Mul(this=exp.Ln(this=exp.Add(this=_num(1), expression=delay.copy())),
                      expression=bind(params, "delay_scale", 1 / math.log(DELAY_BASE)))
        dbucket = _case(exp.GT(this=delay.copy(), expression=_num(0)),
                        exp.cast(exp.Floor(this=log), "bigint"), _num(0))
        fields += [exp.alias_(_case(labelled.copy(), delay), "wd_delay"),
                   exp.alias_(_case(labelled.copy(), dbucket), "wd_dbucket")]
    on = exp.and_(*(exp.EQ(this=_qualified(wh, "p", a), expression=_qualified(wh, "l", b))
                    for a, b in zip(spec.key, spec.label_key, strict=True)))
    from watchdog.warehouses.dialects import TimeRange

    # the bare column against binds in its own type where the dialect compares times (so
    # indexes, zone maps and BigQuery's partitions prune), epochs where it cannot (SQLite)
    in_range = TimeRange(this=when.copy(), start=exp.Placeholder(this="start"),
                         end=exp.Placeholder(this="end"),
                         start_epoch=exp.Placeholder(this="start_epoch"),
                         end_epoch=exp.Placeholder(this="end_epoch"))
    return (exp.select(*fields)
            .from_(exp.alias_(tree_sql.table(wh, spec.predictions), "p", table=True), copy=False)
            .join(exp.alias_(tree_sql.table(wh, spec.labels), "l", table=True), on=on,
                  join_type="left", copy=False)
            .where(in_range, copy=False))


def _branch(groups: list[str], part: int, bucket: str | None, names: list[str],
            values: dict[str, exp.Expr]) -> exp.Select:
    """One ``UNION ALL`` branch: per window and group (and ``bucket``, a column, whose NULLs
    are left out), the ``values`` in the columns of the same names (the others NULL)."""
    by = _col(bucket) if bucket else exp.cast(exp.Null(), "bigint")
    fields = [*map(_col, groups), exp.alias_(_num(part), "wd_part"),
              exp.alias_(by, "wd_bucket"),
              *(exp.alias_(values.get(name, exp.Null()), name) for name in names)]
    select = exp.select(*fields).from_("wd_rows", copy=False)
    if bucket:
        select = select.where(exp.not_(exp.Is(this=_col(bucket), expression=exp.Null())),
                              copy=False)
    return select.group_by(*(_num(i + 1) for i in range(len(groups))),
                           *([_num(len(groups) + 2)] if bucket else []), copy=False)


def build_backtest(wh: SqlWarehouse, spec: BacktestSpec, start: datetime, end: datetime,
                   window: timedelta, table: TableRef | None = None,
                   time_type: str | None = None) -> Tree:
    """``(wd_window, wd_g0.., wd_part, wd_bucket, <BacktestSums fields>)`` rows for the
    predictions made in ``[start, end)``, ordered by those columns: per window and group one
    row of every sum (``wd_part`` 0); classification, per score bucket the labelled rows,
    their positives, the scored rows and the sum of their scores (part 1, in ``labelled``,
    ``positives``, ``scored`` and ``score_sum``); with a label time, per delay bucket the
    labelled rows (part 2, in ``labelled``). ``table`` is only the subject that errors
    name (the predictions); ``time_type`` the type family of their time column, for
    binding the range in it."""
    params = _range_params(wh, spec, start, end, window, time_type)
    inner = _inner(wh, spec, params)
    groups = ["wd_window", *(f"wd_g{i}" for i in range(len(spec.group_by)))]
    aggregates = _aggregates(spec, params)
    names = sums_names(spec)
    branches = [_branch(groups, 0, None, names, dict(aggregates))]
    if spec.task == "classification":
        q, y = _col("wd_q"), _col("wd_y")
        branches.append(_branch(groups, 1, "wd_bucket", names, {
            "labelled": exp.Count(this=y.copy()),
            "positives": exp.CountIf(this=exp.EQ(this=y.copy(), expression=_num(1))),
            "scored": exp.Count(this=q.copy()), "score_sum": exp.Sum(this=q.copy())}))
    if spec.label_time is not None:
        branches.append(_branch(groups, 2, "wd_dbucket", names,
                                {"labelled": exp.Count(this=exp.Star())}))
    tree: Any = branches[0]
    for more in branches[1:]:
        tree = exp.union(tree, more, distinct=False, copy=False)
    tree = tree.order_by(*(_num(i + 1) for i in range(len(groups) + 2)), copy=False)
    return tree.with_("wd_rows", as_=inner, copy=False), params


def _range_params(wh: SqlWarehouse, spec: BacktestSpec, start: datetime, end: datetime,
                  window: timedelta, time_type: str | None) -> dict[str, Any]:
    """The binds of the range and the windows (the key checked first)."""
    if not spec.key or len(spec.key) != len(spec.label_key):
        raise ValueError("a backtest joins on a key of one or more columns, as many each side")
    start, end = as_utc(start), as_utc(end)
    column = spec.time_column
    return {"start_epoch": start.timestamp(), "end_epoch": end.timestamp(),
            "window_seconds": window.total_seconds(),
            "start": wh._range_bind(spec.predictions, column, start, time_type, ">="),
            "end": wh._range_bind(spec.predictions, column, end, time_type, "<")}


def backtest_parts(wh: SqlWarehouse, spec: BacktestSpec, start: datetime, end: datetime,
                   window: timedelta, table: TableRef | None = None,
                   time_type: str | None = None) -> Parts:
    """``backtest``'s shape (its names, task and whether it has a label time) and binds,
    without sqlglot (``sqlcache.py``): what :func:`build_backtest` renders and binds."""
    params = _range_params(wh, spec, start, end, window, time_type)
    if spec.task == "classification":
        params.update(eps=LOG_LOSS_EPS, one_minus_eps=1 - LOG_LOSS_EPS,
                      resolution=int(spec.resolution), threshold=float(spec.threshold))
    if spec.label_time is not None:
        params["delay_scale"] = 1 / math.log(DELAY_BASE)
    names = [tree_sql.name(wh, n) for n in (
        spec.time_column, spec.score, spec.label, *spec.key, *spec.label_key, *spec.group_by,
        *([spec.label_time] if spec.label_time is not None else []))]
    shape = (tree_sql.table_shape(wh, spec.predictions), tree_sql.table_shape(wh, spec.labels),
             spec.task, len(spec.key), len(spec.group_by), spec.label_time is not None, names)
    return shape, params


#: The builder's parts: its shape and binds without sqlglot (``sqlcache.py``).
PARTS: dict[Callable[..., Tree], Callable[..., Parts]] = {build_backtest: backtest_parts}

_INTS = frozenset({"predictions", "labelled", "tp", "fp", "fn", "positives", "ape_rows",
                   "scored"})


def backtest(wh: SqlWarehouse, spec: BacktestSpec, start: datetime, end: datetime,
             window: timedelta) -> list[BacktestWindow]:
    spans = buckets(as_utc(start), as_utc(end), window)
    if not spans:
        return []
    stmt = wh.render("backtest", table=spec.predictions, spec=spec, start=start, end=end,
                     window=window, time_type=wh.time_type(spec.predictions, spec.time_column))
    k = len(spec.group_by)
    names = sums_names(spec)
    cols = wh._columns(stmt)
    if not cols or not len(cols[0]):
        return []
    found = _fold(spec, names, k, cols)
    out = []
    for key, sums in found:
        if key[0] is None:
            continue
        index = min(max(int(key[0]), 0), len(spans) - 1)  # clamp float rounding
        out.append(BacktestWindow(start=spans[index][0], end=spans[index][1],
                                  group=tuple(key[1:]), sums=sums))
    return sorted(out, key=lambda w: ([str(v) for v in w.group], w.start))


def _fold(spec: BacktestSpec, names: list[str], k: int,
          cols: Sequence[Any]) -> list[tuple[tuple[Any, ...], BacktestSums]]:
    """The statement's columns (ordered rows, ``build_backtest``) as one ``BacktestSums``
    per window and group, vectorised: a part-0 row opens each cell, the bucket rows after
    it (in bucket order) are sliced out of the columns."""
    part = np.asarray(cols[k + 1], dtype=np.int64)
    cell = np.cumsum(part == 0) - 1
    heads = np.flatnonzero(part == 0)
    bucket = cols[k + 2]
    at = {name: i for i, name in enumerate(names, start=k + 3)}
    extra: list[dict[str, Any]] = [{} for _ in heads]
    if spec.task == "classification":
        rows = np.flatnonzero(part == 1)
        keys, where = _ints(bucket, rows), cell[rows]
        labelled, positives = _ints(cols[at["labelled"]], rows), _ints(cols[at["positives"]], rows)
        scored = _ints(cols[at["scored"]], rows)
        total = np.asarray(cols[at["score_sum"]][rows], dtype=np.float64)
        scores = np.stack([positives, labelled - positives], axis=1)
        expected = np.stack([total, scored - total], axis=1)
        has_labels = labelled > 0
        for i, (a, b) in enumerate(_slices(where, len(heads))):
            mine = slice(a, b)
            lab = has_labels[mine]
            extra[i]["scores"] = Buckets(keys=keys[mine][lab], values=scores[mine][lab])
            extra[i]["expected"] = Buckets(keys=keys[mine], values=expected[mine])
    if spec.label_time is not None:
        rows = np.flatnonzero(part == 2)
        keys, counts = _ints(bucket, rows), _ints(cols[at["labelled"]], rows)[:, None]
        for i, (a, b) in enumerate(_slices(cell[rows], len(heads))):
            extra[i]["delays"] = Buckets(keys=keys[a:b], values=counts[a:b])
    # masked (NULL) values are None in tolist()
    keys_of = list(zip(*(cols[j][heads].tolist() for j in range(k + 1)), strict=True))
    values_of = {name: cols[i][heads].tolist() for name, i in at.items()}
    return [(keys_of[i], BacktestSums(**_scalars(names, {n: v[i] for n, v in values_of.items()}),
                                      **extra[i]))
            for i in range(len(heads))]


def _ints(col: Any, rows: Any) -> Any:
    return np.asarray(np.asarray(col[rows], dtype=np.float64), dtype=np.int64)


def _slices(cells: Any, n: int) -> list[tuple[int, int]]:
    """``(first, end)`` of each cell's rows in ``cells`` (non-decreasing cell numbers)."""
    edges = np.searchsorted(cells, np.arange(n + 1)).tolist()
    return list(zip(edges[:-1], edges[1:], strict=True))


def _scalars(names: list[str], row: dict[str, Any]) -> dict[str, Any]:
    """One cell's sums as Python numbers (NULL sums of no rows: 0)."""
    values: dict[str, Any] = {}
    for name in names:
        value = row[name]
        if name in _INTS:
            values[name] = int(value or 0)
        elif name == "delay_max":
            values[name] = None if value is None else float(value)
        else:
            values[name] = float(value or 0.0)
    return values
