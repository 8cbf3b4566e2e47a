"""The six warehouses as sqlglot dialects: sqlglot's own, less what watchdog renders differently.

Queries built as sqlglot trees (``tree_sql.py``) are rendered through these. Each dialect
lists its overrides in its generator's ``TRANSFORMS``, keyed by expression type, as
sqlglot's own dialects do. What every one of them shares:

- a bind is ``:name`` (SQLAlchemy ``text()`` form, which the executors take; BigQuery's
  adapter turns it into ``@name``), never the dialect's own paramstyle;
- an identifier is always quoted, embedded quotes doubled and ``:`` escaped as ``\\:`` (so
  that ``text()`` never reads it as a bind), exactly as ``SqlWarehouse.quote`` writes it;
  only a :class:`Bare` name (a catalog's own, written in watchdog's source) is not.

Sampling is never rendered through sqlglot (it transpiles it wrongly, see WAREHOUSES.md);
it stays in each adapter's ``sample`` template.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from sqlglot import exp
from sqlglot.dialects.bigquery import BigQuery as _BigQuery
from sqlglot.dialects.dialect import Dialect
from sqlglot.dialects.duckdb import DuckDB as _DuckDB
from sqlglot.dialects.postgres import Postgres as _Postgres
from sqlglot.dialects.redshift import Redshift as _Redshift
from sqlglot.dialects.snowflake import Snowflake as _Snowflake
from sqlglot.dialects.sqlite import SQLite as _SQLite
from sqlglot.generator import Generator
from sqlglot.generators.bigquery import BigQueryGenerator
from sqlglot.generators.duckdb import DuckDBGenerator
from sqlglot.generators.postgres import PostgresGenerator
from sqlglot.generators.redshift import RedshiftGenerator
from sqlglot.generators.snowflake import SnowflakeGenerator
from sqlglot.generators.sqlite import SQLiteGenerator

Transform = Callable[..., str]


def _identifier(quote: str) -> Transform:
    def render(_gen: Generator, e: exp.Identifier) -> str:
        return (quote + e.name.replace(quote, quote + quote) + quote).replace(":", "\\:")
    return render


class Bare(exp.Identifier):
    """A name of the warehouse's own catalog (``information_schema.columns``, ``n.nspname``),
    rendered as written, unquoted: a quoted lower-case name is another name on Snowflake
    (https://docs.snowflake.com/en/sql-reference/identifiers-syntax). Only for names in
    watchdog's source (``catalog_sql.trusted``); a user's names are quoted identifiers."""


_BARE = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")


def _bare(_gen: Generator, e: Bare) -> str:
    if not _BARE.fullmatch(e.name):
        raise ValueError(f"not a plain catalog name: {e.name!r}")
    return e.name


def _bind(_gen: Generator, e: exp.Placeholder) -> str:
    return f":{e.name}"


def _nan_equals_nan(gen: Generator, e: exp.IsNan) -> str:
    # no isnan(): NaN = NaN is true for float types (Postgres, Redshift, Snowflake):
    # https://www.postgresql.org/docs/current/datatype-numeric.html,
    # https://docs.snowflake.com/en/sql-reference/data-types-numeric#special-values
    value = e.this
    to = value.to if isinstance(value, exp.Cast) else exp.DataType.build("double")
    return f"{gen.sql(value)} = {gen.sql(exp.cast(exp.Literal.string('NaN'), to))}"


def _never(_gen: Generator, _e: exp.IsNan) -> str:
    # SQLite stores NaN as NULL: https://sqlite.org/floatingpoint.html
    return "FALSE"


# -- time ------------------------------------------------------------------------------


class Epoch(exp.Expression, exp.Func):
    """Seconds since 1970-01-01 UTC of a time value (``this``), as a number with its
    fraction; a naive timestamp is taken as UTC. Each dialect spells it (below)."""

    arg_types = {"this": True}


def _epoch_extract(gen: Generator, e: Epoch) -> str:
    # https://www.postgresql.org/docs/current/functions-datetime.html#FUNCTIONS-DATETIME-EXTRACT
    return f"EXTRACT(EPOCH FROM {gen.sql(e, 'this')})"


def _epoch_duckdb(gen: Generator, e: Epoch) -> str:
    # https://duckdb.org/docs/stable/sql/functions/timestamp#epochtimestamp
    return f"epoch({gen.sql(e, 'this')})"


def _epoch_julian(gen: Generator, e: Epoch) -> str:
    # no epoch function: the Julian day less the epoch's, in seconds, to the millisecond
    # (https://sqlite.org/lang_datefunc.html)
    return f"ROUND((julianday({gen.sql(e, 'this')}) - 2440587.5) * 86400.0, 3)"


def _epoch_snowflake(gen: Generator, e: Epoch) -> str:
    # EPOCH_SECOND drops the fraction:
    # https://docs.snowflake.com/en/sql-reference/functions-date-time#label-supported-date-time-parts
    return f"DATE_PART(EPOCH_MICROSECOND, {gen.sql(e, 'this')}) / 1000000"


def _epoch_bigquery(gen: Generator, e: Epoch) -> str:
    # a DATETIME or DATE is cast (as UTC) first:
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/timestamp_functions#unix_micros
    return f"UNIX_MICROS(CAST({gen.sql(e, 'this')} AS TIMESTAMP)) / 1000000"


class BucketIndex(exp.Expression, exp.Func):
    """The whole number of bucket widths in a non-negative offset (``this``, a quotient)."""

    arg_types = {"this": True}


def _floor(gen: Generator, e: BucketIndex) -> str:
    return gen.func("FLOOR", e.this)


def _truncate(gen: Generator, e: BucketIndex) -> str:
    # floor() needs SQLITE_ENABLE_MATH_FUNCTIONS (https://sqlite.org/lang_mathfunc.html);
    # the offset is >= 0, where a cast to INTEGER truncates alike
    return f"CAST({gen.sql(e, 'this')} AS INTEGER)"


class TimeRange(exp.Expression, exp.Condition):
    """A time column (``this``) lies in ``[start, end)``; ``start_epoch``/``end_epoch`` are
    the same bounds as seconds since 1970 UTC, for dialects that compare instants."""

    arg_types = {"this": True, "start": True, "end": True, "start_epoch": True,
                 "end_epoch": True}


def _time_range(gen: Generator, e: TimeRange) -> str:
    # the bare column against the binds, so that indexes, zone maps and BigQuery's
    # partitions prune: https://cloud.google.com/bigquery/docs/querying-partitioned-tables
    col = e.this
    return gen.sql(exp.and_(exp.GTE(this=col.copy(), expression=e.args["start"].copy()),
                            exp.LT(this=col.copy(), expression=e.args["end"].copy()),
                            copy=False))


def _epoch_range(gen: Generator, e: TimeRange) -> str:
    # times are text in any of several ISO-8601 forms: compare the instants
    return gen.sql(exp.and_(
        exp.GTE(this=Epoch(this=e.this.copy()), expression=e.args["start_epoch"].copy()),
        exp.LT(this=Epoch(this=e.this.copy()), expression=e.args["end_epoch"].copy()),
        copy=False))


class NewestTime(exp.Expression, exp.AggFunc):
    """The newest value of a time column (``this``)."""

    arg_types = {"this": True}


def _max(gen: Generator, e: NewestTime) -> str:
    return gen.func("MAX", e.this)


def _newest_instant(gen: Generator, e: NewestTime) -> str:
    # MAX over text compares strings: compare instants (julianday parses ISO-8601 with
    # offsets, https://sqlite.org/lang_datefunc.html) and answer in UTC
    return f"strftime('%Y-%m-%d %H:%M:%f', MAX(julianday({gen.sql(e, 'this')})))"


# -- contract checks (rulesql.py) ---------------------------------------------------------


class RowValue(exp.Expression, exp.Func):
    """One comparable value made of a combination of columns (``expressions``), for
    ``COUNT(DISTINCT ...)``; rows with a NULL among them are filtered out by the caller."""

    arg_types = {"expressions": True}
    is_var_len_args = True


def _row(gen: Generator, e: RowValue) -> str:
    return gen.func("ROW", *e.expressions)


def _json_of_struct(gen: Generator, e: RowValue) -> str:
    # STRUCTs are not comparable in COUNT(DISTINCT); their JSON text is:
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/data-types#comparable_data_types
    return gen.sql(exp.JSONFormat(this=exp.Struct(expressions=e.expressions)))


def _json_array(gen: Generator, e: RowValue) -> str:
    # no row values in COUNT(DISTINCT); json_array is built in since 3.38:
    # https://sqlite.org/json1.html#jarray
    return gen.sql(exp.JSONArray(expressions=e.expressions))


def _text_fields(gen: Generator, e: RowValue) -> str:
    # No ROW() (Redshift), and CONCAT_WS with a bare separator merged distinct combinations
    # whose values hold it (ARRAY_CONSTRUCT is not in Snowflake's stand-in): each column as
    # text that cannot run into its neighbour. CHR(30) escapes itself and CHR(31), every
    # field ends in CHR(31); a NULL field makes the whole value NULL, like pandera's skip.
    def chr_(code: int) -> exp.Expression:  # exp.Chr pretty-prints as CHR(  30)
        return exp.Anonymous(this="CHR", expressions=[exp.Literal.number(code)])

    def field(value: exp.Expression) -> exp.Expression:
        text: exp.Expression = exp.cast(value.copy(), "varchar")
        for code in (30, 31):
            text = exp.Anonymous(this="REPLACE", expressions=[
                text, chr_(code), exp.DPipe(this=chr_(30), expression=chr_(code))])
        return exp.DPipe(this=text, expression=chr_(31))

    fields = [field(v) for v in e.expressions]
    joined = fields[0]
    for more in fields[1:]:
        joined = exp.DPipe(this=joined, expression=more)
    return gen.sql(joined)


def _regex_at_start(gen: Generator, e: exp.RegexpLike) -> str:
    # A match that starts at the first character (REGEXP_INSTR's position of the first match
    # is 1), not ^ anchored, since ^ is documented as a beginning of *line*:
    # https://docs.aws.amazon.com/redshift/latest/dg/pattern-matching-conditions-posix.html.
    # On an empty value REGEXP_INSTR is 0 (the start position is past the end:
    # https://docs.aws.amazon.com/redshift/latest/dg/REGEXP_INSTR.html), so there the
    # (unanchored) search ~ decides, which on '' can only match at the start.
    value, pattern = e.this, e.expression
    instr = exp.Anonymous(this="REGEXP_INSTR", expressions=[value.copy(), pattern.copy()])
    empty = exp.EQ(this=exp.Length(this=value.copy()), expression=exp.Literal.number(0))
    return (f"({gen.sql(exp.EQ(this=instr, expression=exp.Literal.number(1)))}"
            f" OR ({gen.sql(empty)} AND {gen.binary(e, '~')}))")


def _from_start(pattern: str) -> str:
    """A search (regexp_matches, ``~``, REGEXP_CONTAINS) anchored at the first character."""
    return f"^(?:{pattern})"


#: How the bound pattern of a ``str_matches`` check is written so that the dialect's
#: ``exp.RegexpLike`` means Python's ``re.match`` (a match from the first character), by
#: dialect name; the rest search, and take :func:`_from_start`.
REGEX_ANCHORS: dict[str, Callable[[str], str]] = {
    # REGEXP_LIKE matches the whole value, so any rest may follow the pattern; (.|\n) since
    # . skips newlines: https://docs.snowflake.com/en/sql-reference/functions-regexp
    "snowflake": lambda pattern: f"({pattern})(.|\n)*",
    # REGEXP_INSTR(...) = 1 anchors the match at the start (_regex_at_start)
    "redshift": lambda pattern: pattern,
}


def anchored_regex(pattern: str, name: str) -> str:
    """``pattern`` as bound for ``exp.RegexpLike`` in dialect ``name`` (a ``re.match``)."""
    return REGEX_ANCHORS.get(name, _from_start)(pattern)
def _count_case(gen: Generator, e: exp.CountIf) -> str:
    # a conditional count as COUNT(CASE ...): 0 over no rows, as count_if (sqlglot's
    # portable SUM(CASE ... ELSE 0 END) is NULL there)
    return f"COUNT(CASE WHEN {gen.sql(e, 'this')} THEN 1 END)"


def _count_if(gen: Generator, e: exp.CountIf) -> str:
    # about 3x faster than COUNT(CASE ...) on DuckDB:
    # https://duckdb.org/docs/stable/sql/functions/aggregates#count_ifarg
    return f"count_if({gen.sql(e, 'this')})"


def _redshift_type(gen: Generator, e: exp.DataType) -> str:
    # TEXT stays TEXT (sqlglot writes VARCHAR(MAX), which PostgreSQL, the Redshift
    # stand-in, rejects); Redshift reads it as VARCHAR(256):
    # https://docs.aws.amazon.com/redshift/latest/dg/r_Character_types.html
    if e.is_type("text") and not e.expressions:
        return "TEXT"
    rendered: str = RedshiftGenerator.datatype_sql(gen, e)  # type: ignore[arg-type]
    return rendered


#: Overrides every watchdog dialect makes (identifiers in ``"``).
COMMON: dict[type[exp.Expr], Transform] = {
    exp.Identifier: _identifier('"'), Bare: _bare, exp.Placeholder: _bind, RowValue: _row,
    exp.CountIf: _count_case, Epoch: _epoch_extract, BucketIndex: _floor,
    TimeRange: _time_range, NewestTime: _max,
}


class WatchdogDuckDB(_DuckDB):
    """DuckDB: ``isnan`` and ``count_if`` exist (and ``lambda x:``, build ``exp.Lambda``
    with ``colon``: DuckDB 2 refuses the arrow form)."""

    class Generator(DuckDBGenerator):
        TRANSFORMS = {**DuckDBGenerator.TRANSFORMS, **COMMON, exp.CountIf: _count_if,
                       Epoch: _epoch_duckdb}


class WatchdogSQLite(_SQLite):
    """SQLite: backtick identifiers (a double-quoted unknown name is a string literal:
    https://sqlite.org/quirks.html#dblquote), no NaN, and no row values."""

    class Generator(SQLiteGenerator):
        TRANSFORMS = {**SQLiteGenerator.TRANSFORMS, **COMMON,
                      exp.Identifier: _identifier("`"), exp.IsNan: _never,
                      RowValue: _json_array, Epoch: _epoch_julian, BucketIndex: _truncate,
                      TimeRange: _epoch_range, NewestTime: _newest_instant}


class WatchdogPostgres(_Postgres):
    """PostgreSQL: NaN is found by equality."""

    class Generator(PostgresGenerator):
        TRANSFORMS = {**PostgresGenerator.TRANSFORMS, **COMMON, exp.IsNan: _nan_equals_nan}


class WatchdogRedshift(_Redshift):
    """Redshift: as PostgreSQL; no ROW(), a regex match from the first character, and the
    text type is TEXT."""

    class Generator(RedshiftGenerator):
        TRANSFORMS = {**RedshiftGenerator.TRANSFORMS, **COMMON, exp.IsNan: _nan_equals_nan,
                      RowValue: _text_fields, exp.RegexpLike: _regex_at_start,
                      exp.DataType: _redshift_type}


class WatchdogSnowflake(_Snowflake):
    """Snowflake: NaN is found by equality; no ROW()."""

    class Generator(SnowflakeGenerator):
        TRANSFORMS = {**SnowflakeGenerator.TRANSFORMS, **COMMON,
                      exp.IsNan: _nan_equals_nan, RowValue: _text_fields,
                      Epoch: _epoch_snowflake}


class WatchdogBigQuery(_BigQuery):
    """BigQuery: backtick identifiers; ``IS_NAN`` exists; STRUCTs do not compare."""

    class Generator(BigQueryGenerator):
        TRANSFORMS = {**BigQueryGenerator.TRANSFORMS, **COMMON,
                      exp.Identifier: _identifier("`"), RowValue: _json_of_struct,
                      Epoch: _epoch_bigquery}


#: The dialect of each adapter, by its ``SqlWarehouse.DIALECT``.
DIALECTS: dict[str, type[Any]] = {
    "duckdb": WatchdogDuckDB, "sqlite": WatchdogSQLite, "postgres": WatchdogPostgres,
    "redshift": WatchdogRedshift, "snowflake": WatchdogSnowflake, "bigquery": WatchdogBigQuery,
}


Overrides = Callable[[], Mapping[type[exp.Expr], Transform]]


def dialect(name: str, overrides: Overrides | None = None) -> type[Any]:
    """The watchdog dialect for ``SqlWarehouse.DIALECT`` ``name``: one of the six above, or
    sqlglot's own dialect of that name with the :data:`COMMON` overrides and the adapter's
    own (``overrides()``, its ``SqlWarehouse.dialect_overrides``), made once per name."""
    if name not in DIALECTS:
        base = type(Dialect.get_or_raise(name))
        generator = type("Generator", (base.generator_class,), {
            "TRANSFORMS": {**base.generator_class.TRANSFORMS, **COMMON,
                           **(overrides() if overrides is not None else {})}})
        DIALECTS[name] = type(f"Watchdog_{name}", (base,), {"Generator": generator})
    return DIALECTS[name]


#: One instance of each dialect (a dialect holds settings only; its generator is made anew
#: for every render).
_INSTANCES: dict[str, Dialect] = {}


def render(tree: exp.Expression, name: str, overrides: Overrides | None = None) -> str:
    """``tree`` as SQL of the adapter dialect ``name`` (``SqlWarehouse.DIALECT``).

    The tree is consumed: sqlglot renders it in place, without the defensive copy (a tree is
    built for one statement by its builder and never reused; rendering may rewrite it)."""
    instance = _INSTANCES.get(name)
    if instance is None:
        instance = _INSTANCES[name] = dialect(name, overrides)()
    return instance.generate(tree, copy=False, pretty=True)
