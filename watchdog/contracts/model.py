"""What a contract file may say: pydantic models with unknown keys rejected.

pandera's ``from_yaml`` silently ignores keys it does not know (a typo such as
``greater_then: 0`` loads as *no check*), so contract files are validated here first; the
field names of :class:`ColumnChecks` are the check registry that "did you mean" draws on.
Check names and arguments follow pandera's built-in checks.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any, Literal

import pydantic
from pydantic import Field

from watchdog.config.models import Duration, Filter, Schedule, Strict

Scalar = int | float | str | bool | date | datetime

#: Contract dtype (pandas/pandera spelling) -> warehouse type families it accepts.
DTYPES: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(["int", "int8", "int16", "int32", "int64", "Int8", "Int16", "Int32",
                     "Int64", "uint8", "uint16", "uint32", "uint64"], ("integer",)),
    **dict.fromkeys(["float", "float32", "float64", "Float64"], ("float", "decimal", "integer")),
    **dict.fromkeys(["decimal"], ("decimal",)),
    **dict.fromkeys(["str", "string", "object"], ("string",)),
    **dict.fromkeys(["bool", "boolean"], ("boolean",)),
    **dict.fromkeys(["datetime64[ns]", "datetime", "timestamp"], ("timestamp", "timestamptz")),
    **dict.fromkeys(["datetime64[ns, UTC]", "timestamptz"], ("timestamptz", "timestamp")),
    "date": ("date",),
}


class Range(Strict):
    """``in_range``: ``min_value <= x <= max_value`` (ends excluded with include_*: false)."""

    min_value: Scalar
    max_value: Scalar
    include_min: bool = True
    include_max: bool = True


class Length(Strict):
    """``str_length``: the number of characters lies in ``[min_value, max_value]``."""

    min_value: int | None = Field(None, ge=0)
    max_value: int | None = Field(None, ge=0)

    @pydantic.model_validator(mode="after")
    def _one(self) -> Length:
        if self.min_value is None and self.max_value is None:
            raise ValueError("give min_value, max_value or both")
        return self


class ColumnChecks(Strict):
    """The checks a column may carry, named as pandera names its built-in checks.

    NULL (and NaN) values are left to ``nullable``: no check below fails on them.
    """

    equal_to: Scalar | None = None
    not_equal_to: Scalar | None = None
    greater_than: Scalar | None = None
    greater_than_or_equal_to: Scalar | None = None
    less_than: Scalar | None = None
    less_than_or_equal_to: Scalar | None = None
    in_range: Range | None = None
    isin: tuple[Scalar, ...] | None = None
    notin: tuple[Scalar, ...] | None = None
    str_matches: str | None = Field(None, description="A regex matched from the value's start.")
    str_length: Length | None = None

    @pydantic.field_validator("str_matches")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regular expression: {exc}") from None
        return value

    def items(self) -> list[tuple[str, Any]]:
        """The checks that are set, in declaration order: ``(name, argument)``."""
        return [(name, getattr(self, name)) for name in type(self).model_fields
                if getattr(self, name) is not None]


#: Every column check name (the registry the did-you-mean hints draw on).
CHECK_NAMES: tuple[str, ...] = tuple(ColumnChecks.model_fields)


class ColumnSpec(Strict):
    """One column: its dtype, nullability, uniqueness, and checks. pandera's defaults."""

    dtype: str | None = Field(None, description="pandas dtype: int64, float64, str, bool, ...")
    nullable: bool = Field(False, description="NULL and NaN are allowed (pandera's default: no).")
    unique: bool = Field(False, description="No two non-NULL values are equal.")
    required: bool = Field(True, description="The column must exist.")
    redact_values: bool = Field(False, description="Never show example values of this column.")
    checks: ColumnChecks = Field(default_factory=ColumnChecks)

    @pydantic.field_validator("dtype")
    @classmethod
    def _known_dtype(cls, value: str | None) -> str | None:
        if value is not None and value not in DTYPES:
            import difflib

            close = difflib.get_close_matches(value, list(DTYPES), n=1)
            hint = f"did you mean {close[0]}?" if close else f"one of: {', '.join(DTYPES)}"
            raise ValueError(f"unknown dtype {value!r} ({hint})")
        return value


class RowCount(Strict):
    """``row_count``: rows read (after the window and filters) lie in ``[min, max]``."""

    min: int | None = Field(None, ge=0)
    max: int | None = Field(None, ge=0)

    @pydantic.model_validator(mode="after")
    def _ordered(self) -> RowCount:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min must not exceed max")
        return self


class TableChecks(Strict):
    """Checks on the whole table."""

    row_count: RowCount | None = None
    unique: tuple[tuple[str, ...], ...] = Field(
        (), description="Column combinations that must be unique, e.g. [[customer_id, day]].")


class Read(Strict):
    """Which rows are checked: a time window, filters, and (for scan: sample) how many."""

    time_column: str | None = None
    window: Duration | None = Field(None, description="Only rows whose time_column is newer.")
    where: tuple[Filter, ...] = ()
    sample: int | None = Field(None, ge=1, description="Rows in the sample (scan: sample).")
    fraction: float | None = Field(None, gt=0, le=1, description="Or a fraction of the rows.")

    @pydantic.model_validator(mode="after")
    def _consistent(self) -> Read:
        if (self.window is None) != (self.time_column is None):
            raise ValueError("give both time_column and window, or neither")
        if self.sample is not None and self.fraction is not None:
            raise ValueError("give sample (rows) or fraction, not both")
        return self


class Consumer(Strict):
    """A model that reads the table, and the columns it reads (all when omitted)."""

    model: str
    columns: tuple[str, ...] = ()


class ContractSpec(Strict):
    """One contract file."""

    id: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
                           description="Monitor id; the file name without .yaml by default.")
    warehouse: str
    table: str
    owner: str | None = Field(None, description="Owning team (under ownership.teams).")
    description: str = ""
    consumers: tuple[Consumer, ...] = ()
    schedule: Schedule = Field(default_factory=lambda: Schedule(every=timedelta(hours=1)))
    timeout: Duration | None = Field(None, description=(
        "The longest one check of this contract may take (default: daemon.timeout)."))
    severity: Literal["fail", "warn"] = "fail"
    scan: Literal["full", "sample"] = "full"
    read: Read = Field(default_factory=Read)
    examples: int = Field(5, ge=0, le=50, description="Example failing values per check.")
    redact_values: bool = Field(False, description="Never show example values.")
    tags: tuple[str, ...] = ()
    columns: dict[str, ColumnSpec] = Field(default_factory=dict)
    checks: TableChecks = Field(default_factory=TableChecks)

    @pydantic.model_validator(mode="after")
    def _columns_known(self) -> ContractSpec:
        for combo in self.checks.unique:
            unknown = [c for c in combo if c not in self.columns]
            if unknown:
                raise ValueError(f"checks.unique names columns not under columns: {unknown}")
        return self
