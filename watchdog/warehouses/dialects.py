"""The six warehouses as sqlglot dialects: sqlglot's own, less what watchdog renders differently.

Queries built as sqlglot trees (``tree_sql.py``) are rendered through these. Each dialect
lists its overrides in its generator's ``TRANSFORMS``, keyed by expression type, as
sqlglot's own dialects do. What every one of them shares:

- a bind is ``:name`` (SQLAlchemy ``text()`` form, which the executors take; BigQuery's
  adapter turns it into ``@name``), never the dialect's own paramstyle;
- an identifier is always quoted, embedded quotes doubled and ``:`` escaped as ``\\:`` (so
  that ``text()`` never reads it as a bind), exactly as ``SqlWarehouse.quote`` writes it.

Sampling is never rendered through sqlglot (it transpiles it wrongly, see WAREHOUSES.md);
it stays in each adapter's ``sample`` template.
"""

from __future__ import annotations

from collections.abc import Callable
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


#: Overrides every watchdog dialect makes (identifiers in ``"``).
COMMON: dict[type[exp.Expr], Transform] = {
    exp.Identifier: _identifier('"'), exp.Placeholder: _bind,
}


class WatchdogDuckDB(_DuckDB):
    """DuckDB: ``isnan`` exists."""

    class Generator(DuckDBGenerator):
        TRANSFORMS = {**DuckDBGenerator.TRANSFORMS, **COMMON}


class WatchdogSQLite(_SQLite):
    """SQLite: backtick identifiers (a double-quoted unknown name is a string literal:
    https://sqlite.org/quirks.html#dblquote), and no NaN."""

    class Generator(SQLiteGenerator):
        TRANSFORMS = {**SQLiteGenerator.TRANSFORMS, **COMMON,
                      exp.Identifier: _identifier("`"), exp.IsNan: _never}


class WatchdogPostgres(_Postgres):
    """PostgreSQL: NaN is found by equality."""

    class Generator(PostgresGenerator):
        TRANSFORMS = {**PostgresGenerator.TRANSFORMS, **COMMON, exp.IsNan: _nan_equals_nan}


class WatchdogRedshift(_Redshift):
    """Redshift: as PostgreSQL."""

    class Generator(RedshiftGenerator):
        TRANSFORMS = {**RedshiftGenerator.TRANSFORMS, **COMMON, exp.IsNan: _nan_equals_nan}


class WatchdogSnowflake(_Snowflake):
    """Snowflake: NaN is found by equality."""

    class Generator(SnowflakeGenerator):
        TRANSFORMS = {**SnowflakeGenerator.TRANSFORMS, **COMMON,
                      exp.IsNan: _nan_equals_nan}


class WatchdogBigQuery(_BigQuery):
    """BigQuery: backtick identifiers; ``IS_NAN`` exists."""

    class Generator(BigQueryGenerator):
        TRANSFORMS = {**BigQueryGenerator.TRANSFORMS, **COMMON,
                      exp.Identifier: _identifier("`")}


#: The dialect of each adapter, by its ``SqlWarehouse.DIALECT``.
DIALECTS: dict[str, type[Any]] = {
    "duckdb": WatchdogDuckDB, "sqlite": WatchdogSQLite, "postgres": WatchdogPostgres,
    "redshift": WatchdogRedshift, "snowflake": WatchdogSnowflake, "bigquery": WatchdogBigQuery,
}


def dialect(name: str) -> type[Any]:
    """The watchdog dialect for ``SqlWarehouse.DIALECT`` ``name``: one of the six above, or
    sqlglot's own dialect of that name with only the :data:`COMMON` overrides."""
    if name not in DIALECTS:
        base = type(Dialect.get_or_raise(name))
        generator = type("Generator", (base.generator_class,), {
            "TRANSFORMS": {**base.generator_class.TRANSFORMS, **COMMON}})
        DIALECTS[name] = type(f"Watchdog_{name}", (base,), {"Generator": generator})
    return DIALECTS[name]


def render(tree: exp.Expression, name: str) -> str:
    """``tree`` as SQL of the adapter dialect ``name`` (``SqlWarehouse.DIALECT``)."""
    return tree.sql(dialect=dialect(name)(), pretty=True)
