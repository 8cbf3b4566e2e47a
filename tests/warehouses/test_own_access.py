"""watchdog's own access (issue #14 item 2): a table its login may not read is
PERMISSION_DENIED with the GRANT that fixes it, never TABLE_NOT_FOUND. Real PostgreSQL, and
Redshift through its stand-in (redshift_connector, the loopback proxy, real PostgreSQL),
with a throwaway login role that lacks the schema's USAGE, then the table's SELECT."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.warehouses.seeding import BACKENDS, EVENTS_COLUMNS, WINDOW, Seeder, events_rows
from watchdog.errors import PermissionDenied
from watchdog.models import TableRef
from watchdog.warehouses.base import Warehouse

pytestmark = pytest.mark.postgres


def _redshift(tmp: Path) -> object:
    pytest.importorskip("redshift_connector")
    from tests.warehouses.standins.redshift_backend import redshift_backend

    return redshift_backend(tmp)


@pytest.fixture(scope="module", params=["postgres", "redshift"])
def seed(request: pytest.FixtureRequest,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeder]:
    make = BACKENDS["postgres"] if request.param == "postgres" else _redshift
    with make(tmp_path_factory.mktemp(request.param)) as seeder:  # type: ignore[attr-defined]
        seeder.create_table("events", EVENTS_COLUMNS, events_rows()[:5])
        yield seeder


def _as(seed: Seeder, role: str) -> Warehouse:
    """An adapter on the seeded database that logs in as ``role``."""
    if "url" in seed.settings:
        return seed.connect(url=seed.settings["url"].replace("postgres@", f"{role}@"))
    return seed.connect(user=role)


@pytest.fixture
def login(seed: Seeder) -> Iterator[str]:
    """A login role with no grant at all (trust auth lets the test connect as it)."""
    role = f"wd_noaccess_{uuid.uuid4().hex[:8]}"
    seed.execute(f'CREATE ROLE "{role}" LOGIN')
    if seed.type_name == "redshift":  # the stand-in's catalog view, readable by all there
        seed.execute(f'GRANT SELECT ON public.svv_columns TO "{role}"')
    try:
        yield role
    finally:
        seed.execute(f'DROP OWNED BY "{role}"')
        seed.execute(f'DROP ROLE "{role}"')


def test_missing_schema_usage_then_missing_select_name_their_grants(
        seed: Seeder, login: str) -> None:
    events = seed.table("events")
    start, end, bucket = WINDOW
    with _as(seed, login) as wh:
        assert wh.SUPPORTS_ACCESS_CHECK
        with pytest.raises(PermissionDenied) as info:
            wh.count_rows(events, "ts", start, end, bucket)
        assert info.value.hint == f"GRANT USAGE ON SCHEMA {seed.schema} TO {login}"
        denied = wh.own_access([events, TableRef(schema=seed.schema, name="wd_absent")])
        assert list(denied) == [events]  # an absent table is not "denied"
        assert denied[events].hint == f"GRANT USAGE ON SCHEMA {seed.schema} TO {login}"

        seed.execute(f'GRANT USAGE ON SCHEMA {{schema}} TO "{login}"')
        with pytest.raises(PermissionDenied) as info:
            wh.count_rows(events, "ts", start, end, bucket)
        assert info.value.hint == f"GRANT SELECT ON {events} TO {login}"
        assert wh.own_access([events])[events].hint == f"GRANT SELECT ON {events} TO {login}"

        seed.execute(f'GRANT SELECT ON {{schema}}.events TO "{login}"')
        assert wh.own_access([events]) == {}
        assert sum(b.rows for b in wh.count_rows(events, "ts", start, end, bucket)) >= 0


def test_a_contract_on_an_unreadable_table_is_permission_denied(
        seed: Seeder, login: str) -> None:
    from watchdog.checks.base import unreadable

    events = seed.table("events")
    with _as(seed, login) as wh:
        if events in wh.columns([events]):  # pg_catalog shows it anyway: nothing to tell
            assert seed.type_name == "postgres"
            return
        # information_schema (Redshift's svv_columns) hides it: missing, or unreadable?
        denied = unreadable(wh, [events])
        assert list(denied) == [events]
        assert "TABLE" not in type(denied[events]).__name__.upper()


@pytest.fixture
def principals(seed: Seeder) -> Iterator[tuple[str, str]]:
    """A login (the service a model runs as) and a group role it may be a member of."""
    suffix = uuid.uuid4().hex[:8]
    svc, group = f"wd_svc_{suffix}", f"wd_readers_{suffix}"
    seed.execute(f'CREATE ROLE "{svc}" LOGIN')
    seed.execute(f'CREATE ROLE "{group}"')
    try:
        yield svc, group
    finally:
        for role in (svc, group):
            seed.execute(f'DROP OWNED BY "{role}"')
            seed.execute(f'DROP ROLE "{role}"')


def test_access_reads_every_principal_table_and_privilege_in_one_query(
        seed: Seeder, principals: tuple[str, str]) -> None:
    """The fact behind ``kind: access`` (issue #14 item 1): has_table_privilege for named
    principals, role membership included; a lost grant, then a regained one."""
    svc, group = principals
    events = seed.table("events")
    absent = TableRef(schema=seed.schema, name="wd_absent")

    def held(wh: Warehouse) -> dict[tuple[str, str], bool | None]:
        return {(g.principal, g.privilege): g.granted
                for g in wh.access([svc, "wd_no_such_role"], [events, absent],
                                   ["select", "insert"])}

    with seed.connect() as wh:
        seed.execute(f'GRANT USAGE ON SCHEMA {{schema}} TO "{group}"')
        seed.execute(f'GRANT SELECT ON {{schema}}.events TO "{group}"')
        assert held(wh)[(svc, "select")] is False  # not a member yet
        seed.execute(f'GRANT "{group}" TO "{svc}"')
        assert held(wh) == {(svc, "select"): True, (svc, "insert"): False,
                            ("wd_no_such_role", "select"): None,
                            ("wd_no_such_role", "insert"): None}
        seed.execute(f'REVOKE "{group}" FROM "{svc}"')  # membership revoked: access lost
        assert held(wh)[(svc, "select")] is False
        seed.execute(f'GRANT "{group}" TO "{svc}"')  # regained
        assert held(wh)[(svc, "select")] is True
        seed.execute(f'REVOKE USAGE ON SCHEMA {{schema}} FROM "{group}"')
        lost = [g for g in wh.access([svc], [events], ["select"])]
        assert [(g.granted, g.schema_usage) for g in lost] == [(False, False)]
