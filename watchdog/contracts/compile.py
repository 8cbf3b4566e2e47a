"""A contract against the live table: which checks run where, and what does not even fit.

:func:`plan` compares the contract's columns with the columns the warehouse reports
(missing columns, incompatible dtypes) and turns each check into a :class:`Planned` check,
compiled to a :class:`~watchdog.models.Rule` for the warehouse's aggregate scan, or left to
the sampled pandera path (``scan: sample``, or a check the warehouse cannot run in SQL).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from watchdog.contracts.model import DTYPES, ContractSpec, Range
from watchdog.models import Column, Rule

Where = Literal["warehouse", "sample"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Planned:
    """One check of a contract as reported: its column (None: table level), name and rule."""

    column: str | None
    check: str
    rule: Rule
    where: Where
    redact: bool = False

    @property
    def label(self) -> str:
        """``age.in_range`` / ``unique(customer_id, day)`` for messages."""
        if self.column is None:
            return f"{self.check}({', '.join(self.rule.columns)})"
        return f"{self.column}.{self.check}"


@dataclass(frozen=True, slots=True, kw_only=True)
class SchemaIssue:
    """A column the contract needs that is missing, or whose type does not fit."""

    reason: Literal["COLUMN_MISSING", "DTYPE_MISMATCH"]
    column: str
    message: str


def rule_args(name: str, arg: Any) -> dict[str, Any]:
    """A contract check's argument as the keyword arguments of its Rule."""
    if isinstance(arg, Range):
        return arg.model_dump()
    if name in ("isin", "notin"):
        return {"values": tuple(arg)}
    if name == "str_matches":
        return {"pattern": arg}
    if name == "str_length":
        length: dict[str, Any] = arg.model_dump()
        return length
    return {"value": arg}


def compatible(dtype: str | None, family: str) -> bool:
    """True when a column of type ``family`` can hold the contract's ``dtype``."""
    return dtype is None or family == "other" or family in DTYPES[dtype]


def plan(
    spec: ContractSpec, live: Sequence[Column], *, supports_regex: Callable[[str], bool],
) -> tuple[list[Planned], list[SchemaIssue]]:
    """The checks to run on a table with columns ``live``, and the schema problems found.

    ``supports_regex`` says, per pattern, which ``str_matches`` checks run in the warehouse
    (``Warehouse.pushes_regex``); the others run on the sample.
    """
    by_name = {c.name.lower(): c for c in live}
    checks: list[Planned] = []
    issues: list[SchemaIssue] = []
    for name, col in spec.columns.items():
        found = by_name.get(name.lower())
        if found is None:
            if col.required:
                issues.append(SchemaIssue(reason="COLUMN_MISSING", column=name,
                                          message=f"column {name} is missing"))
            continue
        fits = compatible(col.dtype, found.type_family)
        if not fits:
            issues.append(SchemaIssue(
                reason="DTYPE_MISMATCH", column=name,
                message=f"column {name} is {found.data_type}, the contract says {col.dtype}"))
        checks += _column_checks(spec, name, found, fits, supports_regex)
    checks += _table_checks(spec, by_name)
    return checks, issues


def _column_checks(
    spec: ContractSpec, name: str, found: Column, fits: bool, pushes: Callable[[str], bool],
) -> list[Planned]:
    col = spec.columns[name]
    family = found.type_family
    redact = spec.redact_values or col.redact_values
    named: list[tuple[str, dict[str, Any]]] = []
    if not col.nullable:
        named.append(("not_null", {}))
    if col.unique:
        named.append(("unique", {}))
    if fits:  # value checks on a column of another type would compare apples and text
        named += [(check, rule_args(check, arg)) for check, arg in col.checks.items()]
    out = []
    for check, args in named:
        rule = Rule(check=check, columns=(found.name,), args=args, family=family)
        in_sql = spec.scan == "full" and (check != "str_matches" or pushes(args["pattern"]))
        out.append(Planned(column=name, check=check, rule=rule, redact=redact,
                           where="warehouse" if in_sql else "sample"))
    return out


def _table_checks(spec: ContractSpec, by_name: dict[str, Column]) -> list[Planned]:
    out = []
    for combo in spec.checks.unique:
        found = [by_name.get(c.lower()) for c in combo]
        if any(f is None for f in found):
            continue  # the missing column is reported already
        names = tuple(f.name for f in found if f is not None)
        # NULL (not NaN) marks an incomplete combination: one family for mixed columns
        rule = Rule(check="unique_combination", columns=names, family="other")
        out.append(Planned(column=None, check="unique", rule=rule, redact=spec.redact_values,
                           where="warehouse" if spec.scan == "full" else "sample"))
    return out
