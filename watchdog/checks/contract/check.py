"""``kind: contract``: a data contract (contracts/*.yaml or *.py) checked against its table.

Each contract file is one monitor (added to the config by :mod:`watchdog.contracts.loader`).
A run reads the live columns, reports missing columns and incompatible types, runs the
compiled checks in one aggregate scan (``Warehouse.contract_failures``), fetches a few
failing values for the checks that fail, and runs the rest through pandera on a sample.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar

from watchdog.checks.base import Check, CheckContext, Outcome, unreadable
from watchdog.checks.future import bounded, count_future
from watchdog.contracts.compile import Planned, SchemaIssue, plan
from watchdog.contracts.params import ContractParams
from watchdog.models import CheckResult, Predicate, Status, TableRef
from watchdog.warehouses.base import Warehouse

DEFAULT_SAMPLE = 10_000


#: Rows of a contract's read window dated this far after now are FUTURE_ROWS.
FUTURE_TOLERANCE = timedelta(minutes=5)


def read_window(p: ContractParams, now: datetime) -> list[Predicate]:
    """The contract's filters plus its time window (which ends at now, give or take
    the tolerance: rows dated after it are FUTURE_ROWS, not judged), as predicates."""
    read = p.spec.read
    preds = [f.predicate() for f in read.where]
    if read.time_column is not None and read.window is not None:
        preds.append(Predicate(column=read.time_column, op=">=", value=now - read.window))
        preds = bounded(preds, read.time_column, now + FUTURE_TOLERANCE)
    return preds


class ContractCheck(Check[ContractParams]):
    """FAIL (or WARN, per the contract's severity) when the contract stops holding."""

    KIND = "contract"
    Params = ContractParams
    SERVICE_CHECK: ClassVar[str | None] = "watchdog.contract"

    def run(self, ctx: CheckContext) -> CheckResult:
        p = self.monitor
        wh = ctx.warehouse
        table = wh.table(p.table)
        out = self.outcome(str(table))
        live = wh.columns([table]).get(table)
        if live is None:
            denied = unreadable(wh, [table]).get(table)
            if denied is not None:
                out.add(Status.ERROR, "PERMISSION_DENIED", f"{denied.detail} ({denied.hint})")
                return out.result("")
            out.add(self._bad, "TABLE_MISSING", f"{table} does not exist (contract {p.source})")
            return out.result("")
        where = read_window(p, ctx.now)
        read = p.spec.read
        if read.time_column is not None and read.window is not None:
            count_future(out, wh, table, read.time_column, ctx.now + FUTURE_TOLERANCE,
                         FUTURE_TOLERANCE, [f.predicate() for f in read.where])
        if p.python_model is not None:
            return self._run_model(ctx, out, table, where)
        checks, issues = plan(p.spec, live, supports_regex=wh.pushes_regex)
        self._report_schema(ctx, out, issues)
        rows, tallies = self._scan(wh, table, checks, where)
        sampled = [c for c in checks if c.where == "sample"]
        size = 0
        if sampled:
            size, sample_tallies = self._sample(wh, table, sampled, where, rows)
            for c, t in zip(sampled, sample_tallies, strict=True):
                tallies[id(c)] = (t.count, t.examples)
        out.metric("rows", rows)
        for c in checks:
            count, examples = tallies[id(c)]
            self._judge(out, c, count, rows if c.where == "warehouse" else size, examples)
        self._judge_rows(out, rows)
        return out.result(f"{table}: contract {p.id} holds ({rows} rows, {len(checks)} checks)")

    @property
    def _bad(self) -> Status:
        return Status.WARN if self.monitor.spec.severity == "warn" else Status.FAIL

    def _scan(
        self, wh: Warehouse, table: TableRef, checks: Sequence[Planned], where: list[Predicate]
    ) -> tuple[int, dict[int, tuple[int, list[str]]]]:
        """One aggregate query for every in-warehouse check, then examples of the failing."""
        in_sql = [c for c in checks if c.where == "warehouse"]
        limit = self.monitor.spec.examples
        # examples in the same scan where the adapter can (no second pass when one fails)
        wanted = [0 if c.redact or c.check == "not_null" else limit for c in in_sql]
        counts = wh.contract_failures(table, [c.rule for c in in_sql], where, wanted)
        tallies: dict[int, tuple[int, list[str]]] = {
            id(c): (n, []) for c, n in zip(in_sql, counts.failures, strict=True)}
        if counts.examples is not None:
            for c, n, w, shown in zip(in_sql, counts.failures, wanted, counts.examples,
                                      strict=True):
                tallies[id(c)] = (n, list(shown) if n and w else [])
            return counts.rows, tallies
        failing = [c for c, n in zip(in_sql, counts.failures, strict=True)
                   if n and not c.redact and c.check != "not_null"]
        if failing and limit:
            found = wh.failure_examples(table, [c.rule for c in failing], limit, where)
            for c, values in zip(failing, found, strict=True):
                tallies[id(c)] = (tallies[id(c)][0], values)
        return counts.rows, tallies

    def _sample(self, wh: Warehouse, table: TableRef, checks: Sequence[Planned],
                where: list[Predicate], rows: int) -> tuple[int, list[Any]]:
        from watchdog.contracts.sample import evaluate, frame

        limit = self._sample_size(rows)
        columns = list(dict.fromkeys(col for c in checks for col in c.rule.columns))
        df = frame(wh.sample(table, columns, limit, where), columns)
        return len(df), evaluate(checks, df, self.monitor.spec.examples)

    def _sample_size(self, rows: int) -> int:
        read = self.monitor.spec.read
        if read.fraction is not None:
            return max(1, math.ceil(rows * read.fraction))
        return read.sample or DEFAULT_SAMPLE

    def _judge(self, out: Outcome, c: Planned, count: int, denominator: int,
               examples: list[str]) -> None:
        rate = count / denominator if denominator else 0.0
        tags = (f"column:{c.column or ','.join(c.rule.columns)}", f"check:{c.check}")
        out.metric("failures", count, *tags)
        out.metric("failure_rate", round(rate, 6), *tags)
        details = {"column": c.column, "check": c.check, "failures": count,
                   "failure_rate": round(rate, 6), "scanned": denominator, "scan": c.where,
                   "examples": examples}
        if not count:
            out.add(Status.OK, "CONTRACT_CHECK_OK", f"{c.label}: ok", **details)
            return
        where = "in the sample of " if c.where == "sample" else "of "
        text = f"{out.subject}: {c.label} fails on {count} {where}{denominator} rows ({rate:.2%})"
        if examples:
            text += f", e.g. {', '.join(examples[:5])}"
        out.add(self._bad, "CONTRACT_CHECK_FAILED", text, **details)

    def _judge_rows(self, out: Outcome, rows: int) -> None:
        bounds = self.monitor.spec.checks.row_count
        if bounds is None:
            return
        low = bounds.min if bounds.min is not None else 0
        high = bounds.max if bounds.max is not None else math.inf
        ok = low <= rows <= high
        out.metric("failures", 0 if ok else 1, "column:-", "check:row_count")
        if ok:
            out.add(Status.OK, "CONTRACT_CHECK_OK", f"row_count: {rows}", rows=rows)
        else:
            wanted = f"{low}..{'∞' if high == math.inf else high}"
            out.add(self._bad, "ROW_COUNT_OUT_OF_BOUNDS",
                    f"{out.subject}: {rows} rows, the contract wants {wanted}",
                    rows=rows, min=bounds.min, max=bounds.max)

    def _report_schema(self, ctx: CheckContext, out: Outcome, issues: list[SchemaIssue]) -> None:
        for issue in issues:
            text = f"{out.subject}: {issue.message}"
            seen = _schema_change(ctx, out.subject or "", issue.column)
            if seen:
                text += f" ({seen})"
            out.add(self._bad, issue.reason, text, column=issue.column)
            out.metric("failures", 1, f"column:{issue.column}", f"check:{issue.reason.lower()}")

    def _run_model(self, ctx: CheckContext, out: Outcome, table: TableRef,
                   where: list[Predicate]) -> CheckResult:
        from watchdog.contracts.loader import python_model
        from watchdog.contracts.sample import evaluate_model, frame

        p = self.monitor
        assert p.python_model is not None
        counts = ctx.warehouse.contract_failures(table, [], where)
        rows = ctx.warehouse.sample(table, [], self._sample_size(counts.rows), where)
        df = frame(rows)
        found = evaluate_model(python_model(p.python_model), df, p.spec.examples)
        out.metric("rows", counts.rows)
        for (column, check), tally in sorted(found.items()):
            rate = tally.count / len(df) if len(df) else 0.0
            tags = (f"column:{column}", f"check:{check}")
            out.metric("failures", tally.count, *tags)
            out.metric("failure_rate", round(rate, 6), *tags)
            out.add(self._bad, "CONTRACT_CHECK_FAILED",
                    f"{table}: {column}: {check} fails on {tally.count} in the sample of "
                    f"{len(df)} rows", column=column, check=check, examples=tally.examples)
        self._judge_rows(out, counts.rows)
        return out.result(f"{table}: contract {p.id} holds on a sample of {len(df)} rows")


def _schema_change(ctx: CheckContext, table: str, column: str) -> str | None:
    """Where a schema monitor of the same table last saw a change of ``column``, if it did."""
    history = ctx.history
    last = getattr(history, "last_result", None)
    for m in ctx.config.monitors:
        if not m.kind.startswith("schema") or not any(t.split(".")[-1] == table.split(".")[-1]
                                         for t in m.watched_tables()):
            continue
        result = last(m.id) if callable(last) else None
        for f in result.findings if result is not None else ():
            if f.details.get("column") == column or f"{column}" in f.message.split():
                return f"schema monitor {m.id} saw: {f.message}"
        return f"see schema monitor {m.id}"
    return None
