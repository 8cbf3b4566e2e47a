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
"""

from __future__ import annotations

from collections.abc import Callable
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
    return [
        ("tp", exp.CountIf(this=exp.and_(hit(), pos.copy()))),
        ("fp", exp.CountIf(this=exp.and_(hit(), neg.copy()))),
        ("fn", exp.CountIf(this=exp.and_(miss, pos.copy()))),
        ("positives", exp.CountIf(this=pos.copy())), ("score_sum", exp.Sum(this=s.copy())),
        ("log_loss_sum", exp.Neg(this=exp.Sum(this=loss()))),
        ("log_loss_sq", exp.Sum(this=_sq(loss))), ("brier_sum", exp.Sum(this=_sq(brier))),
        ("brier_sq", exp.Sum(this=_fourth(brier))),
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
    labelled = exp.and_(exp.not_(exp.paren(tree_sql.missing(score))),
                        exp.not_(exp.Is(this=raw.copy(), expression=exp.Null())))
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
                   exp.alias_(_case(labelled.copy(), bucket), "wd_bucket")]
    else:
        truth = exp.cast(raw, "double")
    fields += [exp.alias_(_case(labelled.copy(), score.copy()), "wd_s"),
               exp.alias_(_case(labelled.copy(), truth), "wd_y")]
    if spec.label_time is not None:
        delay = exp.Sub(this=_epoch(_qualified(wh, "l", spec.label_time)),
                        expression=_epoch(when.copy()))
        fields.append(exp.alias_(_case(labelled.copy(), delay), "wd_delay"))
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
    fields = [*map(_col, keys), *(exp.alias_(e, name) for name, e in _aggregates(spec, params))]
    tree = (exp.select(*fields).from_(inner.subquery("wd_rows"))
            .group_by(*(_num(i + 1) for i in range(len(keys)))))
    return tree, params


_INTS = frozenset({"predictions", "labelled", "tp", "fp", "fn", "positives", "ape_rows"})


def backtest(wh: SqlWarehouse, spec: BacktestSpec, start: datetime, end: datetime,
             window: timedelta) -> list[BacktestWindow]:
    spans = buckets(as_utc(start), as_utc(end), window)
    if not spans:
        return []
    stmt = wh.render("backtest", table=spec.predictions, spec=spec, start=start, end=end,
                     window=window, time_type=wh.time_type(spec.predictions, spec.time_column))
    k = len(spec.group_by)
    names = [n for n, _ in _aggregates(spec, {})]
    cells: dict[tuple[tuple[Any, ...], int], BacktestSums] = {}
    for row in wh._rows(stmt):
        if row[0] is None:
            continue
        index = min(max(int(row[0]), 0), len(spans) - 1)  # clamp float rounding
        group = tuple(row[1:k + 1])
        rest = row[k + 1:]
        values: dict[str, Any] = {}
        if spec.task == "classification":
            bucket, rest = rest[0], rest[1:]
        for name, value in zip(names, rest, strict=True):
            if name in _INTS:
                values[name] = int(value or 0)
            elif name == "delay_max":
                values[name] = None if value is None else float(value)
            else:
                values[name] = float(value or 0.0)
        if spec.task == "classification" and bucket is not None:
            values["scores"] = ((int(bucket), values["positives"],
                                 values["labelled"] - values["positives"]),)
        found = BacktestSums(**values)
        key = (group, index)
        cells[key] = cells[key].merged(found) if key in cells else found
    return [BacktestWindow(start=spans[i][0], end=spans[i][1], group=group, sums=sums)
            for (group, i), sums in sorted(cells.items(),
                                           key=lambda kv: ([str(v) for v in kv[0][0]], kv[0][1]))]
