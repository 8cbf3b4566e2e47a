"""Fixtures: one seeded database per adapter and session, and a fresh adapter per test.

``warehouse`` is parametrised over every adapter in the registry that can run here
(DuckDB and SQLite files in a temporary folder; the real PostgreSQL server, in a schema of
its own that is dropped at the end, marked ``postgres``). Other test folders can reuse the
fixtures by importing them into their conftest::

    from tests.warehouses.conftest import warehouse, warehouse_env  # noqa: F401

    def test_volume(warehouse):
        wh, seed = warehouse                     # adapter, Seeder
        table = seed.create_table("t", {"ts": "timestamptz"}, rows)
        wh.count_rows(table, "ts", ...)

Every database already holds :func:`tests.warehouses.seeding.seed_dataset`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.warehouses.seeding import BACKENDS, SERVER_MARKS, Seeder, seed_dataset
from watchdog.warehouses import Warehouse, available


def _params() -> list[object]:
    names = [n for n in available() if n in BACKENDS]
    marks = {n: [getattr(pytest.mark, m)] for n, m in SERVER_MARKS.items()}
    return [pytest.param(n, id=n, marks=marks.get(n, [])) for n in names]


@pytest.fixture(scope="session", params=_params())
def warehouse_env(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Seeder]:
    """A seeded database for one adapter, shared by the session."""
    with BACKENDS[request.param](tmp_path_factory.mktemp(request.param)) as seed:
        seed_dataset(seed)
        yield seed


@pytest.fixture
def warehouse(warehouse_env: Seeder) -> Iterator[tuple[Warehouse, Seeder]]:
    """``(adapter, seeder)``: a new, not yet connected adapter on the seeded database."""
    wh = warehouse_env.connect()
    try:
        yield wh, warehouse_env
    finally:
        wh.close()
