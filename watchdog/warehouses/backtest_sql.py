"""The backtest query as a sqlglot tree (``SqlWarehouse.TREES``), rendered by each dialect.

One scan of the predictions in ``[start, end)``, left-joined to their labels on the key:
per window of prediction time (``Epoch``), group and (classification) fine score bucket,
the counts and sums of ``models.BacktestSums``, which the check turns into metrics
(``checks/backtest/metrics.py``). Only aggregates leave the warehouse. The inner select
gives each prediction its window, its score and label (NULL unless both are there: a
labelled prediction), the clipped score of the log loss and its label delay; the outer one
aggregates them. The range is ``TimeRange`` (the bare time column against binds in its own
type, as the volume and freshness queries compare it, so partitions prune); the window is
found on ``Epoch(time)`` against a bound epoch, which reads the same in every dialect.

Classification also sums, over every scored prediction (labelled or not), the expected
confusion counts of confidence-based estimation (``est_*``: the scores and one minus them,
each side of the threshold), per score bucket. With a label time, a second branch of the
same statement (``UNION ALL`` over the same rows) counts the labelled predictions per
logarithmic bucket of their label delay (``wd_dbucket``: ``floor(ln(1 + delay) /
ln(DELAY_BASE))``, delays of 0 or less in bucket 0), for its quantiles; the first branch's
rows have it NULL.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from watchdog.lazy import lazy
from watchdog.models import BacktestSpec, BacktestSums, BacktestWindow, TableRef
from watchdog.warehouses import tree_sql
from watchdog.warehouses.base import as_utc, buckets
from watchdog.warehouses.tree_sql import Tree, bind

if TYPE_CHECKING:
    from sqlglot import exp

    from watchdog.warehouses.sqlbase import SqlWarehouse
else:
    exp = lazy("sqlglot.expressions")

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
    s, y, p = _col("wd_s"), _col("wd_y"), _col("wd_p")
    threshold = bind(params, "threshold", 0.0)
    pos = exp.EQ(this=y.copy(), expression=_num(1))
    neg = exp.EQ(this=y.copy(), expression=_num(0))

    def hit() -> exp.Expr:
        return exp.GTE(this=s.copy(), expression=threshold.copy())

    def loss() -> exp.Expr:
        return _case(pos.copy(), exp.Ln(this=p.copy()),
                     exp.Ln(this=exp.Sub(this=_num(1), expression=p.copy())))

    def brier() -> exp.Expr:
        return exp.Sub(this=s.copy(), expression=y.copy())

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
        ("log_loss_sum", exp.Neg(this=exp.Sum(this=loss()))),
        ("log_loss_sq", exp.Sum(this=_sq(loss))), ("brier_sum", exp.Sum(this=_sq(brier))),
        ("brier_sq", exp.Sum(this=_fourth(brier))), *estimated,
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
        fields += [exp.alias_(_case(labelled.copy(), clipped), "wd_p"),
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
            .from_(exp.alias_(tree_sql.table(wh, spec.predictions), "p", table=True))
            .join(exp.alias_(tree_sql.table(wh, spec.labels), "l", table=True), on=on,
                  join_type="left")
            .where(in_range))


def build_backtest(wh: SqlWarehouse, spec: BacktestSpec, start: datetime, end: datetime,
                   window: timedelta, table: TableRef | None = None,
                   time_type: str | None = None) -> Tree:
    """``(wd_window, wd_g0.., [wd_bucket,] <BacktestSums fields>)`` per window, group and
    (classification) score bucket of the predictions made in ``[start, end)`` (``table``
    is only the subject that errors name: the predictions; ``time_type`` the type family
    of their time column, for binding the range in it)."""
    if not spec.key or len(spec.key) != len(spec.label_key):
        raise ValueError("a backtest joins on a key of one or more columns, as many each side")
    start, end = as_utc(start), as_utc(end)
    column = spec.time_column
    params: dict[str, Any] = {
        "start_epoch": start.timestamp(), "end_epoch": end.timestamp(),
        "window_seconds": window.total_seconds(),
        "start": wh._range_bind(spec.predictions, column, start, time_type, ">="),
        "end": wh._range_bind(spec.predictions, column, end, time_type, "<")}
    inner = _inner(wh, spec, params)
    keys = ["wd_window", *(f"wd_g{i}" for i in range(len(spec.group_by)))]
    if spec.task == "classification":
        keys.append("wd_bucket")
    aggregates = _aggregates(spec, params)
    fields = [*map(_col, keys), *(exp.alias_(e, name) for name, e in aggregates)]
    if spec.label_time is None:
        tree: Any = (exp.select(*fields).from_(inner.subquery("wd_rows"))
                           .group_by(*(_num(i + 1) for i in range(len(keys)))))
        return tree, params
    # the delay histogram: same columns, the count of labelled rows in ``labelled``
    fields.append(exp.alias_(exp.Null(), "wd_dbucket"))
    scores = (exp.select(*fields).from_("wd_rows")
              .group_by(*(_num(i + 1) for i in range(len(keys)))))
    groups = keys[:1 + len(spec.group_by)]
    blanks = [exp.Null() for _ in keys[len(groups):]]
    counts = [exp.Count(this=exp.Star()) if name == "labelled" else exp.Null()
              for name, _ in aggregates]
    delays = (exp.select(*map(_col, groups), *blanks, *counts, _col("wd_dbucket"))
              .from_("wd_rows").where(exp.not_(exp.Is(this=_col("wd_dbucket"),
                                                      expression=exp.Null())))
              .group_by(*(_num(i + 1) for i in range(len(groups))), _num(len(fields))))
    tree = exp.union(scores, delays, distinct=False).with_("wd_rows", as_=inner)
    return tree, params


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
    names = [n for n, _ in _aggregates(spec, {})]
    cells: dict[tuple[tuple[Any, ...], int], list[BacktestSums]] = {}
    for row in wh._rows(stmt):
        if row[0] is None:
            continue
        index = min(max(int(row[0]), 0), len(spans) - 1)  # clamp float rounding
        cells.setdefault((tuple(row[1:k + 1]), index), []).append(
            _sums(spec, names, row[k + 1:]))
    return [BacktestWindow(start=spans[i][0], end=spans[i][1], group=group,
                           sums=BacktestSums.total(parts))
            for (group, i), parts in sorted(cells.items(),
                                            key=lambda kv: ([str(v) for v in kv[0][0]], kv[0][1]))]


def _sums(spec: BacktestSpec, names: list[str], rest: Sequence[Any]) -> BacktestSums:
    """One row's aggregates: a score bucket's (or, classification without a score, the
    unscored predictions'), or with a label time one delay bucket's count (last column)."""
    bucket = None
    if spec.task == "classification":
        bucket, rest = rest[0], rest[1:]
    if spec.label_time is not None:
        rest, dbucket = rest[:-1], rest[-1]
        if dbucket is not None:  # the delay histogram's branch
            return BacktestSums(delays=((int(dbucket), int(rest[names.index("labelled")])),))
    values: dict[str, Any] = {}
    for name, value in zip(names, rest, strict=True):
        if name in _INTS:
            values[name] = int(value or 0)
        elif name == "delay_max":
            values[name] = None if value is None else float(value)
        else:
            values[name] = float(value or 0.0)
    if bucket is not None:
        if values["labelled"]:
            values["scores"] = ((int(bucket), values["positives"],
                                 values["labelled"] - values["positives"]),)
        values["expected"] = ((int(bucket), values["est_tp"] + values["est_fn"],
                               values["est_fp"] + values["est_tn"]),)
    return BacktestSums(**values)
