"""The catalog queries as trees: catalog names render bare, a user's names and values never do.

Rendered offline through the adapters' own render path (as the golden tests are), and read
back by sqlglot in each dialect, so that what is asserted is the statement that runs.
"""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp

from watchdog.models import TableRef
from watchdog.warehouses import create
from watchdog.warehouses.catalog_sql import like_pattern
from watchdog.warehouses.dialects import Bare, render
from watchdog.warehouses.sqlbase import SqlWarehouse

from .test_golden import OFFLINE_SETTINGS, _adapters

CATALOG_QUERIES = ("columns", "schema_columns", "schema_fingerprints")
#: Names that would change a query if they reached its text.
NASTY = ["t' OR '1'='1", 'we"ird', "back`tick", "x;DROP TABLE y", "a:b", "INFORMATION_SCHEMA"]


def _adapter(type_name: str) -> SqlWarehouse:
    wh = create("w", type_name, OFFLINE_SETTINGS[type_name])
    assert isinstance(wh, SqlWarehouse)
    return wh


def _parsed(wh: SqlWarehouse, sql: str) -> exp.Expression:
    tree = sqlglot.parse_one(sql.replace("\\:", ":"), read=wh.DIALECT)
    assert tree is not None
    return tree


@pytest.mark.parametrize("type_name", _adapters())
@pytest.mark.parametrize("query", CATALOG_QUERIES)
def test_user_names_are_binds_and_catalog_names_are_bare(type_name: str, query: str) -> None:
    wh = _adapter(type_name)
    if query not in wh.queries():
        pytest.skip(f"{type_name} has no {query} query")
    refs = [TableRef(schema="analytics", name=n) for n in NASTY]
    if query != "columns":
        refs.append(TableRef(schema="analytics", name="feat_*"))
    arg = "tables" if query == "columns" else "patterns"
    stmt = wh.render(query, **{arg: refs})
    bound = [x for v in stmt.params.values() for x in (v if isinstance(v, list) else [v])]
    for name in NASTY:  # every table name is bound, none is in the text
        assert name in bound
        if name != "INFORMATION_SCHEMA":
            assert name not in stmt.sql
    if query != "columns":
        assert like_pattern("feat_*") in bound
    tree = _parsed(wh, stmt.sql)
    # only names a user configured are quoted (Snowflake's database, BigQuery's project and
    # dataset) and SQLite's "notnull" column (a keyword); the catalog's own are bare
    quoted = {i.name for i in tree.find_all(exp.Identifier) if i.quoted
              # sqlglot reads BigQuery's INFORMATION_SCHEMA.<view> back as one quoted name
              and not i.name.startswith("INFORMATION_SCHEMA.")}
    assert quoted <= {"ANALYTICS", "test-proj", "analytics", "notnull"}, quoted
    q = wh.IDENT_QUOTE
    assert f"{q}information_schema" not in stmt.sql.lower()
    assert f"{q}table_name{q}" not in stmt.sql


def test_snowflake_catalog_names_are_unquoted_and_the_database_is_quoted() -> None:
    wh = _adapter("snowflake")
    sql = wh.render("columns", tables=[TableRef(database="raw", schema="s", name="t")]).sql
    assert '"raw".INFORMATION_SCHEMA.COLUMNS' in sql
    assert "table_schema = :schema_0 AND table_name = :table_0" in sql


def test_a_bare_name_is_written_as_is_and_anything_else_is_refused() -> None:
    assert render(exp.Column(this=Bare(this="table_schema"), table=Bare(this="c")),
                  "snowflake") == "c.table_schema"
    for name in ("a b", "x;DROP", 'a"', "1a", ""):
        with pytest.raises(ValueError, match="not a plain catalog name"):
            render(exp.Column(this=Bare(this=name)), "postgres")


def test_no_tables_match_nothing() -> None:
    wh = _adapter("postgres")
    stmt = wh.render("columns", tables=[])
    assert stmt.params == {}
    assert "AND FALSE" in stmt.sql
