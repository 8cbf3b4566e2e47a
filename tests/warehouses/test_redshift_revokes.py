"""Who revoked a privilege on Redshift, through redshift_connector, the loopback proxy and
real PostgreSQL: the stand-in's event trigger logs each statement as Redshift does (a
REVOKE is a UTILITY row of SYS_QUERY_HISTORY and 200-character chunks of STL_UTILITYTEXT,
both with Redshift's documented columns), and the access check names who ran it."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

pytest.importorskip("redshift_connector")

from tests.helpers import config_from, yaml_block
from tests.warehouses.seeding import Seeder
from tests.warehouses.standins.redshift_backend import redshift_backend
from watchdog.daemon.runner import Runner
from watchdog.sinks import create as create_sink
from watchdog.state import Store

pytestmark = pytest.mark.postgres


@pytest.fixture
def seed(tmp_path: Path) -> Iterator[tuple[Seeder, str]]:
    svc = f"wd_etl_{uuid.uuid4().hex[:8]}"
    with redshift_backend(tmp_path, log_ddl=True) as seeder:
        seeder.execute("CREATE TABLE wd_test.features (customer_id BIGINT)")
        seeder.execute(f'CREATE USER "{svc}"')
        try:
            seeder.execute(f'GRANT USAGE ON SCHEMA wd_test TO "{svc}"')
            seeder.execute(f'GRANT SELECT, INSERT ON wd_test.features TO "{svc}"')
            yield seeder, svc
        finally:
            seeder.execute(f'DROP OWNED BY "{svc}"; DROP USER "{svc}"')


def _events(path: Path) -> list[dict[str, object]]:
    rows = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    path.write_text("")
    return [r for r in rows if r["type"] == "event"]


@pytest.mark.parametrize("source", ["sys_query_history", "stl_ddltext"])
def test_a_revoke_is_put_down_to_the_user_who_ran_it(seed: tuple[Seeder, str], source: str,
                                                      tmp_path: Path) -> None:
    seeder, svc = seed
    wh = {"type": "redshift", "settings": {**seeder.settings, "audit_source": source}}
    config = config_from(tmp_path, (
        "env: test\nwarehouses:\n  rs:\n" + yaml_block(wh, 4) + "sinks: {}\n"
        "monitors:\n  - {id: grants, kind: access, warehouse: rs,"
        f" principals: [{{name: {svc}, needs: [insert]}}], tables: [wd_test.features]}}\n"))
    out = tmp_path / "out.jsonl"
    with Store.open(f"sqlite:///{tmp_path}/s.db") as store:
        runner = Runner(config, store, [create_sink("jsonl", {"path": str(out)})],
                        clock=lambda: datetime.now(UTC))
        (held,) = runner.run_pass(["grants"])
        assert held.status.value == "OK", held.summary
        seeder.execute(f'REVOKE INSERT ON wd_test.features FROM "{svc}"')
        (lost,) = runner.run_pass(["grants"])
        runner.close()
    login = sa.make_url(seeder.engine.url).username
    assert lost.status.value == "FAIL"
    assert (f"{svc} lost INSERT on wd_test.features; revoked by {login} at "
            in lost.summary), lost.summary
    assert f'REVOKE INSERT ON wd_test.features FROM "{svc}"' in lost.summary
    (event,) = _events(out)
    assert f"revoked by {login}" in str(event["text"])


def test_only_revokes_of_the_lookback_are_read(seed: tuple[Seeder, str]) -> None:
    """A SELECT that mentions revoke, a failed REVOKE, and one older than the lookback are
    left out; a long REVOKE's STL_UTILITYTEXT chunks are joined in order."""
    seeder, svc = seed
    now = datetime.now(UTC).replace(tzinfo=None)
    user = "(SELECT usesysid FROM pg_user WHERE usename = current_user)"
    rows = [(1, "SELECT", "success", "select 'revoke' as word", now),
            (2, "UTILITY", "failed", "REVOKE SELECT ON wd_test.x FROM bob", now),
            (3, "UTILITY", "success", "REVOKE SELECT ON wd_test.old FROM bob",
             now - timedelta(hours=30)),
            (4, "UTILITY", "success", "revoke all on wd_test.features from bob", now)]
    for q, kind, status, text, at in rows:
        seeder.execute("INSERT INTO public.sys_query_history (query_id, user_id, query_type,"
                       f" status, query_text, start_time) VALUES (:q, {user}, :k, :s, :t, :at)",
                       {"q": q, "k": kind, "s": status, "t": text, "at": at})
    long_names = ", ".join(f"wd_test.t{i:03d}" for i in range(40))  # > 200 characters
    statement = f"REVOKE SELECT ON {long_names} FROM bob"
    chunks = [statement[i:i + 200] for i in range(0, len(statement), 200)]
    for i, chunk in reversed(list(enumerate(chunks))):
        seeder.execute("INSERT INTO public.stl_utilitytext (userid, xid, pid, starttime,"
                       f" sequence, text) VALUES ({user}, 77, 5, :at, :i, :c)",
                       {"at": now, "i": i, "c": chunk})
    seeder.execute("INSERT INTO public.stl_utilitytext (userid, xid, pid, starttime, sequence,"
                   f" text) VALUES ({user}, 78, 5, :at, 0, 'SET search_path TO revoke')",
                   {"at": now})
    with seeder.connect() as wh:
        events = wh.recent_audit_events()
        assert [e.seq for e in events if e.seq < 1000] == [4]  # the trigger's own are >= 1000
        assert events[-1].command == "REVOKE" and events[-1].user
    with seeder.connect(audit_source="stl_ddltext") as wh:
        texts = [e.statement for e in wh.recent_audit_events() if e.seq == 77]
        assert texts == [statement]
