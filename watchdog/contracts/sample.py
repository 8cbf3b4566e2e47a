"""The sampled path: a pandera (pandas) schema built from planned checks, run lazily.

Used for ``scan: sample`` contracts, for checks a warehouse cannot run in SQL, and for
Python contracts (a pandera ``DataFrameModel``). Semantics match the compiled SQL: value
checks skip NULL and NaN (pandera's ``ignore_na``), ``unique`` counts the rows after the
first of each non-NULL value (``duplicated(keep="first")``), and a combination with a NULL
in it is never a duplicate. pandas and pandera are imported only when this path runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from watchdog.contracts.compile import Planned

if TYPE_CHECKING:
    import pandas as pd


@dataclass(slots=True)
class Tally:
    """Failing rows of one check in the sample, and a few of their values."""

    count: int = 0
    examples: list[str] = field(default_factory=list)


def frame(rows: Sequence[dict[str, Any]], columns: Sequence[str] = ()) -> pd.DataFrame:
    """Sampled rows as a DataFrame (Decimal as float, so that numeric checks apply)."""
    import pandas as pd

    df = pd.DataFrame.from_records(list(rows), columns=list(columns) or None)
    for name in df.columns:
        if df[name].map(lambda v: isinstance(v, Decimal)).any():
            df[name] = df[name].map(lambda v: float(v) if isinstance(v, Decimal) else v)
    return df


def _builtin(check: str, args: dict[str, Any]) -> Any:
    import pandera.pandas as pa

    if check == "in_range":
        return pa.Check.in_range(args["min_value"], args["max_value"],
                                 include_min=args["include_min"], include_max=args["include_max"])
    if check in ("isin", "notin"):
        return getattr(pa.Check, check)(list(args["values"]))
    if check == "str_matches":
        return pa.Check.str_matches(args["pattern"])
    if check == "str_length":
        return pa.Check.str_length(args.get("min_value"), args.get("max_value"))
    return getattr(pa.Check, check)(args["value"])


def _unique_check() -> Any:
    import pandera.pandas as pa

    return pa.Check(lambda s: ~s.duplicated(keep="first") | s.isna(), name="unique")


def _combination_check(columns: tuple[str, ...]) -> Any:
    import pandera.pandas as pa

    def holds(df: pd.DataFrame) -> pd.Series:
        sub = df[list(columns)]
        return ~sub.duplicated(keep="first") | sub.isna().any(axis=1)

    return pa.Check(holds, name=f"unique({', '.join(columns)})")


def schema(checks: Sequence[Planned]) -> tuple[Any, dict[tuple[str | None, Any], int]]:
    """The pandera schema, and (column or None, check_number or "not_null") → check index."""
    import pandera.pandas as pa

    per_column: dict[str, list[Any]] = {}
    nullable: dict[str, bool] = {}
    frame_checks: list[Any] = []
    index: dict[tuple[str | None, Any], int] = {}
    for i, p in enumerate(checks):
        name = p.rule.columns[0]
        if p.check == "not_null":
            nullable[name] = False
            index[(name, "not_null")] = i
        elif p.rule.check == "unique_combination":
            index[(None, len(frame_checks))] = i
            frame_checks.append(_combination_check(p.rule.columns))
        else:
            index[(name, len(per_column.setdefault(name, [])))] = i
            per_column[name].append(
                _unique_check() if p.check == "unique" else _builtin(p.check, dict(p.rule.args)))
        nullable.setdefault(name, True)
    columns = {name: pa.Column(None, nullable=nullable[name], required=False,
                               checks=per_column.get(name, []))
               for name in nullable}
    return pa.DataFrameSchema(columns, checks=frame_checks), index


def evaluate(checks: Sequence[Planned], df: pd.DataFrame, examples: int) -> list[Tally]:
    """Failing rows per check (in ``checks`` order) over the sample ``df``."""
    import pandera.errors

    tallies = [Tally() for _ in checks]
    if not checks:
        return tallies
    pa_schema, index = schema(checks)
    try:
        pa_schema.validate(df, lazy=True)
    except pandera.errors.SchemaErrors as err:
        _tally(err.failure_cases, index, checks, tallies, examples)
    return tallies


def _tally(cases: pd.DataFrame, index: dict[tuple[str | None, Any], int],
           checks: Sequence[Planned], tallies: list[Tally], examples: int) -> None:
    for row in cases.itertuples(index=False):
        if row.schema_context == "DataFrameSchema":
            key: tuple[str | None, Any] = (None, row.check_number)
        elif row.check == "not_nullable":
            key = (row.column, "not_null")
        else:
            key = (row.column, row.check_number)
        i = index.get(key)
        if i is None:
            continue
        tallies[i].count += 1
        if not checks[i].redact and len(tallies[i].examples) < examples and key[1] != "not_null":
            tallies[i].examples.append(str(row.failure_case))
    frame = cases[cases.schema_context == "DataFrameSchema"]
    for (column, number), i in index.items():
        if column is None:  # a frame-level check reports each failing row once per column
            rows = frame[frame.check_number == number]
            tallies[i].count = int(rows["index"].nunique())
            tallies[i].examples = []


def evaluate_model(model: Any, df: pd.DataFrame, examples: int) -> dict[tuple[str, str], Tally]:
    """Run a pandera DataFrameModel (a Python contract): failures per (column, check)."""
    import pandera.errors

    out: dict[tuple[str, str], Tally] = {}
    try:
        model.validate(df, lazy=True)
    except pandera.errors.SchemaErrors as err:
        for row in err.failure_cases.itertuples(index=False):
            key = (str(row.column) if row.column is not None else "-", str(row.check))
            tally = out.setdefault(key, Tally())
            tally.count += 1
            if len(tally.examples) < examples:
                tally.examples.append(str(row.failure_case))
    return out
