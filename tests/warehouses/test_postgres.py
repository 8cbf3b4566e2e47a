"""PostgreSQL paths the shared suite cannot reach: credentials, privileges, settings.

The test server uses trust authentication, which accepts any password for an existing
role. The real authentication path is a role that does not exist (the server answers
FATAL 28000 before trust applies); the privilege path is a role without grants.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pydantic
import pytest
import sqlalchemy as sa

from tests.conftest import POSTGRES_URL
from tests.warehouses.seeding import BACKENDS, EVENTS_COLUMNS, WINDOW, Seeder, events_rows
from watchdog.errors import ConfigError, WarehouseAuthError, WarehouseUnavailable
from watchdog.warehouses import create
from watchdog.warehouses.postgres import PostgresSettings

SECRET = "s3cr3t-Pa55w0rd"


@pytest.fixture(scope="module")
def postgres_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeder]:
    with BACKENDS["postgres"](tmp_path_factory.mktemp("postgres")) as seed:
        seed.create_table("events", EVENTS_COLUMNS, events_rows()[:20])
        yield seed


@pytest.fixture
def role_without_grants(postgres_env: Seeder) -> Iterator[str]:
    role = f"wd_nogrants_{uuid.uuid4().hex[:8]}"
    postgres_env.execute(f'CREATE ROLE "{role}" LOGIN')
    yield role
    postgres_env.execute(f'DROP ROLE "{role}"')


pytestmark = pytest.mark.postgres


def test_closed_port_is_unavailable_without_the_password() -> None:
    for settings in (
        {"url": f"postgresql://watchdog:{SECRET}@127.0.0.1:1/test", "connect_timeout": 2},
        {"host": "127.0.0.1", "port": 1, "user": "watchdog", "password": SECRET},
    ):
        wh = create("pg", "postgres", settings)
        with pytest.raises(WarehouseUnavailable) as info:
            wh.ping()
        assert SECRET not in f"{info.value} {info.value.hint} {wh.settings!r}"
        assert "refused" in str(info.value).lower()


def test_unknown_role_is_an_auth_error(postgres_env: Seeder) -> None:
    wh = create("pg", "postgres", {"host": "127.0.0.1", "database": "test",
                                   "user": "wd_no_such_role", "password": SECRET})
    with pytest.raises(WarehouseAuthError) as info:
        wh.ping()
    assert "wd_no_such_role" in str(info.value) and SECRET not in str(info.value)


def test_missing_privilege_is_an_auth_error(postgres_env: Seeder, role_without_grants: str) -> None:
    start, end, bucket = WINDOW
    with create("pg", "postgres", {"host": "127.0.0.1", "database": "test",
                                   "user": role_without_grants}) as wh:
        wh.ping()
        with pytest.raises(WarehouseAuthError, match="permission denied") as info:
            wh.count_rows(postgres_env.table("events"), "ts", start, end, bucket)
        assert "GRANT" in (info.value.hint or "").upper()


def test_missing_database_is_unavailable_with_a_hint(postgres_env: Seeder) -> None:
    wh = create("pg", "postgres", {"host": "127.0.0.1", "database": "wd_no_such_db",
                                   "user": "postgres"})
    with pytest.raises(WarehouseUnavailable, match="wd_no_such_db") as info:
        wh.ping()
    assert "database" in (info.value.hint or "")


def test_sessions_are_utc_and_read_only(postgres_env: Seeder) -> None:
    with postgres_env.connect() as wh:
        engine = wh.executor.engine  # type: ignore[attr-defined]
        with engine.connect() as conn:
            assert conn.execute(sa.text("SHOW TimeZone")).scalar() == "UTC"
            with pytest.raises(sa.exc.DBAPIError, match="read-only"):
                conn.execute(sa.text("CREATE TABLE wd_should_not_exist (a int)"))


def test_columns_come_one_row_per_table_in_order_without_dropped_or_empty_tables(
        postgres_env: Seeder) -> None:
    """The packed catalog query (one row per table, its columns in arrays): positions count
    the columns left after a DROP COLUMN, a table without columns is not listed (as when
    each column was a row), and by name and by pattern agree."""
    seed = postgres_env
    seed.execute('CREATE TABLE {schema}."pk_Gap" (a integer NOT NULL, b text, c numeric(12,2))')
    seed.execute('ALTER TABLE {schema}."pk_Gap" DROP COLUMN b')
    seed.execute('ALTER TABLE {schema}."pk_Gap" ADD COLUMN "d e" varchar(40)')
    seed.execute("CREATE TABLE {schema}.pk_empty ()")
    seed.execute("CREATE TABLE {schema}.pk_dropped (x integer)")
    seed.execute("ALTER TABLE {schema}.pk_dropped DROP COLUMN x")
    with seed.connect() as wh:
        by_pattern = wh.schema_columns([seed.table("pk_*")])
        by_name = wh.columns([seed.table(t) for t in ("pk_Gap", "pk_empty", "pk_dropped")])
    assert list(by_pattern) == [seed.table("pk_Gap")]
    assert by_name == by_pattern
    assert [(c.name, c.position, c.data_type, c.type_family, c.nullable)
            for c in by_name[seed.table("pk_Gap")]] == [
        ("a", 1, "integer", "integer", False), ("c", 2, "numeric(12,2)", "decimal", True),
        ("d e", 3, "character varying(40)", "string", True)]


def test_settings_validate_without_connecting_or_echoing_secrets() -> None:
    PostgresSettings(host="db.invalid")  # no network here, and none until first use
    create("pg", "postgres", {"url": "postgresql://u:p@db.invalid/x"})
    bad = [
        {},
        {"url": f"postgresql://u:{SECRET}@h/d", "host": "h"},
        {"url": f"mysql://u:{SECRET}@h/d"},
        {"url": f"not a url {SECRET}"},
        {"host": "h", "password": SECRET, "pasword": SECRET},
    ]
    for settings in bad:
        with pytest.raises(pydantic.ValidationError) as info:
            PostgresSettings.model_validate(settings)
        assert SECRET not in str(info.value)
        with pytest.raises(ConfigError) as config_info:
            create("pg", "postgres", settings)
        assert SECRET not in str(config_info.value)
    shown = PostgresSettings(url=POSTGRES_URL.replace("postgres@", f"postgres:{SECRET}@"))
    assert SECRET not in f"{shown!r} {shown} {shown.model_dump()}"


def test_setup_audit_without_a_superuser_says_a_superuser_must_run_it(
        postgres_env: Seeder, role_without_grants: str) -> None:
    settings = {"host": "127.0.0.1", "database": "test", "user": role_without_grants}
    with create("pg", "postgres", settings) as wh, \
            pytest.raises(WarehouseAuthError, match="permission denied") as info:
        wh.setup_audit()
    hint = info.value.hint or ""
    assert "superuser" in hint and "--url" in hint
    # no grant lets this role create event triggers: the old hint said to grant USAGE/SELECT
    assert "USAGE" not in hint and "SELECT" not in hint


def _all_connections_held(wh: object) -> list[sa.Connection]:
    """Every connection the adapter's pool may open, checked out (and held) here."""
    engine = wh.executor.engine  # type: ignore[attr-defined]
    pool = engine.pool
    return [engine.connect() for _ in range(pool.size() + pool._max_overflow)]


def test_a_full_pool_is_waited_for_within_the_deadline(postgres_env: Seeder) -> None:
    """More statements at once than the pool holds (checks sending reads side by side):
    a statement waits for a connection past the pool's own 1 s wait while its check has
    time, and runs as soon as one is free."""
    import threading

    from watchdog.timeouts import Deadline, applied

    wh = create("pg", "postgres", {"url": POSTGRES_URL})
    held = _all_connections_held(wh)
    try:
        threading.Timer(2.5, held.pop().close).start()
        started = time.monotonic()
        with applied(Deadline("m", 20)):
            assert wh.columns([postgres_env.table("events")])
        assert time.monotonic() - started >= 2.4  # it waited, through two pool timeouts
    finally:
        for conn in held:
            conn.close()
        wh.close()


def test_a_full_pool_past_the_deadline_is_a_timeout_not_an_outage(
        postgres_env: Seeder) -> None:
    from watchdog.errors import CheckTimeout
    from watchdog.timeouts import Deadline, applied

    wh = create("pg", "postgres", {"url": POSTGRES_URL})
    held = _all_connections_held(wh)
    try:
        started = time.monotonic()
        with applied(Deadline("m", 1.5)), pytest.raises(CheckTimeout) as info:
            wh.columns([postgres_env.table("events")])
        assert time.monotonic() - started < 5  # not SQLAlchemy's 30 s
        assert "waiting for a connection" in str(info.value)
        assert "daemon.workers" in (info.value.hint or "")
    finally:
        for conn in held:
            conn.close()
        wh.close()
