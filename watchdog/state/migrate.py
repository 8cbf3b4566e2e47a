"""In-place upgrades of older state databases, one schema version at a time.

A state database holds what a restart must not lose (snapshots, alert state, the pending
outbox), so an upgrade of watchdog upgrades it rather than asking for a new file. Each step
is small, additive and runs in the same transaction that records the new version.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from watchdog.state import tables as t


def _add_column(conn: Connection, column: sa.Column[Any]) -> None:
    kind = column.type.compile(dialect=conn.dialect)
    conn.execute(sa.text(f"ALTER TABLE {column.table.name} ADD COLUMN {column.name} {kind}"))


def _to_3(conn: Connection) -> None:
    """Version 3: outbox dead letters, and the daemon leader lease."""
    _add_column(conn, t.outbox.c.rejected_at)
    t.leases.create(conn)


def _to_4(conn: Connection) -> None:
    """Version 4: alert state remembers what was failing, clean passes and its incident;
    causes that explain other monitors' failures."""
    for column in (t.alert_state.c.subjects, t.alert_state.c.clean, t.alert_state.c.incident):
        _add_column(conn, column)
    t.causes.create(conn)  # with its index


#: version -> the step that turns a database of that version into the next one.
STEPS: dict[int, Callable[[Connection], None]] = {
    2: _to_3,
    3: _to_4,
}


def upgradable(found: int, target: int) -> bool:
    """Every step from ``found`` up to ``target`` is known."""
    return found < target and all(v in STEPS for v in range(found, target))


def upgrade(conn: Connection, found: int, target: int) -> None:
    """Run the steps from ``found`` to ``target`` (the caller records the new version)."""
    for version in range(found, target):
        STEPS[version](conn)
