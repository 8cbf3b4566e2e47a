"""Type families: the warehouse's spelling of a type, normalised (no database needed)."""

from __future__ import annotations

import pytest

from watchdog.warehouses import get_class

SHARED = {
    "INTEGER": "integer", "BIGINT": "integer", "HUGEINT": "integer", "int8": "integer",
    "DOUBLE": "float", "double precision": "float", "real": "float",
    "DECIMAL(18,3)": "decimal", "numeric(12,3)": "decimal",
    "VARCHAR": "string", "character varying(20)": "string", '"char"': "string",
    "ENUM('a', 'b')": "string", "uuid": "string",
    "BOOLEAN": "boolean",
    "TIMESTAMP": "timestamp", "timestamp without time zone": "timestamp",
    "TIMESTAMP_NS": "timestamp", "timestamp(3) without time zone": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz", "timestamp(6) with time zone": "timestamptz",
    "DATE": "date", "TIME": "time", "time with time zone": "time",
    "BLOB": "binary", "bytea": "binary", "JSON": "json", "jsonb": "json",
}
#: Types SQLite cannot declare meaningfully (it would apply its affinity rules instead).
OTHER = ["INTEGER[]", "integer[3]", "STRUCT(a INTEGER, b VARCHAR)", "MAP(VARCHAR, INTEGER)",
         "interval", "point", "tsvector"]
# declared types follow column affinity: https://sqlite.org/datatype3.html
SQLITE = {"UNSIGNED BIG INT": "integer", "NVARCHAR(40)": "string", "VARYING CHARACTER": "string",
          "DATETIME": "timestamp", "MONEY": "decimal", "": "other", "TEXTBLOB": "string",
          "DOUBLE FLOAT": "float",
          "FLOATING POINT": "integer"}  # sic: it contains "INT", as the SQLite docs point out


@pytest.mark.parametrize("type_name", ["duckdb", "sqlite", "postgres"])
@pytest.mark.parametrize(("raw", "family"), SHARED.items())
def test_shared_spellings(type_name: str, raw: str, family: str) -> None:
    assert get_class(type_name).type_family(raw) == family


@pytest.mark.parametrize("type_name", ["duckdb", "postgres"])
@pytest.mark.parametrize("raw", OTHER)
def test_nested_and_exotic_types_are_other(type_name: str, raw: str) -> None:
    assert get_class(type_name).type_family(raw) == "other"


@pytest.mark.parametrize(("raw", "family"), SQLITE.items())
def test_sqlite_affinity(raw: str, family: str) -> None:
    assert get_class("sqlite").type_family(raw) == family
    assert get_class("duckdb").type_family(raw) in (family, "other")
