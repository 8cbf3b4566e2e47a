"""Suite-wide settings: tests marked ``postgres`` need the real server on 127.0.0.1:5432.

Without a server they are skipped with a note, unless WATCHDOG_REQUIRE_POSTGRES=1 (CI),
which makes a missing server an error instead of a silent skip.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator

import pytest

from watchdog import secrets

POSTGRES_URL = os.environ.get("WATCHDOG_TEST_POSTGRES_URL",
                              "postgresql://postgres@127.0.0.1:5432/test")


@functools.cache
def postgres_problem() -> str | None:
    """None when the test server answers, else why not."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install -e '.[test]')"
    try:
        psycopg.connect(POSTGRES_URL, connect_timeout=3).close()
    except psycopg.Error as exc:
        return f"PostgreSQL at {POSTGRES_URL} is not reachable: {str(exc).splitlines()[0]}"
    return None


@pytest.fixture(autouse=True, scope="session")
def _sql_cache_of_the_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Rendered statements are kept in a folder of this session (inherited by the commands
    tests start), never in the user's own cache."""
    before = os.environ.get("WATCHDOG_SQL_CACHE")
    os.environ["WATCHDOG_SQL_CACHE"] = str(tmp_path_factory.mktemp("sql-cache"))
    yield
    if before is None:
        os.environ.pop("WATCHDOG_SQL_CACHE", None)
    else:
        os.environ["WATCHDOG_SQL_CACHE"] = before


@pytest.fixture(autouse=True)
def _no_secrets_from_other_tests() -> Iterator[None]:
    """The secrets registry is process-wide: each test starts with none registered, so a
    value another test's config registered never masks this test's text."""
    secrets.reset()
    yield


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    needs = [item for item in items if item.get_closest_marker("postgres")]
    problem = postgres_problem() if needs else None
    if problem is None:
        return
    if os.environ.get("WATCHDOG_REQUIRE_POSTGRES") == "1":
        raise pytest.UsageError(f"WATCHDOG_REQUIRE_POSTGRES=1 but {problem}")
    for item in needs:
        item.add_marker(pytest.mark.skip(reason=problem))
