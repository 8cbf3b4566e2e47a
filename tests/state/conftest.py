"""Fixtures: every store test runs against a SQLite file and against the real PostgreSQL.

PostgreSQL gets a throwaway database per test session (created here, dropped at the end);
each test starts from an empty one because its tables are dropped after the test.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
import sqlalchemy as sa

from watchdog.state import Store
from watchdog.state.tables import metadata

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this session, dropped afterwards."""
    name = f"watchdog_state_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL at {PG_ADMIN} is not reachable: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of an empty state database, on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('state') / 'state.db'}"
        return
    pg: str = request.getfixturevalue("pg_url")
    yield pg
    engine = sa.create_engine(pg)
    try:
        metadata.drop_all(engine)
    finally:
        engine.dispose()


@pytest.fixture
def store(url: str) -> Iterator[Store]:
    """An open store on an empty database."""
    opened = Store.open(url)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def raw(url: str) -> Iterator[sa.Engine]:
    """A plain engine on the same database, for inspecting and tampering with rows."""
    engine = sa.create_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()
