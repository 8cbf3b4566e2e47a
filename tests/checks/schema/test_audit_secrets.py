"""Audit-log statements can carry credentials: parsing them must not echo them to the logs
(sqlglot warns with the statement's text when it falls back to a Command), and what an
event shows has its literals masked."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from watchdog.checks.schema import audit as schema_audit
from watchdog.models import AuditEvent

SECRETS = {
    "postgres": "CREATE USER MAPPING FOR bob SERVER s OPTIONS (user 'bob', password 'hunter2')",
    "snowflake": "CREATE STAGE s URL='s3://b' CREDENTIALS=(AWS_KEY_ID='AKIAX' "
                 "AWS_SECRET_KEY='hunter2')",
}


@pytest.mark.parametrize("dialect", sorted(SECRETS))
def test_a_statement_with_a_secret_reaches_no_log_and_no_event_unmasked(
        dialect: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    event = AuditEvent(seq=1, at=datetime(2026, 3, 1, tzinfo=UTC), user="bob",
                       command="CREATE", statement=SECRETS[dialect])
    (parsed,) = schema_audit.parse([event], dialect)
    assert not any("hunter2" in r.getMessage() for r in caplog.records)
    shown = schema_audit.shown_statement(parsed, ["public.t"], "public", dialect)
    assert "hunter2" not in shown and "?" in shown


def test_other_sqlglot_warnings_still_get_through(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    logging.getLogger("sqlglot").warning("something else")
    assert [r.getMessage() for r in caplog.records] == ["something else"]
