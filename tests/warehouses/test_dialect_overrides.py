"""A new warehouse on sqlglot's own dialect spells watchdog's nodes in its adapter module
(``SqlWarehouse.dialect_overrides``), so that adding one needs no edit of ``dialects.py``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from watchdog.models import TableRef
from watchdog.warehouses.duckdb import DuckDB, DuckDBSettings


class _ClickHouseLike(DuckDB):
    """DuckDB's executor, rendered as sqlglot's ClickHouse with its own epoch."""

    DIALECT: ClassVar[str] = "clickhouse"

    @classmethod
    def dialect_overrides(cls) -> Mapping[type, Callable[..., str]]:
        from watchdog.warehouses import dialects

        def epoch(gen: Any, e: Any) -> str:
            return f"toUnixTimestamp64Micro({gen.sql(e, 'this')}) / 1000000"

        return {dialects.Epoch: epoch}


def test_an_adapter_spells_a_node_for_sqlglots_own_dialect() -> None:
    wh = _ClickHouseLike("ch", DuckDBSettings())
    start = datetime(2026, 3, 1, tzinfo=UTC)
    stmt = wh.render("count_rows", table=TableRef(schema="s", name="t"), time_column="ts",
                     start=start, end=start + timedelta(days=1), bucket=timedelta(hours=1))
    assert "toUnixTimestamp64Micro(\"ts\") / 1000000 - :start_epoch" in stmt.sql
    assert "FLOOR(" in stmt.sql and '"ts" >= :start AND "ts" < :end' in stmt.sql
