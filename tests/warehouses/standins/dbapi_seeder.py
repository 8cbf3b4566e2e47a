"""A Seeder that writes through a DB-API connection (for drivers without a SQLAlchemy
dialect here): the same ``text()``-form SQL, converted by watchdog's own ``driver_sql``."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tests.warehouses.seeding import Seeder
from watchdog.warehouses.executor import driver_params, driver_sql


@dataclass
class DbApiSeeder(Seeder):
    """``engine`` is unused; ``connection`` is an open DB-API connection in autocommit."""

    connection: Any = None

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        sql = sql.replace("{schema}", self.quote(self.schema))
        text, binds = driver_sql(sql, "pyformat"), driver_params(sql, params or {})
        cursor = self.connection.cursor()
        try:
            cursor.execute(text, binds or None)
        finally:
            cursor.close()

    def _insert(self, sql: str, values: Sequence[Mapping[str, Any]]) -> None:
        text = driver_sql(sql, "pyformat")
        # Snowflake's executemany interpolates only what follows VALUES: no `%%` before it
        head, _, tail = text.partition(" VALUES ")
        text = f"{head.replace('%%', '%')} VALUES {tail}"
        cursor = self.connection.cursor()
        try:
            cursor.executemany(text, [{k: _literal(v) for k, v in row.items()}
                                      for row in values])
        finally:
            cursor.close()


def _literal(value: Any) -> Any:
    """Non-finite floats as text (client-side binding would write a bare ``nan``)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value
