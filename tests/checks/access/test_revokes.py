"""Which logged statement a lost privilege is put down to (``checks/access/revokes.py``),
on statements as Postgres' audit trigger logs them (``current_query()``: a whole script)."""

from __future__ import annotations

from datetime import UTC, datetime

from watchdog.checks.access import revokes
from watchdog.models import AuditEvent, TableRef

AT = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
FEATURES = TableRef(schema="app", name="features")


def _event(seq: int, statement: str, command: str = "REVOKE",
           objects: tuple[str, ...] = ()) -> AuditEvent:
    return AuditEvent(seq=seq, at=AT, user=f"user{seq}", command=command, statement=statement,
                      objects=objects)


def _cause(events: list[AuditEvent], principal: str = "churn_svc", lost: tuple[str, ...] = (
        "select",), usage_lost: bool = False, inherits: set[str] | None = None
           ) -> revokes.Cause | None:
    asked: list[set[str]] = []

    def inherited(roles: set[str]) -> set[str]:
        asked.append(roles)
        return (inherits or set()) & roles

    found = revokes.cause(events, "postgres", principal, FEATURES, list(lost), usage_lost,
                          inherited)
    if inherits is None:
        assert asked == []
    return found


def test_the_newest_own_revoke_wins_over_older_ones_and_other_statements() -> None:
    events = [_event(1, "REVOKE SELECT ON app.features FROM churn_svc"),
              _event(2, "CREATE TABLE app.x (a int); REVOKE ALL ON TABLE app.features "
                        "FROM churn_svc, bob CASCADE"),
              _event(3, "REVOKE INSERT ON app.features FROM churn_svc"),  # not what was lost
              _event(4, "REVOKE GRANT OPTION FOR SELECT ON app.features FROM churn_svc")]
    found = _cause(events)
    assert found is not None and found.event.seq == 2 and not found.probable
    assert found.line() == ("by user2 at 2026-03-04 12:00 UTC: CREATE TABLE app.x (a int); "
                            "REVOKE ALL ON TABLE app.features FROM churn_svc, bob CASCADE")


def test_quoting_decides_the_name() -> None:
    # another role (case matters once quoted), which churn_svc does not inherit from
    assert _cause([_event(1, 'REVOKE SELECT ON app.features FROM "Churn_Svc"')],
                  inherits=set()) is None
    found = _cause([_event(1, 'REVOKE SELECT ON app.features FROM "Churn_Svc"')],
                   principal="Churn_Svc")
    assert found is not None and found.event.seq == 1
    assert _cause([_event(1, 'REVOKE SELECT ON "App".features FROM churn_svc')]) is None


def test_schema_wide_and_usage_revokes() -> None:
    wide = _event(1, "revoke select on all tables in schema app from public")
    assert (found := _cause([wide])) is not None and not found.probable
    usage = _event(2, "REVOKE USAGE ON SCHEMA app FROM churn_svc")
    assert _cause([usage]) is None  # only when USAGE is what was lost
    assert (found := _cause([usage], usage_lost=True)) is not None and found.event.seq == 2


def test_another_roles_revoke_only_when_inherited_then_a_drop() -> None:
    events = [_event(1, "DROP TABLE app.features", "DROP TABLE", ("app.features",)),
              _event(2, "REVOKE SELECT ON app.features FROM readers"),
              _event(3, "REVOKE SELECT ON app.features FROM strangers")]
    found = _cause(events, inherits={"readers"})
    assert found is not None and found.event.seq == 2 and found.probable
    assert found.line().startswith("probably by user2 at")
    found = _cause(events, inherits={"nobody"})
    assert found is not None and found.event.seq == 1 and found.probable


def test_membership_revokes_and_literals() -> None:
    assert _cause([_event(1, "REVOKE readers FROM churn_svc")]) is None  # not an object grant
    long = _event(1, "REVOKE SELECT ON app.features FROM churn_svc; COMMENT ON TABLE app.x IS "
                     "'sk-live-123'" + " " * 10 + "x" * 300)
    assert (found := _cause([long])) is not None
    line = found.line()
    assert "sk-live" not in line and len(line.split(": ", 1)[1]) == revokes.MAX_STATEMENT
